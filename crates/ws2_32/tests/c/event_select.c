/* The event-select model: WSAEventSelect makes the socket non-blocking and signals its
 * event on FD_READ / FD_CLOSE / FD_CONNECT / FD_WRITE; WSAEnumNetworkEvents reports and
 * clears them (with per-event error codes) and resets the event. */
#include "check.h"

int main(void) {
    startup();
    SOCKET c, s;
    tcp_pair(&c, &s);
    WSAEVENT ev = WSACreateEvent();
    WSANETWORKEVENTS ne;
    char buf[32];

    CHECK_EQ(WSAEventSelect(s, ev, FD_READ | FD_CLOSE), 0);
    CHECK_EQ(recv(s, buf, sizeof(buf), 0), SOCKET_ERROR);
    CHECK_EQ(WSAGetLastError(), WSAEWOULDBLOCK);
    CHECK_EQ(WSAWaitForMultipleEvents(1, &ev, FALSE, 100, FALSE), WSA_WAIT_TIMEOUT);
    CHECK_EQ(send(c, "data", 4, 0), 4);
    CHECK_EQ(WSAWaitForMultipleEvents(1, &ev, FALSE, 5000, FALSE), WSA_WAIT_EVENT_0);
    CHECK_EQ(WSAEnumNetworkEvents(s, ev, &ne), 0);
    CHECK(ne.lNetworkEvents & FD_READ);
    CHECK_EQ(ne.iErrorCode[FD_READ_BIT], 0);
    CHECK_EQ(WaitForSingleObject(ev, 0), WAIT_TIMEOUT); /* reset by WSAEnumNetworkEvents */
    CHECK_EQ(recv(s, buf, sizeof(buf), 0), 4);

    /* The peer closes: FD_CLOSE. */
    CHECK_EQ(closesocket(c), 0);
    DWORD start = GetTickCount();
    long seen = 0;
    while (!(seen & FD_CLOSE)) {
        CHECK(GetTickCount() - start < 5000);
        if (WSAWaitForMultipleEvents(1, &ev, FALSE, 1000, FALSE) == WSA_WAIT_EVENT_0) {
            CHECK_EQ(WSAEnumNetworkEvents(s, ev, &ne), 0);
            seen |= ne.lNetworkEvents;
        }
    }
    CHECK_EQ(ne.iErrorCode[FD_CLOSE_BIT], 0);
    CHECK_EQ(recv(s, buf, sizeof(buf), 0), 0);
    closesocket(s);

    /* A non-blocking connect: FD_CONNECT (no error) and FD_WRITE. */
    SOCKADDR_IN la;
    SOCKET l = listener(&la);
    SOCKET k = WSASocket(AF_INET, SOCK_STREAM, 0, NULL, 0, WSA_FLAG_OVERLAPPED);
    CHECK_EQ(WSAEventSelect(k, ev, FD_CONNECT | FD_WRITE), 0);
    int rc = connect(k, (SOCKADDR *)&la, sizeof(la));
    CHECK(rc == 0 || WSAGetLastError() == WSAEWOULDBLOCK);
    seen = 0;
    start = GetTickCount();
    while ((seen & (FD_CONNECT | FD_WRITE)) != (FD_CONNECT | FD_WRITE)) {
        CHECK(GetTickCount() - start < 5000);
        if (WSAWaitForMultipleEvents(1, &ev, FALSE, 1000, FALSE) == WSA_WAIT_EVENT_0) {
            CHECK_EQ(WSAEnumNetworkEvents(k, ev, &ne), 0);
            if (ne.lNetworkEvents & FD_CONNECT)
                CHECK_EQ(ne.iErrorCode[FD_CONNECT_BIT], 0);
            seen |= ne.lNetworkEvents;
        }
    }
    CHECK_EQ(send(k, "hi", 2, 0), 2);
    SOCKET a = accept(l, NULL, NULL);
    CHECK(a != INVALID_SOCKET);
    CHECK_EQ(recv(a, buf, sizeof(buf), 0), 2);
    closesocket(a);
    closesocket(k);

    /* A refused connect: FD_CONNECT with WSAECONNREFUSED. */
    closesocket(l); /* nothing listens on la any more */
    k = WSASocket(AF_INET, SOCK_STREAM, 0, NULL, 0, WSA_FLAG_OVERLAPPED);
    CHECK_EQ(WSAEventSelect(k, ev, FD_CONNECT), 0);
    rc = connect(k, (SOCKADDR *)&la, sizeof(la));
    if (rc == SOCKET_ERROR && WSAGetLastError() == WSAEWOULDBLOCK) {
        CHECK_EQ(WSAWaitForMultipleEvents(1, &ev, FALSE, 5000, FALSE), WSA_WAIT_EVENT_0);
        CHECK_EQ(WSAEnumNetworkEvents(k, ev, &ne), 0);
        CHECK(ne.lNetworkEvents & FD_CONNECT);
        CHECK_EQ(ne.iErrorCode[FD_CONNECT_BIT], WSAECONNREFUSED);
    } else {
        CHECK_EQ(rc, SOCKET_ERROR);
        CHECK_EQ(WSAGetLastError(), WSAECONNREFUSED);
    }
    closesocket(k);
    WSACloseEvent(ev);
    WSACleanup();
    printf("ok\n");
    return 0;
}
