/* WS2ipdef.h: forwards to ws2ipdef.h (libws2_32 headers, crates/ws2_32/include). */
#include "ws2ipdef.h"
