/*
 * winsock2.h: Winsock 2 for Linux (LP64), implemented by libws2_32 from the
 * `overlapped` project (crates/ws2_32), over io_uring.
 *
 *   cc prog.c -I crates/ws2_32/include -L target/release -lws2_32 -Wl,-rpath,$PWD/target/release
 *
 * The records have the Windows layout (SOCKET = UINT_PTR, WSABUF = {ULONG len; CHAR *buf},
 * SOCKADDR_IN with sin_addr.S_un.S_addr, fd_set = {u_int fd_count; SOCKET fd_array[64]}).
 *
 * Names the C library also uses (bind, connect, send, recv, select, htons, getaddrinfo,
 * ...) are declared here with GCC/Clang asm labels that bind them to the library's
 * `ws2_` symbols: no macro renames them, and the rest of the process keeps the C
 * library's own functions. Do not include the POSIX socket headers (<sys/socket.h>,
 * <netinet/in.h>, <arpa/inet.h>, <netdb.h>, <sys/select.h>) in the same file.
 */
#ifndef OVL_WINSOCK2_H
#define OVL_WINSOCK2_H
#define _WINSOCK2API_
#define _WINSOCKAPI_

/* POSIX <sys/select.h> declares its own fd_set, FD_SET and select(). When it has not
 * been seen yet, keep it out (as Windows has no such header); glibc's <sys/types.h>
 * and <sys/time.h> include it only for convenience. */
#ifndef _SYS_SELECT_H
#define _SYS_SELECT_H 1
#define OVL_WS2_OWN_FD_SET 1
#endif

#include "windows.h"
#include <sys/time.h> /* struct timeval (the C library's layout: 64-bit fields) */

#define OVL_WS2_ASM(name) __asm__(name)

#ifdef __cplusplus
extern "C" {
#endif

typedef UINT_PTR SOCKET;
typedef unsigned int GROUP;
typedef HANDLE WSAEVENT, *LPWSAEVENT;
typedef OVERLAPPED WSAOVERLAPPED, *LPWSAOVERLAPPED;
typedef u_short ADDRESS_FAMILY;
typedef struct timeval TIMEVAL, *PTIMEVAL, *LPTIMEVAL;

#define INVALID_SOCKET (SOCKET)(~0)
#define SOCKET_ERROR (-1)

/* --- versions and WSAStartup ------------------------------------------------------- */
#define WSADESCRIPTION_LEN 256
#define WSASYS_STATUS_LEN 128
typedef struct WSAData {
    WORD wVersion;
    WORD wHighVersion;
    unsigned short iMaxSockets; /* Win64 order: these two come before lpVendorInfo */
    unsigned short iMaxUdpDg;
    char *lpVendorInfo;
    char szDescription[WSADESCRIPTION_LEN + 1];
    char szSystemStatus[WSASYS_STATUS_LEN + 1];
} WSADATA, *LPWSADATA;

/* --- address families, types, protocols (Windows values: AF_INET6 is 23) ----------- */
#define AF_UNSPEC 0
#define AF_UNIX 1
#define AF_INET 2
#define AF_INET6 23
#define PF_UNSPEC AF_UNSPEC
#define PF_INET AF_INET
#define PF_INET6 AF_INET6
#define SOCK_STREAM 1
#define SOCK_DGRAM 2
#define SOCK_RAW 3
#define IPPROTO_IP 0
#define IPPROTO_ICMP 1
#define IPPROTO_TCP 6
#define IPPROTO_UDP 17
#define IPPROTO_IPV6 41
#define INADDR_ANY (u_long)0x00000000
#define INADDR_LOOPBACK 0x7f000001
#define INADDR_BROADCAST (u_long)0xffffffff
#define INADDR_NONE 0xffffffff
#define ADDR_ANY INADDR_ANY

/* --- addresses ---------------------------------------------------------------------- */
typedef struct in_addr {
    union {
        union {
            struct { UCHAR s_b1, s_b2, s_b3, s_b4; } S_un_b;
            struct { USHORT s_w1, s_w2; } S_un_w;
            ULONG S_addr;
        } S_un;
        ULONG s_addr; /* the same word (an unnamed member, not a macro) */
    };
} IN_ADDR, *PIN_ADDR, *LPIN_ADDR;

typedef struct sockaddr {
    ADDRESS_FAMILY sa_family;
    CHAR sa_data[14];
} SOCKADDR, *PSOCKADDR, *LPSOCKADDR;

typedef struct sockaddr_in {
    short sin_family;
    USHORT sin_port;
    IN_ADDR sin_addr;
    CHAR sin_zero[8];
} SOCKADDR_IN, *PSOCKADDR_IN, *LPSOCKADDR_IN;

typedef struct in6_addr {
    union {
        union {
            UCHAR Byte[16];
            USHORT Word[8];
        } u;
        UCHAR s6_addr[16]; /* the same bytes (an unnamed member, not a macro) */
    };
} IN6_ADDR, *PIN6_ADDR, *LPIN6_ADDR;

typedef struct sockaddr_in6 {
    ADDRESS_FAMILY sin6_family;
    USHORT sin6_port;
    ULONG sin6_flowinfo;
    IN6_ADDR sin6_addr;
    ULONG sin6_scope_id;
} SOCKADDR_IN6, *PSOCKADDR_IN6, *LPSOCKADDR_IN6;

typedef struct sockaddr_storage {
    ADDRESS_FAMILY ss_family;
    CHAR __ss_pad1[6];
    long long __ss_align;
    CHAR __ss_pad2[112];
} SOCKADDR_STORAGE, *PSOCKADDR_STORAGE, *LPSOCKADDR_STORAGE;

#define INET_ADDRSTRLEN 22
#define INET6_ADDRSTRLEN 65

/* --- buffers ------------------------------------------------------------------------ */
typedef struct _WSABUF {
    ULONG len; /* first, unlike struct iovec */
    CHAR *buf;
} WSABUF, *LPWSABUF;

typedef void (CALLBACK *LPWSAOVERLAPPED_COMPLETION_ROUTINE)(DWORD dwError, DWORD cbTransferred,
                                                            LPWSAOVERLAPPED lpOverlapped, DWORD dwFlags);

/* --- select ------------------------------------------------------------------------- */
#undef FD_SETSIZE
#define FD_SETSIZE 64
#ifdef OVL_WS2_OWN_FD_SET
typedef struct fd_set {
    u_int fd_count;
    SOCKET fd_array[FD_SETSIZE];
} fd_set;
#else
/* <sys/select.h> came first and owns the name fd_set: the Windows set takes another. */
typedef struct ovl_ws2_fd_set {
    u_int fd_count;
    SOCKET fd_array[FD_SETSIZE];
} ovl_ws2_fd_set;
#define fd_set ovl_ws2_fd_set
#endif
typedef fd_set FD_SET, *PFD_SET, *LPFD_SET;

int WSAAPI __WSAFDIsSet(SOCKET fd, fd_set *set);
#undef FD_CLR
#undef FD_SET
#undef FD_ZERO
#undef FD_ISSET
#define FD_CLR(fd, set)                                                                  \
    do {                                                                                 \
        u_int __i;                                                                       \
        for (__i = 0; __i < ((fd_set *)(set))->fd_count; __i++) {                        \
            if (((fd_set *)(set))->fd_array[__i] == (SOCKET)(fd)) {                      \
                while (__i < ((fd_set *)(set))->fd_count - 1) {                          \
                    ((fd_set *)(set))->fd_array[__i] = ((fd_set *)(set))->fd_array[__i + 1]; \
                    __i++;                                                               \
                }                                                                        \
                ((fd_set *)(set))->fd_count--;                                           \
                break;                                                                   \
            }                                                                            \
        }                                                                                \
    } while (0)
#define FD_SET(fd, set)                                                                  \
    do {                                                                                 \
        u_int __i;                                                                       \
        for (__i = 0; __i < ((fd_set *)(set))->fd_count; __i++)                          \
            if (((fd_set *)(set))->fd_array[__i] == (SOCKET)(fd)) break;                 \
        if (__i == ((fd_set *)(set))->fd_count && ((fd_set *)(set))->fd_count < FD_SETSIZE) { \
            ((fd_set *)(set))->fd_array[__i] = (SOCKET)(fd);                             \
            ((fd_set *)(set))->fd_count++;                                               \
        }                                                                                \
    } while (0)
#define FD_ZERO(set) (((fd_set *)(set))->fd_count = 0)
#define FD_ISSET(fd, set) __WSAFDIsSet((SOCKET)(fd), (fd_set *)(set))

/* --- socket options (Windows values) ------------------------------------------------- */
#define SOL_SOCKET 0xffff
#define SO_DEBUG 0x0001
#define SO_ACCEPTCONN 0x0002
#define SO_REUSEADDR 0x0004
#define SO_KEEPALIVE 0x0008
#define SO_DONTROUTE 0x0010
#define SO_BROADCAST 0x0020
#define SO_LINGER 0x0080
#define SO_OOBINLINE 0x0100
#define SO_DONTLINGER (int)(~SO_LINGER)
#define SO_EXCLUSIVEADDRUSE ((int)(~SO_REUSEADDR))
#define SO_SNDBUF 0x1001
#define SO_RCVBUF 0x1002
#define SO_SNDLOWAT 0x1003
#define SO_RCVLOWAT 0x1004
#define SO_SNDTIMEO 0x1005
#define SO_RCVTIMEO 0x1006
#define SO_ERROR 0x1007
#define SO_TYPE 0x1008
#define TCP_NODELAY 0x0001
#define IP_TTL 4
#define IPV6_V6ONLY 27

typedef struct linger {
    u_short l_onoff;
    u_short l_linger;
} LINGER, *PLINGER, *LPLINGER;

/* --- ioctls and flags ---------------------------------------------------------------- */
#define IOCPARM_MASK 0x7f
#define IOC_VOID 0x20000000
#define IOC_OUT 0x40000000
#define IOC_IN 0x80000000
#define IOC_INOUT (IOC_IN | IOC_OUT)
#define _IOW_WS(x, y, t) (IOC_IN | (((long)sizeof(t) & IOCPARM_MASK) << 16) | ((x) << 8) | (y))
#define FIONREAD 0x4004667F
#define FIONBIO ((long)0x8004667E)
#define SIOCATMARK 0x40047307
#define IOC_WS2 0x08000000
#define _WSAIO(x, y) (IOC_VOID | (x) | (y))
#define _WSAIOR(x, y) (IOC_OUT | (x) | (y))
#define _WSAIOW(x, y) (IOC_IN | (x) | (y))
#define _WSAIORW(x, y) (IOC_INOUT | (x) | (y))
#define SIO_GET_EXTENSION_FUNCTION_POINTER _WSAIORW(IOC_WS2, 6)
#define SIO_BASE_HANDLE _WSAIOR(IOC_WS2, 34)
#define SIO_BSP_HANDLE _WSAIOR(IOC_WS2, 27)
#define SIO_BSP_HANDLE_SELECT _WSAIOR(IOC_WS2, 28)
#define SIO_BSP_HANDLE_POLL _WSAIOR(IOC_WS2, 29)

#define MSG_OOB 0x1
#define MSG_PEEK 0x2
#define MSG_DONTROUTE 0x4
#define MSG_WAITALL 0x8
#define MSG_PARTIAL 0x8000
#define SD_RECEIVE 0x00
#define SD_SEND 0x01
#define SD_BOTH 0x02
#define SOMAXCONN 0x7fffffff
#define WSA_FLAG_OVERLAPPED 0x01

/* --- events ------------------------------------------------------------------------- */
#define WSA_INVALID_EVENT ((WSAEVENT)NULL)
#define WSA_MAXIMUM_WAIT_EVENTS (MAXIMUM_WAIT_OBJECTS)
#define WSA_WAIT_EVENT_0 (WAIT_OBJECT_0)
#define WSA_WAIT_IO_COMPLETION (WAIT_IO_COMPLETION)
#define WSA_WAIT_TIMEOUT (WAIT_TIMEOUT)
#define WSA_WAIT_FAILED (WAIT_FAILED)
#define WSA_INFINITE (INFINITE)

#define FD_READ_BIT 0
#define FD_READ (1 << FD_READ_BIT)
#define FD_WRITE_BIT 1
#define FD_WRITE (1 << FD_WRITE_BIT)
#define FD_OOB_BIT 2
#define FD_OOB (1 << FD_OOB_BIT)
#define FD_ACCEPT_BIT 3
#define FD_ACCEPT (1 << FD_ACCEPT_BIT)
#define FD_CONNECT_BIT 4
#define FD_CONNECT (1 << FD_CONNECT_BIT)
#define FD_CLOSE_BIT 5
#define FD_CLOSE (1 << FD_CLOSE_BIT)
#define FD_MAX_EVENTS 10
#define FD_ALL_EVENTS ((1 << FD_MAX_EVENTS) - 1)
typedef struct _WSANETWORKEVENTS {
    LONG lNetworkEvents;
    int iErrorCode[FD_MAX_EVENTS];
} WSANETWORKEVENTS, *LPWSANETWORKEVENTS;

/* --- WSAPoll -------------------------------------------------------------------------- */
#define POLLRDNORM 0x0100
#define POLLRDBAND 0x0200
#define POLLIN (POLLRDNORM | POLLRDBAND)
#define POLLPRI 0x0400
#define POLLWRNORM 0x0010
#define POLLOUT (POLLWRNORM)
#define POLLWRBAND 0x0020
#define POLLERR 0x0001
#define POLLHUP 0x0002
#define POLLNVAL 0x0004
typedef struct pollfd {
    SOCKET fd;
    SHORT events;
    SHORT revents;
} WSAPOLLFD, *PWSAPOLLFD, *LPWSAPOLLFD;

/* --- more families, protocols and options (Windows values) -------------------------- */
#define AF_NS 6
#define AF_IPX AF_NS
#define AF_APPLETALK 16
#define AF_NETBIOS 17
#define PF_IPX AF_IPX
#define IPPROTO_HOPOPTS 0
#define IPPROTO_IGMP 2
#define IPPROTO_ROUTING 43
#define IPPROTO_FRAGMENT 44
#define IPPROTO_ICMPV6 58
#define IPPROTO_NONE 59
#define IPPROTO_DSTOPTS 60
#define IPPROTO_RAW 255
/* ICMP message types (ws2ipdef.h's ICMP4_TYPE / ICMP6_TYPE). */
#define ICMP4_ECHO_REPLY 0
#define ICMP4_DST_UNREACH 3
#define ICMP4_ECHO_REQUEST 8
#define ICMP4_TIME_EXCEEDED 11
#define ICMP6_DST_UNREACH 1
#define ICMP6_ECHO_REQUEST 128
#define ICMP6_ECHO_REPLY 129
#define SO_USELOOPBACK 0x0040
#define SO_BSP_STATE 0x1009
#define SO_GROUP_ID 0x2001
#define SO_GROUP_PRIORITY 0x2002
#define SO_MAX_MSG_SIZE 0x2003
#define SO_PROTOCOL_INFOA 0x2004
#define SO_PROTOCOL_INFOW 0x2005
#define SO_PROTOCOL_INFO SO_PROTOCOL_INFOA
#define PVD_CONFIG 0x3001
#define SO_CONDITIONAL_ACCEPT 0x3002
#define MSG_TRUNC 0x0100
#define MSG_CTRUNC 0x0200
#define MSG_BCAST 0x0400
#define MSG_MCAST 0x0800
#define MSG_INTERRUPT 0x10
#define MSG_MAXIOVLEN 16
#define FROM_PROTOCOL_INFO (-1)
#define WSA_FLAG_MULTIPOINT_C_ROOT 0x02
#define WSA_FLAG_MULTIPOINT_C_LEAF 0x04
#define WSA_FLAG_MULTIPOINT_D_ROOT 0x08
#define WSA_FLAG_MULTIPOINT_D_LEAF 0x10
#define WSA_FLAG_ACCESS_SYSTEM_SECURITY 0x40
#define WSA_FLAG_NO_HANDLE_INHERIT 0x80
#define FD_QOS_BIT 6
#define FD_QOS (1 << FD_QOS_BIT)
#define FD_GROUP_QOS_BIT 7
#define FD_GROUP_QOS (1 << FD_GROUP_QOS_BIT)
#define FD_ROUTING_INTERFACE_CHANGE_BIT 8
#define FD_ROUTING_INTERFACE_CHANGE (1 << FD_ROUTING_INTERFACE_CHANGE_BIT)
#define FD_ADDRESS_LIST_CHANGE_BIT 9
#define FD_ADDRESS_LIST_CHANGE (1 << FD_ADDRESS_LIST_CHANGE_BIT)

/* ioctls: _IOR('t', n, ULONG) and friends, written out (Linux's <sys/ioctl.h> owns the
 * names _IOR/_IOW). */
#define FIOASYNC ((long)0x8004667D)
#define SIOCSHIWAT ((long)0x80047300)
#define SIOCGHIWAT 0x40047301
#define SIOCSLOWAT ((long)0x80047302)
#define SIOCGLOWAT 0x40047303
#define SIO_IDEAL_SEND_BACKLOG_QUERY 0x4004747B
#define SIO_IDEAL_SEND_BACKLOG_CHANGE 0x2004747A
#define SIO_GET_INTERFACE_LIST 0x4004747F
#define SIO_ASSOCIATE_HANDLE _WSAIOW(IOC_WS2, 1)
#define SIO_ENABLE_CIRCULAR_QUEUEING _WSAIO(IOC_WS2, 2)
#define SIO_FIND_ROUTE _WSAIOR(IOC_WS2, 3)
#define SIO_FLUSH _WSAIO(IOC_WS2, 4)
#define SIO_GET_BROADCAST_ADDRESS _WSAIOR(IOC_WS2, 5)
#define SIO_GET_QOS _WSAIORW(IOC_WS2, 7)
#define SIO_GET_GROUP_QOS _WSAIORW(IOC_WS2, 8)
#define SIO_MULTIPOINT_LOOPBACK _WSAIOW(IOC_WS2, 9)
#define SIO_MULTICAST_SCOPE _WSAIOW(IOC_WS2, 10)
#define SIO_SET_QOS _WSAIOW(IOC_WS2, 11)
#define SIO_SET_GROUP_QOS _WSAIOW(IOC_WS2, 12)
#define SIO_TRANSLATE_HANDLE _WSAIORW(IOC_WS2, 13)
#define SIO_ROUTING_INTERFACE_QUERY _WSAIORW(IOC_WS2, 20)
#define SIO_ROUTING_INTERFACE_CHANGE _WSAIOW(IOC_WS2, 21)
#define SIO_ADDRESS_LIST_QUERY _WSAIOR(IOC_WS2, 22)
#define SIO_ADDRESS_LIST_CHANGE _WSAIO(IOC_WS2, 23)
#define SIO_QUERY_TARGET_PNP_HANDLE _WSAIOR(IOC_WS2, 24)
#define SIO_ADDRESS_LIST_SORT _WSAIORW(IOC_WS2, 25)

/* --- protocol information (WSAEnumProtocols, SO_PROTOCOL_INFO) ----------------------- */
#define MAX_PROTOCOL_CHAIN 7
#define BASE_PROTOCOL 1
#define LAYERED_PROTOCOL 0
#define WSAPROTOCOL_LEN 255
typedef struct _WSAPROTOCOLCHAIN {
    int ChainLen; /* 0: layered, 1: a base protocol, > 1: a chain */
    DWORD ChainEntries[MAX_PROTOCOL_CHAIN];
} WSAPROTOCOLCHAIN, *LPWSAPROTOCOLCHAIN;
typedef struct _WSAPROTOCOL_INFOA {
    DWORD dwServiceFlags1;
    DWORD dwServiceFlags2;
    DWORD dwServiceFlags3;
    DWORD dwServiceFlags4;
    DWORD dwProviderFlags;
    GUID ProviderId;
    DWORD dwCatalogEntryId;
    WSAPROTOCOLCHAIN ProtocolChain;
    int iVersion;
    int iAddressFamily;
    int iMaxSockAddr;
    int iMinSockAddr;
    int iSocketType;
    int iProtocol;
    int iProtocolMaxOffset;
    int iNetworkByteOrder;
    int iSecurityScheme;
    DWORD dwMessageSize;
    DWORD dwProviderReserved;
    CHAR szProtocol[WSAPROTOCOL_LEN + 1];
} WSAPROTOCOL_INFOA, *LPWSAPROTOCOL_INFOA;
typedef struct _WSAPROTOCOL_INFOW {
    DWORD dwServiceFlags1;
    DWORD dwServiceFlags2;
    DWORD dwServiceFlags3;
    DWORD dwServiceFlags4;
    DWORD dwProviderFlags;
    GUID ProviderId;
    DWORD dwCatalogEntryId;
    WSAPROTOCOLCHAIN ProtocolChain;
    int iVersion;
    int iAddressFamily;
    int iMaxSockAddr;
    int iMinSockAddr;
    int iSocketType;
    int iProtocol;
    int iProtocolMaxOffset;
    int iNetworkByteOrder;
    int iSecurityScheme;
    DWORD dwMessageSize;
    DWORD dwProviderReserved;
    WCHAR szProtocol[WSAPROTOCOL_LEN + 1];
} WSAPROTOCOL_INFOW, *LPWSAPROTOCOL_INFOW;
typedef WSAPROTOCOL_INFOA WSAPROTOCOL_INFO;
typedef LPWSAPROTOCOL_INFOA LPWSAPROTOCOL_INFO;
#define PFL_MULTIPLE_PROTO_ENTRIES 0x00000001
#define PFL_RECOMMENDED_PROTO_ENTRY 0x00000002
#define PFL_HIDDEN 0x00000004
#define PFL_MATCHES_PROTOCOL_ZERO 0x00000008
#define PFL_NETWORKDIRECT_PROVIDER 0x00000010
#define XP1_CONNECTIONLESS 0x00000001
#define XP1_GUARANTEED_DELIVERY 0x00000002
#define XP1_GUARANTEED_ORDER 0x00000004
#define XP1_MESSAGE_ORIENTED 0x00000008
#define XP1_PSEUDO_STREAM 0x00000010
#define XP1_GRACEFUL_CLOSE 0x00000020
#define XP1_EXPEDITED_DATA 0x00000040
#define XP1_CONNECT_DATA 0x00000080
#define XP1_DISCONNECT_DATA 0x00000100
#define XP1_SUPPORT_BROADCAST 0x00000200
#define XP1_SUPPORT_MULTIPOINT 0x00000400
#define XP1_MULTIPOINT_CONTROL_PLANE 0x00000800
#define XP1_MULTIPOINT_DATA_PLANE 0x00001000
#define XP1_QOS_SUPPORTED 0x00002000
#define XP1_INTERRUPT 0x00004000
#define XP1_UNI_SEND 0x00008000
#define XP1_UNI_RECV 0x00010000
#define XP1_IFS_HANDLES 0x00020000
#define XP1_PARTIAL_MESSAGE 0x00040000
#define XP1_SAN_SUPPORT_SDP 0x00080000
#define BIGENDIAN 0x0000
#define LITTLEENDIAN 0x0001
#define SECURITY_PROTOCOL_NONE 0x0000

/* --- address lists ------------------------------------------------------------------ */
typedef struct _SOCKET_ADDRESS {
    LPSOCKADDR lpSockaddr;
    INT iSockaddrLength;
} SOCKET_ADDRESS, *PSOCKET_ADDRESS, *LPSOCKET_ADDRESS;
typedef struct _SOCKET_ADDRESS_LIST {
    INT iAddressCount;
    SOCKET_ADDRESS Address[1];
} SOCKET_ADDRESS_LIST, *PSOCKET_ADDRESS_LIST, *LPSOCKET_ADDRESS_LIST;
typedef struct _CSADDR_INFO {
    SOCKET_ADDRESS LocalAddr;
    SOCKET_ADDRESS RemoteAddr;
    INT iSocketType;
    INT iProtocol;
} CSADDR_INFO, *PCSADDR_INFO, *LPCSADDR_INFO;

/* --- control data of WSASendMsg/WSARecvMsg (ws2def.h) -------------------------------- */
typedef struct _WSACMSGHDR {
    SIZE_T cmsg_len; /* the header and the data, without the padding after the data */
    INT cmsg_level;
    INT cmsg_type;
    /* followed by UCHAR cmsg_data[] */
} WSACMSGHDR, *PWSACMSGHDR, *LPWSACMSGHDR;
#define WSA_CMSGHDR_ALIGN(length) (((length) + 8 - 1) & ~(SIZE_T)(8 - 1))
#define WSA_CMSGDATA_ALIGN(length) (((length) + 8 - 1) & ~(SIZE_T)(8 - 1))
#define WSA_CMSG_ALIGN(length) WSA_CMSGDATA_ALIGN(length)
#define WSA_CMSG_FIRSTHDR(msg) \
    (((msg)->Control.len >= sizeof(WSACMSGHDR)) ? (LPWSACMSGHDR)(msg)->Control.buf : (LPWSACMSGHDR)NULL)
#define WSA_CMSG_NXTHDR(msg, cmsg)                                                                    \
    (((cmsg) == NULL) ? WSA_CMSG_FIRSTHDR(msg)                                                        \
     : (((PUCHAR)(cmsg) + WSA_CMSGHDR_ALIGN((cmsg)->cmsg_len) + sizeof(WSACMSGHDR)) >                   \
        (PUCHAR)((msg)->Control.buf) + (msg)->Control.len)                                            \
         ? (LPWSACMSGHDR)NULL                                                                         \
         : (LPWSACMSGHDR)((PUCHAR)(cmsg) + WSA_CMSGHDR_ALIGN((cmsg)->cmsg_len)))
#define WSA_CMSG_DATA(cmsg) ((PUCHAR)(cmsg) + WSA_CMSGDATA_ALIGN(sizeof(WSACMSGHDR)))
#define WSA_CMSG_SPACE(length) (WSA_CMSGDATA_ALIGN(sizeof(WSACMSGHDR) + WSA_CMSGHDR_ALIGN(length)))
#define WSA_CMSG_LEN(length) (WSA_CMSGDATA_ALIGN(sizeof(WSACMSGHDR)) + (length))

/* --- IP and IPv6 options, and their control data (ws2ipdef.h) ------------------------ */
#define IP_OPTIONS 1
#define IP_HDRINCL 2
#define IP_TOS 3
#define IP_MULTICAST_IF 9
#define IP_MULTICAST_TTL 10
#define IP_MULTICAST_LOOP 11
#define IP_ADD_MEMBERSHIP 12
#define IP_DROP_MEMBERSHIP 13
#define IP_DONTFRAGMENT 14
#define IP_ADD_SOURCE_MEMBERSHIP 15
#define IP_DROP_SOURCE_MEMBERSHIP 16
#define IP_BLOCK_SOURCE 17
#define IP_UNBLOCK_SOURCE 18
#define IP_PKTINFO 19
#define IP_HOPLIMIT 21
#define IP_RECVTTL 21
#define IP_RECEIVE_BROADCAST 22
#define IP_RECVIF 24
#define IP_RECVDSTADDR 25
#define IP_IFLIST 28
#define IP_ADD_IFLIST 29
#define IP_DEL_IFLIST 30
#define IP_UNICAST_IF 31
#define IP_RTHDR 32
#define IP_GET_IFLIST 33
#define IP_RECVRTHDR 38
#define IP_TCLASS 39
#define IP_RECVTCLASS 40
#define IP_RECVTOS 40
#define IP_ORIGINAL_ARRIVAL_IF 47
#define IP_ECN 50
#define IP_PKTINFO_EX 51
#define IP_WFP_REDIRECT_RECORDS 60
#define IP_WFP_REDIRECT_CONTEXT 70
#define IP_MTU_DISCOVER 71
#define IP_MTU 73
#define IP_NRT_INTERFACE 74
#define IP_RECVERR 75
#define IP_USER_MTU 76
#define IP_DEFAULT_MULTICAST_TTL 1
#define IP_DEFAULT_MULTICAST_LOOP 1
#define IPV6_OPTIONS 1
#define IPV6_HOPOPTS 1
#define IPV6_HDRINCL 2
#define IPV6_UNICAST_HOPS 4
#define IPV6_MULTICAST_IF 9
#define IPV6_MULTICAST_HOPS 10
#define IPV6_MULTICAST_LOOP 11
#define IPV6_ADD_MEMBERSHIP 12
#define IPV6_JOIN_GROUP IPV6_ADD_MEMBERSHIP
#define IPV6_DROP_MEMBERSHIP 13
#define IPV6_LEAVE_GROUP IPV6_DROP_MEMBERSHIP
#define IPV6_DONTFRAG 14
#define IPV6_PKTINFO 19
#define IPV6_HOPLIMIT 21
#define IPV6_PROTECTION_LEVEL 23
#define IPV6_RECVIF 24
#define IPV6_RECVDSTADDR 25
#define IPV6_CHECKSUM 26
#define IPV6_IFLIST 28
#define IPV6_ADD_IFLIST 29
#define IPV6_DEL_IFLIST 30
#define IPV6_UNICAST_IF 31
#define IPV6_RTHDR 32
#define IPV6_GET_IFLIST 33
#define IPV6_RECVRTHDR 38
#define IPV6_TCLASS 39
#define IPV6_RECVTCLASS 40
#define IPV6_ECN 50
#define IPV6_PKTINFO_EX 51
#define IPV6_WFP_REDIRECT_RECORDS 60
#define IPV6_WFP_REDIRECT_CONTEXT 70
#define IPV6_MTU_DISCOVER 71
#define IPV6_MTU 72
#define IPV6_NRT_INTERFACE 74
#define IPV6_RECVERR 75
#define IPV6_USER_MTU 76
#define TCP_EXPEDITED_1122 2
#define TCP_KEEPALIVE 3
#define TCP_MAXSEG 4
#define TCP_MAXRT 5
#define TCP_STDURG 6
#define TCP_NOURG 7
#define TCP_ATMARK 8
#define TCP_NOSYNRETRIES 9
#define TCP_TIMESTAMPS 10
#define TCP_OFFLOAD_PREFERENCE 11
#define TCP_CONGESTION_ALGORITHM 12
#define TCP_DELAY_FIN_ACK 13
#define TCP_MAXRTMS 14
#define TCP_FASTOPEN 15
#define TCP_KEEPCNT 16
#define TCP_KEEPIDLE TCP_KEEPALIVE
#define TCP_KEEPINTVL 17
#define TCP_FAIL_CONNECT_ON_ICMP_ERROR 18
#define TCP_ICMP_ERROR_INFO 19
#define UDP_NOCHECKSUM 1
#define UDP_CHECKSUM_COVERAGE 20

typedef struct ip_mreq {
    IN_ADDR imr_multiaddr;
    IN_ADDR imr_interface;
} IP_MREQ, *PIP_MREQ;
typedef struct ipv6_mreq {
    IN6_ADDR ipv6mr_multiaddr;
    ULONG ipv6mr_interface;
} IPV6_MREQ, *PIPV6_MREQ;
typedef struct in_pktinfo {
    IN_ADDR ipi_addr;
    ULONG ipi_ifindex;
} IN_PKTINFO, *PIN_PKTINFO;
typedef struct in6_pktinfo {
    IN6_ADDR ipi6_addr;
    ULONG ipi6_ifindex;
} IN6_PKTINFO, *PIN6_PKTINFO;
/* The IPv6 address of RFC 2133, without sin6_scope_id (24 bytes). */
struct sockaddr_in6_old {
    SHORT sin6_family;
    USHORT sin6_port;
    ULONG sin6_flowinfo;
    IN6_ADDR sin6_addr;
};
typedef union sockaddr_gen {
    struct sockaddr Address;
    struct sockaddr_in AddressIn;
    struct sockaddr_in6_old AddressIn6;
} sockaddr_gen;
typedef struct _INTERFACE_INFO {
    ULONG iiFlags;
    sockaddr_gen iiAddress;
    sockaddr_gen iiBroadcastAddress;
    sockaddr_gen iiNetmask;
} INTERFACE_INFO, *LPINTERFACE_INFO;
#define IFF_UP 0x00000001
#define IFF_BROADCAST 0x00000002
#define IFF_LOOPBACK 0x00000004
#define IFF_POINTTOPOINT 0x00000008
#define IFF_MULTICAST 0x00000010

/* --- error codes ---------------------------------------------------------------------- */
#define WSA_IO_PENDING (ERROR_IO_PENDING)
#define WSA_IO_INCOMPLETE (ERROR_IO_INCOMPLETE)
#define WSA_INVALID_HANDLE (ERROR_INVALID_HANDLE)
#define WSA_INVALID_PARAMETER (ERROR_INVALID_PARAMETER)
#define WSA_NOT_ENOUGH_MEMORY (ERROR_NOT_ENOUGH_MEMORY)
#define WSA_OPERATION_ABORTED (ERROR_OPERATION_ABORTED)
#define WSABASEERR 10000
#define WSAEINTR 10004L
#define WSAEBADF 10009L
#define WSAEACCES 10013L
#define WSAEFAULT 10014L
#define WSAEINVAL 10022L
#define WSAEMFILE 10024L
#define WSAEWOULDBLOCK 10035L
#define WSAEINPROGRESS 10036L
#define WSAEALREADY 10037L
#define WSAENOTSOCK 10038L
#define WSAEDESTADDRREQ 10039L
#define WSAEMSGSIZE 10040L
#define WSAEPROTOTYPE 10041L
#define WSAENOPROTOOPT 10042L
#define WSAEPROTONOSUPPORT 10043L
#define WSAESOCKTNOSUPPORT 10044L
#define WSAEOPNOTSUPP 10045L
#define WSAEPFNOSUPPORT 10046L
#define WSAEAFNOSUPPORT 10047L
#define WSAEADDRINUSE 10048L
#define WSAEADDRNOTAVAIL 10049L
#define WSAENETDOWN 10050L
#define WSAENETUNREACH 10051L
#define WSAENETRESET 10052L
#define WSAECONNABORTED 10053L
#define WSAECONNRESET 10054L
#define WSAENOBUFS 10055L
#define WSAEISCONN 10056L
#define WSAENOTCONN 10057L
#define WSAESHUTDOWN 10058L
#define WSAETOOMANYREFS 10059L
#define WSAETIMEDOUT 10060L
#define WSAECONNREFUSED 10061L
#define WSAELOOP 10062L
#define WSAENAMETOOLONG 10063L
#define WSAEHOSTDOWN 10064L
#define WSAEHOSTUNREACH 10065L
#define WSASYSNOTREADY 10091L
#define WSAVERNOTSUPPORTED 10092L
#define WSANOTINITIALISED 10093L
#define WSAEDISCON 10101L
#define WSASYSCALLFAILURE 10107L
#define WSATYPE_NOT_FOUND 10109L
#define WSAHOST_NOT_FOUND 11001L
#define WSATRY_AGAIN 11002L
#define WSANO_RECOVERY 11003L
#define WSANO_DATA 11004L

/* --- names ---------------------------------------------------------------------------- */
typedef struct hostent {
    char *h_name;
    char **h_aliases;
    short h_addrtype;
    short h_length;
    char **h_addr_list;
} HOSTENT, *PHOSTENT, *LPHOSTENT;
#define h_addr h_addr_list[0]

/* --- functions ------------------------------------------------------------------------- */
int WSAAPI WSAStartup(WORD wVersionRequested, LPWSADATA lpWSAData);
int WSAAPI WSACleanup(void);
int WSAAPI WSAGetLastError(void);
void WSAAPI WSASetLastError(int iError);

SOCKET WSAAPI socket(int af, int type, int protocol) OVL_WS2_ASM("ws2_socket");
SOCKET WSAAPI WSASocketA(int af, int type, int protocol, LPWSAPROTOCOL_INFOA lpProtocolInfo, GROUP g, DWORD dwFlags);
SOCKET WSAAPI WSASocketW(int af, int type, int protocol, LPWSAPROTOCOL_INFOW lpProtocolInfo, GROUP g, DWORD dwFlags);
int WSAAPI WSADuplicateSocketA(SOCKET s, DWORD dwProcessId, LPWSAPROTOCOL_INFOA lpProtocolInfo);
int WSAAPI WSADuplicateSocketW(SOCKET s, DWORD dwProcessId, LPWSAPROTOCOL_INFOW lpProtocolInfo);
#define WSADuplicateSocket WSADuplicateSocketA
#define WSASocket WSASocketA
int WSAAPI bind(SOCKET s, const struct sockaddr *name, int namelen) OVL_WS2_ASM("ws2_bind");
int WSAAPI listen(SOCKET s, int backlog) OVL_WS2_ASM("ws2_listen");
SOCKET WSAAPI accept(SOCKET s, struct sockaddr *addr, int *addrlen) OVL_WS2_ASM("ws2_accept");
/* WSAAccept: accept with an optional condition function (QOS, group and connect data
 * are not supported: the function gets NULL for them). */
#define CF_ACCEPT 0x0000
#define CF_REJECT 0x0001
#define CF_DEFER 0x0002
typedef struct _QualityOfService QOS, *LPQOS; /* opaque: always NULL here */
typedef int(CALLBACK *LPCONDITIONPROC)(LPWSABUF lpCallerId, LPWSABUF lpCallerData, LPQOS lpSQOS, LPQOS lpGQOS,
                                       LPWSABUF lpCalleeId, LPWSABUF lpCalleeData, GROUP *g,
                                       DWORD_PTR dwCallbackData);
SOCKET WSAAPI WSAAccept(SOCKET s, struct sockaddr *addr, LPINT addrlen, LPCONDITIONPROC lpfnCondition,
                        DWORD_PTR dwCallbackData);
/* WSAAddressToString: "a.b.c.d[:port]" or "[v6]:port"; lpProtocolInfo is ignored. */
INT WSAAPI WSAAddressToStringA(LPSOCKADDR lpsaAddress, DWORD dwAddressLength, LPWSAPROTOCOL_INFOA lpProtocolInfo,
                               LPSTR lpszAddressString, LPDWORD lpdwAddressStringLength);
#define WSAAddressToString WSAAddressToStringA
int WSAAPI connect(SOCKET s, const struct sockaddr *name, int namelen) OVL_WS2_ASM("ws2_connect");
int WSAAPI closesocket(SOCKET s);
int WSAAPI shutdown(SOCKET s, int how) OVL_WS2_ASM("ws2_shutdown");
int WSAAPI setsockopt(SOCKET s, int level, int optname, const char *optval, int optlen) OVL_WS2_ASM("ws2_setsockopt");
int WSAAPI getsockopt(SOCKET s, int level, int optname, char *optval, int *optlen) OVL_WS2_ASM("ws2_getsockopt");
int WSAAPI getsockname(SOCKET s, struct sockaddr *name, int *namelen) OVL_WS2_ASM("ws2_getsockname");
int WSAAPI getpeername(SOCKET s, struct sockaddr *name, int *namelen) OVL_WS2_ASM("ws2_getpeername");
int WSAAPI ioctlsocket(SOCKET s, long cmd, u_long *argp);
int WSAAPI send(SOCKET s, const char *buf, int len, int flags) OVL_WS2_ASM("ws2_send");
int WSAAPI recv(SOCKET s, char *buf, int len, int flags) OVL_WS2_ASM("ws2_recv");
int WSAAPI sendto(SOCKET s, const char *buf, int len, int flags, const struct sockaddr *to, int tolen) OVL_WS2_ASM("ws2_sendto");
int WSAAPI recvfrom(SOCKET s, char *buf, int len, int flags, struct sockaddr *from, int *fromlen) OVL_WS2_ASM("ws2_recvfrom");
#if defined(OVL_WS2_OWN_FD_SET)
int WSAAPI select(int nfds, fd_set *readfds, fd_set *writefds, fd_set *exceptfds, const struct timeval *timeout) OVL_WS2_ASM("ws2_select");
#endif
int WSAAPI WSAPoll(LPWSAPOLLFD fdArray, ULONG fds, INT timeout);
/* WSASendDisconnect/WSARecvDisconnect: shutdown(SD_SEND)/shutdown(SD_RECEIVE); TCP and UDP
 * carry no disconnect data, so a non-NULL data buffer is WSAENOPROTOOPT (as Windows). */
int WSAAPI WSASendDisconnect(SOCKET s, LPWSABUF lpOutboundDisconnectData);
int WSAAPI WSARecvDisconnect(SOCKET s, LPWSABUF lpInboundDisconnectData);
/* The transport protocols this library provides (TCP, UDP over IPv4 and IPv6, and raw
 * IPv4 and IPv6). */
int WSAAPI WSAEnumProtocolsA(LPINT lpiProtocols, LPWSAPROTOCOL_INFOA lpProtocolBuffer, LPDWORD lpdwBufferLength);
int WSAAPI WSAEnumProtocolsW(LPINT lpiProtocols, LPWSAPROTOCOL_INFOW lpProtocolBuffer, LPDWORD lpdwBufferLength);
#define WSAEnumProtocols WSAEnumProtocolsA

int WSAAPI WSASend(SOCKET s, LPWSABUF lpBuffers, DWORD dwBufferCount, LPDWORD lpNumberOfBytesSent, DWORD dwFlags,
                   LPWSAOVERLAPPED lpOverlapped, LPWSAOVERLAPPED_COMPLETION_ROUTINE lpCompletionRoutine);
int WSAAPI WSARecv(SOCKET s, LPWSABUF lpBuffers, DWORD dwBufferCount, LPDWORD lpNumberOfBytesRecvd, LPDWORD lpFlags,
                   LPWSAOVERLAPPED lpOverlapped, LPWSAOVERLAPPED_COMPLETION_ROUTINE lpCompletionRoutine);
int WSAAPI WSASendTo(SOCKET s, LPWSABUF lpBuffers, DWORD dwBufferCount, LPDWORD lpNumberOfBytesSent, DWORD dwFlags,
                     const struct sockaddr *lpTo, int iTolen, LPWSAOVERLAPPED lpOverlapped,
                     LPWSAOVERLAPPED_COMPLETION_ROUTINE lpCompletionRoutine);
int WSAAPI WSARecvFrom(SOCKET s, LPWSABUF lpBuffers, DWORD dwBufferCount, LPDWORD lpNumberOfBytesRecvd, LPDWORD lpFlags,
                       struct sockaddr *lpFrom, LPINT lpFromlen, LPWSAOVERLAPPED lpOverlapped,
                       LPWSAOVERLAPPED_COMPLETION_ROUTINE lpCompletionRoutine);
int WSAAPI WSAIoctl(SOCKET s, DWORD dwIoControlCode, LPVOID lpvInBuffer, DWORD cbInBuffer, LPVOID lpvOutBuffer,
                    DWORD cbOutBuffer, LPDWORD lpcbBytesReturned, LPWSAOVERLAPPED lpOverlapped,
                    LPWSAOVERLAPPED_COMPLETION_ROUTINE lpCompletionRoutine);
BOOL WSAAPI WSAGetOverlappedResult(SOCKET s, LPWSAOVERLAPPED lpOverlapped, LPDWORD lpcbTransfer, BOOL fWait,
                                   LPDWORD lpdwFlags);

WSAEVENT WSAAPI WSACreateEvent(void);
BOOL WSAAPI WSACloseEvent(WSAEVENT hEvent);
BOOL WSAAPI WSASetEvent(WSAEVENT hEvent);
BOOL WSAAPI WSAResetEvent(WSAEVENT hEvent);
DWORD WSAAPI WSAWaitForMultipleEvents(DWORD cEvents, const WSAEVENT *lphEvents, BOOL fWaitAll, DWORD dwTimeout,
                                      BOOL fAlertable);
int WSAAPI WSAEventSelect(SOCKET s, WSAEVENT hEventObject, long lNetworkEvents);
int WSAAPI WSAEnumNetworkEvents(SOCKET s, WSAEVENT hEventObject, LPWSANETWORKEVENTS lpNetworkEvents);

u_short WSAAPI htons(u_short hostshort) OVL_WS2_ASM("ws2_htons");
u_short WSAAPI ntohs(u_short netshort) OVL_WS2_ASM("ws2_ntohs");
u_long WSAAPI htonl(u_long hostlong) OVL_WS2_ASM("ws2_htonl");
u_long WSAAPI ntohl(u_long netlong) OVL_WS2_ASM("ws2_ntohl");
u_long WSAAPI inet_addr(const char *cp) OVL_WS2_ASM("ws2_inet_addr");
char *WSAAPI inet_ntoa(struct in_addr in) OVL_WS2_ASM("ws2_inet_ntoa");
int WSAAPI gethostname(char *name, int namelen) OVL_WS2_ASM("ws2_gethostname");
struct hostent *WSAAPI gethostbyname(const char *name) OVL_WS2_ASM("ws2_gethostbyname");

#ifdef __cplusplus
}
#endif

#if !defined(OVL_WS2_OWN_FD_SET) && defined(__cplusplus)
/* <sys/select.h> came first and declared the POSIX select(): this overload (C++
 * linkage, bound to the library by its asm label) takes the Windows fd_set. */
int select(int nfds, fd_set *readfds, fd_set *writefds, fd_set *exceptfds, const struct timeval *timeout)
    OVL_WS2_ASM("ws2_select");
#endif

/* --- the Windows layout, checked at compile time (the Rust side checks the same) ---- */
#ifdef __cplusplus
#define OVL_WS2_ASSERT(c, m) static_assert(c, m)
#else
#define OVL_WS2_ASSERT(c, m) _Static_assert(c, m)
#endif
OVL_WS2_ASSERT(sizeof(DWORD) == 4 && sizeof(ULONG) == 4 && sizeof(LONG) == 4 && sizeof(u_long) == 4, "32-bit DWORD/ULONG/LONG/u_long");
OVL_WS2_ASSERT(sizeof(SOCKET) == sizeof(void *) && sizeof(HANDLE) == sizeof(void *), "pointer-sized SOCKET/HANDLE");
OVL_WS2_ASSERT(sizeof(WSAOVERLAPPED) == 32 && offsetof(WSAOVERLAPPED, InternalHigh) == 8 && offsetof(WSAOVERLAPPED, Offset) == 16 && offsetof(WSAOVERLAPPED, Pointer) == 16 && offsetof(WSAOVERLAPPED, hEvent) == 24, "WSAOVERLAPPED");
OVL_WS2_ASSERT(sizeof(WSABUF) == 16 && offsetof(WSABUF, len) == 0 && offsetof(WSABUF, buf) == 8, "WSABUF");
OVL_WS2_ASSERT(sizeof(WSADATA) == 408 && offsetof(WSADATA, lpVendorInfo) == 8 && offsetof(WSADATA, szDescription) == 16, "WSADATA (Win64)");
OVL_WS2_ASSERT(sizeof(SOCKADDR_IN) == 16 && offsetof(SOCKADDR_IN, sin_addr) == 4 && sizeof(IN_ADDR) == 4, "SOCKADDR_IN");
OVL_WS2_ASSERT(sizeof(SOCKADDR_IN6) == 28 && offsetof(SOCKADDR_IN6, sin6_addr) == 8 && offsetof(SOCKADDR_IN6, sin6_scope_id) == 24, "SOCKADDR_IN6");
OVL_WS2_ASSERT(sizeof(SOCKADDR_STORAGE) == 128 && sizeof(SOCKADDR) == 16, "SOCKADDR_STORAGE");
OVL_WS2_ASSERT(sizeof(fd_set) == 8 + 64 * 8 && offsetof(fd_set, fd_array) == 8, "fd_set");
OVL_WS2_ASSERT(sizeof(struct linger) == 4 && sizeof(WSANETWORKEVENTS) == 44, "linger, WSANETWORKEVENTS");
OVL_WS2_ASSERT(sizeof(WSAPROTOCOL_INFOA) == 372 && sizeof(WSAPROTOCOL_INFOW) == 628 && offsetof(WSAPROTOCOL_INFOA, szProtocol) == 116, "WSAPROTOCOL_INFO");
OVL_WS2_ASSERT(sizeof(WSACMSGHDR) == 16 && sizeof(SOCKET_ADDRESS) == 16 && sizeof(SOCKET_ADDRESS_LIST) == 24 && sizeof(CSADDR_INFO) == 40, "WSACMSGHDR, SOCKET_ADDRESS(_LIST), CSADDR_INFO");
OVL_WS2_ASSERT(sizeof(IN_PKTINFO) == 8 && sizeof(IN6_PKTINFO) == 20 && sizeof(struct sockaddr_in6_old) == 24 && sizeof(INTERFACE_INFO) == 76, "IN_PKTINFO, IN6_PKTINFO, sockaddr_in6_old, INTERFACE_INFO");
OVL_WS2_ASSERT(sizeof(WSAPOLLFD) == 16 && sizeof(GUID) == 16 && sizeof(SYSTEM_INFO) == 48, "WSAPOLLFD, GUID, SYSTEM_INFO");

#include "ws2tcpip.h"

#endif /* OVL_WINSOCK2_H */
