//! The handle table, the thread's last error, `WSAStartup` state, and the checked
//! boundary every exported function goes through.
//!
//! Sockets, event objects, completion ports and threads share one table, as they share
//! one handle space on Windows: passing an event where a socket is expected gives
//! `WSAENOTSOCK`, and the reverse `WSA_INVALID_HANDLE` (`ERROR_INVALID_HANDLE`). Handle values are small multiples of 4 (like Windows
//! handles), never 0 and always below 2^32, because book programs cast them to `DWORD`.

use std::cell::Cell;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use overlapped::{Event, Socket, WsaError};

/// A socket as the C ABI sees it.
#[derive(Debug)]
pub(crate) struct SockEntry {
    pub(crate) sock: Socket,
    /// Signalled by completions of operations whose `hEvent` is NULL: what Windows
    /// signals on the socket handle itself.
    pub(crate) signal: Event,
    /// Created with `WSA_FLAG_OVERLAPPED` (or by `socket()`, which implies it).
    pub(crate) overlapped: bool,
    /// `WSAEventSelect` state.
    pub(crate) select: Mutex<Option<crate::events::EventSelect>>,
    /// The Windows `SO_REUSEADDR` the application set (what `getsockopt` reports;
    /// Linux's own `SO_REUSEADDR` is on for every stream socket, see `sockets::bind`).
    pub(crate) reuse: std::sync::atomic::AtomicBool,
    /// `SO_EXCLUSIVEADDRUSE`: bind without Linux's `SO_REUSEADDR`.
    pub(crate) exclusive: std::sync::atomic::AtomicBool,
    /// The completion port association and `SetFileCompletionNotificationModes` state.
    pub(crate) iocp: crate::iocp::SockIocp,
    /// The handles naming this socket, with the `WSADuplicateSocket` records not yet
    /// taken: a duplicate is another handle to the same socket (Windows' handles to one
    /// kernel object), and only the last `closesocket` closes it.
    pub(crate) handles: std::sync::atomic::AtomicUsize,
    /// What a non-blocking `send` left to go in the background (`sendtail.rs`).
    pub(crate) send_tail: crate::sendtail::SendTail,
}

/// What a handle names.
#[derive(Debug, Clone)]
pub(crate) enum Object {
    Socket(Arc<SockEntry>),
    /// A second handle to a socket's file object (`DuplicateHandle` of a socket): it
    /// keeps the socket open (one of `SockEntry.handles`) and `CloseHandle` and the
    /// waits take it, but Winsock calls do not take it as a socket (`WSAENOTSOCK`), as
    /// on Windows.
    SocketFile(Arc<SockEntry>),
    Event(Event),
    /// A completion port (`CreateIoCompletionPort`).
    Port(Arc<crate::iocp::PortObj>),
    /// A thread (`CreateThread`, `_beginthreadex`).
    Thread(Arc<crate::threads::ThreadObj>),
}

#[derive(Default)]
struct Table {
    slots: Vec<Option<Object>>,
    free: Vec<usize>,
}

static TABLE: Mutex<Table> = Mutex::new(Table {
    slots: Vec::new(),
    free: Vec::new(),
});

fn table() -> MutexGuard<'static, Table> {
    TABLE.lock().unwrap_or_else(|e| e.into_inner())
}

const FIRST: usize = 0x100;

fn value_of(index: usize) -> usize {
    FIRST + index * 4
}

fn index_of(value: usize) -> Option<usize> {
    // The low two bits of a handle are tag bits that Windows' object manager ignores:
    // `hEvent | 1` (no completion packet) still names the event for a wait.
    let value = value & !3;
    // Handle values are below 2^32 (book programs cast a SOCKET to DWORD), so
    // INVALID_SOCKET and other large values name nothing.
    if value < FIRST || u32::try_from(value).is_err() {
        return None;
    }
    Some((value - FIRST) / 4)
}

/// Adds an object; returns its handle value.
pub(crate) fn insert(obj: Object) -> Result<usize, u32> {
    let mut t = table();
    let index = match t.free.pop() {
        Some(i) => i,
        None => {
            t.slots.push(None);
            t.slots.len() - 1
        }
    };
    let value = value_of(index);
    if u32::try_from(value).is_err() {
        return Err(WsaError::WSAEMFILE.code());
    }
    t.slots[index] = Some(obj);
    Ok(value)
}

/// Looks a handle up.
pub(crate) fn get(value: usize) -> Option<Object> {
    let t = table();
    t.slots.get(index_of(value)?)?.clone()
}

/// Removes a handle, returning what it named.
pub(crate) fn remove(value: usize) -> Option<Object> {
    let mut t = table();
    let i = index_of(value)?;
    let obj = t.slots.get_mut(i)?.take()?;
    t.free.push(i);
    Some(obj)
}

/// Removes every socket (`WSACleanup`).
pub(crate) fn remove_all_sockets() -> Vec<Arc<SockEntry>> {
    let mut t = table();
    let mut out = Vec::new();
    let mut freed = Vec::new();
    for (i, slot) in t.slots.iter_mut().enumerate() {
        if let Some(Object::Socket(_)) = slot
            && let Some(Object::Socket(s)) = slot.take()
        {
            out.push(s);
            freed.push(i);
        }
    }
    t.free.extend(freed);
    out
}

/// The socket a handle names: `WSAENOTSOCK` otherwise.
pub(crate) fn socket(value: usize) -> Result<Arc<SockEntry>, u32> {
    match get(value) {
        Some(Object::Socket(s)) => Ok(s),
        _ => Err(WsaError::WSAENOTSOCK.code()),
    }
}

/// The event a handle names: `WSA_INVALID_HANDLE` otherwise.
pub(crate) fn event(value: usize) -> Result<Event, u32> {
    match get(value) {
        Some(Object::Event(e)) => Ok(e),
        _ => Err(WsaError::WSA_INVALID_HANDLE.code()),
    }
}

thread_local! {
    static LAST_ERROR: Cell<u32> = const { Cell::new(0) };
}

/// `WSASetLastError` / `SetLastError`.
pub(crate) fn set_last_error(code: u32) {
    // `try_with`: never panics, even from a thread-exit destructor.
    let _ = LAST_ERROR.try_with(|c| c.set(code));
}

/// `WSAGetLastError` / `GetLastError`.
pub(crate) fn last_error() -> u32 {
    LAST_ERROR.try_with(Cell::get).unwrap_or(0)
}

static STARTED: AtomicU32 = AtomicU32::new(0);

pub(crate) fn startup() {
    STARTED.fetch_add(1, Ordering::AcqRel);
}

/// Returns true when this call ended the last `WSAStartup`.
pub(crate) fn cleanup() -> Result<bool, u32> {
    let mut cur = STARTED.load(Ordering::Acquire);
    loop {
        if cur == 0 {
            return Err(WsaError::WSANOTINITIALISED.code());
        }
        match STARTED.compare_exchange(cur, cur - 1, Ordering::AcqRel, Ordering::Acquire) {
            Ok(_) => return Ok(cur == 1),
            Err(now) => cur = now,
        }
    }
}

/// `WSANOTINITIALISED` before `WSAStartup` (and after the last `WSACleanup`).
pub(crate) fn started() -> Result<(), u32> {
    if STARTED.load(Ordering::Acquire) == 0 {
        Err(WsaError::WSANOTINITIALISED.code())
    } else {
        Ok(())
    }
}

/// `WSASYSCALLFAILURE`: what a caught panic reports.
pub(crate) const INTERNAL_FAILURE: u32 = 10107;

/// The checked boundary: runs `f`, catching panics; on `Err(code)` sets the thread's
/// last error and returns `fail`. Every exported function goes through it, so no panic
/// crosses into C.
pub(crate) fn guard<R>(fail: R, f: impl FnOnce() -> Result<R, u32>) -> R {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(r)) => r,
        Ok(Err(code)) => {
            set_last_error(code);
            fail
        }
        Err(_) => {
            set_last_error(INTERNAL_FAILURE);
            fail
        }
    }
}

/// The checked boundary of a Winsock call on a socket: as [`guard`], and on success the
/// thread's last error becomes 0.
///
/// # Compatibility
/// Windows' ws2_32 clears the last error when a socket call succeeds: Wine's tests of
/// Windows set it to `0xdeadbeef` before `bind`, `listen`, `shutdown`, `getsockname`,
/// `getsockopt`/`setsockopt`, `WSAIoctl`, `WSASendTo`, `WSASendMsg`, a synchronous
/// `WSARecv`, `WSAPoll`, `DisconnectEx`, `WSAGetOverlappedResult` and expect 0 after
/// success. The kernel32 functions (`GetQueuedCompletionStatus`, events, waits, threads,
/// memory) leave it alone on success (the same tests expect `0xdeadbeef` after a
/// successful `GetQueuedCompletionStatus`), and so do the pure functions (`htons`,
/// `inet_addr`, `WSAGetLastError`): those use [`guard`]. One rule, by family: every
/// export that takes a `SOCKET` and reports through `WSAGetLastError` uses `ws_guard`.
pub(crate) fn ws_guard<R>(fail: R, f: impl FnOnce() -> Result<R, u32>) -> R {
    // Winsock's blocking calls wait alertably: queued APCs and completion routines run
    // while a blocking recv/send/accept/connect/select waits (semantics 1.2).
    let _alertable = overlapped::AlertableBlocking::enter();
    guard(fail, || {
        let r = f()?;
        set_last_error(0);
        Ok(r)
    })
}

/// Whether `len` bytes at `p` can be read without a fault: `false` for NULL, for a
/// range that wraps, and for memory that is not mapped readable. Windows reports
/// `WSAEFAULT` for such pointers instead of crashing; see [`probe`].
pub(crate) fn readable(p: *const u8, len: usize) -> bool {
    probe::range(p, len, false)
}

/// Whether `len` bytes at `p` can be written without a fault (as [`readable`]; a
/// read-only page is not writable). Probing does not change the bytes.
pub(crate) fn writable(p: *mut u8, len: usize) -> bool {
    probe::range(p, len, true)
}

/// `WSAEFAULT` unless `p` points to a writable `T` (NULL is a fault).
pub(crate) fn check_out<T>(p: *mut T) -> Result<(), u32> {
    if writable(p.cast(), size_of::<T>()) {
        Ok(())
    } else {
        Err(WsaError::WSAEFAULT.code())
    }
}

/// As [`check_out`], but NULL is fine (an optional out-parameter).
pub(crate) fn check_opt_out<T>(p: *mut T) -> Result<(), u32> {
    if p.is_null() { Ok(()) } else { check_out(p) }
}

/// `WSAEFAULT` unless `len` bytes at `p` are readable (`len` 0: any pointer).
pub(crate) fn check_in_bytes(p: *const u8, len: usize) -> Result<(), u32> {
    if len == 0 || readable(p, len) {
        Ok(())
    } else {
        Err(WsaError::WSAEFAULT.code())
    }
}

/// `WSAEFAULT` unless `len` bytes at `p` are writable (`len` 0: any pointer).
pub(crate) fn check_out_bytes(p: *mut u8, len: usize) -> Result<(), u32> {
    if len == 0 || writable(p, len) {
        Ok(())
    } else {
        Err(WsaError::WSAEFAULT.code())
    }
}

/// Detecting an unreadable or unwritable pointer without crashing.
///
/// On x86-64 a pointer is probed by one instruction of a tiny assembly function (a byte
/// load, or a `lock or` of 0 that needs write access but changes nothing, even with
/// other threads writing the byte). A `SIGSEGV`/`SIGBUS` handler, installed on the
/// first probe, recognises a fault whose instruction is one of those two and resumes at
/// a recovery stub that returns "fault"; any other fault goes to the handler that was
/// installed before (AddressSanitizer's, the Rust runtime's, the program's), or, when
/// that was the default action, restores it so the fault kills the process as it would
/// have. A probe costs a call and one memory access (a few nanoseconds), so it can
/// guard the hot path (`WSARecv`, `WSASend`, `GetQueuedCompletionStatus`).
///
/// A range is probed at its first byte and at the start of each further page it
/// touches (access rights are per page; 4 KiB is the smallest page). Elsewhere the kernel checks: `process_vm_readv`/`process_vm_writev` on
/// our own process (a write probe reads the bytes and writes them back), one system
/// call per range.
mod probe {
    const PAGE: usize = 4096;

    /// Probes `[p, p + len)`; `len` 0 probes nothing (true unless NULL).
    pub(super) fn range(p: *const u8, len: usize, write: bool) -> bool {
        let start = p as usize;
        if start == 0 {
            return false;
        }
        if len == 0 {
            return true;
        }
        let Some(last) = start.checked_add(len - 1) else {
            return false;
        };
        // Access rights are per page: one byte of each page the range touches.
        let mut at = start;
        loop {
            if !byte(at, write) {
                return false;
            }
            let next_page = (at | (PAGE - 1)).wrapping_add(1);
            if next_page == 0 || next_page > last {
                return true;
            }
            at = next_page;
        }
    }

    #[cfg(target_arch = "x86_64")]
    fn byte(at: usize, write: bool) -> bool {
        install();
        // SAFETY: the probe functions access one byte at `at`; a fault there is caught
        // by the handler `install` put in place and turned into a return of 1; the
        // write probe (`lock or` 0) leaves the byte's value unchanged.
        let r = if write {
            // SAFETY: see above.
            unsafe { ovl_ws2_probe_write(at as *mut u8) }
        } else {
            // SAFETY: see above.
            unsafe { ovl_ws2_probe_read(at as *const u8) }
        };
        r == 0
    }

    #[cfg(target_arch = "x86_64")]
    std::arch::global_asm!(
        ".pushsection .text.ovl_ws2_probe,\"ax\",@progbits",
        ".p2align 4",
        ".globl ovl_ws2_probe_read",
        ".hidden ovl_ws2_probe_read",
        ".type ovl_ws2_probe_read,@function",
        "ovl_ws2_probe_read:",
        "    movzx eax, byte ptr [rdi]",
        "    xor eax, eax",
        "    ret",
        ".size ovl_ws2_probe_read, .-ovl_ws2_probe_read",
        ".globl ovl_ws2_probe_write",
        ".hidden ovl_ws2_probe_write",
        ".type ovl_ws2_probe_write,@function",
        "ovl_ws2_probe_write:",
        "    lock or byte ptr [rdi], 0",
        "    xor eax, eax",
        "    ret",
        ".size ovl_ws2_probe_write, .-ovl_ws2_probe_write",
        ".globl ovl_ws2_probe_fault",
        ".hidden ovl_ws2_probe_fault",
        ".type ovl_ws2_probe_fault,@function",
        "ovl_ws2_probe_fault:",
        "    mov eax, 1",
        "    ret",
        ".size ovl_ws2_probe_fault, .-ovl_ws2_probe_fault",
        ".popsection",
    );

    #[cfg(target_arch = "x86_64")]
    unsafe extern "C" {
        /// Reads the byte at its argument (its first instruction); returns 0, or 1 when
        /// that read faulted (through the handler).
        fn ovl_ws2_probe_read(p: *const u8) -> u32;
        /// `lock or byte [p], 0` (its first instruction); returns 0, or 1 on a fault.
        fn ovl_ws2_probe_write(p: *mut u8) -> u32;
        /// The recovery stub: returns 1.
        fn ovl_ws2_probe_fault() -> u32;
    }

    /// The handlers that were installed before ours, for `SIGSEGV` and `SIGBUS`.
    #[cfg(target_arch = "x86_64")]
    struct Prev(std::cell::UnsafeCell<[std::mem::MaybeUninit<libc::sigaction>; 2]>);

    // SAFETY: written once, inside `install`'s `Once`, before our handler is installed
    // (the `sigaction` system call orders the write before any delivery to it); only
    // read afterwards.
    #[cfg(target_arch = "x86_64")]
    unsafe impl Sync for Prev {}

    #[cfg(target_arch = "x86_64")]
    static PREV: Prev = Prev(std::cell::UnsafeCell::new(
        [std::mem::MaybeUninit::zeroed(); 2],
    ));

    #[cfg(target_arch = "x86_64")]
    fn install() {
        static ONCE: std::sync::Once = std::sync::Once::new();
        ONCE.call_once(|| {
            for (i, sig) in [libc::SIGSEGV, libc::SIGBUS].into_iter().enumerate() {
                // SAFETY: a zeroed `sigaction` is a valid value; `PREV` is written only
                // here, before our handler can run (see `Prev`); the new action names
                // a handler with the SA_SIGINFO signature.
                let mut act: libc::sigaction = unsafe { std::mem::zeroed() };
                act.sa_sigaction = handler as *const () as usize;
                act.sa_flags = libc::SA_SIGINFO | libc::SA_ONSTACK | libc::SA_RESTART;
                // SAFETY: `act` is a live `sigaction`.
                unsafe { libc::sigemptyset(&raw mut act.sa_mask) };
                // SAFETY: see `Prev`: written only here, before our handler can run.
                let prev = unsafe { (*PREV.0.get())[i].as_mut_ptr() };
                // SAFETY: valid pointers to a `sigaction` each.
                unsafe { libc::sigaction(sig, &raw const act, prev) };
            }
        });
    }

    #[cfg(target_arch = "x86_64")]
    extern "C" fn handler(sig: libc::c_int, info: *mut libc::siginfo_t, ctx: *mut libc::c_void) {
        let uc = ctx.cast::<libc::ucontext_t>();
        // SAFETY: the kernel passes a valid `ucontext_t` to an SA_SIGINFO handler.
        let rip = unsafe { &mut (*uc).uc_mcontext.gregs[libc::REG_RIP as usize] };
        // x86-64: a register is a 64-bit address.
        let at = usize::try_from(*rip as u64).unwrap_or(0);
        if at == ovl_ws2_probe_read as *const () as usize
            || at == ovl_ws2_probe_write as *const () as usize
        {
            *rip = ovl_ws2_probe_fault as *const () as usize as i64;
            return;
        }
        let i = usize::from(sig == libc::SIGBUS);
        // SAFETY: written before this handler was installed (see `Prev`).
        let prevs = PREV.0.get();
        // SAFETY: as above.
        let prev = unsafe { &*prevs };
        // SAFETY: initialised by `install` (a `sigaction` wrote it, or it stayed zeroed:
        // SIG_DFL).
        let prev = unsafe { prev[i].assume_init_ref() };
        let h = prev.sa_sigaction;
        if h == libc::SIG_DFL || h == libc::SIG_IGN {
            // Put the default action back; returning re-runs the faulting instruction,
            // which then ends the process as it would have without us.
            // SAFETY: `sigaction` is async-signal-safe; a zeroed action is SIG_DFL.
            let mut dfl: libc::sigaction = unsafe { std::mem::zeroed() };
            dfl.sa_sigaction = libc::SIG_DFL;
            // SAFETY: as above.
            unsafe { libc::sigaction(sig, &raw const dfl, std::ptr::null_mut()) };
        } else if prev.sa_flags & libc::SA_SIGINFO != 0 {
            // SAFETY: the previous handler, installed with SA_SIGINFO, takes these.
            let f: extern "C" fn(libc::c_int, *mut libc::siginfo_t, *mut libc::c_void) =
                unsafe { std::mem::transmute(h) };
            f(sig, info, ctx);
        } else {
            // SAFETY: the previous handler, installed without SA_SIGINFO, takes the
            // signal number.
            let f: extern "C" fn(libc::c_int) = unsafe { std::mem::transmute(h) };
            f(sig);
        }
    }

    /// Elsewhere: the kernel checks, through `process_vm_readv`/`process_vm_writev`.
    #[cfg(not(target_arch = "x86_64"))]
    fn byte(at: usize, write: bool) -> bool {
        let mut b = 0u8;
        let local = libc::iovec {
            iov_base: (&raw mut b).cast(),
            iov_len: 1,
        };
        let remote = libc::iovec {
            iov_base: at as *mut libc::c_void,
            iov_len: 1,
        };
        // SAFETY: the kernel checks `remote` and copies one byte into `b`.
        let pid = unsafe { libc::getpid() };
        // SAFETY: as above.
        if unsafe { libc::process_vm_readv(pid, &local, 1, &remote, 1, 0) } != 1 {
            return false;
        }
        // SAFETY: writes back the byte just read (a racing writer may lose its write:
        // the fallback is not atomic).
        !write || unsafe { libc::process_vm_writev(pid, &local, 1, &remote, 1, 0) } == 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handle_values_are_small_multiples_of_four() {
        for i in [0, 1, 1000] {
            let v = value_of(i);
            assert_eq!(v % 4, 0);
            assert!(v >= FIRST && u32::try_from(v).is_ok());
            assert_eq!(index_of(v), Some(i));
        }
        assert_eq!(index_of(0), None);
        assert_eq!(index_of(3), None);
        // The low two bits are tag bits: `hEvent | 1` names the event.
        assert_eq!(index_of(FIRST + 1), Some(0));
        assert_eq!(index_of(FIRST + 2), Some(0));
        assert_eq!(index_of(FIRST + 7), Some(1));
        assert_eq!(index_of(!0), None, "INVALID_SOCKET names nothing");
    }

    #[test]
    fn guard_turns_errors_and_panics_into_the_failure_value() {
        assert_eq!(guard(-1, || Ok(5)), 5);
        assert_eq!(guard(-1, || Err(10038)), -1);
        assert_eq!(last_error(), 10038);
        let r = guard(-1, || -> Result<i32, u32> { panic!("boom") });
        assert_eq!(r, -1);
        assert_eq!(last_error(), INTERNAL_FAILURE);
    }

    #[test]
    fn probes_tell_bad_pointers_without_crashing() {
        // SAFETY: anonymous private mappings, unmapped at the end; no other use.
        let (none, ro) = unsafe {
            let m = |prot| {
                libc::mmap(
                    std::ptr::null_mut(),
                    8192,
                    prot,
                    libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                    -1,
                    0,
                )
            };
            (
                m(libc::PROT_NONE).cast::<u8>(),
                m(libc::PROT_READ).cast::<u8>(),
            )
        };
        assert!(!readable(std::ptr::null(), 1));
        assert!(!readable(std::ptr::dangling::<u8>(), 1));
        assert!(!readable(none, 1) && !writable(none, 1));
        assert!(readable(ro, 8192) && !writable(ro, 1));
        assert!(!readable(usize::MAX as *const u8, 2), "a wrapping range");
        let mut v = [7u8; 10000];
        assert!(readable(v.as_ptr(), v.len()) && writable(v.as_mut_ptr(), v.len()));
        assert_eq!(v, [7u8; 10000], "a write probe changes nothing");
        // A range that runs from a readable page into an unreadable one.
        // SAFETY: the second page of the read-only mapping becomes PROT_NONE.
        let second = ro.wrapping_add(4096);
        // SAFETY: as above.
        unsafe { libc::mprotect(second.cast(), 4096, libc::PROT_NONE) };
        assert!(readable(ro, 4096) && !readable(ro.wrapping_add(4000), 200));
        assert_eq!(
            check_out(none.cast::<u32>()),
            Err(WsaError::WSAEFAULT.code())
        );
        // SAFETY: the mappings made above.
        unsafe { libc::munmap(none.cast(), 8192) };
        // SAFETY: as above.
        unsafe { libc::munmap(ro.cast(), 8192) };
    }

    #[test]
    fn ws_guard_clears_the_last_error_on_success_only() {
        set_last_error(0xdead_beef);
        assert_eq!(guard(-1, || Ok(1)), 1);
        assert_eq!(last_error(), 0xdead_beef, "guard leaves it alone");
        assert_eq!(ws_guard(-1, || Ok(1)), 1);
        assert_eq!(last_error(), 0);
        assert_eq!(ws_guard(-1, || Err(10022)), -1);
        assert_eq!(last_error(), 10022);
    }
}
