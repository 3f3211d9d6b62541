/* WS2TcpIp.h: forwards to ws2tcpip.h (libws2_32 headers, crates/ws2_32/include). */
#include "ws2tcpip.h"
