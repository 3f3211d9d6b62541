/* The OVERLAPPED bookkeeping as Wine's tests show Windows:
 * - WSAGetOverlappedResult reads Internal as a 32-bit NTSTATUS (a negative NTSTATUS
 *   stored in the ULONG_PTR is sign-extended) and reports Windows' WSA error for it:
 *   warnings (NT_SUCCESS false) are failures, STATUS_BUFFER_OVERFLOW is WSAEMSGSIZE,
 *   STATUS_ACCESS_DENIED WSAEACCES, an unknown error WSAEINVAL;
 * - an AcceptEx refused because its OVERLAPPED is still pending writes
 *   Internal = STATUS_PENDING all the same. */
#include "check.h"

static void expect(SOCKET s, LONG status, BOOL ok, DWORD error) {
    OVERLAPPED ov;
    DWORD size = 0, flags = 0;
    memset(&ov, 0, sizeof(ov));
    ov.Internal = status; /* sign-extended for a negative status, as C programs do */
    WSASetLastError(0xdeadbeef);
    BOOL ret = WSAGetOverlappedResult(s, &ov, &size, FALSE, &flags);
    if (ret != ok || (!ret && (DWORD)WSAGetLastError() != error)) {
        printf("FAIL status %#lx: got %d / %d, expected %d / %lu\n", (unsigned long)(ULONG)status,
               ret, WSAGetLastError(), ok, (unsigned long)error);
        exit(1);
    }
}

int main(void) {
    startup();
    SOCKET s = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
    CHECK(s != INVALID_SOCKET);
    expect(s, 0, TRUE, 0);
    expect(s, 0x40000001, TRUE, 0);
    expect(s, 0x103, FALSE, ERROR_IO_INCOMPLETE);
    expect(s, (LONG)0x80000005, FALSE, WSAEMSGSIZE);
    expect(s, (LONG)0x80000001, FALSE, WSAEINVAL);
    expect(s, (LONG)0xC0000120, FALSE, ERROR_OPERATION_ABORTED);
    expect(s, (LONG)0xC000020D, FALSE, WSAECONNRESET);
    expect(s, (LONG)0xC0000022, FALSE, WSAEACCES);
    expect(s, (LONG)0xC0000237, FALSE, WSAEDISCON);
    expect(s, (LONG)0xC0000001, FALSE, WSAEINVAL);
    expect(s, (LONG)0xC00703E4, FALSE, ERROR_IO_INCOMPLETE);
    closesocket(s);

    /* AcceptEx into an acceptor whose OVERLAPPED is still pending. */
    SOCKADDR_IN a;
    SOCKET l = listener(&a);
    SOCKET acceptor = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
    CHECK(acceptor != INVALID_SOCKET);
    char buf[256];
    DWORD n;
    OVERLAPPED ov;
    memset(&ov, 0, sizeof(ov));
    ov.hEvent = WSACreateEvent();
    CHECK(!AcceptEx(l, acceptor, buf, 0, sizeof(SOCKADDR_IN) + 16, sizeof(SOCKADDR_IN) + 16, &n,
                    &ov));
    CHECK_EQ(WSAGetLastError(), ERROR_IO_PENDING);
    ov.Internal = 0xdeadbeef;
    CHECK(!AcceptEx(l, acceptor, buf, 0, sizeof(SOCKADDR_IN) + 16, sizeof(SOCKADDR_IN) + 16, &n,
                    &ov));
    CHECK_EQ(WSAGetLastError(), WSAEINVAL);
    CHECK_EQ(ov.Internal, STATUS_PENDING);
    closesocket(l);
    CHECK_EQ(WaitForSingleObject(ov.hEvent, 5000), WAIT_OBJECT_0);
    closesocket(acceptor);
    printf("ok\n");
    return 0;
}
