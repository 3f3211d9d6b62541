/* A multi-threaded I/O completion port echo server, written as for Windows: worker
 * threads (two per processor, _beginthreadex) wait in GetQueuedCompletionStatus;
 * connections are accepted with AcceptEx (from WSAIoctl) on the port; per-handle and
 * per-I/O data carry the OVERLAPPED, recovered with CONTAINING_RECORD. Each received
 * buffer is echoed with WSASend before the next WSARecv is posted. Per-handle data comes
 * from GlobalAlloc, per-I/O data from the process heap, and the count of live clients
 * is kept under a critical section (it must be back to 0 at the end).
 *
 * Usage: iocp_echo_server N. Prints "port P", serves N connections, then stops the
 * workers (one PostQueuedCompletionStatus(0, 0, NULL) each, WaitForMultipleObjects on
 * their handles), prints "served N bytes B" and exits 0. */
#include <winsock2.h>
#include <windows.h>
#include <mswsock.h>
#include <process.h>
#include <stdio.h>
#include <stdlib.h>

#define BUF_SIZE 4096
#define PENDING_ACCEPTS 16
#define MAX_WORKERS 64
#define ADDR_LEN (sizeof(SOCKADDR_IN) + 16)

enum { OP_ACCEPT, OP_READ, OP_WRITE };

typedef struct {
    SOCKET hSock;
} PER_HANDLE_DATA, *LPPER_HANDLE_DATA;

typedef struct {
    OVERLAPPED overlapped;
    WSABUF wsaBuf;
    char buffer[BUF_SIZE];
    int rwMode;
    SOCKET hAccept; /* OP_ACCEPT: the socket being accepted */
    char addrs[2 * ADDR_LEN];
} PER_IO_DATA, *LPPER_IO_DATA;

static HANDLE hComPort;
static SOCKET hServSock;
static LPFN_ACCEPTEX lpfnAcceptEx;
static LONG served, target;
static LONG64 bytesEchoed;
static HANDLE hAllServed;
static LPPER_IO_DATA acceptIo[PENDING_ACCEPTS];
static volatile LONG stopping;
static CRITICAL_SECTION csClients;
static int liveClients, peakClients;

static void ClientUp(void) {
    EnterCriticalSection(&csClients);
    if (++liveClients > peakClients) peakClients = liveClients;
    LeaveCriticalSection(&csClients);
}

static void ClientDown(void) {
    EnterCriticalSection(&csClients);
    liveClients--;
    LeaveCriticalSection(&csClients);
}

static LPPER_IO_DATA NewIoData(void) {
    LPPER_IO_DATA io = (LPPER_IO_DATA)HeapAlloc(GetProcessHeap(), HEAP_ZERO_MEMORY, sizeof(PER_IO_DATA));
    if (io == NULL) {
        fprintf(stderr, "HeapAlloc: %lu\n", (unsigned long)GetLastError());
        exit(1);
    }
    return io;
}

static void FreeClient(LPPER_HANDLE_DATA handleInfo, LPPER_IO_DATA ioInfo) {
    closesocket(handleInfo->hSock);
    if (GlobalFree(handleInfo) != NULL || !HeapFree(GetProcessHeap(), 0, ioInfo)) {
        fprintf(stderr, "freeing a client: %lu\n", (unsigned long)GetLastError());
        exit(1);
    }
    ClientDown();
    if (InterlockedIncrement(&served) == target) SetEvent(hAllServed);
}

static void ErrorHandling(const char *msg) {
    fprintf(stderr, "%s: %d\n", msg, WSAGetLastError());
    exit(1);
}

static void PostAccept(LPPER_IO_DATA ioInfo) {
    ioInfo->hAccept = WSASocket(AF_INET, SOCK_STREAM, 0, NULL, 0, WSA_FLAG_OVERLAPPED);
    if (ioInfo->hAccept == INVALID_SOCKET) ErrorHandling("WSASocket");
    memset(&ioInfo->overlapped, 0, sizeof(OVERLAPPED));
    ioInfo->rwMode = OP_ACCEPT;
    DWORD bytes = 0;
    if (!lpfnAcceptEx(hServSock, ioInfo->hAccept, ioInfo->addrs, 0, ADDR_LEN, ADDR_LEN, &bytes, &ioInfo->overlapped) &&
        WSAGetLastError() != ERROR_IO_PENDING)
        ErrorHandling("AcceptEx");
}

static void PostRecv(LPPER_HANDLE_DATA handleInfo, LPPER_IO_DATA ioInfo) {
    DWORD flags = 0;
    memset(&ioInfo->overlapped, 0, sizeof(OVERLAPPED));
    ioInfo->wsaBuf.len = BUF_SIZE;
    ioInfo->wsaBuf.buf = ioInfo->buffer;
    ioInfo->rwMode = OP_READ;
    if (WSARecv(handleInfo->hSock, &ioInfo->wsaBuf, 1, NULL, &flags, &ioInfo->overlapped, NULL) == SOCKET_ERROR &&
        WSAGetLastError() != WSA_IO_PENDING) {
        /* The connection is gone: no packet will come for this one. */
        FreeClient(handleInfo, ioInfo);
    }
}

static void CloseClient(LPPER_HANDLE_DATA handleInfo, LPPER_IO_DATA ioInfo) {
    FreeClient(handleInfo, ioInfo);
}

static unsigned __stdcall EchoThreadMain(void *pComPort) {
    HANDLE hPort = (HANDLE)pComPort;
    DWORD bytesTrans;
    ULONG_PTR key;
    LPOVERLAPPED lpOverlapped;

    for (;;) {
        BOOL ok = GetQueuedCompletionStatus(hPort, &bytesTrans, &key, &lpOverlapped, INFINITE);
        if (lpOverlapped == NULL) {
            if (ok && key == 0) break; /* the stop message */
            fprintf(stderr, "GetQueuedCompletionStatus failed: %lu\n", (unsigned long)GetLastError());
            return 1;
        }
        LPPER_IO_DATA ioInfo = CONTAINING_RECORD(lpOverlapped, PER_IO_DATA, overlapped);
        if (ioInfo->rwMode == OP_ACCEPT) {
            if (!ok) { /* the listener was closed */
                closesocket(ioInfo->hAccept);
                continue;
            }
            if (setsockopt(ioInfo->hAccept, SOL_SOCKET, SO_UPDATE_ACCEPT_CONTEXT, (char *)&hServSock, sizeof(hServSock)) != 0)
                ErrorHandling("SO_UPDATE_ACCEPT_CONTEXT");
            LPPER_HANDLE_DATA handleInfo = (LPPER_HANDLE_DATA)GlobalAlloc(GPTR, sizeof(PER_HANDLE_DATA));
            if (handleInfo == NULL) ErrorHandling("GlobalAlloc");
            handleInfo->hSock = ioInfo->hAccept;
            ClientUp();
            if (CreateIoCompletionPort((HANDLE)handleInfo->hSock, hPort, (ULONG_PTR)handleInfo, 0) != hPort)
                ErrorHandling("CreateIoCompletionPort");
            LPPER_IO_DATA readInfo = NewIoData();
            PostRecv(handleInfo, readInfo);
            if (!stopping) PostAccept(ioInfo);
            continue;
        }
        LPPER_HANDLE_DATA handleInfo = (LPPER_HANDLE_DATA)key;
        if (!ok) { /* reset or aborted */
            CloseClient(handleInfo, ioInfo);
            continue;
        }
        if (ioInfo->rwMode == OP_READ) {
            if (bytesTrans == 0) { /* EOF */
                CloseClient(handleInfo, ioInfo);
                continue;
            }
            InterlockedExchangeAdd64(&bytesEchoed, bytesTrans);
            memset(&ioInfo->overlapped, 0, sizeof(OVERLAPPED));
            ioInfo->wsaBuf.len = bytesTrans;
            ioInfo->wsaBuf.buf = ioInfo->buffer;
            ioInfo->rwMode = OP_WRITE;
            if (WSASend(handleInfo->hSock, &ioInfo->wsaBuf, 1, NULL, 0, &ioInfo->overlapped, NULL) == SOCKET_ERROR &&
                WSAGetLastError() != WSA_IO_PENDING)
                CloseClient(handleInfo, ioInfo);
        } else {
            if (bytesTrans != ioInfo->wsaBuf.len) {
                fprintf(stderr, "short send: %lu of %lu\n", (unsigned long)bytesTrans, (unsigned long)ioInfo->wsaBuf.len);
                return 2;
            }
            PostRecv(handleInfo, ioInfo);
        }
    }
    return 0;
}

int main(int argc, char *argv[]) {
    WSADATA wsaData;
    SYSTEM_INFO sysInfo;
    SOCKADDR_IN servAdr;
    HANDLE hThreads[MAX_WORKERS];
    DWORD nThreads, i;

    setvbuf(stdout, NULL, _IONBF, 0);
    target = argc > 1 ? atoi(argv[1]) : 1;
    if (WSAStartup(MAKEWORD(2, 2), &wsaData) != 0) ErrorHandling("WSAStartup");
    InitializeCriticalSection(&csClients);
    hAllServed = CreateEvent(NULL, TRUE, FALSE, NULL);
    hComPort = CreateIoCompletionPort(INVALID_HANDLE_VALUE, NULL, 0, 0);
    if (hComPort == NULL) ErrorHandling("CreateIoCompletionPort");

    GetSystemInfo(&sysInfo);
    nThreads = sysInfo.dwNumberOfProcessors * 2;
    if (nThreads < 4) nThreads = 4;
    if (nThreads > MAX_WORKERS) nThreads = MAX_WORKERS;
    for (i = 0; i < nThreads; i++) {
        hThreads[i] = (HANDLE)_beginthreadex(NULL, 0, EchoThreadMain, (void *)hComPort, 0, NULL);
        if (hThreads[i] == NULL) ErrorHandling("_beginthreadex");
    }

    hServSock = WSASocket(AF_INET, SOCK_STREAM, 0, NULL, 0, WSA_FLAG_OVERLAPPED);
    memset(&servAdr, 0, sizeof(servAdr));
    servAdr.sin_family = AF_INET;
    servAdr.sin_addr.s_addr = inet_addr("127.0.0.1");
    servAdr.sin_port = htons(0);
    if (bind(hServSock, (SOCKADDR *)&servAdr, sizeof(servAdr)) == SOCKET_ERROR) ErrorHandling("bind");
    if (listen(hServSock, SOMAXCONN) == SOCKET_ERROR) ErrorHandling("listen");
    int len = sizeof(servAdr);
    getsockname(hServSock, (SOCKADDR *)&servAdr, &len);

    GUID guidAcceptEx = WSAID_ACCEPTEX;
    DWORD dwBytes;
    if (WSAIoctl(hServSock, SIO_GET_EXTENSION_FUNCTION_POINTER, &guidAcceptEx, sizeof(guidAcceptEx), &lpfnAcceptEx,
                 sizeof(lpfnAcceptEx), &dwBytes, NULL, NULL) == SOCKET_ERROR)
        ErrorHandling("WSAIoctl");
    if (CreateIoCompletionPort((HANDLE)hServSock, hComPort, 0xACCE, 0) != hComPort) ErrorHandling("associate listener");
    for (i = 0; i < PENDING_ACCEPTS; i++) {
        acceptIo[i] = NewIoData();
        PostAccept(acceptIo[i]);
    }
    printf("port %d\n", ntohs(servAdr.sin_port));

    if (WaitForSingleObject(hAllServed, 60000) != WAIT_OBJECT_0) {
        fprintf(stderr, "timed out with %ld connections served\n", (long)served);
        return 1;
    }

    /* Stop: the pending AcceptEx complete aborted (workers close their sockets), then
     * one stop message per worker. */
    InterlockedExchange(&stopping, 1);
    closesocket(hServSock);
    Sleep(100);
    for (i = 0; i < nThreads; i++) PostQueuedCompletionStatus(hComPort, 0, 0, NULL);
    DWORD w = WaitForMultipleObjects(nThreads, hThreads, TRUE, 10000);
    if (w != WAIT_OBJECT_0) {
        fprintf(stderr, "workers did not stop: %lu\n", (unsigned long)w);
        return 1;
    }
    for (i = 0; i < nThreads; i++) {
        DWORD code = 99;
        if (!GetExitCodeThread(hThreads[i], &code) || code != 0) {
            fprintf(stderr, "worker %lu exit code %lu\n", (unsigned long)i, (unsigned long)code);
            return 1;
        }
        CloseHandle(hThreads[i]);
    }
    for (i = 0; i < PENDING_ACCEPTS; i++) HeapFree(GetProcessHeap(), 0, acceptIo[i]);
    if (liveClients != 0 || peakClients < 1) {
        fprintf(stderr, "live clients %d at the end (peak %d)\n", liveClients, peakClients);
        return 1;
    }
    DeleteCriticalSection(&csClients);
    CloseHandle(hComPort);
    CloseHandle(hAllServed);
    WSACleanup();
    printf("served %ld bytes %lld\n", (long)served, (long long)bytesEchoed);
    return 0;
}
