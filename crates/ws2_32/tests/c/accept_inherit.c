/* An accepted socket takes its listener's options, as on Windows: SO_REUSEADDR,
 * SO_SNDBUF/SO_RCVBUF as set (not Linux's doubled sizes), SO_SNDTIMEO/SO_RCVTIMEO, linger.
 * accept and WSAAccept at once; an AcceptEx socket once SO_UPDATE_ACCEPT_CONTEXT names the
 * listener. */
#include "check.h"

static void set_int(SOCKET s, int name, int v) {
    CHECK_EQ(setsockopt(s, SOL_SOCKET, name, (char *)&v, sizeof(v)), 0);
}

static int get_int(SOCKET s, int name) {
    int v = -1, len = sizeof(v);
    CHECK_EQ(getsockopt(s, SOL_SOCKET, name, (char *)&v, &len), 0);
    return v;
}

static void check_inherited(SOCKET a) {
    CHECK_EQ(get_int(a, SO_REUSEADDR), 1);
    CHECK_EQ(get_int(a, SO_SNDBUF), 0x1234);
    CHECK_EQ(get_int(a, SO_RCVBUF), 0x2345);
    CHECK_EQ(get_int(a, SO_SNDTIMEO), 0x123);
    CHECK_EQ(get_int(a, SO_RCVTIMEO), 0x456);
    struct linger lg;
    int len = sizeof(lg);
    memset(&lg, 0, sizeof(lg));
    CHECK_EQ(getsockopt(a, SOL_SOCKET, SO_LINGER, (char *)&lg, &len), 0);
    CHECK_EQ(lg.l_onoff, 1);
    CHECK_EQ(lg.l_linger, 7);
}

static SOCKET connect_to(const SOCKADDR_IN *a) {
    SOCKET c = socket(AF_INET, SOCK_STREAM, 0);
    CHECK(c != INVALID_SOCKET);
    CHECK_EQ(connect(c, (const SOCKADDR *)a, sizeof(*a)), 0);
    return c;
}

int main(void) {
    startup();
    SOCKET l = socket(AF_INET, SOCK_STREAM, 0);
    CHECK(l != INVALID_SOCKET);
    set_int(l, SO_REUSEADDR, 1);
    set_int(l, SO_SNDBUF, 0x1234);
    set_int(l, SO_RCVBUF, 0x2345);
    set_int(l, SO_SNDTIMEO, 0x123);
    set_int(l, SO_RCVTIMEO, 0x456);
    struct linger lg = {1, 7};
    CHECK_EQ(setsockopt(l, SOL_SOCKET, SO_LINGER, (char *)&lg, sizeof(lg)), 0);
    SOCKADDR_IN a;
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.S_un.S_addr = inet_addr("127.0.0.1");
    CHECK_EQ(bind(l, (SOCKADDR *)&a, sizeof(a)), 0);
    int alen = sizeof(a);
    CHECK_EQ(getsockname(l, (SOCKADDR *)&a, &alen), 0);
    CHECK_EQ(listen(l, 4), 0);

    SOCKET c1 = connect_to(&a);
    SOCKET s1 = accept(l, NULL, NULL);
    CHECK(s1 != INVALID_SOCKET);
    check_inherited(s1);

    SOCKET c2 = connect_to(&a);
    SOCKET s2 = WSAAccept(l, NULL, NULL, NULL, 0);
    CHECK(s2 != INVALID_SOCKET);
    check_inherited(s2);

    /* AcceptEx: the acceptor keeps its own options until SO_UPDATE_ACCEPT_CONTEXT. */
    SOCKET s3 = socket(AF_INET, SOCK_STREAM, 0);
    CHECK(s3 != INVALID_SOCKET);
    char buf[2 * (sizeof(SOCKADDR_IN) + 16)];
    DWORD n = 0;
    WSAOVERLAPPED ov;
    memset(&ov, 0, sizeof(ov));
    ov.hEvent = WSACreateEvent();
    BOOL r = AcceptEx(l, s3, buf, 0, sizeof(SOCKADDR_IN) + 16, sizeof(SOCKADDR_IN) + 16, &n, &ov);
    CHECK(r || WSAGetLastError() == ERROR_IO_PENDING);
    SOCKET c3 = connect_to(&a);
    DWORD fl = 0;
    CHECK_EQ(WSAGetOverlappedResult(l, &ov, &n, TRUE, &fl), TRUE);
    CHECK_EQ(get_int(s3, SO_REUSEADDR), 0);
    CHECK_EQ(get_int(s3, SO_RCVTIMEO), 0);
    CHECK_EQ(setsockopt(s3, SOL_SOCKET, SO_UPDATE_ACCEPT_CONTEXT, (char *)&l, sizeof(l)), 0);
    check_inherited(s3);

    SOCKET all[] = {c1, s1, c2, s2, c3, s3, l};
    for (unsigned i = 0; i < sizeof(all) / sizeof(all[0]); i++)
        CHECK_EQ(closesocket(all[i]), 0);
    WSACloseEvent(ov.hEvent);
    CHECK_EQ(WSACleanup(), 0);
    printf("ok\n");
    return 0;
}
