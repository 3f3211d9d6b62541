/* Mswsock.h: forwards to mswsock.h (libws2_32 headers, crates/ws2_32/include). */
#include "mswsock.h"
