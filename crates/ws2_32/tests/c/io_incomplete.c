/* WSAGetOverlappedResult(fWait=FALSE) on a pending operation: FALSE with
 * WSA_IO_INCOMPLETE; HasOverlappedIoCompleted reads Internal (STATUS_PENDING while
 * pending) and sees the completion without any wait call (the library reaps in the
 * background); InternalHigh then holds the count; fWait=TRUE blocks until done. */
#include "check.h"
#include <pthread.h>

static SOCKET peer;
static void *late_sender(void *arg) {
    (void)arg;
    Sleep(200);
    CHECK_EQ(send(peer, "abcdef", 6, 0), 6);
    return NULL;
}

int main(void) {
    startup();
    SOCKET c, s;
    tcp_pair(&c, &s);
    peer = c;
    WSAEVENT ev = WSACreateEvent();
    char buf[32];
    WSABUF wb = {sizeof(buf), buf};
    DWORD n, flags = 0, got = 99, f = 0;
    WSAOVERLAPPED ov;
    memset(&ov, 0, sizeof(ov));
    ov.hEvent = ev;
    CHECK_EQ(WSARecv(s, &wb, 1, &n, &flags, &ov, NULL), SOCKET_ERROR);
    CHECK_EQ(WSAGetLastError(), WSA_IO_PENDING);
    CHECK_EQ(ov.Internal, STATUS_PENDING);
    CHECK(!HasOverlappedIoCompleted(&ov));
    CHECK(!WSAGetOverlappedResult(s, &ov, &got, FALSE, &f));
    CHECK_EQ(WSAGetLastError(), WSA_IO_INCOMPLETE);
    CHECK_EQ(got, 99);
    CHECK(!GetOverlappedResult((HANDLE)s, &ov, &got, FALSE));
    CHECK_EQ(GetLastError(), ERROR_IO_INCOMPLETE);

    /* Poll Internal only: the completion shows without any wait call. */
    CHECK_EQ(send(c, "0123456789", 10, 0), 10);
    DWORD start = GetTickCount();
    while (!HasOverlappedIoCompleted(&ov)) {
        CHECK(GetTickCount() - start < 5000);
        volatile int spin;
        for (spin = 0; spin < 1000; spin++) {
        }
    }
    CHECK_EQ(ov.InternalHigh, 10);
    CHECK_EQ(ov.Internal, 0);
    CHECK_EQ(WaitForSingleObject(ev, 0), WAIT_OBJECT_0);
    CHECK(WSAGetOverlappedResult(s, &ov, &got, FALSE, &f));
    CHECK_EQ(got, 10);

    /* fWait=TRUE blocks until the operation completes. */
    memset(&ov, 0, sizeof(ov));
    ov.hEvent = ev;
    CHECK_EQ(WSARecv(s, &wb, 1, &n, &flags, &ov, NULL), SOCKET_ERROR);
    CHECK_EQ(WSAGetLastError(), WSA_IO_PENDING);
    pthread_t t;
    CHECK_EQ(pthread_create(&t, NULL, late_sender, NULL), 0);
    start = GetTickCount();
    CHECK(WSAGetOverlappedResult(s, &ov, &got, TRUE, &f));
    CHECK(GetTickCount() - start >= 100);
    CHECK_EQ(got, 6);
    CHECK(memcmp(buf, "abcdef", 6) == 0);
    pthread_join(t, NULL);

    /* A record reused while pending: Windows takes the second request too (Wine's
     * test_WSARecv records it); each keeps its own buffers, and CancelIoEx with the
     * record cancels both. */
    memset(&ov, 0, sizeof(ov));
    ov.hEvent = ev;
    CHECK_EQ(WSARecv(s, &wb, 1, &n, &flags, &ov, NULL), SOCKET_ERROR);
    CHECK_EQ(WSAGetLastError(), WSA_IO_PENDING);
    CHECK_EQ(WSARecv(s, &wb, 1, &n, &flags, &ov, NULL), SOCKET_ERROR);
    CHECK_EQ(WSAGetLastError(), WSA_IO_PENDING);
    CHECK(CancelIoEx((HANDLE)s, &ov));
    CHECK(!WSAGetOverlappedResult(s, &ov, &got, TRUE, &f));
    CHECK_EQ(WSAGetLastError(), WSA_OPERATION_ABORTED);
    CHECK(!CancelIoEx((HANDLE)s, &ov));
    CHECK_EQ(GetLastError(), ERROR_NOT_FOUND);

    closesocket(c);
    closesocket(s);
    WSACloseEvent(ev);
    WSACleanup();
    printf("ok\n");
    return 0;
}
