/* A WSAOVERLAPPED reused while its first request is pending, as Wine's test_WSARecv does
 * on Windows: the second WSARecv is accepted (WSA_IO_PENDING), both requests complete
 * (here with the peer's reset), the event is signalled and the structure reports it. */
#include "check.h"

int main(void) {
    startup();
    SOCKET c, s;
    tcp_pair(&c, &s);
    char buf[64];
    WSABUF wb = {sizeof(buf), buf};
    DWORD flags = 0, n = 0;
    WSAOVERLAPPED ov;
    memset(&ov, 0, sizeof(ov));
    ov.hEvent = WSACreateEvent();
    CHECK_EQ(WSARecv(s, &wb, 1, NULL, &flags, &ov, NULL), SOCKET_ERROR);
    CHECK_EQ(WSAGetLastError(), WSA_IO_PENDING);
    CHECK_EQ(WSARecv(s, &wb, 1, &n, &flags, &ov, NULL), SOCKET_ERROR);
    CHECK_EQ(WSAGetLastError(), WSA_IO_PENDING);
    struct linger lg = {1, 0};
    CHECK_EQ(setsockopt(c, SOL_SOCKET, SO_LINGER, (char *)&lg, sizeof(lg)), 0);
    CHECK_EQ(closesocket(c), 0); /* a reset */
    CHECK_EQ(WSAWaitForMultipleEvents(1, &ov.hEvent, FALSE, 5000, FALSE), WSA_WAIT_EVENT_0);
    CHECK_EQ(WSAGetOverlappedResult(s, &ov, &n, TRUE, &flags), FALSE);
    CHECK_EQ(WSAGetLastError(), WSAECONNRESET);
    CHECK_EQ(n, 0);
    /* Both requests are finished: nothing is left to cancel. */
    CHECK_EQ(CancelIoEx((HANDLE)s, &ov), FALSE);
    CHECK_EQ(closesocket(s), 0);
    WSACloseEvent(ov.hEvent);
    CHECK_EQ(WSACleanup(), 0);
    printf("ok\n");
    return 0;
}
