/* The checked boundary: calls before WSAStartup fail with WSANOTINITIALISED; NULL
 * pointers with WSAEFAULT; INVALID_SOCKET and non-socket handles with WSAENOTSOCK; bad
 * event handles with WSA_INVALID_HANDLE; bad counts with WSAEINVAL /
 * WSA_INVALID_PARAMETER. Nothing crashes. */
#include "check.h"

int main(void) {
    char buf[16];
    WSABUF wb = {sizeof(buf), buf};
    DWORD n = 0, flags = 0;
    WSAOVERLAPPED ov;
    memset(&ov, 0, sizeof(ov));

    /* Before WSAStartup. */
    CHECK_EQ(socket(AF_INET, SOCK_STREAM, 0), INVALID_SOCKET);
    CHECK_EQ(WSAGetLastError(), WSANOTINITIALISED);
    CHECK_EQ(WSASocket(AF_INET, SOCK_STREAM, 0, NULL, 0, WSA_FLAG_OVERLAPPED), INVALID_SOCKET);
    CHECK_EQ(WSAGetLastError(), WSANOTINITIALISED);
    CHECK_EQ(WSARecv(0x100, &wb, 1, &n, &flags, &ov, NULL), SOCKET_ERROR);
    CHECK_EQ(WSAGetLastError(), WSANOTINITIALISED);
    CHECK_EQ(closesocket(0x100), SOCKET_ERROR);
    CHECK_EQ(WSAGetLastError(), WSANOTINITIALISED);
    CHECK_EQ(WSACleanup(), SOCKET_ERROR);
    CHECK_EQ(WSAGetLastError(), WSANOTINITIALISED);
    CHECK_EQ(WSAStartup(MAKEWORD(2, 2), NULL), WSAEFAULT);
    WSADATA d;
    CHECK_EQ(WSAStartup(MAKEWORD(1, 0), &d), WSAVERNOTSUPPORTED);

    startup();
    SOCKET c, s;
    tcp_pair(&c, &s);
    WSAEVENT ev = WSACreateEvent();

    /* Bad sockets. */
    CHECK_EQ(WSARecv(INVALID_SOCKET, &wb, 1, &n, &flags, &ov, NULL), SOCKET_ERROR);
    CHECK_EQ(WSAGetLastError(), WSAENOTSOCK);
    CHECK_EQ(WSASend(INVALID_SOCKET, &wb, 1, &n, 0, &ov, NULL), SOCKET_ERROR);
    CHECK_EQ(WSAGetLastError(), WSAENOTSOCK);
    CHECK_EQ(send((SOCKET)ev, "x", 1, 0), SOCKET_ERROR); /* an event is not a socket */
    CHECK_EQ(WSAGetLastError(), WSAENOTSOCK);
    CHECK_EQ(closesocket(12345), SOCKET_ERROR);
    CHECK_EQ(WSAGetLastError(), WSAENOTSOCK);
    CHECK(!WSAGetOverlappedResult(INVALID_SOCKET, &ov, &n, FALSE, &flags));
    CHECK_EQ(WSAGetLastError(), WSAENOTSOCK);
    CHECK(!AcceptEx(INVALID_SOCKET, s, buf, 0, 32, 32, &n, &ov));
    CHECK_EQ(WSAGetLastError(), WSAENOTSOCK);

    /* Bad pointers and counts. */
    CHECK_EQ(WSARecv(s, NULL, 1, &n, &flags, &ov, NULL), SOCKET_ERROR);
    CHECK_EQ(WSAGetLastError(), WSAEFAULT);
    CHECK_EQ(WSARecv(s, &wb, 0, &n, &flags, &ov, NULL), SOCKET_ERROR);
    CHECK_EQ(WSAGetLastError(), WSAEINVAL);
    CHECK_EQ(WSARecv(s, &wb, 1, &n, NULL, &ov, NULL), SOCKET_ERROR);
    CHECK_EQ(WSAGetLastError(), WSAEFAULT);
    WSABUF nullbuf = {8, NULL};
    CHECK_EQ(WSASend(s, &nullbuf, 1, &n, 0, &ov, NULL), SOCKET_ERROR);
    CHECK_EQ(WSAGetLastError(), WSAEFAULT);
    CHECK_EQ(WSASend(s, &wb, 1, NULL, 0, NULL, NULL), SOCKET_ERROR); /* non-overlapped, NULL count */
    CHECK_EQ(WSAGetLastError(), WSAEFAULT);
    CHECK_EQ(bind(s, NULL, sizeof(SOCKADDR_IN)), SOCKET_ERROR);
    CHECK_EQ(WSAGetLastError(), WSAEFAULT);
    SOCKADDR_IN a;
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    CHECK_EQ(connect(c, (SOCKADDR *)&a, 4), SOCKET_ERROR);
    CHECK_EQ(WSAGetLastError(), WSAEFAULT);
    CHECK_EQ(getsockname(s, NULL, NULL), SOCKET_ERROR);
    CHECK_EQ(WSAGetLastError(), WSAEFAULT);
    int small = 4;
    CHECK_EQ(getpeername(s, (SOCKADDR *)&a, &small), SOCKET_ERROR);
    CHECK_EQ(WSAGetLastError(), WSAEFAULT);
    CHECK_EQ(getsockopt(s, SOL_SOCKET, SO_RCVBUF, NULL, NULL), SOCKET_ERROR);
    CHECK_EQ(WSAGetLastError(), WSAEFAULT);
    CHECK(!WSAGetOverlappedResult(s, NULL, &n, FALSE, &flags));
    CHECK_EQ(WSAGetLastError(), WSAEFAULT);
    CHECK_EQ(ioctlsocket(s, FIONREAD, NULL), SOCKET_ERROR);
    CHECK_EQ(WSAGetLastError(), WSAEFAULT);
    GUID g = WSAID_ACCEPTEX;
    void *fn;
    CHECK_EQ(WSAIoctl(s, SIO_GET_EXTENSION_FUNCTION_POINTER, &g, sizeof(g), &fn, sizeof(fn), NULL, &ov, NULL), SOCKET_ERROR);
    CHECK_EQ(WSAGetLastError(), WSAEFAULT);
    CHECK_EQ(WSAIoctl(s, SIO_GET_EXTENSION_FUNCTION_POINTER, NULL, 0, &fn, sizeof(fn), &n, NULL, NULL), SOCKET_ERROR);
    CHECK_EQ(WSAGetLastError(), WSAEFAULT);
    CHECK_EQ(WSAEnumNetworkEvents(s, NULL, NULL), SOCKET_ERROR);
    CHECK_EQ(WSAGetLastError(), WSAEFAULT);
    CHECK_EQ(inet_pton(AF_INET, "127.0.0.1", NULL), -1);
    CHECK_EQ(WSAGetLastError(), WSAEFAULT);

    /* Bad event handles. */
    CHECK(!WSASetEvent((WSAEVENT)(UINT_PTR)0x7ffff0));
    CHECK_EQ(WSAGetLastError(), WSA_INVALID_HANDLE);
    CHECK(!WSAResetEvent(NULL));
    CHECK_EQ(WSAGetLastError(), WSA_INVALID_HANDLE);
    CHECK(!WSASetEvent((WSAEVENT)s)); /* a socket is not an event */
    CHECK_EQ(WSAGetLastError(), WSA_INVALID_HANDLE);
    CHECK(!WSACloseEvent((WSAEVENT)(UINT_PTR)0x7ffff0));
    CHECK_EQ(WSAGetLastError(), WSA_INVALID_HANDLE);
    memset(&ov, 0, sizeof(ov));
    ov.hEvent = (WSAEVENT)(UINT_PTR)0x7ffff0;
    CHECK_EQ(WSARecv(s, &wb, 1, &n, &flags, &ov, NULL), SOCKET_ERROR);
    CHECK_EQ(WSAGetLastError(), WSA_INVALID_HANDLE);
    CHECK_EQ(WSAWaitForMultipleEvents(1, NULL, FALSE, 0, FALSE), WSA_WAIT_FAILED);
    CHECK_EQ(WSAGetLastError(), WSA_INVALID_PARAMETER);
    CHECK(!CloseHandle((HANDLE)(UINT_PTR)0x7ffff0));
    CHECK_EQ(GetLastError(), ERROR_INVALID_HANDLE);

    /* Bad arguments. */
    CHECK_EQ(socket(AF_INET, 77, 0), INVALID_SOCKET);
    CHECK_EQ(WSAGetLastError(), WSAESOCKTNOSUPPORT);
    CHECK_EQ(socket(99, SOCK_STREAM, 0), INVALID_SOCKET);
    CHECK_EQ(WSAGetLastError(), WSAEAFNOSUPPORT);
    CHECK_EQ(shutdown(s, 7), SOCKET_ERROR);
    CHECK_EQ(WSAGetLastError(), WSAEINVAL);
    CHECK_EQ(setsockopt(s, SOL_SOCKET, 0x4242, buf, 4), SOCKET_ERROR);
    CHECK_EQ(WSAGetLastError(), WSAENOPROTOOPT);
    CHECK_EQ(inet_addr("not an address"), INADDR_NONE);
    CHECK_EQ(inet_pton(AF_INET, "300.1.1.1", buf), 0);
    CHECK_EQ(inet_pton(99, "1.1.1.1", buf), -1);
    CHECK_EQ(WSAGetLastError(), WSAEAFNOSUPPORT);

    /* After the last WSACleanup, WSANOTINITIALISED again (and the sockets are gone). */
    CHECK_EQ(WSACleanup(), 0);
    CHECK_EQ(send(c, "x", 1, 0), SOCKET_ERROR);
    CHECK_EQ(WSAGetLastError(), WSANOTINITIALISED);
    startup();
    CHECK_EQ(send(c, "x", 1, 0), SOCKET_ERROR);
    CHECK_EQ(WSAGetLastError(), WSAENOTSOCK);
    WSACloseEvent(ev);
    WSACleanup();
    printf("ok\n");
    return 0;
}
