/* The kernel32 calls IOCP servers lean on besides sockets: critical sections, slim
 * reader/writer locks, condition variables, the heap, global and local memory, the
 * performance counter. Each check would fail on a broken implementation: counters that
 * lose increments without mutual exclusion, a consumer that misses items, sizes and
 * zeroed bytes checked byte by byte. */
#include <windows.h>
#include <stdint.h>
extern int getpid(void); /* <unistd.h> declares gethostname differently */
#include "check.h"

#define THREADS 4
#define ROUNDS 200000

static CRITICAL_SECTION cs;
static volatile long counter; /* plain (non-atomic) increments, under the lock */

static DWORD WINAPI add_under_cs(LPVOID arg) {
    (void)arg;
    for (int i = 0; i < ROUNDS; i++) {
        EnterCriticalSection(&cs);
        EnterCriticalSection(&cs); /* recursive */
        long v = counter;
        counter = v + 1;
        LeaveCriticalSection(&cs);
        LeaveCriticalSection(&cs);
    }
    return 0;
}

static DWORD WINAPI try_enter_fails(LPVOID arg) {
    CRITICAL_SECTION *c = arg;
    return TryEnterCriticalSection(c) ? 1 : 0;
}

static DWORD WINAPI try_enter_succeeds_and_leaves(LPVOID arg) {
    CRITICAL_SECTION *c = arg;
    if (!TryEnterCriticalSection(c)) return 1;
    LeaveCriticalSection(c);
    return 0;
}

static DWORD WINAPI leave_not_owned(LPVOID arg) {
    CRITICAL_SECTION *c = arg;
    SetLastError(0);
    LeaveCriticalSection(c);
    return GetLastError();
}

static DWORD run(LPTHREAD_START_ROUTINE f, LPVOID arg) {
    HANDLE t = CreateThread(NULL, 0, f, arg, 0, NULL);
    CHECK(t != NULL);
    CHECK_EQ(WaitForSingleObject(t, 10000), WAIT_OBJECT_0);
    DWORD code = 0;
    CHECK(GetExitCodeThread(t, &code));
    CHECK(CloseHandle(t));
    return code;
}

static void critical_sections(void) {
    CHECK_EQ(sizeof(CRITICAL_SECTION), 40);
    InitializeCriticalSection(&cs);
    CHECK_EQ(cs.LockCount, -1);
    CHECK_EQ(cs.RecursionCount, 0);
    CHECK(cs.OwningThread == NULL);

    EnterCriticalSection(&cs);
    EnterCriticalSection(&cs);
    CHECK_EQ(cs.RecursionCount, 2);
    CHECK_EQ((DWORD)(ULONG_PTR)cs.OwningThread, GetCurrentThreadId());
    CHECK(TryEnterCriticalSection(&cs)); /* the owner enters again */
    CHECK_EQ(cs.RecursionCount, 3);
    CHECK_EQ(run(try_enter_fails, &cs), 0); /* another thread does not */
    CHECK_EQ(run(leave_not_owned, &cs), ERROR_NOT_OWNER); /* refused, */
    CHECK_EQ(cs.RecursionCount, 3);                        /* nothing changed */
    CHECK_EQ(run(try_enter_fails, &cs), 0);
    LeaveCriticalSection(&cs);
    LeaveCriticalSection(&cs);
    CHECK_EQ(run(try_enter_fails, &cs), 0); /* still held once */
    LeaveCriticalSection(&cs);
    CHECK_EQ(cs.LockCount, -1);
    CHECK(cs.OwningThread == NULL);
    CHECK_EQ(run(try_enter_succeeds_and_leaves, &cs), 0);
    SetLastError(0);
    LeaveCriticalSection(&cs); /* not owned by anyone */
    CHECK_EQ(GetLastError(), ERROR_NOT_OWNER);

    /* Mutual exclusion under contention: no increment is lost. */
    counter = 0;
    HANDLE t[THREADS];
    for (int i = 0; i < THREADS; i++) {
        t[i] = CreateThread(NULL, 0, add_under_cs, NULL, 0, NULL);
        CHECK(t[i] != NULL);
    }
    CHECK_EQ(WaitForMultipleObjects(THREADS, t, TRUE, 60000), WAIT_OBJECT_0);
    for (int i = 0; i < THREADS; i++) CHECK(CloseHandle(t[i]));
    CHECK_EQ(counter, (long)THREADS * ROUNDS);
    CHECK_EQ(cs.LockCount, -1);

    /* With a spin count, and again after Delete + Initialize. */
    DeleteCriticalSection(&cs);
    CHECK(InitializeCriticalSectionAndSpinCount(&cs, 4000));
    CHECK_EQ(cs.SpinCount, 4000);
    CHECK_EQ(SetCriticalSectionSpinCount(&cs, 100), 4000);
    counter = 0;
    for (int i = 0; i < THREADS; i++) t[i] = CreateThread(NULL, 0, add_under_cs, NULL, 0, NULL);
    CHECK_EQ(WaitForMultipleObjects(THREADS, t, TRUE, 60000), WAIT_OBJECT_0);
    for (int i = 0; i < THREADS; i++) CHECK(CloseHandle(t[i]));
    CHECK_EQ(counter, (long)THREADS * ROUNDS);
    DeleteCriticalSection(&cs);
    CHECK(InitializeCriticalSectionEx(&cs, 0, CRITICAL_SECTION_NO_DEBUG_INFO));
    DeleteCriticalSection(&cs);
}

/* --- a producer/consumer queue on a condition variable ---------------------------- */
#define ITEMS 20000
#define QCAP 16
static struct {
    int buf[QCAP];
    int head, count, done;
} q;
static CONDITION_VARIABLE not_empty = CONDITION_VARIABLE_INIT, not_full = CONDITION_VARIABLE_INIT;
static SRWLOCK srw = SRWLOCK_INIT;
static int use_srw;

static void q_lock(void) {
    if (use_srw) AcquireSRWLockExclusive(&srw);
    else EnterCriticalSection(&cs);
}
static void q_unlock(void) {
    if (use_srw) ReleaseSRWLockExclusive(&srw);
    else LeaveCriticalSection(&cs);
}
static void q_wait(CONDITION_VARIABLE *cv) {
    BOOL ok = use_srw ? SleepConditionVariableSRW(cv, &srw, INFINITE, 0)
                      : SleepConditionVariableCS(cv, &cs, INFINITE);
    if (!ok) {
        printf("FAIL: SleepConditionVariable with INFINITE returned FALSE (%lu)\n",
               (unsigned long)GetLastError());
        exit(1);
    }
}

static DWORD WINAPI producer(LPVOID arg) {
    (void)arg;
    for (int i = 0; i < ITEMS; i++) {
        q_lock();
        while (q.count == QCAP) q_wait(&not_full);
        q.buf[(q.head + q.count) % QCAP] = i;
        q.count++;
        q_unlock();
        WakeConditionVariable(&not_empty);
    }
    q_lock();
    q.done = 1;
    q_unlock();
    WakeAllConditionVariable(&not_empty);
    return 0;
}

static void producer_consumer(int srw_mode) {
    use_srw = srw_mode;
    memset(&q, 0, sizeof(q));
    InitializeCriticalSection(&cs);
    HANDLE t = CreateThread(NULL, 0, producer, NULL, 0, NULL);
    CHECK(t != NULL);
    int expect = 0;
    for (;;) {
        q_lock();
        while (q.count == 0 && !q.done) q_wait(&not_empty);
        if (q.count == 0 && q.done) {
            q_unlock();
            break;
        }
        int v = q.buf[q.head];
        q.head = (q.head + 1) % QCAP;
        q.count--;
        q_unlock();
        WakeConditionVariable(&not_full);
        CHECK_EQ(v, expect);
        expect++;
    }
    CHECK_EQ(expect, ITEMS);
    CHECK_EQ(WaitForSingleObject(t, 10000), WAIT_OBJECT_0);
    CHECK(CloseHandle(t));
    DeleteCriticalSection(&cs);
}

static void condition_timeouts(void) {
    CONDITION_VARIABLE cv;
    InitializeConditionVariable(&cv);
    InitializeCriticalSection(&cs);
    EnterCriticalSection(&cs);
    EnterCriticalSection(&cs);
    ULONGLONG t0 = GetTickCount64();
    SetLastError(0);
    CHECK(!SleepConditionVariableCS(&cv, &cs, 50));
    CHECK_EQ(GetLastError(), ERROR_TIMEOUT);
    CHECK(GetTickCount64() - t0 >= 45);
    /* Entered again, as many times as before. */
    CHECK_EQ(cs.RecursionCount, 2);
    CHECK_EQ((DWORD)(ULONG_PTR)cs.OwningThread, GetCurrentThreadId());
    CHECK(!SleepConditionVariableCS(&cv, &cs, 0));
    CHECK_EQ(GetLastError(), ERROR_TIMEOUT);
    LeaveCriticalSection(&cs);
    LeaveCriticalSection(&cs);
    /* Not owning the critical section: refused, nothing released. */
    SetLastError(0);
    CHECK(!SleepConditionVariableCS(&cv, &cs, 10));
    CHECK_EQ(GetLastError(), ERROR_NOT_OWNER);
    DeleteCriticalSection(&cs);

    SRWLOCK l = SRWLOCK_INIT;
    AcquireSRWLockShared(&l);
    CHECK(!SleepConditionVariableSRW(&cv, &l, 20, CONDITION_VARIABLE_LOCKMODE_SHARED));
    CHECK_EQ(GetLastError(), ERROR_TIMEOUT);
    CHECK(!TryAcquireSRWLockExclusive(&l)); /* held shared again */
    ReleaseSRWLockShared(&l);
    SetLastError(0);
    CHECK(!SleepConditionVariableSRW(&cv, &l, 20, 0)); /* not held */
    CHECK_EQ(GetLastError(), ERROR_NOT_OWNER);
    CHECK(!SleepConditionVariableSRW(&cv, &l, 20, 0x80));
    CHECK_EQ(GetLastError(), ERROR_INVALID_PARAMETER);
}

/* --- SRW locks ----------------------------------------------------------------------- */
static SRWLOCK rw = SRWLOCK_INIT;
static volatile long shared_value;

static DWORD WINAPI try_shared(LPVOID arg) {
    (void)arg;
    if (!TryAcquireSRWLockShared(&rw)) return 1;
    ReleaseSRWLockShared(&rw);
    return 0;
}
static DWORD WINAPI try_exclusive(LPVOID arg) {
    (void)arg;
    if (!TryAcquireSRWLockExclusive(&rw)) return 1;
    ReleaseSRWLockExclusive(&rw);
    return 0;
}
static DWORD WINAPI add_under_srw(LPVOID arg) {
    (void)arg;
    for (int i = 0; i < ROUNDS; i++) {
        if (i % 4 == 0) {
            AcquireSRWLockShared(&rw);
            long v = shared_value; /* readers only read */
            (void)v;
            ReleaseSRWLockShared(&rw);
        } else {
            AcquireSRWLockExclusive(&rw);
            long v = shared_value;
            shared_value = v + 1;
            ReleaseSRWLockExclusive(&rw);
        }
    }
    return 0;
}

static void srw_locks(void) {
    CHECK_EQ(sizeof(SRWLOCK), sizeof(void *));
    InitializeSRWLock(&rw);
    AcquireSRWLockShared(&rw);
    CHECK_EQ(run(try_shared, NULL), 0);    /* readers share */
    CHECK_EQ(run(try_exclusive, NULL), 1); /* a writer waits */
    CHECK(TryAcquireSRWLockShared(&rw));
    ReleaseSRWLockShared(&rw);
    ReleaseSRWLockShared(&rw);
    SetLastError(0);
    ReleaseSRWLockShared(&rw); /* not held: refused */
    CHECK_EQ(GetLastError(), ERROR_NOT_OWNER);
    AcquireSRWLockExclusive(&rw);
    CHECK_EQ(run(try_shared, NULL), 1);
    CHECK_EQ(run(try_exclusive, NULL), 1);
    CHECK(!TryAcquireSRWLockExclusive(&rw)); /* not recursive */
    SetLastError(0);
    ReleaseSRWLockShared(&rw); /* wrong mode: refused, still held */
    CHECK_EQ(GetLastError(), ERROR_NOT_OWNER);
    CHECK_EQ(run(try_shared, NULL), 1);
    ReleaseSRWLockExclusive(&rw);
    SetLastError(0);
    ReleaseSRWLockExclusive(&rw);
    CHECK_EQ(GetLastError(), ERROR_NOT_OWNER);
    CHECK_EQ(run(try_exclusive, NULL), 0);

    shared_value = 0;
    HANDLE t[THREADS];
    for (int i = 0; i < THREADS; i++) {
        t[i] = CreateThread(NULL, 0, add_under_srw, NULL, 0, NULL);
        CHECK(t[i] != NULL);
    }
    CHECK_EQ(WaitForMultipleObjects(THREADS, t, TRUE, 60000), WAIT_OBJECT_0);
    for (int i = 0; i < THREADS; i++) CHECK(CloseHandle(t[i]));
    CHECK_EQ(shared_value, (long)THREADS * (ROUNDS - ROUNDS / 4));
    CHECK(rw.Ptr == NULL); /* free, nobody sleeping */
}

/* --- memory -------------------------------------------------------------------------- */
static int all_zero(const unsigned char *p, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (p[i]) return 0;
    return 1;
}

static void memory(void) {
    HANDLE heap = GetProcessHeap();
    CHECK(heap != NULL);
    CHECK(heap == GetProcessHeap());

    unsigned char *p = HeapAlloc(heap, HEAP_ZERO_MEMORY, 1000);
    CHECK(p != NULL);
    CHECK_EQ((uintptr_t)p % 16, 0);
    CHECK(all_zero(p, 1000));
    CHECK_EQ(HeapSize(heap, 0, p), 1000);
    memset(p, 0xAB, 1000);
    p = HeapReAlloc(heap, HEAP_ZERO_MEMORY, p, 5000);
    CHECK(p != NULL);
    CHECK_EQ(HeapSize(heap, 0, p), 5000);
    for (int i = 0; i < 1000; i++) CHECK_EQ(p[i], 0xAB);
    CHECK(all_zero(p + 1000, 4000));
    p = HeapReAlloc(heap, 0, p, 10);
    CHECK_EQ(HeapSize(heap, 0, p), 10);
    CHECK_EQ(p[9], 0xAB);
    SetLastError(0);
    CHECK(HeapReAlloc(heap, HEAP_REALLOC_IN_PLACE_ONLY, p, 11) == NULL);
    CHECK_EQ(GetLastError(), ERROR_NOT_ENOUGH_MEMORY);
    CHECK(HeapReAlloc(heap, HEAP_REALLOC_IN_PLACE_ONLY, p, 4) == p);
    CHECK_EQ(HeapSize(heap, 0, p), 4);
    CHECK(HeapFree(heap, 0, p));
    CHECK(HeapFree(heap, 0, NULL));

    void *z = HeapAlloc(heap, 0, 0); /* an empty block is still a block */
    CHECK(z != NULL);
    CHECK_EQ(HeapSize(heap, 0, z), 0);
    CHECK(HeapFree(heap, 0, z));

    SetLastError(0);
    CHECK(HeapAlloc(heap, 0, (SIZE_T)-1) == NULL);
    CHECK_EQ(GetLastError(), ERROR_NOT_ENOUGH_MEMORY);
    CHECK(HeapAlloc((HANDLE)0x1234, 0, 10) == NULL);
    CHECK_EQ(GetLastError(), ERROR_INVALID_HANDLE);

    /* A block that is not ours is refused, not freed (a stack buffer, 16-aligned). */
    _Alignas(16) unsigned char local[64] = {0};
    CHECK(!HeapFree(heap, 0, local + 32));
    CHECK_EQ(GetLastError(), ERROR_INVALID_PARAMETER);
    CHECK(GlobalFree(local + 32) == local + 32);
    CHECK_EQ(GetLastError(), ERROR_INVALID_HANDLE);

    unsigned char *g = GlobalAlloc(GPTR, 300);
    CHECK(g != NULL);
    CHECK(all_zero(g, 300));
    CHECK_EQ(GlobalSize(g), 300);
    CHECK(GlobalFree(g) == NULL);
    g = GlobalAlloc(GMEM_FIXED, 64);
    CHECK(g != NULL);
    memset(g, 1, 64);
    CHECK(HeapFree(heap, 0, g)); /* one allocator, as on Windows */
    CHECK(GlobalFree(NULL) == NULL);
    SetLastError(0);
    CHECK(GlobalAlloc(0x80000000u, 8) == NULL);
    CHECK_EQ(GetLastError(), ERROR_INVALID_PARAMETER);

    unsigned char *l = LocalAlloc(LPTR, 77);
    CHECK(l != NULL);
    CHECK(all_zero(l, 77));
    CHECK(LocalFree(l) == NULL);
}

static void clocks(void) {
    LARGE_INTEGER f, a, b;
    CHECK(QueryPerformanceFrequency(&f));
    CHECK_EQ(f.QuadPart, 10000000);
    CHECK(QueryPerformanceCounter(&a));
    Sleep(30);
    CHECK(QueryPerformanceCounter(&b));
    /* At least 25 ms later on the counter's scale, and not absurdly later. */
    CHECK(b.QuadPart - a.QuadPart >= f.QuadPart / 40);
    CHECK(b.QuadPart - a.QuadPart < f.QuadPart * 10);
    ULONGLONG t64 = GetTickCount64();
    DWORD t32 = GetTickCount();
    CHECK((DWORD)(t32 - (DWORD)t64) < 1000); /* the same clock, mod 2^32 */
    CHECK_EQ(GetCurrentProcessId(), (DWORD)getpid());
    SetLastError(0);
    CHECK(!QueryPerformanceCounter(NULL));
    CHECK_EQ(GetLastError(), ERROR_NOACCESS);
}

int main(void) {
    /* None of these needs WSAStartup. */
    critical_sections();
    producer_consumer(0);
    producer_consumer(1);
    condition_timeouts();
    srw_locks();
    memory();
    clocks();
    printf("ok\n");
    return 0;
}
