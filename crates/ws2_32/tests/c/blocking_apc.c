/* Winsock's blocking calls wait alertably (Wine's test_select / test_WSARecv record
 * Windows): a user APC queued to a thread blocked in recv, WSARecv or select runs during
 * the call, and the call goes on waiting for what it waits for; a call that finds its
 * socket ready at once runs nothing. */
#include "check.h"
#include <windows.h>

static int apc_count;
static SOCKET apc_peer;

static void WINAPI send_apc(ULONG_PTR arg) {
    (void)arg;
    apc_count++;
    CHECK_EQ(send(apc_peer, "test", 4, 0), 4);
}

static void WINAPI count_apc(ULONG_PTR arg) { (*(int *)arg)++; }

struct recv_arg {
    SOCKET s;
    int use_wsarecv;
    int got;
    HANDLE ready;
};

static DWORD WINAPI recv_thread(void *p) {
    struct recv_arg *a = p;
    char buf[32];
    SetEvent(a->ready);
    if (a->use_wsarecv) {
        WSABUF wb = {sizeof(buf), buf};
        DWORD n = 0, flags = 0;
        CHECK_EQ(WSARecv(a->s, &wb, 1, &n, &flags, NULL, NULL), 0);
        a->got = (int)n;
    } else {
        a->got = recv(a->s, buf, sizeof(buf), 0);
    }
    return 0;
}

static void blocked_call_runs_a_queued_apc(SOCKET c, SOCKET s, int use_wsarecv) {
    struct recv_arg a = {s, use_wsarecv, -1, CreateEventA(NULL, TRUE, FALSE, NULL)};
    apc_count = 0;
    apc_peer = c;
    HANDLE t = CreateThread(NULL, 0, recv_thread, &a, 0, NULL);
    CHECK(t != NULL);
    CHECK_EQ(WaitForSingleObject(a.ready, 5000), WAIT_OBJECT_0);
    Sleep(100); /* the thread is now blocked in the receive */
    CHECK(QueueUserAPC(send_apc, t, 0));
    /* Without the APC nothing ever arrives: the APC's send is what the call receives. */
    CHECK_EQ(WaitForSingleObject(t, 5000), WAIT_OBJECT_0);
    CHECK_EQ(apc_count, 1);
    CHECK_EQ(a.got, 4);
    CloseHandle(t);
    CloseHandle(a.ready);
}

int main(void) {
    startup();
    SOCKET c, s;
    tcp_pair(&c, &s);

    blocked_call_runs_a_queued_apc(c, s, 0);
    blocked_call_runs_a_queued_apc(c, s, 1);

    /* select that waits runs the APC and goes on waiting until its timeout. */
    int n = 0;
    CHECK(QueueUserAPC(count_apc, GetCurrentThread(), (ULONG_PTR)&n));
    fd_set r;
    FD_ZERO(&r);
    FD_SET(s, &r);
    struct timeval tv = {0, 200000};
    DWORD t0 = GetTickCount();
    CHECK_EQ(select(0, &r, NULL, NULL, &tv), 0);
    CHECK(GetTickCount() - t0 >= 150);
    CHECK_EQ(n, 1);

    /* Ready at once: nothing runs; the APC waits for the next alertable wait. */
    n = 0;
    CHECK(QueueUserAPC(count_apc, GetCurrentThread(), (ULONG_PTR)&n));
    fd_set w;
    FD_ZERO(&w);
    FD_SET(c, &w);
    CHECK_EQ(select(0, NULL, &w, NULL, &tv), 1);
    CHECK_EQ(n, 0);
    /* A blocking recv that finds data runs nothing either. */
    char buf[8];
    CHECK_EQ(send(c, "x", 1, 0), 1);
    Sleep(50);
    CHECK_EQ(recv(s, buf, sizeof(buf), 0), 1);
    CHECK_EQ(n, 0);
    CHECK_EQ(SleepEx(0, TRUE), WAIT_IO_COMPLETION);
    CHECK_EQ(n, 1);

    closesocket(c);
    closesocket(s);
    WSACleanup();
    printf("ok\n");
    return 0;
}
