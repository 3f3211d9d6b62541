//! Synchronisation objects that IOCP servers written for Windows lean on: critical
//! sections, slim reader/writer locks and condition variables (kernel32).
//!
//! # The model
//! All three live in the application's own structure, as on Windows, and allocate
//! nothing: a `CRITICAL_SECTION` that is never deleted leaks nothing. Each is a word the
//! threads agree on through atomics, and a thread that must wait sleeps on that word
//! with `futex(2)` (process-private, like the Windows objects).
//!
//! - `CRITICAL_SECTION` (40 bytes, Windows' x64 layout): `LockCount` is the lock word
//!   (-1 free, 0 held, 1 held with waiters: -1 as Windows' documented "unlocked"),
//!   `OwningThread` the owner's `GetCurrentThreadId`, `RecursionCount` how many times
//!   it entered. `SpinCount` is honoured before sleeping.
//! - `SRWLOCK` (one pointer): its low 32 bits count readers (-1: held exclusively), the
//!   high 32 bits count sleeping threads, so a release wakes only when someone sleeps.
//! - `CONDITION_VARIABLE` (one pointer): its low 32 bits are a wake sequence number.
//!   A sleeper reads it before releasing its lock, so a wake between the release and
//!   the sleep is not lost (the futex sees the number moved).
//!
//! # Compatibility
//! - Misuse that Windows leaves undefined (leaving a critical section the thread does
//!   not own, releasing an SRW lock that is not held in that mode, sleeping on a
//!   condition variable without owning the critical section) is refused with
//!   `ERROR_NOT_OWNER` (or `ERROR_INVALID_PARAMETER` for a NULL or misaligned pointer)
//!   and changes nothing.
//! - `LockCount` is our lock word, not Windows' (Vista and later encode waiters in its
//!   bits): code that only compares it with -1 sees the same answer.
//! - Wake-ups are not fair, as on Windows; `WakeConditionVariable` may wake a thread
//!   that then finds its predicate false (spurious wake-ups are allowed by the
//!   documentation, and callers loop).

use std::sync::atomic::{AtomicI32, AtomicU32, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use crate::handles::guard;
use crate::threads;
use crate::types::{
    BOOL, CONDITION_VARIABLE, CRITICAL_SECTION, DWORD, FALSE, SRWLOCK, TRUE, win32,
};

/// `INFINITE`.
const INFINITE: DWORD = 0xFFFF_FFFF;
/// `CONDITION_VARIABLE_LOCKMODE_SHARED`.
pub const CONDITION_VARIABLE_LOCKMODE_SHARED: u32 = 0x1;

/// Offsets of the fields in `CRITICAL_SECTION`.
const LOCK_COUNT: usize = std::mem::offset_of!(CRITICAL_SECTION, lock_count);
const RECURSION_COUNT: usize = std::mem::offset_of!(CRITICAL_SECTION, recursion_count);
const OWNING_THREAD: usize = std::mem::offset_of!(CRITICAL_SECTION, owning_thread);
const SPIN_COUNT: usize = std::mem::offset_of!(CRITICAL_SECTION, spin_count);

const FREE: i32 = -1;
const HELD: i32 = 0;
const CONTENDED: i32 = 1;

/// The most spins a critical section makes before sleeping, whatever its `SpinCount`.
const MAX_SPIN: usize = 1 << 16;

// --- futex ------------------------------------------------------------------------------

/// Sleeps while `*word == expected`, up to `timeout`. False if the timeout passed.
fn futex_wait(word: &AtomicI32, expected: i32, timeout: Option<Duration>) -> bool {
    let ts = timeout.map(|t| libc::timespec {
        tv_sec: libc::time_t::try_from(t.as_secs()).unwrap_or(libc::time_t::MAX),
        tv_nsec: libc::c_long::from(t.subsec_nanos()),
    });
    let tsp = ts.as_ref().map_or(std::ptr::null(), std::ptr::from_ref);
    // SAFETY: `word` is a live, aligned 32-bit atomic; `tsp` is null or a local timespec.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_futex,
            word.as_ptr(),
            libc::FUTEX_WAIT | libc::FUTEX_PRIVATE_FLAG,
            expected,
            tsp,
        )
    };
    !(rc == -1 && std::io::Error::last_os_error().raw_os_error() == Some(libc::ETIMEDOUT))
}

/// Wakes up to `n` threads sleeping on `word`.
fn futex_wake(word: &AtomicI32, n: i32) {
    // SAFETY: `word` is a live, aligned 32-bit atomic; FUTEX_WAKE only reads its address.
    unsafe {
        libc::syscall(
            libc::SYS_futex,
            word.as_ptr(),
            libc::FUTEX_WAKE | libc::FUTEX_PRIVATE_FLAG,
            n,
        );
    }
}

/// A Win32 timeout in milliseconds as a deadline (None: forever).
fn deadline(ms: DWORD) -> Option<Instant> {
    (ms != INFINITE).then(|| Instant::now() + Duration::from_millis(u64::from(ms)))
}

// --- critical sections --------------------------------------------------------------------

/// A checked view of the application's `CRITICAL_SECTION`.
struct Cs<'a> {
    lock: &'a AtomicI32,
    recursion: &'a AtomicI32,
    owner: &'a AtomicUsize,
    spin: &'a AtomicUsize,
}

/// Checks `cs` and views its fields as atomics.
///
/// # Safety
/// `cs` is null or points to a `CRITICAL_SECTION` that outlives the returned view.
unsafe fn cs<'a>(cs: *mut CRITICAL_SECTION) -> Result<Cs<'a>, u32> {
    if cs.is_null() || !cs.is_aligned() {
        return Err(win32::ERROR_INVALID_PARAMETER);
    }
    // The fields' addresses (no access through `cs`: `wrapping_byte_add` of the
    // offsets of Windows' layout).
    let field = |offset: usize| cs.cast::<u8>().wrapping_add(offset);
    // SAFETY: non-null and aligned (checked), valid for the view's life (the contract),
    // each field aligned for its type by the layout; every thread reaches these fields
    // through atomics only. (The same for the three below.)
    let lock = unsafe { AtomicI32::from_ptr(field(LOCK_COUNT).cast()) };
    // SAFETY: as above.
    let recursion = unsafe { AtomicI32::from_ptr(field(RECURSION_COUNT).cast()) };
    // SAFETY: as above.
    let owner = unsafe { AtomicUsize::from_ptr(field(OWNING_THREAD).cast()) };
    // SAFETY: as above.
    let spin = unsafe { AtomicUsize::from_ptr(field(SPIN_COUNT).cast()) };
    Ok(Cs {
        lock,
        recursion,
        owner,
        spin,
    })
}

/// The owner id of the calling thread: its `GetCurrentThreadId`, or (while its
/// thread-locals are being destroyed, where that gives 0) its kernel thread id tagged
/// above 32 bits; never 0, which means "free".
fn me() -> usize {
    match threads::current_id() {
        0 => {
            // SAFETY: gettid has no preconditions.
            let tid = unsafe { libc::gettid() };
            (1usize << 40) | tid as usize
        }
        id => id as usize,
    }
}

impl Cs<'_> {
    fn init(&self, spin: usize) {
        self.lock.store(FREE, Ordering::Relaxed);
        self.recursion.store(0, Ordering::Relaxed);
        self.owner.store(0, Ordering::Relaxed);
        self.spin.store(spin, Ordering::Release);
    }

    fn owned_by(&self, me: usize) -> bool {
        // Only the owner stores its own id here, so reading `me` means we own it.
        self.owner.load(Ordering::Relaxed) == me
    }

    fn try_enter(&self, me: usize) -> bool {
        if self.owned_by(me) {
            self.recursion.fetch_add(1, Ordering::Relaxed);
            return true;
        }
        if self
            .lock
            .compare_exchange(FREE, HELD, Ordering::Acquire, Ordering::Relaxed)
            .is_err()
        {
            return false;
        }
        self.owner.store(me, Ordering::Relaxed);
        self.recursion.store(1, Ordering::Relaxed);
        true
    }

    fn enter(&self, me: usize) {
        if self.try_enter(me) {
            return;
        }
        let spins = self.spin.load(Ordering::Relaxed).min(MAX_SPIN);
        for _ in 0..spins {
            std::hint::spin_loop();
            if self.lock.load(Ordering::Relaxed) == FREE && self.try_enter(me) {
                return;
            }
        }
        // Mark it contended, so the owner's leave wakes one sleeper.
        while self.lock.swap(CONTENDED, Ordering::Acquire) != FREE {
            futex_wait(self.lock, CONTENDED, None);
        }
        self.owner.store(me, Ordering::Relaxed);
        self.recursion.store(1, Ordering::Relaxed);
    }

    /// Leaves once; Err if `me` does not own it.
    fn leave(&self, me: usize) -> Result<(), u32> {
        if !self.owned_by(me) {
            return Err(win32::ERROR_NOT_OWNER);
        }
        if self.recursion.fetch_sub(1, Ordering::Relaxed) > 1 {
            return Ok(());
        }
        self.release();
        Ok(())
    }

    /// Releases the lock entirely (the caller owns it); returns its recursion count.
    fn release(&self) -> i32 {
        let depth = self.recursion.swap(0, Ordering::Relaxed);
        self.owner.store(0, Ordering::Relaxed);
        if self.lock.swap(FREE, Ordering::Release) == CONTENDED {
            futex_wake(self.lock, 1);
        }
        depth
    }
}

/// `void InitializeCriticalSection(LPCRITICAL_SECTION lpCriticalSection)`: prepares a
/// critical section (free, spin count 0).
///
/// Parameters: the critical section.
/// Returns: nothing; a NULL or misaligned pointer sets `ERROR_INVALID_PARAMETER`.
/// Memory and lifetimes: nothing is allocated; the structure must stay in place while
/// in use.
///
/// # Safety
/// `lpCriticalSection` null or a writable `CRITICAL_SECTION` not in use by any thread.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn InitializeCriticalSection(c: *mut CRITICAL_SECTION) {
    // SAFETY: the contract.
    guard((), || unsafe { cs(c) }.map(|v| v.init(0)));
}

/// `BOOL InitializeCriticalSectionAndSpinCount(LPCRITICAL_SECTION lpCriticalSection,
/// DWORD dwSpinCount)`: as [`InitializeCriticalSection`], with a spin count (how many
/// times `EnterCriticalSection` retries before it sleeps; at most 65,536 here).
///
/// Parameters: the critical section, the spin count.
/// Returns: TRUE, or FALSE with `ERROR_INVALID_PARAMETER` (NULL or misaligned).
/// Memory and lifetimes: as `InitializeCriticalSection`.
///
/// # Safety
/// As [`InitializeCriticalSection`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn InitializeCriticalSectionAndSpinCount(
    c: *mut CRITICAL_SECTION,
    spin: DWORD,
) -> BOOL {
    guard(FALSE, || {
        // SAFETY: the contract.
        unsafe { cs(c) }.map(|v| {
            v.init(spin as usize);
            TRUE
        })
    })
}

/// `BOOL InitializeCriticalSectionEx(LPCRITICAL_SECTION lpCriticalSection, DWORD
/// dwSpinCount, DWORD Flags)`: as [`InitializeCriticalSectionAndSpinCount`] (the flags,
/// which only concern debug information, are accepted and ignored).
///
/// Parameters: the critical section, the spin count, flags.
/// Returns: TRUE, or FALSE with `ERROR_INVALID_PARAMETER`.
/// Memory and lifetimes: as `InitializeCriticalSection`.
///
/// # Safety
/// As [`InitializeCriticalSection`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn InitializeCriticalSectionEx(
    c: *mut CRITICAL_SECTION,
    spin: DWORD,
    _flags: DWORD,
) -> BOOL {
    // SAFETY: the contract.
    unsafe { InitializeCriticalSectionAndSpinCount(c, spin) }
}

/// `DWORD SetCriticalSectionSpinCount(LPCRITICAL_SECTION lpCriticalSection, DWORD
/// dwSpinCount)`: changes the spin count.
///
/// Parameters: the critical section, the new count.
/// Returns: the previous count (0 with `ERROR_INVALID_PARAMETER` for a bad pointer).
/// Memory and lifetimes: nothing is kept.
///
/// # Safety
/// `lpCriticalSection` null or an initialised critical section.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn SetCriticalSectionSpinCount(
    c: *mut CRITICAL_SECTION,
    spin: DWORD,
) -> DWORD {
    guard(0, || {
        // SAFETY: the contract.
        let v = unsafe { cs(c) }?;
        let old = v.spin.swap(spin as usize, Ordering::AcqRel);
        Ok(DWORD::try_from(old).unwrap_or(DWORD::MAX))
    })
}

/// `void EnterCriticalSection(LPCRITICAL_SECTION lpCriticalSection)`: waits until the
/// calling thread owns the critical section; a thread that owns it enters again (leave
/// as many times as entered).
///
/// Parameters: the critical section.
/// Returns: nothing; a NULL or misaligned pointer sets `ERROR_INVALID_PARAMETER` and
/// returns at once (Windows faults).
/// Memory and lifetimes: nothing is kept.
///
/// # Safety
/// `lpCriticalSection` null or an initialised critical section.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn EnterCriticalSection(c: *mut CRITICAL_SECTION) {
    // SAFETY: the contract.
    guard((), || unsafe { cs(c) }.map(|v| v.enter(me())));
}

/// `BOOL TryEnterCriticalSection(LPCRITICAL_SECTION lpCriticalSection)`: enters if no
/// other thread owns the critical section, without waiting.
///
/// Parameters: the critical section.
/// Returns: TRUE if the calling thread now owns it (again), else FALSE (FALSE with
/// `ERROR_INVALID_PARAMETER` for a bad pointer).
/// Memory and lifetimes: nothing is kept.
///
/// # Safety
/// As [`EnterCriticalSection`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn TryEnterCriticalSection(c: *mut CRITICAL_SECTION) -> BOOL {
    guard(FALSE, || {
        // SAFETY: the contract.
        unsafe { cs(c) }.map(|v| if v.try_enter(me()) { TRUE } else { FALSE })
    })
}

/// `void LeaveCriticalSection(LPCRITICAL_SECTION lpCriticalSection)`: leaves once; the
/// last leave releases it and wakes one waiting thread.
///
/// Parameters: the critical section.
/// Returns: nothing; `ERROR_NOT_OWNER` (the calling thread does not own it: undefined
/// on Windows, refused here, the owner keeps it) or `ERROR_INVALID_PARAMETER`.
/// Memory and lifetimes: nothing is kept.
///
/// # Safety
/// As [`EnterCriticalSection`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn LeaveCriticalSection(c: *mut CRITICAL_SECTION) {
    // SAFETY: the contract.
    guard((), || unsafe { cs(c) }?.leave(me()));
}

/// `void DeleteCriticalSection(LPCRITICAL_SECTION lpCriticalSection)`: ends the use of
/// a critical section (it may be initialised again).
///
/// Parameters: the critical section.
/// Returns: nothing; `ERROR_INVALID_PARAMETER` for a bad pointer.
/// Memory and lifetimes: nothing was allocated, nothing is freed; the structure is
/// left free.
///
/// # Safety
/// `lpCriticalSection` null or a critical section that no thread owns or waits for.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn DeleteCriticalSection(c: *mut CRITICAL_SECTION) {
    // SAFETY: the contract.
    guard((), || unsafe { cs(c) }.map(|v| v.init(0)));
}

// --- slim reader/writer locks -----------------------------------------------------------

const EXCLUSIVE: i32 = -1;

/// A checked view of an `SRWLOCK`: its reader count (or `EXCLUSIVE`) and its sleepers.
struct Srw<'a> {
    state: &'a AtomicI32,
    sleepers: &'a AtomicU32,
}

/// Checks `l` and views its halves as atomics.
///
/// # Safety
/// `l` is null or points to an `SRWLOCK` that outlives the returned view.
unsafe fn srw<'a>(l: *mut SRWLOCK) -> Result<Srw<'a>, u32> {
    if l.is_null() || !l.is_aligned() {
        return Err(win32::ERROR_INVALID_PARAMETER);
    }
    let words = l.cast::<u32>();
    // SAFETY: an aligned pointer-sized object (checked), valid for the view's life (the
    // contract), used as two aligned 32-bit atomics (little-endian: state first).
    let state = unsafe { AtomicI32::from_ptr(words.cast::<i32>()) };
    // SAFETY: as above, the second half.
    let sleepers = unsafe { AtomicU32::from_ptr(words.wrapping_add(1)) };
    Ok(Srw { state, sleepers })
}

impl Srw<'_> {
    fn try_exclusive(&self) -> bool {
        self.state
            .compare_exchange(0, EXCLUSIVE, Ordering::Acquire, Ordering::Relaxed)
            .is_ok()
    }

    fn try_shared(&self) -> bool {
        let mut s = self.state.load(Ordering::Relaxed);
        while (0..i32::MAX).contains(&s) {
            match self
                .state
                .compare_exchange_weak(s, s + 1, Ordering::Acquire, Ordering::Relaxed)
            {
                Ok(_) => return true,
                Err(now) => s = now,
            }
        }
        false
    }

    /// Sleeps until the state may have changed from what `busy` rejects.
    fn sleep_while(&self, busy: impl Fn(i32) -> bool) {
        // Count ourselves in before reading the state: a release that frees the lock
        // after our read sees us and wakes (both sides are read-modify-writes).
        self.sleepers.fetch_add(1, Ordering::SeqCst);
        let s = self.state.fetch_add(0, Ordering::SeqCst);
        if busy(s) {
            futex_wait(self.state, s, None);
        }
        self.sleepers.fetch_sub(1, Ordering::SeqCst);
    }

    fn exclusive(&self) {
        while !self.try_exclusive() {
            self.sleep_while(|s| s != 0);
        }
    }

    fn shared(&self) {
        while !self.try_shared() {
            self.sleep_while(|s| s < 0 || s == i32::MAX);
        }
    }

    fn wake_sleepers(&self) {
        if self.sleepers.fetch_add(0, Ordering::SeqCst) > 0 {
            futex_wake(self.state, i32::MAX);
        }
    }

    fn release_exclusive(&self) -> Result<(), u32> {
        self.state
            .compare_exchange(EXCLUSIVE, 0, Ordering::SeqCst, Ordering::Relaxed)
            .map_err(|_| win32::ERROR_NOT_OWNER)?;
        self.wake_sleepers();
        Ok(())
    }

    fn release_shared(&self) -> Result<(), u32> {
        let mut s = self.state.load(Ordering::Relaxed);
        loop {
            if s <= 0 {
                return Err(win32::ERROR_NOT_OWNER);
            }
            match self
                .state
                .compare_exchange_weak(s, s - 1, Ordering::SeqCst, Ordering::Relaxed)
            {
                Ok(_) => break,
                Err(now) => s = now,
            }
        }
        if s == 1 {
            self.wake_sleepers();
        }
        Ok(())
    }
}

/// `void InitializeSRWLock(PSRWLOCK SRWLock)`: a free lock (as `SRWLOCK_INIT`).
///
/// Parameters: the lock.
/// Returns: nothing; `ERROR_INVALID_PARAMETER` for a NULL or misaligned pointer.
/// Memory and lifetimes: nothing is allocated.
///
/// # Safety
/// `SRWLock` null or a writable `SRWLOCK` not in use.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn InitializeSRWLock(l: *mut SRWLOCK) {
    guard((), || {
        // SAFETY: the contract.
        let v = unsafe { srw(l) }?;
        v.state.store(0, Ordering::Relaxed);
        v.sleepers.store(0, Ordering::Release);
        Ok(())
    });
}

/// `void AcquireSRWLockExclusive(PSRWLOCK SRWLock)`: waits until no thread holds the
/// lock, then holds it alone. Not recursive (a thread that holds it waits forever, as
/// on Windows).
///
/// Parameters: the lock.
/// Returns: nothing; `ERROR_INVALID_PARAMETER` for a bad pointer (returns at once).
/// Memory and lifetimes: nothing is kept.
///
/// # Safety
/// `SRWLock` null or an initialised lock.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn AcquireSRWLockExclusive(l: *mut SRWLOCK) {
    // SAFETY: the contract.
    guard((), || unsafe { srw(l) }.map(|v| v.exclusive()));
}

/// `void AcquireSRWLockShared(PSRWLOCK SRWLock)`: waits until no thread holds the lock
/// exclusively, then holds it with the other readers.
///
/// Parameters: the lock.
/// Returns: nothing; `ERROR_INVALID_PARAMETER` for a bad pointer (returns at once).
/// Memory and lifetimes: nothing is kept.
///
/// # Safety
/// As [`AcquireSRWLockExclusive`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn AcquireSRWLockShared(l: *mut SRWLOCK) {
    // SAFETY: the contract.
    guard((), || unsafe { srw(l) }.map(|v| v.shared()));
}

/// `BOOLEAN TryAcquireSRWLockExclusive(PSRWLOCK SRWLock)`: holds the lock alone if it
/// is free, without waiting.
///
/// Parameters: the lock.
/// Returns: 1 if acquired, else 0 (0 with `ERROR_INVALID_PARAMETER` for a bad pointer).
/// Memory and lifetimes: nothing is kept.
///
/// # Safety
/// As [`AcquireSRWLockExclusive`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn TryAcquireSRWLockExclusive(l: *mut SRWLOCK) -> u8 {
    // SAFETY: the contract.
    guard(0, || unsafe { srw(l) }.map(|v| u8::from(v.try_exclusive())))
}

/// `BOOLEAN TryAcquireSRWLockShared(PSRWLOCK SRWLock)`: holds the lock shared if no
/// thread holds it exclusively, without waiting.
///
/// Parameters: the lock.
/// Returns: 1 if acquired, else 0 (0 with `ERROR_INVALID_PARAMETER` for a bad pointer).
/// Memory and lifetimes: nothing is kept.
///
/// # Safety
/// As [`AcquireSRWLockExclusive`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn TryAcquireSRWLockShared(l: *mut SRWLOCK) -> u8 {
    // SAFETY: the contract.
    guard(0, || unsafe { srw(l) }.map(|v| u8::from(v.try_shared())))
}

/// `void ReleaseSRWLockExclusive(PSRWLOCK SRWLock)`: releases an exclusive hold.
///
/// Parameters: the lock.
/// Returns: nothing; `ERROR_NOT_OWNER` if the lock is not held exclusively (undefined on
/// Windows; nothing changes here), `ERROR_INVALID_PARAMETER` for a bad pointer.
/// Memory and lifetimes: nothing is kept.
///
/// # Safety
/// As [`AcquireSRWLockExclusive`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ReleaseSRWLockExclusive(l: *mut SRWLOCK) {
    // SAFETY: the contract.
    guard((), || unsafe { srw(l) }?.release_exclusive());
}

/// `void ReleaseSRWLockShared(PSRWLOCK SRWLock)`: releases one shared hold.
///
/// Parameters: the lock.
/// Returns: nothing; `ERROR_NOT_OWNER` if the lock is not held shared (nothing
/// changes), `ERROR_INVALID_PARAMETER` for a bad pointer.
/// Memory and lifetimes: nothing is kept.
///
/// # Safety
/// As [`AcquireSRWLockExclusive`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ReleaseSRWLockShared(l: *mut SRWLOCK) {
    // SAFETY: the contract.
    guard((), || unsafe { srw(l) }?.release_shared());
}

// --- condition variables ----------------------------------------------------------------

/// Checks `cv` and views its sequence number.
///
/// # Safety
/// `cv` is null or points to a `CONDITION_VARIABLE` that outlives the returned view.
unsafe fn seq<'a>(cv: *mut CONDITION_VARIABLE) -> Result<&'a AtomicI32, u32> {
    // SAFETY: the contract; the first half of the checked pointer-sized object.
    unsafe { srw(cv) }.map(|v| v.state)
}

/// Sleeps on `seq` (read as `seen` before the lock was released) until woken or until
/// `end`; then `relock` runs. False if the time ran out.
fn sleep_on(seq: &AtomicI32, seen: i32, end: Option<Instant>, relock: impl FnOnce()) -> bool {
    let woke = match end {
        None => futex_wait(seq, seen, None),
        Some(end) => match end.checked_duration_since(Instant::now()) {
            Some(left) if !left.is_zero() => futex_wait(seq, seen, Some(left)),
            _ => false,
        },
    };
    relock();
    woke
}

/// `void InitializeConditionVariable(PCONDITION_VARIABLE ConditionVariable)`: as
/// `CONDITION_VARIABLE_INIT`.
///
/// Parameters: the condition variable.
/// Returns: nothing; `ERROR_INVALID_PARAMETER` for a NULL or misaligned pointer.
/// Memory and lifetimes: nothing is allocated.
///
/// # Safety
/// `ConditionVariable` null or a writable `CONDITION_VARIABLE` nobody sleeps on.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn InitializeConditionVariable(cv: *mut CONDITION_VARIABLE) {
    // SAFETY: the contract.
    unsafe { InitializeSRWLock(cv) };
}

/// `BOOL SleepConditionVariableCS(PCONDITION_VARIABLE ConditionVariable,
/// PCRITICAL_SECTION CriticalSection, DWORD dwMilliseconds)`: releases the critical
/// section, sleeps until woken or timed out, and enters it again (as many times as the
/// thread had entered it).
///
/// Parameters: the condition variable, a critical section the calling thread owns, the
/// timeout in milliseconds (`INFINITE`: none).
/// Returns: TRUE when woken (possibly spuriously: callers loop on their predicate), or
/// FALSE with `ERROR_TIMEOUT`; FALSE with `ERROR_NOT_OWNER` (the thread does not own the
/// critical section; nothing was released) or `ERROR_INVALID_PARAMETER`.
/// Memory and lifetimes: nothing is kept.
///
/// # Safety
/// Both pointers null or initialised objects.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn SleepConditionVariableCS(
    cv: *mut CONDITION_VARIABLE,
    c: *mut CRITICAL_SECTION,
    ms: DWORD,
) -> BOOL {
    guard(FALSE, || {
        // SAFETY: the contract.
        let seq = unsafe { seq(cv) }?;
        // SAFETY: the contract.
        let lock = unsafe { cs(c) }?;
        let me = me();
        if !lock.owned_by(me) {
            return Err(win32::ERROR_NOT_OWNER);
        }
        let end = deadline(ms);
        let seen = seq.load(Ordering::Acquire);
        let depth = lock.release();
        let woke = sleep_on(seq, seen, end, || {
            lock.enter(me);
            lock.recursion.store(depth, Ordering::Relaxed);
        });
        if woke {
            Ok(TRUE)
        } else {
            Err(win32::ERROR_TIMEOUT)
        }
    })
}

/// `BOOL SleepConditionVariableSRW(PCONDITION_VARIABLE ConditionVariable, PSRWLOCK
/// SRWLock, DWORD dwMilliseconds, ULONG Flags)`: as [`SleepConditionVariableCS`] with
/// an SRW lock held exclusively, or shared with `CONDITION_VARIABLE_LOCKMODE_SHARED`.
///
/// Parameters: the condition variable, the lock (held in the mode `Flags` names), the
/// timeout, `Flags` (0 or `CONDITION_VARIABLE_LOCKMODE_SHARED`).
/// Returns: TRUE when woken, or FALSE with `ERROR_TIMEOUT`; FALSE with
/// `ERROR_NOT_OWNER` (the lock is not held in that mode) or `ERROR_INVALID_PARAMETER`
/// (bad pointer or unknown flags).
/// Memory and lifetimes: nothing is kept.
///
/// # Safety
/// Both pointers null or initialised objects.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn SleepConditionVariableSRW(
    cv: *mut CONDITION_VARIABLE,
    l: *mut SRWLOCK,
    ms: DWORD,
    flags: u32,
) -> BOOL {
    guard(FALSE, || {
        // SAFETY: the contract.
        let seq = unsafe { seq(cv) }?;
        // SAFETY: the contract.
        let lock = unsafe { srw(l) }?;
        if flags & !CONDITION_VARIABLE_LOCKMODE_SHARED != 0 {
            return Err(win32::ERROR_INVALID_PARAMETER);
        }
        let shared = flags & CONDITION_VARIABLE_LOCKMODE_SHARED != 0;
        let end = deadline(ms);
        let seen = seq.load(Ordering::Acquire);
        if shared {
            lock.release_shared()?;
        } else {
            lock.release_exclusive()?;
        }
        let woke = sleep_on(seq, seen, end, || {
            if shared {
                lock.shared();
            } else {
                lock.exclusive();
            }
        });
        if woke {
            Ok(TRUE)
        } else {
            Err(win32::ERROR_TIMEOUT)
        }
    })
}

/// `void WakeConditionVariable(PCONDITION_VARIABLE ConditionVariable)`: wakes one
/// sleeping thread, if any.
///
/// Parameters: the condition variable.
/// Returns: nothing; `ERROR_INVALID_PARAMETER` for a bad pointer.
/// Memory and lifetimes: nothing is kept.
///
/// # Safety
/// `ConditionVariable` null or an initialised condition variable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn WakeConditionVariable(cv: *mut CONDITION_VARIABLE) {
    guard((), || {
        // SAFETY: the contract.
        let seq = unsafe { seq(cv) }?;
        seq.fetch_add(1, Ordering::Release);
        futex_wake(seq, 1);
        Ok(())
    });
}

/// `void WakeAllConditionVariable(PCONDITION_VARIABLE ConditionVariable)`: wakes every
/// sleeping thread.
///
/// Parameters: the condition variable.
/// Returns: nothing; `ERROR_INVALID_PARAMETER` for a bad pointer.
/// Memory and lifetimes: nothing is kept.
///
/// # Safety
/// As [`WakeConditionVariable`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn WakeAllConditionVariable(cv: *mut CONDITION_VARIABLE) {
    guard((), || {
        // SAFETY: the contract.
        let seq = unsafe { seq(cv) }?;
        seq.fetch_add(1, Ordering::Release);
        futex_wake(seq, i32::MAX);
        Ok(())
    });
}
