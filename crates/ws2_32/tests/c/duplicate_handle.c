/* DuplicateHandle of a socket handle (Wine's test_WSAGetOverlappedResult): Windows makes
 * a second handle to the socket's file object. Winsock calls do not take it as a socket
 * (WSAENOTSOCK), CloseHandle and the waits do, and the socket stays open until its last
 * handle is closed. */
#include "check.h"

int main(void) {
    startup();
    SOCKET client, server;
    tcp_pair(&client, &server);
    HANDLE h = NULL;
    CHECK(DuplicateHandle(GetCurrentProcess(), (HANDLE)server, GetCurrentProcess(), &h, 0, FALSE,
                          DUPLICATE_SAME_ACCESS));
    CHECK(h != NULL && h != (HANDLE)server);

    /* Not a socket to Winsock. */
    OVERLAPPED ov;
    memset(&ov, 0, sizeof(ov));
    DWORD size, flags;
    CHECK(!WSAGetOverlappedResult((SOCKET)h, &ov, &size, FALSE, &flags));
    CHECK_EQ(WSAGetLastError(), WSAENOTSOCK);
    char c;
    CHECK_EQ(recv((SOCKET)h, &c, 1, 0), SOCKET_ERROR);
    CHECK_EQ(WSAGetLastError(), WSAENOTSOCK);
    CHECK_EQ(closesocket((SOCKET)h), SOCKET_ERROR);
    CHECK_EQ(WSAGetLastError(), WSAENOTSOCK);

    /* A copy of the copy, closed at once, and one with no target. */
    HANDLE h2 = NULL;
    CHECK(DuplicateHandle(GetCurrentProcess(), h, GetCurrentProcess(), &h2, 0, FALSE,
                          DUPLICATE_SAME_ACCESS));
    CHECK(CloseHandle(h2));
    CHECK(DuplicateHandle(GetCurrentProcess(), (HANDLE)server, GetCurrentProcess(), NULL, 0, FALSE,
                          DUPLICATE_SAME_ACCESS));

    /* Closing the socket handle leaves the connection open while the copy lives. */
    CHECK_EQ(closesocket(server), 0);
    CHECK_EQ(send(client, "x", 1, 0), 1);
    fd_set r;
    FD_ZERO(&r);
    FD_SET(client, &r);
    struct timeval tv = {0, 200000};
    CHECK_EQ(select(0, &r, NULL, NULL, &tv), 0); /* no end of stream */

    /* Closing the copy, the last handle, closes the socket: the peer sees it end. */
    CHECK(CloseHandle(h));
    CHECK(!CloseHandle(h));
    CHECK_EQ(GetLastError(), ERROR_INVALID_HANDLE);
    FD_ZERO(&r);
    FD_SET(client, &r);
    tv.tv_sec = 5;
    tv.tv_usec = 0;
    CHECK_EQ(select(0, &r, NULL, NULL, &tv), 1);
    int got = recv(client, &c, 1, 0);
    CHECK(got == 0 || (got == SOCKET_ERROR && WSAGetLastError() == WSAECONNRESET));
    closesocket(client);
    printf("ok\n");
    return 0;
}
