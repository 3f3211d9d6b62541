/* WinBase.h: forwards to winbase.h (libws2_32 headers, crates/ws2_32/include). */
#include "winbase.h"
