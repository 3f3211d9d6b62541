/* WSPiApi.h: forwards to wspiapi.h (libws2_32 headers, crates/ws2_32/include). */
#include "wspiapi.h"
