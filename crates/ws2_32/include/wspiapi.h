/* wspiapi.h: the getaddrinfo compatibility header of old SDKs; getaddrinfo, getnameinfo and
 * freeaddrinfo are native here (ws2tcpip.h). Like the original, it brings in the C
 * library headers its inline code used. */
#ifndef OVL_WSPIAPI_H
#define OVL_WSPIAPI_H
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ws2tcpip.h"
#endif
