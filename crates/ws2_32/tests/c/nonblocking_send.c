/* A non-blocking send on a stream socket takes all of its data once any of it fits
 * (Windows buffers the rest; Linux would take part): the peer receives every byte in
 * order; the next send while the rest is still going fails with WSAEWOULDBLOCK; a
 * shutdown(SD_SEND) and a closesocket right after such a send still deliver all of the
 * data before the end of stream. */
#include "check.h"
#include <stdlib.h>
#include <string.h>
#include <windows.h>

#define BIG (16 * 1024 * 1024)

static unsigned char *pattern(size_t n, unsigned seed) {
    unsigned char *p = malloc(n);
    CHECK(p != NULL);
    for (size_t i = 0; i < n; i++) p[i] = (unsigned char)(i * 7 + seed + (i >> 13));
    return p;
}

/* Reads until `want` bytes or the end of stream; checks them against `expect`. */
static size_t read_all(SOCKET s, const unsigned char *expect, size_t want) {
    static unsigned char buf[65536];
    size_t got = 0;
    for (;;) {
        int n = recv(s, (char *)buf, sizeof(buf), 0);
        CHECK(n >= 0);
        if (n == 0) break;
        CHECK(got + (size_t)n <= want);
        CHECK(memcmp(buf, expect + got, (size_t)n) == 0);
        got += (size_t)n;
        if (got == want && expect != NULL) break;
    }
    return got;
}

static void expect_eof(SOCKET s) {
    char c;
    CHECK_EQ(recv(s, &c, 1, 0), 0);
}

int main(void) {
    startup();
    u_long one = 1;
    unsigned char *a = pattern(BIG, 1);

    /* All of it, then WSAEWOULDBLOCK while the rest is going, then the peer gets it all. */
    SOCKET c, s;
    tcp_pair(&c, &s);
    CHECK(ioctlsocket(s, FIONBIO, &one) == 0);
    CHECK_EQ(send(s, (char *)a, BIG, 0), BIG);
    CHECK_EQ(send(s, "x", 1, 0), SOCKET_ERROR);
    CHECK_EQ(WSAGetLastError(), WSAEWOULDBLOCK);
    CHECK_EQ(read_all(c, a, BIG), (size_t)BIG);
    /* Once it has gone, sends work again (the socket is still non-blocking). */
    int sent = SOCKET_ERROR;
    for (int i = 0; i < 500 && sent == SOCKET_ERROR; i++) {
        sent = send(s, "tail", 4, 0);
        if (sent == SOCKET_ERROR) {
            CHECK_EQ(WSAGetLastError(), WSAEWOULDBLOCK);
            Sleep(10);
        }
    }
    CHECK_EQ(sent, 4);
    char four[4];
    CHECK_EQ(recv(c, four, 4, MSG_WAITALL), 4);
    CHECK(memcmp(four, "tail", 4) == 0);
    closesocket(c);
    closesocket(s);

    /* shutdown(SD_SEND) right after: the data, then the end of stream. */
    tcp_pair(&c, &s);
    CHECK(ioctlsocket(s, FIONBIO, &one) == 0);
    CHECK_EQ(send(s, (char *)a, BIG, 0), BIG);
    CHECK_EQ(shutdown(s, SD_SEND), 0);
    CHECK_EQ(read_all(c, a, BIG), (size_t)BIG);
    expect_eof(c);
    closesocket(s);
    closesocket(c);

    /* closesocket right after: the data, then the end of stream (a graceful close). */
    tcp_pair(&c, &s);
    CHECK(ioctlsocket(s, FIONBIO, &one) == 0);
    CHECK_EQ(send(s, (char *)a, BIG, 0), BIG);
    CHECK_EQ(closesocket(s), 0);
    CHECK_EQ(read_all(c, a, BIG), (size_t)BIG);
    expect_eof(c);
    closesocket(c);

    free(a);
    WSACleanup();
    puts("ok");
    return 0;
}
