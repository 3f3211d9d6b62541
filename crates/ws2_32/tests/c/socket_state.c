/* What Wine's conformance tests (dlls/ws2_32/tests/sock.c) show Windows doing with a
 * socket's state, and with the last error after a successful call:
 * - a successful Winsock call on a socket sets WSAGetLastError() to 0; kernel32 calls
 *   (GetQueuedCompletionStatus) leave it alone;
 * - listen on an unbound socket is WSAEINVAL (and the socket does not listen);
 * - a second stream socket cannot bind an address another one has bound (WSAEADDRINUSE,
 *   WSAEACCES when only the second asked for SO_REUSEADDR), even while the first does
 *   not listen;
 * - accept on a socket that is not listening fails at once (WSAEINVAL), never blocks;
 * - a connection a WSAAccept condition deferred (CF_DEFER) is what the next accept gets;
 * - accept with an address buffer but a NULL length accepts and writes nothing;
 * - SO_CONNECT_TIME of a connected datagram socket is ~0. */
#include "check.h"

static int CALLBACK defer_all(LPWSABUF a, LPWSABUF b, LPQOS c, LPQOS d, LPWSABUF e, LPWSABUF f,
                              GROUP *g, DWORD_PTR h) {
    (void)a; (void)b; (void)c; (void)d; (void)e; (void)f; (void)g; (void)h;
    return CF_DEFER;
}

int main(void) {
    startup();
    SOCKADDR_IN a, b;
    int len, v;

    /* Last error: 0 after successes of socket calls. */
    SOCKET s = socket(AF_INET, SOCK_STREAM, 0);
    CHECK(s != INVALID_SOCKET);
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.S_un.S_addr = inet_addr("127.0.0.1");
    WSASetLastError(0xdeadbeef);
    v = 1;
    CHECK_EQ(setsockopt(s, SOL_SOCKET, SO_KEEPALIVE, (char *)&v, sizeof(v)), 0);
    CHECK_EQ(WSAGetLastError(), 0);

    /* listen before bind */
    WSASetLastError(0xdeadbeef);
    CHECK_EQ(listen(s, 5), SOCKET_ERROR);
    CHECK_EQ(WSAGetLastError(), WSAEINVAL);
    v = 0xdead;
    len = sizeof(v);
    CHECK_EQ(getsockopt(s, SOL_SOCKET, SO_ACCEPTCONN, (char *)&v, &len), 0);
    CHECK_EQ(v, 0);
    /* accept on a socket that does not listen: at once */
    CHECK_EQ(accept(s, NULL, NULL), INVALID_SOCKET);
    CHECK_EQ(WSAGetLastError(), WSAEINVAL);

    WSASetLastError(0xdeadbeef);
    CHECK_EQ(bind(s, (SOCKADDR *)&a, sizeof(a)), 0);
    CHECK_EQ(WSAGetLastError(), 0);
    len = sizeof(a);
    WSASetLastError(0xdeadbeef);
    CHECK_EQ(getsockname(s, (SOCKADDR *)&a, &len), 0);
    CHECK_EQ(WSAGetLastError(), 0);
    /* bind twice */
    CHECK_EQ(bind(s, (SOCKADDR *)&a, sizeof(a)), SOCKET_ERROR);
    CHECK_EQ(WSAGetLastError(), WSAEINVAL);

    /* Another socket, same address, the first not listening yet. */
    SOCKET s2 = socket(AF_INET, SOCK_STREAM, 0);
    CHECK_EQ(bind(s2, (SOCKADDR *)&a, sizeof(a)), SOCKET_ERROR);
    CHECK_EQ(WSAGetLastError(), WSAEADDRINUSE);
    v = 1;
    CHECK_EQ(setsockopt(s2, SOL_SOCKET, SO_REUSEADDR, (char *)&v, sizeof(v)), 0);
    CHECK_EQ(bind(s2, (SOCKADDR *)&a, sizeof(a)), SOCKET_ERROR);
    CHECK_EQ(WSAGetLastError(), WSAEACCES);
    CHECK_EQ(listen(s2, 5), SOCKET_ERROR);
    CHECK_EQ(WSAGetLastError(), WSAEINVAL);

    WSASetLastError(0xdeadbeef);
    CHECK_EQ(listen(s, 5), 0);
    CHECK_EQ(WSAGetLastError(), 0);
    len = sizeof(v);
    CHECK_EQ(getsockopt(s, SOL_SOCKET, SO_ACCEPTCONN, (char *)&v, &len), 0);
    CHECK_EQ(v, 1);
    CHECK_EQ(closesocket(s2), 0);

    /* CF_DEFER keeps the connection for the next accept. */
    SOCKET c = socket(AF_INET, SOCK_STREAM, 0);
    CHECK_EQ(connect(c, (SOCKADDR *)&a, sizeof(a)), 0);
    CHECK_EQ(WSAAccept(s, NULL, NULL, defer_all, 0), INVALID_SOCKET);
    CHECK_EQ(WSAGetLastError(), WSATRY_AGAIN);
    u_long nb = 1;
    CHECK_EQ(ioctlsocket(s, FIONBIO, &nb), 0); /* would not block: the deferred one */
    memset(&b, 0xcc, sizeof(b));
    SOCKET acc = accept(s, (SOCKADDR *)&b, NULL);
    CHECK(acc != INVALID_SOCKET);
    CHECK_EQ(((unsigned char *)&b)[0], 0xcc); /* NULL length: nothing written */
    /* the deferred connection is the client's */
    CHECK_EQ(send(c, "x", 1, 0), 1);
    char ch = 0;
    CHECK_EQ(recv(acc, &ch, 1, 0), 1);
    CHECK_EQ(ch, 'x');
    CHECK_EQ(accept(s, NULL, NULL), INVALID_SOCKET);
    CHECK_EQ(WSAGetLastError(), WSAEWOULDBLOCK);

    /* A successful shutdown, WSAIoctl and WSASend clear it too. */
    DWORD n = 0;
    WSABUF wb = {1, "y"};
    WSASetLastError(0xdeadbeef);
    CHECK_EQ(WSASend(c, &wb, 1, &n, 0, NULL, NULL), 0);
    CHECK_EQ(WSAGetLastError(), 0);
    u_long avail = 0;
    Sleep(50);
    WSASetLastError(0xdeadbeef);
    CHECK_EQ(WSAIoctl(acc, FIONREAD, NULL, 0, &avail, sizeof(avail), &n, NULL, NULL), 0);
    CHECK_EQ(WSAGetLastError(), 0);
    CHECK_EQ(avail, 1);
    WSASetLastError(0xdeadbeef);
    CHECK_EQ(shutdown(c, SD_SEND), 0);
    CHECK_EQ(WSAGetLastError(), 0);

    /* kernel32: a successful GetQueuedCompletionStatus leaves it alone */
    HANDLE port = CreateIoCompletionPort(INVALID_HANDLE_VALUE, NULL, 0, 1);
    CHECK(port != NULL);
    CHECK(PostQueuedCompletionStatus(port, 3, 7, NULL));
    DWORD bytes;
    ULONG_PTR key;
    OVERLAPPED *ov;
    SetLastError(0xdeadbeef);
    CHECK(GetQueuedCompletionStatus(port, &bytes, &key, &ov, 0));
    CHECK_EQ(GetLastError(), 0xdeadbeef);
    CloseHandle(port);

    closesocket(acc);
    closesocket(c);
    closesocket(s);

    /* SO_CONNECT_TIME: connected UDP has none. */
    SOCKET u = socket(AF_INET, SOCK_DGRAM, 0);
    SOCKET u2 = socket(AF_INET, SOCK_DGRAM, 0);
    memset(&b, 0, sizeof(b));
    b.sin_family = AF_INET;
    b.sin_addr.S_un.S_addr = inet_addr("127.0.0.1");
    CHECK_EQ(bind(u2, (SOCKADDR *)&b, sizeof(b)), 0);
    len = sizeof(b);
    CHECK_EQ(getsockname(u2, (SOCKADDR *)&b, &len), 0);
    CHECK_EQ(connect(u, (SOCKADDR *)&b, sizeof(b)), 0);
    DWORD t = 0;
    len = sizeof(t);
    SetLastError(0xdeadbeef);
    CHECK_EQ(getsockopt(u, SOL_SOCKET, SO_CONNECT_TIME, (char *)&t, &len), 0);
    CHECK_EQ(GetLastError(), 0);
    CHECK_EQ(t, 0xffffffffu);
    closesocket(u);
    closesocket(u2);

    WSACleanup();
    printf("ok\n");
    return 0;
}
