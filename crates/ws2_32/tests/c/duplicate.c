/* WSADuplicateSocketA/W within the process: the record carries the socket's protocol,
 * WSASocket with it gives a second handle to the same socket (data sent to one is read
 * from the other; closing one leaves the other working), a record is good once, and a
 * catalog record (no duplicate) makes a fresh socket of its family and type. */
#include <winsock2.h>
#include <windows.h>
#include <string.h>
#include "check.h"

int main(void)
{
    WSADATA wsa;
    CHECK(WSAStartup(MAKEWORD(2, 2), &wsa) == 0);

    SOCKET u = socket(AF_INET, SOCK_DGRAM, IPPROTO_UDP);
    CHECK(u != INVALID_SOCKET);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    CHECK(bind(u, (struct sockaddr *)&a, sizeof(a)) == 0);
    int len = sizeof(a);
    CHECK(getsockname(u, (struct sockaddr *)&a, &len) == 0);

    WSAPROTOCOL_INFOA info;
    memset(&info, 0, sizeof(info));
    CHECK(WSADuplicateSocketA(u, GetCurrentProcessId(), &info) == 0);
    CHECK(info.iAddressFamily == AF_INET && info.iSocketType == SOCK_DGRAM);
    CHECK(info.iProtocol == IPPROTO_UDP);
    SOCKET d = WSASocketA(FROM_PROTOCOL_INFO, FROM_PROTOCOL_INFO, FROM_PROTOCOL_INFO, &info, 0, 0);
    CHECK(d != INVALID_SOCKET && d != u);

    /* Same socket: what is sent to u's address is read from d. */
    SOCKET c = socket(AF_INET, SOCK_DGRAM, IPPROTO_UDP);
    CHECK(sendto(c, "dup", 4, 0, (struct sockaddr *)&a, sizeof(a)) == 4);
    char buf[8] = {0};
    CHECK(recv(d, buf, sizeof(buf), 0) == 4);
    CHECK(strcmp(buf, "dup") == 0);
    struct sockaddr_in b;
    len = sizeof(b);
    CHECK(getsockname(d, (struct sockaddr *)&b, &len) == 0);
    CHECK(b.sin_port == a.sin_port);

    /* Closing the source leaves the duplicate working. */
    CHECK(closesocket(u) == 0);
    CHECK(sendto(c, "two", 4, 0, (struct sockaddr *)&a, sizeof(a)) == 4);
    memset(buf, 0, sizeof(buf));
    CHECK(recv(d, buf, sizeof(buf), 0) == 4);
    CHECK(strcmp(buf, "two") == 0);

    /* The record was used: the same record now names no duplicate, so WSASocket makes
     * a fresh socket of the record's family and type (unbound). */
    SOCKET f = WSASocketA(FROM_PROTOCOL_INFO, FROM_PROTOCOL_INFO, FROM_PROTOCOL_INFO, &info, 0, 0);
    CHECK(f != INVALID_SOCKET);
    len = sizeof(b);
    CHECK(getsockname(f, (struct sockaddr *)&b, &len) == SOCKET_ERROR);
    CHECK(WSAGetLastError() == WSAEINVAL);
    int type = 0;
    len = sizeof(type);
    CHECK(getsockopt(f, SOL_SOCKET, SO_TYPE, (char *)&type, &len) == 0 && type == SOCK_DGRAM);

    /* The wide form, on a stream socket. */
    SOCKET t = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
    WSAPROTOCOL_INFOW infow;
    CHECK(WSADuplicateSocketW(t, GetCurrentProcessId(), &infow) == 0);
    CHECK(infow.iSocketType == SOCK_STREAM && infow.iProtocol == IPPROTO_TCP);
    SOCKET tw = WSASocketW(0, 0, 0, &infow, 0, WSA_FLAG_OVERLAPPED);
    CHECK(tw != INVALID_SOCKET);

    closesocket(tw);
    closesocket(t);
    closesocket(f);
    closesocket(c);
    closesocket(d);
    WSACleanup();
    puts("ok");
    return 0;
}
