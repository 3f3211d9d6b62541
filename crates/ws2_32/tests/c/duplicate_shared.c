/* A socket duplicated with WSADuplicateSocket + WSASocket is another handle to the same
 * socket (Wine's test_completion_port): an AcceptEx on the duplicate of a listener
 * pends, its packet goes to the completion port the source was associated with, and
 * only the last close (of either handle) aborts it. */
#include "check.h"

int main(void) {
    startup();
    SOCKADDR_IN a;
    SOCKET src = listener(&a);
    HANDLE port = CreateIoCompletionPort((HANDLE)src, NULL, 125, 0);
    CHECK(port != NULL);
    WSAPROTOCOL_INFOA info;
    CHECK_EQ(WSADuplicateSocketA(src, GetCurrentProcessId(), &info), 0);
    SOCKET dup = WSASocketA(AF_INET, SOCK_STREAM, 0, &info, 0, WSA_FLAG_OVERLAPPED);
    CHECK(dup != INVALID_SOCKET);
    SOCKET acceptor = socket(AF_INET, SOCK_STREAM, 0);
    char buf[256];
    DWORD n, bytes;
    ULONG_PTR key;
    OVERLAPPED ov, *olp;
    memset(&ov, 0, sizeof(ov));
    CHECK(!AcceptEx(dup, acceptor, buf, 0, sizeof(SOCKADDR_IN) + 16, sizeof(SOCKADDR_IN) + 16, &n,
                    &ov));
    CHECK_EQ(GetLastError(), ERROR_IO_PENDING);

    /* Closing one handle leaves the socket (and the accept) alone. */
    CHECK_EQ(closesocket(src), 0);
    olp = (OVERLAPPED *)0xdeadbeef;
    CHECK(!GetQueuedCompletionStatus(port, &bytes, &key, &olp, 200));
    CHECK_EQ(GetLastError(), WAIT_TIMEOUT);
    CHECK(olp == NULL);

    /* The last close aborts it; the packet carries the source's key. */
    CHECK_EQ(closesocket(dup), 0);
    CHECK(!GetQueuedCompletionStatus(port, &bytes, &key, &olp, 2000));
    CHECK_EQ(GetLastError(), ERROR_OPERATION_ABORTED);
    CHECK_EQ(key, 125);
    CHECK(olp == &ov);
    CHECK_EQ(ov.Internal, 0xC0000120); /* STATUS_CANCELLED */
    closesocket(acceptor);
    CloseHandle(port);
    printf("ok\n");
    return 0;
}
