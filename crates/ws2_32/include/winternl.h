/*
 * winternl.h: the documented parts of ntdll that socket programs use (libws2_32 headers,
 * crates/ws2_32/include): IO_STATUS_BLOCK, NT_SUCCESS, NtClose,
 * RtlNtStatusToDosError. NtClose and RtlNtStatusToDosError are exported by the
 * library, and GetProcAddress(LoadLibraryA("ntdll.dll"), "NtClose") finds them.
 */
#ifndef OVL_WINTERNL_H
#define OVL_WINTERNL_H
#include "windows.h"

#ifdef __cplusplus
extern "C" {
#endif

#ifndef NTAPI
#define NTAPI
#endif
#ifndef NTSYSAPI
#define NTSYSAPI
#endif

#ifndef NT_SUCCESS
#define NT_SUCCESS(Status) (((NTSTATUS)(Status)) >= 0)
#endif
#ifndef NT_INFORMATION
#define NT_INFORMATION(Status) ((((ULONG)(Status)) >> 30) == 1)
#define NT_WARNING(Status) ((((ULONG)(Status)) >> 30) == 2)
#define NT_ERROR(Status) ((((ULONG)(Status)) >> 30) == 3)
#endif

/* What an NT I/O call reports: the status and, for a transfer, the byte count. */
typedef struct _IO_STATUS_BLOCK {
    union {
        NTSTATUS Status;
        PVOID Pointer;
    };
    ULONG_PTR Information;
} IO_STATUS_BLOCK, *PIO_STATUS_BLOCK;
typedef void(NTAPI *PIO_APC_ROUTINE)(PVOID ApcContext, PIO_STATUS_BLOCK IoStatusBlock, ULONG Reserved);

typedef struct _UNICODE_STRING {
    USHORT Length;        /* bytes, without the terminator */
    USHORT MaximumLength; /* bytes */
    PWSTR Buffer;
} UNICODE_STRING, *PUNICODE_STRING;
typedef const UNICODE_STRING *PCUNICODE_STRING;

/* Closes any handle (a socket, an event, a port, a thread): STATUS_SUCCESS, or
 * STATUS_INVALID_HANDLE. The thread's last error is left alone. */
NTSYSAPI NTSTATUS NTAPI NtClose(HANDLE Handle);
/* The Win32 error code of an NTSTATUS (what GetLastError reports for it). */
NTSYSAPI ULONG NTAPI RtlNtStatusToDosError(NTSTATUS Status);
NTSYSAPI ULONG NTAPI RtlNtStatusToDosErrorNoTeb(NTSTATUS Status);

#ifdef __cplusplus
}
#endif

#ifdef __cplusplus
static_assert(sizeof(IO_STATUS_BLOCK) == 16 && offsetof(IO_STATUS_BLOCK, Information) == 8, "IO_STATUS_BLOCK");
#else
_Static_assert(sizeof(IO_STATUS_BLOCK) == 16 && offsetof(IO_STATUS_BLOCK, Information) == 8, "IO_STATUS_BLOCK");
#endif
#endif /* OVL_WINTERNL_H */
