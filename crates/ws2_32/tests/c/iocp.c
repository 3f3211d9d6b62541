/* Completion ports and threads (winsock-semantics 1.1, 1.2, 1.4, 1.7, 1.10, 1.11):
 * packets for immediate success, none with FILE_SKIP_COMPLETION_PORT_ON_SUCCESS, none for
 * a low-bit hEvent, none for an immediate failure; GetQueuedCompletionStatusEx; hand
 * posts; timeouts; CloseHandle(port) waking a waiter; a routine on an associated socket;
 * AcceptEx to the listener's port and key; failed operations; thread handles and ids. */
#include "check.h"
#include <windows.h>
#include <process.h>

typedef struct {
    int tag;
    OVERLAPPED ov;
    char buf[64];
} IO_DATA;

static LPFN_ACCEPTEX pAcceptEx;

static void send_all(SOCKET s, const char *p, int n) { CHECK_EQ(send(s, p, n, 0), n); }

/* Dequeues one packet within `ms`: returns its result and fills the outputs. */
static BOOL gqcs(HANDLE port, DWORD *bytes, ULONG_PTR *key, OVERLAPPED **ov, DWORD ms) {
    *ov = (OVERLAPPED *)0x1;
    return GetQueuedCompletionStatus(port, bytes, key, ov, ms);
}

static void expect_timeout(HANDLE port) {
    DWORD bytes = 77;
    ULONG_PTR key = 88;
    OVERLAPPED *ov;
    SetLastError(0);
    CHECK_EQ(gqcs(port, &bytes, &key, &ov, 50), FALSE);
    CHECK_EQ(GetLastError(), WAIT_TIMEOUT);
    CHECK(ov == NULL);
    CHECK_EQ(bytes, 77); /* untouched */
    CHECK_EQ(key, 88);
}

static int routine_calls;
static void CALLBACK routine(DWORD err, DWORD n, LPWSAOVERLAPPED ov, DWORD flags) {
    (void)err, (void)n, (void)ov, (void)flags;
    routine_calls++;
}

static void hand_posts(void) {
    HANDLE port = CreateIoCompletionPort(INVALID_HANDLE_VALUE, NULL, 0, 0);
    CHECK(port != NULL);
    expect_timeout(port);
    IO_DATA d;
    CHECK_EQ(PostQueuedCompletionStatus(port, 1234, (ULONG_PTR)0xDEADBEEFCAFEULL, &d.ov), TRUE);
    CHECK_EQ(PostQueuedCompletionStatus(port, 0, 0, NULL), TRUE);
    CHECK_EQ(PostQueuedCompletionStatus(port, 5, 6, (LPOVERLAPPED)(ULONG_PTR)0x1234), TRUE);
    DWORD bytes;
    ULONG_PTR key;
    OVERLAPPED *ov;
    SetLastError(0x7eadbeef);
    CHECK_EQ(gqcs(port, &bytes, &key, &ov, 1000), TRUE);
    CHECK_EQ(GetLastError(), 0x7eadbeef); /* unchanged on success */
    CHECK_EQ(bytes, 1234);
    CHECK(key == (ULONG_PTR)0xDEADBEEFCAFEULL);
    CHECK(ov == &d.ov);
    CHECK(CONTAINING_RECORD(ov, IO_DATA, ov) == &d);
    CHECK_EQ(gqcs(port, &bytes, &key, &ov, 1000), TRUE);
    CHECK(ov == NULL);
    CHECK_EQ(bytes, 0);
    CHECK_EQ(key, 0);
    CHECK_EQ(gqcs(port, &bytes, &key, &ov, 1000), TRUE);
    CHECK(ov == (LPOVERLAPPED)(ULONG_PTR)0x1234); /* never dereferenced */
    CHECK_EQ(bytes, 5);
    CHECK_EQ(key, 6);
    expect_timeout(port);

    /* GetQueuedCompletionStatusEx: FIFO, up to ulCount at once. */
    OVERLAPPED o[5];
    for (int i = 0; i < 5; i++) CHECK_EQ(PostQueuedCompletionStatus(port, i, 100 + i, &o[i]), TRUE);
    OVERLAPPED_ENTRY e[3];
    ULONG n = 99;
    CHECK_EQ(GetQueuedCompletionStatusEx(port, e, 3, &n, 1000, FALSE), TRUE);
    CHECK_EQ(n, 3);
    for (int i = 0; i < 3; i++) {
        CHECK(e[i].lpOverlapped == &o[i]);
        CHECK_EQ(e[i].lpCompletionKey, 100 + i);
        CHECK_EQ(e[i].dwNumberOfBytesTransferred, i);
    }
    CHECK_EQ(GetQueuedCompletionStatusEx(port, e, 3, &n, 1000, FALSE), TRUE);
    CHECK_EQ(n, 2);
    CHECK(e[0].lpOverlapped == &o[3] && e[1].lpOverlapped == &o[4]);
    SetLastError(0);
    CHECK_EQ(GetQueuedCompletionStatusEx(port, e, 3, &n, 30, FALSE), FALSE);
    CHECK_EQ(GetLastError(), WAIT_TIMEOUT);
    CHECK_EQ(n, 0);
    CHECK_EQ(CloseHandle(port), TRUE);
}

static void immediate_and_skip(void) {
    HANDLE port = CreateIoCompletionPort(INVALID_HANDLE_VALUE, NULL, 0, 1);
    CHECK(port != NULL);
    SOCKET c, s;
    tcp_pair(&c, &s);
    CHECK(CreateIoCompletionPort((HANDLE)s, port, 7, 0) == port);
    /* A second association fails, with any port. */
    SetLastError(0);
    CHECK(CreateIoCompletionPort((HANDLE)s, port, 8, 0) == NULL);
    CHECK_EQ(GetLastError(), ERROR_INVALID_PARAMETER);

    /* Immediate success posts a packet. */
    send_all(c, "hello", 5);
    Sleep(50);
    IO_DATA d;
    memset(&d, 0, sizeof(d));
    WSABUF b = {sizeof(d.buf), d.buf};
    DWORD got = 0, flags = 0;
    CHECK_EQ(WSARecv(s, &b, 1, &got, &flags, &d.ov, NULL), 0);
    CHECK_EQ(got, 5);
    DWORD bytes;
    ULONG_PTR key;
    OVERLAPPED *ov;
    CHECK_EQ(gqcs(port, &bytes, &key, &ov, 2000), TRUE);
    CHECK(ov == &d.ov);
    CHECK_EQ(bytes, 5);
    CHECK_EQ(key, 7);
    CHECK(memcmp(d.buf, "hello", 5) == 0);

    /* Pending, then completed: a packet, and Internal/InternalHigh already published. */
    memset(&d.ov, 0, sizeof(d.ov));
    CHECK_EQ(WSARecv(s, &b, 1, &got, &flags, &d.ov, NULL), SOCKET_ERROR);
    CHECK_EQ(WSAGetLastError(), WSA_IO_PENDING);
    send_all(c, "abc", 3);
    CHECK_EQ(gqcs(port, &bytes, &key, &ov, 2000), TRUE);
    CHECK(ov == &d.ov);
    CHECK_EQ(bytes, 3);
    CHECK_EQ(d.ov.Internal, 0);
    CHECK_EQ(d.ov.InternalHigh, 3);

    /* Low-bit hEvent: the event is set, no packet (immediate and pending). */
    WSAEVENT ev = WSACreateEvent();
    send_all(c, "xy", 2);
    Sleep(50);
    memset(&d.ov, 0, sizeof(d.ov));
    d.ov.hEvent = (HANDLE)((ULONG_PTR)ev | 1);
    CHECK_EQ(WSARecv(s, &b, 1, &got, &flags, &d.ov, NULL), 0);
    CHECK_EQ(WaitForSingleObject(ev, 2000), WAIT_OBJECT_0);
    expect_timeout(port);
    WSAResetEvent(ev);
    memset(&d.ov, 0, sizeof(d.ov));
    d.ov.hEvent = (HANDLE)((ULONG_PTR)ev | 1);
    CHECK_EQ(WSARecv(s, &b, 1, &got, &flags, &d.ov, NULL), SOCKET_ERROR);
    CHECK_EQ(WSAGetLastError(), WSA_IO_PENDING);
    send_all(c, "z", 1);
    CHECK_EQ(WaitForSingleObject(ev, 2000), WAIT_OBJECT_0);
    DWORD n2 = 0;
    CHECK_EQ(GetOverlappedResult((HANDLE)s, &d.ov, &n2, FALSE), TRUE);
    CHECK_EQ(n2, 1);
    expect_timeout(port);

    /* A completion routine on an associated socket: WSAEINVAL, never called. */
    memset(&d.ov, 0, sizeof(d.ov));
    CHECK_EQ(WSARecv(s, &b, 1, &got, &flags, &d.ov, routine), SOCKET_ERROR);
    CHECK_EQ(WSAGetLastError(), WSAEINVAL);
    CHECK_EQ(SleepEx(0, TRUE), 0);
    CHECK_EQ(routine_calls, 0);

    /* Immediate failure: no packet. */
    CHECK_EQ(shutdown(s, SD_RECEIVE), 0);
    memset(&d.ov, 0, sizeof(d.ov));
    CHECK_EQ(WSARecv(s, &b, 1, &got, &flags, &d.ov, NULL), SOCKET_ERROR);
    CHECK_EQ(WSAGetLastError(), WSAESHUTDOWN);
    expect_timeout(port);

    /* Synchronous calls on an associated socket post nothing. */
    CHECK_EQ(send(s, "q", 1, 0), 1);
    WSABUF sb = {1, "q"};
    DWORD sent = 0;
    CHECK_EQ(WSASend(s, &sb, 1, &sent, 0, NULL, NULL), 0);
    expect_timeout(port);
    closesocket(c);
    closesocket(s);

    /* FILE_SKIP_COMPLETION_PORT_ON_SUCCESS: no packet for immediate success; pending
     * operations still post. */
    tcp_pair(&c, &s);
    CHECK(CreateIoCompletionPort((HANDLE)s, port, 9, 0) == port);
    CHECK_EQ(SetFileCompletionNotificationModes((HANDLE)s, FILE_SKIP_COMPLETION_PORT_ON_SUCCESS | FILE_SKIP_SET_EVENT_ON_HANDLE), TRUE);
    send_all(c, "hello", 5);
    Sleep(50);
    memset(&d.ov, 0, sizeof(d.ov));
    CHECK_EQ(WSARecv(s, &b, 1, &got, &flags, &d.ov, NULL), 0);
    CHECK_EQ(got, 5);
    expect_timeout(port);
    CHECK_EQ(WaitForSingleObject((HANDLE)s, 0), WAIT_TIMEOUT); /* SKIP_SET_EVENT_ON_HANDLE */
    memset(&d.ov, 0, sizeof(d.ov));
    CHECK_EQ(WSARecv(s, &b, 1, &got, &flags, &d.ov, NULL), SOCKET_ERROR);
    CHECK_EQ(WSAGetLastError(), WSA_IO_PENDING);
    send_all(c, "later", 5);
    CHECK_EQ(gqcs(port, &bytes, &key, &ov, 2000), TRUE);
    CHECK(ov == &d.ov);
    CHECK_EQ(key, 9);
    CHECK_EQ(bytes, 5);

    /* A pending receive failed by a reset: FALSE, ERROR_NETNAME_DELETED, olp and key. */
    memset(&d.ov, 0, sizeof(d.ov));
    CHECK_EQ(WSARecv(s, &b, 1, &got, &flags, &d.ov, NULL), SOCKET_ERROR);
    CHECK_EQ(WSAGetLastError(), WSA_IO_PENDING);
    LINGER lg = {1, 0};
    CHECK_EQ(setsockopt(c, SOL_SOCKET, SO_LINGER, (char *)&lg, sizeof(lg)), 0);
    CHECK_EQ(closesocket(c), 0);
    bytes = 55;
    SetLastError(0);
    CHECK_EQ(gqcs(port, &bytes, &key, &ov, 2000), FALSE);
    CHECK_EQ(GetLastError(), ERROR_NETNAME_DELETED);
    CHECK(ov == &d.ov);
    CHECK_EQ(key, 9);
    CHECK_EQ(bytes, 0);
    closesocket(s);

    /* A pending receive closed by closesocket: FALSE, ERROR_CONNECTION_ABORTED. */
    tcp_pair(&c, &s);
    CHECK(CreateIoCompletionPort((HANDLE)s, port, 10, 0) == port);
    memset(&d.ov, 0, sizeof(d.ov));
    CHECK_EQ(WSARecv(s, &b, 1, &got, &flags, &d.ov, NULL), SOCKET_ERROR);
    CHECK_EQ(WSAGetLastError(), WSA_IO_PENDING);
    CHECK_EQ(closesocket(s), 0);
    SetLastError(0);
    CHECK_EQ(gqcs(port, &bytes, &key, &ov, 2000), FALSE);
    CHECK_EQ(GetLastError(), ERROR_CONNECTION_ABORTED);
    CHECK(ov == &d.ov);
    CHECK_EQ(key, 10);
    closesocket(c);
    WSACloseEvent(ev);
    CHECK_EQ(CloseHandle(port), TRUE);
}

static void acceptex(void) {
    HANDLE port = CreateIoCompletionPort(INVALID_HANDLE_VALUE, NULL, 0, 0);
    SOCKADDR_IN a;
    SOCKET l = listener(&a);
    GUID g = WSAID_ACCEPTEX;
    DWORD n;
    CHECK_EQ(WSAIoctl(l, SIO_GET_EXTENSION_FUNCTION_POINTER, &g, sizeof(g), &pAcceptEx, sizeof(pAcceptEx), &n, NULL, NULL), 0);
    CHECK(CreateIoCompletionPort((HANDLE)l, port, 125, 0) == port);
    SOCKET acc = WSASocket(AF_INET, SOCK_STREAM, 0, NULL, 0, WSA_FLAG_OVERLAPPED);
    CHECK(CreateIoCompletionPort((HANDLE)acc, port, 236, 0) == port);
    char out[2 * (sizeof(SOCKADDR_IN) + 16)];
    IO_DATA d;
    memset(&d, 0, sizeof(d));
    DWORD got = 0;
    CHECK_EQ(pAcceptEx(l, acc, out, 0, sizeof(SOCKADDR_IN) + 16, sizeof(SOCKADDR_IN) + 16, &got, &d.ov), FALSE);
    CHECK_EQ(WSAGetLastError(), ERROR_IO_PENDING);
    SOCKET c = socket(AF_INET, SOCK_STREAM, 0);
    CHECK_EQ(connect(c, (SOCKADDR *)&a, sizeof(a)), 0);
    DWORD bytes;
    ULONG_PTR key;
    OVERLAPPED *ov;
    CHECK_EQ(gqcs(port, &bytes, &key, &ov, 2000), TRUE);
    CHECK(ov == &d.ov);
    CHECK_EQ(key, 125); /* the listener's key */
    CHECK_EQ(bytes, 0);
    closesocket(c);
    closesocket(acc);

    /* closesocket(listener) with AcceptEx pending: ERROR_OPERATION_ABORTED. */
    acc = WSASocket(AF_INET, SOCK_STREAM, 0, NULL, 0, WSA_FLAG_OVERLAPPED);
    memset(&d, 0, sizeof(d));
    CHECK_EQ(pAcceptEx(l, acc, out, 0, sizeof(SOCKADDR_IN) + 16, sizeof(SOCKADDR_IN) + 16, &got, &d.ov), FALSE);
    CHECK_EQ(WSAGetLastError(), ERROR_IO_PENDING);
    CHECK_EQ(closesocket(l), 0);
    SetLastError(0);
    CHECK_EQ(gqcs(port, &bytes, &key, &ov, 2000), FALSE);
    CHECK_EQ(GetLastError(), ERROR_OPERATION_ABORTED);
    CHECK(ov == &d.ov);
    CHECK_EQ(key, 125);
    closesocket(acc);
    CHECK_EQ(CloseHandle(port), TRUE);
}

static HANDLE shared_port;
static DWORD ids[4];

static DWORD WINAPI waiter(LPVOID arg) {
    (void)arg;
    DWORD bytes = 1;
    ULONG_PTR key = 2;
    OVERLAPPED *ov = (OVERLAPPED *)0x1;
    BOOL r = GetQueuedCompletionStatus(shared_port, &bytes, &key, &ov, 10000);
    if (r != FALSE || ov != NULL || GetLastError() != ERROR_ABANDONED_WAIT_0) return 1;
    return 42;
}

static DWORD WINAPI id_thread(LPVOID arg) {
    ids[(ULONG_PTR)arg] = GetCurrentThreadId();
    Sleep(20);
    return (DWORD)(ULONG_PTR)arg + 10;
}

static DWORD WINAPI exiting(LPVOID arg) {
    (void)arg;
    ExitThread(7);
}

static unsigned __stdcall crt_thread(void *arg) { return *(unsigned *)arg * 2; }

/* Posts a receive on an associated socket and exits: the receive is not cancelled. */
static SOCKET assoc_sock, plain_sock;
static IO_DATA exit_io, exit_io2, exit_io3;
static DWORD WINAPI post_and_exit(LPVOID arg) {
    (void)arg;
    WSABUF b = {sizeof(exit_io.buf), exit_io.buf};
    DWORD got, flags = 0;
    if (WSARecv(assoc_sock, &b, 1, &got, &flags, &exit_io.ov, NULL) != SOCKET_ERROR || WSAGetLastError() != WSA_IO_PENDING) return 1;
    WSABUF b2 = {sizeof(exit_io2.buf), exit_io2.buf};
    if (WSARecv(plain_sock, &b2, 1, &got, &flags, &exit_io2.ov, routine) != SOCKET_ERROR || WSAGetLastError() != WSA_IO_PENDING) return 2;
    /* An event-mode receive (exit_io3.ov.hEvent set by the caller), queued behind it. */
    WSABUF b3 = {sizeof(exit_io3.buf), exit_io3.buf};
    if (WSARecv(plain_sock, &b3, 1, &got, &flags, &exit_io3.ov, NULL) != SOCKET_ERROR || WSAGetLastError() != WSA_IO_PENDING) return 3;
    return 0;
}

static void threads(void) {
    /* CloseHandle(port) wakes a waiting thread with ERROR_ABANDONED_WAIT_0. */
    shared_port = CreateIoCompletionPort(INVALID_HANDLE_VALUE, NULL, 0, 0);
    DWORD tid = 0;
    HANDLE t = CreateThread(NULL, 0, waiter, NULL, 0, &tid);
    CHECK(t != NULL);
    CHECK(tid != 0);
    DWORD code = 0;
    CHECK_EQ(GetExitCodeThread(t, &code), TRUE);
    CHECK_EQ(code, STILL_ACTIVE);
    CHECK_EQ(WaitForSingleObject(t, 100), WAIT_TIMEOUT);
    CHECK_EQ(CloseHandle(shared_port), TRUE);
    CHECK_EQ(WaitForSingleObject(t, 5000), WAIT_OBJECT_0);
    CHECK_EQ(WaitForSingleObject(t, 0), WAIT_OBJECT_0); /* stays signalled */
    CHECK_EQ(GetExitCodeThread(t, &code), TRUE);
    CHECK_EQ(code, 42);
    CHECK_EQ(CloseHandle(t), TRUE);

    /* Distinct ids; WaitForMultipleObjects(bWaitAll) on thread handles. */
    HANDLE hs[4];
    DWORD given[4];
    for (int i = 0; i < 4; i++) {
        hs[i] = CreateThread(NULL, 64 * 1024, id_thread, (LPVOID)(ULONG_PTR)i, 0, &given[i]);
        CHECK(hs[i] != NULL);
    }
    CHECK_EQ(WaitForMultipleObjects(4, hs, TRUE, 5000), WAIT_OBJECT_0);
    DWORD me = GetCurrentThreadId();
    CHECK(me != 0);
    CHECK_EQ(GetCurrentThreadId(), me);
    for (int i = 0; i < 4; i++) {
        CHECK_EQ(ids[i], given[i]);
        CHECK(ids[i] != me && ids[i] != 0);
        for (int j = 0; j < i; j++) CHECK(ids[i] != ids[j]);
        CHECK_EQ(GetExitCodeThread(hs[i], &code), TRUE);
        CHECK_EQ(code, (DWORD)i + 10);
        CHECK_EQ(CloseHandle(hs[i]), TRUE);
    }

    /* ExitThread; CREATE_SUSPENDED + ResumeThread; _beginthreadex. */
    t = CreateThread(NULL, 0, exiting, NULL, CREATE_SUSPENDED, NULL);
    CHECK(t != NULL);
    CHECK_EQ(WaitForSingleObject(t, 100), WAIT_TIMEOUT);
    CHECK_EQ(ResumeThread(t), 1);
    CHECK_EQ(WaitForSingleObject(t, 5000), WAIT_OBJECT_0);
    CHECK_EQ(GetExitCodeThread(t, &code), TRUE);
    CHECK_EQ(code, 7);
    CHECK_EQ(ResumeThread(t), 0);
    CHECK_EQ(CloseHandle(t), TRUE);
    unsigned arg = 21, ctid = 0;
    HANDLE ct = (HANDLE)_beginthreadex(NULL, 0, crt_thread, &arg, 0, &ctid);
    CHECK(ct != NULL);
    CHECK(ctid != 0);
    CHECK_EQ(WaitForSingleObject(ct, 5000), WAIT_OBJECT_0);
    CHECK_EQ(GetExitCodeThread(ct, &code), TRUE);
    CHECK_EQ(code, 42);
    CHECK_EQ(CloseHandle(ct), TRUE);

    /* Thread exit: a receive on an associated socket survives it; one with a
     * completion routine on a plain socket is cancelled (its routine never runs). */
    HANDLE port = CreateIoCompletionPort(INVALID_HANDLE_VALUE, NULL, 0, 0);
    SOCKET c, c2;
    tcp_pair(&c, &assoc_sock);
    tcp_pair(&c2, &plain_sock);
    CHECK(CreateIoCompletionPort((HANDLE)assoc_sock, port, 3, 0) == port);
    WSAEVENT exit_ev = WSACreateEvent();
    exit_io3.ov.hEvent = exit_ev;
    t = CreateThread(NULL, 0, post_and_exit, NULL, 0, NULL);
    CHECK_EQ(WaitForSingleObject(t, 5000), WAIT_OBJECT_0);
    CHECK_EQ(GetExitCodeThread(t, &code), TRUE);
    CHECK_EQ(code, 0);
    CHECK_EQ(CloseHandle(t), TRUE);
    for (int i = 0; i < 200 && !HasOverlappedIoCompleted(&exit_io2.ov); i++) Sleep(10);
    CHECK_EQ(exit_io2.ov.Internal, 0xC0000120); /* STATUS_CANCELLED */
    /* The event-mode receive is cancelled too: its event is set, and its result is
     * WSA_OPERATION_ABORTED. */
    CHECK_EQ(WSAWaitForMultipleEvents(1, &exit_ev, FALSE, 2000, FALSE), WSA_WAIT_EVENT_0);
    DWORD xfer = 99, xflags = 0;
    CHECK_EQ(WSAGetOverlappedResult(plain_sock, &exit_io3.ov, &xfer, FALSE, &xflags), FALSE);
    CHECK_EQ(WSAGetLastError(), WSA_OPERATION_ABORTED);
    CHECK_EQ(xfer, 99); /* a failure leaves *lpcbTransfer alone (semantics 1.6) */
    WSACloseEvent(exit_ev);
    CHECK(!HasOverlappedIoCompleted(&exit_io.ov));
    send_all(c, "alive", 5);
    DWORD bytes;
    ULONG_PTR key;
    OVERLAPPED *ov;
    CHECK_EQ(gqcs(port, &bytes, &key, &ov, 2000), TRUE);
    CHECK(ov == &exit_io.ov);
    CHECK_EQ(bytes, 5);
    CHECK_EQ(key, 3);
    CHECK_EQ(SleepEx(0, TRUE), 0);
    CHECK_EQ(routine_calls, 0);
    closesocket(c);
    closesocket(c2);
    closesocket(assoc_sock);
    closesocket(plain_sock);

    /* GetQueuedCompletionStatusEx(fAlertable): WAIT_IO_COMPLETION when routines ran. */
    tcp_pair(&c, &plain_sock);
    IO_DATA d;
    memset(&d, 0, sizeof(d));
    WSABUF b = {sizeof(d.buf), d.buf};
    DWORD got, flags = 0;
    CHECK_EQ(WSARecv(plain_sock, &b, 1, &got, &flags, &d.ov, routine), SOCKET_ERROR);
    send_all(c, "r", 1);
    OVERLAPPED_ENTRY e[2];
    ULONG n = 5;
    SetLastError(0);
    CHECK_EQ(GetQueuedCompletionStatusEx(port, e, 2, &n, 5000, TRUE), FALSE);
    CHECK_EQ(GetLastError(), WAIT_IO_COMPLETION);
    CHECK_EQ(n, 0);
    CHECK_EQ(routine_calls, 1);
    closesocket(c);
    closesocket(plain_sock);
    CHECK_EQ(CloseHandle(port), TRUE);
}

int main(void) {
    startup();
    hand_posts();
    immediate_and_skip();
    acceptex();
    threads();
    WSACleanup();
    printf("ok\n");
    return 0;
}
