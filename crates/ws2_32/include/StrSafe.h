/* StrSafe.h: forwards to strsafe.h (libws2_32 headers, crates/ws2_32/include). */
#include "strsafe.h"
