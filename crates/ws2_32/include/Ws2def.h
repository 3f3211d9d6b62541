/* Ws2def.h: forwards to ws2def.h (libws2_32 headers, crates/ws2_32/include). */
#include "ws2def.h"
