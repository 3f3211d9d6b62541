/* socket/WSASocket match (af, type, protocol) as Windows' catalog does (Wine's
 * test_WSASocket): type 0 comes from the protocol, AF_UNSPEC is AF_INET, AF_UNSPEC with
 * protocol 0 is WSAEINVAL, the checks come type first, then family, then protocol; raw
 * sockets are WSAEACCES. */
#include "check.h"

static void fails(int af, int type, int proto, int error) {
    WSASetLastError(0xdeadbeef);
    CHECK(WSASocketA(af, type, proto, NULL, 0, 0) == INVALID_SOCKET);
    CHECK_EQ(WSAGetLastError(), error);
}

static void makes(int af, int type, int proto, int want_type) {
    SOCKET s = socket(af, type, proto);
    CHECK(s != INVALID_SOCKET);
    int t = 0xdead, len = sizeof(t);
    CHECK_EQ(getsockopt(s, SOL_SOCKET, SO_TYPE, (char *)&t, &len), 0);
    CHECK_EQ(t, want_type);
    closesocket(s);
}

int main(void) {
    startup();
    makes(AF_INET, 0, IPPROTO_TCP, SOCK_STREAM);
    makes(AF_INET, 0, IPPROTO_UDP, SOCK_DGRAM);
    makes(AF_INET, 0, 0, SOCK_STREAM);
    makes(AF_UNSPEC, SOCK_STREAM, IPPROTO_TCP, SOCK_STREAM);
    makes(AF_UNSPEC, 0, IPPROTO_UDP, SOCK_DGRAM);
    fails(AF_UNSPEC, SOCK_STREAM, 0, WSAEINVAL);
    fails(AF_UNSPEC, 0xdead, 0, WSAEINVAL);
    fails(0xdead, 0xdead, IPPROTO_TCP, WSAESOCKTNOSUPPORT);
    fails(0xdead, SOCK_STREAM, 0xdead, WSAEAFNOSUPPORT);
    fails(AF_INET, 0, 0xdead, WSAEPROTONOSUPPORT);
    fails(AF_INET, SOCK_DGRAM, IPPROTO_TCP, WSAEPROTONOSUPPORT);
    fails(AF_INET, SOCK_RAW, IPPROTO_ICMP, WSAEACCES);
    WSACleanup();
    printf("ok\n");
    return 0;
}
