/* Synchronous calls and event-select the way Wine's sock.c shows Windows doing them:
 * - a recv withdraws an FD_READ recorded and not yet reported (it is recorded again
 *   only if data remains), so "FD_READ reported" means the first recv succeeds;
 * - a stream socket whose connection has ended on both sides still reports FD_READ and
 *   FD_CLOSE (it is no listener: no FD_ACCEPT);
 * - recvfrom on a connected stream socket returns the data and leaves from/fromlen
 *   alone (not checked, not written);
 * - getpeername of an unconnected socket is WSAENOTCONN even with NULL arguments. */
#include "check.h"

static long wait_events(SOCKET s, WSAEVENT ev, long want, DWORD ms) {
    WSANETWORKEVENTS ne;
    long seen = 0;
    DWORD start = GetTickCount();
    while ((seen & want) != want && GetTickCount() - start < ms) {
        if (WSAWaitForMultipleEvents(1, &ev, FALSE, 200, FALSE) == WSA_WAIT_EVENT_0) {
            CHECK_EQ(WSAEnumNetworkEvents(s, ev, &ne), 0);
            seen |= ne.lNetworkEvents;
        }
    }
    return seen;
}

int main(void) {
    startup();
    SOCKET c, s;
    char buf[64];
    WSANETWORKEVENTS ne;

    /* 1. recv withdraws a recorded FD_READ. */
    tcp_pair(&c, &s);
    WSAEVENT ev = WSACreateEvent();
    CHECK_EQ(WSAEventSelect(s, ev, FD_READ), 0);
    CHECK_EQ(send(c, "abcd", 4, 0), 4);
    CHECK_EQ(WSAWaitForMultipleEvents(1, &ev, FALSE, 5000, FALSE), WSA_WAIT_EVENT_0);
    CHECK_EQ(recv(s, buf, sizeof(buf), 0), 4); /* before WSAEnumNetworkEvents */
    Sleep(50);
    CHECK_EQ(WSAEnumNetworkEvents(s, ev, &ne), 0);
    CHECK_EQ(ne.lNetworkEvents & FD_READ, 0);
    CHECK_EQ(recv(s, buf, sizeof(buf), 0), SOCKET_ERROR);
    CHECK_EQ(WSAGetLastError(), WSAEWOULDBLOCK);
    /* Data left after a recv: recorded again. */
    CHECK_EQ(send(c, "abcdefgh", 8, 0), 8);
    Sleep(50);
    CHECK_EQ(wait_events(s, ev, FD_READ, 5000) & FD_READ, FD_READ);
    CHECK_EQ(recv(s, buf, 4, 0), 4);
    CHECK_EQ(wait_events(s, ev, FD_READ, 5000) & FD_READ, FD_READ);
    CHECK_EQ(recv(s, buf, sizeof(buf), 0), 4);
    CHECK_EQ(WSAEventSelect(s, ev, 0), 0);
    closesocket(c);
    closesocket(s);

    /* 2. Both directions shut down, data still queued: FD_READ then FD_CLOSE. */
    tcp_pair(&c, &s);
    CHECK_EQ(shutdown(c, SD_SEND), 0);
    CHECK_EQ(recv(s, buf, sizeof(buf), 0), 0);
    CHECK_EQ(send(s, "tail", 4, 0), 4);
    CHECK_EQ(closesocket(s), 0);
    Sleep(100);
    CHECK_EQ(WSAEventSelect(c, ev, FD_READ | FD_CLOSE), 0);
    CHECK_EQ(wait_events(c, ev, FD_READ, 5000) & (FD_READ | FD_ACCEPT), FD_READ);
    CHECK_EQ(recv(c, buf, sizeof(buf), 0), 4);
    CHECK_EQ(wait_events(c, ev, FD_CLOSE, 5000) & (FD_CLOSE | FD_ACCEPT), FD_CLOSE);
    CHECK_EQ(recv(c, buf, sizeof(buf), 0), 0);
    closesocket(c);
    WSACloseEvent(ev);

    /* 3. recvfrom on a connected stream socket. */
    tcp_pair(&c, &s);
    CHECK_EQ(send(c, "hello", 5, 0), 5);
    SOCKADDR_IN from;
    memset(&from, 0x55, sizeof(from));
    int fromlen = 1; /* too small for any address: ignored */
    CHECK_EQ(recvfrom(s, buf, sizeof(buf), 0, (SOCKADDR *)&from, &fromlen), 5);
    CHECK_EQ(fromlen, 1);
    CHECK_EQ(from.sin_family, 0x5555);
    CHECK_EQ(memcmp(buf, "hello", 5), 0);
    CHECK_EQ(send(c, "x", 1, 0), 1);
    CHECK_EQ(recvfrom(s, buf, sizeof(buf), MSG_PEEK, NULL, NULL), 1);
    CHECK_EQ(recvfrom(s, buf, sizeof(buf), 0, NULL, NULL), 1);
    closesocket(c);
    closesocket(s);

    /* 4. getpeername of unconnected sockets. */
    SOCKET u = socket(AF_INET, SOCK_DGRAM, 0);
    CHECK(u != INVALID_SOCKET);
    CHECK_EQ(getpeername(u, NULL, NULL), SOCKET_ERROR);
    CHECK_EQ(WSAGetLastError(), WSAENOTCONN);
    SOCKET t = socket(AF_INET, SOCK_STREAM, 0);
    CHECK_EQ(getpeername(t, NULL, NULL), SOCKET_ERROR);
    CHECK_EQ(WSAGetLastError(), WSAENOTCONN);
    closesocket(u);
    closesocket(t);

    printf("ok\n");
    return 0;
}
