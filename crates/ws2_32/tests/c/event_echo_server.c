/* A multi-client echo server on an event array, in the style of the Winsock books:
 * slot 0 is the listening socket's event (WSAEventSelect FD_ACCEPT), every other slot a
 * client's overlapped WSARecv event; one WSAWaitForMultipleEvents over all of them
 * (at most WSA_MAXIMUM_WAIT_EVENTS), then each signalled slot is handled: accept new
 * clients, or read the receive's result with WSAGetOverlappedResult, echo it with an
 * overlapped WSASend (waited for on a second event) and post the next WSARecv.
 *
 * Usage: event_echo_server CLIENTS. Prints "port N", then exits 0 once CLIENTS
 * connections have been served and closed, printing "served N bytes B". */
#include <winsock2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BUF_SIZE 1024

typedef struct {
    SOCKET sock;
    WSAOVERLAPPED ov;
    WSAEVENT sendEvent;
    WSABUF wsaBuf;
    char buf[BUF_SIZE];
} CLIENT;

static WSAEVENT hEventArr[WSA_MAXIMUM_WAIT_EVENTS];
static CLIENT *clients[WSA_MAXIMUM_WAIT_EVENTS];
static int numOfClnt;

static void ErrorHandling(const char *msg) {
    printf("%s (WSAGetLastError %d)\n", msg, WSAGetLastError());
    exit(1);
}

int main(int argc, char *argv[]) {
    WSADATA wsaData;
    SOCKET hServSock;
    SOCKADDR_IN servAdr;
    int target = argc > 1 ? atoi(argv[1]) : 1, served = 0, i, adrSz;
    unsigned long long echoed = 0;

    if (WSAStartup(MAKEWORD(2, 2), &wsaData) != 0)
        ErrorHandling("WSAStartup() error!");
    hServSock = WSASocket(AF_INET, SOCK_STREAM, 0, NULL, 0, WSA_FLAG_OVERLAPPED);
    memset(&servAdr, 0, sizeof(servAdr));
    servAdr.sin_family = AF_INET;
    servAdr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    servAdr.sin_port = htons(0);
    if (bind(hServSock, (SOCKADDR *)&servAdr, sizeof(servAdr)) == SOCKET_ERROR)
        ErrorHandling("bind() error");
    if (listen(hServSock, SOMAXCONN) == SOCKET_ERROR)
        ErrorHandling("listen() error");
    adrSz = sizeof(servAdr);
    getsockname(hServSock, (SOCKADDR *)&servAdr, &adrSz);

    hEventArr[0] = WSACreateEvent();
    clients[0] = NULL;
    numOfClnt = 1;
    if (WSAEventSelect(hServSock, hEventArr[0], FD_ACCEPT) == SOCKET_ERROR)
        ErrorHandling("WSAEventSelect() error");
    printf("port %d\n", ntohs(servAdr.sin_port));
    fflush(stdout);

    while (served < target) {
        DWORD posInfo = WSAWaitForMultipleEvents(numOfClnt, hEventArr, FALSE, WSA_INFINITE, FALSE);
        if (posInfo == WSA_WAIT_FAILED)
            ErrorHandling("WSAWaitForMultipleEvents() error");
        int startIdx = posInfo - WSA_WAIT_EVENT_0;
        for (i = startIdx; i < numOfClnt; i++) {
            if (WSAWaitForMultipleEvents(1, &hEventArr[i], TRUE, 0, FALSE) != WSA_WAIT_EVENT_0)
                continue;
            if (i == 0) { /* new connections */
                WSANETWORKEVENTS netEvents;
                WSAEnumNetworkEvents(hServSock, hEventArr[0], &netEvents);
                if (!(netEvents.lNetworkEvents & FD_ACCEPT))
                    continue;
                if (netEvents.iErrorCode[FD_ACCEPT_BIT] != 0)
                    ErrorHandling("accept error");
                for (;;) {
                    SOCKADDR_IN clntAdr;
                    int clntAdrLen = sizeof(clntAdr);
                    SOCKET hClntSock = accept(hServSock, (SOCKADDR *)&clntAdr, &clntAdrLen);
                    if (hClntSock == INVALID_SOCKET) {
                        if (WSAGetLastError() == WSAEWOULDBLOCK)
                            break;
                        ErrorHandling("accept() error");
                    }
                    if (numOfClnt == WSA_MAXIMUM_WAIT_EVENTS)
                        ErrorHandling("too many clients");
                    CLIENT *c = (CLIENT *)calloc(1, sizeof(CLIENT));
                    c->sock = hClntSock;
                    c->sendEvent = WSACreateEvent();
                    hEventArr[numOfClnt] = WSACreateEvent();
                    clients[numOfClnt] = c;
                    c->ov.hEvent = hEventArr[numOfClnt];
                    c->wsaBuf.len = BUF_SIZE;
                    c->wsaBuf.buf = c->buf;
                    DWORD recvBytes, flags = 0;
                    if (WSARecv(c->sock, &c->wsaBuf, 1, &recvBytes, &flags, &c->ov, NULL) == SOCKET_ERROR &&
                        WSAGetLastError() != WSA_IO_PENDING)
                        ErrorHandling("WSARecv() error");
                    numOfClnt++;
                }
            } else { /* a receive completed */
                CLIENT *c = clients[i];
                DWORD bytes = 0, flags = 0;
                BOOL ok = WSAGetOverlappedResult(c->sock, &c->ov, &bytes, FALSE, &flags);
                if (!ok || bytes == 0) { /* closed: compact the arrays */
                    closesocket(c->sock);
                    WSACloseEvent(hEventArr[i]);
                    WSACloseEvent(c->sendEvent);
                    free(c);
                    hEventArr[i] = hEventArr[numOfClnt - 1];
                    clients[i] = clients[numOfClnt - 1];
                    numOfClnt--;
                    served++;
                    i--; /* the moved slot is looked at next */
                    continue;
                }
                echoed += bytes;
                WSAOVERLAPPED sendOv;
                memset(&sendOv, 0, sizeof(sendOv));
                sendOv.hEvent = c->sendEvent;
                c->wsaBuf.len = bytes;
                DWORD sent = 0;
                if (WSASend(c->sock, &c->wsaBuf, 1, &sent, 0, &sendOv, NULL) == SOCKET_ERROR) {
                    if (WSAGetLastError() != WSA_IO_PENDING)
                        ErrorHandling("WSASend() error");
                    WSAWaitForMultipleEvents(1, &c->sendEvent, TRUE, WSA_INFINITE, FALSE);
                    if (!WSAGetOverlappedResult(c->sock, &sendOv, &sent, FALSE, &flags))
                        ErrorHandling("WSASend completion error");
                }
                if (sent != bytes)
                    ErrorHandling("short send");
                c->wsaBuf.len = BUF_SIZE;
                memset(&c->ov, 0, sizeof(c->ov));
                c->ov.hEvent = hEventArr[i];
                DWORD recvBytes;
                flags = 0;
                if (WSARecv(c->sock, &c->wsaBuf, 1, &recvBytes, &flags, &c->ov, NULL) == SOCKET_ERROR &&
                    WSAGetLastError() != WSA_IO_PENDING)
                    ErrorHandling("WSARecv() error");
            }
        }
    }
    closesocket(hServSock);
    WSACloseEvent(hEventArr[0]);
    WSACleanup();
    printf("served %d bytes %llu\n", served, echoed);
    return 0;
}
