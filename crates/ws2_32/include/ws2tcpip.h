/* ws2tcpip.h: getaddrinfo, inet_pton/inet_ntop (libws2_32; see winsock2.h). */
#ifndef OVL_WS2TCPIP_H
#define OVL_WS2TCPIP_H
#include "winsock2.h"

#ifdef __cplusplus
extern "C" {
#endif

#ifndef __socklen_t_defined
#define __socklen_t_defined 1
typedef int socklen_t;
#endif

/* Windows layout: ai_canonname comes before ai_addr (the reverse of glibc's). */
typedef struct addrinfo {
    int ai_flags;
    int ai_family;
    int ai_socktype;
    int ai_protocol;
    size_t ai_addrlen;
    char *ai_canonname;
    struct sockaddr *ai_addr;
    struct addrinfo *ai_next;
} ADDRINFOA, *PADDRINFOA, ADDRINFO, *LPADDRINFO;

#define AI_PASSIVE 0x00000001
#define AI_CANONNAME 0x00000002
#define AI_NUMERICHOST 0x00000004
#define AI_NUMERICSERV 0x00000008

#define IN6ADDR_ANY_INIT {{{{0}}}}
#define IN6ADDR_LOOPBACK_INIT {{{{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}}}}

int WSAAPI getaddrinfo(const char *pNodeName, const char *pServiceName, const struct addrinfo *pHints,
                       struct addrinfo **ppResult) OVL_WS2_ASM("ws2_getaddrinfo");
void WSAAPI freeaddrinfo(struct addrinfo *pAddrInfo) OVL_WS2_ASM("ws2_freeaddrinfo");
#define GetAddrInfoA getaddrinfo
#define FreeAddrInfoA freeaddrinfo
INT WSAAPI inet_pton(INT Family, PCSTR pszAddrString, PVOID pAddrBuf) OVL_WS2_ASM("ws2_inet_pton");
PCSTR WSAAPI inet_ntop(INT Family, const VOID *pAddr, PSTR pStringBuf, size_t StringBufSize) OVL_WS2_ASM("ws2_inet_ntop");
#define InetPtonA inet_pton
#define InetNtopA inet_ntop

/* getnameinfo: Windows' NI_* values (glibc's differ; the library translates). */
#define NI_MAXHOST 1025
#define NI_MAXSERV 32
#define NI_NOFQDN 0x01
#define NI_NUMERICHOST 0x02
#define NI_NAMEREQD 0x04
#define NI_NUMERICSERV 0x08
#define NI_DGRAM 0x10
INT WSAAPI getnameinfo(const struct sockaddr *pSockaddr, socklen_t SockaddrLength, PCHAR pNodeBuffer,
                       DWORD NodeBufferSize, PCHAR pServiceBuffer, DWORD ServiceBufferSize, INT Flags)
    OVL_WS2_ASM("ws2_getnameinfo");
#define GetNameInfoA getnameinfo

#ifdef __cplusplus
}
#endif
OVL_WS2_ASSERT(sizeof(struct addrinfo) == 48 && offsetof(struct addrinfo, ai_canonname) == 24 && offsetof(struct addrinfo, ai_addr) == 32, "addrinfo (Windows order)");
#endif /* OVL_WS2TCPIP_H */
