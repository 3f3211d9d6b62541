/* <iphlpapi.h>: the IP Helper API, which this project does not provide. Empty, so that
 * Wine's sock.c builds; the test functions that use it are left out (expectations.txt). */
