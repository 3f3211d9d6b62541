/* WSAWaitForMultipleEvents takes 1..64 events: 0 or 65 fail with WSA_INVALID_PARAMETER;
 * the lowest signalled index wins; fWaitAll waits for all; a bad handle in the array is
 * WSA_INVALID_HANDLE. */
#include "check.h"

int main(void) {
    startup();
    WSAEVENT ev[65];
    int i;
    for (i = 0; i < 65; i++) {
        ev[i] = WSACreateEvent();
        CHECK(ev[i] != WSA_INVALID_EVENT);
    }
    CHECK_EQ(WSAWaitForMultipleEvents(64, ev, FALSE, 0, FALSE), WSA_WAIT_TIMEOUT);
    CHECK_EQ(WSAWaitForMultipleEvents(65, ev, FALSE, 0, FALSE), WSA_WAIT_FAILED);
    CHECK_EQ(WSAGetLastError(), WSA_INVALID_PARAMETER);
    CHECK_EQ(WSAWaitForMultipleEvents(0, ev, FALSE, 0, FALSE), WSA_WAIT_FAILED);
    CHECK_EQ(WSAGetLastError(), WSA_INVALID_PARAMETER);
    CHECK_EQ(WaitForMultipleObjects(65, ev, FALSE, 0), WAIT_FAILED);
    CHECK_EQ(GetLastError(), ERROR_INVALID_PARAMETER);

    CHECK(WSASetEvent(ev[63]));
    CHECK_EQ(WSAWaitForMultipleEvents(64, ev, FALSE, 1000, FALSE), WSA_WAIT_EVENT_0 + 63);
    CHECK(WSASetEvent(ev[10]));
    CHECK_EQ(WSAWaitForMultipleEvents(64, ev, FALSE, 1000, FALSE), WSA_WAIT_EVENT_0 + 10);
    /* Manual reset: still signalled until reset. */
    CHECK_EQ(WSAWaitForMultipleEvents(64, ev, FALSE, 0, FALSE), WSA_WAIT_EVENT_0 + 10);
    CHECK(WSAResetEvent(ev[10]));
    CHECK_EQ(WSAWaitForMultipleEvents(64, ev, FALSE, 0, FALSE), WSA_WAIT_EVENT_0 + 63);

    /* fWaitAll: only when every one is signalled. */
    CHECK_EQ(WSAWaitForMultipleEvents(2, &ev[62], TRUE, 20, FALSE), WSA_WAIT_TIMEOUT);
    CHECK(WSASetEvent(ev[62]));
    CHECK(WSAWaitForMultipleEvents(2, &ev[62], TRUE, 1000, FALSE) < WSA_WAIT_EVENT_0 + 2);

    /* A bad handle anywhere in the array. */
    WSAEVENT bad[3] = {ev[0], (WSAEVENT)(UINT_PTR)0x7ffff0, ev[1]};
    CHECK_EQ(WSAWaitForMultipleEvents(3, bad, FALSE, 0, FALSE), WSA_WAIT_FAILED);
    CHECK_EQ(WSAGetLastError(), WSA_INVALID_HANDLE);

    /* Auto-reset events (CreateEvent) release one wait and reset. */
    HANDLE a = CreateEvent(NULL, FALSE, TRUE, NULL);
    CHECK(a != NULL);
    CHECK_EQ(WaitForSingleObject(a, 0), WAIT_OBJECT_0);
    CHECK_EQ(WaitForSingleObject(a, 0), WAIT_TIMEOUT);
    CHECK(CloseHandle(a));

    for (i = 0; i < 65; i++)
        CHECK(WSACloseEvent(ev[i]));
    CHECK(!WSACloseEvent(ev[0]));
    CHECK_EQ(WSAGetLastError(), WSA_INVALID_HANDLE);
    WSACleanup();
    printf("ok\n");
    return 0;
}
