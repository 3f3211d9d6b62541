/* Windows' bind conflict table (Wine's test_reuseaddr / test_ipv6only): a wildcard held
 * with SO_EXCLUSIVEADDRUSE refuses a specific address of the port with WSAEACCES (also
 * through a dual-stack IPv6 wildcard); a specific address under a plain wildcard is
 * allowed, even asking to be exclusive; an exclusive wildcard over a bound specific
 * address is WSAEADDRINUSE; the same address twice WSAEADDRINUSE. */
#include "check.h"
#include <ws2tcpip.h>

static SOCKET sock(int family, int exclusive, int reuse) {
    SOCKET s = socket(family, SOCK_STREAM, 0);
    CHECK(s != INVALID_SOCKET);
    int one = 1, zero = 0;
    if (exclusive)
        CHECK_EQ(setsockopt(s, SOL_SOCKET, SO_EXCLUSIVEADDRUSE, (char *)&one, sizeof(one)), 0);
    if (reuse)
        CHECK_EQ(setsockopt(s, SOL_SOCKET, SO_REUSEADDR, (char *)&one, sizeof(one)), 0);
    if (family == AF_INET6)
        CHECK_EQ(setsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, (char *)&zero, sizeof(zero)), 0);
    return s;
}

static int bind4(SOCKET s, ULONG addr, USHORT port) {
    SOCKADDR_IN a;
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.S_un.S_addr = htonl(addr);
    a.sin_port = port;
    return bind(s, (SOCKADDR *)&a, sizeof(a));
}

static USHORT port_of(SOCKET s) {
    SOCKADDR_STORAGE a;
    int len = sizeof(a);
    CHECK_EQ(getsockname(s, (SOCKADDR *)&a, &len), 0);
    return ((SOCKADDR_IN *)&a)->sin_port; /* sin6_port is at the same offset */
}

/* Binds `first` on a fresh port, then `second`; checks the second's result. */
static void pair(SOCKET first, ULONG a1, SOCKET second, ULONG a2, int error) {
    CHECK_EQ(bind4(first, a1, 0), 0);
    int rc = bind4(second, a2, port_of(first));
    if (error) {
        CHECK_EQ(rc, SOCKET_ERROR);
        CHECK_EQ(WSAGetLastError(), error);
    } else {
        CHECK_EQ(rc, 0);
    }
    closesocket(first);
    closesocket(second);
}

int main(void) {
    startup();
    pair(sock(AF_INET, 1, 0), INADDR_ANY, sock(AF_INET, 0, 0), INADDR_LOOPBACK, WSAEACCES);
    pair(sock(AF_INET, 1, 0), INADDR_ANY, sock(AF_INET, 1, 0), INADDR_LOOPBACK, WSAEACCES);
    pair(sock(AF_INET, 0, 0), INADDR_ANY, sock(AF_INET, 1, 0), INADDR_LOOPBACK, 0);
    pair(sock(AF_INET, 1, 0), INADDR_LOOPBACK, sock(AF_INET, 0, 0), INADDR_ANY, 0);
    pair(sock(AF_INET, 0, 0), INADDR_LOOPBACK, sock(AF_INET, 1, 0), INADDR_ANY, WSAEADDRINUSE);
    pair(sock(AF_INET, 1, 0), INADDR_LOOPBACK, sock(AF_INET, 0, 0), INADDR_LOOPBACK,
         WSAEADDRINUSE);
    pair(sock(AF_INET, 0, 0), INADDR_LOOPBACK, sock(AF_INET, 0, 1), INADDR_LOOPBACK, WSAEACCES);

    /* A dual-stack IPv6 wildcard held exclusively refuses IPv4 binds of its port. */
    SOCKET v6 = sock(AF_INET6, 1, 0);
    SOCKADDR_IN6 a6;
    memset(&a6, 0, sizeof(a6));
    a6.sin6_family = AF_INET6;
    CHECK_EQ(bind(v6, (SOCKADDR *)&a6, sizeof(a6)), 0);
    SOCKET v4 = sock(AF_INET, 0, 1);
    CHECK_EQ(bind4(v4, INADDR_ANY, port_of(v6)), SOCKET_ERROR);
    CHECK_EQ(WSAGetLastError(), WSAEACCES);
    closesocket(v4);
    closesocket(v6);

    /* Without exclusivity the two wildcards coexist. */
    v6 = sock(AF_INET6, 0, 0);
    CHECK_EQ(bind(v6, (SOCKADDR *)&a6, sizeof(a6)), 0);
    v4 = sock(AF_INET, 0, 0);
    CHECK_EQ(bind4(v4, INADDR_ANY, port_of(v6)), 0);
    closesocket(v4);
    closesocket(v6);
    printf("ok\n");
    return 0;
}
