/* What Microsoft's Winsock samples use besides the overlapped calls: getnameinfo,
 * WSAAddressToString, WSAAccept with a condition function, GetStdHandle and
 * WriteConsole, the lstr* functions, min/max, MAX_PATH, SUCCEEDED/FAILED, the C
 * library headers <windows.h> brings in (tolower, va_list), and __try/__finally. */
#include "check.h"
#include <ws2tcpip.h>
#include <wspiapi.h>

static int condition_calls;
static SOCKADDR_IN seen_caller, seen_callee;

static int CALLBACK condition(LPWSABUF caller, LPWSABUF caller_data, LPQOS sqos, LPQOS gqos, LPWSABUF callee,
                              LPWSABUF callee_data, GROUP *g, DWORD_PTR verdict) {
    condition_calls++;
    CHECK(caller != NULL && callee != NULL);
    CHECK(caller_data == NULL && callee_data == NULL && sqos == NULL && gqos == NULL && g == NULL);
    CHECK_EQ(caller->len, sizeof(SOCKADDR_IN));
    CHECK_EQ(callee->len, sizeof(SOCKADDR_IN));
    memcpy(&seen_caller, caller->buf, sizeof(seen_caller));
    memcpy(&seen_callee, callee->buf, sizeof(seen_callee));
    return (int)verdict;
}

static void wsaaccept(void) {
    SOCKADDR_IN la;
    SOCKET l = listener(&la);
    for (int round = 0; round < 3; round++) {
        DWORD_PTR verdict = round == 0 ? CF_REJECT : round == 1 ? CF_DEFER : CF_ACCEPT;
        SOCKET c = socket(AF_INET, SOCK_STREAM, 0);
        CHECK(c != INVALID_SOCKET);
        CHECK_EQ(connect(c, (SOCKADDR *)&la, sizeof(la)), 0);
        SOCKADDR_IN cl;
        int cl_len = sizeof(cl);
        CHECK_EQ(getsockname(c, (SOCKADDR *)&cl, &cl_len), 0);
        SOCKADDR_IN peer;
        memset(&peer, 0xAB, sizeof(peer));
        int peer_len = sizeof(peer);
        int before = condition_calls;
        SOCKET a = WSAAccept(l, (SOCKADDR *)&peer, &peer_len, condition, verdict);
        CHECK_EQ(condition_calls, before + 1);
        /* The condition saw the client's address and the listener's. */
        CHECK_EQ(seen_caller.sin_family, AF_INET);
        CHECK_EQ(seen_caller.sin_port, cl.sin_port);
        CHECK_EQ(seen_caller.sin_addr.s_addr, cl.sin_addr.s_addr);
        CHECK_EQ(seen_callee.sin_port, la.sin_port);
        char b[4];
        if (verdict != CF_ACCEPT) {
            CHECK(a == INVALID_SOCKET);
            CHECK_EQ(WSAGetLastError(), verdict == CF_REJECT ? WSAECONNREFUSED : WSATRY_AGAIN);
            CHECK_EQ((unsigned char)((char *)&peer)[0], 0xAB); /* not written */
            if (verdict == CF_REJECT) {
                /* The client sees the connection reset. */
                CHECK_EQ(recv(c, b, sizeof(b), 0), SOCKET_ERROR);
                CHECK_EQ(WSAGetLastError(), WSAECONNRESET);
            } else {
                /* Deferred: the next accept gets it (Wine's tests of Windows). */
                int pl = sizeof(peer);
                SOCKET d = accept(l, (SOCKADDR *)&peer, &pl);
                CHECK(d != INVALID_SOCKET);
                CHECK_EQ(peer.sin_port, cl.sin_port);
                CHECK_EQ(closesocket(d), 0);
            }
        } else {
            CHECK(a != INVALID_SOCKET);
            CHECK_EQ(peer_len, sizeof(SOCKADDR_IN));
            CHECK_EQ(peer.sin_port, cl.sin_port);
            CHECK_EQ(send(c, "hi", 2, 0), 2);
            CHECK_EQ(recv(a, b, sizeof(b), 0), 2);
            CHECK_EQ(closesocket(a), 0);
        }
        CHECK_EQ(closesocket(c), 0);
    }
    /* Without a condition function: a plain accept. */
    SOCKET c = socket(AF_INET, SOCK_STREAM, 0);
    CHECK_EQ(connect(c, (SOCKADDR *)&la, sizeof(la)), 0);
    int before = condition_calls;
    SOCKET a = WSAAccept(l, NULL, NULL, NULL, 0);
    CHECK(a != INVALID_SOCKET);
    CHECK_EQ(condition_calls, before);
    CHECK_EQ(closesocket(a), 0);
    CHECK_EQ(closesocket(c), 0);
    CHECK_EQ(closesocket(l), 0);
}

static void names(void) {
    SOCKADDR_IN a;
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_port = htons(8080);
    a.sin_addr.s_addr = htonl(0x7f000001);
    char host[NI_MAXHOST], serv[NI_MAXSERV];
    CHECK_EQ(getnameinfo((SOCKADDR *)&a, sizeof(a), host, NI_MAXHOST, serv, NI_MAXSERV,
                         NI_NUMERICHOST | NI_NUMERICSERV), 0);
    CHECK(strcmp(host, "127.0.0.1") == 0);
    CHECK(strcmp(serv, "8080") == 0);
    /* Only the service; a well-known port by name over TCP and UDP. */
    a.sin_port = htons(53);
    CHECK_EQ(getnameinfo((SOCKADDR *)&a, sizeof(a), NULL, 0, serv, NI_MAXSERV, NI_NUMERICSERV), 0);
    CHECK(strcmp(serv, "53") == 0);
    SOCKADDR_IN6 a6;
    memset(&a6, 0, sizeof(a6));
    a6.sin6_family = AF_INET6;
    a6.sin6_port = htons(443);
    a6.sin6_addr.s6_addr[15] = 1;
    CHECK_EQ(getnameinfo((SOCKADDR *)&a6, sizeof(a6), host, NI_MAXHOST, serv, NI_MAXSERV,
                         NI_NUMERICHOST | NI_NUMERICSERV), 0);
    CHECK(strcmp(host, "::1") == 0);
    CHECK(strcmp(serv, "443") == 0);

    char text[64];
    DWORD len = sizeof(text);
    a.sin_port = htons(80);
    CHECK_EQ(WSAAddressToString((LPSOCKADDR)&a, sizeof(a), NULL, text, &len), 0);
    CHECK(strcmp(text, "127.0.0.1:80") == 0);
    CHECK_EQ(len, strlen("127.0.0.1:80") + 1);
    a.sin_port = 0;
    len = sizeof(text);
    CHECK_EQ(WSAAddressToString((LPSOCKADDR)&a, sizeof(a), NULL, text, &len), 0);
    CHECK(strcmp(text, "127.0.0.1") == 0);
    len = sizeof(text);
    CHECK_EQ(WSAAddressToString((LPSOCKADDR)&a6, sizeof(a6), NULL, text, &len), 0);
    CHECK(strcmp(text, "[::1]:443") == 0);
    /* Exactly the room needed is enough; one less is not. */
    len = (DWORD)strlen("[::1]:443") + 1;
    CHECK_EQ(WSAAddressToString((LPSOCKADDR)&a6, sizeof(a6), NULL, text, &len), 0);
    len--;
    CHECK_EQ(WSAAddressToString((LPSOCKADDR)&a6, sizeof(a6), NULL, text, &len), SOCKET_ERROR);
    CHECK_EQ(WSAGetLastError(), WSAEFAULT);
    CHECK_EQ(len, strlen("[::1]:443") + 1);
}

static void print_through_console(const char *fmt, ...) {
    char line[128];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    DWORD wrote = 0;
    CHECK(WriteConsole(GetStdHandle(STD_OUTPUT_HANDLE), line, (DWORD)n, &wrote, NULL));
    CHECK_EQ(wrote, n);
}

static void win32_odds(void) {
    CHECK(GetStdHandle(STD_OUTPUT_HANDLE) != GetStdHandle(STD_ERROR_HANDLE));
    CHECK(GetStdHandle(STD_OUTPUT_HANDLE) != INVALID_HANDLE_VALUE);
    fflush(stdout);
    print_through_console("console line %d\n", 42); /* the test checks this line */
    CHECK_EQ(lstrlen("abc"), 3);
    CHECK_EQ(lstrlen(NULL), 0);
    char buf[MAX_PATH];
    CHECK_EQ(sizeof(buf), 260);
    CHECK(lstrcpy(buf, "Hello") == buf);
    CHECK(lstrcat(buf, ", world") == buf);
    CHECK_EQ(lstrcmp(buf, "Hello, world"), 0);
    CHECK_EQ(lstrcmpi(buf, "HELLO, WORLD"), 0);
    CHECK_EQ(lstrcmp("a", "b"), -1);
    CHECK_EQ(lstrcmp("b", "a"), 1);
    CHECK_EQ(tolower('Q'), 'q');
    CHECK_EQ(min(3, 9), 3);
    CHECK_EQ(max(3, 9), 9);
    HRESULT ok = S_OK, bad = (HRESULT)0x80070057L;
    CHECK(SUCCEEDED(ok) && !FAILED(ok));
    CHECK(FAILED(bad) && !SUCCEEDED(bad));
    DWORD_PTR v = 5;
    PDWORD_PTR pv = &v;
    CHECK_EQ(*pv, 5);
}

/* __try/__finally/__leave in normal flow; an __except block never runs (faults end the
 * process on Linux). Returns the steps taken as bits. */
static int seh(int leave) {
    int steps = 0;
    __try {
        steps |= 1;
        if (leave) __leave;
        steps |= 2;
    } __finally {
        steps |= 4;
    }
    __try {
        steps |= 8;
    } __except (GetExceptionCode() == 5 ? EXCEPTION_EXECUTE_HANDLER : EXCEPTION_CONTINUE_SEARCH) {
        steps |= 16;
    }
    return steps;
}

static __declspec(thread) int per_thread = 1;
static volatile LONG ctrl_seen = -1;

static DWORD WINAPI bump(LPVOID arg) {
    per_thread += 41;
    *(int *)arg = per_thread;
    return 0;
}

static BOOL WINAPI on_ctrl(DWORD type) {
    InterlockedExchange(&ctrl_seen, (LONG)type);
    return TRUE;
}

static void more_odds(void) {
    /* FormatMessage: the texts of error codes. */
    char msg[256];
    DWORD n = FormatMessage(FORMAT_MESSAGE_FROM_SYSTEM | FORMAT_MESSAGE_IGNORE_INSERTS, NULL, WSAECONNRESET,
                            MAKELANGID(LANG_NEUTRAL, SUBLANG_DEFAULT), msg, sizeof(msg), NULL);
    CHECK(n > 2);
    CHECK_EQ(n, strlen(msg));
    CHECK(strstr(msg, "reset") != NULL);
    CHECK(msg[n - 2] == '\r' && msg[n - 1] == '\n');
    n = FormatMessage(FORMAT_MESSAGE_FROM_SYSTEM | FORMAT_MESSAGE_MAX_WIDTH_MASK, NULL, ERROR_NOT_OWNER, 0, msg,
                      sizeof(msg), NULL);
    CHECK(n > 0 && msg[n - 1] != '\n');
    LPSTR alloc = NULL;
    n = FormatMessage(FORMAT_MESSAGE_ALLOCATE_BUFFER | FORMAT_MESSAGE_FROM_SYSTEM, NULL, WSAEWOULDBLOCK, 0,
                      (LPSTR)&alloc, 0, NULL);
    CHECK(n > 0 && alloc != NULL);
    CHECK_EQ(strlen(alloc), n);
    CHECK(LocalFree(alloc) == NULL);
    SetLastError(0);
    CHECK_EQ(FormatMessage(FORMAT_MESSAGE_FROM_SYSTEM, NULL, WSAECONNRESET, 0, msg, 5, NULL), 0);
    CHECK_EQ(GetLastError(), ERROR_INSUFFICIENT_BUFFER);
    CHECK_EQ(FormatMessage(FORMAT_MESSAGE_FROM_SYSTEM, NULL, 4242424, 0, msg, sizeof(msg), NULL), 0);
    CHECK_EQ(GetLastError(), ERROR_MR_MID_NOT_FOUND);
    CHECK_EQ(FormatMessage(FORMAT_MESSAGE_FROM_STRING, "x", 0, 0, msg, sizeof(msg), NULL), 0);
    CHECK_EQ(GetLastError(), ERROR_INVALID_PARAMETER);

    OSVERSIONINFO vi;
    vi.dwOSVersionInfoSize = sizeof(vi);
    CHECK(GetVersionEx(&vi));
    CHECK_EQ(vi.dwPlatformId, VER_PLATFORM_WIN32_NT);
    vi.dwOSVersionInfoSize = 4;
    CHECK(!GetVersionEx(&vi));

    /* __declspec(thread): each thread its own copy. */
    int theirs = 0;
    HANDLE t = CreateThread(NULL, 0, bump, &theirs, 0, NULL);
    CHECK(t != NULL);
    CHECK_EQ(WaitForSingleObject(t, 10000), WAIT_OBJECT_0);
    CHECK(CloseHandle(t));
    CHECK_EQ(theirs, 42);
    CHECK_EQ(per_thread, 1);

    time_t now = 86400 * 365;
    struct tm tmv;
    CHECK_EQ(gmtime_s(&tmv, &now), 0);
    CHECK_EQ(tmv.tm_year, 71);
    CHECK_EQ(localtime_s(&tmv, &now), 0);
    CHECK(localtime_s(NULL, &now) != 0);

    CHECK(strcmp(TEXT("abc"), "abc") == 0);
    CHECK_EQ(MessageBox(NULL, "a message box line", "sample_apis", MB_OK | MB_ICONERROR), IDOK);
    CHECK_EQ(MessageBox(NULL, NULL, NULL, MB_YESNO), IDYES);
    CHECK_EQ(MessageBox(NULL, "x", "y", 0xF), 0);
    CHECK_EQ(GetLastError(), ERROR_INVALID_PARAMETER);

    /* GenerateConsoleCtrlEvent reaches this process's handler. */
    CHECK(SetConsoleCtrlHandler(on_ctrl, TRUE));
    CHECK(GenerateConsoleCtrlEvent(CTRL_BREAK_EVENT, 0));
    for (int i = 0; i < 500 && ctrl_seen < 0; i++) Sleep(10);
    CHECK_EQ(ctrl_seen, CTRL_BREAK_EVENT);
    CHECK(SetConsoleCtrlHandler(on_ctrl, FALSE));
    CHECK(!GenerateConsoleCtrlEvent(7, 0));
    CHECK_EQ(GetLastError(), ERROR_INVALID_PARAMETER);
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    startup();
    wsaaccept();
    names();
    win32_odds();
    CHECK_EQ(seh(0), 1 | 2 | 4 | 8);
    CHECK_EQ(seh(1), 1 | 4 | 8);
    more_odds();
    CHECK_EQ(WSACleanup(), 0);
    printf("ok\n");
    return 0;
}
