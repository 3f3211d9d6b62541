/* Mstcpip.h: forwards to mstcpip.h (libws2_32 headers, crates/ws2_32/include). */
#include "mstcpip.h"
