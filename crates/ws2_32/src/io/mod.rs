//! The overlapped calls: `WSARecv`, `WSASend`, `WSARecvFrom`, `WSASendTo`,
//! `WSAGetOverlappedResult`, `GetOverlappedResult`, `CancelIo`, `CancelIoEx`; and in
//! the submodules `WSAIoctl` with the extension functions behind
//! `SIO_GET_EXTENSION_FUNCTION_POINTER` (`AcceptEx`, `GetAcceptExSockaddrs`,
//! `ConnectEx`, `DisconnectEx`, `WSARecvMsg`, `WSASendMsg`, `TransmitFile`).
//!
//! # How a C `WSAOVERLAPPED` maps onto the library
//! Each post creates a library [`Overlapped`] record for the C structure.
//! - **Event mode** (no completion routine): the record mirrors its status and byte count
//!   into a private scratch pair, and the post uses the library's callback mode. The
//!   callback, run on the completing thread once the engine's locks are released, first
//!   writes the operation's extra outputs (the sender of a `WSARecvFrom`), then
//!   `InternalHigh`, then `Internal` (release), and only then signals `hEvent` (or, when
//!   it is NULL, the socket's own signal, as Windows signals the socket handle). So a C
//!   program that sees the event, or `HasOverlappedIoCompleted`, sees every output.
//! - **Routine mode**: the record mirrors straight into `Internal`/`InternalHigh` at
//!   completion (so `HasOverlappedIoCompleted` works before the routine runs), and the C
//!   routine runs in the issuing thread's next alertable wait.
//!
//! The records live in a table keyed by the C structure's address until they complete,
//! which is how `WSAGetOverlappedResult(fWait)` waits for the right operation and how
//! `CancelIoEx(s, lpOverlapped)` finds it. A `WSAOVERLAPPED` reused while its operation
//! is pending takes the new request, as on Windows: the earlier record moves aside
//! (still completing through its own notification) and `CancelIoEx` with the address
//! cancels both.
//!
//! The extension functions are in [`extensions`]; `WSAIoctl` in [`ioctl`].

use std::collections::HashMap;
use std::net::SocketAddr;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use overlapped::{
    Accept, BufList, Completion, Connect, Event, Ioctl, IoctlOutput, NtStatus, Overlapped, RawBuf,
    Recv, RecvFrom, RecvMsg, Send, SendTo, Shutdown, Status, WsaError,
};

use crate::addr;
use crate::handles::{self, SockEntry, guard, set_last_error, started, ws_guard};
use crate::types::{
    BOOL, DWORD, FALSE, GUID, HANDLE, OVERLAPPED, SOCKET, SOCKET_ERROR, TRUE, WSABUF, c,
    tcp_keepalive, win32,
};

/// `LPWSAOVERLAPPED_COMPLETION_ROUTINE`.
pub type CompletionRoutine = unsafe extern "C" fn(DWORD, DWORD, *mut OVERLAPPED, DWORD);

fn err(e: WsaError) -> u32 {
    e.code()
}

/// The library records of the C structures posted so far, by address.
struct Records {
    /// The record, and the scratch pair its mirror points to (kept as long as the
    /// record, so no mirror write can ever reach freed memory).
    map: HashMap<usize, (Arc<Overlapped>, Option<Scratch>)>,
    /// Records still pending whose C structure a later post reused (Windows accepts
    /// that: each request completes on its own, writing the same structure), by
    /// address; dropped once complete. `CancelIoEx` of the address reaches them too.
    displaced: Vec<(usize, Arc<Overlapped>)>,
    /// Sweep completed records when the table grows past this.
    sweep_at: usize,
}

/// Protects the record table (never held while posting or waiting).
static RECORDS: Mutex<Option<Records>> = Mutex::new(None);

fn records<R>(f: impl FnOnce(&mut Records) -> R) -> R {
    let mut g = RECORDS.lock().unwrap_or_else(|e| e.into_inner());
    let r = g.get_or_insert_with(|| Records {
        map: HashMap::new(),
        displaced: Vec::new(),
        sweep_at: 1024,
    });
    f(r)
}

/// The C structure's `Internal` word, accessed atomically.
///
/// # Safety
/// `c_ov` must point to a live, 8-byte aligned `WSAOVERLAPPED`.
unsafe fn internal<'a>(c_ov: *mut OVERLAPPED) -> &'a AtomicUsize {
    // SAFETY: the caller's contract; `Internal` is the first aligned word. Every
    // concurrent access to it (the library's mirror, the publishing callback, C code
    // polling HasOverlappedIoCompleted) is a word-sized access.
    unsafe { AtomicUsize::from_ptr(c_ov.cast::<usize>()) }
}

/// The entry of AcceptEx and ConnectEx: the record is required (NULL is
/// `WSA_INVALID_PARAMETER`), must be aligned (`WSAEFAULT`), and is marked pending as
/// Windows does at entry, also for a call that fails afterwards.
///
/// # Safety
/// A non-null `ov` must be valid for writes of an `OVERLAPPED` (the exported function's
/// contract).
unsafe fn mark_pending_at_entry(ov: *mut OVERLAPPED) -> Result<(), u32> {
    if ov.is_null() {
        return Err(err(WsaError::WSA_INVALID_PARAMETER));
    }
    if !ov.is_aligned() {
        return Err(err(WsaError::WSAEFAULT));
    }
    handles::check_out(ov)?;
    // SAFETY: non-null and aligned (checked), valid (this function's contract).
    unsafe { internal(ov) }.store(c::STATUS_PENDING, Ordering::Release);
    Ok(())
}

/// How a post notifies.
#[derive(Clone, Copy)]
enum Mode {
    /// Event (the C `hEvent`, or the socket's signal when NULL).
    Event,
    /// The C completion routine.
    Routine(CompletionRoutine),
}

/// Where an event-mode record mirrors `[status, bytes]`.
type Scratch = Arc<[AtomicUsize; 2]>;

/// Publishes an event-mode completion to the C structure, then signals its event.
#[derive(Clone)]
struct Publish {
    /// Where the library record mirrors `[status, bytes]`.
    scratch: Scratch,
    /// The event to signal last.
    event: Event,
    /// The C structure (an address: valid until the completion is observed).
    c_ov: usize,
}

impl Publish {
    /// Writes `InternalHigh`, then `Internal` (release), then signals the event.
    fn run(&self) {
        let status = self.scratch[0].load(Ordering::Acquire);
        let bytes = self.scratch[1].load(Ordering::Relaxed);
        let c_ov = self.c_ov as *mut OVERLAPPED;
        // SAFETY: the post's contract: the structure stays valid until its completion
        // is observed, and the event below is how it will be observed.
        let high = unsafe { AtomicUsize::from_ptr(c_ov.cast::<usize>().wrapping_add(1)) };
        high.store(bytes, Ordering::Relaxed);
        // SAFETY: as above.
        unsafe { internal(c_ov) }.store(status, Ordering::Release);
        self.event.set();
    }

    /// The library callback for an event-mode post: `extra` writes the operation's own
    /// outputs first (a panic in it is contained; the completion is still published).
    fn callback<T: 'static>(
        self,
        extra: impl FnOnce(&Completion<T>) + std::marker::Send + 'static,
    ) -> impl FnOnce(Completion<T>) + std::marker::Send + 'static {
        move |c: Completion<T>| {
            let _ = catch_unwind(AssertUnwindSafe(|| extra(&c)));
            self.run();
        }
    }
}

/// A prepared post: the library record bound to the C structure.
struct Prepared {
    ov: Arc<Overlapped>,
    c_ov: *mut OVERLAPPED,
    /// `Internal` before the post, restored if it fails at once.
    saved_internal: usize,
    /// Event mode: how the completion reaches the C structure.
    publish: Option<Publish>,
    /// Registered with the completion port layer (event mode, no low-bit `hEvent`).
    expects_packet: bool,
    /// `FILE_SKIP_COMPLETION_PORT_ON_SUCCESS` was set when the post began.
    skip_on_success: bool,
}

/// Binds a library record to the C `WSAOVERLAPPED` for one post and marks the C
/// structure pending.
///
/// # Safety
/// `c_ov` must be null or point to a writable `WSAOVERLAPPED` that stays valid until the
/// operation completes.
unsafe fn prepare(entry: &SockEntry, c_ov: *mut OVERLAPPED, mode: Mode) -> Result<Prepared, u32> {
    if !c_ov.is_aligned() {
        return Err(err(WsaError::WSAEFAULT));
    }
    handles::check_out(c_ov)?;
    let key = c_ov as usize;
    // SAFETY: `c_ov` is valid and aligned (the contract, checked above).
    let h_event = unsafe { (*c_ov).hEvent };
    // SAFETY: as above.
    let saved_internal = unsafe { internal(c_ov) }.load(Ordering::Acquire);
    // hEvent's low bit: no completion packet. The record's own event is a private one:
    // the C event is set by the publishing callback, after the outputs are written.
    let no_port = matches!(mode, Mode::Event) && (h_event as usize) & 1 != 0;
    let ov = if no_port {
        Overlapped::with_event_no_port(&Event::new_manual())
    } else {
        Overlapped::new()
    };
    let publish = match mode {
        // With a routine, hEvent is ignored and free for the application's use.
        Mode::Routine(_) => {
            // SAFETY: `Internal` and `InternalHigh` are the structure's first two aligned
            // words, valid until completion (the contract).
            unsafe { ov.set_mirror(c_ov.cast::<usize>()) };
            None
        }
        Mode::Event => {
            let event = if h_event.is_null() {
                if entry.iocp.skips_set_event() {
                    // FILE_SKIP_SET_EVENT_ON_HANDLE: the socket handle is not signalled.
                    Event::new_manual()
                } else {
                    entry.signal.clone()
                }
            } else {
                // The low bit only tells completion ports to skip the packet.
                handles::event((h_event as usize) & !1)?
            };
            // Windows resets the request's event when the request starts.
            event.reset();
            let scratch = Arc::new([AtomicUsize::new(0), AtomicUsize::new(0)]);
            // SAFETY: the scratch pair is two aligned words kept alive by the callback
            // (which outlives the record's last mirror write) and by `Prepared`.
            unsafe { ov.set_mirror(scratch.as_ptr().cast::<usize>().cast_mut()) };
            // SAFETY: valid and aligned (checked above).
            unsafe { internal(c_ov) }.store(c::STATUS_PENDING, Ordering::Release);
            Some(Publish {
                scratch,
                event,
                c_ov: key,
            })
        }
    };
    let ov = Arc::new(ov);
    // A packet may be dequeued by another thread before the post even returns: the
    // completion port layer learns the C structure of this record now.
    let expects_packet = publish.is_some() && !no_port;
    if expects_packet {
        crate::iocp::expect(entry, &ov, key);
    }
    Ok(Prepared {
        ov,
        c_ov,
        saved_internal,
        publish,
        expects_packet,
        skip_on_success: entry.sock.skips_completion_port_on_success(),
    })
}

impl Prepared {
    /// The event-mode callback (`extra` writes the operation's own outputs first).
    fn callback<T: 'static>(
        &self,
        extra: impl FnOnce(&Completion<T>) + std::marker::Send + 'static,
    ) -> impl FnOnce(Completion<T>) + std::marker::Send + 'static {
        let publish = self.publish.clone().unwrap_or_else(|| Publish {
            scratch: Arc::new([AtomicUsize::new(0), AtomicUsize::new(0)]),
            event: Event::new_manual(),
            c_ov: self.c_ov as usize,
        });
        publish.callback(extra)
    }

    /// Records the post (pending, or done during the call when `at_once`) under its C
    /// structure; a record it replaces there that is still pending is kept aside.
    fn keep(&self, at_once: bool) {
        if at_once && self.expects_packet && self.skip_on_success && self.ov.status().is_success() {
            // FILE_SKIP_COMPLETION_PORT_ON_SUCCESS: no packet comes for this one.
            crate::iocp::forget(&self.ov);
        }
        let key = self.c_ov as usize;
        let ov = Arc::clone(&self.ov);
        let scratch = self.publish.as_ref().map(|p| Arc::clone(&p.scratch));
        records(|r| {
            r.displaced.retain(|(_, o)| !o.is_complete());
            if let Some((old, _)) = r.map.insert(key, (ov, scratch))
                && !old.is_complete()
            {
                r.displaced.push((key, old));
            }
            if r.map.len() > r.sweep_at {
                r.map.retain(|_, (ov, _)| !ov.is_complete());
                r.sweep_at = r.map.len() * 2 + 1024;
            }
        });
    }

    /// An immediate failure leaves `Internal` as it was (or `STATUS_PENDING` for
    /// AcceptEx/ConnectEx, which Windows sets at entry).
    fn failed(&self, internal_now: Option<usize>) {
        // An immediate failure posts no packet.
        if self.expects_packet {
            crate::iocp::forget(&self.ov);
        }
        // SAFETY: valid and aligned (checked by `prepare`); the post failed, so nothing
        // else writes it.
        unsafe { internal(self.c_ov) }.store(
            internal_now.unwrap_or(self.saved_internal),
            Ordering::Release,
        );
    }
}

/// Turns a post's outcome into the Winsock return convention: 0 with the count written
/// when it completed at once, else `SOCKET_ERROR` with `WSA_IO_PENDING`.
fn finish(
    p: &Prepared,
    r: Result<Status, WsaError>,
    count: *mut DWORD,
    flags: *mut DWORD,
) -> Result<i32, u32> {
    match r {
        Ok(Status::Immediate(_))
            if p.publish.is_none() && p.ov.status() == NtStatus::BUFFER_OVERFLOW =>
        {
            // With a completion routine, Windows reports a warning completion (a
            // truncated datagram or control data) through the routine only: the call
            // says WSA_IO_PENDING (Wine's test_ip_pktinfo).
            p.keep(true);
            Err(err(WsaError::WSA_IO_PENDING))
        }
        Ok(Status::Immediate(t)) => {
            p.keep(true);
            // SAFETY: a null or valid count pointer (the contract).
            unsafe { write_count(count, t.bytes) };
            if !flags.is_null() {
                // SAFETY: non-null flags are valid (the callers' contracts).
                unsafe { flags.write(t.flags) };
            }
            // A truncated datagram is a warning: the part that fit is there and the
            // notification was delivered, but the call reports WSAEMSGSIZE.
            if p.ov.status() == NtStatus::BUFFER_OVERFLOW {
                return Err(err(WsaError::WSAEMSGSIZE));
            }
            Ok(0)
        }
        Ok(Status::Pending) => {
            p.keep(false);
            Err(err(WsaError::WSA_IO_PENDING))
        }
        Err(e) => {
            p.failed(None);
            Err(err(e))
        }
    }
}

/// Runs the C completion routine from the library's routine; `extra` writes the
/// operation's own outputs first.
fn routine_adapter<T>(
    routine: CompletionRoutine,
    c_ov: *mut OVERLAPPED,
    extra: impl FnOnce(&Completion<T>) + 'static,
) -> impl FnOnce(Completion<T>) + 'static {
    let c_ov = c_ov as usize;
    move |c: Completion<T>| {
        extra(&c);
        let c_ov = c_ov as *mut OVERLAPPED;
        let code = c.result.err().map_or(0, WsaError::code);
        // SAFETY: the structure stays valid until its completion has been observed, and
        // this is that observation (the WSARecv contract).
        let bytes = unsafe { (*c_ov).InternalHigh };
        // SAFETY: a C function pointer given for exactly this call; a C function does
        // not unwind.
        unsafe { routine(code, u32::try_from(bytes).unwrap_or(u32::MAX), c_ov, 0) };
    }
}

/// Captures a `WSABUF` array as library buffers (Windows captures it before returning).
///
/// # Safety
/// `bufs` must point to `count` readable `WSABUF`s whose memory stays valid until the
/// operation completes.
unsafe fn capture(bufs: *const WSABUF, count: DWORD) -> Result<BufList<RawBuf>, u32> {
    if count == 0 {
        return Err(err(WsaError::WSAEINVAL));
    }
    if bufs.is_null() {
        return Err(err(WsaError::WSAEFAULT));
    }
    if count > 1024 {
        return Err(err(WsaError::WSAENOBUFS));
    }
    // The array is read here; the data buffers are the kernel's to check (a bad one
    // fails the transfer with WSAEFAULT), so the hot path probes only the array.
    handles::check_in_bytes(bufs.cast(), count as usize * size_of::<WSABUF>())?;
    // SAFETY: the caller's contract.
    let arr = unsafe { std::slice::from_raw_parts(bufs, count as usize) };
    let mut out = Vec::with_capacity(arr.len());
    for b in arr {
        if b.buf.is_null() && b.len > 0 {
            return Err(err(WsaError::WSAEFAULT));
        }
        // SAFETY: the caller's contract: valid until the completion is observed.
        out.push(unsafe { RawBuf::new(b.buf, b.len as usize) });
    }
    Ok(BufList(out))
}

type Bufs = BufList<RawBuf>;

/// Posts one transfer with the notification `mode` asks for.
fn post_transfer(
    entry: &SockEntry,
    p: &Prepared,
    list: Bufs,
    flags_in: u32,
    op: Op,
    mode: Mode,
) -> Result<Status, WsaError> {
    let sock = &entry.sock;
    let (from, fromlen) = op.from();
    let write_from_c =
        // SAFETY: the caller's `lpFrom`/`lpFromlen`, valid until completion (the contract).
        move |c: &Completion<overlapped::Received<Bufs>>| unsafe { write_from(c.output.from, from, fromlen) };
    let msg_addr = op.msg();
    let write_msg_c =
        // SAFETY: the caller's `lpMsg`, valid until completion (the WSARecvMsg contract).
        move |c: &Completion<MsgOut>| unsafe { write_msg(&c.output, msg_addr) };
    match (op, mode) {
        (Op::RecvMsg(_), Mode::Routine(r)) => msg_recv(sock, list, flags_in, msg_addr)?
            .post_with_routine(&p.ov, routine_adapter(r, p.c_ov, write_msg_c)),
        (Op::RecvMsg(_), Mode::Event) => msg_recv(sock, list, flags_in, msg_addr)?
            .post_with_thread_callback(&p.ov, p.callback(write_msg_c)),
        (Op::Recv, Mode::Routine(r)) => Recv::new(sock, list)
            .flags(flags_in)
            .post_with_routine(&p.ov, routine_adapter(r, p.c_ov, |_| {})),
        (Op::Recv, Mode::Event) => Recv::new(sock, list)
            .flags(flags_in)
            .post_with_thread_callback(&p.ov, p.callback(|_| {})),
        (Op::RecvFrom(..), Mode::Routine(r)) => RecvFrom::new(sock, list)
            .flags(flags_in)
            .post_with_routine(&p.ov, routine_adapter(r, p.c_ov, write_from_c)),
        (Op::RecvFrom(..), Mode::Event) => RecvFrom::new(sock, list)
            .flags(flags_in)
            .post_with_thread_callback(&p.ov, p.callback(write_from_c)),
        (Op::Send, Mode::Routine(r)) => Send::new(sock, list)
            .flags(flags_in)
            .post_with_routine(&p.ov, routine_adapter(r, p.c_ov, |_| {})),
        (Op::Send, Mode::Event) => Send::new(sock, list)
            .flags(flags_in)
            .post_with_thread_callback(&p.ov, p.callback(|_| {})),
        (Op::SendTo(to), Mode::Routine(r)) => SendTo::new(sock, list, to)
            .flags(flags_in)
            .post_with_routine(&p.ov, routine_adapter(r, p.c_ov, |_| {})),
        (Op::SendTo(to), Mode::Event) => SendTo::new(sock, list, to)
            .flags(flags_in)
            .post_with_thread_callback(&p.ov, p.callback(|_| {})),
    }
}

/// The common body of WSARecv/WSARecvFrom/WSASend/WSASendTo.
///
/// # Safety
/// As [`WSARecv`].
#[allow(clippy::too_many_arguments)]
unsafe fn transfer(
    s: SOCKET,
    bufs: *const WSABUF,
    count: DWORD,
    done: *mut DWORD,
    flags_in: u32,
    flags_out: *mut DWORD,
    c_ov: *mut OVERLAPPED,
    routine: Option<CompletionRoutine>,
    op: Op,
) -> Result<i32, u32> {
    started()?;
    let entry = handles::socket(s)?;
    // SAFETY: the caller's contract.
    let list = unsafe { capture(bufs, count) }?;
    handles::check_opt_out(done)?;
    handles::check_opt_out(flags_out)?;
    let reads = matches!(op, Op::Recv | Op::RecvFrom(..) | Op::RecvMsg(_));
    if c_ov.is_null() {
        let r = sync_transfer(&entry, list, done, flags_in, flags_out, op);
        if reads {
            crate::events::read_called(&entry);
        }
        return r;
    }
    let mode = routine.map_or(Mode::Event, Mode::Routine);
    // SAFETY: the caller's contract: `c_ov` valid until completion.
    let p = unsafe { prepare(&entry, c_ov, mode) }?;
    let res = post_transfer(&entry, &p, list, flags_in, op, mode);
    if reads {
        crate::events::read_called(&entry);
    }
    if !entry.overlapped && matches!(res, Ok(Status::Pending)) {
        // A socket created without WSA_FLAG_OVERLAPPED: the call blocks until done.
        p.keep(false);
        // SAFETY: valid until its completion is observed, which is now.
        let (bytes, status) = unsafe { overlapped_result(c_ov, true) }?;
        return match status.to_wsa() {
            None => {
                // SAFETY: a null or valid count pointer (the contract).
                unsafe { write_count(done, bytes) };
                Ok(0)
            }
            Some(e) => Err(err(e)),
        };
    }
    finish(&p, res, done, flags_out)
}

/// Writes a byte count to a caller's `LPDWORD`, if not null.
///
/// # Safety
/// `done` must be null or valid for a write.
unsafe fn write_count(done: *mut DWORD, bytes: usize) {
    if !done.is_null() {
        // SAFETY: non-null counts are valid (the callers' contracts).
        unsafe { done.write(u32::try_from(bytes).unwrap_or(u32::MAX)) };
    }
}

/// Where a WSARecvFrom writes the sender (kept as integers: the pointers are the
/// caller's and valid until completion).
///
/// # Safety
/// `ptr`/`len` must be null or the caller's `lpFrom`/`lpFromlen`, still valid.
unsafe fn write_from(from: Option<SocketAddr>, ptr: usize, len: usize) {
    if let Some(a) = from {
        // SAFETY: the WSARecvFrom contract: `lpFrom`/`lpFromlen` valid until completion
        // (or null, which `addr::write` checks).
        let _ = unsafe { addr::write(&a, ptr as *mut u8, len as *mut i32) };
    }
}

/// Which transfer.
#[derive(Clone, Copy)]
enum Op {
    Recv,
    /// The caller's `lpFrom` and `lpFromlen`, as addresses.
    RecvFrom(usize, usize),
    /// The caller's `WSAMSG`, as an address.
    RecvMsg(usize),
    Send,
    SendTo(SocketAddr),
}

impl Op {
    fn from(&self) -> (usize, usize) {
        match self {
            Op::RecvFrom(a, b) => (*a, *b),
            _ => (0, 0),
        }
    }

    fn msg(&self) -> usize {
        match self {
            Op::RecvMsg(m) => *m,
            _ => 0,
        }
    }
}

/// What a WSARecvMsg's library operation gives back.
type MsgOut = overlapped::ReceivedMsg<Bufs, RawBuf>;

/// The library operation of a WSARecvMsg: the message's control buffer goes with it.
fn msg_recv(
    sock: &overlapped::Socket,
    list: Bufs,
    flags_in: u32,
    msg: usize,
) -> Result<RecvMsg<Bufs, RawBuf>, WsaError> {
    // SAFETY: the caller's `lpMsg`, checked readable by `wsa_recv_msg`.
    let m = unsafe { &*(msg as *const WSAMSG) };
    let (buf, len) = (m.control.buf, m.control.len);
    if buf.is_null() && len > 0 {
        return Err(WsaError::WSAEFAULT);
    }
    // SAFETY: the WSARecvMsg contract: `Control.buf` is valid for `Control.len` bytes
    // until the completion is observed.
    let control = unsafe { RawBuf::new(buf.cast(), len as usize) };
    Ok(RecvMsg::new(sock, list, control).flags(flags_in))
}

/// Writes a WSARecvMsg's outputs to its `WSAMSG`: the sender (when `name` is set), the
/// control data's length and the message flags.
///
/// # Safety
/// `msg` must be the caller's `lpMsg`, still valid.
unsafe fn write_msg(out: &MsgOut, msg: usize) {
    let m = msg as *mut WSAMSG;
    // SAFETY: the caller's contract.
    let name = unsafe { (*m).name };
    // SAFETY: the caller's contract (a place, not a read).
    let namelen = unsafe { &raw mut (*m).namelen };
    if let Some(a) = out.from {
        // SAFETY: `name` null or valid for `*namelen` bytes (the contract).
        let _ = unsafe { addr::write(&a, name, namelen) };
    }
    // SAFETY: the caller's contract.
    unsafe { (*m).control.len = u32::try_from(out.control_len).unwrap_or(u32::MAX) };
    // SAFETY: the caller's contract.
    unsafe { (*m).flags = out.msg_flags };
}

/// A transfer without an overlapped record: a synchronous call, honouring the socket's
/// blocking mode and timeouts.
fn sync_transfer(
    entry: &SockEntry,
    list: Bufs,
    done: *mut DWORD,
    flags_in: u32,
    flags_out: *mut DWORD,
    op: Op,
) -> Result<i32, u32> {
    if done.is_null() {
        return Err(err(WsaError::WSAEFAULT));
    }
    // A synchronous call posts no completion packet, even on an associated socket.
    let ov = Overlapped::with_event_no_port(&Event::new_manual());
    let sock = &entry.sock;
    let timeout = match op {
        Op::Send | Op::SendTo(_) => sock.write_timeout(),
        _ => sock.read_timeout(),
    };
    let t = match op {
        Op::Recv => {
            sync_wait(
                entry,
                &ov,
                Recv::new(sock, list).flags(flags_in).post(&ov),
                timeout,
            )?
            .0
        }
        Op::RecvFrom(from, fromlen) => {
            let (t, out) = sync_wait(
                entry,
                &ov,
                RecvFrom::new(sock, list).flags(flags_in).post(&ov),
                timeout,
            )?;
            // SAFETY: the caller's `lpFrom`/`lpFromlen`, valid until completion (the contract).
            unsafe { write_from(out.from, from, fromlen) };
            t
        }
        Op::RecvMsg(msg) => {
            let posted = msg_recv(sock, list, flags_in, msg).and_then(|r| r.post(&ov));
            let (r, out) = sync_wait_keep(entry, &ov, posted, timeout)?;
            // SAFETY: the caller's `lpMsg`, valid during the call (the contract).
            unsafe { write_msg(&out, msg) };
            // A message whose data or control data was cut is WSAEMSGSIZE, and the
            // count is still written.
            // SAFETY: a null or valid count pointer (the contract).
            unsafe { write_count(done, out.bytes) };
            r.map_err(err)?
        }
        Op::Send => {
            sync_wait(
                entry,
                &ov,
                Send::new(sock, list).flags(flags_in).post(&ov),
                timeout,
            )?
            .0
        }
        Op::SendTo(to) => {
            sync_wait(
                entry,
                &ov,
                SendTo::new(sock, list, to).flags(flags_in).post(&ov),
                timeout,
            )?
            .0
        }
    };
    // SAFETY: a null or valid count pointer (the contract).
    unsafe { write_count(done, t.bytes) };
    if !flags_out.is_null() {
        // SAFETY: non-null flags are valid (the contract).
        unsafe { flags_out.write(t.flags) };
    }
    Ok(0)
}

/// Waits for a synchronous call's operation: `WSAEWOULDBLOCK` at once on a non-blocking
/// socket, `WSAETIMEDOUT` after the socket's timeout (the operation is cancelled, unless
/// it completed first).
fn sync_wait<T: 'static>(
    entry: &SockEntry,
    ov: &Overlapped,
    posted: Result<overlapped::Posted<T>, WsaError>,
    timeout: Option<Duration>,
) -> Result<(overlapped::Transfer, T), u32> {
    let (r, out) = sync_wait_keep(entry, ov, posted, timeout)?;
    Ok((r.map_err(err)?, out))
}

/// As [`sync_wait`], but the operation's own result comes back with its output, so a
/// failed operation's output can still be written.
fn sync_wait_keep<T: 'static>(
    entry: &SockEntry,
    ov: &Overlapped,
    posted: Result<overlapped::Posted<T>, WsaError>,
    timeout: Option<Duration>,
) -> Result<(Result<overlapped::Transfer, WsaError>, T), u32> {
    let posted = posted.map_err(err)?;
    if posted.immediate().is_none() {
        let late = if entry.sock.is_nonblocking() {
            Some(WsaError::WSAEWOULDBLOCK)
        } else if wait_alertably(ov, timeout) {
            None
        } else {
            Some(WsaError::WSAETIMEDOUT)
        };
        if let Some(late) = late {
            entry.sock.cancel(ov);
            let (r, out) = posted.wait();
            return match r {
                Ok(t) => Ok((Ok(t), out)),
                Err(_) => Err(err(late)),
            };
        }
    }
    Ok(posted.wait())
}

/// Waits for a synchronous call's record as Winsock's blocking calls wait: alertably
/// (queued APCs and completion routines run meanwhile, and the wait goes on until
/// `timeout`). Whether the operation completed in time.
fn wait_alertably(ov: &Overlapped, timeout: Option<Duration>) -> bool {
    let Some(event) = ov.event() else {
        return !matches!(ov.result_timeout(timeout), Err(WsaError::WSA_IO_INCOMPLETE));
    };
    let deadline = timeout.map(|t| std::time::Instant::now() + t);
    loop {
        let left = deadline.map(|d| d.saturating_duration_since(std::time::Instant::now()));
        match overlapped::wait_any(&[event], left, true) {
            Ok(overlapped::WaitOutcome::IoCompletion) => {}
            Ok(overlapped::WaitOutcome::Timeout) => return ov.is_complete(),
            _ => return true,
        }
    }
}

fn ret(r: Result<i32, u32>) -> Result<i32, u32> {
    r
}

/// `int WSARecv(SOCKET s, LPWSABUF lpBuffers, DWORD dwBufferCount, LPDWORD
/// lpNumberOfBytesRecvd, LPDWORD lpFlags, LPWSAOVERLAPPED lpOverlapped,
/// LPWSAOVERLAPPED_COMPLETION_ROUTINE lpCompletionRoutine)`.
///
/// Parameters: the buffers are filled in array order; `lpFlags` is read (`MSG_PEEK`,
/// `MSG_OOB`, `MSG_WAITALL`) and, on immediate completion, written (`MSG_PARTIAL`).
/// Returns 0 when the receive completed during the call (the count and flags are written
/// and the notification is still delivered), or `SOCKET_ERROR` with `WSA_IO_PENDING`
/// (completion comes later through the event or routine) or an immediate error
/// (`WSAENOTSOCK`, `WSAEFAULT`, `WSAEINVAL` for 0 buffers or a pending `lpOverlapped`,
/// `WSAENOTCONN`, `WSAECONNRESET`, `WSAESHUTDOWN`), which notifies nothing.
/// Memory and lifetimes: the `WSABUF` array is captured before return; the buffers it
/// points to and `*lpOverlapped` must stay valid until the completion is observed.
///
/// # Safety
/// As above; pointers must be null or valid for their documented use.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn WSARecv(
    s: SOCKET,
    bufs: *mut WSABUF,
    count: DWORD,
    received: *mut DWORD,
    flags: *mut DWORD,
    ov: *mut OVERLAPPED,
    routine: Option<CompletionRoutine>,
) -> i32 {
    ws_guard(SOCKET_ERROR, || {
        // As on Windows: WSANOTINITIALISED, then WSAENOTSOCK, then the parameters.
        started()?;
        handles::socket(s)?;
        handles::check_out(flags)?;
        // SAFETY: checked readable and writable.
        let f = unsafe { flags.read() };
        // SAFETY: the contract.
        ret(unsafe { transfer(s, bufs, count, received, f, flags, ov, routine, Op::Recv) })
    })
}

/// `int WSARecvFrom(SOCKET s, LPWSABUF lpBuffers, DWORD dwBufferCount, LPDWORD
/// lpNumberOfBytesRecvd, LPDWORD lpFlags, struct sockaddr *lpFrom, LPINT lpFromlen,
/// LPWSAOVERLAPPED lpOverlapped, LPWSAOVERLAPPED_COMPLETION_ROUTINE
/// lpCompletionRoutine)`: as [`WSARecv`], also writing the sender to `lpFrom`.
///
/// Parameters: as `WSARecv`, plus `lpFrom`/`lpFromlen` for the sender.
/// Returns: as `WSARecv`; `WSAEFAULT` at once when `*lpFromlen` is too small for the
/// socket's address family (before any datagram is taken).
/// Memory and lifetimes: as `WSARecv`; `lpFrom` and `lpFromlen` are written at completion, before the notification, so they too must stay valid until it is observed.
///
/// # Safety
/// As [`WSARecv`]; `lpFrom`/`lpFromlen` null or valid until completion.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn WSARecvFrom(
    s: SOCKET,
    bufs: *mut WSABUF,
    count: DWORD,
    received: *mut DWORD,
    flags: *mut DWORD,
    from: *mut u8,
    fromlen: *mut i32,
    ov: *mut OVERLAPPED,
    routine: Option<CompletionRoutine>,
) -> i32 {
    ws_guard(SOCKET_ERROR, || {
        // As on Windows: WSANOTINITIALISED, then WSAENOTSOCK, then the parameters.
        started()?;
        let e = handles::socket(s)?;
        if flags.is_null() {
            return Err(err(WsaError::WSAEFAULT));
        }
        // Too small a sender buffer fails now, not after the datagram was taken.
        // SAFETY: `fromlen` null or valid (the contract).
        unsafe { addr::check_room(e.sock.family(), from, fromlen) }?;
        // SAFETY: non-null and valid (the contract).
        let f = unsafe { flags.read() };
        let op = Op::RecvFrom(from as usize, fromlen as usize);
        // SAFETY: the contract.
        ret(unsafe { transfer(s, bufs, count, received, f, flags, ov, routine, op) })
    })
}

/// `int WSASend(SOCKET s, LPWSABUF lpBuffers, DWORD dwBufferCount, LPDWORD
/// lpNumberOfBytesSent, DWORD dwFlags, LPWSAOVERLAPPED lpOverlapped,
/// LPWSAOVERLAPPED_COMPLETION_ROUTINE lpCompletionRoutine)`: gathers the buffers in
/// order; completes only when all bytes are sent. Returns as [`WSARecv`].
///
/// Parameters: the buffers are sent in array order; `dwFlags` (`MSG_OOB`, `MSG_DONTROUTE`).
/// Memory and lifetimes: the `WSABUF` array is captured before return; the buffers and `*lpOverlapped` must stay valid until the completion is observed.
///
/// # Safety
/// As [`WSARecv`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn WSASend(
    s: SOCKET,
    bufs: *mut WSABUF,
    count: DWORD,
    sent: *mut DWORD,
    flags: DWORD,
    ov: *mut OVERLAPPED,
    routine: Option<CompletionRoutine>,
) -> i32 {
    ws_guard(SOCKET_ERROR, || {
        // SAFETY: the contract.
        ret(unsafe {
            transfer(
                s,
                bufs,
                count,
                sent,
                flags,
                std::ptr::null_mut(),
                ov,
                routine,
                Op::Send,
            )
        })
    })
}

/// `int WSASendTo(SOCKET s, LPWSABUF lpBuffers, DWORD dwBufferCount, LPDWORD
/// lpNumberOfBytesSent, DWORD dwFlags, const struct sockaddr *lpTo, int iTolen,
/// LPWSAOVERLAPPED lpOverlapped, LPWSAOVERLAPPED_COMPLETION_ROUTINE
/// lpCompletionRoutine)`. A non-overlapped call with a NULL count gives `WSAEFAULT`; a
/// NULL `lpTo` (optional) makes it a [`WSASend`].
///
/// Parameters: as `WSASend`, plus the destination `lpTo` of `iTolen` bytes.
/// Returns: as `WSASend`.
/// Memory and lifetimes: as `WSASend`; `lpTo` is read during the call only.
///
/// # Safety
/// As [`WSARecv`]; `lpTo` must point to `iTolen` readable bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn WSASendTo(
    s: SOCKET,
    bufs: *mut WSABUF,
    count: DWORD,
    sent: *mut DWORD,
    flags: DWORD,
    to: *const u8,
    tolen: i32,
    ov: *mut OVERLAPPED,
    routine: Option<CompletionRoutine>,
) -> i32 {
    if to.is_null() {
        // `lpTo` is optional: without it this is a WSASend (a connected socket).
        // SAFETY: forwarded contract.
        return unsafe { WSASend(s, bufs, count, sent, flags, ov, routine) };
    }
    ws_guard(SOCKET_ERROR, || {
        started()?;
        handles::socket(s)?;
        // SAFETY: the contract.
        let dest = unsafe { addr::read(to, tolen) }?;
        // SAFETY: the contract.
        ret(unsafe {
            transfer(
                s,
                bufs,
                count,
                sent,
                flags,
                std::ptr::null_mut(),
                ov,
                routine,
                Op::SendTo(dest),
            )
        })
    })
}

/// Reads a C `OVERLAPPED`'s result: (success, bytes, NTSTATUS), waiting first if asked.
///
/// # Safety
/// `c_ov` must point to a readable `WSAOVERLAPPED`.
unsafe fn overlapped_result(c_ov: *mut OVERLAPPED, wait: bool) -> Result<(usize, NtStatus), u32> {
    if !c_ov.is_aligned() {
        return Err(err(WsaError::WSAEFAULT));
    }
    let read = || {
        // SAFETY: valid and aligned (the contract, checked above); `Internal` is
        // published with release ordering after `InternalHigh`.
        let status = unsafe { internal(c_ov) }.load(Ordering::Acquire);
        // SAFETY: as above.
        let bytes = unsafe { (*c_ov).InternalHigh };
        // An NTSTATUS is 32 bits: a program that stores a negative `NTSTATUS` in the
        // `ULONG_PTR` sign-extends it, and Windows reads only the low half.
        (
            bytes,
            NtStatus(u32::try_from(status & 0xFFFF_FFFF).unwrap_or(u32::MAX)),
        )
    };
    let mut published_by = None;
    loop {
        let (bytes, status) = read();
        if status != NtStatus::PENDING {
            return Ok((bytes, status));
        }
        if !wait {
            return Err(err(WsaError::WSA_IO_INCOMPLETE));
        }
        match records(|r| r.map.get(&(c_ov as usize)).map(|(ov, _)| Arc::clone(ov))) {
            // Wait for the operation itself (non-alertably), outside the table lock.
            Some(rec) if !rec.is_complete() => {
                let _ = rec.result(true);
            }
            // Complete: the publishing callback runs as soon as the completing thread
            // leaves the engine (microseconds); give it the processor.
            Some(_) => {
                let deadline =
                    *published_by.get_or_insert_with(|| Instant::now() + Duration::from_secs(10));
                if Instant::now() > deadline {
                    return Ok((bytes, status));
                }
                std::thread::yield_now();
            }
            // Not ours (a fabricated OVERLAPPED): wait on its event, as Windows does.
            None => {
                // SAFETY: valid (the contract).
                let h = unsafe { (*c_ov).hEvent } as usize & !1;
                let ev = handles::event(h)?;
                let _ = overlapped::wait_any(&[&ev], None, false);
                return Ok(read());
            }
        }
    }
}

/// `BOOL WSAGetOverlappedResult(SOCKET s, LPWSAOVERLAPPED lpOverlapped, LPDWORD
/// lpcbTransfer, BOOL fWait, LPDWORD lpdwFlags)`.
///
/// Returns TRUE with the byte count (and flags 0) when the operation succeeded; FALSE
/// with `WSA_IO_INCOMPLETE` while it is pending and `fWait` is FALSE; FALSE with the
/// operation's **WSA-family** error otherwise (`WSAECONNRESET`, `WSA_OPERATION_ABORTED`,
/// `WSAECONNABORTED`, ...; `WSAEMSGSIZE` for a truncated datagram or control data, with
/// the byte count written and the flags left as they were). `fWait` waits
/// non-alertably. Errors: `WSAENOTSOCK`, `WSAEFAULT` (NULL `lpOverlapped`).
///
/// Parameters: the socket the operation was posted on, its `WSAOVERLAPPED`, where to write the count and flags (either may be NULL), `fWait`.
/// Memory and lifetimes: nothing is kept.
///
/// # Safety
/// `lpOverlapped` must point to a `WSAOVERLAPPED`; the out pointers null or valid.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn WSAGetOverlappedResult(
    s: SOCKET,
    ov: *mut OVERLAPPED,
    transferred: *mut DWORD,
    wait: BOOL,
    flags: *mut DWORD,
) -> BOOL {
    ws_guard(FALSE, || {
        started()?;
        handles::socket(s)?;
        handles::check_out(ov)?;
        handles::check_opt_out(transferred)?;
        handles::check_opt_out(flags)?;
        // SAFETY: the contract.
        let (bytes, status) = unsafe { overlapped_result(ov, wait != 0) }?;
        match status.to_wsa() {
            None => {
                // SAFETY: a null or valid count pointer (the contract).
                unsafe { write_count(transferred, bytes) };
                // The flags are written on success only: a warning (a truncated
                // datagram or control data) leaves them as they were (Wine's
                // test_ip_pktinfo).
                if !flags.is_null() {
                    // SAFETY: non-null and valid (the contract).
                    unsafe { flags.write(0) };
                }
                Ok(TRUE)
            }
            Some(e) => {
                if status == NtStatus::BUFFER_OVERFLOW {
                    // SAFETY: a null or valid count pointer (the contract).
                    unsafe { write_count(transferred, bytes) };
                }
                Err(err(e))
            }
        }
    })
}

/// `BOOL GetOverlappedResult(HANDLE hFile, LPOVERLAPPED lpOverlapped, LPDWORD
/// lpNumberOfBytesTransferred, BOOL bWait)`: as [`WSAGetOverlappedResult`] but the error
/// is the **Win32-family** code (`ERROR_NETNAME_DELETED` for a reset,
/// `ERROR_OPERATION_ABORTED`, `ERROR_CONNECTION_REFUSED`, `ERROR_IO_INCOMPLETE`).
///
/// Parameters: a handle (not checked), the `OVERLAPPED`, where to write the count (may be NULL), `bWait`.
/// Returns: TRUE, or FALSE with the Win32 code.
/// Memory and lifetimes: nothing is kept.
///
/// # Safety
/// As [`WSAGetOverlappedResult`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn GetOverlappedResult(
    _h: HANDLE,
    ov: *mut OVERLAPPED,
    transferred: *mut DWORD,
    wait: BOOL,
) -> BOOL {
    guard(FALSE, || {
        if ov.is_null() {
            return Err(win32::ERROR_INVALID_PARAMETER);
        }
        // SAFETY: the contract.
        let (bytes, status) = unsafe { overlapped_result(ov, wait != 0) }?;
        // SAFETY: a null or valid count pointer (the contract).
        unsafe { write_count(transferred, bytes) };
        match status.to_win32() {
            0 => Ok(TRUE),
            code => Err(code),
        }
    })
}

/// `BOOL CancelIo(HANDLE hFile)`: cancels the calling thread's pending operations on
/// the socket; TRUE even if there were none.
///
/// Parameters: a socket handle.
/// Returns: TRUE, or FALSE with `ERROR_INVALID_HANDLE`.
/// Memory and lifetimes: cancelled operations still complete through their notification; their memory must stay valid until then.
///
/// # Safety
/// Always safe to call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn CancelIo(h: HANDLE) -> BOOL {
    guard(FALSE, || {
        let e = handles::socket(h as usize).map_err(|_| win32::ERROR_INVALID_HANDLE)?;
        e.sock.cancel_from_this_thread();
        Ok(TRUE)
    })
}

/// `BOOL CancelIoEx(HANDLE hFile, LPOVERLAPPED lpOverlapped)`: cancels that operation
/// (or all of the socket's, with NULL) from any thread; FALSE with `ERROR_NOT_FOUND`
/// when nothing matched. Cancelled operations complete with `ERROR_OPERATION_ABORTED`.
///
/// Parameters: a socket handle and the operation's `OVERLAPPED` (or NULL for all).
/// Returns: TRUE, or FALSE with `ERROR_NOT_FOUND` / `ERROR_INVALID_HANDLE`.
/// Memory and lifetimes: as `CancelIo`.
///
/// # Safety
/// `lpOverlapped` is only compared, never dereferenced.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn CancelIoEx(h: HANDLE, ov: *mut OVERLAPPED) -> BOOL {
    guard(FALSE, || {
        let e = handles::socket(h as usize).map_err(|_| win32::ERROR_INVALID_HANDLE)?;
        let found = if ov.is_null() {
            e.sock.cancel_all() > 0
        } else {
            // Every request naming that structure (a reused one names several).
            let key = ov as usize;
            let recs: Vec<Arc<Overlapped>> = records(|r| {
                let reused = r.displaced.iter().filter(|(k, _)| *k == key);
                r.map
                    .get(&key)
                    .map(|(o, _)| o)
                    .into_iter()
                    .chain(reused.map(|(_, o)| o))
                    .cloned()
                    .collect()
            });
            // An AcceptEx belongs to the listener; look on this socket only, as Windows does.
            recs.iter().fold(false, |found, o| e.sock.cancel(o) | found)
        };
        if found {
            Ok(TRUE)
        } else {
            Err(win32::ERROR_NOT_FOUND)
        }
    })
}

pub mod extensions;
pub mod ioctl;

/// `WSAMSG`.
#[repr(C)]
#[derive(Debug)]
pub struct WSAMSG {
    name: *mut u8,
    namelen: i32,
    buffers: *mut WSABUF,
    count: DWORD,
    control: WSABUF,
    flags: DWORD,
}
