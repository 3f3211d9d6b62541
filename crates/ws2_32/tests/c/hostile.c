/* Hostile input through the C ABI: every exported function called with NULL pointers,
 * never-opened / closed / wrong-kind handles, zero, negative and oversized lengths,
 * WSABUF counts of 0 and 2^31, more than 64 events, a WSAOVERLAPPED reused while its
 * operation is pending (accepted, as on Windows), double closes, and calls before WSAStartup and after the last
 * WSACleanup. Each call must fail with the Winsock error Microsoft's reference (or
 * winsock-semantics.md) names, or, where Windows is undefined, a clear error of ours;
 * nothing may crash (the suite also runs this under AddressSanitizer). */
#include "check.h"
#include <ws2tcpip.h>
#include <mstcpip.h>
#include <winternl.h>
#include <limits.h>
#include <stdint.h>
#include <errno.h>
#include <process.h>

static int n_calls;

/* `call` must return `fail` and set the thread's last error to `err`. */
#define FAILS(call, fail, err)                                                                  \
    do {                                                                                        \
        WSASetLastError(0x7eadbeef);                                                            \
        long long r_ = (long long)(call);                                                       \
        int e_ = WSAGetLastError();                                                             \
        n_calls++;                                                                              \
        if (r_ != (long long)(fail) || e_ != (int)(err)) {                                      \
            printf("FAIL %s:%d: %s\n    returned %lld, expected %lld; error %d, expected %s = %d\n", \
                   __FILE__, __LINE__, #call, r_, (long long)(fail), e_, #err, (int)(err));     \
            exit(1);                                                                            \
        }                                                                                       \
    } while (0)

/* `call` must return `want`. */
#define RETURNS(call, want)                                                                     \
    do {                                                                                        \
        long long r_ = (long long)(call);                                                       \
        n_calls++;                                                                              \
        if (r_ != (long long)(want)) {                                                          \
            printf("FAIL %s:%d: %s\n    returned %lld, expected %s = %lld (error %d)\n",        \
                   __FILE__, __LINE__, #call, r_, #want, (long long)(want), WSAGetLastError()); \
            exit(1);                                                                            \
        }                                                                                       \
    } while (0)

/* A void call: it must simply return. */
#define SURVIVES(call)                                                                          \
    do {                                                                                        \
        call;                                                                                   \
        n_calls++;                                                                              \
    } while (0)

typedef BOOL(PASCAL *LPFN_TRANSMITPACKETS_)(SOCKET, void *, DWORD, DWORD, LPOVERLAPPED, DWORD);

static LPFN_CONNECTEX pConnectEx;
static LPFN_DISCONNECTEX pDisconnectEx;
static LPFN_WSARECVMSG pWSARecvMsg;
static LPFN_WSASENDMSG pWSASendMsg;
static LPFN_TRANSMITPACKETS_ pTransmitPackets;

static void *extension(SOCKET s, GUID g) {
    void *fn = NULL;
    DWORD n = 0;
    CHECK_EQ(WSAIoctl(s, SIO_GET_EXTENSION_FUNCTION_POINTER, &g, sizeof(g), &fn, sizeof(fn), &n, NULL, NULL), 0);
    CHECK(fn != NULL);
    return fn;
}

static SOCKADDR_IN loopback(u_short port) {
    SOCKADDR_IN a;
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.S_un.S_addr = inet_addr("127.0.0.1");
    a.sin_port = port;
    return a;
}

static SOCKET udp_bound(SOCKADDR_IN *at) {
    SOCKET u = WSASocket(AF_INET, SOCK_DGRAM, 0, NULL, 0, WSA_FLAG_OVERLAPPED);
    CHECK(u != INVALID_SOCKET);
    SOCKADDR_IN a = loopback(0);
    CHECK_EQ(bind(u, (SOCKADDR *)&a, sizeof(a)), 0);
    int len = sizeof(*at);
    CHECK_EQ(getsockname(u, (SOCKADDR *)at, &len), 0);
    return u;
}

static int routine_calls;
static DWORD routine_bytes, routine_error;
static void CALLBACK routine(DWORD err, DWORD bytes, LPWSAOVERLAPPED ov, DWORD flags) {
    (void)ov;
    (void)flags;
    routine_calls++;
    routine_bytes = bytes;
    routine_error = err;
}

/* Every function that needs WSAStartup, with NULL (or otherwise valid-looking) arguments:
 * WSANOTINITIALISED comes first, before any other check. `s` is a socket value that is
 * not (or no longer) open. */
static void not_initialised(SOCKET s, int with_extensions) {
    WSAOVERLAPPED ov;
    memset(&ov, 0, sizeof(ov));
    DWORD n = 0, flags = 0;
    char buf[8] = {0};
    WSABUF wb = {sizeof(buf), buf};
    SOCKADDR_IN a = loopback(htons(9));
    int len = sizeof(a);
    fd_set rs;
    FD_ZERO(&rs);
    WSAPOLLFD pfd = {s, POLLIN, 0};
    WSANETWORKEVENTS ne;
    struct addrinfo *ai = NULL;
    const int NI = WSANOTINITIALISED;

    FAILS(socket(AF_INET, SOCK_STREAM, 0), INVALID_SOCKET, NI);
    FAILS(WSASocketA(AF_INET, SOCK_STREAM, 0, NULL, 0, WSA_FLAG_OVERLAPPED), INVALID_SOCKET, NI);
    FAILS(WSASocketW(AF_INET, SOCK_DGRAM, 0, NULL, 0, 0), INVALID_SOCKET, NI);
    FAILS(bind(s, NULL, 0), SOCKET_ERROR, NI);
    FAILS(listen(s, 5), SOCKET_ERROR, NI);
    FAILS(accept(s, NULL, NULL), INVALID_SOCKET, NI);
    FAILS(connect(s, (SOCKADDR *)&a, sizeof(a)), SOCKET_ERROR, NI);
    FAILS(closesocket(s), SOCKET_ERROR, NI);
    FAILS(shutdown(s, SD_BOTH), SOCKET_ERROR, NI);
    FAILS(setsockopt(s, SOL_SOCKET, SO_KEEPALIVE, NULL, 0), SOCKET_ERROR, NI);
    FAILS(getsockopt(s, SOL_SOCKET, SO_KEEPALIVE, NULL, NULL), SOCKET_ERROR, NI);
    FAILS(getsockname(s, NULL, NULL), SOCKET_ERROR, NI);
    FAILS(getpeername(s, (SOCKADDR *)&a, &len), SOCKET_ERROR, NI);
    FAILS(ioctlsocket(s, FIONBIO, NULL), SOCKET_ERROR, NI);
    FAILS(send(s, NULL, 0, 0), SOCKET_ERROR, NI);
    FAILS(recv(s, NULL, -1, 0), SOCKET_ERROR, NI);
    FAILS(sendto(s, buf, 1, 0, (SOCKADDR *)&a, sizeof(a)), SOCKET_ERROR, NI);
    FAILS(recvfrom(s, NULL, 0, 0, NULL, NULL), SOCKET_ERROR, NI);
    FAILS(select(0, NULL, NULL, NULL, NULL), SOCKET_ERROR, NI);
    FAILS(select(0, &rs, NULL, NULL, NULL), SOCKET_ERROR, NI);
    FAILS(WSAPoll(NULL, 0, 0), SOCKET_ERROR, NI);
    FAILS(WSAPoll(&pfd, 1, 0), SOCKET_ERROR, NI);
    FAILS(WSASend(s, NULL, 0, NULL, 0, NULL, NULL), SOCKET_ERROR, NI);
    FAILS(WSARecv(s, NULL, 0, NULL, NULL, NULL, NULL), SOCKET_ERROR, NI);
    FAILS(WSASendTo(s, &wb, 1, &n, 0, NULL, 0, &ov, NULL), SOCKET_ERROR, NI);
    FAILS(WSARecvFrom(s, NULL, 0, NULL, NULL, NULL, NULL, NULL, NULL), SOCKET_ERROR, NI);
    FAILS(WSAIoctl(s, FIONREAD, NULL, 0, NULL, 0, NULL, NULL, NULL), SOCKET_ERROR, NI);
    FAILS(WSAGetOverlappedResult(s, NULL, NULL, FALSE, NULL), FALSE, NI);
    FAILS(WSAGetOverlappedResult(s, &ov, &n, TRUE, &flags), FALSE, NI);
    FAILS(WSAEventSelect(s, NULL, 0), SOCKET_ERROR, NI);
    FAILS(WSAEnumNetworkEvents(s, NULL, &ne), SOCKET_ERROR, NI);
    FAILS(AcceptEx(s, s, NULL, 0, 0, 0, NULL, NULL), FALSE, NI);
    FAILS(TransmitFile(s, NULL, 0, 0, NULL, NULL, 0), FALSE, NI);
    FAILS(gethostname(NULL, 0), SOCKET_ERROR, NI);
    FAILS(gethostname(buf, sizeof(buf)), SOCKET_ERROR, NI);
    FAILS(gethostbyname("localhost"), NULL, NI);
    FAILS(gethostbyname(NULL), NULL, NI);
    FAILS(getaddrinfo("127.0.0.1", NULL, NULL, &ai), NI, NI); /* returns the code too */
    CHECK(ai == NULL);
    FAILS(getaddrinfo(NULL, NULL, NULL, NULL), NI, NI);
    FAILS(WSACleanup(), SOCKET_ERROR, NI);
    if (with_extensions) {
        FAILS(pConnectEx(s, (SOCKADDR *)&a, sizeof(a), NULL, 0, NULL, &ov), FALSE, NI);
        FAILS(pConnectEx(s, NULL, 0, NULL, 0, NULL, NULL), FALSE, NI);
        FAILS(pDisconnectEx(s, NULL, 0, 0), FALSE, NI);
        FAILS(pWSARecvMsg(s, NULL, NULL, NULL, NULL), SOCKET_ERROR, NI);
        FAILS(pWSASendMsg(s, NULL, 0, NULL, NULL, NULL), SOCKET_ERROR, NI);
    }
}

/* A void call: it must return and set the last error to `err`. */
#define VOID_FAILS(call, err)                                                                   \
    do {                                                                                        \
        SetLastError(0x7eadbeef);                                                               \
        call;                                                                                   \
        int e_ = (int)GetLastError();                                                           \
        n_calls++;                                                                              \
        if (e_ != (int)(err)) {                                                                 \
            printf("FAIL %s:%d: %s\n    error %d, expected %s = %d\n", __FILE__, __LINE__,     \
                   #call, e_, #err, (int)(err));                                                \
            exit(1);                                                                            \
        }                                                                                       \
    } while (0)

static BOOL WINAPI never_added(DWORD type) {
    (void)type;
    return FALSE;
}

/* kernel32 locks, memory and clocks: NULL and misaligned objects, misuse that Windows
 * leaves undefined (refused here, nothing changed), bad heaps, sizes and flags, foreign
 * and NULL blocks. */
static void kernel32_objects(void) {
    const int IP = ERROR_INVALID_PARAMETER;
    _Alignas(16) unsigned char raw[64] = {0};
    LPCRITICAL_SECTION odd_cs = (LPCRITICAL_SECTION)(raw + 1);
    PSRWLOCK odd_l = (PSRWLOCK)(raw + 2);
    PCONDITION_VARIABLE odd_cv = (PCONDITION_VARIABLE)(raw + 3);
    for (int i = 0; i < 2; i++) {
        LPCRITICAL_SECTION c = i ? odd_cs : NULL;
        PSRWLOCK l = i ? odd_l : NULL;
        PCONDITION_VARIABLE v = i ? odd_cv : NULL;
        VOID_FAILS(InitializeCriticalSection(c), IP);
        FAILS(InitializeCriticalSectionAndSpinCount(c, 10), FALSE, IP);
        FAILS(InitializeCriticalSectionEx(c, 10, 0), FALSE, IP);
        FAILS(SetCriticalSectionSpinCount(c, 10), 0, IP);
        VOID_FAILS(EnterCriticalSection(c), IP);
        FAILS(TryEnterCriticalSection(c), FALSE, IP);
        VOID_FAILS(LeaveCriticalSection(c), IP);
        VOID_FAILS(DeleteCriticalSection(c), IP);
        VOID_FAILS(InitializeSRWLock(l), IP);
        VOID_FAILS(AcquireSRWLockExclusive(l), IP);
        VOID_FAILS(AcquireSRWLockShared(l), IP);
        FAILS(TryAcquireSRWLockExclusive(l), 0, IP);
        FAILS(TryAcquireSRWLockShared(l), 0, IP);
        VOID_FAILS(ReleaseSRWLockExclusive(l), IP);
        VOID_FAILS(ReleaseSRWLockShared(l), IP);
        VOID_FAILS(InitializeConditionVariable(v), IP);
        VOID_FAILS(WakeConditionVariable(v), IP);
        VOID_FAILS(WakeAllConditionVariable(v), IP);
        FAILS(SleepConditionVariableCS(v, c, 0), FALSE, IP);
        FAILS(SleepConditionVariableSRW(v, l, 0, 0), FALSE, IP);
    }
    for (size_t i = 0; i < sizeof(raw); i++) CHECK_EQ(raw[i], 0); /* nothing written */

    /* Misuse: leaving or sleeping without owning, releasing what is not held. */
    CRITICAL_SECTION cs;
    InitializeCriticalSection(&cs);
    VOID_FAILS(LeaveCriticalSection(&cs), ERROR_NOT_OWNER);
    CONDITION_VARIABLE cv = CONDITION_VARIABLE_INIT;
    FAILS(SleepConditionVariableCS(&cv, &cs, INFINITE), FALSE, ERROR_NOT_OWNER);
    FAILS(SleepConditionVariableCS(&cv, NULL, 0), FALSE, IP);
    FAILS(SleepConditionVariableCS(NULL, &cs, 0), FALSE, IP);
    RETURNS(TryEnterCriticalSection(&cs), TRUE);
    RETURNS(cs.RecursionCount, 1);
    FAILS(SleepConditionVariableCS(&cv, &cs, 0), FALSE, ERROR_TIMEOUT);
    RETURNS(cs.RecursionCount, 1);
    SURVIVES(LeaveCriticalSection(&cs));
    SURVIVES(DeleteCriticalSection(&cs));
    SRWLOCK l = SRWLOCK_INIT;
    VOID_FAILS(ReleaseSRWLockExclusive(&l), ERROR_NOT_OWNER);
    VOID_FAILS(ReleaseSRWLockShared(&l), ERROR_NOT_OWNER);
    FAILS(SleepConditionVariableSRW(&cv, &l, INFINITE, 0), FALSE, ERROR_NOT_OWNER);
    FAILS(SleepConditionVariableSRW(&cv, &l, INFINITE, CONDITION_VARIABLE_LOCKMODE_SHARED), FALSE, ERROR_NOT_OWNER);
    FAILS(SleepConditionVariableSRW(&cv, &l, 0, 0xFFFFFFFFu), FALSE, IP);
    RETURNS(l.Ptr, NULL); /* still free */
    SURVIVES(WakeConditionVariable(&cv)); /* nobody sleeps: nothing happens */
    SURVIVES(WakeAllConditionVariable(&cv));

    /* Page-granular memory. */
    FAILS(VirtualAlloc(NULL, 0, MEM_COMMIT, PAGE_READWRITE), NULL, IP);
    FAILS(VirtualAlloc(NULL, 4096, 0, PAGE_READWRITE), NULL, IP);
    FAILS(VirtualAlloc(NULL, 4096, MEM_COMMIT | MEM_WRITE_WATCH, PAGE_READWRITE), NULL, IP);
    FAILS(VirtualAlloc(NULL, 4096, MEM_COMMIT, PAGE_READWRITE | PAGE_GUARD), NULL, IP);
    FAILS(VirtualAlloc(NULL, (SIZE_T)-1, MEM_COMMIT, PAGE_READWRITE), NULL, IP);
    FAILS(VirtualAlloc(raw, 4096, MEM_COMMIT, PAGE_READWRITE), NULL, 487); /* not ours */
    DWORD vold = 0;
    FAILS(VirtualProtect(raw, 4096, PAGE_READONLY, &vold), FALSE, 487);
    FAILS(VirtualProtect(NULL, 4096, 0x12345, &vold), FALSE, IP);
    FAILS(VirtualFree(raw, 0, MEM_RELEASE), FALSE, 487);
    FAILS(VirtualFree(NULL, 0, MEM_FREE), FALSE, IP);
    MEMORY_BASIC_INFORMATION vmi;
    FAILS(VirtualQuery(raw, &vmi, 3), 0, 24);
    FAILS(VirtualQuery(raw, (MEMORY_BASIC_INFORMATION *)1, sizeof(vmi)), 0, ERROR_NOACCESS);

    /* Memory. */
    HANDLE heap = GetProcessHeap();
    RETURNS(heap != NULL, 1);
    FAILS(HeapAlloc(NULL, 0, 8), NULL, ERROR_INVALID_HANDLE);
    FAILS(HeapAlloc((HANDLE)(UINT_PTR)0x100, 0, 8), NULL, ERROR_INVALID_HANDLE); /* a socket's value */
    FAILS(HeapAlloc(heap, 0x40000000u, 8), NULL, IP);
    FAILS(HeapAlloc(heap, 0, (SIZE_T)-1), NULL, ERROR_NOT_ENOUGH_MEMORY);
    FAILS(HeapAlloc(heap, 0, (SIZE_T)-17), NULL, ERROR_NOT_ENOUGH_MEMORY);
    FAILS(HeapAlloc(heap, 0, (SIZE_T)1 << 40), NULL, ERROR_NOT_ENOUGH_MEMORY);
    FAILS(HeapAlloc(heap, HEAP_ZERO_MEMORY, ((SIZE_T)1 << 40) - 16 + 1), NULL, ERROR_NOT_ENOUGH_MEMORY);
    FAILS(HeapReAlloc(heap, 0, NULL, 8), NULL, IP);
    FAILS(HeapSize(heap, 0, NULL), (SIZE_T)-1, IP);
    FAILS(HeapSize(NULL, 0, raw), (SIZE_T)-1, ERROR_INVALID_HANDLE);
    RETURNS(HeapFree(heap, 0, NULL), TRUE);
    FAILS(HeapFree(NULL, 0, NULL), FALSE, ERROR_INVALID_HANDLE);
    FAILS(HeapFree(heap, 0, raw + 32), FALSE, IP);  /* not a block of ours */
    FAILS(HeapFree(heap, 0, raw + 33), FALSE, IP);  /* misaligned */
    FAILS(HeapSize(heap, 0, raw + 32), (SIZE_T)-1, IP);
    FAILS(HeapReAlloc(heap, 0, raw + 32, 8), NULL, IP);
    void *b = HeapAlloc(heap, 0, 16);
    RETURNS(b != NULL, 1);
    FAILS(HeapReAlloc(heap, 0, b, (SIZE_T)-1), NULL, ERROR_NOT_ENOUGH_MEMORY);
    RETURNS(HeapSize(heap, 0, b), 16); /* the failed resize left it alone */
    RETURNS(HeapFree(heap, 0, b), TRUE);
    FAILS(GlobalAlloc(0x80000000u, 8), NULL, IP);
    FAILS(GlobalAlloc(GPTR, (SIZE_T)-1), NULL, ERROR_NOT_ENOUGH_MEMORY);
    FAILS(LocalAlloc(0x80000000u, 8), NULL, IP);
    FAILS(LocalAlloc(LPTR, (SIZE_T)-1), NULL, ERROR_NOT_ENOUGH_MEMORY);
    RETURNS(GlobalFree(NULL), NULL);
    RETURNS(LocalFree(NULL), NULL);
    FAILS(GlobalFree(raw + 32), raw + 32, ERROR_INVALID_HANDLE);
    FAILS(LocalFree(raw + 48), raw + 48, ERROR_INVALID_HANDLE);
    FAILS(GlobalSize(NULL), 0, ERROR_INVALID_HANDLE);
    FAILS(GlobalSize(raw + 16), 0, ERROR_INVALID_HANDLE);
    void *g = GlobalAlloc(GMEM_FIXED, 0);
    RETURNS(g != NULL, 1);
    RETURNS(GlobalSize(g), 0);
    RETURNS(LocalFree(g), NULL);
    g = LocalAlloc(LHND, 5);
    RETURNS(g != NULL, 1);
    RETURNS(GlobalFree(g), NULL);
    for (size_t i = 0; i < sizeof(raw); i++) CHECK_EQ(raw[i], 0); /* nothing written */

    /* Clocks and ids. */
    FAILS(QueryPerformanceCounter(NULL), FALSE, ERROR_NOACCESS);
    FAILS(QueryPerformanceFrequency(NULL), FALSE, ERROR_NOACCESS);
    {
        _Alignas(8) unsigned char odd[16] = {0};
        LARGE_INTEGER v;
        RETURNS(QueryPerformanceFrequency((LARGE_INTEGER *)(odd + 1)), TRUE); /* misaligned: written unaligned */
        memcpy(&v, odd + 1, sizeof(v));
        RETURNS(v.QuadPart, 10000000);
        RETURNS(QueryPerformanceCounter((LARGE_INTEGER *)(odd + 3)), TRUE);
    }
    /* Removing a handler that was never added; un-ignoring Ctrl+C that was not ignored. */
    FAILS(SetConsoleCtrlHandler(never_added, FALSE), FALSE, IP);
    RETURNS(SetConsoleCtrlHandler(NULL, FALSE), TRUE);
    /* The standard handles and console output. */
    FAILS(GetStdHandle(5), INVALID_HANDLE_VALUE, ERROR_INVALID_HANDLE);
    FAILS(GetStdHandle(0), INVALID_HANDLE_VALUE, ERROR_INVALID_HANDLE);
    {
        DWORD wrote = 77;
        HANDLE out = GetStdHandle(STD_OUTPUT_HANDLE);
        RETURNS(out != INVALID_HANDLE_VALUE && out != NULL, 1);
        FAILS(WriteConsoleA(out, NULL, 5, &wrote, NULL), FALSE, ERROR_NOACCESS);
        FAILS(WriteConsoleA(GetStdHandle(STD_INPUT_HANDLE), "x", 1, &wrote, NULL), FALSE, ERROR_INVALID_HANDLE);
        FAILS(WriteConsoleA(NULL, "x", 1, &wrote, NULL), FALSE, ERROR_INVALID_HANDLE);
        FAILS(WriteConsoleA((HANDLE)(UINT_PTR)0x100, "x", 1, &wrote, NULL), FALSE, ERROR_INVALID_HANDLE);
        RETURNS(WriteConsoleA(out, NULL, 0, &wrote, NULL), TRUE);
        RETURNS(wrote, 0);
        RETURNS(WriteConsoleA(GetStdHandle(STD_ERROR_HANDLE), "", 0, NULL, NULL), TRUE);
    }
    /* Winsock names before WSAStartup. */
    {
        SOCKADDR_IN a;
        memset(&a, 0, sizeof(a));
        a.sin_family = AF_INET;
        char host[64], text[64];
        DWORD len = sizeof(text);
        FAILS(getnameinfo((SOCKADDR *)&a, sizeof(a), host, sizeof(host), NULL, 0, NI_NUMERICHOST),
              WSANOTINITIALISED, WSANOTINITIALISED);
        FAILS(WSAAddressToStringA((LPSOCKADDR)&a, sizeof(a), NULL, text, &len), SOCKET_ERROR, WSANOTINITIALISED);
        FAILS(WSAAccept(0x100, NULL, NULL, NULL, 0), INVALID_SOCKET, WSANOTINITIALISED);
    }
    /* FormatMessage and GenerateConsoleCtrlEvent. */
    {
        char m[8];
        FAILS(FormatMessageA(FORMAT_MESSAGE_FROM_SYSTEM, NULL, WSAEINVAL, 0, NULL, 64, NULL), 0, IP);
        FAILS(FormatMessageA(0, NULL, WSAEINVAL, 0, m, sizeof(m), NULL), 0, IP);
        FAILS(FormatMessageA(FORMAT_MESSAGE_FROM_HMODULE | FORMAT_MESSAGE_FROM_SYSTEM, NULL, WSAEINVAL, 0, m,
                             sizeof(m), NULL), 0, IP);
        FAILS(FormatMessageA(FORMAT_MESSAGE_FROM_SYSTEM, NULL, WSAEINVAL, 0, m, sizeof(m), NULL), 0,
              ERROR_INSUFFICIENT_BUFFER);
        FAILS(FormatMessageA(FORMAT_MESSAGE_FROM_SYSTEM, NULL, 0xFFFFFFFFu, 0, m, sizeof(m), NULL), 0,
              ERROR_MR_MID_NOT_FOUND);
        FAILS(GenerateConsoleCtrlEvent(CTRL_CLOSE_EVENT, 0), FALSE, IP);
        FAILS(MessageBoxA(NULL, NULL, NULL, 7), 0, IP);
        RETURNS(MessageBoxA(NULL, NULL, NULL, MB_RETRYCANCEL), IDRETRY);
        FAILS(GenerateConsoleCtrlEvent(0xFFFFFFFFu, 0), FALSE, IP);
    }
    RETURNS(GetTickCount64() > 0, 1);
    RETURNS(GetCurrentProcessId() != 0, 1);
}

/* What needs no WSAStartup (kernel32 objects, byte order, address text), as on Windows. */
static void without_startup(void) {
    char text[64];
    struct in_addr ia;
    ia.S_un.S_addr = htonl(0x7f000001);
    RETURNS(htons(0x1234), 0x3412);
    RETURNS(ntohs(0x3412), 0x1234);
    RETURNS(htonl(0x01020304), 0x04030201);
    RETURNS(ntohl(0x04030201), 0x01020304);
    RETURNS(inet_addr("127.0.0.1"), htonl(0x7f000001));
    RETURNS(inet_addr(NULL), INADDR_NONE);
    RETURNS(strcmp(inet_ntoa(ia), "127.0.0.1"), 0);
    RETURNS(inet_pton(AF_INET, "10.0.0.1", &ia), 1);
    RETURNS(inet_ntop(AF_INET, &ia, text, sizeof(text)), text);
    WSASetLastError(123);
    RETURNS(WSAGetLastError(), 123);
    SetLastError(456);
    RETURNS(GetLastError(), 456);
    HANDLE e = WSACreateEvent();
    CHECK(e != WSA_INVALID_EVENT);
    RETURNS(WSASetEvent(e), TRUE);
    RETURNS(WaitForSingleObject(e, 0), WAIT_OBJECT_0);
    RETURNS(WSACloseEvent(e), TRUE);
    RETURNS(SleepEx(0, TRUE), 0);
    SURVIVES(Sleep(0));
    SURVIVES(GetTickCount());
    SURVIVES(GetSystemInfo(NULL));
    SURVIVES(freeaddrinfo(NULL));
    RETURNS(__WSAFDIsSet(0x100, NULL), 0);
    kernel32_objects();
    /* kernel32 calls on a handle that is no socket: ERROR_INVALID_HANDLE. */
    FAILS(CancelIo((HANDLE)(UINT_PTR)0x100), FALSE, ERROR_INVALID_HANDLE);
    FAILS(CancelIoEx((HANDLE)(UINT_PTR)0x100, NULL), FALSE, ERROR_INVALID_HANDLE);
}

/* Every socket-taking function with a value that names no socket: WSAENOTSOCK (kernel32
 * calls: ERROR_INVALID_HANDLE). */
static void not_a_socket(SOCKET bad, SOCKET good_listener, SOCKET good_udp) {
    WSAOVERLAPPED ov;
    memset(&ov, 0, sizeof(ov));
    DWORD n = 0, flags = 0;
    char buf[64] = {0};
    WSABUF wb = {8, buf};
    SOCKADDR_IN a = loopback(htons(9));
    int len = sizeof(a), opt = 1;
    u_long arg = 1;
    fd_set rs;
    FD_ZERO(&rs);
    FD_SET(bad, &rs);
    WSAPOLLFD pfd[2] = {{bad, POLLIN, 0}, {bad, POLLOUT, 0}};
    WSANETWORKEVENTS ne;
    WSAMSG msg;
    memset(&msg, 0, sizeof(msg));
    msg.lpBuffers = &wb;
    msg.dwBufferCount = 1;
    TRANSMIT_FILE_BUFFERS tfb = {buf, 4, NULL, 0};
    struct timeval tv = {0, 0};
    HANDLE ev = WSACreateEvent();
    const int NS = WSAENOTSOCK;

    FAILS(bind(bad, (SOCKADDR *)&a, sizeof(a)), SOCKET_ERROR, NS);
    FAILS(listen(bad, 5), SOCKET_ERROR, NS);
    FAILS(accept(bad, NULL, NULL), INVALID_SOCKET, NS);
    FAILS(accept(bad, (SOCKADDR *)&a, &len), INVALID_SOCKET, NS);
    FAILS(connect(bad, (SOCKADDR *)&a, sizeof(a)), SOCKET_ERROR, NS);
    FAILS(shutdown(bad, SD_SEND), SOCKET_ERROR, NS);
    FAILS(setsockopt(bad, SOL_SOCKET, SO_KEEPALIVE, (char *)&opt, sizeof(opt)), SOCKET_ERROR, NS);
    len = sizeof(opt);
    FAILS(getsockopt(bad, SOL_SOCKET, SO_KEEPALIVE, (char *)&opt, &len), SOCKET_ERROR, NS);
    len = sizeof(a);
    FAILS(getsockname(bad, (SOCKADDR *)&a, &len), SOCKET_ERROR, NS);
    FAILS(getpeername(bad, (SOCKADDR *)&a, &len), SOCKET_ERROR, NS);
    FAILS(ioctlsocket(bad, FIONBIO, &arg), SOCKET_ERROR, NS);
    FAILS(send(bad, buf, 4, 0), SOCKET_ERROR, NS);
    FAILS(recv(bad, buf, 4, 0), SOCKET_ERROR, NS);
    FAILS(sendto(bad, buf, 4, 0, (SOCKADDR *)&a, sizeof(a)), SOCKET_ERROR, NS);
    FAILS(sendto(bad, buf, 4, 0, NULL, 0), SOCKET_ERROR, NS);
    FAILS(recvfrom(bad, buf, 4, 0, (SOCKADDR *)&a, &len), SOCKET_ERROR, NS);
    FAILS(select(0, &rs, NULL, NULL, &tv), SOCKET_ERROR, NS);
    FAILS(select(0, NULL, &rs, NULL, &tv), SOCKET_ERROR, NS);
    FAILS(select(0, NULL, NULL, &rs, &tv), SOCKET_ERROR, NS);
    RETURNS(__WSAFDIsSet(bad, &rs), 1); /* a pure set test: no handle check */
    /* WSAPoll: every record invalid → SOCKET_ERROR, WSAENOTSOCK, each POLLNVAL (WT). */
    FAILS(WSAPoll(pfd, 2, 0), SOCKET_ERROR, NS);
    CHECK_EQ(pfd[0].revents, POLLNVAL);
    CHECK_EQ(pfd[1].revents, POLLNVAL);
    /* One valid record: the invalid one reports POLLNVAL but is not counted (WT). */
    pfd[1].fd = good_udp;
    pfd[1].events = POLLIN;
    RETURNS(WSAPoll(pfd, 2, 0), 0);
    CHECK_EQ(pfd[0].revents, POLLNVAL);
    CHECK_EQ(pfd[1].revents, 0);
    FAILS(WSASend(bad, &wb, 1, &n, 0, NULL, NULL), SOCKET_ERROR, NS);
    FAILS(WSASend(bad, &wb, 1, NULL, 0, &ov, NULL), SOCKET_ERROR, NS);
    FAILS(WSARecv(bad, &wb, 1, &n, &flags, NULL, NULL), SOCKET_ERROR, NS);
    FAILS(WSARecv(bad, &wb, 1, NULL, NULL, &ov, routine), SOCKET_ERROR, NS); /* socket before lpFlags */
    FAILS(WSASendTo(bad, &wb, 1, &n, 0, (SOCKADDR *)&a, sizeof(a), &ov, NULL), SOCKET_ERROR, NS);
    FAILS(WSASendTo(bad, &wb, 1, &n, 0, NULL, 0, NULL, NULL), SOCKET_ERROR, NS);
    FAILS(WSARecvFrom(bad, &wb, 1, &n, &flags, (SOCKADDR *)&a, &len, &ov, NULL), SOCKET_ERROR, NS);
    FAILS(WSARecvFrom(bad, &wb, 1, &n, NULL, (SOCKADDR *)&a, NULL, &ov, NULL), SOCKET_ERROR, NS);
    FAILS(WSAIoctl(bad, FIONREAD, NULL, 0, &arg, sizeof(arg), &n, NULL, NULL), SOCKET_ERROR, NS);
    GUID g = WSAID_CONNECTEX;
    void *fn = NULL;
    FAILS(WSAIoctl(bad, SIO_GET_EXTENSION_FUNCTION_POINTER, &g, sizeof(g), &fn, sizeof(fn), &n, NULL, NULL),
          SOCKET_ERROR, NS);
    FAILS(WSAGetOverlappedResult(bad, &ov, &n, FALSE, &flags), FALSE, NS);
    FAILS(WSAEventSelect(bad, ev, FD_READ), SOCKET_ERROR, NS);
    FAILS(WSAEnumNetworkEvents(bad, ev, &ne), SOCKET_ERROR, NS);
    FAILS(AcceptEx(bad, good_udp, buf, 0, 32, 32, &n, &ov), FALSE, NS);
    CHECK_EQ(ov.Internal, STATUS_PENDING); /* set at entry even on failure (WT) */
    ov.Internal = 0;
    FAILS(AcceptEx(good_listener, bad, buf, 0, 32, 32, &n, &ov), FALSE, NS);
    ov.Internal = 0;
    FAILS(pConnectEx(bad, (SOCKADDR *)&a, sizeof(a), NULL, 0, &n, &ov), FALSE, NS);
    ov.Internal = 0;
    FAILS(pDisconnectEx(bad, NULL, 0, 0), FALSE, NS);
    FAILS(pDisconnectEx(bad, &ov, 0, 0), FALSE, NS);
    FAILS(TransmitFile(bad, NULL, 0, 0, NULL, &tfb, 0), FALSE, NS);
    FAILS(pWSARecvMsg(bad, &msg, &n, &ov, NULL), SOCKET_ERROR, NS);
    FAILS(pWSASendMsg(bad, &msg, 0, &n, NULL, NULL), SOCKET_ERROR, NS);
    FAILS(CancelIo((HANDLE)bad), FALSE, ERROR_INVALID_HANDLE);
    FAILS(CancelIoEx((HANDLE)bad, NULL), FALSE, ERROR_INVALID_HANDLE);
    FAILS(CancelIoEx((HANDLE)bad, &ov), FALSE, ERROR_INVALID_HANDLE);
    FAILS(closesocket(bad), SOCKET_ERROR, NS);
    RETURNS(WSACloseEvent(ev), TRUE);
}

/* Every event-taking function with a value that names no event: WSA_INVALID_HANDLE
 * (= ERROR_INVALID_HANDLE). `waitable` is false for a socket (sockets may be waited on). */
static void not_an_event(HANDLE bad, SOCKET s, int waitable, int closable) {
    WSANETWORKEVENTS ne;
    WSAOVERLAPPED ov;
    memset(&ov, 0, sizeof(ov));
    ov.hEvent = bad;
    char buf[8];
    WSABUF wb = {sizeof(buf), buf};
    DWORD n = 0, flags = 0;
    const int IH = WSA_INVALID_HANDLE;

    FAILS(WSASetEvent(bad), FALSE, IH);
    FAILS(WSAResetEvent(bad), FALSE, IH);
    FAILS(SetEvent(bad), FALSE, ERROR_INVALID_HANDLE);
    FAILS(ResetEvent(bad), FALSE, ERROR_INVALID_HANDLE);
    FAILS(WSACloseEvent(bad), FALSE, IH);
    if (closable)
        FAILS(CloseHandle(bad), FALSE, ERROR_INVALID_HANDLE);
    if (waitable) {
        FAILS(WSAWaitForMultipleEvents(1, &bad, FALSE, 0, FALSE), WSA_WAIT_FAILED, IH);
        FAILS(WSAWaitForMultipleEvents(1, &bad, TRUE, 0, TRUE), WSA_WAIT_FAILED, IH);
        FAILS(WaitForSingleObject(bad, 0), WAIT_FAILED, ERROR_INVALID_HANDLE);
        FAILS(WaitForSingleObjectEx(bad, 0, TRUE), WAIT_FAILED, ERROR_INVALID_HANDLE);
        FAILS(WaitForMultipleObjects(1, &bad, FALSE, 0), WAIT_FAILED, ERROR_INVALID_HANDLE);
        FAILS(WaitForMultipleObjectsEx(1, &bad, TRUE, 0, FALSE), WAIT_FAILED, ERROR_INVALID_HANDLE);
    }
    FAILS(WSAEventSelect(s, bad, FD_READ), SOCKET_ERROR, IH);
    FAILS(WSAEnumNetworkEvents(s, bad, &ne), SOCKET_ERROR, IH);
    /* An overlapped call naming it in hEvent fails at once and leaves Internal alone. */
    ov.Internal = 0x1234;
    FAILS(WSARecv(s, &wb, 1, &n, &flags, &ov, NULL), SOCKET_ERROR, IH);
    CHECK_EQ(ov.Internal, 0x1234);
    FAILS(WSASend(s, &wb, 1, &n, 0, &ov, NULL), SOCKET_ERROR, IH);
    CHECK_EQ(ov.Internal, 0x1234);
}

static DWORD WINAPI exit_thread(LPVOID arg) { ExitThread((DWORD)(ULONG_PTR)arg); }
static unsigned __stdcall endthreadex_thread(void *arg) { _endthreadex((unsigned)(ULONG_PTR)arg); }

/* Completion ports and threads: bad, closed, never-opened and wrong-kind handles, NULL
 * out-pointers (nothing is dequeued), zero and huge counts, NULL start routines. */
static void ports_and_threads(SOCKET s, SOCKET other, HANDLE ev) {
    const HANDLE never = (HANDLE)(ULONG_PTR)0x7ff0, inv = INVALID_HANDLE_VALUE;
    HANDLE port = CreateIoCompletionPort(inv, NULL, 0, 0xFFFFFFFF);
    CHECK(port != NULL);
    HANDLE dead = CreateIoCompletionPort(inv, NULL, 0, 1);
    CHECK(dead != NULL);
    RETURNS(CloseHandle(dead), TRUE);
    FAILS(CloseHandle(dead), FALSE, ERROR_INVALID_HANDLE);

    FAILS(CreateIoCompletionPort(inv, port, 0, 0), NULL, ERROR_INVALID_PARAMETER);
    FAILS(CreateIoCompletionPort(NULL, port, 0, 0), NULL, ERROR_INVALID_HANDLE);
    FAILS(CreateIoCompletionPort(never, port, 0, 0), NULL, ERROR_INVALID_HANDLE);
    FAILS(CreateIoCompletionPort(ev, port, 0, 0), NULL, ERROR_INVALID_HANDLE);
    FAILS(CreateIoCompletionPort(port, port, 0, 0), NULL, ERROR_INVALID_HANDLE);
    FAILS(CreateIoCompletionPort((HANDLE)s, (HANDLE)other, 0, 0), NULL, ERROR_INVALID_HANDLE);
    FAILS(CreateIoCompletionPort((HANDLE)s, ev, 0, 0), NULL, ERROR_INVALID_HANDLE);
    FAILS(CreateIoCompletionPort((HANDLE)s, dead, 0, 0), NULL, ERROR_INVALID_HANDLE);
    FAILS(CreateIoCompletionPort((HANDLE)s, never, 0, 0), NULL, ERROR_INVALID_HANDLE);
    RETURNS(CreateIoCompletionPort((HANDLE)s, port, 1, 0), port); /* the failures left it free */
    FAILS(CreateIoCompletionPort((HANDLE)s, port, 2, 0), NULL, ERROR_INVALID_PARAMETER);
    FAILS(CreateIoCompletionPort((HANDLE)s, NULL, 2, 0), NULL, ERROR_INVALID_PARAMETER);

    DWORD bytes = 0;
    ULONG_PTR key = 0;
    OVERLAPPED *ov = (OVERLAPPED *)0x1;
    HANDLE bad_ports[] = {NULL, never, inv, dead, ev, (HANDLE)s};
    for (size_t i = 0; i < sizeof(bad_ports) / sizeof(bad_ports[0]); i++) {
        ov = (OVERLAPPED *)0x1;
        FAILS(GetQueuedCompletionStatus(bad_ports[i], &bytes, &key, &ov, 0), FALSE, ERROR_INVALID_HANDLE);
        CHECK(ov == NULL);
        OVERLAPPED_ENTRY e[2];
        ULONG n = 9;
        FAILS(GetQueuedCompletionStatusEx(bad_ports[i], e, 2, &n, 0, FALSE), FALSE, ERROR_INVALID_HANDLE);
        CHECK_EQ(n, 0);
        FAILS(PostQueuedCompletionStatus(bad_ports[i], 1, 2, NULL), FALSE, ERROR_INVALID_HANDLE);
        if (bad_ports[i] != ev) /* a port is not waitable; sockets and events are */
            FAILS(WaitForSingleObject(bad_ports[i] == (HANDLE)s ? port : bad_ports[i], 0), WAIT_FAILED, ERROR_INVALID_HANDLE);
    }
    /* NULL out-pointers: refused, and the queued packet is not consumed. */
    RETURNS(PostQueuedCompletionStatus(port, 5, 6, (LPOVERLAPPED)(ULONG_PTR)0x40), TRUE);
    FAILS(GetQueuedCompletionStatus(port, NULL, &key, &ov, 0), FALSE, ERROR_INVALID_PARAMETER);
    FAILS(GetQueuedCompletionStatus(port, &bytes, NULL, &ov, 0), FALSE, ERROR_INVALID_PARAMETER);
    FAILS(GetQueuedCompletionStatus(port, &bytes, &key, NULL, 0), FALSE, ERROR_INVALID_PARAMETER);
    OVERLAPPED_ENTRY e[4];
    ULONG n = 0;
    FAILS(GetQueuedCompletionStatusEx(port, NULL, 4, &n, 0, FALSE), FALSE, ERROR_INVALID_PARAMETER);
    FAILS(GetQueuedCompletionStatusEx(port, e, 4, NULL, 0, FALSE), FALSE, ERROR_INVALID_PARAMETER);
    FAILS(GetQueuedCompletionStatusEx(port, e, 0, &n, 0, FALSE), FALSE, ERROR_INVALID_PARAMETER);
    /* A huge count with one packet queued writes one entry. */
    RETURNS(GetQueuedCompletionStatusEx(port, e, 0xFFFFFFFF, &n, 0, FALSE), TRUE);
    CHECK_EQ(n, 1);
    CHECK(e[0].lpOverlapped == (LPOVERLAPPED)(ULONG_PTR)0x40);
    CHECK_EQ(e[0].lpCompletionKey, 6);
    FAILS(GetQueuedCompletionStatusEx(port, e, 0xFFFFFFFF, &n, 0, TRUE), FALSE, WAIT_TIMEOUT);
    ov = (OVERLAPPED *)0x1;
    FAILS(GetQueuedCompletionStatus(port, &bytes, &key, &ov, 0), FALSE, WAIT_TIMEOUT);
    CHECK(ov == NULL);

    FAILS(SetFileCompletionNotificationModes(never, FILE_SKIP_COMPLETION_PORT_ON_SUCCESS), FALSE, ERROR_INVALID_HANDLE);
    FAILS(SetFileCompletionNotificationModes(NULL, 0), FALSE, ERROR_INVALID_HANDLE);
    FAILS(SetFileCompletionNotificationModes(port, FILE_SKIP_COMPLETION_PORT_ON_SUCCESS), FALSE, ERROR_INVALID_HANDLE);
    FAILS(SetFileCompletionNotificationModes(ev, FILE_SKIP_SET_EVENT_ON_HANDLE), FALSE, ERROR_INVALID_HANDLE);
    FAILS(SetFileCompletionNotificationModes((HANDLE)s, 0x4), FALSE, ERROR_INVALID_PARAMETER);
    FAILS(SetFileCompletionNotificationModes((HANDLE)s, 0xFF), FALSE, ERROR_INVALID_PARAMETER);
    RETURNS(SetFileCompletionNotificationModes((HANDLE)s, 0), TRUE);

    /* Wrong-kind handles for the other families. */
    FAILS(closesocket((SOCKET)port), SOCKET_ERROR, WSAENOTSOCK);
    FAILS(WSACloseEvent(port), FALSE, WSA_INVALID_HANDLE);
    FAILS(SetEvent(port), FALSE, ERROR_INVALID_HANDLE);

    /* Threads. */
    DWORD tid = 0x5555;
    FAILS(CreateThread(NULL, 0, NULL, NULL, 0, &tid), NULL, ERROR_INVALID_PARAMETER);
    CHECK_EQ(tid, 0x5555);
    FAILS(CreateThread(NULL, 0, exit_thread, NULL, 0x80000000, NULL), NULL, ERROR_INVALID_PARAMETER);
    errno = 0;
    FAILS(_beginthreadex(NULL, 0, NULL, NULL, 0, NULL), 0, ERROR_INVALID_PARAMETER);
    CHECK_EQ(errno, EINVAL);
    HANDLE bad_threads[] = {NULL, never, inv, dead, ev, port, (HANDLE)s};
    for (size_t i = 0; i < sizeof(bad_threads) / sizeof(bad_threads[0]); i++) {
        DWORD code = 0x1234;
        FAILS(GetExitCodeThread(bad_threads[i], &code), FALSE, ERROR_INVALID_HANDLE);
        CHECK_EQ(code, 0x1234);
        FAILS(ResumeThread(bad_threads[i]), (DWORD)-1, ERROR_INVALID_HANDLE);
    }
    HANDLE t = CreateThread(NULL, 1, exit_thread, (LPVOID)(ULONG_PTR)3, 0, NULL); /* tiny stack: rounded up */
    CHECK(t != NULL);
    FAILS(GetExitCodeThread(t, NULL), FALSE, ERROR_INVALID_PARAMETER);
    RETURNS(WaitForSingleObject(t, 5000), WAIT_OBJECT_0);
    DWORD code = 0;
    RETURNS(GetExitCodeThread(t, &code), TRUE);
    CHECK_EQ(code, 3);
    FAILS(closesocket((SOCKET)t), SOCKET_ERROR, WSAENOTSOCK);
    FAILS(WSASetEvent(t), FALSE, WSA_INVALID_HANDLE);
    FAILS(PostQueuedCompletionStatus(t, 0, 0, NULL), FALSE, ERROR_INVALID_HANDLE);
    RETURNS(CloseHandle(t), TRUE);
    FAILS(CloseHandle(t), FALSE, ERROR_INVALID_HANDLE);
    FAILS(WaitForSingleObject(t, 0), WAIT_FAILED, ERROR_INVALID_HANDLE);
    HANDLE t2 = (HANDLE)_beginthreadex(NULL, 0, endthreadex_thread, (void *)(ULONG_PTR)4, 0, NULL);
    CHECK(t2 != NULL);
    HANDLE both[2] = {t2, t2};
    FAILS(WaitForMultipleObjects(2, both, TRUE, 0), WAIT_FAILED, ERROR_INVALID_PARAMETER); /* duplicates */
    RETURNS(WaitForMultipleObjects(1, &t2, TRUE, 5000), WAIT_OBJECT_0);
    RETURNS(GetExitCodeThread(t2, &code), TRUE);
    CHECK_EQ(code, 4);
    RETURNS(CloseHandle(t2), TRUE);
    RETURNS(GetCurrentThreadId() == GetCurrentThreadId() && GetCurrentThreadId() != 0, 1);

    /* Closing the port: later posts and dequeues fail; the socket stays associated. */
    RETURNS(CloseHandle(port), TRUE);
    FAILS(PostQueuedCompletionStatus(port, 0, 0, NULL), FALSE, ERROR_INVALID_HANDLE);
    FAILS(CreateIoCompletionPort((HANDLE)s, NULL, 2, 0), NULL, ERROR_INVALID_PARAMETER);
}

/* getnameinfo, WSAAddressToString and WSAAccept after WSAStartup: bad addresses,
 * lengths, flags and buffers. */
static int CALLBACK never_called(LPWSABUF a, LPWSABUF b, LPQOS c, LPQOS d, LPWSABUF e, LPWSABUF f, GROUP *g,
                                 DWORD_PTR h) {
    (void)a, (void)b, (void)c, (void)d, (void)e, (void)f, (void)g, (void)h;
    printf("FAIL: a condition function ran for a failed WSAAccept\n");
    exit(1);
}

static void names_after_startup(void) {
    SOCKADDR_IN a;
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_port = htons(80);
    a.sin_addr.s_addr = htonl(0x7f000001);
    char host[NI_MAXHOST], serv[NI_MAXSERV], tiny[2];
    FAILS(getnameinfo(NULL, sizeof(a), host, sizeof(host), NULL, 0, NI_NUMERICHOST), WSAEFAULT, WSAEFAULT);
    FAILS(getnameinfo((SOCKADDR *)&a, 3, host, sizeof(host), NULL, 0, NI_NUMERICHOST), WSAEFAULT, WSAEFAULT);
    FAILS(getnameinfo((SOCKADDR *)&a, -1, host, sizeof(host), NULL, 0, NI_NUMERICHOST), WSAEFAULT, WSAEFAULT);
    FAILS(getnameinfo((SOCKADDR *)&a, sizeof(a), host, sizeof(host), NULL, 0, 0x400), WSAEINVAL, WSAEINVAL);
    FAILS(getnameinfo((SOCKADDR *)&a, sizeof(a), NULL, 0, NULL, 0, 0), WSAHOST_NOT_FOUND, WSAHOST_NOT_FOUND);
    FAILS(getnameinfo((SOCKADDR *)&a, sizeof(a), tiny, sizeof(tiny), NULL, 0, NI_NUMERICHOST), WSAEFAULT, WSAEFAULT);
    FAILS(getnameinfo((SOCKADDR *)&a, sizeof(a), NULL, 0, tiny, 1, NI_NUMERICSERV), WSAEFAULT, WSAEFAULT);
    RETURNS(getnameinfo((SOCKADDR *)&a, sizeof(a), host, sizeof(host), serv, sizeof(serv),
                        NI_NUMERICHOST | NI_NUMERICSERV), 0);
    RETURNS(strcmp(host, "127.0.0.1") == 0 && strcmp(serv, "80") == 0, 1);
    {
        unsigned short other = 7; /* an unknown family */
        FAILS(getnameinfo((SOCKADDR *)&other, sizeof(a), host, sizeof(host), NULL, 0, 0), WSAEAFNOSUPPORT,
              WSAEAFNOSUPPORT);
    }

    char text[64];
    DWORD len = sizeof(text);
    FAILS(WSAAddressToStringA(NULL, sizeof(a), NULL, text, &len), SOCKET_ERROR, WSAEFAULT);
    FAILS(WSAAddressToStringA((LPSOCKADDR)&a, sizeof(a), NULL, text, NULL), SOCKET_ERROR, WSAEFAULT);
    FAILS(WSAAddressToStringA((LPSOCKADDR)&a, 4, NULL, text, &len), SOCKET_ERROR, WSAEFAULT);
    len = 3;
    FAILS(WSAAddressToStringA((LPSOCKADDR)&a, sizeof(a), NULL, text, &len), SOCKET_ERROR, WSAEFAULT);
    RETURNS(len, sizeof("127.0.0.1:80")); /* the size needed */
    len = 0;
    FAILS(WSAAddressToStringA((LPSOCKADDR)&a, sizeof(a), NULL, NULL, &len), SOCKET_ERROR, WSAEFAULT);
    RETURNS(len, sizeof("127.0.0.1:80"));
    {
        unsigned short other[8] = {7};
        len = sizeof(text);
        FAILS(WSAAddressToStringA((LPSOCKADDR)other, sizeof(other), NULL, text, &len), SOCKET_ERROR, WSAEINVAL);
    }

    FAILS(WSAAccept(0x100, NULL, NULL, never_called, 0), INVALID_SOCKET, WSAENOTSOCK);
    FAILS(WSAAccept(INVALID_SOCKET, NULL, NULL, never_called, 0), INVALID_SOCKET, WSAENOTSOCK);
    {
        SOCKADDR_IN la;
        SOCKET l = socket(AF_INET, SOCK_STREAM, 0);
        memset(&la, 0, sizeof(la));
        la.sin_family = AF_INET;
        la.sin_addr.s_addr = htonl(0x7f000001);
        CHECK_EQ(bind(l, (SOCKADDR *)&la, sizeof(la)), 0);
        FAILS(WSAAccept(l, NULL, NULL, never_called, 0), INVALID_SOCKET, WSAEINVAL); /* not listening */
        CHECK_EQ(listen(l, 1), 0);
        int small = 4;
        FAILS(WSAAccept(l, (SOCKADDR *)&la, &small, never_called, 0), INVALID_SOCKET, WSAEFAULT);
        u_long on = 1;
        CHECK_EQ(ioctlsocket(l, FIONBIO, &on), 0);
        FAILS(WSAAccept(l, NULL, NULL, never_called, 0), INVALID_SOCKET, WSAEWOULDBLOCK);
        CHECK_EQ(closesocket(l), 0);
    }
}

/* Pseudo handles, DuplicateHandle, QueueUserAPC, TLS, modules, ntdll, code pages,
 * WSASend/RecvDisconnect, WSAEnumProtocols: hostile arguments. */
static void WINAPI hostile_apc(ULONG_PTR p) { (*(int *)p)++; }
static void process_and_modules(SOCKET s, HANDLE ev) {
    HANDLE h = (HANDLE)(UINT_PTR)1;
    RETURNS(GetCurrentProcess(), (HANDLE)-1);
    RETURNS(GetCurrentThread(), (HANDLE)-2);
    FAILS(DuplicateHandle((HANDLE)0x1234, ev, GetCurrentProcess(), &h, 0, FALSE, 0), FALSE, ERROR_INVALID_HANDLE);
    FAILS(DuplicateHandle(GetCurrentProcess(), (HANDLE)0x7ffffff0, GetCurrentProcess(), &h, 0, FALSE, 0), FALSE, ERROR_INVALID_HANDLE);
    FAILS(DuplicateHandle(GetCurrentProcess(), ev, GetCurrentProcess(), &h, 0, FALSE, 0x80), FALSE, ERROR_INVALID_PARAMETER);
    RETURNS(DuplicateHandle(GetCurrentProcess(), (HANDLE)s, GetCurrentProcess(), &h, 0, FALSE, DUPLICATE_SAME_ACCESS), TRUE);
    FAILS(closesocket((SOCKET)h), SOCKET_ERROR, WSAENOTSOCK); /* not a socket to Winsock */
    RETURNS(CloseHandle(h), TRUE); /* the socket stays open (s still names it) */
    h = (HANDLE)(UINT_PTR)1;
    FAILS(DuplicateHandle(GetCurrentProcess(), (HANDLE)0x7ffffff0, GetCurrentProcess(), &h, 0, FALSE, DUPLICATE_SAME_ACCESS), FALSE, ERROR_INVALID_HANDLE);
    CHECK(h == (HANDLE)(UINT_PTR)1); /* untouched */
    RETURNS(DuplicateHandle(GetCurrentProcess(), ev, GetCurrentProcess(), NULL, 0, FALSE, 0), TRUE);
    WSAPROTOCOL_INFOA pia;
    WSAPROTOCOL_INFOW piw;
    FAILS(WSADuplicateSocketA(INVALID_SOCKET, GetCurrentProcessId(), &pia), SOCKET_ERROR, WSAENOTSOCK);
    FAILS(WSADuplicateSocketA((SOCKET)ev, GetCurrentProcessId(), &pia), SOCKET_ERROR, WSAENOTSOCK);
    FAILS(WSADuplicateSocketA(s, 0, &pia), SOCKET_ERROR, WSAEINVAL);
    FAILS(WSADuplicateSocketA(s, ~0u, &pia), SOCKET_ERROR, WSAEINVAL);
    FAILS(WSADuplicateSocketA(s, GetCurrentProcessId(), NULL), SOCKET_ERROR, WSAEFAULT);
    FAILS(WSADuplicateSocketA(s, GetCurrentProcessId(), (WSAPROTOCOL_INFOA *)1), SOCKET_ERROR, WSAEFAULT);
    FAILS(WSADuplicateSocketW(s, GetCurrentProcessId(), NULL), SOCKET_ERROR, WSAEFAULT);
    FAILS(WSADuplicateSocketW(INVALID_SOCKET, GetCurrentProcessId(), &piw), SOCKET_ERROR, WSAENOTSOCK);
    FAILS(WSASocketA(0, 0, 0, (WSAPROTOCOL_INFOA *)1, 0, 0), INVALID_SOCKET, WSAEFAULT);
    int runs = 0;
    FAILS(QueueUserAPC(NULL, GetCurrentThread(), 0), 0, ERROR_INVALID_PARAMETER);
    FAILS(QueueUserAPC(hostile_apc, (HANDLE)s, (ULONG_PTR)&runs), 0, ERROR_INVALID_HANDLE);
    FAILS(QueueUserAPC(hostile_apc, ev, (ULONG_PTR)&runs), 0, ERROR_INVALID_HANDLE);
    FAILS(QueueUserAPC(hostile_apc, NULL, (ULONG_PTR)&runs), 0, ERROR_INVALID_HANDLE);
    CHECK(runs == 0 && SleepEx(0, TRUE) == 0);
    FAILS(TlsFree(5000), FALSE, ERROR_INVALID_PARAMETER);
    FAILS(TlsFree(0xFFFFFFFF), FALSE, ERROR_INVALID_PARAMETER);
    FAILS(TlsGetValue(5000), NULL, ERROR_INVALID_PARAMETER);
    FAILS(TlsSetValue(5000, &runs), FALSE, ERROR_INVALID_PARAMETER);
    DWORD t = TlsAlloc();
    CHECK(t != TLS_OUT_OF_INDEXES);
    FAILS(TlsGetValue(t), NULL, 0);
    RETURNS(TlsFree(t), TRUE);
    FAILS(TlsFree(t), FALSE, ERROR_INVALID_PARAMETER);
    FAILS(GetModuleHandleA("user32.dll"), NULL, ERROR_MOD_NOT_FOUND);
    FAILS(GetModuleHandleA(""), NULL, ERROR_MOD_NOT_FOUND);
    CHECK(GetModuleHandleA(NULL) != NULL);
    FAILS(GetModuleHandleW(NULL) == GetModuleHandleA(NULL), 1, 0x7eadbeef);
    FAILS(LoadLibraryA(NULL), NULL, ERROR_INVALID_PARAMETER);
    FAILS(LoadLibraryW(NULL), NULL, ERROR_INVALID_PARAMETER);
    FAILS(LoadLibraryA("nosuch.dll"), NULL, ERROR_MOD_NOT_FOUND);
    FAILS(FreeLibrary(NULL), FALSE, ERROR_MOD_NOT_FOUND);
    FAILS(FreeLibrary((HMODULE)&runs), FALSE, ERROR_MOD_NOT_FOUND);
    FAILS(GetProcAddress((HMODULE)&runs, "WSAPoll"), NULL, ERROR_MOD_NOT_FOUND);
    HMODULE ws = GetModuleHandleA("ws2_32.dll");
    FAILS(GetProcAddress(ws, (LPCSTR)(UINT_PTR)5), NULL, ERROR_PROC_NOT_FOUND);
    FAILS(GetProcAddress(ws, ""), NULL, ERROR_PROC_NOT_FOUND);
    FAILS(GetProcAddress(ws, "ws2_bind"), NULL, ERROR_PROC_NOT_FOUND);
    FAILS(GetProcAddress(ws, "malloc"), NULL, ERROR_PROC_NOT_FOUND);
    FAILS(GetProcAddress(ws, "CreateEventA"), NULL, ERROR_PROC_NOT_FOUND);
    FAILS(GetProcAddress(GetModuleHandleA(NULL), "main"), NULL, ERROR_PROC_NOT_FOUND);
    FAILS(NtClose((HANDLE)0x7ffffff0), (NTSTATUS)0xC0000008, 0x7eadbeef);
    FAILS(NtClose(NULL), (NTSTATUS)0xC0000008, 0x7eadbeef);
    RETURNS(RtlNtStatusToDosError(0x12345678), 317);
    RETURNS(RtlNtStatusToDosErrorNoTeb((NTSTATUS)0xC0000120), ERROR_OPERATION_ABORTED);
    char nb[4];
    WCHAR wb[4];
    static const WCHAR w[] = {'a', 'b', 'c', 'd', 'e', 0};
    FAILS(WideCharToMultiByte(CP_UTF8, 0, NULL, -1, nb, 4, NULL, NULL), 0, ERROR_INVALID_PARAMETER);
    FAILS(WideCharToMultiByte(CP_UTF8, 0, w, 0, nb, 4, NULL, NULL), 0, ERROR_INVALID_PARAMETER);
    FAILS(WideCharToMultiByte(CP_UTF8, 0, w, -2, nb, 4, NULL, NULL), 0, ERROR_INVALID_PARAMETER);
    FAILS(WideCharToMultiByte(CP_UTF8, 0, w, -1, nb, 4, NULL, NULL), 0, ERROR_INSUFFICIENT_BUFFER);
    FAILS(WideCharToMultiByte(CP_UTF8, 0, w, -1, NULL, 4, NULL, NULL), 0, ERROR_INVALID_PARAMETER);
    FAILS(WideCharToMultiByte(1200, 0, w, -1, nb, 4, NULL, NULL), 0, ERROR_INVALID_PARAMETER);
    FAILS(WideCharToMultiByte(CP_ACP, 0x4000, w, -1, nb, 4, NULL, NULL), 0, ERROR_INVALID_FLAGS);
    FAILS(MultiByteToWideChar(CP_UTF8, 0, NULL, -1, wb, 4), 0, ERROR_INVALID_PARAMETER);
    FAILS(MultiByteToWideChar(CP_UTF8, 0, "abcdef", -1, wb, 4), 0, ERROR_INSUFFICIENT_BUFFER);
    FAILS(MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, "\xff", 1, wb, 4), 0, ERROR_NO_UNICODE_TRANSLATION);
    FAILS(MultiByteToWideChar(CP_UTF8, 0x4000, "a", 1, wb, 4), 0, ERROR_INVALID_FLAGS);
    WSABUF data = {4, nb};
    FAILS(WSASendDisconnect(INVALID_SOCKET, NULL), SOCKET_ERROR, WSAENOTSOCK);
    FAILS(WSARecvDisconnect((SOCKET)ev, NULL), SOCKET_ERROR, WSAENOTSOCK);
    FAILS(WSASendDisconnect(s, &data), SOCKET_ERROR, WSAENOPROTOOPT);
    FAILS(WSARecvDisconnect(s, &data), SOCKET_ERROR, WSAENOPROTOOPT);
    DWORD len = 0;
    FAILS(WSAEnumProtocolsA(NULL, NULL, NULL), SOCKET_ERROR, WSAEFAULT);
    FAILS(WSAEnumProtocolsA(NULL, NULL, &len), SOCKET_ERROR, WSAENOBUFS);
    CHECK(len == 4 * sizeof(WSAPROTOCOL_INFOA));
    len = 1;
    WSAPROTOCOL_INFOW one;
    FAILS(WSAEnumProtocolsW(NULL, &one, &len), SOCKET_ERROR, WSAENOBUFS);
    CHECK(len == 4 * sizeof(WSAPROTOCOL_INFOW));
}

/* Non-NULL pointers that cannot be used: (void *)1, a PROT_NONE page, and a read-only
 * page where the call writes. Windows reports WSAEFAULT (ERROR_NOACCESS for kernel32
 * calls) instead of crashing. */
#include <sys/mman.h>
static void bad_pointers(SOCKET c, SOCKET s, SOCKET u) {
    char *none = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    char *ro = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(none != MAP_FAILED && ro != MAP_FAILED);
    void *bads[] = {(void *)1, none, ro};
    char buf[64];
    memset(buf, 0, sizeof(buf));
    WSABUF wb = {16, buf};
    DWORD n = 0, flags = 0;
    int len = sizeof(SOCKADDR_IN);
    SOCKADDR_IN a;
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.S_un.S_addr = inet_addr("127.0.0.1");
    WSADATA d;
    for (int i = 0; i < 3; i++) {
        void *b = bads[i];
        int readable = b == ro;
        /* Out-parameters: every bad pointer. */
        FAILS(ioctlsocket(s, FIONBIO, (u_long *)b), SOCKET_ERROR, WSAEFAULT);
        FAILS(ioctlsocket(s, FIONREAD, (u_long *)b), SOCKET_ERROR, WSAEFAULT);
        len = sizeof(int);
        FAILS(getsockopt(s, SOL_SOCKET, SO_KEEPALIVE, (char *)b, &len), SOCKET_ERROR, WSAEFAULT);
        FAILS(getsockopt(s, SOL_SOCKET, SO_KEEPALIVE, buf, (int *)b), SOCKET_ERROR, WSAEFAULT);
        len = sizeof(SOCKADDR_IN);
        FAILS(getsockname(s, (SOCKADDR *)b, &len), SOCKET_ERROR, WSAEFAULT);
        FAILS(getsockname(s, (SOCKADDR *)buf, (int *)b), SOCKET_ERROR, WSAEFAULT);
        FAILS(getpeername(s, (SOCKADDR *)b, &len), SOCKET_ERROR, WSAEFAULT);
        FAILS(recv(s, (char *)b, 16, 0), SOCKET_ERROR, WSAEFAULT);
        len = sizeof(SOCKADDR_IN);
        FAILS(recvfrom(u, buf, 16, 0, (SOCKADDR *)b, &len), SOCKET_ERROR, WSAEFAULT);
        FAILS(WSARecv(s, &wb, 1, &n, (DWORD *)b, NULL, NULL), SOCKET_ERROR, WSAEFAULT);
        FAILS(WSASend(c, &wb, 1, (DWORD *)b, 0, NULL, NULL), SOCKET_ERROR, WSAEFAULT);
        flags = 0;
        FAILS(WSARecv(s, &wb, 1, &n, &flags, (WSAOVERLAPPED *)b, NULL), SOCKET_ERROR, WSAEFAULT);
        FAILS(WSAIoctl(s, FIONREAD, NULL, 0, b, 4, &n, NULL, NULL), SOCKET_ERROR, WSAEFAULT);
        FAILS(WSAIoctl(s, FIONREAD, NULL, 0, buf, 4, (DWORD *)b, NULL, NULL), SOCKET_ERROR, WSAEFAULT);
        FAILS(WSAGetOverlappedResult(s, (WSAOVERLAPPED *)b, &n, FALSE, &flags), FALSE, WSAEFAULT);
        FAILS(WSAEnumNetworkEvents(s, NULL, (WSANETWORKEVENTS *)b), SOCKET_ERROR, WSAEFAULT);
        {
            fd_set *fs = (fd_set *)b;
            struct timeval tv = {0, 0};
            FAILS(select(0, fs, NULL, NULL, &tv), SOCKET_ERROR, WSAEFAULT);
        }
        RETURNS(WSAStartup(MAKEWORD(2, 2), (WSADATA *)b), WSAEFAULT);
        {
            HANDLE port = CreateIoCompletionPort(INVALID_HANDLE_VALUE, NULL, 0, 1);
            ULONG_PTR key;
            LPOVERLAPPED po;
            CHECK(PostQueuedCompletionStatus(port, 1, 2, NULL));
            FAILS(GetQueuedCompletionStatus(port, (DWORD *)b, &key, &po, 0), FALSE, ERROR_NOACCESS);
            /* Nothing was dequeued: the packet is still there. */
            RETURNS(GetQueuedCompletionStatus(port, &n, &key, &po, 0), TRUE);
            RETURNS(CloseHandle(port), TRUE);
        }
        if (readable)
            continue;
        /* In-parameters: unreadable ones only. */
        FAILS(setsockopt(s, SOL_SOCKET, SO_KEEPALIVE, (const char *)b, 4), SOCKET_ERROR, WSAEFAULT);
        FAILS(connect(u, (SOCKADDR *)b, sizeof(SOCKADDR_IN)), SOCKET_ERROR, WSAEFAULT);
        FAILS(send(c, (const char *)b, 16, 0), SOCKET_ERROR, WSAEFAULT);
        FAILS(sendto(u, buf, 4, 0, (SOCKADDR *)b, sizeof(SOCKADDR_IN)), SOCKET_ERROR, WSAEFAULT);
        FAILS(WSASend(c, (WSABUF *)b, 1, &n, 0, NULL, NULL), SOCKET_ERROR, WSAEFAULT);
        FAILS(WSAIoctl(s, FIONBIO, b, 4, NULL, 0, &n, NULL, NULL), SOCKET_ERROR, WSAEFAULT);
    }
    /* The socket still works. */
    RETURNS(send(c, "p", 1, 0), 1);
    RETURNS(recv(s, buf, 1, 0), 1);
    (void)d;
    munmap(none, 4096);
    munmap(ro, 4096);
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);

    /* ---- Before WSAStartup. ---- */
    without_startup();
    not_initialised(0x100, 0);
    not_initialised(INVALID_SOCKET, 0);
    RETURNS(WSAStartup(MAKEWORD(2, 2), NULL), WSAEFAULT);
    WSADATA d;
    RETURNS(WSAStartup(MAKEWORD(0, 0), &d), WSAVERNOTSUPPORTED);
    FAILS(socket(AF_INET, SOCK_STREAM, 0), INVALID_SOCKET, WSANOTINITIALISED); /* still not started */

    startup();
    names_after_startup();
    SOCKADDR_IN la, ua, sink_a;
    SOCKET l = listener(&la);
    SOCKET c, s;
    tcp_pair(&c, &s);
    SOCKET u = udp_bound(&ua);
    SOCKET sink = udp_bound(&sink_a);
    HANDLE ev = WSACreateEvent();
    bad_pointers(c, s, u);
    process_and_modules(s, ev);
    CHECK(ev != NULL);
    {
        SOCKET pc, ps;
        tcp_pair(&pc, &ps);
        ports_and_threads(ps, pc, ev);
        RETURNS(closesocket(pc), 0);
        RETURNS(closesocket(ps), 0);
    }
    pConnectEx = (LPFN_CONNECTEX)extension(c, (GUID)WSAID_CONNECTEX);
    pDisconnectEx = (LPFN_DISCONNECTEX)extension(c, (GUID)WSAID_DISCONNECTEX);
    pWSARecvMsg = (LPFN_WSARECVMSG)extension(u, (GUID)WSAID_WSARECVMSG);
    pWSASendMsg = (LPFN_WSASENDMSG)extension(u, (GUID)WSAID_WSASENDMSG);
    pTransmitPackets = (LPFN_TRANSMITPACKETS_)extension(c, (GUID)WSAID_TRANSMITPACKETS);
    char buf[256];
    memset(buf, 'x', sizeof(buf));
    WSABUF wb = {16, buf};
    DWORD n = 0, flags = 0;
    int len;
    WSAOVERLAPPED ov;
    memset(&ov, 0, sizeof(ov));
    ov.hEvent = ev;

    /* ---- NULL for every pointer parameter (valid handles). ---- */
    const int EF = WSAEFAULT;
    SOCKET fresh = socket(AF_INET, SOCK_STREAM, 0);
    CHECK(fresh != INVALID_SOCKET);
    FAILS(bind(fresh, NULL, sizeof(SOCKADDR_IN)), SOCKET_ERROR, EF);
    FAILS(bind(fresh, NULL, 0), SOCKET_ERROR, EF);
    FAILS(connect(fresh, NULL, sizeof(SOCKADDR_IN)), SOCKET_ERROR, EF);
    len = sizeof(SOCKADDR_IN);
    /* accept(l, buf, NULL): Windows ignores the buffer and accepts (Wine's test_accept;
     * socket_state.c checks it), so it would block here. */
    FAILS(setsockopt(s, SOL_SOCKET, SO_KEEPALIVE, NULL, 4), SOCKET_ERROR, EF);
    FAILS(setsockopt(s, SOL_SOCKET, SO_LINGER, NULL, 4), SOCKET_ERROR, EF);
    FAILS(setsockopt(s, IPPROTO_TCP, TCP_NODELAY, NULL, 4), SOCKET_ERROR, EF);
    len = 4;
    FAILS(getsockopt(s, SOL_SOCKET, SO_RCVBUF, NULL, &len), SOCKET_ERROR, EF);
    FAILS(getsockopt(s, SOL_SOCKET, SO_RCVBUF, buf, NULL), SOCKET_ERROR, EF);
    FAILS(getsockopt(s, SOL_SOCKET, SO_LINGER, NULL, NULL), SOCKET_ERROR, EF);
    len = sizeof(SOCKADDR_IN);
    FAILS(getsockname(s, NULL, &len), SOCKET_ERROR, EF);
    FAILS(getsockname(s, (SOCKADDR *)buf, NULL), SOCKET_ERROR, EF);
    FAILS(getpeername(s, NULL, &len), SOCKET_ERROR, EF);
    FAILS(getpeername(s, (SOCKADDR *)buf, NULL), SOCKET_ERROR, EF);
    FAILS(ioctlsocket(s, FIONBIO, NULL), SOCKET_ERROR, EF);
    FAILS(ioctlsocket(s, FIONREAD, NULL), SOCKET_ERROR, EF);
    FAILS(ioctlsocket(s, SIOCATMARK, NULL), SOCKET_ERROR, EF);
    FAILS(send(c, NULL, 4, 0), SOCKET_ERROR, EF);
    RETURNS(send(c, NULL, 0, 0), 0); /* nothing to read: NULL is fine */
    FAILS(recv(s, NULL, 4, 0), SOCKET_ERROR, EF);
    FAILS(sendto(u, NULL, 4, 0, (SOCKADDR *)&sink_a, sizeof(sink_a)), SOCKET_ERROR, EF);
    FAILS(sendto(u, buf, 4, 0, (SOCKADDR *)&sink_a, 0), SOCKET_ERROR, EF);
    FAILS(recvfrom(u, NULL, 4, 0, NULL, NULL), SOCKET_ERROR, EF);
    FAILS(recvfrom(u, buf, 4, 0, (SOCKADDR *)buf, NULL), SOCKET_ERROR, EF);
    FAILS(select(0, NULL, NULL, NULL, NULL), SOCKET_ERROR, WSAEINVAL);
    fd_set empty;
    FD_ZERO(&empty);
    FAILS(select(0, &empty, &empty, &empty, NULL), SOCKET_ERROR, WSAEINVAL);
    RETURNS(__WSAFDIsSet(s, NULL), 0);
    FAILS(WSAPoll(NULL, 0, 0), SOCKET_ERROR, WSAEINVAL); /* WT */
    FAILS(WSAPoll(NULL, 1, 0), SOCKET_ERROR, EF);        /* WT */
    FAILS(WSAPoll(NULL, 0, 1), SOCKET_ERROR, WSAEINVAL); /* WT */
    FAILS(WSAPoll(NULL, 0x80000000u, 1), SOCKET_ERROR, EF);
    FAILS(WSASend(c, NULL, 1, &n, 0, NULL, NULL), SOCKET_ERROR, EF);
    FAILS(WSASend(c, NULL, 1, NULL, 0, &ov, NULL), SOCKET_ERROR, EF);
    FAILS(WSASend(c, &wb, 1, NULL, 0, NULL, NULL), SOCKET_ERROR, EF); /* non-overlapped: count required (WT) */
    FAILS(WSARecv(s, NULL, 1, &n, &flags, &ov, NULL), SOCKET_ERROR, EF);
    FAILS(WSARecv(s, &wb, 1, &n, NULL, &ov, NULL), SOCKET_ERROR, EF);
    FAILS(WSARecv(s, &wb, 1, NULL, &flags, NULL, NULL), SOCKET_ERROR, EF);
    FAILS(WSASendTo(u, NULL, 1, &n, 0, (SOCKADDR *)&sink_a, sizeof(sink_a), NULL, NULL), SOCKET_ERROR, EF);
    FAILS(WSASendTo(u, &wb, 1, NULL, 0, (SOCKADDR *)&sink_a, sizeof(sink_a), NULL, NULL), SOCKET_ERROR, EF);
    FAILS(WSARecvFrom(u, NULL, 1, &n, &flags, NULL, NULL, &ov, NULL), SOCKET_ERROR, EF);
    FAILS(WSARecvFrom(u, &wb, 1, &n, NULL, NULL, NULL, &ov, NULL), SOCKET_ERROR, EF);
    FAILS(WSARecvFrom(u, &wb, 1, &n, &flags, (SOCKADDR *)buf, NULL, &ov, NULL), SOCKET_ERROR, EF);
    FAILS(WSARecvFrom(u, &wb, 1, NULL, &flags, NULL, NULL, NULL, NULL), SOCKET_ERROR, EF);
    u_long arg = 0;
    FAILS(WSAIoctl(s, FIONBIO, NULL, 4, NULL, 0, &n, NULL, NULL), SOCKET_ERROR, EF);
    FAILS(WSAIoctl(s, FIONREAD, NULL, 0, NULL, 4, &n, NULL, NULL), SOCKET_ERROR, EF);
    FAILS(WSAIoctl(s, FIONREAD, NULL, 0, &arg, sizeof(arg), NULL, &ov, NULL), SOCKET_ERROR, EF);
    GUID gx = WSAID_ACCEPTEX;
    void *fn = NULL;
    FAILS(WSAIoctl(s, SIO_GET_EXTENSION_FUNCTION_POINTER, NULL, sizeof(gx), &fn, sizeof(fn), &n, NULL, NULL),
          SOCKET_ERROR, EF);
    FAILS(WSAIoctl(s, SIO_GET_EXTENSION_FUNCTION_POINTER, &gx, sizeof(gx), NULL, sizeof(fn), &n, NULL, NULL),
          SOCKET_ERROR, EF);
    FAILS(WSAIoctl(s, SIO_KEEPALIVE_VALS, NULL, 12, NULL, 0, &n, NULL, NULL), SOCKET_ERROR, EF);
    FAILS(WSAGetOverlappedResult(s, NULL, &n, FALSE, &flags), FALSE, EF);
    FAILS(WSAGetOverlappedResult(s, NULL, NULL, TRUE, NULL), FALSE, EF);
    FAILS(WSAWaitForMultipleEvents(1, NULL, FALSE, 0, FALSE), WSA_WAIT_FAILED, WSA_INVALID_PARAMETER);
    FAILS(WaitForMultipleObjects(2, NULL, TRUE, 0), WAIT_FAILED, ERROR_INVALID_PARAMETER);
    FAILS(WaitForMultipleObjectsEx(1, NULL, FALSE, 0, TRUE), WAIT_FAILED, ERROR_INVALID_PARAMETER);
    FAILS(WSAEnumNetworkEvents(s, NULL, NULL), SOCKET_ERROR, EF);
    FAILS(WSAEnumNetworkEvents(s, ev, NULL), SOCKET_ERROR, EF);
    RETURNS(WSAEventSelect(s, NULL, 0), 0); /* NULL event with no events: cancels, no error */
    FAILS(inet_pton(AF_INET, NULL, buf), -1, EF);
    FAILS(inet_pton(AF_INET, "1.2.3.4", NULL), -1, EF);
    FAILS(inet_pton(AF_INET6, NULL, NULL), -1, EF);
    struct in_addr ia;
    ia.S_un.S_addr = htonl(0x01020304);
    FAILS(inet_ntop(AF_INET, &ia, NULL, 16), NULL, ERROR_INVALID_PARAMETER); /* MS reference */
    FAILS(inet_ntop(AF_INET, NULL, buf, 16), NULL, EF);                      /* undefined on Windows */
    FAILS(gethostname(NULL, 256), SOCKET_ERROR, EF);
    {
        /* gethostbyname(NULL) is the local host (MS reference), never a fault. */
        WSASetLastError(0);
        struct hostent *h = gethostbyname(NULL);
        n_calls++;
        if (h) {
            CHECK(h->h_name != NULL);
            CHECK_EQ(h->h_addrtype, AF_INET);
        } else {
            CHECK(WSAGetLastError() != WSAEFAULT && WSAGetLastError() != 0);
        }
    }
    struct addrinfo *ai = (struct addrinfo *)(UINT_PTR)1;
    FAILS(getaddrinfo(NULL, NULL, NULL, &ai), WSAHOST_NOT_FOUND, WSAHOST_NOT_FOUND);
    FAILS(getaddrinfo("127.0.0.1", "80", NULL, NULL), EF, EF);
    SURVIVES(freeaddrinfo(NULL));
    SURVIVES(GetSystemInfo(NULL));
    SOCKET acc = socket(AF_INET, SOCK_STREAM, 0);
    CHECK(acc != INVALID_SOCKET);
    FAILS(AcceptEx(l, acc, NULL, 0, 32, 32, &n, &ov), FALSE, EF);
    FAILS(AcceptEx(l, acc, buf, 0, 32, 32, &n, NULL), FALSE, WSA_INVALID_PARAMETER); /* WT */
    SURVIVES(GetAcceptExSockaddrs(NULL, 0, 32, 32, NULL, NULL, NULL, NULL));
    {
        char zero[64] = {0};
        struct sockaddr *lp = (struct sockaddr *)(UINT_PTR)1, *rp = (struct sockaddr *)(UINT_PTR)1;
        int ll = -5, rl = -5;
        SURVIVES(GetAcceptExSockaddrs(zero, 0, 32, 32, NULL, NULL, NULL, NULL));
        SURVIVES(GetAcceptExSockaddrs(zero, 0, 32, 32, &lp, &ll, &rp, &rl));
        CHECK(lp == (struct sockaddr *)(UINT_PTR)1 && ll == -5); /* no address: untouched */
        SURVIVES(GetAcceptExSockaddrs(zero, 0, 0, 0, &lp, &ll, &rp, &rl));
        SURVIVES(GetAcceptExSockaddrs(zero, 8, 3, 2, &lp, &ll, &rp, &rl));
    }
    SOCKET cx = socket(AF_INET, SOCK_STREAM, 0);
    SOCKADDR_IN any = loopback(0);
    CHECK_EQ(bind(cx, (SOCKADDR *)&any, sizeof(any)), 0);
    FAILS(pConnectEx(cx, NULL, sizeof(la), NULL, 0, &n, &ov), FALSE, EF);
    FAILS(pConnectEx(cx, (SOCKADDR *)&la, sizeof(la), NULL, 0, &n, NULL), FALSE, WSA_INVALID_PARAMETER); /* WT */
    FAILS(pConnectEx(cx, (SOCKADDR *)&la, sizeof(la), NULL, 4, &n, &ov), FALSE, EF);
    FAILS(pWSARecvMsg(u, NULL, &n, &ov, NULL), SOCKET_ERROR, EF);
    FAILS(pWSASendMsg(u, NULL, 0, &n, NULL, NULL), SOCKET_ERROR, EF);
    {
        WSAMSG m;
        memset(&m, 0, sizeof(m));
        m.name = (LPSOCKADDR)&sink_a;
        m.namelen = sizeof(sink_a);
        m.dwBufferCount = 1; /* lpBuffers NULL */
        FAILS(pWSASendMsg(u, &m, 0, &n, NULL, NULL), SOCKET_ERROR, EF);
        FAILS(pWSARecvMsg(u, &m, &n, &ov, NULL), SOCKET_ERROR, EF);
        m.lpBuffers = &wb;
        m.dwBufferCount = 0;
        FAILS(pWSASendMsg(u, &m, 0, &n, NULL, NULL), SOCKET_ERROR, WSAEINVAL);
        m.dwBufferCount = 0x80000000u;
        FAILS(pWSASendMsg(u, &m, 0, &n, NULL, NULL), SOCKET_ERROR, WSAENOBUFS);
        FAILS(pWSARecvMsg(u, &m, &n, &ov, NULL), SOCKET_ERROR, WSAENOBUFS);
        m.dwBufferCount = 1;
        m.namelen = 4; /* too small for the sender */
        FAILS(pWSARecvMsg(u, &m, &n, &ov, NULL), SOCKET_ERROR, EF);
    }
    FAILS(pTransmitPackets(c, NULL, 0, 0, NULL, 0), FALSE, WSAEOPNOTSUPP);
    {
        TRANSMIT_FILE_BUFFERS tfb = {NULL, 5, NULL, 0};
        FAILS(TransmitFile(c, NULL, 0, 0, NULL, &tfb, 0), FALSE, EF);
        TRANSMIT_FILE_BUFFERS tail = {buf, 0, NULL, 7};
        FAILS(TransmitFile(c, NULL, 0, 0, NULL, &tail, 0), FALSE, EF);
        FAILS(TransmitFile(c, (HANDLE)(UINT_PTR)0x104, 0, 0, NULL, NULL, 0), FALSE, WSAEOPNOTSUPP);
        RETURNS(TransmitFile(c, NULL, 0, 0, NULL, NULL, 0), TRUE); /* nothing to send */
    }
    FAILS(GetOverlappedResult((HANDLE)s, NULL, &n, FALSE), FALSE, ERROR_INVALID_PARAMETER);
    FAILS(CancelIoEx((HANDLE)s, NULL), FALSE, ERROR_NOT_FOUND); /* nothing pending */
    FAILS(CancelIoEx((HANDLE)s, &ov), FALSE, ERROR_NOT_FOUND);
    RETURNS(CancelIo((HANDLE)s), TRUE);
    {
        HANDLE e2 = CreateEventA(NULL, TRUE, FALSE, NULL);
        HANDLE e3 = CreateEventW(NULL, FALSE, TRUE, NULL);
        CHECK(e2 != NULL && e3 != NULL);
        RETURNS(WaitForSingleObject(e3, 0), WAIT_OBJECT_0);
        RETURNS(WaitForSingleObject(e3, 0), WAIT_TIMEOUT); /* auto-reset */
        RETURNS(CloseHandle(e2), TRUE);
        RETURNS(CloseHandle(e3), TRUE);
    }
    CHECK_EQ(closesocket(fresh), 0);

    /* ---- Lengths: zero, negative, INT_MIN, too small, larger than the buffer. ---- */
    {
        SOCKADDR_IN to = sink_a;
        const int bad_lens[] = {0, -1, INT_MIN, 1, 8, (int)sizeof(SOCKADDR_IN) - 1};
        for (unsigned i = 0; i < sizeof(bad_lens) / sizeof(bad_lens[0]); i++) {
            int bl = bad_lens[i];
            SOCKET b = socket(AF_INET, SOCK_DGRAM, 0);
            FAILS(bind(b, (SOCKADDR *)&any, bl), SOCKET_ERROR, EF);
            FAILS(connect(b, (SOCKADDR *)&to, bl), SOCKET_ERROR, EF);
            FAILS(sendto(u, buf, 4, 0, (SOCKADDR *)&to, bl), SOCKET_ERROR, EF);
            FAILS(WSASendTo(u, &wb, 1, &n, 0, (SOCKADDR *)&to, bl, NULL, NULL), SOCKET_ERROR, EF);
            FAILS(pConnectEx(cx, (SOCKADDR *)&la, bl, NULL, 0, &n, &ov), FALSE, EF);
            ov.Internal = 0;
            len = bl;
            FAILS(getsockname(u, (SOCKADDR *)buf, &len), SOCKET_ERROR, EF);
            len = bl;
            FAILS(getpeername(s, (SOCKADDR *)buf, &len), SOCKET_ERROR, EF);
            len = bl;
            FAILS(accept(l, (SOCKADDR *)buf, &len), INVALID_SOCKET, EF); /* before blocking */
            len = bl;
            FAILS(recvfrom(u, buf, 16, 0, (SOCKADDR *)buf, &len), SOCKET_ERROR, EF); /* before blocking */
            len = bl;
            FAILS(WSARecvFrom(u, &wb, 1, &n, &flags, (SOCKADDR *)buf, &len, &ov, NULL), SOCKET_ERROR, EF);
            if (bl <= 0) {
                /* Windows: a negative length is WSAENOBUFS for a BOOLEAN option, and reads
                 * as a large unsigned one for SO_LINGER (Wine's test_set_getsockopt). */
                FAILS(setsockopt(s, SOL_SOCKET, SO_KEEPALIVE, buf, bl), SOCKET_ERROR,
                      bl < 0 ? WSAENOBUFS : EF);
                if (bl == 0)
                    FAILS(setsockopt(s, SOL_SOCKET, SO_LINGER, buf, bl), SOCKET_ERROR, EF);
                len = bl;
                FAILS(getsockopt(s, SOL_SOCKET, SO_RCVBUF, buf, &len), SOCKET_ERROR, EF);
                len = bl;
                FAILS(getsockopt(s, SOL_SOCKET, SO_LINGER, buf, &len), SOCKET_ERROR, EF);
                FAILS(gethostname(buf, bl), SOCKET_ERROR, EF);
            }
            if (bl < 0) {
                FAILS(send(c, buf, bl, 0), SOCKET_ERROR, EF);
                FAILS(recv(s, buf, bl, 0), SOCKET_ERROR, EF);
                FAILS(sendto(u, buf, bl, 0, (SOCKADDR *)&to, sizeof(to)), SOCKET_ERROR, EF);
                FAILS(recvfrom(u, buf, bl, 0, NULL, NULL), SOCKET_ERROR, EF);
            }
            CHECK_EQ(closesocket(b), 0);
        }
        FAILS(gethostname(buf, 1), SOCKET_ERROR, EF); /* too short for any name */
        /* Larger than the structure given: Windows reads only the sockaddr (fine). */
        SOCKADDR_IN exact = loopback(0);
        SOCKET b = socket(AF_INET, SOCK_DGRAM, 0);
        RETURNS(bind(b, (SOCKADDR *)&exact, 1000), 0);
        RETURNS(sendto(b, "abcd", 4, 0, (SOCKADDR *)&to, 1000), 4);
        RETURNS(sendto(b, "abcd", 4, 0, (SOCKADDR *)&to, INT_MAX), 4);
        WSABUF one = {4, buf};
        RETURNS(WSASendTo(b, &one, 1, &n, 0, (SOCKADDR *)&to, 1000, NULL, NULL), 0);
        CHECK_EQ(n, 4);
        RETURNS(connect(b, (SOCKADDR *)&to, 1000), 0);
        len = 1000;
        RETURNS(getsockname(b, (SOCKADDR *)buf, &len), 0);
        CHECK_EQ(len, sizeof(SOCKADDR_IN));
        int opt = 1;
        RETURNS(setsockopt(b, SOL_SOCKET, SO_BROADCAST, (char *)&opt, 1000), 0);
        len = 1000;
        RETURNS(getsockopt(b, SOL_SOCKET, SO_BROADCAST, buf, &len), 0);
        CHECK_EQ(len, 4);
        CHECK_EQ(closesocket(b), 0);
        /* The sink got three datagrams of 4 bytes; a big fromlen is fine too. */
        for (int i = 0; i < 3; i++) {
            len = 1000;
            RETURNS(recvfrom(sink, buf, sizeof(buf), 0, (SOCKADDR *)buf + 8, &len), 4);
            CHECK_EQ(len, sizeof(SOCKADDR_IN));
        }
        /* Zero-length transfers. */
        RETURNS(send(c, buf, 0, 0), 0);
        RETURNS(send(c, "wxyz", 4, 0), 4);
        RETURNS(recv(s, buf, 0, 0), 0); /* data queued: returns at once */
        RETURNS(recv(s, buf, sizeof(buf), 0), 4);
        /* lpTo is optional: WSASendTo without it is a WSASend. */
        WSABUF four = {4, buf};
        RETURNS(WSASendTo(c, &four, 1, &n, 0, NULL, 0, NULL, NULL), 0);
        CHECK_EQ(n, 4);
        RETURNS(WSASendTo(c, &four, 1, &n, 0, NULL, -1, NULL, NULL), 0);
        CHECK_EQ(n, 4);
        for (int got = 0; got < 8;) {
            int r = recv(s, buf + 128, 8 - got, 0);
            CHECK(r > 0);
            got += r;
        }
        /* WSAIoctl buffer sizes. */
        u_long on = 0;
        FAILS(WSAIoctl(s, FIONBIO, &on, 0, NULL, 0, &n, NULL, NULL), SOCKET_ERROR, EF);
        FAILS(WSAIoctl(s, FIONBIO, &on, 3, NULL, 0, &n, NULL, NULL), SOCKET_ERROR, EF);
        RETURNS(WSAIoctl(s, FIONBIO, &on, 0xFFFFFFFFu, NULL, 0, &n, NULL, NULL), 0);
        FAILS(WSAIoctl(s, FIONREAD, NULL, 0, &arg, 3, &n, NULL, NULL), SOCKET_ERROR, EF);
        RETURNS(WSAIoctl(s, FIONREAD, NULL, 0, &arg, 0xFFFFFFFFu, &n, NULL, NULL), 0);
        CHECK_EQ(n, 4);
        FAILS(WSAIoctl(s, SIO_GET_EXTENSION_FUNCTION_POINTER, &gx, sizeof(gx) - 1, &fn, sizeof(fn), &n, NULL, NULL),
              SOCKET_ERROR, EF);
        FAILS(WSAIoctl(s, SIO_GET_EXTENSION_FUNCTION_POINTER, &gx, sizeof(gx), &fn, sizeof(fn) - 1, &n, NULL, NULL),
              SOCKET_ERROR, EF);
        GUID unknown = {1, 2, 3, {4, 5, 6, 7, 8, 9, 10, 11}};
        FAILS(WSAIoctl(s, SIO_GET_EXTENSION_FUNCTION_POINTER, &unknown, sizeof(unknown), &fn, sizeof(fn), &n, NULL,
                       NULL),
              SOCKET_ERROR, WSAEINVAL); /* WT */
        FAILS(WSAIoctl(s, SIO_KEEPALIVE_VALS, buf, 11, NULL, 0, &n, NULL, NULL), SOCKET_ERROR, EF);
        /* inet_ntop buffer sizes (MS reference: ERROR_INVALID_PARAMETER). */
        FAILS(inet_ntop(AF_INET, &ia, buf, 0), NULL, ERROR_INVALID_PARAMETER);
        FAILS(inet_ntop(AF_INET, &ia, buf, 7), NULL, ERROR_INVALID_PARAMETER); /* "1.2.3.4" needs 8 */
        RETURNS(inet_ntop(AF_INET, &ia, buf, 8), buf);
        RETURNS(inet_ntop(AF_INET, &ia, buf, SIZE_MAX), buf);
        FAILS(inet_ntop(99, &ia, buf, 64), NULL, WSAEAFNOSUPPORT);
        FAILS(inet_pton(99, "1.2.3.4", buf), -1, WSAEAFNOSUPPORT);
        /* AcceptEx address lengths: remote 0 is WSAEFAULT (WT). */
        FAILS(AcceptEx(l, acc, buf, 0, 32, 0, &n, &ov), FALSE, EF);
        ov.Internal = 0;
        /* A length below the address size + 16 pends (then completes with
         * STATUS_BUFFER_TOO_SMALL once a connection waits); a local length of 0 asks for no
         * local address (WT). Both cancelled here. */
        FAILS(AcceptEx(l, acc, buf, 0, 32, 31, &n, &ov), FALSE, ERROR_IO_PENDING);
        RETURNS(CancelIoEx((HANDLE)l, &ov), TRUE);
        FAILS(WSAGetOverlappedResult(l, &ov, &n, TRUE, &flags), FALSE, WSA_OPERATION_ABORTED);
        FAILS(AcceptEx(l, acc, buf, 0, 0, 32, &n, &ov), FALSE, ERROR_IO_PENDING);
        RETURNS(CancelIoEx((HANDLE)l, &ov), TRUE);
        FAILS(WSAGetOverlappedResult(l, &ov, &n, TRUE, &flags), FALSE, WSA_OPERATION_ABORTED);
        ov.Internal = 0;
    }

    /* ---- WSABUF counts 0, 2^31 and beyond our 1024 limit; NULL buf with a length. ---- */
    {
        WSABUF two[2] = {{4, buf}, {4, NULL}};
        WSABUF nullbuf = {5, NULL};
        WSABUF zero = {0, NULL};
        const DWORD big[] = {0x80000000u, 0xFFFFFFFFu, 1025};
        FAILS(WSASend(c, &wb, 0, &n, 0, NULL, NULL), SOCKET_ERROR, WSAEINVAL);
        FAILS(WSARecv(s, &wb, 0, &n, &flags, &ov, NULL), SOCKET_ERROR, WSAEINVAL); /* WT */
        FAILS(WSARecv(s, NULL, 0, &n, &flags, &ov, NULL), SOCKET_ERROR, WSAEINVAL); /* WT */
        FAILS(WSASendTo(u, &wb, 0, &n, 0, (SOCKADDR *)&sink_a, sizeof(sink_a), NULL, NULL), SOCKET_ERROR, WSAEINVAL);
        FAILS(WSARecvFrom(u, &wb, 0, &n, &flags, NULL, NULL, &ov, NULL), SOCKET_ERROR, WSAEINVAL);
        for (unsigned i = 0; i < 3; i++) {
            FAILS(WSASend(c, &wb, big[i], &n, 0, NULL, NULL), SOCKET_ERROR, WSAENOBUFS);
            FAILS(WSASend(c, &wb, big[i], NULL, 0, &ov, routine), SOCKET_ERROR, WSAENOBUFS);
            FAILS(WSARecv(s, &wb, big[i], &n, &flags, &ov, NULL), SOCKET_ERROR, WSAENOBUFS);
            FAILS(WSASendTo(u, &wb, big[i], &n, 0, (SOCKADDR *)&sink_a, sizeof(sink_a), NULL, NULL), SOCKET_ERROR,
                  WSAENOBUFS);
            FAILS(WSARecvFrom(u, &wb, big[i], &n, &flags, NULL, NULL, &ov, NULL), SOCKET_ERROR, WSAENOBUFS);
        }
        FAILS(WSASend(c, &nullbuf, 1, &n, 0, NULL, NULL), SOCKET_ERROR, EF);
        FAILS(WSASend(c, two, 2, &n, 0, &ov, NULL), SOCKET_ERROR, EF); /* the second: nothing sent */
        FAILS(WSARecv(s, &nullbuf, 1, &n, &flags, &ov, NULL), SOCKET_ERROR, EF);
        FAILS(WSARecv(s, two, 2, &n, &flags, &ov, routine), SOCKET_ERROR, EF);
        FAILS(WSASendTo(u, &nullbuf, 1, &n, 0, (SOCKADDR *)&sink_a, sizeof(sink_a), NULL, NULL), SOCKET_ERROR, EF);
        FAILS(WSARecvFrom(u, &nullbuf, 1, &n, &flags, NULL, NULL, &ov, NULL), SOCKET_ERROR, EF);
        CHECK_EQ(SleepEx(0, TRUE), 0); /* no routine was queued by any failure */
        CHECK_EQ(routine_calls, 0);
        /* A NULL buffer of length 0 is fine: a zero-byte send. */
        RETURNS(WSASend(c, &zero, 1, &n, 0, NULL, NULL), 0);
        CHECK_EQ(n, 0);
        /* Nothing was sent by the failures above: the next byte is the first. */
        RETURNS(send(c, "Q", 1, 0), 1);
        RETURNS(recv(s, buf, sizeof(buf), 0), 1);
        CHECK_EQ(buf[0], 'Q');
    }

    /* ---- More than 64 events, 0 events, a NULL array. ---- */
    {
        HANDLE evs[66];
        for (int i = 0; i < 66; i++) {
            evs[i] = WSACreateEvent();
            CHECK(evs[i] != NULL);
        }
        const DWORD counts[] = {0, 65, 66, 0x80000000u, 0xFFFFFFFFu};
        for (unsigned i = 0; i < sizeof(counts) / sizeof(counts[0]); i++) {
            FAILS(WSAWaitForMultipleEvents(counts[i], evs, FALSE, 0, FALSE), WSA_WAIT_FAILED, WSA_INVALID_PARAMETER);
            FAILS(WSAWaitForMultipleEvents(counts[i], evs, TRUE, 0, TRUE), WSA_WAIT_FAILED, WSA_INVALID_PARAMETER);
            FAILS(WaitForMultipleObjects(counts[i], evs, FALSE, 0), WAIT_FAILED, ERROR_INVALID_PARAMETER);
            FAILS(WaitForMultipleObjectsEx(counts[i], evs, TRUE, 0, FALSE), WAIT_FAILED, ERROR_INVALID_PARAMETER);
            FAILS(WSAWaitForMultipleEvents(counts[i], NULL, FALSE, 0, FALSE), WSA_WAIT_FAILED,
                  WSA_INVALID_PARAMETER);
        }
        RETURNS(WSAWaitForMultipleEvents(64, evs, FALSE, 0, FALSE), WSA_WAIT_TIMEOUT);
        RETURNS(WSASetEvent(evs[63]), TRUE);
        RETURNS(WSAWaitForMultipleEvents(64, evs, FALSE, 0, FALSE), WSA_WAIT_EVENT_0 + 63);
        RETURNS(WaitForMultipleObjects(64, evs, TRUE, 0), WAIT_TIMEOUT);
        /* One bad handle among 64: the whole wait fails. */
        HANDLE keep = evs[10];
        evs[10] = (HANDLE)(UINT_PTR)0x7ffc;
        FAILS(WSAWaitForMultipleEvents(64, evs, FALSE, 0, FALSE), WSA_WAIT_FAILED, WSA_INVALID_HANDLE);
        evs[10] = keep;
        for (int i = 0; i < 66; i++)
            RETURNS(WSACloseEvent(evs[i]), TRUE);
    }

    /* ---- Handles that name nothing, or the wrong kind. ---- */
    {
        const SOCKET bad[] = {0, 1, 0x7fff, 0x7ffc, 0xfffffffcu, INVALID_SOCKET, (SOCKET)ev};
        for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
            not_a_socket(bad[i], l, u);
        /* A closed socket (checked before any other handle is created: values are reused). */
        SOCKET gone = socket(AF_INET, SOCK_STREAM, 0);
        CHECK(gone != INVALID_SOCKET);
        RETURNS(closesocket(gone), 0);
        not_a_socket(gone, l, u);
        FAILS(closesocket(gone), SOCKET_ERROR, WSAENOTSOCK); /* double close */
        FAILS(CloseHandle((HANDLE)gone), FALSE, ERROR_INVALID_HANDLE);
        /* The event survived every closesocket/AcceptEx/... on its value. */
        RETURNS(WSASetEvent(ev), TRUE);
        RETURNS(WaitForSingleObject(ev, 0), WAIT_OBJECT_0);
        RETURNS(WSAResetEvent(ev), TRUE);

        const HANDLE badev[] = {(HANDLE)(UINT_PTR)0x7fff, (HANDLE)(UINT_PTR)0x7ffc, (HANDLE)(UINT_PTR)2,
                                INVALID_HANDLE_VALUE};
        for (unsigned i = 0; i < sizeof(badev) / sizeof(badev[0]); i++)
            not_an_event(badev[i], s, badev[i] != INVALID_HANDLE_VALUE, 1);
        /* NULL: not an event for Set/Reset/Close/Wait (for WSAEventSelect, WSAEnumNetworkEvents
         * and hEvent it is a legal value, covered elsewhere). */
        FAILS(WSASetEvent(NULL), FALSE, WSA_INVALID_HANDLE);
        FAILS(WSAResetEvent(NULL), FALSE, WSA_INVALID_HANDLE);
        FAILS(WSACloseEvent(NULL), FALSE, WSA_INVALID_HANDLE);
        FAILS(CloseHandle(NULL), FALSE, ERROR_INVALID_HANDLE);
        HANDLE nul = NULL;
        FAILS(WSAWaitForMultipleEvents(1, &nul, FALSE, 0, FALSE), WSA_WAIT_FAILED, WSA_INVALID_HANDLE);
        FAILS(WaitForSingleObject(NULL, 0), WAIT_FAILED, ERROR_INVALID_HANDLE);
        /* A socket where an event is expected (waiting on a socket is legal, as on Windows). */
        not_an_event((HANDLE)c, s, 0, 0);
        RETURNS(send(c, "S", 1, 0), 1); /* the socket survived WSACloseEvent((HANDLE)c) */
        RETURNS(recv(s, buf, sizeof(buf), 0), 1);
        /* A closed event, and WSACloseEvent twice. */
        HANDLE dead = WSACreateEvent();
        RETURNS(WSACloseEvent(dead), TRUE);
        FAILS(WSACloseEvent(dead), FALSE, WSA_INVALID_HANDLE);
        not_an_event(dead, s, 1, 1);
        HANDLE dead2 = CreateEventA(NULL, FALSE, FALSE, NULL);
        RETURNS(CloseHandle(dead2), TRUE);
        FAILS(CloseHandle(dead2), FALSE, ERROR_INVALID_HANDLE);
        FAILS(SetEvent(dead2), FALSE, ERROR_INVALID_HANDLE);
    }

    /* ---- A WSAOVERLAPPED reused while its operation is pending: accepted, as Windows
     * does (each request completes on its own and writes the same structure, the last
     * one to complete last); every completion is delivered, and CancelIoEx of the
     * structure reaches every request of that socket naming it. Every overlapped call
     * (WSASend, AcceptEx, ConnectEx, ...) binds its record the same way. ---- */
    {
        char rbuf[16], rbuf2[16];
        memset(rbuf, 0, sizeof(rbuf));
        memset(rbuf2, 0, sizeof(rbuf2));
        WSABUF rwb = {sizeof(rbuf), rbuf}, rwb2 = {sizeof(rbuf2), rbuf2};
        WSAOVERLAPPED ov1;
        memset(&ov1, 0, sizeof(ov1));
        ov1.hEvent = ev;
        flags = 0;
        FAILS(WSARecv(s, &rwb, 1, NULL, &flags, &ov1, NULL), SOCKET_ERROR, WSA_IO_PENDING);
        FAILS(WSARecv(c, &rwb2, 1, NULL, &flags, &ov1, NULL), SOCKET_ERROR, WSA_IO_PENDING);
        CHECK_EQ(ov1.Internal, STATUS_PENDING);
        FAILS(WSAGetOverlappedResult(s, &ov1, &n, FALSE, &flags), FALSE, WSA_IO_INCOMPLETE);
        /* The second request completes first ... */
        RETURNS(send(s, "back", 4, 0), 4);
        RETURNS(WSAGetOverlappedResult(c, &ov1, &n, TRUE, &flags), TRUE);
        CHECK_EQ(n, 4);
        CHECK_EQ(memcmp(rbuf2, "back", 4), 0);
        /* ... then the first, which writes the structure and signals the event again. */
        RETURNS(WSAResetEvent(ev), TRUE);
        RETURNS(send(c, "hello", 5, 0), 5);
        RETURNS(WSAWaitForMultipleEvents(1, &ev, FALSE, 5000, FALSE), WSA_WAIT_EVENT_0);
        RETURNS(WSAGetOverlappedResult(s, &ov1, &n, FALSE, &flags), TRUE);
        CHECK_EQ(n, 5);
        CHECK_EQ(memcmp(rbuf, "hello", 5), 0);

        /* Completion routines: each request's routine runs, with its own count. */
        WSAOVERLAPPED ov2;
        memset(&ov2, 0, sizeof(ov2));
        int calls0 = routine_calls;
        FAILS(WSARecv(s, &rwb, 1, NULL, &flags, &ov2, routine), SOCKET_ERROR, WSA_IO_PENDING);
        FAILS(WSARecv(c, &rwb2, 1, NULL, &flags, &ov2, routine), SOCKET_ERROR, WSA_IO_PENDING);
        RETURNS(send(c, "tail", 4, 0), 4);
        for (int i = 0; i < 500 && routine_calls == calls0; i++)
            SleepEx(10, TRUE);
        CHECK_EQ(routine_calls, calls0 + 1);
        CHECK_EQ(routine_error, 0);
        CHECK_EQ(routine_bytes, 4);
        RETURNS(send(s, "ab", 2, 0), 2);
        for (int i = 0; i < 500 && routine_calls == calls0 + 1; i++)
            SleepEx(10, TRUE);
        CHECK_EQ(routine_calls, calls0 + 2);
        CHECK_EQ(routine_error, 0);
        CHECK_EQ(routine_bytes, 2);
        CHECK_EQ(memcmp(rbuf, "tail", 4), 0);
        CHECK_EQ(memcmp(rbuf2, "ab", 2), 0);

        /* Two receives on one socket naming one structure: CancelIoEx cancels both, so
         * the next data is left for recv. */
        WSAOVERLAPPED ov3;
        memset(&ov3, 0, sizeof(ov3));
        ov3.hEvent = ev;
        FAILS(WSARecv(s, &rwb, 1, NULL, &flags, &ov3, NULL), SOCKET_ERROR, WSA_IO_PENDING);
        FAILS(WSARecv(s, &rwb2, 1, NULL, &flags, &ov3, NULL), SOCKET_ERROR, WSA_IO_PENDING);
        RETURNS(CancelIoEx((HANDLE)s, &ov3), TRUE);
        FAILS(WSAGetOverlappedResult(s, &ov3, &n, TRUE, &flags), FALSE, WSA_OPERATION_ABORTED);
        SleepEx(50, TRUE);
        RETURNS(send(c, "!", 1, 0), 1);
        WSAPOLLFD pf = {s, POLLIN, 0};
        RETURNS(WSAPoll(&pf, 1, 5000), 1);
        RETURNS(recv(s, buf, sizeof(buf), 0), 1);
        CHECK_EQ(buf[0], '!');
        FAILS(CancelIoEx((HANDLE)s, &ov3), FALSE, ERROR_NOT_FOUND);
    }

    /* ---- Double closes. ---- */
    {
        SOCKET t = socket(AF_INET, SOCK_DGRAM, 0);
        RETURNS(closesocket(t), 0);
        FAILS(closesocket(t), SOCKET_ERROR, WSAENOTSOCK);
        SOCKET t2 = socket(AF_INET, SOCK_DGRAM, 0);
        RETURNS(CloseHandle((HANDLE)t2), TRUE);
        FAILS(closesocket(t2), SOCKET_ERROR, WSAENOTSOCK);
        HANDLE e = WSACreateEvent();
        RETURNS(WSACloseEvent(e), TRUE);
        FAILS(WSACloseEvent(e), FALSE, WSA_INVALID_HANDLE);
        FAILS(CloseHandle(e), FALSE, ERROR_INVALID_HANDLE);
        /* DisconnectEx (synchronous) then more of it. */
        SOCKET dc, ds;
        tcp_pair(&dc, &ds);
        RETURNS(pDisconnectEx(dc, NULL, 0, 0), TRUE);
        FAILS(send(dc, "x", 1, 0), SOCKET_ERROR, WSAESHUTDOWN);
        RETURNS(closesocket(dc), 0);
        RETURNS(closesocket(ds), 0);
        FAILS(pDisconnectEx(dc, NULL, 0, 0), FALSE, WSAENOTSOCK);
    }

    /* ---- After the last WSACleanup: WSANOTINITIALISED, for the old handles too. ---- */
    RETURNS(WSAStartup(MAKEWORD(2, 2), &d), 0); /* nested: one cleanup keeps it started */
    RETURNS(WSACleanup(), 0);
    RETURNS(send(c, "k", 1, 0), 1);
    RETURNS(WSACleanup(), 0);
    not_initialised(c, 1);
    not_initialised(l, 1);
    not_initialised(u, 1);
    not_initialised(0x7fff, 1);
    /* Events are kernel32 objects: they outlive WSACleanup. */
    RETURNS(WSASetEvent(ev), TRUE);
    RETURNS(WSACloseEvent(ev), TRUE);
    /* The sockets are gone for good (kernel32 calls say so with their own code). */
    FAILS(CancelIo((HANDLE)c), FALSE, ERROR_INVALID_HANDLE);
    FAILS(CloseHandle((HANDLE)s), FALSE, ERROR_INVALID_HANDLE);
    startup();
    FAILS(send(c, "x", 1, 0), SOCKET_ERROR, WSAENOTSOCK);
    FAILS(closesocket(acc), SOCKET_ERROR, WSAENOTSOCK);
    FAILS(closesocket(cx), SOCKET_ERROR, WSAENOTSOCK);
    FAILS(closesocket(sink), SOCKET_ERROR, WSAENOTSOCK);
    RETURNS(WSACleanup(), 0);
    FAILS(WSACleanup(), SOCKET_ERROR, WSANOTINITIALISED);

    printf("hostile: %d calls checked\n", n_calls);
    printf("ok\n");
    return 0;
}
