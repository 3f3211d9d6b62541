/* <wsnwlink.h>: IPX socket options (see wsipx.h: IPX is not provided). Only the option
 * numbers, so that Wine's sock.c builds. */
#ifndef OVL_WSNWLINK_H
#define OVL_WSNWLINK_H
#define IPX_PTYPE 0x4000
#endif
