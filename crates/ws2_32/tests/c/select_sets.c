/* select as Wine's conformance tests (dlls/ws2_32/tests/sock.c, test_select) show
 * Windows doing it:
 * - a fresh, unconnected stream socket is in no set (Linux calls it hung up and
 *   writable), and select waits its whole timeout for it;
 * - a socket listed twice in a set, or in the read and write set passed as one fd_set,
 *   is reported (and counted) once;
 * - an fd_set's count may pass FD_SETSIZE (all entries are looked at, in order), and
 *   only the count's entries are read: a set at the end of its memory is fine;
 * - with SO_OOBINLINE, urgent data is ordinary data: not in the except set;
 * - a socket closed by another thread during the wait: readable when in the read set;
 *   named by the except set only, the call fails with WSAENOTSOCK and empties it. */
#include "check.h"

static void pair(SOCKET *a, SOCKET *b) {
    SOCKADDR_IN addr;
    int len = sizeof(addr);
    SOCKET l = socket(AF_INET, SOCK_STREAM, 0);
    memset(&addr, 0, sizeof(addr));
    addr.sin_family = AF_INET;
    addr.sin_addr.S_un.S_addr = inet_addr("127.0.0.1");
    CHECK_EQ(bind(l, (SOCKADDR *)&addr, sizeof(addr)), 0);
    CHECK_EQ(getsockname(l, (SOCKADDR *)&addr, &len), 0);
    CHECK_EQ(listen(l, 5), 0);
    *a = socket(AF_INET, SOCK_STREAM, 0);
    CHECK_EQ(connect(*a, (SOCKADDR *)&addr, sizeof(addr)), 0);
    *b = accept(l, NULL, NULL);
    CHECK(*b != INVALID_SOCKET);
    closesocket(l);
}

static DWORD WINAPI close_later(void *p) {
    Sleep(200);
    closesocket(*(SOCKET *)p);
    return 0;
}

int main(void) {
    startup();
    fd_set r, w, x;
    struct timeval tv = {0, 0};
    SOCKET a, b;

    /* A fresh socket: in no set, at once or after waiting the timeout. */
    SOCKET fresh = socket(AF_INET, SOCK_STREAM, 0);
    FD_ZERO(&r); FD_ZERO(&w); FD_ZERO(&x);
    FD_SET(fresh, &r); FD_SET(fresh, &w); FD_SET(fresh, &x);
    CHECK_EQ(select(0, &r, &w, &x, &tv), 0);
    CHECK_EQ(r.fd_count, 0u);
    CHECK_EQ(w.fd_count, 0u);
    CHECK_EQ(x.fd_count, 0u);
    FD_ZERO(&r);
    FD_SET(fresh, &r);
    tv.tv_usec = 200000;
    DWORD t0 = GetTickCount();
    CHECK_EQ(select(0, &r, NULL, NULL, &tv), 0);
    CHECK(GetTickCount() - t0 >= 150);
    tv.tv_usec = 0;
    closesocket(fresh);

    pair(&a, &b);
    /* Twice in one set: once. */
    w.fd_count = 2;
    w.fd_array[0] = a;
    w.fd_array[1] = a;
    CHECK_EQ(select(0, NULL, &w, NULL, &tv), 1);
    CHECK_EQ(w.fd_count, 1u);
    CHECK_EQ(w.fd_array[0], a);
    /* Read and write set are one fd_set: each socket once. */
    CHECK_EQ(send(b, "x", 1, 0), 1);
    Sleep(50);
    FD_ZERO(&r);
    FD_SET(a, &r);
    FD_SET(b, &r);
    CHECK_EQ(select(0, &r, &r, NULL, &tv), 2);
    CHECK_EQ(r.fd_count, 2u);
    CHECK(FD_ISSET(a, &r) && FD_ISSET(b, &r));

    /* SO_OOBINLINE: urgent data is read data, not an exception. */
    int on = 1;
    char buf[8];
    CHECK_EQ(recv(a, buf, sizeof(buf), 0), 1);
    CHECK_EQ(setsockopt(a, SOL_SOCKET, SO_OOBINLINE, (char *)&on, sizeof(on)), 0);
    CHECK_EQ(send(b, "U", 1, MSG_OOB), 1);
    Sleep(50);
    FD_ZERO(&r); FD_ZERO(&x);
    FD_SET(a, &r); FD_SET(a, &x);
    CHECK_EQ(select(0, &r, NULL, &x, &tv), 1);
    CHECK(FD_ISSET(a, &r));
    CHECK(!FD_ISSET(a, &x));
    closesocket(a);
    closesocket(b);

    /* More than FD_SETSIZE sockets, in order. */
    enum { N = 100 };
    SOCKET many[N];
    fd_set *big = malloc(offsetof(fd_set, fd_array) + N * sizeof(SOCKET));
    big->fd_count = N;
    for (int i = 0; i < N; i += 2) {
        pair(&many[i], &many[i + 1]);
        big->fd_array[i] = many[i];
        big->fd_array[i + 1] = many[i + 1];
    }
    CHECK_EQ(select(0, NULL, big, NULL, &tv), N);
    CHECK_EQ(big->fd_count, (u_int)N);
    for (int i = 0; i < N; i++) {
        CHECK_EQ(big->fd_array[i], many[i]);
        closesocket(many[i]);
    }
    free(big);

    /* A one-entry set at the end of its memory. */
    pair(&a, &b);
    char *pages = VirtualAlloc(NULL, 2 * 4096, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE);
    DWORD old;
    CHECK(VirtualProtect(pages + 4096, 4096, PAGE_NOACCESS, &old));
    fd_set *edge = (fd_set *)(pages + 4096 - offsetof(fd_set, fd_array[1]));
    edge->fd_count = 1;
    edge->fd_array[0] = a;
    CHECK_EQ(select(0, NULL, edge, NULL, &tv), 1);
    VirtualFree(pages, 0, MEM_RELEASE);

    /* Closed during the wait: readable in the read set... */
    tv.tv_sec = 2;
    HANDLE t = CreateThread(NULL, 0, close_later, &a, 0, NULL);
    FD_ZERO(&r); FD_ZERO(&x);
    FD_SET(a, &r); FD_SET(a, &x);
    CHECK_EQ(select(0, &r, NULL, &x, &tv), 1);
    CHECK(FD_ISSET(a, &r));
    WaitForSingleObject(t, INFINITE);
    closesocket(b);
    /* ... an error when only the except set names it. */
    pair(&a, &b);
    t = CreateThread(NULL, 0, close_later, &a, 0, NULL);
    FD_ZERO(&x);
    FD_SET(a, &x);
    WSASetLastError(0);
    CHECK_EQ(select(0, NULL, NULL, &x, &tv), SOCKET_ERROR);
    CHECK_EQ(WSAGetLastError(), WSAENOTSOCK);
    CHECK_EQ(x.fd_count, 0u);
    WaitForSingleObject(t, INFINITE);
    closesocket(b);

    WSACleanup();
    puts("ok");
    return 0;
}
