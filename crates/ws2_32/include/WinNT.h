/* WinNT.h: forwards to winnt.h (libws2_32 headers, crates/ws2_32/include). */
#include "winnt.h"
