/* WinSock.h: forwards to winsock.h (libws2_32 headers, crates/ws2_32/include). */
#include "winsock.h"
