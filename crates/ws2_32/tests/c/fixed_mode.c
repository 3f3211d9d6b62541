/* Properties a program cannot change: a socket under WSAEventSelect stays non-blocking
 * (FIONBIO of 0 is WSAEINVAL through ioctlsocket and WSAIoctl, and WSAIoctl's size is 0),
 * until the selection is cancelled; SO_TYPE cannot be set (WSAENOPROTOOPT on a stream
 * socket, WSAEINVAL on a datagram socket, as Windows answers). */
#include <winsock2.h>
#include <windows.h>
#include "check.h"

int main(void)
{
    WSADATA wsa;
    CHECK(WSAStartup(MAKEWORD(2, 2), &wsa) == 0);
    SOCKET s = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
    CHECK(s != INVALID_SOCKET);
    WSAEVENT ev = WSACreateEvent();
    u_long zero = 0, one = 1;
    DWORD size;

    CHECK(ioctlsocket(s, FIONBIO, &zero) == 0); /* no selection: blocking is fine */
    CHECK(WSAEventSelect(s, ev, FD_READ) == 0);
    CHECK(ioctlsocket(s, FIONBIO, &one) == 0);
    CHECK(ioctlsocket(s, FIONBIO, &zero) == SOCKET_ERROR);
    CHECK(WSAGetLastError() == WSAEINVAL);
    size = 0xdeadbeef;
    CHECK(WSAIoctl(s, FIONBIO, &zero, sizeof(zero), NULL, 0, &size, NULL, NULL) == SOCKET_ERROR);
    CHECK(WSAGetLastError() == WSAEINVAL);
    CHECK(size == 0);
    CHECK(WSAIoctl(s, FIONBIO, &one, sizeof(one), NULL, 0, &size, NULL, NULL) == 0);
    /* Cancelling the selection allows blocking mode again. */
    CHECK(WSAEventSelect(s, NULL, 0) == 0);
    CHECK(ioctlsocket(s, FIONBIO, &zero) == 0);

    int type = SOCK_DGRAM;
    CHECK(setsockopt(s, SOL_SOCKET, SO_TYPE, (char *)&type, sizeof(type)) == SOCKET_ERROR);
    CHECK(WSAGetLastError() == WSAENOPROTOOPT);
    SOCKET u = socket(AF_INET, SOCK_DGRAM, IPPROTO_UDP);
    type = SOCK_STREAM;
    CHECK(setsockopt(u, SOL_SOCKET, SO_TYPE, (char *)&type, sizeof(type)) == SOCKET_ERROR);
    CHECK(WSAGetLastError() == WSAEINVAL);
    int got = 0, len = sizeof(got);
    CHECK(getsockopt(u, SOL_SOCKET, SO_TYPE, (char *)&got, &len) == 0 && got == SOCK_DGRAM);

    closesocket(u);
    closesocket(s);
    WSACloseEvent(ev);
    WSACleanup();
    puts("ok");
    return 0;
}
