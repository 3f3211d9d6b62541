/* Socket options as Wine's conformance tests (dlls/ws2_32/tests/sock.c,
 * test_set_getsockopt and friends) show Windows handling them:
 * - an unknown level is WSAEINVAL, an unknown option of a known level WSAENOPROTOOPT;
 * - SO_RCVBUF/SO_SNDBUF read back what was set (Linux reports double);
 * - BOOLEAN options (TCP_NODELAY, SO_KEEPALIVE, IPV6_V6ONLY) read and write one byte;
 *   SOL_SOCKET BOOL options accept a 0-byte value; small IP integers accept 1 byte and
 *   are written in 1 byte into a short buffer; IP_PKTINFO wants 4 bytes;
 * - a negative length is WSAENOBUFS outside SOL_SOCKET;
 * - SO_REUSEADDR and SO_EXCLUSIVEADDRUSE exclude each other (WSAEINVAL);
 * - SO_DEBUG can be set (and reads back 1); SO_ERROR can be set and read back;
 * - SO_LINGER keeps l_onoff as set; it is WSAENOPROTOOPT on a datagram socket;
 * - SO_MAX_MSG_SIZE of UDP is 65507; SO_PROTOCOL_INFOA describes the socket;
 * - IPV6_V6ONLY is on by default (also as kept on an IPv4 socket), IP_DONTFRAGMENT is on
 *   for TCP and off for UDP;
 * - SO_OPENTYPE is per thread and works with any handle. */
#include "check.h"
#include <ws2tcpip.h>

int main(void) {
    startup();
    SOCKET s = socket(AF_INET, SOCK_STREAM, 0), u = socket(AF_INET, SOCK_DGRAM, 0);
    CHECK(s != INVALID_SOCKET && u != INVALID_SOCKET);
    DWORD v;
    int len, i;
    LINGER l;

    /* levels */
    v = 1;
    CHECK_EQ(setsockopt(s, 0x8000, SO_RCVTIMEO, (char *)&v, 4), SOCKET_ERROR);
    CHECK_EQ(WSAGetLastError(), WSAEINVAL);
    len = 4;
    CHECK_EQ(getsockopt(u, 0x1234ffff, SO_MAX_MSG_SIZE, (char *)&v, &len), SOCKET_ERROR);
    CHECK_EQ(WSAGetLastError(), WSAEINVAL);
    CHECK_EQ(setsockopt(s, SOL_SOCKET, 0x4321, (char *)&v, 4), SOCKET_ERROR);
    CHECK_EQ(WSAGetLastError(), WSAENOPROTOOPT);

    /* buffer sizes as set */
    v = 4096;
    CHECK_EQ(setsockopt(s, SOL_SOCKET, SO_RCVBUF, (char *)&v, 4), 0);
    v = 0xdeadbeef;
    len = 4;
    CHECK_EQ(getsockopt(s, SOL_SOCKET, SO_RCVBUF, (char *)&v, &len), 0);
    CHECK_EQ(v, 4096);
    v = 0x100;
    CHECK_EQ(setsockopt(s, SOL_SOCKET, SO_SNDBUF, (char *)&v, 4), 0);
    len = 4;
    CHECK_EQ(getsockopt(s, SOL_SOCKET, SO_SNDBUF, (char *)&v, &len), 0);
    CHECK_EQ(v, 0x100);
    len = 2;
    v = 0xdeadbeef;
    CHECK_EQ(getsockopt(s, SOL_SOCKET, SO_SNDBUF, (char *)&v, &len), SOCKET_ERROR);
    CHECK_EQ(WSAGetLastError(), WSAEFAULT);
    CHECK_EQ(v, 0xdead0000);

    /* BOOLEAN: one byte */
    v = 0x100;
    CHECK_EQ(setsockopt(s, IPPROTO_TCP, TCP_NODELAY, (char *)&v, 4), 0);
    v = 0xdeadbeef;
    len = 4;
    CHECK_EQ(getsockopt(s, IPPROTO_TCP, TCP_NODELAY, (char *)&v, &len), 0);
    CHECK_EQ(len, 1);
    CHECK_EQ(v, 0xdeadbe00);
    v = 1;
    CHECK_EQ(setsockopt(s, IPPROTO_TCP, TCP_NODELAY, (char *)&v, 42), 0);
    CHECK_EQ(setsockopt(s, IPPROTO_TCP, TCP_NODELAY, (char *)&v, 0), SOCKET_ERROR);
    CHECK_EQ(WSAGetLastError(), WSAEFAULT);
    CHECK_EQ(setsockopt(s, SOL_SOCKET, SO_KEEPALIVE, (char *)&v, -1), SOCKET_ERROR);
    CHECK_EQ(WSAGetLastError(), WSAENOBUFS);
    v = 0xdeadbeef;
    len = 4;
    CHECK_EQ(getsockopt(s, IPPROTO_TCP, TCP_NODELAY, (char *)&v, &len), 0);
    CHECK_EQ(v, 0xdeadbe01);

    /* SOL_SOCKET BOOL: a 0-byte value, a 2-byte buffer */
    v = 1;
    CHECK_EQ(setsockopt(u, SOL_SOCKET, SO_BROADCAST, (char *)&v, 0), 0);
    CHECK_EQ(setsockopt(u, SOL_SOCKET, SO_BROADCAST, (char *)&v, -1), 0);
    v = 0xdeadbeef;
    len = 2;
    CHECK_EQ(getsockopt(u, SOL_SOCKET, SO_BROADCAST, (char *)&v, &len), 0);
    CHECK_EQ(len, 1);
    CHECK_EQ(v, 0xdead0001);

    /* small IP integers; receive flags want 4 bytes */
    v = 0xffffff0a;
    CHECK_EQ(setsockopt(u, IPPROTO_IP, IP_MULTICAST_TTL, (char *)&v, 1), 0);
    v = 0xdeadbeef;
    len = 4;
    CHECK_EQ(getsockopt(u, IPPROTO_IP, IP_MULTICAST_TTL, (char *)&v, &len), 0);
    CHECK_EQ(v, 0x0a);
    v = 0x100;
    CHECK_EQ(setsockopt(u, IPPROTO_IP, IP_TTL, (char *)&v, 4), SOCKET_ERROR);
    CHECK_EQ(WSAGetLastError(), WSAEINVAL);
    v = 1;
    CHECK_EQ(setsockopt(u, IPPROTO_IP, IP_PKTINFO, (char *)&v, 2), SOCKET_ERROR);
    CHECK_EQ(WSAGetLastError(), WSAEFAULT);
    len = 2;
    CHECK_EQ(getsockopt(u, IPPROTO_IP, IP_PKTINFO, (char *)&v, &len), SOCKET_ERROR);
    CHECK_EQ(len, 0);
    v = 0x100;
    CHECK_EQ(setsockopt(u, IPPROTO_IP, IP_PKTINFO, (char *)&v, 4), 0);
    len = 4;
    CHECK_EQ(getsockopt(u, IPPROTO_IP, IP_PKTINFO, (char *)&v, &len), 0);
    CHECK_EQ(v, 1);
    CHECK_EQ(setsockopt(u, IPPROTO_IP, IP_TTL, (char *)&v, -1), SOCKET_ERROR);
    CHECK_EQ(WSAGetLastError(), WSAENOBUFS);

    /* SO_REUSEADDR and SO_EXCLUSIVEADDRUSE */
    SOCKET r = socket(AF_INET, SOCK_STREAM, 0);
    v = 1;
    CHECK_EQ(setsockopt(r, SOL_SOCKET, SO_REUSEADDR, (char *)&v, 4), 0);
    CHECK_EQ(setsockopt(r, SOL_SOCKET, SO_EXCLUSIVEADDRUSE, (char *)&v, 4), SOCKET_ERROR);
    CHECK_EQ(WSAGetLastError(), WSAEINVAL);
    closesocket(r);

    /* SO_DEBUG, SO_ERROR */
    v = 2;
    CHECK_EQ(setsockopt(s, SOL_SOCKET, SO_DEBUG, (char *)&v, 4), 0);
    CHECK_EQ(WSAGetLastError(), 0);
    len = 4;
    CHECK_EQ(getsockopt(s, SOL_SOCKET, SO_DEBUG, (char *)&v, &len), 0);
    CHECK_EQ(v, 1);
    i = 1234;
    CHECK_EQ(setsockopt(s, SOL_SOCKET, SO_ERROR, (char *)&i, 4), 0);
    i = 0;
    len = 4;
    CHECK_EQ(getsockopt(s, SOL_SOCKET, SO_ERROR, (char *)&i, &len), 0);
    CHECK_EQ(i, 1234);

    /* SO_LINGER */
    l.l_onoff = 0x100;
    l.l_linger = 7;
    CHECK_EQ(setsockopt(s, SOL_SOCKET, SO_LINGER, (char *)&l, sizeof(l)), 0);
    memset(&l, 0, sizeof(l));
    len = sizeof(l);
    CHECK_EQ(getsockopt(s, SOL_SOCKET, SO_LINGER, (char *)&l, &len), 0);
    CHECK_EQ(l.l_onoff, 0x100);
    CHECK_EQ(l.l_linger, 7);
    len = sizeof(l);
    CHECK_EQ(getsockopt(u, SOL_SOCKET, SO_LINGER, (char *)&l, &len), SOCKET_ERROR);
    CHECK_EQ(WSAGetLastError(), WSAENOPROTOOPT);

    /* SO_MAX_MSG_SIZE, SO_PROTOCOL_INFOA */
    len = 4;
    CHECK_EQ(getsockopt(u, SOL_SOCKET, SO_MAX_MSG_SIZE, (char *)&v, &len), 0);
    CHECK_EQ(v, 65507);
    WSAPROTOCOL_INFOA info;
    len = sizeof(info) / 2;
    CHECK_EQ(getsockopt(u, SOL_SOCKET, SO_PROTOCOL_INFOA, (char *)&info, &len), SOCKET_ERROR);
    CHECK_EQ(WSAGetLastError(), WSAEFAULT);
    CHECK_EQ(len, sizeof(info));
    memset(&info, 0, sizeof(info));
    CHECK_EQ(getsockopt(u, SOL_SOCKET, SO_PROTOCOL_INFOA, (char *)&info, &len), 0);
    CHECK_EQ(info.iAddressFamily, AF_INET);
    CHECK_EQ(info.iSocketType, SOCK_DGRAM);
    CHECK_EQ(info.iProtocol, IPPROTO_UDP);
    CHECK(info.szProtocol[0] != 0);

    /* defaults: IPV6_V6ONLY on, IP_DONTFRAGMENT on for TCP only */
    SOCKET s6 = socket(AF_INET6, SOCK_STREAM, 0);
    CHECK(s6 != INVALID_SOCKET);
    v = 2;
    len = 4;
    CHECK_EQ(getsockopt(s6, IPPROTO_IPV6, IPV6_V6ONLY, (char *)&v, &len), 0);
    CHECK_EQ(v, 1);
    v = 2;
    len = 4;
    CHECK_EQ(getsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, (char *)&v, &len), 0);
    CHECK_EQ(v, 1);
    closesocket(s6);
    len = 4;
    CHECK_EQ(getsockopt(s, IPPROTO_IP, IP_DONTFRAGMENT, (char *)&v, &len), 0);
    CHECK_EQ(v, 1);
    len = 4;
    CHECK_EQ(getsockopt(u, IPPROTO_IP, IP_DONTFRAGMENT, (char *)&v, &len), 0);
    CHECK_EQ(v, 0);

    /* SO_OPENTYPE: per thread, any handle */
    v = SO_SYNCHRONOUS_NONALERT;
    CHECK_EQ(setsockopt(INVALID_SOCKET, SOL_SOCKET, SO_OPENTYPE, (char *)&v, 4), 0);
    v = 0;
    len = -1;
    CHECK_EQ(getsockopt(s, SOL_SOCKET, SO_OPENTYPE, (char *)&v, &len), 0);
    CHECK_EQ(len, 4);
    CHECK_EQ(v, SO_SYNCHRONOUS_NONALERT);
    v = 0;
    CHECK_EQ(setsockopt(s, SOL_SOCKET, SO_OPENTYPE, (char *)&v, 4), 0);

    closesocket(s);
    closesocket(u);
    WSACleanup();
    puts("ok");
    return 0;
}
