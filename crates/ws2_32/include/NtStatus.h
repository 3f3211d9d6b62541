/* NtStatus.h: forwards to ntstatus.h (libws2_32 headers, crates/ws2_32/include). */
#include "ntstatus.h"
