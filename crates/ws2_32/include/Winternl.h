/* Winternl.h: forwards to winternl.h (libws2_32 headers, crates/ws2_32/include). */
#include "winternl.h"
