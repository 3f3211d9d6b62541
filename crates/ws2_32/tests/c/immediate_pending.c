/* Immediate vs pending: an immediate success returns 0 with the count AND still signals
 * the event / queues the routine; a pending post returns WSA_IO_PENDING, leaves the count
 * and InternalHigh untouched, and Internal = STATUS_PENDING; an immediate failure
 * notifies nothing. */
#include "check.h"

static int calls;
static DWORD routine_err = 99, routine_bytes = 99;
static void CALLBACK routine(DWORD err, DWORD bytes, LPWSAOVERLAPPED ov, DWORD flags) {
    (void)ov;
    (void)flags;
    calls++;
    routine_err = err;
    routine_bytes = bytes;
}

int main(void) {
    startup();
    SOCKET c, s;
    tcp_pair(&c, &s);
    check_small(c);
    char buf[64];
    WSABUF wb = {sizeof(buf), buf};
    DWORD n = 1234, flags = 0;
    WSAEVENT ev = WSACreateEvent();
    CHECK(ev != WSA_INVALID_EVENT);
    CHECK((unsigned long long)(UINT_PTR)ev < 0x100000000ULL);

    /* Immediate success with an event: 0, count written, event signalled. */
    CHECK_EQ(send(c, "hello", 5, 0), 5);
    Sleep(50);
    WSAOVERLAPPED ov;
    memset(&ov, 0, sizeof(ov));
    ov.hEvent = ev;
    CHECK_EQ(WSARecv(s, &wb, 1, &n, &flags, &ov, NULL), 0);
    CHECK_EQ(n, 5);
    CHECK(memcmp(buf, "hello", 5) == 0);
    CHECK_EQ(WSAWaitForMultipleEvents(1, &ev, FALSE, 0, FALSE), WSA_WAIT_EVENT_0);
    CHECK(HasOverlappedIoCompleted(&ov));
    CHECK_EQ(ov.Internal, 0);
    CHECK_EQ(ov.InternalHigh, 5);

    /* Immediate success with a routine: queued, run by the next alertable wait only. */
    CHECK_EQ(send(c, "abc", 3, 0), 3);
    Sleep(50);
    WSAOVERLAPPED ov2;
    memset(&ov2, 0, sizeof(ov2));
    n = 0;
    CHECK_EQ(WSARecv(s, &wb, 1, &n, &flags, &ov2, routine), 0);
    CHECK_EQ(n, 3);
    CHECK_EQ(calls, 0);
    CHECK_EQ(SleepEx(0, TRUE), WAIT_IO_COMPLETION);
    CHECK_EQ(calls, 1);
    CHECK_EQ(routine_err, 0);
    CHECK_EQ(routine_bytes, 3);
    CHECK_EQ(SleepEx(0, TRUE), 0); /* nothing more queued */

    /* Pending: WSA_IO_PENDING; the event (signalled above) is reset by the post. */
    memset(&ov, 0, sizeof(ov));
    ov.hEvent = ev;
    ov.InternalHigh = 0xdeadbeef;
    n = 777;
    CHECK_EQ(WSARecv(s, &wb, 1, &n, &flags, &ov, NULL), SOCKET_ERROR);
    CHECK_EQ(WSAGetLastError(), WSA_IO_PENDING);
    CHECK_EQ(n, 777);
    CHECK_EQ(ov.Internal, STATUS_PENDING);
    CHECK_EQ(ov.InternalHigh, 0xdeadbeef);
    CHECK(!HasOverlappedIoCompleted(&ov));
    CHECK_EQ(WSAWaitForMultipleEvents(1, &ev, FALSE, 100, FALSE), WSA_WAIT_TIMEOUT);
    CHECK_EQ(send(c, "later", 5, 0), 5);
    CHECK_EQ(WSAWaitForMultipleEvents(1, &ev, FALSE, 5000, FALSE), WSA_WAIT_EVENT_0);
    DWORD got = 0, f = 42;
    CHECK(WSAGetOverlappedResult(s, &ov, &got, FALSE, &f));
    CHECK_EQ(got, 5);
    CHECK_EQ(f, 0);
    CHECK_EQ(ov.InternalHigh, 5);
    CHECK(memcmp(buf, "later", 5) == 0);

    /* WSASend completes at once on an idle connection, and signals. */
    WSABUF sb = {4, (CHAR *)"ping"};
    memset(&ov, 0, sizeof(ov));
    ov.hEvent = ev;
    CHECK_EQ(WSASend(s, &sb, 1, &n, 0, &ov, NULL), 0);
    CHECK_EQ(n, 4);
    CHECK_EQ(WaitForSingleObject(ev, 0), WAIT_OBJECT_0);

    /* Immediate failure: no notification at all. */
    SOCKET u = WSASocket(AF_INET, SOCK_STREAM, 0, NULL, 0, WSA_FLAG_OVERLAPPED);
    CHECK(u != INVALID_SOCKET);
    WSAResetEvent(ev);
    memset(&ov, 0, sizeof(ov));
    ov.hEvent = ev;
    CHECK_EQ(WSARecv(u, &wb, 1, &n, &flags, &ov, NULL), SOCKET_ERROR);
    CHECK_EQ(WSAGetLastError(), WSAENOTCONN);
    CHECK_EQ(WSAWaitForMultipleEvents(1, &ev, FALSE, 50, FALSE), WSA_WAIT_TIMEOUT);
    memset(&ov2, 0, sizeof(ov2));
    CHECK_EQ(WSARecv(u, &wb, 1, &n, &flags, &ov2, routine), SOCKET_ERROR);
    CHECK_EQ(WSAGetLastError(), WSAENOTCONN);
    CHECK_EQ(SleepEx(50, TRUE), 0);
    CHECK_EQ(calls, 1);

    /* NULL hEvent: the socket handle itself is signalled. */
    memset(&ov, 0, sizeof(ov));
    CHECK_EQ(WSARecv(s, &wb, 1, &n, &flags, &ov, NULL), SOCKET_ERROR);
    CHECK_EQ(WSAGetLastError(), WSA_IO_PENDING);
    CHECK_EQ(WaitForSingleObject((HANDLE)s, 50), WAIT_TIMEOUT);
    CHECK_EQ(send(c, "x", 1, 0), 1);
    CHECK_EQ(WaitForSingleObject((HANDLE)s, 5000), WAIT_OBJECT_0);
    CHECK(WSAGetOverlappedResult(s, &ov, &got, TRUE, &f));
    CHECK_EQ(got, 1);

    closesocket(u);
    closesocket(c);
    closesocket(s);
    WSACloseEvent(ev);
    CHECK_EQ(WSACleanup(), 0);
    printf("ok\n");
    return 0;
}
