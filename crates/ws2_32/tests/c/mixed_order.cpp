// C++ with the C library's headers first (so <sys/select.h> and the 64-bit BSD u_long
// are already declared), then Winsock: select takes the Windows fd_set by overload,
// u_long is 32-bit, and std::bind / std::thread still work (no macro renames them).
#include <cstdlib>
#include <functional>
#include <iostream>
#include <thread>
#include <sys/types.h>
#include <sys/select.h>
#include <WinSock2.h>
#include <WS2tcpip.h>
#include <MSWSock.h>
#include <Windows.h>

static_assert(sizeof(u_long) == 4, "u_long is 32-bit");
static_assert(sizeof(fd_set) == 8 + 64 * 8, "Windows fd_set");

int main() {
    WSADATA d;
    if (WSAStartup(MAKEWORD(2, 2), &d) != 0) return 1;
    SOCKET s = socket(AF_INET, SOCK_DGRAM, 0);
    SOCKADDR_IN a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(s, (SOCKADDR *)&a, sizeof(a)) != 0) return 2;
    int len = sizeof(a);
    getsockname(s, (SOCKADDR *)&a, &len);
    if (sendto(s, "x", 1, 0, (SOCKADDR *)&a, sizeof(a)) != 1) return 3;
    fd_set r;
    FD_ZERO(&r);
    FD_SET(s, &r);
    timeval tv{2, 0};
    if (select(0, &r, nullptr, nullptr, &tv) != 1 || !FD_ISSET(s, &r)) return 4;
    auto add = std::bind([](int x, int y) { return x + y; }, 40, std::placeholders::_1);
    int v = 0;
    std::thread t([&] { v = add(2); });
    t.join();
    if (v != 42) return 5;
    closesocket(s);
    WSACleanup();
    std::cout << "ok" << std::endl;
    return 0;
}
