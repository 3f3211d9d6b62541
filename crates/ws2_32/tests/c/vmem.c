/* VirtualAlloc / VirtualProtect / VirtualQuery / VirtualFree: regions of whole pages,
 * reserved then committed, protections as asked (a send from an inaccessible page is
 * WSAEFAULT, not a crash), exact old protections and states, release by base only. */
#include <winsock2.h>
#include <windows.h>
#include <string.h>
#include "check.h"

int main(void)
{
    WSADATA wsa;
    CHECK(WSAStartup(MAKEWORD(2, 2), &wsa) == 0);

    /* Two committed read-write pages, zeroed, page aligned. */
    char *p = VirtualAlloc(NULL, 2 * 4096, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE);
    CHECK(p != NULL);
    CHECK(((UINT_PTR)p & 4095) == 0);
    CHECK(p[0] == 0 && p[8191] == 0);
    memset(p, 'x', 8192);

    /* The second page made inaccessible: the old protection comes back. */
    DWORD old = 0;
    CHECK(VirtualProtect(p + 4096, 4096, PAGE_NOACCESS, &old));
    CHECK(old == PAGE_READWRITE);
    MEMORY_BASIC_INFORMATION mi;
    CHECK(VirtualQuery(p + 4096 + 10, &mi, sizeof(mi)) == sizeof(mi));
    CHECK(mi.BaseAddress == p + 4096 && mi.AllocationBase == p);
    CHECK(mi.State == MEM_COMMIT && mi.Protect == PAGE_NOACCESS && mi.RegionSize == 4096);
    CHECK(mi.AllocationProtect == PAGE_READWRITE && mi.Type == MEM_PRIVATE);
    CHECK(VirtualQuery(p, &mi, sizeof(mi)) == sizeof(mi));
    CHECK(mi.Protect == PAGE_READWRITE && mi.RegionSize == 4096);

    /* A send that runs into the inaccessible page fails with WSAEFAULT. */
    SOCKET s = socket(AF_INET, SOCK_DGRAM, IPPROTO_UDP);
    CHECK(s != INVALID_SOCKET);
    struct sockaddr_in to = {0};
    to.sin_family = AF_INET;
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    to.sin_port = htons(9);
    CHECK(sendto(s, p + 4096 - 8, 16, 0, (struct sockaddr *)&to, sizeof(to)) == SOCKET_ERROR);
    CHECK(WSAGetLastError() == WSAEFAULT);
    CHECK(sendto(s, p + 4096 - 8, 8, 0, (struct sockaddr *)&to, sizeof(to)) == 8);
    closesocket(s);

    /* Decommitted pages are reserved; committed again they read as zero. */
    CHECK(VirtualProtect(p + 4096, 4096, PAGE_READWRITE, &old));
    CHECK(old == PAGE_NOACCESS);
    CHECK(VirtualFree(p, 4096, MEM_DECOMMIT));
    CHECK(VirtualQuery(p, &mi, sizeof(mi)) == sizeof(mi));
    CHECK(mi.State == MEM_RESERVE && mi.Protect == 0);
    SetLastError(0xdeadbeef);
    CHECK(!VirtualProtect(p, 4096, PAGE_READONLY, &old));
    CHECK(GetLastError() == 487); /* ERROR_INVALID_ADDRESS: not committed */
    CHECK(VirtualAlloc(p, 4096, MEM_COMMIT, PAGE_READONLY) == p);
    CHECK(p[0] == 0);
    CHECK(p[4096] == 'x');

    /* Reserve only, then commit one page of it. */
    char *r = VirtualAlloc(NULL, 3 * 4096, MEM_RESERVE, PAGE_READWRITE);
    CHECK(r != NULL);
    CHECK(VirtualQuery(r, &mi, sizeof(mi)) == sizeof(mi));
    CHECK(mi.State == MEM_RESERVE && mi.RegionSize == 3 * 4096);
    CHECK(VirtualAlloc(r + 4096, 100, MEM_COMMIT, PAGE_READWRITE) == r + 4096);
    r[4096] = 1;
    CHECK(VirtualQuery(r + 4096, &mi, sizeof(mi)) == sizeof(mi));
    CHECK(mi.State == MEM_COMMIT && mi.RegionSize == 4096);

    /* Release: by base and size 0 only. */
    SetLastError(0xdeadbeef);
    CHECK(!VirtualFree(p, 4096, MEM_RELEASE));
    CHECK(GetLastError() == ERROR_INVALID_PARAMETER);
    SetLastError(0xdeadbeef);
    CHECK(!VirtualFree(p + 4096, 0, MEM_RELEASE));
    CHECK(GetLastError() == 487);
    CHECK(VirtualFree(p, 0, MEM_RELEASE));
    CHECK(VirtualFree(r, 0, MEM_RELEASE));
    SetLastError(0xdeadbeef);
    CHECK(!VirtualFree(p, 0, MEM_RELEASE)); /* already released */
    CHECK(GetLastError() == 487);
    CHECK(VirtualQuery(p, &mi, sizeof(mi)) == sizeof(mi));
    CHECK(mi.State == MEM_FREE || mi.AllocationBase != p);

    WSACleanup();
    puts("ok");
    return 0;
}
