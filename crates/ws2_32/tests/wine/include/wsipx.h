/* <wsipx.h>: IPX, which Linux no longer has and this project does not provide. Only the
 * protocol number, so that Wine's sock.c builds: a socket of AF_IPX fails with
 * WSAEAFNOSUPPORT, as on a Windows without IPX installed, and the test skips IPX. */
#ifndef OVL_WSIPX_H
#define OVL_WSIPX_H
#define NSPROTO_IPX 1000
#define NSPROTO_SPX 1256
#define NSPROTO_SPXII 1257
#endif
