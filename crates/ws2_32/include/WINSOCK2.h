/* WINSOCK2.h: forwards to winsock2.h (libws2_32 headers, crates/ws2_32/include). */
#include "winsock2.h"
