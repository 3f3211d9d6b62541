/* Tchar.h: forwards to tchar.h (libws2_32 headers, crates/ws2_32/include). */
#include "tchar.h"
