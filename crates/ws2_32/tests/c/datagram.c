/* Datagrams: an overlapped WSARecvFrom writes the sender before its event is signalled;
 * WSASendTo; a truncated datagram completes with WSAEMSGSIZE and MSG_PARTIAL-style
 * flags; WSARecvMsg / WSASendMsg through their extension pointers; select and WSAPoll
 * on the Windows records. */
#include "check.h"

static SOCKET udp(SOCKADDR_IN *a) {
    SOCKET s = WSASocket(AF_INET, SOCK_DGRAM, 0, NULL, 0, WSA_FLAG_OVERLAPPED);
    CHECK(s != INVALID_SOCKET);
    memset(a, 0, sizeof(*a));
    a->sin_family = AF_INET;
    a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    CHECK_EQ(bind(s, (SOCKADDR *)a, sizeof(*a)), 0);
    int len = sizeof(*a);
    CHECK_EQ(getsockname(s, (SOCKADDR *)a, &len), 0);
    return s;
}

int main(void) {
    startup();
    SOCKADDR_IN ra, sa;
    SOCKET r = udp(&ra), s = udp(&sa);
    WSAEVENT ev = WSACreateEvent();

    /* Pending WSARecvFrom; the sender is in place when the event fires. */
    char buf[64];
    WSABUF wb = {sizeof(buf), buf};
    SOCKADDR_IN from;
    memset(&from, 0, sizeof(from));
    int fromlen = sizeof(from);
    DWORD n = 0, flags = 0;
    WSAOVERLAPPED ov;
    memset(&ov, 0, sizeof(ov));
    ov.hEvent = ev;
    CHECK_EQ(WSARecvFrom(r, &wb, 1, &n, &flags, (SOCKADDR *)&from, &fromlen, &ov, NULL), SOCKET_ERROR);
    CHECK_EQ(WSAGetLastError(), WSA_IO_PENDING);
    WSABUF out[2] = {{3, (CHAR *)"abc"}, {4, (CHAR *)"defg"}};
    WSAOVERLAPPED sov;
    memset(&sov, 0, sizeof(sov));
    DWORD sent = 0;
    if (WSASendTo(s, out, 2, &sent, 0, (SOCKADDR *)&ra, sizeof(ra), &sov, NULL) == SOCKET_ERROR) {
        CHECK_EQ(WSAGetLastError(), WSA_IO_PENDING);
        CHECK(WSAGetOverlappedResult(s, &sov, &sent, TRUE, &flags));
    }
    CHECK_EQ(sent, 7);
    CHECK_EQ(WSAWaitForMultipleEvents(1, &ev, FALSE, 5000, FALSE), WSA_WAIT_EVENT_0);
    CHECK_EQ(from.sin_family, AF_INET);
    CHECK_EQ(from.sin_port, sa.sin_port);
    CHECK_EQ(fromlen, sizeof(SOCKADDR_IN));
    CHECK(WSAGetOverlappedResult(r, &ov, &n, FALSE, &flags));
    CHECK_EQ(n, 7);
    CHECK(memcmp(buf, "abcdefg", 7) == 0);

    /* A datagram larger than the buffers: WSAEMSGSIZE, the part that fit, MSG_PARTIAL. */
    WSABUF small = {4, buf};
    memset(&ov, 0, sizeof(ov));
    ov.hEvent = ev;
    CHECK_EQ(sendto(s, "0123456789", 10, 0, (SOCKADDR *)&ra, sizeof(ra)), 10);
    Sleep(50);
    flags = 0;
    int rc = WSARecvFrom(r, &small, 1, &n, &flags, NULL, NULL, &ov, NULL);
    CHECK_EQ(rc, SOCKET_ERROR);
    CHECK_EQ(WSAGetLastError(), WSAEMSGSIZE);
    CHECK_EQ(n, 4);
    CHECK(flags & MSG_PARTIAL);
    CHECK(memcmp(buf, "0123", 4) == 0);
    CHECK_EQ(WaitForSingleObject(ev, 0), WAIT_OBJECT_0); /* a warning still notifies */
    DWORD got = 0;
    CHECK(!WSAGetOverlappedResult(r, &ov, &got, FALSE, &flags));
    CHECK_EQ(WSAGetLastError(), WSAEMSGSIZE);
    CHECK_EQ(got, 4);
    CHECK(flags & MSG_PARTIAL);

    /* select and WSAPoll with the Windows records. */
    CHECK_EQ(sendto(s, "x", 1, 0, (SOCKADDR *)&ra, sizeof(ra)), 1);
    fd_set rs;
    FD_ZERO(&rs);
    FD_SET(r, &rs);
    FD_SET(s, &rs);
    struct timeval tv = {2, 0};
    CHECK_EQ(select(0, &rs, NULL, NULL, &tv), 1);
    CHECK(FD_ISSET(r, &rs));
    CHECK(!FD_ISSET(s, &rs));
    WSAPOLLFD pfd[2] = {{r, POLLRDNORM, 0}, {s, POLLRDNORM, 0}};
    CHECK_EQ(WSAPoll(pfd, 2, 1000), 1);
    CHECK(pfd[0].revents & POLLRDNORM);
    CHECK_EQ(pfd[1].revents, 0);
    CHECK_EQ(recv(r, buf, sizeof(buf), 0), 1);

    /* WSASendMsg / WSARecvMsg through SIO_GET_EXTENSION_FUNCTION_POINTER. */
    GUID gs = WSAID_WSASENDMSG, gr = WSAID_WSARECVMSG;
    LPFN_WSASENDMSG pSendMsg = NULL;
    LPFN_WSARECVMSG pRecvMsg = NULL;
    DWORD bytes;
    CHECK_EQ(WSAIoctl(s, SIO_GET_EXTENSION_FUNCTION_POINTER, &gs, sizeof(gs), &pSendMsg, sizeof(pSendMsg), &bytes, NULL, NULL), 0);
    CHECK_EQ(WSAIoctl(r, SIO_GET_EXTENSION_FUNCTION_POINTER, &gr, sizeof(gr), &pRecvMsg, sizeof(pRecvMsg), &bytes, NULL, NULL), 0);
    WSAMSG m;
    memset(&m, 0, sizeof(m));
    m.name = (LPSOCKADDR)&ra;
    m.namelen = sizeof(ra);
    m.lpBuffers = out;
    m.dwBufferCount = 2;
    CHECK_EQ(pSendMsg(s, &m, 0, &sent, NULL, NULL), 0);
    CHECK_EQ(sent, 7);
    WSAMSG rm;
    memset(&rm, 0, sizeof(rm));
    memset(&from, 0, sizeof(from));
    rm.name = (LPSOCKADDR)&from;
    rm.namelen = sizeof(from);
    rm.lpBuffers = &wb;
    rm.dwBufferCount = 1;
    memset(&ov, 0, sizeof(ov));
    ov.hEvent = ev;
    if (pRecvMsg(r, &rm, &n, &ov, NULL) == SOCKET_ERROR) {
        CHECK_EQ(WSAGetLastError(), WSA_IO_PENDING);
        CHECK(WSAGetOverlappedResult(r, &ov, &n, TRUE, &flags));
    }
    CHECK_EQ(n, 7);
    CHECK_EQ(from.sin_port, sa.sin_port);

    closesocket(r);
    closesocket(s);
    WSACloseEvent(ev);
    WSACleanup();
    printf("ok\n");
    return 0;
}
