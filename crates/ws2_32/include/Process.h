/* Process.h: forwards to process.h (libws2_32 headers, crates/ws2_32/include). */
#include "process.h"
