/*
 * QueueUserAPC, DuplicateHandle, thread-local storage, modules and GetProcAddress,
 * NtClose, WSASendDisconnect/WSARecvDisconnect, WSAEnumProtocols, code pages: what
 * Windows does, rule by rule (tests/behaviour.rs runs it).
 */
#include "check.h"
#include <ntstatus.h>
#include <winternl.h>
#include <mswsock.h>

static int order[8];
static int n_order;
static void WINAPI apc(ULONG_PTR tag) { order[n_order++] = (int)tag; }

/* An APC that waits alertably itself: the next APC runs inside it (no socket to serialise). */
static void WINAPI nesting_apc(ULONG_PTR tag) {
    order[n_order++] = (int)tag;
    CHECK_EQ(SleepEx(0, TRUE), WAIT_IO_COMPLETION);
}

static DWORD tls_index;
static volatile LONG thread_apcs;
static void WINAPI count_apc(ULONG_PTR p) { InterlockedIncrement((LONG volatile *)p); }

static DWORD WINAPI worker(LPVOID arg) {
    /* TLS: a new thread sees NULL, and its own value only. */
    CHECK(TlsGetValue(tls_index) == NULL && GetLastError() == 0);
    CHECK(TlsSetValue(tls_index, arg));
    CHECK(TlsGetValue(tls_index) == arg);
    /* APCs queued to this thread (one before it started) run in its alertable waits. */
    CHECK_EQ(SleepEx(INFINITE, TRUE), WAIT_IO_COMPLETION);
    CHECK(thread_apcs >= 1);
    while (thread_apcs < 2) CHECK_EQ(SleepEx(INFINITE, TRUE), WAIT_IO_COMPLETION);
    return 7;
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    startup();

    /* ---- QueueUserAPC on the calling thread. ---- */
    CHECK(QueueUserAPC(apc, GetCurrentThread(), 1));
    CHECK(QueueUserAPC(apc, GetCurrentThread(), 2));
    Sleep(10); /* not alertable: nothing runs */
    CHECK_EQ(n_order, 0);
    CHECK_EQ(WaitForSingleObjectEx(WSACreateEvent(), 0, FALSE), WAIT_TIMEOUT);
    CHECK_EQ(n_order, 0);
    CHECK_EQ(SleepEx(1000, TRUE), WAIT_IO_COMPLETION); /* both, in order */
    CHECK(n_order == 2 && order[0] == 1 && order[1] == 2);
    CHECK_EQ(SleepEx(0, TRUE), 0);
    HANDLE ev = CreateEventA(NULL, TRUE, FALSE, NULL);
    CHECK(QueueUserAPC(apc, GetCurrentThread(), 3));
    CHECK_EQ(WaitForSingleObjectEx(ev, INFINITE, TRUE), WAIT_IO_COMPLETION);
    CHECK(QueueUserAPC(apc, GetCurrentThread(), 4));
    CHECK_EQ(WSAWaitForMultipleEvents(1, &ev, FALSE, INFINITE, TRUE), WSA_WAIT_IO_COMPLETION);
    CHECK(n_order == 4 && order[2] == 3 && order[3] == 4);
    CHECK(QueueUserAPC(nesting_apc, GetCurrentThread(), 5));
    CHECK(QueueUserAPC(apc, GetCurrentThread(), 6));
    CHECK_EQ(SleepEx(0, TRUE), WAIT_IO_COMPLETION);
    CHECK(n_order == 6 && order[4] == 5 && order[5] == 6);

    /* ---- QueueUserAPC on another thread, before and after it starts; TLS. ---- */
    tls_index = TlsAlloc();
    CHECK(tls_index != TLS_OUT_OF_INDEXES);
    int mine = 1, theirs = 2;
    CHECK(TlsSetValue(tls_index, &mine));
    DWORD id;
    HANDLE t = CreateThread(NULL, 0, worker, &theirs, CREATE_SUSPENDED, &id);
    CHECK(t != NULL);
    CHECK(QueueUserAPC(count_apc, t, (ULONG_PTR)&thread_apcs));
    CHECK_EQ(ResumeThread(t), 1);
    Sleep(50);
    CHECK(QueueUserAPC(count_apc, t, (ULONG_PTR)&thread_apcs));
    CHECK_EQ(WaitForSingleObject(t, 10000), WAIT_OBJECT_0);
    CHECK_EQ(thread_apcs, 2);
    CHECK(TlsGetValue(tls_index) == &mine);
    SetLastError(0xdeadbeef);
    CHECK(!QueueUserAPC(count_apc, t, (ULONG_PTR)&thread_apcs)); /* it has exited */
    CHECK_EQ(GetLastError(), ERROR_GEN_FAILURE);
    CHECK(TlsFree(tls_index));
    DWORD again = TlsAlloc(); /* a reused index reads NULL everywhere */
    CHECK(TlsGetValue(again) == NULL);
    CHECK(TlsFree(again));

    /* ---- DuplicateHandle: a second handle to the same event and thread. ---- */
    HANDLE dup = NULL;
    CHECK(DuplicateHandle(GetCurrentProcess(), ev, GetCurrentProcess(), &dup, 0, FALSE, DUPLICATE_SAME_ACCESS));
    CHECK(dup != NULL && dup != ev);
    CHECK(SetEvent(dup));
    CHECK_EQ(WaitForSingleObject(ev, 0), WAIT_OBJECT_0);
    CHECK(CloseHandle(ev)); /* the object lives on through the duplicate */
    CHECK_EQ(WaitForSingleObject(dup, 0), WAIT_OBJECT_0);
    HANDLE moved = NULL;
    CHECK(DuplicateHandle(GetCurrentProcess(), dup, GetCurrentProcess(), &moved, 0, FALSE,
                          DUPLICATE_CLOSE_SOURCE | DUPLICATE_SAME_ACCESS));
    SetLastError(0);
    CHECK(!CloseHandle(dup) && GetLastError() == ERROR_INVALID_HANDLE); /* closed by the move */
    CHECK_EQ(WaitForSingleObject(moved, 0), WAIT_OBJECT_0);
    CHECK(CloseHandle(moved));
    HANDLE t2 = NULL;
    CHECK(DuplicateHandle(GetCurrentProcess(), t, GetCurrentProcess(), &t2, 0, FALSE, DUPLICATE_SAME_ACCESS));
    CHECK(CloseHandle(t));
    DWORD code = 0;
    CHECK(GetExitCodeThread(t2, &code) && code == 7);
    CHECK(CloseHandle(t2));

    /* ---- Modules: ws2_32's exports by their Windows names; ntdll's NtClose. ---- */
    HMODULE ws = GetModuleHandleA("ws2_32.dll");
    CHECK(ws != NULL && ws == GetModuleHandleA("WS2_32") && ws == LoadLibraryA("ws2_32.dll"));
    CHECK((void *)GetProcAddress(ws, "WSAPoll") == (void *)WSAPoll);
    CHECK((void *)GetProcAddress(ws, "bind") == (void *)bind);
    CHECK((void *)GetProcAddress(ws, "closesocket") == (void *)closesocket);
    HMODULE k32 = GetModuleHandleA("kernel32.dll");
    CHECK(k32 != NULL && k32 != ws);
    CHECK((void *)GetProcAddress(k32, "CreateEventA") == (void *)CreateEventA);
    SetLastError(0);
    CHECK(GetProcAddress(k32, "GetWriteWatch") == NULL && GetLastError() == ERROR_PROC_NOT_FOUND);
    CHECK((void *)GetProcAddress(GetModuleHandleA("mswsock.dll"), "AcceptEx") == (void *)AcceptEx);
    CHECK(FreeLibrary(ws));
    HMODULE nt = LoadLibraryA("ntdll.dll");
    CHECK(nt != NULL);
    NTSTATUS(WINAPI * pNtClose)(HANDLE) = (void *)GetProcAddress(nt, "NtClose");
    CHECK(pNtClose == NtClose);
    SOCKET s = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
    CHECK(s != INVALID_SOCKET);
    SetLastError(0xdeadbeef);
    CHECK_EQ(pNtClose((HANDLE)s), STATUS_SUCCESS);
    CHECK_EQ(pNtClose((HANDLE)s), STATUS_INVALID_HANDLE);
    CHECK_EQ(GetLastError(), 0xdeadbeef);
    CHECK(!NT_SUCCESS(STATUS_CANCELLED) && NT_SUCCESS(STATUS_PENDING));
    CHECK_EQ(RtlNtStatusToDosError(STATUS_PENDING), ERROR_IO_PENDING);
    SetLastError(0);
    CHECK(LoadLibraryA("user32.dll") == NULL && GetLastError() == ERROR_MOD_NOT_FOUND);

    /* ---- WSASendDisconnect / WSARecvDisconnect: shutdown, no completion queued. ---- */
    SOCKET c, srv;
    tcp_pair(&c, &srv);
    CHECK_EQ(WSASendDisconnect(c, NULL), 0);
    char b[8];
    CHECK_EQ(recv(srv, b, sizeof(b), 0), 0); /* the peer sees the end of the stream */
    CHECK_EQ(send(srv, "hi", 2, 0), 2);      /* the other direction still works */
    CHECK_EQ(recv(c, b, sizeof(b), 0), 2);
    CHECK_EQ(WSARecvDisconnect(c, NULL), 0);
    closesocket(c);
    closesocket(srv);
    SOCKET lone = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
    CHECK(WSASendDisconnect(lone, NULL) == SOCKET_ERROR && WSAGetLastError() == WSAENOTCONN);
    closesocket(lone);

    /* ---- WSAEnumProtocols: TCP and UDP over IPv4 and IPv6. ---- */
    WSAPROTOCOL_INFOA info[8];
    DWORD len = sizeof(info);
    int protos[] = {IPPROTO_UDP, 0};
    CHECK_EQ(WSAEnumProtocolsA(protos, info, &len), 2);
    CHECK(info[0].iProtocol == IPPROTO_UDP && info[0].iSocketType == SOCK_DGRAM && info[0].iAddressFamily == AF_INET);
    CHECK(info[1].iAddressFamily == AF_INET6 && (info[1].dwServiceFlags1 & XP1_CONNECTIONLESS));
    CHECK(!strcmp(info[0].szProtocol, "MSAFD Tcpip [UDP/IP]"));
    WSAPROTOCOL_INFOW infow[4];
    len = sizeof(infow);
    CHECK_EQ(WSAEnumProtocolsW(NULL, infow, &len), 4);
    char name[WSAPROTOCOL_LEN + 1];
    CHECK_EQ(WideCharToMultiByte(CP_ACP, 0, infow[0].szProtocol, -1, name, sizeof(name), NULL, NULL), 21);
    CHECK(!strcmp(name, "MSAFD Tcpip [TCP/IP]"));

    /* ---- Code pages: UTF-8 both ways, measuring first. ---- */
    WCHAR w[8];
    CHECK_EQ(MultiByteToWideChar(CP_UTF8, 0, "h\xc3\xa9", -1, NULL, 0), 3);
    CHECK_EQ(MultiByteToWideChar(CP_UTF8, 0, "h\xc3\xa9", -1, w, 8), 3);
    CHECK(w[0] == 'h' && w[1] == 0xe9 && w[2] == 0);
    CHECK_EQ(WideCharToMultiByte(CP_UTF8, 0, w, 2, NULL, 0, NULL, NULL), 3);

    WSACleanup();
    printf("ok\n");
    return 0;
}
