/* A multi-client echo server with completion routines, in the style of the Winsock
 * books' CmplRouEchoServ: a non-blocking listening socket polled with accept(), the
 * main thread in SleepEx(..., TRUE) so the routines run; each client's state travels
 * in the (otherwise unused) hEvent of its WSAOVERLAPPED; the read routine posts the
 * echo with WSASend, the write routine posts the next WSARecv.
 *
 * Usage: routine_echo_server CLIENTS. Prints "port N", then exits 0 once CLIENTS
 * connections have been served and closed, printing "served N bytes B". */
#include <winsock2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BUF_SIZE 1024

typedef struct {
    SOCKET hClntSock;
    char buf[BUF_SIZE];
    WSABUF wsaBuf;
} PER_IO_DATA, *LPPER_IO_DATA;

static void CALLBACK ReadCompRoutine(DWORD, DWORD, LPWSAOVERLAPPED, DWORD);
static void CALLBACK WriteCompRoutine(DWORD, DWORD, LPWSAOVERLAPPED, DWORD);
static void ErrorHandling(const char *message);

static int closed;
static unsigned long long echoed;

int main(int argc, char *argv[]) {
    WSADATA wsaData;
    SOCKET hLisnSock, hRecvSock;
    SOCKADDR_IN lisnAdr, recvAdr;
    LPWSAOVERLAPPED lpOvLp;
    DWORD recvBytes;
    LPPER_IO_DATA hbInfo;
    int mode = 1, recvAdrSz, flagInfo = 0;
    int clients = argc > 1 ? atoi(argv[1]) : 1;

    if (WSAStartup(MAKEWORD(2, 2), &wsaData) != 0)
        ErrorHandling("WSAStartup() error!");

    hLisnSock = WSASocket(PF_INET, SOCK_STREAM, 0, NULL, 0, WSA_FLAG_OVERLAPPED);
    ioctlsocket(hLisnSock, FIONBIO, (u_long *)&mode); /* for non-blocking socket */

    memset(&lisnAdr, 0, sizeof(lisnAdr));
    lisnAdr.sin_family = AF_INET;
    lisnAdr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    lisnAdr.sin_port = htons(0);

    if (bind(hLisnSock, (SOCKADDR *)&lisnAdr, sizeof(lisnAdr)) == SOCKET_ERROR)
        ErrorHandling("bind() error");
    if (listen(hLisnSock, SOMAXCONN) == SOCKET_ERROR)
        ErrorHandling("listen() error");
    recvAdrSz = sizeof(lisnAdr);
    getsockname(hLisnSock, (SOCKADDR *)&lisnAdr, &recvAdrSz);
    printf("port %d\n", ntohs(lisnAdr.sin_port));
    fflush(stdout);

    recvAdrSz = sizeof(recvAdr);
    while (closed < clients) {
        SleepEx(100, TRUE); /* for alertable wait state */
        for (;;) {
            hRecvSock = accept(hLisnSock, (SOCKADDR *)&recvAdr, &recvAdrSz);
            if (hRecvSock == INVALID_SOCKET) {
                if (WSAGetLastError() == WSAEWOULDBLOCK)
                    break;
                ErrorHandling("accept() error");
            }
            lpOvLp = (LPWSAOVERLAPPED)malloc(sizeof(WSAOVERLAPPED));
            memset(lpOvLp, 0, sizeof(WSAOVERLAPPED));

            hbInfo = (LPPER_IO_DATA)malloc(sizeof(PER_IO_DATA));
            hbInfo->hClntSock = (DWORD)hRecvSock; /* the book's cast: handles fit a DWORD */
            (hbInfo->wsaBuf).buf = hbInfo->buf;
            (hbInfo->wsaBuf).len = BUF_SIZE;

            lpOvLp->hEvent = (HANDLE)hbInfo;
            if (WSARecv(hRecvSock, &(hbInfo->wsaBuf), 1, &recvBytes, (LPDWORD)&flagInfo, lpOvLp, ReadCompRoutine) ==
                    SOCKET_ERROR &&
                WSAGetLastError() != WSA_IO_PENDING)
                ErrorHandling("WSARecv() error");
        }
    }
    closesocket(hLisnSock);
    WSACleanup();
    printf("served %d bytes %llu\n", closed, echoed);
    return 0;
}

static void CALLBACK ReadCompRoutine(DWORD dwError, DWORD szRecvBytes, LPWSAOVERLAPPED lpOverlapped, DWORD flags) {
    LPPER_IO_DATA hbInfo = (LPPER_IO_DATA)(lpOverlapped->hEvent);
    SOCKET hSock = hbInfo->hClntSock;
    LPWSABUF bufInfo = &(hbInfo->wsaBuf);
    DWORD sentBytes;
    (void)flags;

    if (dwError != 0 || szRecvBytes == 0) { /* EOF (or error): close the client */
        closesocket(hSock);
        free(lpOverlapped->hEvent);
        free(lpOverlapped);
        closed++;
    } else { /* echo! */
        bufInfo->len = szRecvBytes;
        echoed += szRecvBytes;
        if (WSASend(hSock, bufInfo, 1, &sentBytes, 0, lpOverlapped, WriteCompRoutine) == SOCKET_ERROR &&
            WSAGetLastError() != WSA_IO_PENDING)
            ErrorHandling("WSASend() error");
    }
}

static void CALLBACK WriteCompRoutine(DWORD dwError, DWORD szSendBytes, LPWSAOVERLAPPED lpOverlapped, DWORD flags) {
    LPPER_IO_DATA hbInfo = (LPPER_IO_DATA)(lpOverlapped->hEvent);
    SOCKET hSock = hbInfo->hClntSock;
    LPWSABUF bufInfo = &(hbInfo->wsaBuf);
    DWORD recvBytes;
    int flagInfo = 0;
    (void)flags;
    if (dwError != 0 || szSendBytes != bufInfo->len)
        ErrorHandling("write routine error");
    bufInfo->len = BUF_SIZE;
    if (WSARecv(hSock, bufInfo, 1, &recvBytes, (LPDWORD)&flagInfo, lpOverlapped, ReadCompRoutine) == SOCKET_ERROR &&
        WSAGetLastError() != WSA_IO_PENDING)
        ErrorHandling("WSARecv() error");
}

static void ErrorHandling(const char *message) {
    printf("%s (WSAGetLastError %d)\n", message, WSAGetLastError());
    exit(1);
}
