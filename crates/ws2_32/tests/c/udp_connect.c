/* Datagram sockets and their peer as Wine's test_connect_udp shows Windows: send
 * without a peer is WSAENOTCONN, recv on an unbound socket WSAEINVAL (not a wait),
 * connect to an AF_UNSPEC address dissolves the peer (getpeername: WSAENOTCONN). */
#include "check.h"

int main(void) {
    startup();
    char buf[8];
    SOCKET c = socket(AF_INET, SOCK_DGRAM, IPPROTO_UDP);
    SOCKET s = socket(AF_INET, SOCK_DGRAM, IPPROTO_UDP);
    CHECK(c != INVALID_SOCKET && s != INVALID_SOCKET);

    CHECK_EQ(send(c, "data", 4, 0), SOCKET_ERROR);
    CHECK_EQ(WSAGetLastError(), WSAENOTCONN);
    /* Blocking and unbound: refused at once. */
    CHECK_EQ(recv(s, buf, sizeof(buf), 0), SOCKET_ERROR);
    CHECK_EQ(WSAGetLastError(), WSAEINVAL);

    SOCKADDR_IN a;
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.S_un.S_addr = htonl(INADDR_LOOPBACK);
    CHECK_EQ(bind(s, (SOCKADDR *)&a, sizeof(a)), 0);
    int len = sizeof(a);
    CHECK_EQ(getsockname(s, (SOCKADDR *)&a, &len), 0);
    u_long nb = 1;
    CHECK_EQ(ioctlsocket(s, FIONBIO, &nb), 0);
    CHECK_EQ(recv(s, buf, sizeof(buf), 0), SOCKET_ERROR);
    CHECK_EQ(WSAGetLastError(), WSAEWOULDBLOCK);

    CHECK_EQ(connect(c, (SOCKADDR *)&a, sizeof(a)), 0);
    CHECK_EQ(send(c, "data", 4, 0), 4);
    Sleep(20);
    CHECK_EQ(recv(s, buf, sizeof(buf), 0), 4);

    SOCKADDR_IN unspec;
    memset(&unspec, 0, sizeof(unspec));
    unspec.sin_family = AF_UNSPEC;
    CHECK_EQ(connect(c, (SOCKADDR *)&unspec, sizeof(unspec)), 0);
    SOCKADDR_IN peer;
    len = sizeof(peer);
    CHECK_EQ(getpeername(c, (SOCKADDR *)&peer, &len), SOCKET_ERROR);
    CHECK_EQ(WSAGetLastError(), WSAENOTCONN);
    CHECK_EQ(send(c, "data", 4, 0), SOCKET_ERROR);
    CHECK_EQ(WSAGetLastError(), WSAENOTCONN);

    closesocket(c);
    closesocket(s);
    printf("ok\n");
    return 0;
}
