/* Winerror.h: forwards to winerror.h (libws2_32 headers, crates/ws2_32/include). */
#include "winerror.h"
