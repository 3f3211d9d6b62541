/* Addresses and names: inet_addr/inet_ntoa, inet_pton/inet_ntop with Windows AF_INET6
 * (23), byte order, getaddrinfo with the Windows addrinfo layout, gethostbyname,
 * gethostname, and the Windows macros (MAKEWORD, LOBYTE, HIBYTE, ZeroMemory, ...). */
#include "check.h"
#include <ws2tcpip.h>

int main(void) {
    startup();
    CHECK_EQ(MAKEWORD(2, 1), 0x0102);
    CHECK_EQ(LOBYTE(0x0102), 2);
    CHECK_EQ(HIBYTE(0x0102), 1);
    CHECK_EQ(LOWORD(0x12345678), 0x5678);
    CHECK_EQ(HIWORD(0x12345678), 0x1234);
    char z[4] = {1, 2, 3, 4};
    ZeroMemory(z, sizeof(z));
    CHECK(z[0] == 0 && z[3] == 0);
    FillMemory(z, 2, 7);
    CHECK(z[1] == 7 && z[2] == 0);
    CopyMemory(z + 2, z, 2);
    CHECK(z[3] == 7);

    CHECK_EQ(htons(0x1234), 0x3412);
    CHECK_EQ(ntohs(0x3412), 0x1234);
    CHECK_EQ(htonl(0x12345678), 0x78563412);
    CHECK_EQ(ntohl(0x78563412), 0x12345678);

    IN_ADDR ia;
    ia.S_un.S_addr = inet_addr("10.1.2.3");
    CHECK_EQ(ia.S_un.S_un_b.s_b1, 10);
    CHECK_EQ(ia.S_un.S_un_b.s_b4, 3);
    CHECK(strcmp(inet_ntoa(ia), "10.1.2.3") == 0);

    unsigned char v6[16];
    CHECK_EQ(inet_pton(AF_INET6, "::1", v6), 1);
    CHECK_EQ(v6[15], 1);
    char text[INET6_ADDRSTRLEN];
    CHECK(inet_ntop(AF_INET6, v6, text, sizeof(text)) == text);
    CHECK(strcmp(text, "::1") == 0);
    CHECK_EQ(inet_pton(AF_INET, "192.168.0.1", &ia), 1);
    CHECK(strcmp(inet_ntop(AF_INET, &ia, text, sizeof(text)), "192.168.0.1") == 0);
    CHECK(inet_ntop(AF_INET, &ia, text, 4) == NULL);

    struct addrinfo hints, *res = NULL, *p;
    ZeroMemory(&hints, sizeof(hints));
    hints.ai_family = AF_INET;
    hints.ai_socktype = SOCK_STREAM;
    CHECK_EQ(getaddrinfo("127.0.0.1", "6000", &hints, &res), 0);
    CHECK(res != NULL);
    CHECK_EQ(res->ai_family, AF_INET);
    CHECK_EQ(res->ai_addrlen, sizeof(SOCKADDR_IN));
    SOCKADDR_IN *sin = (SOCKADDR_IN *)res->ai_addr;
    CHECK_EQ(sin->sin_family, AF_INET);
    CHECK_EQ(ntohs(sin->sin_port), 6000);
    CHECK_EQ(sin->sin_addr.s_addr, inet_addr("127.0.0.1"));
    freeaddrinfo(res);

    hints.ai_family = AF_INET6;
    hints.ai_flags = AI_NUMERICHOST;
    CHECK_EQ(getaddrinfo("::1", NULL, &hints, &res), 0);
    for (p = res; p; p = p->ai_next) {
        CHECK_EQ(p->ai_family, AF_INET6);
        CHECK_EQ(((SOCKADDR_IN6 *)p->ai_addr)->sin6_family, AF_INET6);
        CHECK_EQ(((SOCKADDR_IN6 *)p->ai_addr)->sin6_addr.s6_addr[15], 1);
    }
    freeaddrinfo(res);
    CHECK(getaddrinfo("no-such-host.invalid", NULL, NULL, &res) != 0);

    struct hostent *h = gethostbyname("127.0.0.1");
    CHECK(h != NULL);
    CHECK_EQ(h->h_addrtype, AF_INET);
    CHECK_EQ(h->h_length, 4);
    CHECK_EQ(((IN_ADDR *)h->h_addr_list[0])->s_addr, inet_addr("127.0.0.1"));
    char host[256];
    CHECK_EQ(gethostname(host, sizeof(host)), 0);
    CHECK(strlen(host) > 0);

    /* An IPv6 socket: AF_INET6 is 23 here and becomes the kernel's 10 underneath. */
    SOCKET s6 = socket(AF_INET6, SOCK_STREAM, 0);
    CHECK(s6 != INVALID_SOCKET);
    SOCKADDR_IN6 a6;
    ZeroMemory(&a6, sizeof(a6));
    a6.sin6_family = AF_INET6;
    a6.sin6_addr.s6_addr[15] = 1;
    CHECK_EQ(bind(s6, (SOCKADDR *)&a6, sizeof(a6)), 0);
    int len = sizeof(a6);
    CHECK_EQ(getsockname(s6, (SOCKADDR *)&a6, &len), 0);
    CHECK_EQ(len, sizeof(SOCKADDR_IN6));
    CHECK_EQ(a6.sin6_family, AF_INET6);
    CHECK(a6.sin6_port != 0);
    closesocket(s6);
    WSACleanup();
    printf("ok\n");
    return 0;
}
