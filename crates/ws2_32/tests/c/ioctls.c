/* WSAIoctl control codes that query the host or the socket (Wine's test_address_list_query,
 * test_get_interface_list, test_sioRoutingInterfaceQuery, test_sioAddressListChange,
 * test_backlog_query, test_base_handle, test_circular_queueing, test_keepalive_vals). */
#include <winsock2.h>
#include <ws2tcpip.h>
#include <mstcpip.h>
#include <stdio.h>
#include <string.h>
#include "check.h"

int main(void) {
    char buf[4096];
    DWORD size, bytes;
    ULONG_PTR key;
    OVERLAPPED ov, *got;
    startup();

    /* SIO_ADDRESS_LIST_QUERY: size rules, list self-consistent. */
    SOCKET s = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
    size = 0;
    CHECK(WSAIoctl(s, SIO_ADDRESS_LIST_QUERY, NULL, 0, NULL, 0, &size, NULL, NULL) == SOCKET_ERROR);
    CHECK_EQ(WSAGetLastError(), WSAEFAULT);
    DWORD need = size;
    CHECK(need >= 8);
    size = 0xdeadbeef;
    CHECK(WSAIoctl(s, SIO_ADDRESS_LIST_QUERY, NULL, 0, buf, 1, &size, NULL, NULL) == SOCKET_ERROR);
    CHECK_EQ(WSAGetLastError(), WSAEINVAL);
    CHECK_EQ(size, 0);
    CHECK_EQ(WSAIoctl(s, SIO_ADDRESS_LIST_QUERY, NULL, 0, buf, sizeof(buf), &size, NULL, NULL), 0);
    CHECK_EQ(size, need);
    SOCKET_ADDRESS_LIST *list = (SOCKET_ADDRESS_LIST *)buf;
    DWORD expect = (DWORD)FIELD_OFFSET(SOCKET_ADDRESS_LIST, Address[list->iAddressCount]);
    for (int i = 0; i < list->iAddressCount; i++) {
        expect += list->Address[i].iSockaddrLength;
        CHECK_EQ(list->Address[i].lpSockaddr->sa_family, AF_INET);
    }
    CHECK_EQ(size, expect);
    /* NULL size: WSAEFAULT even without an OVERLAPPED. */
    CHECK(WSAIoctl(s, SIO_ADDRESS_LIST_QUERY, NULL, 0, buf, sizeof(buf), NULL, NULL, NULL) == SOCKET_ERROR);
    CHECK_EQ(WSAGetLastError(), WSAEFAULT);

    /* SIO_GET_INTERFACE_LIST: loopback listed; overlapped pends, too small completes
     * with STATUS_BUFFER_TOO_SMALL. */
    HANDLE port = CreateIoCompletionPort((HANDLE)s, NULL, 7, 0);
    CHECK(port != NULL);
    CHECK_EQ(WSAIoctl(s, SIO_GET_INTERFACE_LIST, NULL, 0, buf, sizeof(buf), &size, NULL, NULL), 0);
    CHECK(size && size % sizeof(INTERFACE_INFO) == 0);
    INTERFACE_INFO *info = (INTERFACE_INFO *)buf;
    int loopback = 0;
    for (DWORD i = 0; i < size / sizeof(INTERFACE_INFO); i++) {
        if (info[i].iiFlags & IFF_LOOPBACK) loopback = 1;
        CHECK_EQ(info[i].iiAddress.AddressIn.sin_family, AF_INET);
        CHECK_EQ(info[i].iiNetmask.AddressIn.sin_family, AF_INET);
    }
    CHECK(loopback);
    DWORD list_size = size;
    memset(&ov, 0, sizeof(ov));
    size = 0xdeadbeef;
    CHECK(WSAIoctl(s, SIO_GET_INTERFACE_LIST, NULL, 0, buf, sizeof(buf), &size, &ov, NULL) == SOCKET_ERROR);
    CHECK_EQ(WSAGetLastError(), WSA_IO_PENDING);
    CHECK(GetQueuedCompletionStatus(port, &bytes, &key, &got, 1000));
    CHECK_EQ(bytes, list_size);
    CHECK(WSAIoctl(s, SIO_GET_INTERFACE_LIST, NULL, 0, buf, sizeof(INTERFACE_INFO) - 1, &size, &ov, NULL) == SOCKET_ERROR);
    CHECK_EQ(WSAGetLastError(), WSA_IO_PENDING);
    CHECK(!GetQueuedCompletionStatus(port, &bytes, &key, &got, 1000));
    CHECK_EQ(GetLastError(), ERROR_INSUFFICIENT_BUFFER);
    CHECK(got == &ov);

    /* SIO_ADDRESS_LIST_CHANGE: non-blocking without OVERLAPPED WSAEWOULDBLOCK; pends;
     * closesocket completes it with ERROR_OPERATION_ABORTED at once. */
    u_long one = 1;
    CHECK_EQ(ioctlsocket(s, FIONBIO, &one), 0);
    CHECK(WSAIoctl(s, SIO_ADDRESS_LIST_CHANGE, NULL, 0, NULL, 0, &size, NULL, NULL) == SOCKET_ERROR);
    CHECK_EQ(WSAGetLastError(), WSAEWOULDBLOCK);
    memset(&ov, 0, sizeof(ov));
    CHECK(WSAIoctl(s, SIO_ADDRESS_LIST_CHANGE, NULL, 0, NULL, 0, &size, &ov, NULL) == SOCKET_ERROR);
    CHECK_EQ(WSAGetLastError(), WSA_IO_PENDING);
    CHECK(!GetQueuedCompletionStatus(port, &bytes, &key, &got, 0));
    CHECK_EQ(GetLastError(), WAIT_TIMEOUT);
    closesocket(s);
    CHECK(!GetQueuedCompletionStatus(port, &bytes, &key, &got, 0));
    CHECK_EQ(GetLastError(), ERROR_OPERATION_ABORTED);
    CHECK(got == &ov);
    CloseHandle(port);

    /* SIO_ROUTING_INTERFACE_QUERY to loopback; unspecified destination WSAEINVAL. */
    s = socket(AF_INET, SOCK_DGRAM, IPPROTO_UDP);
    SOCKADDR_IN in, out;
    memset(&in, 0, sizeof(in));
    in.sin_family = AF_INET;
    size = 0xdeadbeef;
    CHECK(WSAIoctl(s, SIO_ROUTING_INTERFACE_QUERY, &in, sizeof(in), &out, sizeof(out), &size, NULL, NULL) == SOCKET_ERROR);
    CHECK_EQ(WSAGetLastError(), WSAEINVAL);
    CHECK_EQ(size, 0xdeadbeef);
    in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    CHECK_EQ(WSAIoctl(s, SIO_ROUTING_INTERFACE_QUERY, &in, sizeof(in), &out, sizeof(out), &size, NULL, NULL), 0);
    CHECK_EQ(size, sizeof(out));
    CHECK_EQ(out.sin_family, AF_INET);
    CHECK_EQ(ntohl(out.sin_addr.s_addr) >> 24, 127);
    CHECK(WSAIoctl(s, SIO_ROUTING_INTERFACE_QUERY, &in, sizeof(in), &out, sizeof(out) - 1, &size, NULL, NULL) == SOCKET_ERROR);
    CHECK_EQ(WSAGetLastError(), WSAEFAULT);
    CHECK_EQ(size, sizeof(out));

    /* SIO_IDEAL_SEND_BACKLOG_QUERY on UDP: WSAEOPNOTSUPP; circular queueing: accepted. */
    ULONG backlog;
    CHECK(WSAIoctl(s, SIO_IDEAL_SEND_BACKLOG_QUERY, NULL, 0, &backlog, sizeof(backlog), &size, NULL, NULL) == SOCKET_ERROR);
    CHECK_EQ(WSAGetLastError(), WSAEOPNOTSUPP);
    CHECK_EQ(WSAIoctl(s, SIO_ENABLE_CIRCULAR_QUEUEING, NULL, 0, NULL, 0, &size, NULL, NULL), 0);

    /* SIO_BASE_HANDLE: the socket itself. */
    SOCKET base = 0;
    CHECK(SIO_BSP_HANDLE_POLL == 0x4800001D);
    CHECK_EQ(WSAIoctl(s, SIO_BASE_HANDLE, NULL, 0, &base, sizeof(base), &size, NULL, NULL), 0);
    CHECK_EQ(size, sizeof(base));
    CHECK(base == s);
    closesocket(s);

    /* SIO_IDEAL_SEND_BACKLOG_QUERY: unconnected WSAENOTCONN, connected 64 KiB. */
    SOCKADDR_IN addr;
    SOCKET l = listener(&addr);
    SOCKET c = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
    CHECK(WSAIoctl(c, SIO_IDEAL_SEND_BACKLOG_QUERY, NULL, 0, &backlog, sizeof(backlog), &size, NULL, NULL) == SOCKET_ERROR);
    CHECK_EQ(WSAGetLastError(), WSAENOTCONN);
    CHECK_EQ(connect(c, (SOCKADDR *)&addr, sizeof(addr)), 0);
    CHECK_EQ(WSAIoctl(c, SIO_IDEAL_SEND_BACKLOG_QUERY, NULL, 0, &backlog, sizeof(backlog), &size, NULL, NULL), 0);
    CHECK_EQ(backlog, 0x10000);

    /* SIOCATMARK: FALSE while urgent data waits, TRUE once it is read. */
    SOCKET a = accept(l, NULL, NULL);
    CHECK(a != INVALID_SOCKET);
    int mark = 0;
    CHECK_EQ(WSAIoctl(c, SIOCATMARK, NULL, 0, &mark, sizeof(mark), &size, NULL, NULL), 0);
    CHECK_EQ(mark, 1);
    CHECK_EQ(send(a, "x", 1, MSG_OOB), 1);
    for (int i = 0; i < 100 && mark; i++) {
        Sleep(10);
        CHECK_EQ(WSAIoctl(c, SIOCATMARK, NULL, 0, &mark, sizeof(mark), &size, NULL, NULL), 0);
    }
    CHECK_EQ(mark, 0);
    CHECK_EQ(recv(c, buf, 1, MSG_OOB), 1);
    CHECK_EQ(WSAIoctl(c, SIOCATMARK, NULL, 0, &mark, sizeof(mark), &size, NULL, NULL), 0);
    CHECK_EQ(mark, 1);

    /* SIO_KEEPALIVE_VALS overlapped: the size is left alone. */
    HANDLE port2 = CreateIoCompletionPort((HANDLE)c, NULL, 9, 0);
    struct tcp_keepalive k = {1, 1000, 1000};
    memset(&ov, 0, sizeof(ov));
    size = 0xdeadbeef;
    CHECK_EQ(WSAIoctl(c, SIO_KEEPALIVE_VALS, &k, sizeof(k), NULL, 0, &size, &ov, NULL), 0);
    CHECK_EQ(size, 0xdeadbeef);
    CHECK(GetQueuedCompletionStatus(port2, &bytes, &key, &got, 1000));
    CloseHandle(port2);
    closesocket(a);
    closesocket(c);
    closesocket(l);
    WSACleanup();
    puts("ok");
    return 0;
}
