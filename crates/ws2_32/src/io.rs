//! The overlapped calls: `WSARecv`, `WSASend`, `WSARecvFrom`, `WSASendTo`, `WSAIoctl`
//! (with the extension functions behind `SIO_GET_EXTENSION_FUNCTION_POINTER`),
//! `AcceptEx`, `GetAcceptExSockaddrs`, `ConnectEx`, `DisconnectEx`,
//! `WSAGetOverlappedResult`, `GetOverlappedResult`, `CancelIo`, `CancelIoEx`.
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
//! which is how reusing a pending `WSAOVERLAPPED` is refused (`WSAEINVAL`), how
//! `WSAGetOverlappedResult(fWait)` waits for the right operation, and how
//! `CancelIoEx(s, lpOverlapped)` finds it.

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

/// Writes one AcceptEx address block: `[i32 length][Windows sockaddr]`.
///
/// # Safety
/// `at` must be the address of `room` writable bytes.
unsafe fn write_block(at: usize, room: usize, a: Option<SocketAddr>) {
    let Some(a) = a else { return };
    let bytes = addr::encode(&a);
    if room < bytes.len() + 4 {
        return;
    }
    let len = i32::try_from(bytes.len()).unwrap_or(0).to_ne_bytes();
    // SAFETY: the AcceptEx contract: the output buffer holds `room` writable bytes at
    // `at` until the completion is observed (checked to fit above).
    let block = unsafe { std::slice::from_raw_parts_mut(at as *mut u8, 4 + bytes.len()) };
    block[..4].copy_from_slice(&len);
    block[4..].copy_from_slice(&bytes);
}

/// `BOOL AcceptEx(SOCKET sListenSocket, SOCKET sAcceptSocket, PVOID lpOutputBuffer,
/// DWORD dwReceiveDataLength, DWORD dwLocalAddressLength, DWORD dwRemoteAddressLength,
/// LPDWORD lpdwBytesReceived, LPOVERLAPPED lpOverlapped)`.
///
/// Accepts into `sAcceptSocket`. The output buffer receives the first
/// `dwReceiveDataLength` bytes of data (the operation then completes only when data
/// arrives, or with 0 bytes if the peer closes first), then the local and the remote
/// address blocks; read them with [`GetAcceptExSockaddrs`]. Each address length should be
/// at least the address size + 16 (a local length of 0 asks for no local address); a
/// smaller one still pends, then completes with `STATUS_BUFFER_TOO_SMALL`
/// (`ERROR_INSUFFICIENT_BUFFER`) and leaves the connection queued, as Windows does. Returns TRUE on immediate completion (writing
/// `*lpdwBytesReceived`), else FALSE with `ERROR_IO_PENDING` or an error:
/// `WSAENOTSOCK`, `WSA_INVALID_PARAMETER` (NULL `lpOverlapped`), `WSAEFAULT` (NULL
/// buffer, remote address length 0), `WSAEINVAL` (not listening, acceptor bound,
/// connected or already the target of a pending AcceptEx). `Internal` is set to
/// `STATUS_PENDING` at entry, even on immediate failure, as Windows does.
///
/// Parameters: the listening socket, an unbound unconnected acceptor socket, the output buffer and the three lengths, where to write the count, the `OVERLAPPED` (required).
/// Memory and lifetimes: the output buffer and `*lpOverlapped` must stay valid until the completion is observed; the addresses are written before the notification.
///
/// # Safety
/// The output buffer must hold `dwReceiveDataLength + dwLocalAddressLength +
/// dwRemoteAddressLength` writable bytes and, with `*lpOverlapped`, stay valid until the
/// completion is observed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn AcceptEx(
    listen: SOCKET,
    accept: SOCKET,
    out: *mut u8,
    recv_len: DWORD,
    local_len: DWORD,
    remote_len: DWORD,
    received: *mut DWORD,
    ov: *mut OVERLAPPED,
) -> BOOL {
    ws_guard(FALSE, || {
        started()?;
        // SAFETY: `ov` comes from the caller, under the function's contract.
        unsafe { mark_pending_at_entry(ov) }?;
        let fail = |code: u32| -> Result<BOOL, u32> { Err(code) };
        let l = handles::socket(listen)?;
        let a = handles::socket(accept)?;
        if out.is_null() {
            return fail(err(WsaError::WSAEFAULT));
        }
        let need = if a.sock.family() == overlapped::Family::V6 {
            28 + 16
        } else {
            16 + 16
        };
        // Windows: no room at all for the remote address fails at once; a local length
        // of 0 asks for no local address; any other length below the address size + 16
        // pends and completes with STATUS_BUFFER_TOO_SMALL, the connection left queued.
        if remote_len == 0 {
            return fail(err(WsaError::WSAEFAULT));
        }
        let too_small = remote_len < need || (local_len != 0 && local_len < need);
        // SAFETY: the contract: `ov` valid until completion.
        let p = unsafe { prepare(&l, ov, Mode::Event) }?;
        let base = out as usize + recv_len as usize;
        let (ll, rl) = (local_len as usize, remote_len as usize);
        let mut op = Accept::new(&l.sock, &a.sock).on_addresses(move |local, remote| {
            // SAFETY: inside the AcceptEx output buffer, valid until completion (the contract).
            unsafe { write_block(base, ll, local) };
            // SAFETY: inside the AcceptEx output buffer, valid until completion (the contract).
            unsafe { write_block(base + ll, rl, remote) };
        });
        if too_small {
            op = op.too_small_for_addresses();
        }
        let res = if recv_len > 0 {
            // SAFETY: the contract: `recv_len` writable bytes until completion.
            let buf = unsafe { RawBuf::new(out, recv_len as usize) };
            op.receive(buf)
                .post_with_thread_callback(&p.ov, p.callback(|_| {}))
        } else {
            op.post_with_thread_callback(&p.ov, p.callback(|_| {}))
        };
        match res {
            Ok(Status::Immediate(t)) => {
                p.keep(true);
                // SAFETY: a null or valid count pointer (the contract).
                unsafe { write_count(received, t.bytes) };
                Ok(TRUE)
            }
            Ok(Status::Pending) => {
                p.keep(false);
                Err(win32::ERROR_IO_PENDING)
            }
            Err(e) => {
                p.failed(Some(c::STATUS_PENDING));
                Err(err(e))
            }
        }
    })
}

/// `void GetAcceptExSockaddrs(PVOID lpOutputBuffer, DWORD dwReceiveDataLength, DWORD
/// dwLocalAddressLength, DWORD dwRemoteAddressLength, struct sockaddr
/// **LocalSockaddr, LPINT LocalSockaddrLength, struct sockaddr **RemoteSockaddr, LPINT
/// RemoteSockaddrLength)`: points into the buffer that a completed [`AcceptEx`] filled.
/// Pointers stay untouched where a block holds no address.
///
/// Parameters: the AcceptEx output buffer and the same three lengths, where to write the two address pointers and sizes.
/// Returns: nothing; the pointers point into the output buffer.
/// Memory and lifetimes: the returned pointers are valid as long as the output buffer is.
///
/// # Safety
/// The buffer must be the one given to a completed AcceptEx with the same lengths; the
/// out pointers must be valid.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn GetAcceptExSockaddrs(
    out: *mut u8,
    recv_len: DWORD,
    local_len: DWORD,
    remote_len: DWORD,
    local: *mut *mut u8,
    local_size: *mut i32,
    remote: *mut *mut u8,
    remote_size: *mut i32,
) {
    guard((), || {
        if out.is_null() {
            return Ok(());
        }
        let read = |at: *mut u8, room: DWORD, p: *mut *mut u8, n: *mut i32| {
            if room < 4 {
                return;
            }
            // SAFETY: the block lies inside the caller's buffer (the contract).
            let len = unsafe { at.cast::<i32>().read_unaligned() };
            if len <= 0 || len as u64 + 4 > u64::from(room) {
                return;
            }
            if !p.is_null() {
                // SAFETY: valid out pointer (the contract); the address follows the length.
                unsafe { p.write(at.wrapping_add(4)) };
            }
            if !n.is_null() {
                // SAFETY: valid out pointer (the contract).
                unsafe { n.write(len) };
            }
        };
        // SAFETY: offsets within the caller's buffer (the contract).
        let (l, r) = (
            out.wrapping_add(recv_len as usize),
            out.wrapping_add(recv_len as usize + local_len as usize),
        );
        read(l, local_len, local, local_size);
        read(r, remote_len, remote, remote_size);
        Ok(())
    })
}

/// `BOOL ConnectEx(SOCKET s, const struct sockaddr *name, int namelen, PVOID
/// lpSendBuffer, DWORD dwSendDataLength, LPDWORD lpdwBytesSent, LPOVERLAPPED
/// lpOverlapped)`, obtained through `SIO_GET_EXTENSION_FUNCTION_POINTER`. The socket must
/// be bound. Refused: completes with `ERROR_CONNECTION_REFUSED` (Win32) /
/// `WSAECONNREFUSED` (WSA). Errors at once: `WSA_INVALID_PARAMETER` (NULL overlapped),
/// `WSAENOTSOCK`, `WSAEINVAL` (unbound, listening, connect under way), `WSAEISCONN`.
///
/// Parameters: a bound stream socket, the destination, an optional first-data buffer, where to write the count, the `OVERLAPPED` (required).
/// Returns: TRUE on completion during the call, else FALSE with `ERROR_IO_PENDING` or the error.
/// Memory and lifetimes: the destination and the send buffer are read during the call; `*lpOverlapped` must stay valid until the completion is observed.
///
/// # Safety
/// `name` must point to `namelen` bytes, the send buffer to `dwSendDataLength` bytes;
/// `*lpOverlapped` must stay valid until the completion is observed.
// Exported as `ws2_ConnectEx`, not under its Windows name: Windows declares no such function
// (programs get it through SIO_GET_EXTENSION_FUNCTION_POINTER), so programs often name
// their own pointer variable `ConnectEx`, which would clash with an exported symbol.
#[unsafe(export_name = "ws2_ConnectEx")]
#[allow(non_snake_case)] // the Winsock name, kept for the docs and the GUID table
pub unsafe extern "C" fn ConnectEx(
    s: SOCKET,
    name: *const u8,
    namelen: i32,
    send_buf: *mut u8,
    send_len: DWORD,
    sent: *mut DWORD,
    ov: *mut OVERLAPPED,
) -> BOOL {
    ws_guard(FALSE, || {
        started()?;
        // SAFETY: `ov` comes from the caller, under the function's contract.
        unsafe { mark_pending_at_entry(ov) }?;
        let e = handles::socket(s)?;
        // SAFETY: the contract.
        let to = unsafe { addr::read(name, namelen) }?;
        if send_buf.is_null() && send_len > 0 {
            return Err(err(WsaError::WSAEFAULT));
        }
        // SAFETY: the contract.
        let p = unsafe { prepare(&e, ov, Mode::Event) }?;
        let res = if send_len > 0 {
            if !handles::readable(send_buf, send_len as usize) {
                return Err(err(WsaError::WSAEFAULT));
            }
            // Taken at the call, as Windows does: the caller may reuse the buffer as soon
            // as ConnectEx returns (Wine's test_connect clears it before the connect ends).
            // SAFETY: `send_len` readable bytes (checked above).
            let data =
                unsafe { std::slice::from_raw_parts(send_buf.cast_const(), send_len as usize) }
                    .to_vec();
            Connect::new(&e.sock, to)
                .send(data)
                .post_with_thread_callback(&p.ov, p.callback(|_| {}))
        } else {
            Connect::new(&e.sock, to).post_with_thread_callback(&p.ov, p.callback(|_| {}))
        };
        match res {
            Ok(Status::Immediate(t)) => {
                p.keep(true);
                // SAFETY: a null or valid count pointer (the contract).
                unsafe { write_count(sent, t.bytes) };
                Ok(TRUE)
            }
            Ok(Status::Pending) => {
                p.keep(false);
                Err(win32::ERROR_IO_PENDING)
            }
            Err(e) => {
                p.failed(Some(c::STATUS_PENDING));
                Err(err(e))
            }
        }
    })
}

/// Posts an already-done request so that its notification is delivered (event set,
/// routine queued) as Windows does for a synchronous success with an overlapped record.
///
/// # Safety
/// `ov` must be valid until the completion is observed.
unsafe fn notify_done(
    entry: &SockEntry,
    ov: *mut OVERLAPPED,
    routine: Option<CompletionRoutine>,
) -> Result<(), u32> {
    let mode = routine.map_or(Mode::Event, Mode::Routine);
    // SAFETY: the contract.
    let p = unsafe { prepare(entry, ov, mode) }?;
    let res = match routine {
        Some(r) => Ioctl::Done
            .on(&entry.sock)
            .post_with_routine(&p.ov, routine_adapter(r, ov, |_| {})),
        None => Ioctl::Done
            .on(&entry.sock)
            .post_with_thread_callback(&p.ov, p.callback(|_| {})),
    };
    match res {
        Ok(st) => {
            p.keep(matches!(st, Status::Immediate(_)));
            Ok(())
        }
        Err(e) => {
            p.failed(None);
            Err(err(e))
        }
    }
}

/// `BOOL DisconnectEx(SOCKET s, LPOVERLAPPED lpOverlapped, DWORD dwFlags, DWORD
/// dwReserved)`: shuts the sending side down (the socket still receives, as on
/// Windows); without a record it completes at once, with one it reports
/// `ERROR_IO_PENDING` and completes through the record's notification (event, port
/// packet). `WSAENOTCONN` if not connected. `TF_REUSE_SOCKET` is accepted but the
/// socket cannot be reused for AcceptEx/ConnectEx afterwards (see the crate's
/// `# Compatibility`).
///
/// Parameters: a connected socket, an optional `OVERLAPPED`, flags (`TF_REUSE_SOCKET` accepted), reserved.
/// Returns: TRUE (no record), or FALSE with `ERROR_IO_PENDING`, `WSAENOTCONN`, `WSAENOTSOCK`.
/// Memory and lifetimes: `*lpOverlapped` must stay valid until the completion is observed.
///
/// # Safety
/// `lpOverlapped` null or valid until the completion is observed.
// Exported as `ws2_DisconnectEx`, not under its Windows name: Windows declares no such function
// (programs get it through SIO_GET_EXTENSION_FUNCTION_POINTER), so programs often name
// their own pointer variable `DisconnectEx`, which would clash with an exported symbol.
#[unsafe(export_name = "ws2_DisconnectEx")]
#[allow(non_snake_case)] // the Winsock name, kept for the docs and the GUID table
pub unsafe extern "C" fn DisconnectEx(
    s: SOCKET,
    ov: *mut OVERLAPPED,
    _flags: DWORD,
    _reserved: DWORD,
) -> BOOL {
    ws_guard(FALSE, || {
        started()?;
        let e = handles::socket(s)?;
        // Windows ends the sending side only: the socket still receives what the peer
        // sends (Wine's test_DisconnectEx).
        e.sock.shutdown(Shutdown::Send).map_err(err)?;
        if ov.is_null() {
            return Ok(TRUE);
        }
        // With a record, Windows reports it pending and then completes it (its packet
        // is queued even with FILE_SKIP_COMPLETION_PORT_ON_SUCCESS).
        // SAFETY: the contract.
        let p = unsafe { prepare(&e, ov, Mode::Event) }?;
        let later = Ioctl::Later {
            status: NtStatus::SUCCESS,
            bytes: 0,
        };
        match later
            .on(&e.sock)
            .post_with_thread_callback(&p.ov, p.callback(|_| {}))
        {
            Ok(Status::Immediate(_)) => {
                p.keep(true);
                Ok(TRUE)
            }
            Ok(Status::Pending) => {
                p.keep(false);
                Err(win32::ERROR_IO_PENDING)
            }
            Err(e) => {
                p.failed(None);
                Err(err(e))
            }
        }
    })
}

/// `TRANSMIT_FILE_BUFFERS`: data sent before and after the file.
#[repr(C)]
#[derive(Debug)]
pub struct TRANSMIT_FILE_BUFFERS {
    /// `Head`.
    pub head: *mut u8,
    /// `HeadLength`.
    pub head_len: DWORD,
    /// `Tail`.
    pub tail: *mut u8,
    /// `TailLength`.
    pub tail_len: DWORD,
}
const _: () = assert!(size_of::<TRANSMIT_FILE_BUFFERS>() == 32);

/// `BOOL TransmitFile(SOCKET hSocket, HANDLE hFile, DWORD nNumberOfBytesToWrite, DWORD
/// nNumberOfBytesPerSend, LPOVERLAPPED lpOverlapped, LPTRANSMIT_FILE_BUFFERS
/// lpTransmitBuffers, DWORD dwReserved)`, also reachable through
/// `SIO_GET_EXTENSION_FUNCTION_POINTER`: with `hFile` NULL, sends the head and tail
/// buffers as one gathered `WSASend` (overlapped when `lpOverlapped` is given, completing
/// through its event). `TF_DISCONNECT` shuts the sending side down after a synchronous
/// send.
///
/// Returns TRUE on completion during the call, FALSE with `ERROR_IO_PENDING`, or FALSE
/// with `WSAEOPNOTSUPP` for a non-NULL `hFile` (this ABI has no file handles), or the
/// `WSASend` errors.
/// Memory and lifetimes: the buffers and `*lpOverlapped` must stay valid until the
/// completion is observed.
///
/// Parameters: a connected socket, `hFile` (must be NULL), byte counts (ignored), an optional `OVERLAPPED`, the head/tail buffers, `TF_DISCONNECT`.
///
/// # Safety
/// `lpTransmitBuffers` null or valid; its buffers readable for their lengths.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn TransmitFile(
    s: SOCKET,
    file: HANDLE,
    _n: DWORD,
    _per_send: DWORD,
    ov: *mut OVERLAPPED,
    buffers: *mut TRANSMIT_FILE_BUFFERS,
    flags: DWORD,
) -> BOOL {
    ws_guard(FALSE, || {
        started()?;
        let e = handles::socket(s)?;
        if !file.is_null() {
            return Err(err(WsaError::WSAEOPNOTSUPP));
        }
        let mut bufs = Vec::with_capacity(2);
        // SAFETY: null or valid (the contract).
        if let Some(tb) = unsafe { buffers.as_ref() } {
            if tb.head_len > 0 {
                bufs.push(WSABUF {
                    len: tb.head_len,
                    buf: tb.head,
                });
            }
            if tb.tail_len > 0 {
                bufs.push(WSABUF {
                    len: tb.tail_len,
                    buf: tb.tail,
                });
            }
        }
        if bufs.is_empty() {
            bufs.push(WSABUF {
                len: 0,
                buf: std::ptr::null_mut(),
            });
        }
        let count = u32::try_from(bufs.len()).unwrap_or(1);
        let mut sent: DWORD = 0;
        // SAFETY: the WSABUF array is captured before `transfer` returns; the buffers
        // and `ov` are the caller's, under the same contract as WSASend's.
        let r = unsafe {
            transfer(
                s,
                bufs.as_ptr(),
                count,
                &raw mut sent,
                0,
                std::ptr::null_mut(),
                ov,
                None,
                Op::Send,
            )
        };
        match r {
            Ok(_) => {
                if flags & 0x01 != 0 {
                    let _ = e.sock.shutdown(Shutdown::Send);
                }
                Ok(TRUE)
            }
            Err(code) if code == err(WsaError::WSA_IO_PENDING) => Err(win32::ERROR_IO_PENDING),
            Err(code) => Err(code),
        }
    })
}

/// `TransmitPackets`: not supported; fails with `WSAEOPNOTSUPP`.
///
/// # Safety
/// Reads nothing.
unsafe extern "C" fn transmit_packets(
    _s: SOCKET,
    _packets: *mut libc::c_void,
    _count: DWORD,
    _per_send: DWORD,
    _ov: *mut OVERLAPPED,
    _flags: DWORD,
) -> BOOL {
    set_last_error(err(WsaError::WSAEOPNOTSUPP));
    FALSE
}

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

/// `WSARecvMsg` (extension function): a WSARecvFrom into the message's buffers and
/// name that also gives the control data (`IP_PKTINFO`, `IP_TTL`, `IP_TOS`,
/// `IPV6_PKTINFO`, `IPV6_HOPLIMIT`, `IPV6_TCLASS`, in `WSACMSGHDR` layout) in
/// `Control`, and the message flags (`MSG_TRUNC`, `MSG_CTRUNC`) in `dwFlags`. Control
/// data that does not fit: `WSAEMSGSIZE` (`STATUS_BUFFER_OVERFLOW`) with `MSG_CTRUNC`,
/// the datagram received whole and counted. The message's outputs are written at
/// completion, before the notification; `*lpMsg` must stay valid until then.
///
/// # Safety
/// As [`WSARecvFrom`] for the message's members.
unsafe extern "C" fn wsa_recv_msg(
    s: SOCKET,
    msg: *mut WSAMSG,
    received: *mut DWORD,
    ov: *mut OVERLAPPED,
    routine: Option<CompletionRoutine>,
) -> i32 {
    // As on Windows: WSANOTINITIALISED, then WSAENOTSOCK, then the parameters.
    if let Err(code) = started().and_then(|()| handles::socket(s).map(drop)) {
        set_last_error(code);
        return SOCKET_ERROR;
    }
    ws_guard(SOCKET_ERROR, || {
        let e = handles::socket(s)?;
        if msg.is_null() {
            return Err(err(WsaError::WSAEFAULT));
        }
        handles::check_out(msg)?;
        // SAFETY: checked readable and writable; valid until completion (the contract).
        let m = unsafe { &*msg };
        let (name, bufs, count, flags) = (m.name, m.buffers, m.count, m.flags);
        // Too small a name buffer fails now, not after the datagram was taken.
        // SAFETY: as above; `name` null or valid for `namelen` bytes.
        unsafe { addr::check_room(e.sock.family(), name, &raw const m.namelen) }?;
        let op = Op::RecvMsg(msg as usize);
        // SAFETY: the contract; the message's outputs (name, `Control.len`, `dwFlags`)
        // are written at completion, before the notification.
        ret(unsafe {
            transfer(
                s,
                bufs,
                count,
                received,
                flags,
                std::ptr::null_mut(),
                ov,
                routine,
                op,
            )
        })
    })
}

/// `WSASendMsg` (extension function): a WSASendTo of the message's buffers (control
/// data is ignored).
///
/// # Safety
/// As [`WSASendTo`] for the message's members.
unsafe extern "C" fn wsa_send_msg(
    s: SOCKET,
    msg: *mut WSAMSG,
    flags: DWORD,
    sent: *mut DWORD,
    ov: *mut OVERLAPPED,
    routine: Option<CompletionRoutine>,
) -> i32 {
    // As on Windows: WSANOTINITIALISED, then WSAENOTSOCK, then the parameters.
    if let Err(code) = started().and_then(|()| handles::socket(s).map(drop)) {
        set_last_error(code);
        return SOCKET_ERROR;
    }
    if msg.is_null() {
        set_last_error(err(WsaError::WSAEFAULT));
        return SOCKET_ERROR;
    }
    if handles::socket(s).is_ok_and(|e| e.sock.is_stream()) {
        // Windows: WSASendMsg is for datagram sockets only (Wine's tests).
        set_last_error(err(WsaError::WSAEINVAL));
        return SOCKET_ERROR;
    }
    if let Ok(e) = handles::socket(s) {
        // Windows binds an unbound datagram socket (wildcard address, a free port) as
        // soon as WSASendMsg has a message, before the other parameters are checked: a
        // call that then fails leaves it bound too.
        bind_if_unbound(&e.sock);
    }
    // SAFETY: non-null and valid (the contract).
    let m = unsafe { &*msg };
    if m.name.is_null() {
        // SAFETY: forwarded contract.
        return unsafe { WSASend(s, m.buffers, m.count, sent, flags, ov, routine) };
    }
    // SAFETY: forwarded contract.
    unsafe {
        WSASendTo(
            s, m.buffers, m.count, sent, flags, m.name, m.namelen, ov, routine,
        )
    }
}

/// Binds `sock` to the wildcard address and a free port if it has no local address yet.
fn bind_if_unbound(sock: &overlapped::Socket) {
    if let Ok(a) = sock.local_addr()
        && a.port() == 0
        && a.ip().is_unspecified()
    {
        // A failure leaves it unbound; the send then reports what Linux says.
        let _ = sock.bind(SocketAddr::new(a.ip(), 0));
    }
}

fn extension(guid: &GUID) -> Option<usize> {
    use crate::types::*;
    let f: usize = if *guid == WSAID_ACCEPTEX {
        AcceptEx as *const () as usize
    } else if *guid == WSAID_GETACCEPTEXSOCKADDRS {
        GetAcceptExSockaddrs as *const () as usize
    } else if *guid == WSAID_CONNECTEX {
        ConnectEx as *const () as usize
    } else if *guid == WSAID_DISCONNECTEX {
        DisconnectEx as *const () as usize
    } else if *guid == WSAID_TRANSMITFILE {
        TransmitFile as *const () as usize
    } else if *guid == WSAID_TRANSMITPACKETS {
        transmit_packets as *const () as usize
    } else if *guid == WSAID_WSARECVMSG {
        wsa_recv_msg as *const () as usize
    } else if *guid == WSAID_WSASENDMSG {
        wsa_send_msg as *const () as usize
    } else {
        return None;
    };
    Some(f)
}

/// `int WSAIoctl(SOCKET s, DWORD dwIoControlCode, LPVOID lpvInBuffer, DWORD cbInBuffer,
/// LPVOID lpvOutBuffer, DWORD cbOutBuffer, LPDWORD lpcbBytesReturned, LPWSAOVERLAPPED
/// lpOverlapped, LPWSAOVERLAPPED_COMPLETION_ROUTINE lpCompletionRoutine)`.
///
/// Supported: `SIO_GET_EXTENSION_FUNCTION_POINTER` (AcceptEx, GetAcceptExSockaddrs,
/// ConnectEx, DisconnectEx, WSARecvMsg, WSASendMsg; TransmitFile and TransmitPackets
/// resolve to functions that fail with `WSAEOPNOTSUPP`; an unknown GUID gives
/// `WSAEINVAL`), `FIONBIO`, `FIONREAD`, `SIOCATMARK`, `SIO_KEEPALIVE_VALS`. With an
/// overlapped record a supported request returns 0 and still notifies (0 bytes); an
/// unsupported one pends and completes with `WSAEOPNOTSUPP`; without, it fails at once
/// with `WSAEOPNOTSUPP`. Overlapped with a NULL `lpcbBytesReturned`: `WSAEFAULT`.
///
/// Parameters: the socket, the control code, the input and output buffers with their sizes, where to write the output size, an optional `OVERLAPPED` and routine.
/// Returns: 0 (done; with an `OVERLAPPED` the notification is still delivered, 0 bytes), or `SOCKET_ERROR` with `WSA_IO_PENDING` or the error (`WSAEFAULT`, `WSAEINVAL`, `WSAEOPNOTSUPP`, `WSAENOTSOCK`).
/// Memory and lifetimes: the buffers are used during the call only; `*lpOverlapped` must stay valid until the completion is observed.
///
/// # Safety
/// The buffers must hold their stated sizes; `lpOverlapped` null or valid until the
/// completion is observed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn WSAIoctl(
    s: SOCKET,
    code: DWORD,
    input: *const u8,
    in_len: DWORD,
    output: *mut u8,
    out_len: DWORD,
    returned: *mut DWORD,
    ov: *mut OVERLAPPED,
    routine: Option<CompletionRoutine>,
) -> i32 {
    ws_guard(SOCKET_ERROR, || {
        started()?;
        let e = handles::socket(s)?;
        // A NULL size is WSAEFAULT, overlapped or not (Wine's tests: FIONREAD, SIOCATMARK,
        // SIO_KEEPALIVE_VALS, SIO_ADDRESS_LIST_QUERY, SIO_GET_INTERFACE_LIST).
        if returned.is_null() {
            return Err(err(WsaError::WSAEFAULT));
        }
        handles::check_opt_out(returned)?;
        if !ov.is_null() {
            handles::check_out(ov)?;
        }
        let in_u32 = || -> Result<u32, u32> {
            if in_len < 4 || !handles::readable(input, 4) {
                return Err(err(WsaError::WSAEFAULT));
            }
            // SAFETY: 4 readable bytes (checked; the contract).
            Ok(unsafe { input.cast::<u32>().read_unaligned() })
        };
        let write_out = |bytes: &[u8]| -> Result<(), u32> {
            if (out_len as usize) < bytes.len() || !handles::writable(output, bytes.len()) {
                return Err(err(WsaError::WSAEFAULT));
            }
            // SAFETY: `out_len` writable bytes (checked; the contract).
            unsafe { std::ptr::copy_nonoverlapping(bytes.as_ptr(), output, bytes.len()) };
            // SAFETY: a null or valid count pointer (the contract).
            unsafe { write_count(returned, bytes.len()) };
            Ok(())
        };
        let request = match code {
            c::SIO_GET_EXTENSION_FUNCTION_POINTER => {
                if (in_len as usize) < size_of::<GUID>()
                    || !handles::readable(input, size_of::<GUID>())
                {
                    return Err(err(WsaError::WSAEFAULT));
                }
                // SAFETY: a readable GUID (checked; the contract).
                let guid = unsafe { input.cast::<GUID>().read_unaligned() };
                let f = extension(&guid).ok_or(err(WsaError::WSAEINVAL))?;
                write_out(&f.to_ne_bytes())?;
                Ioctl::Done
            }
            c::FIONBIO => {
                let on = in_u32()? != 0;
                // A socket under WSAEventSelect stays non-blocking (Windows: WSAEINVAL).
                if !on && crate::events::event_select_active(&e) {
                    // SAFETY: a null or valid count pointer (the contract).
                    unsafe { write_count(returned, 0) };
                    return Err(err(WsaError::WSAEINVAL));
                }
                Ioctl::FionBio(on)
            }
            c::FIONREAD => Ioctl::FionRead,
            c::SIOCATMARK => {
                write_out(&crate::ioctls::at_mark(&e).to_ne_bytes())?;
                Ioctl::Done
            }
            crate::ioctls::SIO_ADDRESS_LIST_QUERY => {
                // SAFETY: `returned` non-null and writable, `ov` null or writable (checked above).
                unsafe { crate::ioctls::address_list_query(&e, output, out_len, returned)? }
            }
            crate::ioctls::SIO_GET_INTERFACE_LIST => {
                // SAFETY: `returned` non-null and writable, `ov` null or writable (checked above).
                unsafe { crate::ioctls::interface_list(output, out_len, returned, ov)? }
            }
            crate::ioctls::SIO_ROUTING_INTERFACE_QUERY => {
                // SAFETY: `returned` non-null and writable, `ov` null or writable (checked above).
                unsafe {
                    crate::ioctls::routing_interface_query(
                        input, in_len, output, out_len, returned,
                    )?
                }
            }
            crate::ioctls::SIO_IDEAL_SEND_BACKLOG_QUERY => {
                // SAFETY: `returned` non-null and writable, `ov` null or writable (checked above).
                unsafe { crate::ioctls::ideal_send_backlog(&e, output, out_len, returned)? }
            }
            c::SIO_BASE_HANDLE
            | crate::ioctls::SIO_BSP_HANDLE
            | crate::ioctls::SIO_BSP_HANDLE_SELECT
            | crate::ioctls::SIO_BSP_HANDLE_POLL => {
                // SAFETY: `returned` non-null and writable, `ov` null or writable (checked above).
                unsafe { crate::ioctls::base_handle(code, s, output, out_len, returned, ov)? }
            }
            crate::ioctls::SIO_ENABLE_CIRCULAR_QUEUEING => {
                // SAFETY: a null or valid count pointer (the contract).
                unsafe { write_count(returned, 0) };
                Ioctl::Done
            }
            crate::ioctls::SIO_ADDRESS_LIST_CHANGE => Ioctl::AddressListChange,
            c::SIO_KEEPALIVE_VALS => {
                if (in_len as usize) < size_of::<tcp_keepalive>()
                    || !handles::readable(input, size_of::<tcp_keepalive>())
                {
                    // SAFETY: `returned` non-null and writable, `ov` null or writable.
                    return Err(unsafe { crate::ioctls::keepalive_bad_input(returned, ov) });
                }
                // SAFETY: a readable tcp_keepalive (checked; the contract).
                let k = unsafe { input.cast::<tcp_keepalive>().read_unaligned() };
                Ioctl::KeepAlive {
                    enabled: k.onoff != 0,
                    time: std::time::Duration::from_millis(k.keepalivetime.into()),
                    interval: std::time::Duration::from_millis(k.keepaliveinterval.into()),
                }
            }
            other => Ioctl::Unsupported(other),
        };
        if ov.is_null() {
            if matches!(request, Ioctl::Unsupported(_)) {
                // SAFETY: a null or valid count pointer (the contract).
                unsafe { write_count(returned, 0) };
            }
            let out = request.run(&e.sock).map_err(err)?;
            match out {
                IoctlOutput::Value(v) => write_out(&v.to_ne_bytes())?,
                // SAFETY: a null or valid count pointer (the contract).
                IoctlOutput::None if !matches!(request, Ioctl::Done) => unsafe {
                    write_count(returned, 0)
                },
                IoctlOutput::None => {}
            }
            return Ok(0);
        }
        if let Ioctl::FionRead = request {
            // Run it now so the value is in the caller's buffer before the notification.
            if let IoctlOutput::Value(v) = request.run(&e.sock).map_err(err)? {
                write_out(&v.to_ne_bytes())?;
            }
            // SAFETY: the contract.
            unsafe { notify_done(&e, ov, routine) }?;
            return Ok(0);
        }
        let mode = routine.map_or(Mode::Event, Mode::Routine);
        // SAFETY: the contract.
        let p = unsafe { prepare(&e, ov, mode) }?;
        let res = match routine {
            Some(r) => request
                .on(&e.sock)
                .post_with_routine(&p.ov, routine_adapter(r, ov, |_| {})),
            None => request
                .on(&e.sock)
                .post_with_thread_callback(&p.ov, p.callback(|_| {})),
        };
        match res {
            Ok(Status::Immediate(_)) => {
                p.keep(true);
                // SIO_KEEPALIVE_VALS leaves the size alone unless a routine is given
                // (Wine's test_keepalive_vals).
                let keep_size = matches!(request, Ioctl::KeepAlive { .. }) && routine.is_none();
                if !matches!(request, Ioctl::Done) && !keep_size {
                    // SAFETY: a null or valid count pointer (the contract).
                    unsafe { write_count(returned, 0) };
                }
                Ok(0)
            }
            other => finish(&p, other, std::ptr::null_mut(), std::ptr::null_mut()),
        }
    })
}
