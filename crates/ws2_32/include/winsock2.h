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
SOCKET WSAAPI WSASocketA(int af, int type, int protocol, void *lpProtocolInfo, GROUP g, DWORD dwFlags);
SOCKET WSAAPI WSASocketW(int af, int type, int protocol, void *lpProtocolInfo, GROUP g, DWORD dwFlags);
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
INT WSAAPI WSAAddressToStringA(LPSOCKADDR lpsaAddress, DWORD dwAddressLength, void *lpProtocolInfo,
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
OVL_WS2_ASSERT(sizeof(WSAPOLLFD) == 16 && sizeof(GUID) == 16 && sizeof(SYSTEM_INFO) == 48, "WSAPOLLFD, GUID, SYSTEM_INFO");

#include "ws2tcpip.h"

#endif /* OVL_WINSOCK2_H */
