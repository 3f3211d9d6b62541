/* The low two bits of a handle are tag bits Windows ignores: an event with its low bit
 * set (how a request asks for no completion packet) is still waited on and signalled
 * (Wine's test_connect_completion_port waits on hEvent | 1). */
#include "check.h"

int main(void) {
    startup();
    HANDLE ev = WSACreateEvent();
    HANDLE tagged = (HANDLE)((ULONG_PTR)ev | 1);
    CHECK(SetEvent(tagged));
    CHECK_EQ(WaitForSingleObject(tagged, 0), WAIT_OBJECT_0);
    CHECK(WSAResetEvent(tagged));
    CHECK_EQ(WaitForSingleObject(ev, 0), WAIT_TIMEOUT);

    /* A receive completing with hEvent | 1 signals the event. */
    SOCKET c, s;
    tcp_pair(&c, &s);
    char b[8];
    WSABUF wb = {sizeof(b), b};
    DWORD n = 0, flags = 0;
    OVERLAPPED ov = {0};
    ov.hEvent = tagged;
    CHECK_EQ(WSARecv(s, &wb, 1, &n, &flags, &ov, NULL), SOCKET_ERROR);
    CHECK_EQ(WSAGetLastError(), WSA_IO_PENDING);
    CHECK_EQ(send(c, "abc", 3, 0), 3);
    CHECK_EQ(WaitForSingleObject(tagged, 2000), WAIT_OBJECT_0);
    CHECK(WSAGetOverlappedResult(s, &ov, &n, FALSE, &flags));
    CHECK_EQ(n, 3);
    closesocket(c);
    closesocket(s);
    WSACloseEvent(ev);
    WSACleanup();
    printf("ok\n");
    return 0;
}
