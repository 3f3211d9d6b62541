/*
 * process.h: the MSVC C runtime's thread functions, for Linux with libws2_32 from the
 * `overlapped` project (crates/ws2_32). `_beginthreadex` returns a thread handle for
 * WaitForSingleObject / GetExitCodeThread / CloseHandle (see <windows.h>).
 */
#ifndef OVL_PROCESS_H
#define OVL_PROCESS_H

#include <stdint.h>

#ifndef __stdcall
#define __stdcall
#endif

#ifdef __cplusplus
extern "C" {
#endif

uintptr_t _beginthreadex(void *security, unsigned stack_size, unsigned(__stdcall *start_address)(void *), void *arglist, unsigned initflag, unsigned *thrdaddr);
void _endthreadex(unsigned retval) __attribute__((noreturn));

#ifdef __cplusplus
}
#endif

#endif /* OVL_PROCESS_H */
