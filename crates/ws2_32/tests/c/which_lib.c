/* Prints the path of the shared object WSAStartup was loaded from. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <winsock2.h>

int main(void) {
    Dl_info info;
    if (!dladdr((void *)WSAStartup, &info) || !info.dli_fname)
        return 1;
    printf("%s\n", info.dli_fname);
    return 0;
}
