/* <wsnwlink.h>: IPX, which Linux no longer has and this project does not provide. Empty, so
 * that Wine's sock.c builds; the test functions that use IPX are left out (expectations.txt). */
