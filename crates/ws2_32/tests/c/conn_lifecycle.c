/* The connection life cycle as Wine's test_shutdown, test_DisconnectEx,
 * test_shutdown_completion_port, test_connect, test_connecting_socket and
 * test_tcp_reset show Windows: the peer outlives the connection (getpeername after both
 * sides shut down), shutdown of an unconnected datagram socket succeeds, DisconnectEx
 * ends the sending side only and pends, connect on a listener is WSAEINVAL and on a
 * connected socket WSAEISCONN, ConnectEx takes its first data at the call, calls on a
 * socket whose connect is under way are WSAENOTCONN (getpeername: the target), and a
 * reset stays POLLERR for WSAPoll. */
#include "check.h"

static const GUID connectex_guid = WSAID_CONNECTEX;
static const GUID disconnectex_guid = WSAID_DISCONNECTEX;

static void *ext(SOCKET s, const GUID *g) {
    void *f = NULL;
    DWORD size;
    CHECK_EQ(WSAIoctl(s, SIO_GET_EXTENSION_FUNCTION_POINTER, (void *)g, sizeof(*g), &f, sizeof(f),
                      &size, NULL, NULL),
             0);
    return f;
}

static void same_addr(SOCKET s, const SOCKADDR_IN *want) {
    SOCKADDR_IN a;
    int len = sizeof(a);
    CHECK_EQ(getpeername(s, (SOCKADDR *)&a, &len), 0);
    CHECK_EQ(a.sin_port, want->sin_port);
    CHECK_EQ(a.sin_addr.S_un.S_addr, want->sin_addr.S_un.S_addr);
}

int main(void) {
    startup();
    char buf[8];
    SOCKADDR_IN la;
    SOCKET l = listener(&la);

    /* Both sides shut down: getpeername still answers; shutdown again succeeds. */
    SOCKET c = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP), s;
    CHECK_EQ(shutdown(c, SD_SEND), SOCKET_ERROR);
    CHECK_EQ(WSAGetLastError(), WSAENOTCONN);
    CHECK_EQ(connect(c, (SOCKADDR *)&la, sizeof(la)), 0);
    s = accept(l, NULL, NULL);
    CHECK(s != INVALID_SOCKET);
    CHECK_EQ(connect(c, (SOCKADDR *)&la, sizeof(la)), SOCKET_ERROR);
    CHECK_EQ(WSAGetLastError(), WSAEISCONN);
    CHECK_EQ(shutdown(c, SD_BOTH), 0);
    CHECK_EQ(recv(s, buf, sizeof(buf), 0), 0);
    CHECK_EQ(shutdown(s, SD_BOTH), 0);
    Sleep(50);
    same_addr(c, &la);
    CHECK_EQ(shutdown(c, SD_SEND), 0);
    closesocket(c);
    closesocket(s);

    /* A listener cannot connect. */
    CHECK_EQ(connect(l, (SOCKADDR *)&la, sizeof(la)), SOCKET_ERROR);
    CHECK_EQ(WSAGetLastError(), WSAEINVAL);
    CHECK_EQ(shutdown(l, SD_SEND), SOCKET_ERROR);
    CHECK_EQ(WSAGetLastError(), WSAENOTCONN);

    /* A datagram socket without a peer shuts down. */
    SOCKET u = socket(AF_INET, SOCK_DGRAM, IPPROTO_UDP);
    CHECK_EQ(shutdown(u, SD_SEND), 0);
    CHECK_EQ(sendto(u, "x", 1, 0, (SOCKADDR *)&la, sizeof(la)), SOCKET_ERROR);
    CHECK_EQ(WSAGetLastError(), WSAESHUTDOWN);
    closesocket(u);

    /* DisconnectEx: pends, completes with 0 bytes, the socket still receives. */
    c = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
    LPFN_DISCONNECTEX pDisconnectEx = (LPFN_DISCONNECTEX)ext(c, &disconnectex_guid);
    OVERLAPPED ov;
    memset(&ov, 0, sizeof(ov));
    ov.hEvent = WSACreateEvent();
    CHECK(!pDisconnectEx(c, &ov, 0, 0));
    CHECK_EQ(WSAGetLastError(), WSAENOTCONN);
    CHECK_EQ(connect(c, (SOCKADDR *)&la, sizeof(la)), 0);
    s = accept(l, NULL, NULL);
    CHECK(!pDisconnectEx(c, &ov, 0, 0));
    CHECK_EQ(WSAGetLastError(), WSA_IO_PENDING);
    CHECK_EQ(WaitForSingleObject(ov.hEvent, 1000), WAIT_OBJECT_0);
    DWORD n = 0xdeadbeef;
    CHECK(GetOverlappedResult((HANDLE)c, &ov, &n, FALSE));
    CHECK_EQ(n, 0);
    CHECK_EQ(send(c, "x", 1, 0), SOCKET_ERROR);
    CHECK_EQ(WSAGetLastError(), WSAESHUTDOWN);
    CHECK_EQ(recv(s, buf, sizeof(buf), 0), 0);
    CHECK_EQ(send(s, "test", 5, 0), 5);
    CHECK_EQ(recv(c, buf, sizeof(buf), 0), 5);
    CHECK(!strcmp(buf, "test"));
    closesocket(c);
    closesocket(s);

    /* ConnectEx takes its data at the call; afterwards connect is WSAEINVAL. */
    c = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
    LPFN_CONNECTEX pConnectEx = (LPFN_CONNECTEX)ext(c, &connectex_guid);
    SOCKADDR_IN any;
    memset(&any, 0, sizeof(any));
    any.sin_family = AF_INET;
    CHECK_EQ(bind(c, (SOCKADDR *)&any, sizeof(any)), 0);
    memcpy(buf, "123", 3);
    WSAResetEvent(ov.hEvent);
    BOOL r = pConnectEx(c, (SOCKADDR *)&la, sizeof(la), buf, 3, &n, &ov);
    memset(buf, 0, sizeof(buf));
    CHECK(r || WSAGetLastError() == WSA_IO_PENDING);
    CHECK_EQ(WaitForSingleObject(ov.hEvent, 1000), WAIT_OBJECT_0);
    CHECK(GetOverlappedResult((HANDLE)c, &ov, &n, FALSE));
    CHECK_EQ(n, 3);
    s = accept(l, NULL, NULL);
    CHECK_EQ(recv(s, buf, 3, 0), 3);
    CHECK(!memcmp(buf, "123", 3));
    CHECK_EQ(connect(c, (SOCKADDR *)&la, sizeof(la)), SOCKET_ERROR);
    CHECK_EQ(WSAGetLastError(), WSAEINVAL);
    closesocket(c);
    closesocket(s);

    /* A non-blocking connect under way (to a blackhole address). */
    SOCKADDR_IN far;
    memset(&far, 0, sizeof(far));
    far.sin_family = AF_INET;
    far.sin_addr.S_un.S_addr = inet_addr("192.0.2.0");
    far.sin_port = 255;
    c = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
    u_long nb = 1;
    CHECK_EQ(ioctlsocket(c, FIONBIO, &nb), 0);
    CHECK_EQ(bind(c, (SOCKADDR *)&any, sizeof(any)), 0);
    CHECK_EQ(connect(c, (SOCKADDR *)&far, sizeof(far)), SOCKET_ERROR);
    CHECK_EQ(WSAGetLastError(), WSAEWOULDBLOCK);
    OVERLAPPED ov2;
    memset(&ov2, 0, sizeof(ov2));
    CHECK(!pConnectEx(c, (SOCKADDR *)&far, sizeof(far), NULL, 0, &n, &ov2));
    CHECK_EQ(WSAGetLastError(), WSAEINVAL);
    same_addr(c, &far);
    CHECK_EQ(recv(c, buf, sizeof(buf), 0), SOCKET_ERROR);
    CHECK_EQ(WSAGetLastError(), WSAENOTCONN);
    CHECK_EQ(send(c, "data", 4, 0), SOCKET_ERROR);
    CHECK_EQ(WSAGetLastError(), WSAENOTCONN);
    closesocket(c);

    /* A reset stays POLLERR after SO_ERROR was read; select: readable and writable. */
    tcp_pair(&c, &s);
    struct linger lg = {1, 0};
    CHECK_EQ(setsockopt(s, SOL_SOCKET, SO_LINGER, (char *)&lg, sizeof(lg)), 0);
    closesocket(s);
    Sleep(50);
    CHECK_EQ(recv(c, buf, sizeof(buf), 0), SOCKET_ERROR);
    CHECK_EQ(WSAGetLastError(), WSAECONNRESET);
    int err = -1, len = sizeof(err);
    CHECK_EQ(getsockopt(c, SOL_SOCKET, SO_ERROR, (char *)&err, &len), 0);
    CHECK_EQ(err, 0);
    WSAPOLLFD p = {c, POLLRDNORM | POLLWRNORM, 0};
    CHECK_EQ(WSAPoll(&p, 1, 0), 1);
    CHECK(p.revents & POLLERR);
    fd_set rd, wr, ex;
    FD_ZERO(&rd);
    FD_ZERO(&wr);
    FD_ZERO(&ex);
    FD_SET(c, &rd);
    FD_SET(c, &wr);
    FD_SET(c, &ex);
    struct timeval tv = {0, 0};
    CHECK_EQ(select(0, &rd, &wr, &ex, &tv), 2);
    CHECK(FD_ISSET(c, &rd));
    CHECK(FD_ISSET(c, &wr));
    CHECK(!FD_ISSET(c, &ex));
    closesocket(c);

    closesocket(l);
    WSACloseEvent(ov.hEvent);
    printf("ok\n");
    return 0;
}
