/* The Winsock half of the no-interposition test: Winsock names resolve to the library,
 * the C library's (used in posix_side.c) stay the C library's. */
#include "check.h"

int posix_socket_roundtrip(void);

int main(void) {
    startup();
    SOCKET s = socket(AF_INET, SOCK_STREAM, 0);
    CHECK(s != INVALID_SOCKET);
    int fd = posix_socket_roundtrip();
    CHECK(fd >= 0);
    /* A C library descriptor is not a Winsock handle, and the reverse. */
    CHECK_EQ(closesocket((SOCKET)fd), SOCKET_ERROR);
    CHECK_EQ(WSAGetLastError(), WSAENOTSOCK);
    CHECK_EQ(closesocket(s), 0);
    WSACleanup();
    printf("ok\n");
    return 0;
}
