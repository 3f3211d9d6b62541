/* MinWinDef.h: forwards to minwindef.h (libws2_32 headers, crates/ws2_32/include). */
#include "minwindef.h"
