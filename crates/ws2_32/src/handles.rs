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
    /// A connection a `WSAAccept` condition function deferred (`CF_DEFER`): the next
    /// `accept` or `WSAAccept` on this listener takes it first, as on Windows.
    pub(crate) deferred: Mutex<Option<(Socket, std::net::SocketAddr)>>,
}

/// What a handle names.
#[derive(Debug, Clone)]
pub(crate) enum Object {
    Socket(Arc<SockEntry>),
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
    if value < FIRST || !value.is_multiple_of(4) {
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
    guard(fail, || {
        let r = f()?;
        set_last_error(0);
        Ok(r)
    })
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
        assert_eq!(index_of(FIRST + 2), None);
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
