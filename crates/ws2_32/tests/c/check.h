/* Shared helpers of the C behaviour tests: CHECK macros and a loopback TCP pair. */
#include <winsock2.h>
#include <mswsock.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHECK(c)                                                                                \
    do {                                                                                        \
        if (!(c)) {                                                                             \
            printf("FAIL %s:%d: %s (WSAGetLastError %d)\n", __FILE__, __LINE__, #c,             \
                   WSAGetLastError());                                                          \
            exit(1);                                                                            \
        }                                                                                       \
    } while (0)

#define CHECK_EQ(a, b)                                                                          \
    do {                                                                                        \
        long long a_ = (long long)(a), b_ = (long long)(b);                                     \
        if (a_ != b_) {                                                                         \
            printf("FAIL %s:%d: %s is %lld, expected %s = %lld (WSAGetLastError %d)\n",         \
                   __FILE__, __LINE__, #a, a_, #b, b_, WSAGetLastError());                      \
            exit(1);                                                                            \
        }                                                                                       \
    } while (0)

static inline void startup(void) {
    WSADATA d;
    CHECK_EQ(WSAStartup(MAKEWORD(2, 2), &d), 0);
    CHECK_EQ(d.wVersion, MAKEWORD(2, 2));
}

/* An overlapped listening socket on 127.0.0.1, ephemeral port, written to *addr. */
static inline SOCKET listener(SOCKADDR_IN *addr) {
    SOCKET l = WSASocket(AF_INET, SOCK_STREAM, 0, NULL, 0, WSA_FLAG_OVERLAPPED);
    CHECK(l != INVALID_SOCKET);
    memset(addr, 0, sizeof(*addr));
    addr->sin_family = AF_INET;
    addr->sin_addr.S_un.S_addr = inet_addr("127.0.0.1");
    addr->sin_port = htons(0);
    CHECK_EQ(bind(l, (SOCKADDR *)addr, sizeof(*addr)), 0);
    CHECK_EQ(listen(l, 16), 0);
    int len = sizeof(*addr);
    CHECK_EQ(getsockname(l, (SOCKADDR *)addr, &len), 0);
    CHECK_EQ(len, sizeof(SOCKADDR_IN));
    CHECK(addr->sin_port != 0);
    return l;
}

/* A connected pair: *client connected to *server. */
static inline void tcp_pair(SOCKET *client, SOCKET *server) {
    SOCKADDR_IN a;
    SOCKET l = listener(&a);
    *client = WSASocket(AF_INET, SOCK_STREAM, 0, NULL, 0, WSA_FLAG_OVERLAPPED);
    CHECK(*client != INVALID_SOCKET);
    CHECK_EQ(connect(*client, (SOCKADDR *)&a, sizeof(a)), 0);
    *server = accept(l, NULL, NULL);
    CHECK(*server != INVALID_SOCKET);
    CHECK_EQ(closesocket(l), 0);
}

/* Book programs cast handles to DWORD: they must fit. */
static inline void check_small(SOCKET s) { CHECK((unsigned long long)s < 0x100000000ULL); }
