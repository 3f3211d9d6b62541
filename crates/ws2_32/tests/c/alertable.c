/* Completion routines run only on the issuing thread, only in its alertable waits
 * (SleepEx, WSAWaitForMultipleEvents, WaitForSingleObjectEx, WaitForMultipleObjectsEx
 * with alertable TRUE), which then return WAIT_IO_COMPLETION; non-alertable waits
 * (Sleep, WaitForSingleObject, WSAWaitForMultipleEvents(FALSE),
 * WSAGetOverlappedResult(fWait)) never run them; routines run in FIFO order; hEvent is
 * ignored (not signalled) with a routine. */
#include "check.h"
#include <pthread.h>

static __thread int on_main_thread;
static int order[8];
static int calls;

static void CALLBACK routine(DWORD err, DWORD bytes, LPWSAOVERLAPPED ov, DWORD flags) {
    (void)flags;
    CHECK(on_main_thread);
    CHECK_EQ(err, 0);
    CHECK(bytes > 0);
    order[calls++] = (int)(INT_PTR)ov->Pointer;
}

static SOCKET peer;
static void *late_sender(void *arg) {
    (void)arg;
    Sleep(150);
    CHECK_EQ(send(peer, "z", 1, 0), 1);
    return NULL;
}

int main(void) {
    startup();
    on_main_thread = 1;
    SOCKET c, s;
    tcp_pair(&c, &s);
    peer = c;
    WSAEVENT dummy = WSACreateEvent();
    WSAEVENT unused = WSACreateEvent();
    char b1[8], b2[8];
    WSABUF w1 = {4, b1}, w2 = {4, b2};
    DWORD n, flags = 0;
    WSAOVERLAPPED o1, o2;
    memset(&o1, 0, sizeof(o1));
    memset(&o2, 0, sizeof(o2));
    o1.Pointer = (PVOID)1;
    o2.Pointer = (PVOID)2;
    o1.hEvent = unused; /* ignored with a routine: free for the application */

    CHECK_EQ(WSARecv(s, &w1, 1, &n, &flags, &o1, routine), SOCKET_ERROR);
    CHECK_EQ(WSAGetLastError(), WSA_IO_PENDING);
    CHECK_EQ(WSARecv(s, &w2, 1, &n, &flags, &o2, routine), SOCKET_ERROR);
    CHECK_EQ(WSAGetLastError(), WSA_IO_PENDING);
    CHECK_EQ(send(c, "12345678", 8, 0), 8);

    /* Both complete, but no non-alertable wait runs the routines. */
    DWORD start = GetTickCount();
    while (!HasOverlappedIoCompleted(&o1) || !HasOverlappedIoCompleted(&o2)) {
        CHECK(GetTickCount() - start < 5000);
        Sleep(1);
    }
    Sleep(20);
    CHECK_EQ(calls, 0);
    CHECK_EQ(WaitForSingleObject(dummy, 50), WAIT_TIMEOUT);
    CHECK_EQ(WSAWaitForMultipleEvents(1, &dummy, FALSE, 50, FALSE), WSA_WAIT_TIMEOUT);
    CHECK_EQ(WaitForMultipleObjects(1, &dummy, FALSE, 10), WAIT_TIMEOUT);
    CHECK_EQ(SleepEx(10, FALSE), 0);
    DWORD got = 0;
    CHECK(WSAGetOverlappedResult(s, &o1, &got, TRUE, &flags));
    CHECK_EQ(got, 4);
    CHECK_EQ(calls, 0);
    CHECK_EQ(WaitForSingleObject(unused, 0), WAIT_TIMEOUT); /* hEvent not signalled */

    /* The first alertable wait runs both, in posting order, and reports it. */
    CHECK_EQ(WSAWaitForMultipleEvents(1, &dummy, FALSE, WSA_INFINITE, TRUE), WSA_WAIT_IO_COMPLETION);
    CHECK_EQ(calls, 2);
    CHECK_EQ(order[0], 1);
    CHECK_EQ(order[1], 2);
    CHECK(memcmp(b1, "1234", 4) == 0 && memcmp(b2, "5678", 4) == 0);

    /* SleepEx(INFINITE, TRUE) returns when a later completion's routine ran. */
    memset(&o1, 0, sizeof(o1));
    o1.Pointer = (PVOID)3;
    CHECK_EQ(WSARecv(s, &w1, 1, &n, &flags, &o1, routine), SOCKET_ERROR);
    pthread_t t;
    CHECK_EQ(pthread_create(&t, NULL, late_sender, NULL), 0);
    CHECK_EQ(SleepEx(INFINITE, TRUE), WAIT_IO_COMPLETION);
    CHECK_EQ(calls, 3);
    pthread_join(t, NULL);

    /* WaitForSingleObjectEx / WaitForMultipleObjectsEx alertable. */
    memset(&o1, 0, sizeof(o1));
    o1.Pointer = (PVOID)4;
    CHECK_EQ(WSARecv(s, &w1, 1, &n, &flags, &o1, routine), SOCKET_ERROR);
    CHECK_EQ(pthread_create(&t, NULL, late_sender, NULL), 0);
    CHECK_EQ(WaitForSingleObjectEx(dummy, 5000, TRUE), WAIT_IO_COMPLETION);
    CHECK_EQ(calls, 4);
    pthread_join(t, NULL);
    memset(&o1, 0, sizeof(o1));
    o1.Pointer = (PVOID)5;
    CHECK_EQ(WSARecv(s, &w1, 1, &n, &flags, &o1, routine), SOCKET_ERROR);
    CHECK_EQ(pthread_create(&t, NULL, late_sender, NULL), 0);
    CHECK_EQ(WaitForMultipleObjectsEx(1, &dummy, FALSE, 5000, TRUE), WAIT_IO_COMPLETION);
    CHECK_EQ(calls, 5);
    pthread_join(t, NULL);

    /* An alertable wait with nothing queued times out as usual. */
    CHECK_EQ(SleepEx(20, TRUE), 0);
    CHECK_EQ(WSAWaitForMultipleEvents(1, &dummy, FALSE, 20, TRUE), WSA_WAIT_TIMEOUT);
    CHECK_EQ(order[2] + order[3] + order[4], 3 + 4 + 5);

    closesocket(c);
    closesocket(s);
    WSACloseEvent(dummy);
    WSACloseEvent(unused);
    WSACleanup();
    printf("ok\n");
    return 0;
}
