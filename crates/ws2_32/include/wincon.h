/* wincon.h: forwards to windows.h (libws2_32 headers, crates/ws2_32/include). */
#include "windows.h"
