//! I/O completion ports: `CreateIoCompletionPort`, `GetQueuedCompletionStatus`,
//! `GetQueuedCompletionStatusEx`, `PostQueuedCompletionStatus`,
//! `SetFileCompletionNotificationModes` (and `CloseHandle` on a port, in `events`).
//!
//! # The model
//! A port handle names the library's [`CompletionPort`]; associating a socket calls
//! [`CompletionPort::associate`], so every rule of which completion posts a packet is the
//! library's (semantics 1.1, 1.2, 1.10): a packet for an immediate success unless
//! `FILE_SKIP_COMPLETION_PORT_ON_SUCCESS`, none for an immediate failure, none when the
//! `hEvent` low bit is set, AcceptEx to the listener's port and key, `WSAEINVAL` for a
//! completion routine on an associated socket.
//!
//! # From a packet back to the C `OVERLAPPED`
//! A packet carries the library's record; programs need the exact `OVERLAPPED *` they
//! passed (they apply `CONTAINING_RECORD` to it). `io::prepare` registers each
//! event-mode record here (by [`Overlapped::id`]) **before** posting, since another
//! thread may dequeue the packet before the post returns; a dequeue takes the entry
//! out. Entries that will never see a packet are dropped: at once for an immediate
//! failure or a skipped immediate success, when their port is closed, and, once the table
//! has grown, when their operation completed on a socket with no open port.
//! `PostQueuedCompletionStatus` registers a fresh record for its pointer the same way,
//! so the pointer comes back exactly as given, never dereferenced.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use overlapped::{CompletionPort, DequeueError, NtStatus, Overlapped, Packet, WsaError};

use crate::handles::{self, Object, SockEntry, guard};
use crate::types::{
    BOOL, DWORD, FALSE, HANDLE, OVERLAPPED, OVERLAPPED_ENTRY, TRUE, ULONG, c, win32,
};

/// `FILE_SKIP_COMPLETION_PORT_ON_SUCCESS`.
pub const FILE_SKIP_COMPLETION_PORT_ON_SUCCESS: u8 = 0x1;
/// `FILE_SKIP_SET_EVENT_ON_HANDLE`.
pub const FILE_SKIP_SET_EVENT_ON_HANDLE: u8 = 0x2;

/// A completion port handle's object.
#[derive(Debug)]
pub struct PortObj {
    /// The library's port.
    port: CompletionPort,
}

/// A socket's completion-port state.
#[derive(Debug, Default)]
pub(crate) struct SockIocp {
    /// The port the socket is associated with: set once (a second association fails).
    port: OnceLock<Arc<PortObj>>,
    /// `FILE_SKIP_SET_EVENT_ON_HANDLE`: completions with a NULL `hEvent` do not signal
    /// the socket handle.
    skip_set_event: AtomicBool,
}

impl SockIocp {
    /// Whether `FILE_SKIP_SET_EVENT_ON_HANDLE` is set.
    pub(crate) fn skips_set_event(&self) -> bool {
        self.skip_set_event.load(Ordering::Acquire)
    }
}

/// A record whose packet may still be dequeued.
struct Expected {
    /// The C `OVERLAPPED` address (or the pointer given to `PostQueuedCompletionStatus`).
    c_ov: usize,
    /// Keeps the record, and so its id, alive while the entry exists.
    ov: Arc<Overlapped>,
    /// The port the socket was associated with when the post began, if any.
    port: Option<Arc<PortObj>>,
}

struct ExpectedTable {
    map: HashMap<usize, Expected>,
    /// Sweep when the table grows past this.
    sweep_at: usize,
}

/// Records whose packets may still come, by [`Overlapped::id`] (never held while posting
/// or waiting).
static EXPECTED: Mutex<Option<ExpectedTable>> = Mutex::new(None);

fn expected<R>(f: impl FnOnce(&mut ExpectedTable) -> R) -> R {
    let mut g = EXPECTED.lock().unwrap_or_else(|e| e.into_inner());
    let t = g.get_or_insert_with(|| ExpectedTable {
        map: HashMap::new(),
        sweep_at: 1024,
    });
    f(t)
}

fn insert_expected(ov: &Arc<Overlapped>, c_ov: usize, port: Option<Arc<PortObj>>) {
    expected(|t| {
        t.map.insert(
            ov.id(),
            Expected {
                c_ov,
                ov: Arc::clone(ov),
                port,
            },
        );
        if t.map.len() > t.sweep_at {
            // Complete, and no open port to deliver to: no packet will come.
            t.map.retain(|_, e| {
                !e.ov.is_complete() || e.port.as_ref().is_some_and(|p| !p.port.is_closed())
            });
            t.sweep_at = t.map.len() * 2 + 1024;
        }
    });
}

/// Registers an event-mode record of `entry` before it is posted (see the module docs).
pub(crate) fn expect(entry: &SockEntry, ov: &Arc<Overlapped>, c_ov: usize) {
    insert_expected(ov, c_ov, entry.iocp.port.get().cloned());
}

/// Drops the registration of a record that will post no packet.
pub(crate) fn forget(ov: &Overlapped) {
    let gone = expected(|t| t.map.remove(&ov.id()));
    drop(gone);
}

/// The C pointer of a dequeued packet (NULL for a hand post without one); `None` for a
/// packet of no C operation (dropped by the caller).
fn c_pointer_of(p: &Packet) -> Option<usize> {
    match p.overlapped() {
        None => Some(0),
        Some(ov) => expected(|t| t.map.remove(&ov.id())).map(|e| e.c_ov),
    }
}

/// Closes a port handle (`CloseHandle`): waiters return `ERROR_ABANDONED_WAIT_0`,
/// queued packets are dropped.
pub(crate) fn close_port(h: usize) {
    if let Some(Object::Port(p)) = handles::remove(h) {
        p.port.close();
        let gone: Vec<Expected> = expected(|t| {
            let ids: Vec<usize> = t
                .map
                .iter()
                .filter(|(_, e)| e.port.as_ref().is_some_and(|q| Arc::ptr_eq(q, &p)))
                .map(|(id, _)| *id)
                .collect();
            ids.iter().filter_map(|id| t.map.remove(id)).collect()
        });
        drop(gone);
    }
}

/// The port a handle names: `ERROR_INVALID_HANDLE` otherwise.
fn port(h: HANDLE) -> Result<Arc<PortObj>, u32> {
    match handles::get(h as usize) {
        Some(Object::Port(p)) => Ok(p),
        _ => Err(win32::ERROR_INVALID_HANDLE),
    }
}

fn new_port(threads: DWORD) -> Result<(Arc<PortObj>, usize), u32> {
    let obj = Arc::new(PortObj {
        port: CompletionPort::new(threads as usize),
    });
    let h = handles::insert(Object::Port(Arc::clone(&obj)))?;
    Ok((obj, h))
}

/// `HANDLE CreateIoCompletionPort(HANDLE FileHandle, HANDLE ExistingCompletionPort,
/// ULONG_PTR CompletionKey, DWORD NumberOfConcurrentThreads)`.
///
/// With `FileHandle` = `INVALID_HANDLE_VALUE`: creates a port that releases at most
/// `NumberOfConcurrentThreads` threads at once (0: the number of processors). With a
/// socket: associates it under `CompletionKey` with `ExistingCompletionPort` (or with a
/// new port when that is NULL) and returns the port; completions of its overlapped
/// operations, including those already pending, are queued there from now on.
///
/// Parameters: a socket or `INVALID_HANDLE_VALUE`, a port or NULL, the key, the
/// concurrency.
/// Returns: the port handle, or NULL with `ERROR_INVALID_PARAMETER` (the socket is
/// already associated, with any port; `INVALID_HANDLE_VALUE` with an existing port) or
/// `ERROR_INVALID_HANDLE` (not a socket, not a port, closed).
/// Memory and lifetimes: the port lives until `CloseHandle`; an associated socket stays
/// associated until it is closed.
///
/// # Compatibility
/// Only sockets can be associated (there are no file handles). A thread counts as
/// running on the port from the packet it dequeues until it dequeues again or exits;
/// Windows also stops counting it while it blocks elsewhere, which user space cannot
/// see (see the crate's README).
///
/// # Safety
/// Always safe to call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn CreateIoCompletionPort(
    file: HANDLE,
    existing: HANDLE,
    key: usize,
    threads: DWORD,
) -> HANDLE {
    guard(std::ptr::null_mut(), || {
        if file as usize == usize::MAX {
            if !existing.is_null() {
                return Err(win32::ERROR_INVALID_PARAMETER);
            }
            return Ok(new_port(threads)?.1 as HANDLE);
        }
        let entry = match handles::get(file as usize) {
            Some(Object::Socket(s)) => s,
            _ => return Err(win32::ERROR_INVALID_HANDLE),
        };
        let (obj, h, created) = if existing.is_null() {
            let (obj, h) = new_port(threads)?;
            (obj, h, true)
        } else {
            (port(existing)?, existing as usize, false)
        };
        let undo = |code: u32| {
            if created {
                close_port(h);
            }
            Err(code)
        };
        if entry.iocp.port.set(Arc::clone(&obj)).is_err() {
            return undo(win32::ERROR_INVALID_PARAMETER);
        }
        match obj.port.associate(&entry.sock, key) {
            Ok(()) => Ok(h as HANDLE),
            Err(WsaError::WSAEINVAL) => undo(win32::ERROR_INVALID_PARAMETER),
            Err(_) => undo(win32::ERROR_INVALID_HANDLE),
        }
    })
}

fn timeout(ms: DWORD) -> Option<Duration> {
    (ms != c::INFINITE).then(|| Duration::from_millis(ms.into()))
}

/// Dequeues up to `max` packets of C operations or hand posts, with their C pointers.
fn dequeue(
    p: &PortObj,
    max: usize,
    ms: DWORD,
    alertable: bool,
) -> Result<Vec<(Packet, usize)>, DequeueError> {
    let deadline = timeout(ms).map(|d| Instant::now() + d);
    loop {
        let left = deadline.map(|d| d.saturating_duration_since(Instant::now()));
        let got: Vec<(Packet, usize)> = p
            .port
            .dequeue_many(max, left, alertable)?
            .into_iter()
            .filter_map(|pk| c_pointer_of(&pk).map(|c| (pk, c)))
            .collect();
        if !got.is_empty() {
            return Ok(got);
        }
        // Only packets of no C operation (none are expected): wait on.
        if deadline.is_some_and(|d| Instant::now() >= d) {
            return Err(DequeueError::Timeout);
        }
    }
}

/// The Win32 result of a packet: 0 for `NT_SUCCESS` (warnings are failures, as on
/// Windows: `STATUS_BUFFER_OVERFLOW` gives `ERROR_MORE_DATA`).
fn packet_error(p: &Packet) -> u32 {
    let s: NtStatus = p.status();
    if s == NtStatus::SUCCESS || (s.0 as i32 >= 0 && s != NtStatus::PENDING) {
        0
    } else {
        s.to_win32()
    }
}

fn dword(n: usize) -> DWORD {
    DWORD::try_from(n).unwrap_or(DWORD::MAX)
}

/// `BOOL GetQueuedCompletionStatus(HANDLE CompletionPort, LPDWORD
/// lpNumberOfBytesTransferred, PULONG_PTR lpCompletionKey, LPOVERLAPPED *lpOverlapped,
/// DWORD dwMilliseconds)`: waits (non-alertably) for one packet.
///
/// Returns TRUE for a successful operation or a hand post (bytes, key and overlapped
/// written; the last error is left alone). FALSE with `*lpOverlapped` non-NULL: a failed
/// operation was dequeued, bytes and key are written, the last error is its Win32 code
/// (`ERROR_NETNAME_DELETED` for a reset connection, `ERROR_CONNECTION_ABORTED` for a
/// receive closed by `closesocket`, `ERROR_OPERATION_ABORTED` for a cancelled one,
/// ...). FALSE with `*lpOverlapped` NULL: nothing was dequeued, and the last error is
/// `WAIT_TIMEOUT` (bytes and key untouched), `ERROR_ABANDONED_WAIT_0` (the port was
/// closed before or during the wait), `ERROR_INVALID_HANDLE` or
/// `ERROR_INVALID_PARAMETER` (a NULL out-pointer; nothing is dequeued).
///
/// Parameters: a port, the three out-pointers, a timeout in ms (`INFINITE`).
/// Memory and lifetimes: the out-pointers are written before return.
///
/// # Compatibility
/// Windows faults (or reports `ERROR_NOACCESS`) on a NULL out-pointer; here it is
/// `ERROR_INVALID_PARAMETER`.
///
/// # Safety
/// Non-null pointers must be valid for writes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn GetQueuedCompletionStatus(
    port_h: HANDLE,
    bytes: *mut DWORD,
    key: *mut usize,
    ov: *mut *mut OVERLAPPED,
    ms: DWORD,
) -> BOOL {
    let clear = || {
        if crate::handles::check_out(ov).is_ok() {
            // SAFETY: checked writable.
            unsafe { ov.write(std::ptr::null_mut()) };
        }
    };
    guard(FALSE, || {
        let p = port(port_h).inspect_err(|_| clear())?;
        if bytes.is_null() || key.is_null() || ov.is_null() {
            clear();
            return Err(win32::ERROR_INVALID_PARAMETER);
        }
        // Windows: ERROR_NOACCESS for out-parameters it cannot write.
        if crate::handles::check_out(bytes)
            .and(crate::handles::check_out(key))
            .and(crate::handles::check_out(ov))
            .is_err()
        {
            return Err(win32::ERROR_NOACCESS);
        }
        match dequeue(&p, 1, ms, false) {
            Ok(mut got) => {
                let Some((pk, c_ov)) = got.pop() else {
                    clear();
                    return Err(DequeueError::Timeout.code());
                };
                // SAFETY: non-null and writable (checked; the contract).
                unsafe { bytes.write(dword(pk.bytes)) };
                // SAFETY: as above.
                unsafe { key.write(pk.key) };
                // SAFETY: as above.
                unsafe { ov.write(c_ov as *mut OVERLAPPED) };
                match packet_error(&pk) {
                    0 => Ok(TRUE),
                    code => Err(code),
                }
            }
            Err(e) => {
                clear();
                Err(e.code())
            }
        }
    })
}

/// `BOOL GetQueuedCompletionStatusEx(HANDLE CompletionPort, LPOVERLAPPED_ENTRY
/// lpCompletionPortEntries, ULONG ulCount, PULONG ulNumEntriesRemoved, DWORD
/// dwMilliseconds, BOOL fAlertable)`: dequeues up to `ulCount` packets at once, oldest
/// first.
///
/// Returns TRUE with at least one entry (a failed operation is an entry too: its
/// `lpOverlapped->Internal` holds the NTSTATUS, and the entry's `Internal` too).
/// FALSE with `*ulNumEntriesRemoved` = 0 and the last error `WAIT_TIMEOUT`,
/// `WAIT_IO_COMPLETION` (alertable, and this thread's completion routines ran),
/// `ERROR_ABANDONED_WAIT_0` (port closed), `ERROR_INVALID_HANDLE`, or
/// `ERROR_INVALID_PARAMETER` (a NULL array or count pointer, or `ulCount` 0).
///
/// Parameters: a port, the entry array and its length, where to write the count, a
/// timeout in ms, `fAlertable`.
/// Memory and lifetimes: at most `ulCount` entries are written before return.
///
/// # Safety
/// `lpCompletionPortEntries` must have room for `ulCount` entries; `ulNumEntriesRemoved`
/// null or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn GetQueuedCompletionStatusEx(
    port_h: HANDLE,
    entries: *mut OVERLAPPED_ENTRY,
    count: ULONG,
    removed: *mut ULONG,
    ms: DWORD,
    alertable: BOOL,
) -> BOOL {
    guard(FALSE, || {
        if crate::handles::check_out(removed).is_ok() {
            // SAFETY: checked writable.
            unsafe { removed.write(0) };
        }
        let p = port(port_h)?;
        if entries.is_null() || removed.is_null() || count == 0 {
            return Err(win32::ERROR_INVALID_PARAMETER);
        }
        if crate::handles::check_out(removed).is_err()
            // The first entry: how many are written depends on what is dequeued.
            || crate::handles::check_out(entries).is_err()
        {
            return Err(win32::ERROR_NOACCESS);
        }
        let got = dequeue(&p, count as usize, ms, alertable != 0).map_err(DequeueError::code)?;
        let n = got.len().min(count as usize);
        for (i, (pk, c_ov)) in got.into_iter().take(n).enumerate() {
            let e = OVERLAPPED_ENTRY {
                lpCompletionKey: pk.key,
                lpOverlapped: c_ov as *mut OVERLAPPED,
                Internal: pk.status().0 as usize,
                dwNumberOfBytesTransferred: dword(pk.bytes),
            };
            // SAFETY: `i < n <= count`, and the array has `count` entries (the contract).
            let slot = unsafe { entries.add(i) };
            // SAFETY: as above: a writable entry of the array.
            unsafe { slot.write(e) };
        }
        // SAFETY: non-null and writable (checked; the contract).
        unsafe { removed.write(dword(n)) };
        Ok(TRUE)
    })
}

/// `BOOL PostQueuedCompletionStatus(HANDLE CompletionPort, DWORD
/// dwNumberOfBytesTransferred, ULONG_PTR dwCompletionKey, LPOVERLAPPED lpOverlapped)`:
/// queues a packet that a dequeue returns exactly (TRUE, the bytes, the key, the
/// pointer). The pointer is never dereferenced (NULL is the usual "stop" message).
///
/// Parameters: a port and the packet's three values.
/// Returns: TRUE, or FALSE with `ERROR_INVALID_HANDLE` (not an open port).
/// Memory and lifetimes: nothing is read through `lpOverlapped`.
///
/// # Safety
/// Always safe to call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn PostQueuedCompletionStatus(
    port_h: HANDLE,
    bytes: DWORD,
    key: usize,
    ov: *mut OVERLAPPED,
) -> BOOL {
    guard(FALSE, || {
        let p = port(port_h)?;
        let posted = if ov.is_null() {
            p.port.post(bytes as usize, key, None)
        } else {
            let rec = Arc::new(Overlapped::new());
            insert_expected(&rec, ov as usize, Some(Arc::clone(&p)));
            let ok = p.port.post(bytes as usize, key, Some(&rec));
            if !ok {
                forget(&rec);
            }
            ok
        };
        if posted {
            Ok(TRUE)
        } else {
            Err(win32::ERROR_INVALID_HANDLE)
        }
    })
}

/// `BOOL SetFileCompletionNotificationModes(HANDLE FileHandle, UCHAR Flags)`:
/// `FILE_SKIP_COMPLETION_PORT_ON_SUCCESS` (no packet for an operation that succeeds
/// during its call; pending ones and failures still post) and
/// `FILE_SKIP_SET_EVENT_ON_HANDLE` (completions with a NULL `hEvent` do not signal the
/// socket handle). Modes cannot be removed once set.
///
/// Parameters: a socket, the flags.
/// Returns: TRUE, or FALSE with `ERROR_INVALID_HANDLE` (not a socket) or
/// `ERROR_INVALID_PARAMETER` (unknown flags).
/// Memory and lifetimes: nothing is kept.
///
/// # Safety
/// Always safe to call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn SetFileCompletionNotificationModes(file: HANDLE, flags: u8) -> BOOL {
    guard(FALSE, || {
        let entry = match handles::get(file as usize) {
            Some(Object::Socket(s)) => s,
            _ => return Err(win32::ERROR_INVALID_HANDLE),
        };
        if flags & !(FILE_SKIP_COMPLETION_PORT_ON_SUCCESS | FILE_SKIP_SET_EVENT_ON_HANDLE) != 0 {
            return Err(win32::ERROR_INVALID_PARAMETER);
        }
        if flags & FILE_SKIP_COMPLETION_PORT_ON_SUCCESS != 0 {
            entry
                .sock
                .set_skip_completion_port_on_success(true)
                .map_err(|_| win32::ERROR_INVALID_HANDLE)?;
        }
        if flags & FILE_SKIP_SET_EVENT_ON_HANDLE != 0 {
            entry.iocp.skip_set_event.store(true, Ordering::Release);
        }
        Ok(TRUE)
    })
}

/// `ERROR_ABANDONED_WAIT_0`, as the library names it.
const _: () = assert!(DequeueError::ERROR_ABANDONED_WAIT_0 == win32::ERROR_ABANDONED_WAIT_0);
const _: () = assert!(FALSE == 0);
