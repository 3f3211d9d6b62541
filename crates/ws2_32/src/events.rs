//! Event objects and waits: `WSACreateEvent`, `WSACloseEvent`, `WSASetEvent`,
//! `WSAResetEvent`, `WSAWaitForMultipleEvents`, `CreateEvent`, `SetEvent`,
//! `ResetEvent`, `CloseHandle`, `WaitForSingleObject(Ex)`,
//! `WaitForMultipleObjects(Ex)`, `Sleep`, `SleepEx`, and the event-select model
//! (`WSAEventSelect`, `WSAEnumNetworkEvents`).

use std::cell::Cell;
use std::sync::{Arc, Weak};
use std::time::Duration;

use overlapped::{Event, Overlapped, Readiness, SleepOutcome, WaitOutcome, WaitReady, WsaError};

use crate::handles::{self, Object, SockEntry, guard, started, ws_guard};
use crate::types::{
    BOOL, DWORD, FALSE, HANDLE, SOCKET, SOCKET_ERROR, TRUE, WSANETWORKEVENTS, c, win32,
};

fn err(e: WsaError) -> u32 {
    e.code()
}

fn timeout(ms: DWORD) -> Option<Duration> {
    (ms != c::INFINITE).then(|| Duration::from_millis(ms.into()))
}

/// `WSAEVENT WSACreateEvent(void)`: a manual-reset event, initially not signalled.
/// Returns `WSA_INVALID_EVENT` (NULL) on failure.
///
/// Parameters: none.
/// Memory and lifetimes: the event lives until `WSACloseEvent`/`CloseHandle`; operations that name it keep it alive until they complete.
///
/// # Safety
/// Always safe to call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn WSACreateEvent() -> HANDLE {
    guard(std::ptr::null_mut(), || {
        Ok(handles::insert(Object::Event(Event::new_manual()))? as HANDLE)
    })
}

/// `HANDLE CreateEventA(LPSECURITY_ATTRIBUTES, BOOL bManualReset, BOOL bInitialState,
/// LPCSTR lpName)`: named events are not supported (the name is ignored).
///
/// Parameters: `bManualReset`, `bInitialState`; the security attributes and the name are ignored.
/// Returns: the event handle, or NULL with `WSA_NOT_ENOUGH_MEMORY`-style failure (out of handles: `WSAEMFILE`).
/// Memory and lifetimes: no pointer is read; the event lives until `CloseHandle`.
///
/// # Safety
/// Reads nothing through its pointers.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn CreateEventA(
    _sa: *mut libc::c_void,
    manual: BOOL,
    initial: BOOL,
    _name: *const u8,
) -> HANDLE {
    guard(std::ptr::null_mut(), || {
        Ok(handles::insert(Object::Event(Event::with_mode(manual != 0, initial != 0)))? as HANDLE)
    })
}

/// `CreateEventW`: as [`CreateEventA`].
///
/// Parameters: as `CreateEventA`.
/// Returns: as `CreateEventA`.
/// Memory and lifetimes: as `CreateEventA`.
///
/// # Safety
/// Reads nothing through its pointers.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn CreateEventW(
    sa: *mut libc::c_void,
    manual: BOOL,
    initial: BOOL,
    _name: *const u16,
) -> HANDLE {
    // SAFETY: CreateEventA reads nothing through its pointers.
    unsafe { CreateEventA(sa, manual, initial, std::ptr::null()) }
}

fn bool_call(h: HANDLE, f: impl FnOnce(&Event)) -> BOOL {
    guard(FALSE, || {
        let e = handles::event(h as usize)?;
        f(&e);
        Ok(TRUE)
    })
}

/// `BOOL WSASetEvent(WSAEVENT hEvent)`; FALSE with `WSA_INVALID_HANDLE` for a bad handle.
///
/// Parameters: an event handle.
/// Returns: TRUE, or FALSE with `WSA_INVALID_HANDLE`.
/// Memory and lifetimes: nothing is kept.
///
/// # Safety
/// Always safe to call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn WSASetEvent(h: HANDLE) -> BOOL {
    bool_call(h, Event::set)
}

/// `BOOL WSAResetEvent(WSAEVENT hEvent)`.
///
/// Parameters: an event handle.
/// Returns: TRUE, or FALSE with `WSA_INVALID_HANDLE`.
/// Memory and lifetimes: nothing is kept.
///
/// # Safety
/// Always safe to call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn WSAResetEvent(h: HANDLE) -> BOOL {
    bool_call(h, Event::reset)
}

/// `BOOL SetEvent(HANDLE)`.
///
/// Parameters: an event handle.
/// Returns: TRUE, or FALSE with `ERROR_INVALID_HANDLE` (6).
/// Memory and lifetimes: nothing is kept.
///
/// # Safety
/// Always safe to call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn SetEvent(h: HANDLE) -> BOOL {
    bool_call(h, Event::set)
}

/// `BOOL ResetEvent(HANDLE)`.
///
/// Parameters: an event handle.
/// Returns: TRUE, or FALSE with `ERROR_INVALID_HANDLE` (6).
/// Memory and lifetimes: nothing is kept.
///
/// # Safety
/// Always safe to call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ResetEvent(h: HANDLE) -> BOOL {
    bool_call(h, Event::reset)
}

/// `BOOL WSACloseEvent(WSAEVENT hEvent)`. Operations still pending with this event keep
/// their own reference, so closing it early is safe.
///
/// Parameters: an event handle.
/// Returns: TRUE, or FALSE with `WSA_INVALID_HANDLE`.
/// Memory and lifetimes: the handle value is invalid afterwards (and may be reused).
///
/// # Safety
/// Always safe to call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn WSACloseEvent(h: HANDLE) -> BOOL {
    guard(FALSE, || match handles::get(h as usize) {
        Some(Object::Event(_)) => {
            handles::remove(h as usize);
            Ok(TRUE)
        }
        _ => Err(err(WsaError::WSA_INVALID_HANDLE)),
    })
}

/// `BOOL CloseHandle(HANDLE)`: closes an event, a socket (as `closesocket`), a
/// completion port (threads waiting on it return `ERROR_ABANDONED_WAIT_0`, queued packets
/// are dropped) or a thread handle (the thread keeps running).
///
/// Parameters: an event, socket, completion port or thread handle.
/// Returns: TRUE, or FALSE with `ERROR_INVALID_HANDLE`.
/// Memory and lifetimes: the handle value is invalid afterwards (and may be reused).
///
/// # Safety
/// Always safe to call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn CloseHandle(h: HANDLE) -> BOOL {
    guard(FALSE, || match handles::get(h as usize) {
        // SAFETY: always safe.
        Some(Object::Event(_)) => Ok(unsafe { WSACloseEvent(h) }),
        Some(Object::Socket(_)) => {
            // SAFETY: always safe.
            Ok(BOOL::from(
                unsafe { crate::sockets::closesocket(h as SOCKET) } == 0,
            ))
        }
        Some(Object::Port(_)) => {
            crate::iocp::close_port(h as usize);
            Ok(TRUE)
        }
        Some(Object::Thread(_)) => {
            handles::remove(h as usize);
            Ok(TRUE)
        }
        Some(Object::SocketFile(_)) => {
            if let Some(Object::SocketFile(s)) = handles::remove(h as usize) {
                crate::sockets::release(s);
            }
            Ok(TRUE)
        }
        None => Err(win32::ERROR_INVALID_HANDLE),
    })
}

/// The event a wait on handle `h` waits for: an event, a socket's signal, or a thread's
/// exit.
fn waitable(h: usize) -> Result<Event, u32> {
    match handles::get(h) {
        Some(Object::Event(e)) => Ok(e),
        Some(Object::Socket(s) | Object::SocketFile(s)) => Ok(s.signal.clone()),
        // Signalled once the thread has exited.
        Some(Object::Thread(t)) => Ok(t.exited().clone()),
        Some(Object::Port(_)) | None => Err(err(WsaError::WSA_INVALID_HANDLE)),
    }
}

fn wait_many(
    count: DWORD,
    handles_ptr: *const HANDLE,
    all: BOOL,
    ms: DWORD,
    alertable: BOOL,
) -> Result<DWORD, u32> {
    if count == 0 || count as usize > overlapped::MAXIMUM_WAIT_EVENTS {
        return Err(err(WsaError::WSA_INVALID_PARAMETER));
    }
    if handles_ptr.is_null() {
        return Err(err(WsaError::WSA_INVALID_PARAMETER));
    }
    // SAFETY: `count` readable handles (the callers' contracts).
    let hs = unsafe { std::slice::from_raw_parts(handles_ptr, count as usize) };
    let events: Vec<Event> = hs
        .iter()
        .map(|&h| waitable(h as usize))
        .collect::<Result<_, _>>()?;
    let refs: Vec<&Event> = events.iter().collect();
    let outcome = if all != 0 {
        overlapped::wait_all(&refs, timeout(ms), alertable != 0)
    } else {
        overlapped::wait_any(&refs, timeout(ms), alertable != 0)
    }
    .map_err(err)?;
    Ok(match outcome {
        WaitOutcome::Signaled(i) => c::WAIT_OBJECT_0 + u32::try_from(i).unwrap_or(0),
        WaitOutcome::IoCompletion => c::WAIT_IO_COMPLETION,
        WaitOutcome::Timeout => c::WAIT_TIMEOUT,
    })
}

/// `DWORD WSAWaitForMultipleEvents(DWORD cEvents, const WSAEVENT *lphEvents, BOOL
/// fWaitAll, DWORD dwTimeout, BOOL fAlertable)`.
///
/// Returns `WSA_WAIT_EVENT_0 + i` (the lowest signalled index, or 0 with `fWaitAll`),
/// `WSA_WAIT_IO_COMPLETION` (alertable, and completion routines ran), `WSA_WAIT_TIMEOUT`,
/// or `WSA_WAIT_FAILED` with `WSA_INVALID_PARAMETER` (0 or more than 64 events, a
/// duplicate with `fWaitAll`) or `WSA_INVALID_HANDLE`. Auto-reset events that release
/// the wait are reset. Socket handles may be waited on too (signalled by completions of
/// operations posted with a NULL `hEvent`).
///
/// Parameters: `cEvents` (1..=64) handles at `lphEvents` (events, or sockets), `fWaitAll`, `dwTimeout` in ms (`WSA_INFINITE`), `fAlertable`.
/// Memory and lifetimes: the array is read during the call only.
///
/// # Safety
/// `lphEvents` must point to `cEvents` handles.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn WSAWaitForMultipleEvents(
    count: DWORD,
    events: *const HANDLE,
    all: BOOL,
    ms: DWORD,
    alertable: BOOL,
) -> DWORD {
    guard(c::WAIT_FAILED, || {
        wait_many(count, events, all, ms, alertable)
    })
}

/// `DWORD WaitForMultipleObjectsEx(DWORD nCount, const HANDLE *lpHandles, BOOL
/// bWaitAll, DWORD dwMilliseconds, BOOL bAlertable)`: as [`WSAWaitForMultipleEvents`].
///
/// Parameters: as `WSAWaitForMultipleEvents`.
/// Returns: as `WSAWaitForMultipleEvents` (`WAIT_OBJECT_0 + i`, `WAIT_IO_COMPLETION`, `WAIT_TIMEOUT`, `WAIT_FAILED`).
/// Memory and lifetimes: the array is read during the call only.
///
/// # Safety
/// `lpHandles` must point to `nCount` handles.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn WaitForMultipleObjectsEx(
    count: DWORD,
    hs: *const HANDLE,
    all: BOOL,
    ms: DWORD,
    alertable: BOOL,
) -> DWORD {
    guard(c::WAIT_FAILED, || wait_many(count, hs, all, ms, alertable))
}

/// `DWORD WaitForMultipleObjects(DWORD nCount, const HANDLE *lpHandles, BOOL bWaitAll,
/// DWORD dwMilliseconds)`.
///
/// Parameters: as `WSAWaitForMultipleEvents`, never alertable.
/// Returns: as `WaitForMultipleObjectsEx`.
/// Memory and lifetimes: the array is read during the call only.
///
/// # Safety
/// `lpHandles` must point to `nCount` handles.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn WaitForMultipleObjects(
    count: DWORD,
    hs: *const HANDLE,
    all: BOOL,
    ms: DWORD,
) -> DWORD {
    guard(c::WAIT_FAILED, || wait_many(count, hs, all, ms, FALSE))
}

/// `DWORD WaitForSingleObjectEx(HANDLE hHandle, DWORD dwMilliseconds, BOOL bAlertable)`.
///
/// Parameters: an event, socket or thread handle, a timeout in ms, `bAlertable`.
/// Returns: `WAIT_OBJECT_0`, `WAIT_IO_COMPLETION`, `WAIT_TIMEOUT` or `WAIT_FAILED`.
/// Memory and lifetimes: nothing is kept.
///
/// # Safety
/// Always safe to call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn WaitForSingleObjectEx(h: HANDLE, ms: DWORD, alertable: BOOL) -> DWORD {
    guard(c::WAIT_FAILED, || {
        wait_many(1, &raw const h, FALSE, ms, alertable)
    })
}

/// `DWORD WaitForSingleObject(HANDLE hHandle, DWORD dwMilliseconds)`.
///
/// Parameters: an event, socket or thread handle, a timeout in ms.
/// Returns: `WAIT_OBJECT_0`, `WAIT_TIMEOUT` or `WAIT_FAILED`.
/// Memory and lifetimes: nothing is kept.
///
/// # Safety
/// Always safe to call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn WaitForSingleObject(h: HANDLE, ms: DWORD) -> DWORD {
    guard(c::WAIT_FAILED, || {
        wait_many(1, &raw const h, FALSE, ms, FALSE)
    })
}

/// `void Sleep(DWORD dwMilliseconds)`: a non-alertable sleep (completion routines do
/// not run).
///
/// Parameters: milliseconds (`INFINITE` sleeps forever).
/// Returns: nothing.
/// Memory and lifetimes: nothing is kept.
///
/// # Safety
/// Always safe to call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn Sleep(ms: DWORD) {
    guard((), || {
        match timeout(ms) {
            Some(d) => overlapped::sleep(d),
            None => loop {
                overlapped::sleep(Duration::from_secs(3600));
            },
        }
        Ok(())
    });
}

/// `DWORD SleepEx(DWORD dwMilliseconds, BOOL bAlertable)`: returns 0 when the time
/// passed, `WAIT_IO_COMPLETION` when alertable and completion routines ran.
///
/// Parameters: milliseconds (`INFINITE`), `bAlertable`.
/// Returns: 0 or `WAIT_IO_COMPLETION`.
/// Memory and lifetimes: nothing is kept; queued completion routines run on this thread.
///
/// # Safety
/// Always safe to call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn SleepEx(ms: DWORD, alertable: BOOL) -> DWORD {
    guard(0, || {
        if alertable == 0 {
            // SAFETY: always safe.
            unsafe { Sleep(ms) };
            return Ok(0);
        }
        Ok(match overlapped::sleep_alertable(timeout(ms)) {
            SleepOutcome::IoCompletion => c::WAIT_IO_COMPLETION,
            SleepOutcome::Timeout => 0,
        })
    })
}

thread_local! {
    /// How deeply `arm` is nested on this thread (a readiness callback that runs at
    /// once re-enters it).
    static ARM_DEPTH: Cell<u32> = const { Cell::new(0) };
}

/// A socket's `WSAEventSelect` association.
#[derive(Debug)]
pub(crate) struct EventSelect {
    event: Event,
    mask: i32,
    /// Events recorded and not yet reported by `WSAEnumNetworkEvents`.
    pending: i32,
    errors: [i32; 10],
    /// Bumped on every re-association, so stale readiness callbacks are ignored.
    generation: u64,
    /// FD_WRITE / FD_CONNECT still to be reported (once, until a send would block).
    want_write: bool,
    /// FD_READ / FD_ACCEPT / FD_OOB may be recorded: false from the moment one is
    /// recorded until the application calls the re-enabling function (`recv`,
    /// `recvfrom`, `WSARecv`, `accept`), as on Windows.
    read_enabled: bool,
    /// FD_CLOSE has been recorded (it is recorded once).
    close_reported: bool,
    /// `connect` was called: only then is a stream socket's writability news (before
    /// it, Linux reports an unconnected socket writable and hung up at once).
    connecting: bool,
    /// A readiness wait is posted.
    armed: bool,
}

fn bit_index(bit: i32) -> usize {
    bit.trailing_zeros() as usize
}

fn lock_select(entry: &SockEntry) -> std::sync::MutexGuard<'_, Option<EventSelect>> {
    entry.select.lock().unwrap_or_else(|e| e.into_inner())
}

/// Whether `WSAEventSelect` has the socket (a non-empty mask): it is then non-blocking
/// and cannot be made blocking (`FIONBIO` of 0 is `WSAEINVAL`, as on Windows).
pub(crate) fn event_select_active(entry: &SockEntry) -> bool {
    lock_select(entry).as_ref().is_some_and(|sel| sel.mask != 0)
}

/// Arms one readiness wait for the socket's event-select mask (if none is armed). The
/// post happens outside the select lock: its callback may run before the post returns.
fn arm(entry: &Arc<SockEntry>) {
    let (interest, generation) = {
        let mut guard = lock_select(entry);
        let Some(sel) = guard.as_mut() else { return };
        let read = sel.read_enabled
            && !sel.close_reported
            && sel.mask & (c::FD_READ | c::FD_ACCEPT | c::FD_CLOSE | c::FD_OOB) != 0;
        let write = sel.want_write
            && sel.mask & (c::FD_WRITE | c::FD_CONNECT) != 0
            && (sel.connecting || !entry.sock.is_stream() || entry.sock.peer_addr().is_ok());
        if sel.armed || (!read && !write) {
            return;
        }
        // A readiness that repeats without news re-arms from its own callback; bound
        // the nesting (the next WSAEnumNetworkEvents, recv or send re-arms anyway).
        if ARM_DEPTH.with(Cell::get) > 4 {
            return;
        }
        sel.armed = true;
        let priority = sel.mask & c::FD_OOB != 0;
        (
            Readiness {
                read,
                write,
                priority,
                ..Readiness::default()
            },
            sel.generation,
        )
    };
    let weak: Weak<SockEntry> = Arc::downgrade(entry);
    // Internal: never a completion packet, even on a socket associated with a port.
    let ov = Overlapped::with_event_no_port(&Event::new_manual());
    ARM_DEPTH.with(|d| d.set(d.get() + 1));
    let posted = WaitReady::new(&entry.sock, interest).post_with_callback(&ov, move |c| {
        if let Some(entry) = weak.upgrade() {
            on_ready(&entry, generation, c.result.ok().map(|_| c.output));
        }
    });
    ARM_DEPTH.with(|d| d.set(d.get() - 1));
    if posted.is_err()
        && let Some(sel) = lock_select(entry)
            .as_mut()
            .filter(|s| s.generation == generation)
    {
        sel.armed = false;
    }
}

/// Turns readiness into network events and signals the association's event.
fn on_ready(entry: &Arc<SockEntry>, generation: u64, ready: Option<Readiness>) {
    let rearm = {
        let mut guard = lock_select(entry);
        let Some(sel) = guard.as_mut() else { return };
        if sel.generation != generation {
            return;
        }
        sel.armed = false;
        // Cancelled (the socket closed): nothing to report.
        let Some(r) = ready else { return };
        let events = network_events(entry, sel, r);
        let mut report = events & sel.mask;
        if sel.close_reported {
            report &= !c::FD_CLOSE;
        }
        if report & (c::FD_READ | c::FD_ACCEPT | c::FD_OOB) != 0 {
            sel.read_enabled = false;
        }
        if report & c::FD_CLOSE != 0 {
            sel.close_reported = true;
        }
        sel.pending |= report;
        if report != 0 {
            sel.event.set();
            false
        } else {
            // Nothing the mask asks for (say, data while only FD_CLOSE is wanted): wait
            // for the next change only if the readiness will not repeat at once.
            events & (c::FD_READ | c::FD_ACCEPT) == 0
        }
    };
    if rearm {
        arm(entry);
    }
}

/// Whether a connected stream socket that polled readable with nothing queued is at the
/// end of its stream (the peer's FIN), rather than had its data taken by a `recv` on
/// another thread between the readiness and this look: a non-blocking peek reads 0 only
/// at the end of the stream.
fn at_end_of_stream(entry: &SockEntry) -> bool {
    if !entry.sock.is_nonblocking() {
        // (WSAEventSelect makes the socket non-blocking; a peek must never block here.)
        return true;
    }
    let mut b = [0u8; 1];
    matches!(
        entry
            .sock
            .recv_with_flags(&mut b, overlapped::ops::flags::MSG_PEEK),
        Ok(0)
    )
}

fn network_events(entry: &SockEntry, sel: &mut EventSelect, r: Readiness) -> i32 {
    let mut events = 0;
    let connected = entry.sock.peer_addr().is_ok();
    // Asked of the socket: a stream socket whose connection has ended (both sides shut
    // down) is no longer connected, and must not pass for a listener (its FD_CLOSE
    // would become FD_ACCEPT).
    let listening = entry.sock.is_stream() && !connected && {
        let mut v = [0u8; 4];
        entry
            .sock
            .option_bytes(libc::SOL_SOCKET, libc::SO_ACCEPTCONN, &mut v)
            .is_ok_and(|_| i32::from_ne_bytes(v) != 0)
    };
    if r.read || r.hangup || r.error {
        if listening && r.read {
            events |= c::FD_ACCEPT;
        } else {
            let queued = matches!(
                overlapped::Ioctl::FionRead.run(&entry.sock),
                Ok(overlapped::IoctlOutput::Value(n)) if n > 0
            );
            if queued {
                events |= c::FD_READ;
            } else if r.hangup || r.error || (connected && at_end_of_stream(entry)) {
                events |= c::FD_CLOSE;
                if r.error {
                    sel.errors[bit_index(c::FD_CLOSE)] = WsaError::WSAECONNABORTED.code() as i32;
                }
            }
        }
    }
    if (r.write || r.error) && sel.want_write {
        if connected || !entry.sock.is_stream() {
            events |= c::FD_CONNECT | c::FD_WRITE;
            sel.want_write = false;
        } else if r.error {
            events |= c::FD_CONNECT;
            let code = entry
                .sock
                .take_error()
                .ok()
                .flatten()
                .map_or(0, |e| e.code() as i32);
            sel.errors[bit_index(c::FD_CONNECT)] = code;
            sel.want_write = false;
        }
    }
    events
}

/// `int WSAEventSelect(SOCKET s, WSAEVENT hEventObject, long lNetworkEvents)`:
/// associates network events (`FD_READ`, `FD_WRITE`, `FD_ACCEPT`, `FD_CONNECT`,
/// `FD_CLOSE`, `FD_OOB`) with an event object and makes the socket non-blocking. A zero
/// mask cancels the association.
///
/// Parameters: a socket, an event (NULL or a zero mask cancels), the `FD_*` mask.
/// Returns: 0, or `SOCKET_ERROR` with `WSANOTINITIALISED`, `WSAENOTSOCK`, `WSA_INVALID_HANDLE`.
/// Memory and lifetimes: the association keeps its own reference to the event.
///
/// # Compatibility
/// As on Windows, `FD_READ`/`FD_ACCEPT` are re-enabled by the next `recv`/`WSARecv`/
/// `accept` (and recorded again if data or connections remain); `FD_CLOSE` is recorded
/// once; `FD_WRITE` is reported after connecting and again after a `send` would block.
/// A pending overlapped `WSARecv` does not hide the data it will take from `FD_READ`.
///
/// # Safety
/// Always safe to call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn WSAEventSelect(s: SOCKET, h: HANDLE, mask: libc::c_long) -> i32 {
    ws_guard(SOCKET_ERROR, || {
        let mask = (mask & 0x3FF) as i32;
        started()?;
        let entry = handles::socket(s)?;
        let event = if mask == 0 || h.is_null() {
            None
        } else {
            Some(handles::event(h as usize)?)
        };
        {
            let mut guard = lock_select(&entry);
            let generation = guard.as_ref().map_or(0, |g| g.generation + 1);
            *guard = event.map(|event| EventSelect {
                event,
                mask,
                pending: 0,
                errors: [0; 10],
                generation,
                want_write: true,
                read_enabled: true,
                close_reported: false,
                connecting: false,
                armed: false,
            });
        }
        if mask != 0 && !h.is_null() {
            entry.sock.set_nonblocking(true);
            arm(&entry);
        }
        Ok(0)
    })
}

/// `int WSAEnumNetworkEvents(SOCKET s, WSAEVENT hEventObject, LPWSANETWORKEVENTS
/// lpNetworkEvents)`: reports and clears the recorded network events (with their error
/// codes), resets `hEventObject` if given, and re-enables the association.
///
/// Parameters: a socket, an event to reset (or NULL), the record to fill.
/// Returns: 0, or `SOCKET_ERROR` with `WSAENOTSOCK`, `WSAEFAULT`, `WSA_INVALID_HANDLE`.
/// Memory and lifetimes: `lpNetworkEvents` is written before return; nothing is kept.
///
/// # Safety
/// `lpNetworkEvents` must point to a writable `WSANETWORKEVENTS`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn WSAEnumNetworkEvents(
    s: SOCKET,
    h: HANDLE,
    out: *mut WSANETWORKEVENTS,
) -> i32 {
    ws_guard(SOCKET_ERROR, || {
        started()?;
        let entry = handles::socket(s)?;
        handles::check_out(out)?;
        if !h.is_null() {
            handles::event(h as usize)?.reset();
        }
        let (events, errors) = match lock_select(&entry).as_mut() {
            Some(sel) => {
                let r = (sel.pending, sel.errors);
                sel.pending = 0;
                sel.errors = [0; 10];
                r
            }
            None => (0, [0; 10]),
        };
        arm(&entry);
        // Windows writes the error slot of each reported event only, and leaves the
        // others as they were (Wine's test_WSAEnumNetworkEvents).
        let slot = out.cast::<u8>();
        let first = std::mem::offset_of!(WSANETWORKEVENTS, iErrorCode);
        // SAFETY: checked writable above (the whole structure).
        unsafe { slot.cast::<i32>().write_unaligned(events) };
        for (i, code) in errors.iter().enumerate() {
            if events & (1 << i) != 0 {
                let at = slot
                    .wrapping_add(first + i * size_of::<i32>())
                    .cast::<i32>();
                // SAFETY: slot `i` of `iErrorCode`, inside the checked structure.
                unsafe { at.write_unaligned(*code) };
            }
        }
        Ok(0)
    })
}

/// Re-enables `FD_READ`/`FD_ACCEPT` after the application read or accepted (called by
/// `recv`, `recvfrom`, `WSARecv`, `WSARecvFrom` and `accept` once they return): if data
/// or connections remain, the event is signalled again.
///
/// As on Windows, the call also withdraws an `FD_READ`/`FD_ACCEPT` recorded and not yet
/// reported: it described data or connections the call may just have taken, and is
/// recorded anew if some remain. Otherwise a program that reads until `WSAEWOULDBLOCK`
/// would see `FD_READ` for data it already read, and its first `recv` would fail
/// (Wine's event_client: "First read must succeed").
pub(crate) fn read_called(entry: &Arc<SockEntry>) {
    let rearm = match lock_select(entry).as_mut() {
        Some(sel) => {
            // (A recorded FD_READ/FD_ACCEPT implies `read_enabled` is false.)
            sel.pending &= !(c::FD_READ | c::FD_ACCEPT);
            !std::mem::replace(&mut sel.read_enabled, true)
        }
        None => false,
    };
    if rearm {
        arm(entry);
    }
}

/// Notes that `connect` was called (called by `connect` once it returns), so that
/// `FD_CONNECT`/`FD_WRITE` are watched for.
pub(crate) fn connect_called(entry: &Arc<SockEntry>) {
    if let Some(sel) = lock_select(entry).as_mut() {
        sel.connecting = true;
    }
    arm(entry);
}

/// Re-enables `FD_WRITE` after a send would have blocked (called by the send paths).
pub(crate) fn write_blocked(entry: &Arc<SockEntry>) {
    if let Some(sel) = lock_select(entry).as_mut() {
        sel.want_write = true;
    }
    arm(entry);
}
