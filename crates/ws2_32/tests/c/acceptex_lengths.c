/* AcceptEx's address lengths as Windows treats them (Wine's test_AcceptEx): a remote
 * length of 0 fails at once with WSAEFAULT; a local length of 0 accepts and writes no
 * local address (GetAcceptExSockaddrs leaves that pointer alone); a length below the
 * address size + 16 pends, completes with STATUS_BUFFER_TOO_SMALL
 * (ERROR_INSUFFICIENT_BUFFER) once a connection waits, and leaves that connection
 * queued for accept(). CancelIo of a pending AcceptEx frees the record and the acceptor
 * at once. */
#include "check.h"
#include <mswsock.h>

#define ADDR (sizeof(SOCKADDR_IN) + 16)

int main(void) {
    startup();
    SOCKADDR_IN la;
    SOCKET l = listener(&la);
    char buf[256];
    DWORD n = 0;
    OVERLAPPED ov = {0};
    ov.hEvent = WSACreateEvent();

    /* Remote length 0: WSAEFAULT at once, Internal marked pending. */
    SOCKET a = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
    ov.Internal = 0xdeadbeef;
    CHECK(!AcceptEx(l, a, buf, 0, ADDR, 0, &n, &ov));
    CHECK_EQ(WSAGetLastError(), WSAEFAULT);
    CHECK_EQ(ov.Internal, STATUS_PENDING);

    /* Local length 0: accepts; only the remote address is written. */
    CHECK(!AcceptEx(l, a, buf, 0, 0, ADDR, &n, &ov));
    CHECK_EQ(WSAGetLastError(), ERROR_IO_PENDING);
    SOCKET c = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
    CHECK_EQ(connect(c, (SOCKADDR *)&la, sizeof(la)), 0);
    SOCKADDR_IN peer;
    int len = sizeof(peer);
    CHECK_EQ(getsockname(c, (SOCKADDR *)&peer, &len), 0);
    CHECK_EQ(WaitForSingleObject(ov.hEvent, 2000), WAIT_OBJECT_0);
    CHECK(GetOverlappedResult((HANDLE)l, &ov, &n, FALSE));
    CHECK_EQ(n, 0);
    SOCKADDR *local = (SOCKADDR *)0x1234, *remote = (SOCKADDR *)0x1234;
    int lsize = 77, rsize = 77;
    GetAcceptExSockaddrs(buf, 0, 0, ADDR, &local, &lsize, &remote, &rsize);
    CHECK(local == (SOCKADDR *)0x1234);
    CHECK_EQ(lsize, 77);
    CHECK_EQ(rsize, sizeof(SOCKADDR_IN));
    CHECK(remote != (SOCKADDR *)0x1234 && !memcmp(remote, &peer, sizeof(peer)));
    closesocket(c);
    closesocket(a);

    /* Local length 3: pends, then STATUS_BUFFER_TOO_SMALL; the connection stays queued. */
    a = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
    CHECK(!AcceptEx(l, a, buf, 0, 3, ADDR, &n, &ov));
    CHECK_EQ(WSAGetLastError(), ERROR_IO_PENDING);
    CHECK_EQ(ov.Internal, STATUS_PENDING);
    c = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
    CHECK_EQ(connect(c, (SOCKADDR *)&la, sizeof(la)), 0);
    CHECK_EQ(WaitForSingleObject(ov.hEvent, 2000), WAIT_OBJECT_0);
    n = 0xdeadbeef;
    CHECK(!GetOverlappedResult((HANDLE)l, &ov, &n, FALSE));
    CHECK_EQ(GetLastError(), ERROR_INSUFFICIENT_BUFFER);
    CHECK_EQ(ov.Internal, 0xC0000023); /* STATUS_BUFFER_TOO_SMALL */
    CHECK_EQ(n, 0);
    SOCKET queued = accept(l, NULL, NULL);
    CHECK(queued != INVALID_SOCKET);
    closesocket(queued);
    closesocket(c);

    /* CancelIo frees the record and the acceptor at once. */
    CHECK(!AcceptEx(l, a, buf, 0, ADDR, ADDR, &n, &ov));
    CHECK_EQ(WSAGetLastError(), ERROR_IO_PENDING);
    CHECK(CancelIo((HANDLE)l));
    CHECK(!AcceptEx(l, a, buf, 0, ADDR, ADDR, &n, &ov));
    CHECK_EQ(WSAGetLastError(), ERROR_IO_PENDING);
    CHECK(CancelIo((HANDLE)l));
    closesocket(a);
    closesocket(l);
    WSACleanup();
    printf("ok\n");
    return 0;
}
