/* WSARecvMsg's control data as Windows gives it (Wine's test_ip_pktinfo, test_ipv4_cmsg,
 * test_ipv6_cmsg): WSACMSGHDR layout, Windows numbering (IN_PKTINFO {addr, ifindex},
 * IP_TOS an int); control data that does not fit is WSAEMSGSIZE with MSG_CTRUNC, the
 * datagram still counted, in both the synchronous and the overlapped form (the
 * WSAGetOverlappedResult flags are then left alone; with a completion routine the call
 * says WSA_IO_PENDING). And WSASendMsg binds an unbound datagram socket even when it
 * fails (Wine's test_WSASendMsg). */
#include "check.h"

static GUID recvmsg_guid = WSAID_WSARECVMSG;
static GUID sendmsg_guid = WSAID_WSASENDMSG;
static int routine_calls;
static DWORD routine_error, routine_size, routine_flags;

static void WINAPI routine(DWORD error, DWORD size, OVERLAPPED *ov, DWORD flags) {
    (void)ov;
    routine_error = error;
    routine_size = size;
    routine_flags = flags;
    ++routine_calls;
}

int main(void) {
    startup();
    LPFN_WSARECVMSG pRecvMsg = NULL;
    LPFN_WSASENDMSG pSendMsg = NULL;
    DWORD n;
    SOCKET r = socket(AF_INET, SOCK_DGRAM, IPPROTO_UDP);
    SOCKET s = socket(AF_INET, SOCK_DGRAM, IPPROTO_UDP);
    CHECK(r != INVALID_SOCKET && s != INVALID_SOCKET);
    CHECK_EQ(WSAIoctl(r, SIO_GET_EXTENSION_FUNCTION_POINTER, &recvmsg_guid, sizeof(recvmsg_guid),
                      &pRecvMsg, sizeof(pRecvMsg), &n, NULL, NULL), 0);
    CHECK_EQ(WSAIoctl(r, SIO_GET_EXTENSION_FUNCTION_POINTER, &sendmsg_guid, sizeof(sendmsg_guid),
                      &pSendMsg, sizeof(pSendMsg), &n, NULL, NULL), 0);

    SOCKADDR_IN a;
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.S_un.S_addr = inet_addr("127.0.0.1");
    CHECK_EQ(bind(r, (SOCKADDR *)&a, sizeof(a)), 0);
    int len = sizeof(a);
    CHECK_EQ(getsockname(r, (SOCKADDR *)&a, &len), 0);

    DWORD on = 1;
    CHECK_EQ(setsockopt(r, IPPROTO_IP, IP_PKTINFO, (const char *)&on, sizeof(on)), 0);
    CHECK_EQ(setsockopt(r, IPPROTO_IP, IP_RECVTOS, (const char *)&on, sizeof(on)), 0);

    /* Both messages, Windows' layout. */
    char data[16], control[128];
    SOCKADDR_IN from;
    WSABUF buf = {sizeof(data), data};
    WSAMSG msg;
    memset(&msg, 0, sizeof(msg));
    msg.name = (SOCKADDR *)&from;
    msg.namelen = sizeof(from);
    msg.lpBuffers = &buf;
    msg.dwBufferCount = 1;
    msg.Control.buf = control;
    msg.Control.len = sizeof(control);
    memset(control, 0xcc, sizeof(control));
    CHECK_EQ(sendto(s, "HELLO", 6, 0, (SOCKADDR *)&a, sizeof(a)), 6);
    n = 0;
    CHECK_EQ(pRecvMsg(r, &msg, &n, NULL, NULL), 0);
    CHECK_EQ(n, 6);
    CHECK_EQ(msg.dwFlags, 0);
    CHECK_EQ(from.sin_addr.S_un.S_addr, inet_addr("127.0.0.1"));
    int pktinfo = 0, tos = 0;
    for (WSACMSGHDR *c = WSA_CMSG_FIRSTHDR(&msg); c; c = WSA_CMSG_NXTHDR(&msg, c)) {
        CHECK_EQ(c->cmsg_level, IPPROTO_IP);
        if (c->cmsg_type == IP_PKTINFO) {
            IN_PKTINFO *pi = (IN_PKTINFO *)WSA_CMSG_DATA(c);
            CHECK_EQ(c->cmsg_len, WSA_CMSG_LEN(sizeof(IN_PKTINFO)));
            CHECK_EQ(pi->ipi_addr.S_un.S_addr, inet_addr("127.0.0.1"));
            CHECK(pi->ipi_ifindex != 0);
            ++pktinfo;
        } else if (c->cmsg_type == IP_TOS) {
            CHECK_EQ(c->cmsg_len, WSA_CMSG_LEN(sizeof(INT)));
            CHECK_EQ(*(INT *)WSA_CMSG_DATA(c), 0);
            ++tos;
        } else {
            CHECK(!"unexpected control message");
        }
    }
    CHECK_EQ(pktinfo, 1);
    CHECK_EQ(tos, 1);
    CHECK_EQ(msg.Control.len, WSA_CMSG_SPACE(sizeof(IN_PKTINFO)) + WSA_CMSG_SPACE(sizeof(INT)));

    /* Too small a control buffer, synchronous: WSAEMSGSIZE, MSG_CTRUNC, data counted. */
    CHECK_EQ(sendto(s, "HELLO", 6, 0, (SOCKADDR *)&a, sizeof(a)), 6);
    msg.Control.len = 1;
    msg.dwFlags = 0;
    n = 0;
    CHECK_EQ(pRecvMsg(r, &msg, &n, NULL, NULL), SOCKET_ERROR);
    CHECK_EQ(WSAGetLastError(), WSAEMSGSIZE);
    CHECK_EQ(n, 6);
    CHECK_EQ(msg.dwFlags, MSG_CTRUNC);
    CHECK(memcmp(data, "HELLO", 6) == 0);

    /* Overlapped, pending: STATUS_BUFFER_OVERFLOW; WSAGetOverlappedResult leaves the
     * flags alone; the message's Control.len is untouched until completion. */
    WSAOVERLAPPED ov;
    memset(&ov, 0, sizeof(ov));
    ov.hEvent = WSACreateEvent();
    msg.Control.len = 1;
    msg.dwFlags = 0;
    CHECK_EQ(pRecvMsg(r, &msg, NULL, &ov, NULL), SOCKET_ERROR);
    CHECK_EQ(WSAGetLastError(), WSA_IO_PENDING);
    CHECK_EQ(msg.Control.len, 1);
    CHECK_EQ(sendto(s, "HELLO", 6, 0, (SOCKADDR *)&a, sizeof(a)), 6);
    CHECK_EQ(WaitForSingleObject(ov.hEvent, 5000), WAIT_OBJECT_0);
    CHECK_EQ((LONG)ov.Internal, (LONG)0x80000005); /* STATUS_BUFFER_OVERFLOW */
    CHECK_EQ(ov.InternalHigh, 6);
    DWORD flags = 0xdeadbeef;
    CHECK(!WSAGetOverlappedResult(r, &ov, &n, FALSE, &flags));
    CHECK_EQ(WSAGetLastError(), WSAEMSGSIZE);
    CHECK_EQ(n, 6);
    CHECK_EQ(flags, 0xdeadbeef);
    CHECK_EQ(msg.dwFlags, MSG_CTRUNC);
    CHECK_EQ(msg.Control.len, 0);

    /* With a completion routine and the datagram already there: WSA_IO_PENDING, and
     * the routine reports WSAEMSGSIZE. */
    CHECK_EQ(sendto(s, "HELLO", 6, 0, (SOCKADDR *)&a, sizeof(a)), 6);
    Sleep(50);
    msg.Control.len = 1;
    msg.dwFlags = 0;
    CHECK_EQ(pRecvMsg(r, &msg, NULL, &ov, routine), SOCKET_ERROR);
    CHECK_EQ(WSAGetLastError(), WSA_IO_PENDING);
    CHECK_EQ(SleepEx(1000, TRUE), WAIT_IO_COMPLETION);
    CHECK_EQ(routine_calls, 1);
    CHECK_EQ(routine_error, WSAEMSGSIZE);
    CHECK_EQ(routine_size, 6);
    CHECK_EQ(routine_flags, 0);
    CHECK_EQ(msg.dwFlags, MSG_CTRUNC);

    /* A WSASendMsg that fails (NULL count, no overlapped) still binds the socket. */
    SOCKET u = socket(AF_INET, SOCK_DGRAM, 0);
    CHECK(u != INVALID_SOCKET);
    SOCKADDR_IN la;
    len = sizeof(la);
    CHECK_EQ(getsockname(u, (SOCKADDR *)&la, &len), SOCKET_ERROR);
    CHECK_EQ(WSAGetLastError(), WSAEINVAL);
    WSAMSG smsg;
    memset(&smsg, 0, sizeof(smsg));
    WSABUF sbuf = {6, "HELLO"};
    smsg.name = (SOCKADDR *)&a;
    smsg.namelen = sizeof(a);
    smsg.lpBuffers = &sbuf;
    smsg.dwBufferCount = 1;
    CHECK_EQ(pSendMsg(u, &smsg, 0, NULL, NULL, NULL), SOCKET_ERROR);
    len = sizeof(la);
    CHECK_EQ(getsockname(u, (SOCKADDR *)&la, &len), 0);
    CHECK_EQ(la.sin_addr.S_un.S_addr, htonl(INADDR_ANY));
    CHECK(la.sin_port != 0);

    closesocket(u);
    closesocket(r);
    closesocket(s);
    WSACloseEvent(ov.hEvent);
    WSACleanup();
    printf("ok\n");
    return 0;
}
