/* mstcpip.h: SIO_KEEPALIVE_VALS (libws2_32; see winsock2.h). */
#ifndef OVL_MSTCPIP_H
#define OVL_MSTCPIP_H
#include "winsock2.h"
struct tcp_keepalive {
    ULONG onoff;
    ULONG keepalivetime;     /* milliseconds */
    ULONG keepaliveinterval; /* milliseconds */
};
#ifndef IOC_VENDOR
#define IOC_VENDOR 0x18000000
#endif
#define SIO_KEEPALIVE_VALS _WSAIOW(IOC_VENDOR, 4)
#endif /* OVL_MSTCPIP_H */
