/* The extension functions through SIO_GET_EXTENSION_FUNCTION_POINTER (an unknown GUID is
 * WSAEINVAL); AcceptEx with a receive length waits for the first data, fills the output
 * buffer (data, then the two address blocks) and GetAcceptExSockaddrs decodes it;
 * ConnectEx connects a bound socket and sends its first data; DisconnectEx. */
#include "check.h"
#include <mswsock.h>

/* A common pattern: the program's own global pointers named after the functions. */
LPFN_CONNECTEX ConnectEx;
LPFN_DISCONNECTEX DisconnectEx;

static void *extension(SOCKET s, GUID guid) {
    void *fn = NULL;
    DWORD bytes = 0;
    CHECK_EQ(WSAIoctl(s, SIO_GET_EXTENSION_FUNCTION_POINTER, &guid, sizeof(guid), &fn, sizeof(fn), &bytes, NULL, NULL), 0);
    CHECK_EQ(bytes, sizeof(fn));
    CHECK(fn != NULL);
    return fn;
}

int main(void) {
    startup();
    SOCKADDR_IN la;
    SOCKET l = listener(&la);
    GUID g_accept = WSAID_ACCEPTEX, g_addrs = WSAID_GETACCEPTEXSOCKADDRS, g_connect = WSAID_CONNECTEX,
         g_disconnect = WSAID_DISCONNECTEX, g_recvmsg = WSAID_WSARECVMSG, g_sendmsg = WSAID_WSASENDMSG,
         g_transmit = WSAID_TRANSMITFILE;
    LPFN_ACCEPTEX pAcceptEx = (LPFN_ACCEPTEX)extension(l, g_accept);
    LPFN_GETACCEPTEXSOCKADDRS pAddrs = (LPFN_GETACCEPTEXSOCKADDRS)extension(l, g_addrs);
    ConnectEx = (LPFN_CONNECTEX)extension(l, g_connect);
    DisconnectEx = (LPFN_DISCONNECTEX)extension(l, g_disconnect);
    CHECK(extension(l, g_recvmsg) != NULL);
    CHECK(extension(l, g_sendmsg) != NULL);
    CHECK(extension(l, g_transmit) != NULL);
    CHECK(pAcceptEx == AcceptEx);
    CHECK(pAddrs == GetAcceptExSockaddrs);

    /* An unknown GUID: WSAEINVAL. */
    GUID bogus = {0x12345678, 0x1234, 0x1234, {1, 2, 3, 4, 5, 6, 7, 8}};
    void *fn = NULL;
    DWORD bytes = 0;
    CHECK_EQ(WSAIoctl(l, SIO_GET_EXTENSION_FUNCTION_POINTER, &bogus, sizeof(bogus), &fn, sizeof(fn), &bytes, NULL, NULL), SOCKET_ERROR);
    CHECK_EQ(WSAGetLastError(), WSAEINVAL);

    /* AcceptEx with 16 bytes of first data. */
    enum { DATA = 16, ADDR = sizeof(SOCKADDR_IN) + 16 };
    char out[DATA + 2 * ADDR];
    memset(out, 0xAA, sizeof(out));
    SOCKET acceptor = WSASocket(AF_INET, SOCK_STREAM, 0, NULL, 0, WSA_FLAG_OVERLAPPED);
    WSAEVENT ev = WSACreateEvent();
    WSAOVERLAPPED ov;
    memset(&ov, 0, sizeof(ov));
    ov.hEvent = ev;
    DWORD received = 1234;
    CHECK(!pAcceptEx(l, acceptor, out, DATA, ADDR, ADDR, &received, NULL));
    CHECK_EQ(WSAGetLastError(), WSA_INVALID_PARAMETER);
    CHECK(!pAcceptEx(l, acceptor, out, DATA, ADDR, 0, &received, &ov));
    CHECK_EQ(WSAGetLastError(), WSAEFAULT);
    CHECK(!pAcceptEx(l, acceptor, out, DATA, ADDR, ADDR, &received, &ov));
    CHECK_EQ(WSAGetLastError(), ERROR_IO_PENDING);
    CHECK_EQ(received, 1234);
    CHECK_EQ(ov.Internal, STATUS_PENDING);

    SOCKET client = WSASocket(AF_INET, SOCK_STREAM, 0, NULL, 0, WSA_FLAG_OVERLAPPED);
    CHECK_EQ(connect(client, (SOCKADDR *)&la, sizeof(la)), 0);
    /* Connected, but no data yet: AcceptEx is still pending. */
    CHECK_EQ(WSAWaitForMultipleEvents(1, &ev, FALSE, 150, FALSE), WSA_WAIT_TIMEOUT);
    CHECK(!HasOverlappedIoCompleted(&ov));
    CHECK_EQ(send(client, "first data here!", 16, 0), 16);
    CHECK_EQ(WSAWaitForMultipleEvents(1, &ev, FALSE, 5000, FALSE), WSA_WAIT_EVENT_0);
    DWORD got = 0, flags = 0;
    CHECK(WSAGetOverlappedResult(l, &ov, &got, FALSE, &flags));
    CHECK_EQ(got, 16);
    CHECK(memcmp(out, "first data here!", 16) == 0);

    struct sockaddr *local = NULL, *remote = NULL;
    int local_len = 0, remote_len = 0;
    pAddrs(out, DATA, ADDR, ADDR, &local, &local_len, &remote, &remote_len);
    CHECK(local != NULL && remote != NULL);
    CHECK_EQ(local_len, sizeof(SOCKADDR_IN));
    CHECK_EQ(remote_len, sizeof(SOCKADDR_IN));
    SOCKADDR_IN *lo = (SOCKADDR_IN *)local, *re = (SOCKADDR_IN *)remote;
    CHECK_EQ(lo->sin_family, AF_INET);
    CHECK_EQ(lo->sin_port, la.sin_port);
    CHECK_EQ(lo->sin_addr.S_un.S_addr, inet_addr("127.0.0.1"));
    SOCKADDR_IN ca;
    int ca_len = sizeof(ca);
    CHECK_EQ(getsockname(client, (SOCKADDR *)&ca, &ca_len), 0);
    CHECK_EQ(re->sin_family, AF_INET);
    CHECK_EQ(re->sin_port, ca.sin_port);
    CHECK_EQ(re->sin_addr.s_addr, ca.sin_addr.s_addr);
    CHECK_EQ(setsockopt(acceptor, SOL_SOCKET, SO_UPDATE_ACCEPT_CONTEXT, (char *)&l, sizeof(l)), 0);
    SOCKADDR_IN pa;
    int pa_len = sizeof(pa);
    CHECK_EQ(getpeername(acceptor, (SOCKADDR *)&pa, &pa_len), 0);
    CHECK_EQ(pa.sin_port, ca.sin_port);
    /* The accepted socket works. */
    CHECK_EQ(send(acceptor, "back", 4, 0), 4);
    char b[8];
    CHECK_EQ(recv(client, b, sizeof(b), 0), 4);
    CHECK(memcmp(b, "back", 4) == 0);

    /* ConnectEx: unbound -> WSAEINVAL; bound -> connects and sends its data. */
    SOCKET cx = WSASocket(AF_INET, SOCK_STREAM, 0, NULL, 0, WSA_FLAG_OVERLAPPED);
    memset(&ov, 0, sizeof(ov));
    ov.hEvent = ev;
    DWORD sent = 0;
    CHECK(!ConnectEx(cx, (SOCKADDR *)&la, sizeof(la), (PVOID) "hey", 3, &sent, &ov));
    CHECK_EQ(WSAGetLastError(), WSAEINVAL);
    SOCKADDR_IN any;
    memset(&any, 0, sizeof(any));
    any.sin_family = AF_INET;
    any.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    CHECK_EQ(bind(cx, (SOCKADDR *)&any, sizeof(any)), 0);
    memset(&ov, 0, sizeof(ov));
    ov.hEvent = ev;
    if (!ConnectEx(cx, (SOCKADDR *)&la, sizeof(la), (PVOID) "hey", 3, &sent, &ov)) {
        CHECK_EQ(WSAGetLastError(), ERROR_IO_PENDING);
        CHECK_EQ(WSAWaitForMultipleEvents(1, &ev, FALSE, 5000, FALSE), WSA_WAIT_EVENT_0);
        CHECK(WSAGetOverlappedResult(cx, &ov, &sent, FALSE, &flags));
    }
    CHECK_EQ(sent, 3);
    CHECK_EQ(setsockopt(cx, SOL_SOCKET, SO_UPDATE_CONNECT_CONTEXT, NULL, 0), 0);
    SOCKET srv = accept(l, NULL, NULL);
    CHECK(srv != INVALID_SOCKET);
    CHECK_EQ(recv(srv, b, sizeof(b), 0), 3);
    CHECK(memcmp(b, "hey", 3) == 0);

    /* DisconnectEx: pends (as on Windows); the event is signalled; the peer sees the
     * end of the stream. */
    memset(&ov, 0, sizeof(ov));
    ov.hEvent = ev;
    CHECK(!DisconnectEx(cx, &ov, 0, 0));
    CHECK_EQ(WSAGetLastError(), WSA_IO_PENDING);
    CHECK_EQ(WaitForSingleObject(ev, 5000), WAIT_OBJECT_0);
    CHECK_EQ(recv(srv, b, sizeof(b), 0), 0);

    closesocket(srv);
    closesocket(cx);
    closesocket(client);
    closesocket(acceptor);
    closesocket(l);
    WSACloseEvent(ev);
    WSACleanup();
    printf("ok\n");
    return 0;
}
