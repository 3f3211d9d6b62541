/* Windef.h: forwards to windef.h (libws2_32 headers, crates/ws2_32/include). */
#include "windef.h"
