/* SetConsoleCtrlHandler: Ctrl+C (SIGINT), Ctrl+Break (SIGQUIT) and close (SIGTERM,
 * SIGHUP) reach the handlers on another thread, most recently added first, until one
 * returns TRUE; removal; NULL to ignore Ctrl+C. Modes: no argument runs the checks and
 * prints ok; "die": the only handler returns FALSE, so SIGINT's default ends the
 * process; "close": a handler returns TRUE for SIGTERM, and the process still ends by
 * SIGTERM, as Windows ends it after a close event. */
#include <windows.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHECK(c)                                                                  \
    do {                                                                          \
        if (!(c)) {                                                               \
            printf("FAIL %s:%d: %s (GetLastError %lu)\n", __FILE__, __LINE__, #c, \
                   (unsigned long)GetLastError());                                \
            exit(1);                                                              \
        }                                                                         \
    } while (0)

static HANDLE done;
static char order[16];
static volatile LONG n_order;
static volatile LONG last_type = -1;
static volatile DWORD handler_thread;

static void note(char c, DWORD type) {
    LONG i = InterlockedIncrement(&n_order) - 1;
    if (i < (LONG)sizeof(order) - 1) order[i] = c;
    InterlockedExchange(&last_type, (LONG)type);
    handler_thread = GetCurrentThreadId();
}

static BOOL WINAPI first(DWORD type) {
    note('1', type);
    printf("handler %lu\n", (unsigned long)type);
    SetEvent(done);
    return TRUE;
}

static BOOL WINAPI second(DWORD type) {
    note('2', type);
    return FALSE;
}

/* Raises `sig` and waits up to `ms` for the handlers; checks what they saw. */
static DWORD deliver_within(int sig, const char *want_order, DWORD want_type, DWORD ms) {
    memset(order, 0, sizeof(order));
    n_order = 0;
    CHECK(ResetEvent(done));
    CHECK(raise(sig) == 0);
    DWORD w = WaitForSingleObject(done, ms);
    if (w == WAIT_OBJECT_0) {
        CHECK(strcmp(order, want_order) == 0);
        CHECK(last_type == (LONG)want_type);
        CHECK(handler_thread != GetCurrentThreadId());
    }
    return w;
}

static DWORD deliver(int sig, const char *want_order, DWORD want_type) {
    return deliver_within(sig, want_order, want_type, 5000);
}

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IONBF, 0);
    done = CreateEvent(NULL, TRUE, FALSE, NULL);
    CHECK(done != NULL);
    const char *mode = argc > 1 ? argv[1] : "";

    if (strcmp(mode, "die") == 0) {
        CHECK(SetConsoleCtrlHandler(second, TRUE));
        raise(SIGINT);
        Sleep(5000);
        printf("survived\n");
        return 1;
    }
    if (strcmp(mode, "close") == 0) {
        CHECK(SetConsoleCtrlHandler(first, TRUE));
        raise(SIGTERM);
        Sleep(5000);
        printf("survived\n");
        return 1;
    }

    CHECK(SetConsoleCtrlHandler(first, TRUE));
    CHECK(SetConsoleCtrlHandler(second, TRUE));
    /* Most recent first: second returns FALSE, then first handles it. */
    CHECK(deliver(SIGINT, "21", CTRL_C_EVENT) == WAIT_OBJECT_0);
    CHECK(deliver(SIGQUIT, "21", CTRL_BREAK_EVENT) == WAIT_OBJECT_0);

    CHECK(SetConsoleCtrlHandler(second, FALSE));
    SetLastError(0);
    CHECK(!SetConsoleCtrlHandler(second, FALSE)); /* not registered any more */
    CHECK(GetLastError() == ERROR_INVALID_PARAMETER);
    CHECK(deliver(SIGINT, "1", CTRL_C_EVENT) == WAIT_OBJECT_0);

    /* Ignoring Ctrl+C: no handler runs for SIGINT (and the process lives); Ctrl+Break
     * still arrives. */
    CHECK(SetConsoleCtrlHandler(NULL, TRUE));
    CHECK(deliver_within(SIGINT, "", CTRL_C_EVENT, 300) == WAIT_TIMEOUT);
    CHECK(n_order == 0);
    CHECK(deliver(SIGQUIT, "1", CTRL_BREAK_EVENT) == WAIT_OBJECT_0);
    CHECK(SetConsoleCtrlHandler(NULL, FALSE));
    CHECK(deliver(SIGINT, "1", CTRL_C_EVENT) == WAIT_OBJECT_0);

    /* The same handler twice: removing it once leaves the other registration. */
    CHECK(SetConsoleCtrlHandler(first, TRUE));
    CHECK(SetConsoleCtrlHandler(first, FALSE));
    CHECK(deliver(SIGINT, "1", CTRL_C_EVENT) == WAIT_OBJECT_0);
    CHECK(SetConsoleCtrlHandler(first, FALSE));

    /* With no handler left but Ctrl+C ignored, SIGINT does nothing. */
    CHECK(SetConsoleCtrlHandler(NULL, TRUE));
    CHECK(raise(SIGINT) == 0);
    Sleep(100);
    CHECK(CloseHandle(done));
    printf("ok\n");
    return 0;
}
