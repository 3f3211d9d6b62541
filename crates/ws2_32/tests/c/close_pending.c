/* closesocket with operations pending: each completes aborted through its own
 * notification (event signalled, routine queued); receives report WSAECONNABORTED
 * (Windows' observed code) or WSA_OPERATION_ABORTED, a pending AcceptEx on a closed
 * listener ERROR_OPERATION_ABORTED. */
#include "check.h"
#include <mswsock.h>

static int calls;
static DWORD routine_err, routine_bytes = 99;
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
    WSAEVENT ev = WSACreateEvent();
    char buf[16];
    WSABUF wb = {sizeof(buf), buf};
    DWORD n, flags = 0, got = 0;

    /* Event mode. */
    WSAOVERLAPPED ov;
    memset(&ov, 0, sizeof(ov));
    ov.hEvent = ev;
    CHECK_EQ(WSARecv(s, &wb, 1, &n, &flags, &ov, NULL), SOCKET_ERROR);
    CHECK_EQ(WSAGetLastError(), WSA_IO_PENDING);
    CHECK_EQ(closesocket(s), 0);
    CHECK_EQ(WSAWaitForMultipleEvents(1, &ev, FALSE, 5000, FALSE), WSA_WAIT_EVENT_0);
    CHECK(HasOverlappedIoCompleted(&ov));
    CHECK_EQ(ov.InternalHigh, 0);
    CHECK(!GetOverlappedResult((HANDLE)s, &ov, &got, FALSE));
    CHECK(GetLastError() == ERROR_CONNECTION_ABORTED || GetLastError() == ERROR_OPERATION_ABORTED);
    /* The socket is gone: WSAGetOverlappedResult on it is WSAENOTSOCK. */
    CHECK(!WSAGetOverlappedResult(s, &ov, &got, FALSE, &flags));
    CHECK_EQ(WSAGetLastError(), WSAENOTSOCK);
    CHECK_EQ(send(s, "x", 1, 0), SOCKET_ERROR);
    CHECK_EQ(WSAGetLastError(), WSAENOTSOCK);
    closesocket(c);

    /* Routine mode: the routine runs with the error at the next alertable wait. */
    tcp_pair(&c, &s);
    memset(&ov, 0, sizeof(ov));
    CHECK_EQ(WSARecv(s, &wb, 1, &n, &flags, &ov, routine), SOCKET_ERROR);
    CHECK_EQ(WSAGetLastError(), WSA_IO_PENDING);
    CHECK_EQ(closesocket(s), 0);
    CHECK_EQ(SleepEx(5000, TRUE), WAIT_IO_COMPLETION);
    CHECK_EQ(calls, 1);
    CHECK(routine_err == WSAECONNABORTED || routine_err == WSA_OPERATION_ABORTED);
    CHECK_EQ(routine_bytes, 0);
    closesocket(c);

    /* A pending AcceptEx when its listener closes. */
    SOCKADDR_IN la;
    SOCKET l = listener(&la);
    SOCKET acceptor = WSASocket(AF_INET, SOCK_STREAM, 0, NULL, 0, WSA_FLAG_OVERLAPPED);
    char out[2 * (sizeof(SOCKADDR_IN) + 16)];
    memset(&ov, 0, sizeof(ov));
    ov.hEvent = ev;
    CHECK(!AcceptEx(l, acceptor, out, 0, sizeof(SOCKADDR_IN) + 16, sizeof(SOCKADDR_IN) + 16, &n, &ov));
    CHECK_EQ(WSAGetLastError(), ERROR_IO_PENDING);
    CHECK_EQ(closesocket(l), 0);
    CHECK_EQ(WaitForSingleObject(ev, 5000), WAIT_OBJECT_0);
    CHECK(!GetOverlappedResult((HANDLE)l, &ov, &got, FALSE));
    CHECK_EQ(GetLastError(), ERROR_OPERATION_ABORTED);
    CHECK_EQ(got, 0);
    closesocket(acceptor);

    /* WSACleanup closes what is left. */
    tcp_pair(&c, &s);
    memset(&ov, 0, sizeof(ov));
    ov.hEvent = ev;
    CHECK_EQ(WSARecv(s, &wb, 1, &n, &flags, &ov, NULL), SOCKET_ERROR);
    CHECK_EQ(WSACleanup(), 0);
    CHECK_EQ(WaitForSingleObject(ev, 5000), WAIT_OBJECT_0);
    CHECK(HasOverlappedIoCompleted(&ov));
    CHECK(ov.Internal != 0);
    WSACloseEvent(ev);
    printf("ok\n");
    return 0;
}
