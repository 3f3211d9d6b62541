//! The overlapped calls: `WSARecv`, `WSASend`, `WSARecvFrom`, `WSASendTo`, `WSAIoctl`
//! (with the extension functions behind `SIO_GET_EXTENSION_FUNCTION_POINTER`),
//! `AcceptEx`, `GetAcceptExSockaddrs`, `ConnectEx`, `DisconnectEx`,
//! `WSAGetOverlappedResult`, `GetOverlappedResult`, `CancelIo`, `CancelIoEx`.
//!
//! # How a C `WSAOVERLAPPED` maps onto the library
//! Each post creates a library [`Overlapped`] record that mirrors its status and byte
//! count into the C structure's `Internal` and `InternalHigh` (release ordering, so
//! `HasOverlappedIoCompleted` works), signals the C `hEvent` (or, when it is NULL, the
//! socket's own signal, as Windows signals the socket handle), or runs the C completion
//! routine in the issuing thread's next alertable wait. The records live in a table keyed
//! by the C structure's address until they complete, which is how reusing a pending
//! `WSAOVERLAPPED` is refused (`WSAEINVAL`) and how `WSAGetOverlappedResult(fWait)`
//! waits for the right operation.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use overlapped::{
    Accept, BufList, Completion, Connect, Event, Ioctl, IoctlOutput, NtStatus, Overlapped, RawBuf,
    Recv, RecvFrom, Send, SendTo, Shutdown, Status, WsaError,
};

use crate::addr;
use crate::handles::{self, Object, SockEntry, guard, set_last_error, started};
use crate::types::{
    BOOL, DWORD, FALSE, GUID, HANDLE, OVERLAPPED, SOCKET, SOCKET_ERROR, TRUE, WSABUF, c,
    tcp_keepalive,
};

/// `LPWSAOVERLAPPED_COMPLETION_ROUTINE`.
pub type CompletionRoutine = unsafe extern "C" fn(DWORD, DWORD, *mut OVERLAPPED, DWORD);

fn err(e: WsaError) -> u32 {
    e.code()
}

struct Records {
    map: HashMap<usize, Arc<Overlapped>>,
    /// Sweep completed records when the table grows past this.
    sweep_at: usize,
}

static RECORDS: Mutex<Option<Records>> = Mutex::new(None);

fn records<R>(f: impl FnOnce(&mut Records) -> R) -> R {
    let mut g = RECORDS.lock().unwrap_or_else(|e| e.into_inner());
    let r = g.get_or_insert_with(|| Records { map: HashMap::new(), sweep_at: 1024 });
    f(r)
}

/// How a post notifies.
enum Mode {
    /// Event (the C `hEvent`, or the socket's signal when NULL).
    Event,
    /// The C completion routine.
    Routine(CompletionRoutine),
}

/// A prepared post: the library record bound to the C structure.
struct Prepared {
    ov: Arc<Overlapped>,
    c_ov: *mut OVERLAPPED,
    saved_internal: usize,
}

/// Binds a library record to the C `WSAOVERLAPPED` for one post.
///
/// # Safety
/// `c_ov` must point to a writable `WSAOVERLAPPED` that stays valid until the operation
/// completes.
unsafe fn prepare(entry: &SockEntry, c_ov: *mut OVERLAPPED, mode: &Mode) -> Result<Prepared, u32> {
    let key = c_ov as usize;
    if records(|r| r.map.get(&key).is_some_and(|ov| !ov.is_complete())) {
        return Err(err(WsaError::WSAEINVAL));
    }
    // SAFETY: `c_ov` is valid (the contract).
    let (h_event, saved_internal) = unsafe { ((*c_ov).hEvent, (*c_ov).Internal) };
    let ov = match mode {
        // With a routine, hEvent is ignored and free for the application's use.
        Mode::Routine(_) => Overlapped::new(),
        Mode::Event if h_event.is_null() => Overlapped::with_event(&entry.signal),
        Mode::Event => {
            // The low bit only tells completion ports to skip the packet.
            let handle = (h_event as usize) & !1;
            Overlapped::with_event(&handles::event(handle)?)
        }
    };
    // SAFETY: `Internal` and `InternalHigh` are the structure's first two aligned words,
    // valid until completion (the contract).
    unsafe { ov.set_mirror(c_ov.cast::<usize>()) };
    Ok(Prepared { ov: Arc::new(ov), c_ov, saved_internal })
}

impl Prepared {
    /// Records the post (pending or done) so a reuse while pending is refused.
    fn keep(self) {
        let key = self.c_ov as usize;
        records(|r| {
            r.map.insert(key, self.ov);
            if r.map.len() > r.sweep_at {
                r.map.retain(|_, ov| !ov.is_complete());
                r.sweep_at = r.map.len() * 2 + 1024;
            }
        });
    }

    /// An immediate failure leaves `Internal` as it was (or `STATUS_PENDING` for
    /// AcceptEx/ConnectEx, which Windows sets at entry).
    fn failed(self, internal: Option<usize>) {
        // SAFETY: valid until the operation completes, and it completed (failed) at once.
        unsafe { (*self.c_ov).Internal = internal.unwrap_or(self.saved_internal) };
    }
}

/// Turns a post's outcome into the Winsock return convention: 0 with the count written
/// when it completed at once, else `SOCKET_ERROR` with `WSA_IO_PENDING`.
fn finish(p: Prepared, r: Result<Status, WsaError>, count: *mut DWORD, flags: *mut DWORD) -> Result<i32, u32> {
    match r {
        Ok(Status::Immediate(t)) => {
            p.keep();
            if !count.is_null() {
                // SAFETY: non-null counts are valid (the callers' contracts).
                unsafe { count.write(u32::try_from(t.bytes).unwrap_or(u32::MAX)) };
            }
            if !flags.is_null() {
                // SAFETY: as above.
                unsafe { flags.write(t.flags) };
            }
            Ok(0)
        }
        Ok(Status::Pending) => {
            p.keep();
            Err(err(WsaError::WSA_IO_PENDING))
        }
        Err(e) => {
            p.failed(None);
            Err(err(e))
        }
    }
}

/// Runs the C completion routine from the library's routine.
fn routine_adapter<T>(routine: CompletionRoutine, c_ov: *mut OVERLAPPED) -> impl FnOnce(Completion<T>) + 'static {
    let c_ov = c_ov as usize;
    move |c: Completion<T>| {
        let c_ov = c_ov as *mut OVERLAPPED;
        let code = c.result.err().map_or(0, WsaError::code);
        // SAFETY: the structure stays valid until its completion has been observed, and
        // this is that observation (the WSARecv contract).
        let bytes = unsafe { (*c_ov).InternalHigh };
        // SAFETY: a C function pointer given for exactly this call.
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

/// The common body of WSARecv/WSARecvFrom/WSASend/WSASendTo.
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
    if c_ov.is_null() {
        return sync_transfer(&entry, list, done, flags_in, flags_out, op);
    }
    if let Some(r) = routine {
        // SAFETY: the caller's contract: `c_ov` valid until completion.
        let p = unsafe { prepare(&entry, c_ov, &Mode::Routine(r)) }?;
        let ov_ptr = c_ov;
        let res = match op {
            Op::Recv => Recv::new(&entry.sock, list).flags(flags_in).post_with_routine(&p.ov, routine_adapter(r, ov_ptr)),
            Op::RecvFrom(..) => RecvFrom::new(&entry.sock, list).flags(flags_in).post_with_routine(&p.ov, {
                let (from, fromlen) = op.from();
                let inner = routine_adapter(r, ov_ptr);
                move |c: Completion<overlapped::Received<BufList<RawBuf>>>| {
                    write_from(c.output.from, from, fromlen);
                    inner(Completion { result: c.result, output: () });
                }
            }),
            Op::Send => Send::new(&entry.sock, list).flags(flags_in).post_with_routine(&p.ov, routine_adapter(r, ov_ptr)),
            Op::SendTo(to) => SendTo::new(&entry.sock, list, to).flags(flags_in).post_with_routine(&p.ov, routine_adapter(r, ov_ptr)),
        };
        return finish(p, res, done, flags_out);
    }
    // SAFETY: the caller's contract.
    let p = unsafe { prepare(&entry, c_ov, &Mode::Event) }?;
    let res = match op {
        Op::Recv => Recv::new(&entry.sock, list).flags(flags_in).post(&p.ov).map(|x| x.status()),
        Op::RecvFrom(..) => {
            let (from, fromlen) = op.from();
            RecvFrom::new(&entry.sock, list).flags(flags_in).post_with_callback(&p.ov, move |c| {
                write_from(c.output.from, from, fromlen);
            })
        }
        Op::Send => Send::new(&entry.sock, list).flags(flags_in).post(&p.ov).map(|x| x.status()),
        Op::SendTo(to) => SendTo::new(&entry.sock, list, to).flags(flags_in).post(&p.ov).map(|x| x.status()),
    };
    if !entry.overlapped {
        // A socket created without WSA_FLAG_OVERLAPPED: the call blocks until done.
        if let Ok(Status::Pending) = res {
            let r = p.ov.result(true);
            p.keep();
            return match r {
                Ok(t) => {
                    write_count(done, t.bytes);
                    Ok(0)
                }
                Err(e) => Err(err(e)),
            };
        }
    }
    finish(p, res, done, flags_out)
}

fn write_count(done: *mut DWORD, bytes: usize) {
    if !done.is_null() {
        // SAFETY: non-null counts are valid (the callers' contracts).
        unsafe { done.write(u32::try_from(bytes).unwrap_or(u32::MAX)) };
    }
}

/// Where a WSARecvFrom writes the sender (kept as integers: the pointers are the
/// caller's and valid until completion).
fn write_from(from: Option<SocketAddr>, ptr: usize, len: usize) {
    if let Some(a) = from {
        // SAFETY: the WSARecvFrom contract: `lpFrom`/`lpFromlen` valid until completion.
        let _ = unsafe { addr::write(&a, ptr as *mut u8, len as *mut i32) };
    }
}

#[derive(Clone, Copy)]
enum Op {
    Recv,
    RecvFrom(usize, usize),
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
}

/// A transfer without an overlapped record: a synchronous call, honouring the socket's
/// blocking mode and timeouts.
fn sync_transfer(
    entry: &SockEntry,
    list: BufList<RawBuf>,
    done: *mut DWORD,
    flags_in: u32,
    flags_out: *mut DWORD,
    op: Op,
) -> Result<i32, u32> {
    if done.is_null() {
        return Err(err(WsaError::WSAEFAULT));
    }
    let ov = Overlapped::new();
    let posted = match op {
        Op::Recv => Recv::new(&entry.sock, list).flags(flags_in).post(&ov).map(|p| p.status()),
        Op::RecvFrom(from, fromlen) => RecvFrom::new(&entry.sock, list)
            .flags(flags_in)
            .post_with_callback(&ov, move |c| write_from(c.output.from, from, fromlen)),
        Op::Send => Send::new(&entry.sock, list).flags(flags_in).post(&ov).map(|p| p.status()),
        Op::SendTo(to) => SendTo::new(&entry.sock, list, to).flags(flags_in).post(&ov).map(|p| p.status()),
    }
    .map_err(err)?;
    let t = match posted {
        Status::Immediate(t) => t,
        Status::Pending => {
            let timeout = match op {
                Op::Send | Op::SendTo(_) => entry.sock.write_timeout(),
                _ => entry.sock.read_timeout(),
            };
            // A pending transfer on a non-blocking socket: WSAEWOULDBLOCK.
            if entry.sock.is_nonblocking() {
                entry.sock.cancel(&ov);
                return match ov.result(true) {
                    Ok(t) => {
                        write_count(done, t.bytes);
                        Ok(0)
                    }
                    Err(_) => Err(err(WsaError::WSAEWOULDBLOCK)),
                };
            }
            match ov.result_timeout(timeout) {
                Ok(t) => t,
                Err(WsaError::WSA_IO_INCOMPLETE) => {
                    entry.sock.cancel(&ov);
                    return match ov.result(true) {
                        Ok(t) => {
                            write_count(done, t.bytes);
                            Ok(0)
                        }
                        Err(_) => Err(err(WsaError::WSAETIMEDOUT)),
                    };
                }
                Err(e) => return Err(err(e)),
            }
        }
    };
    write_count(done, t.bytes);
    if !flags_out.is_null() {
        // SAFETY: non-null flags are valid (the contract).
        unsafe { flags_out.write(t.flags) };
    }
    Ok(0)
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
    guard(SOCKET_ERROR, || {
        if flags.is_null() {
            return Err(err(WsaError::WSAEFAULT));
        }
        // SAFETY: non-null and valid (the contract).
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
    guard(SOCKET_ERROR, || {
        if flags.is_null() || (!from.is_null() && fromlen.is_null()) {
            return Err(err(WsaError::WSAEFAULT));
        }
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
    guard(SOCKET_ERROR, || {
        // SAFETY: the contract.
        ret(unsafe { transfer(s, bufs, count, sent, flags, std::ptr::null_mut(), ov, routine, Op::Send) })
    })
}

/// `int WSASendTo(SOCKET s, LPWSABUF lpBuffers, DWORD dwBufferCount, LPDWORD
/// lpNumberOfBytesSent, DWORD dwFlags, const struct sockaddr *lpTo, int iTolen,
/// LPWSAOVERLAPPED lpOverlapped, LPWSAOVERLAPPED_COMPLETION_ROUTINE
/// lpCompletionRoutine)`. A non-overlapped call with a NULL count gives `WSAEFAULT`.
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
    guard(SOCKET_ERROR, || {
        started()?;
        handles::socket(s)?;
        // SAFETY: the contract.
        let dest = unsafe { addr::read(to, tolen) }?;
        // SAFETY: the contract.
        ret(unsafe { transfer(s, bufs, count, sent, flags, std::ptr::null_mut(), ov, routine, Op::SendTo(dest)) })
    })
}

/// Reads a C `OVERLAPPED`'s result: (success, bytes, NTSTATUS), waiting first if asked.
///
/// # Safety
/// `c_ov` must point to a readable `WSAOVERLAPPED`.
unsafe fn overlapped_result(c_ov: *mut OVERLAPPED, wait: bool) -> Result<(usize, NtStatus), u32> {
    let internal = || {
        // SAFETY: valid (the contract); `Internal` is written atomically with release.
        let a = unsafe { std::sync::atomic::AtomicUsize::from_ptr(c_ov.cast::<usize>()) };
        a.load(std::sync::atomic::Ordering::Acquire)
    };
    loop {
        let status = internal();
        if status != c::STATUS_PENDING {
            // SAFETY: valid (the contract).
            let bytes = unsafe { (*c_ov).InternalHigh };
            return Ok((bytes, NtStatus(u32::try_from(status).unwrap_or(u32::MAX))));
        }
        if !wait {
            return Err(err(WsaError::WSA_IO_INCOMPLETE));
        }
        match records(|r| r.map.get(&(c_ov as usize)).cloned()) {
            // Wait for the operation itself (non-alertably), outside the table lock.
            Some(rec) => {
                let _ = rec.result(true);
            }
            // Not ours (a fabricated OVERLAPPED): wait on its event, as Windows does.
            None => {
                // SAFETY: valid (the contract).
                let h = unsafe { (*c_ov).hEvent } as usize & !1;
                let ev = handles::event(h)?;
                let _ = overlapped::wait_any(&[&ev], None, false);
                let status = internal();
                // SAFETY: valid (the contract).
                let bytes = unsafe { (*c_ov).InternalHigh };
                return Ok((bytes, NtStatus(u32::try_from(status).unwrap_or(u32::MAX))));
            }
        }
    }
}

/// `BOOL WSAGetOverlappedResult(SOCKET s, LPWSAOVERLAPPED lpOverlapped, LPDWORD
/// lpcbTransfer, BOOL fWait, LPDWORD lpdwFlags)`.
///
/// Returns TRUE with the byte count (and flags: `MSG_PARTIAL` for a truncated datagram)
/// when the operation succeeded; FALSE with `WSA_IO_INCOMPLETE` while it is pending and
/// `fWait` is FALSE; FALSE with the operation's **WSA-family** error otherwise
/// (`WSAECONNRESET`, `WSA_OPERATION_ABORTED`, `WSAECONNABORTED`, ...). `fWait` waits
/// non-alertably. Errors: `WSAENOTSOCK`, `WSAEFAULT` (NULL `lpOverlapped`).
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
    guard(FALSE, || {
        started()?;
        handles::socket(s)?;
        if ov.is_null() {
            return Err(err(WsaError::WSAEFAULT));
        }
        // SAFETY: the contract.
        let (bytes, status) = unsafe { overlapped_result(ov, wait != 0) }?;
        if !flags.is_null() {
            let f = if status == NtStatus::BUFFER_OVERFLOW { c::MSG_PARTIAL } else { 0 };
            // SAFETY: non-null and valid (the contract).
            unsafe { flags.write(f) };
        }
        match status.to_wsa() {
            None => {
                write_count(transferred, bytes);
                Ok(TRUE)
            }
            Some(e) => {
                if status == NtStatus::BUFFER_OVERFLOW {
                    write_count(transferred, bytes);
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
            return Err(crate::types::win32::ERROR_INVALID_PARAMETER);
        }
        // SAFETY: the contract.
        let (bytes, status) = unsafe { overlapped_result(ov, wait != 0) }?;
        write_count(transferred, bytes);
        match status.to_win32() {
            0 => Ok(TRUE),
            code => Err(code),
        }
    })
}

/// `BOOL CancelIo(HANDLE hFile)`: cancels the calling thread's pending operations on
/// the socket; TRUE even if there were none.
///
/// # Safety
/// Always safe to call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn CancelIo(h: HANDLE) -> BOOL {
    guard(FALSE, || {
        let e = handles::socket(h as usize).map_err(|_| crate::types::win32::ERROR_INVALID_HANDLE)?;
        e.sock.cancel_from_this_thread();
        Ok(TRUE)
    })
}

/// `BOOL CancelIoEx(HANDLE hFile, LPOVERLAPPED lpOverlapped)`: cancels that operation
/// (or all of the socket's, with NULL) from any thread; FALSE with `ERROR_NOT_FOUND`
/// when nothing matched. Cancelled operations complete with `ERROR_OPERATION_ABORTED`.
///
/// # Safety
/// `lpOverlapped` is only compared, never dereferenced.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn CancelIoEx(h: HANDLE, ov: *mut OVERLAPPED) -> BOOL {
    guard(FALSE, || {
        let e = handles::socket(h as usize).map_err(|_| crate::types::win32::ERROR_INVALID_HANDLE)?;
        let found = if ov.is_null() {
            e.sock.cancel_all() > 0
        } else {
            let rec = records(|r| r.map.get(&(ov as usize)).cloned());
            // An AcceptEx belongs to the listener; look on this socket only, as Windows does.
            rec.is_some_and(|o| e.sock.cancel(&o))
        };
        if found { Ok(TRUE) } else { Err(crate::types::win32::ERROR_NOT_FOUND) }
    })
}

/// Writes one AcceptEx address block: `[i32 length][Windows sockaddr]`.
fn write_block(at: usize, room: usize, a: Option<SocketAddr>) {
    let Some(a) = a else { return };
    let bytes = addr::encode(&a);
    if room < bytes.len() + 4 {
        return;
    }
    let len = i32::try_from(bytes.len()).unwrap_or(0).to_ne_bytes();
    // SAFETY: the AcceptEx contract: the output buffer holds `room` writable bytes at
    // `at` until the completion is observed (checked to fit above).
    unsafe {
        std::ptr::copy_nonoverlapping(len.as_ptr(), at as *mut u8, 4);
        std::ptr::copy_nonoverlapping(bytes.as_ptr(), (at as *mut u8).add(4), bytes.len());
    }
}

/// `BOOL AcceptEx(SOCKET sListenSocket, SOCKET sAcceptSocket, PVOID lpOutputBuffer,
/// DWORD dwReceiveDataLength, DWORD dwLocalAddressLength, DWORD dwRemoteAddressLength,
/// LPDWORD lpdwBytesReceived, LPOVERLAPPED lpOverlapped)`.
///
/// Accepts into `sAcceptSocket`. The output buffer receives the first
/// `dwReceiveDataLength` bytes of data (the operation then completes only when data
/// arrives, or with 0 bytes if the peer closes first), then the local and the remote
/// address blocks; read them with [`GetAcceptExSockaddrs`]. Each address length must be
/// at least the address size + 16. Returns TRUE on immediate completion (writing
/// `*lpdwBytesReceived`), else FALSE with `ERROR_IO_PENDING` or an error:
/// `WSAENOTSOCK`, `WSA_INVALID_PARAMETER` (NULL `lpOverlapped`), `WSAEFAULT` (NULL
/// buffer, address lengths too small), `WSAEINVAL` (not listening, acceptor bound,
/// connected or already the target of a pending AcceptEx). `Internal` is set to
/// `STATUS_PENDING` at entry, even on immediate failure, as Windows does.
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
    guard(FALSE, || {
        started()?;
        if ov.is_null() {
            return Err(err(WsaError::WSA_INVALID_PARAMETER));
        }
        // SAFETY: non-null and valid (the contract).
        let saved = unsafe { (*ov).Internal };
        // SAFETY: as above; Windows marks it pending at entry.
        unsafe { (*ov).Internal = c::STATUS_PENDING };
        let fail = |code: u32| -> Result<BOOL, u32> { Err(code) };
        let _ = saved;
        let l = handles::socket(listen)?;
        let a = handles::socket(accept)?;
        if out.is_null() {
            return fail(err(WsaError::WSAEFAULT));
        }
        let need = if a.sock.family() == overlapped::Family::V6 { 28 + 16 } else { 16 + 16 };
        if remote_len < need || local_len < need {
            return fail(err(WsaError::WSAEFAULT));
        }
        // SAFETY: the contract: `ov` valid until completion.
        let p = unsafe { prepare(&l, ov, &Mode::Event) }?;
        let base = out as usize + recv_len as usize;
        let (ll, rl) = (local_len as usize, remote_len as usize);
        let mut op = Accept::new(&l.sock, &a.sock).on_addresses(move |local, remote| {
            write_block(base, ll, local);
            write_block(base + ll, rl, remote);
        });
        let res = if recv_len > 0 {
            // SAFETY: the contract: `recv_len` writable bytes until completion.
            let buf = unsafe { RawBuf::new(out, recv_len as usize) };
            op.receive(buf).post(&p.ov).map(|x| x.status())
        } else {
            op = op;
            op.post(&p.ov).map(|x| x.status())
        };
        match res {
            Ok(Status::Immediate(t)) => {
                p.keep();
                write_count(received, t.bytes);
                Ok(TRUE)
            }
            Ok(Status::Pending) => {
                p.keep();
                Err(crate::types::win32::ERROR_IO_PENDING)
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
                unsafe { p.write(at.add(4)) };
            }
            if !n.is_null() {
                // SAFETY: valid out pointer (the contract).
                unsafe { n.write(len) };
            }
        };
        // SAFETY: offsets within the caller's buffer (the contract).
        let (l, r) = unsafe { (out.add(recv_len as usize), out.add(recv_len as usize + local_len as usize)) };
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
/// # Safety
/// `name` must point to `namelen` bytes; the send buffer and `*lpOverlapped` must stay
/// valid until the completion is observed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ConnectEx(
    s: SOCKET,
    name: *const u8,
    namelen: i32,
    send_buf: *mut u8,
    send_len: DWORD,
    sent: *mut DWORD,
    ov: *mut OVERLAPPED,
) -> BOOL {
    guard(FALSE, || {
        started()?;
        if ov.is_null() {
            return Err(err(WsaError::WSA_INVALID_PARAMETER));
        }
        // SAFETY: non-null, valid (the contract); Windows marks it pending at entry.
        unsafe { (*ov).Internal = c::STATUS_PENDING };
        let e = handles::socket(s)?;
        // SAFETY: the contract.
        let to = unsafe { addr::read(name, namelen) }?;
        if send_buf.is_null() && send_len > 0 {
            return Err(err(WsaError::WSAEFAULT));
        }
        // SAFETY: the contract.
        let p = unsafe { prepare(&e, ov, &Mode::Event) }?;
        let res = if send_len > 0 {
            // SAFETY: the contract: `send_len` readable bytes until completion.
            let data = unsafe { RawBuf::new(send_buf, send_len as usize) };
            Connect::new(&e.sock, to).send(data).post(&p.ov).map(|x| x.status())
        } else {
            Connect::new(&e.sock, to).post(&p.ov).map(|x| x.status())
        };
        match res {
            Ok(Status::Immediate(t)) => {
                p.keep();
                write_count(sent, t.bytes);
                Ok(TRUE)
            }
            Ok(Status::Pending) => {
                p.keep();
                Err(crate::types::win32::ERROR_IO_PENDING)
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
unsafe fn notify_done(entry: &SockEntry, ov: *mut OVERLAPPED, routine: Option<CompletionRoutine>) -> Result<(), u32> {
    let mode = routine.map_or(Mode::Event, Mode::Routine);
    // SAFETY: the contract.
    let p = unsafe { prepare(entry, ov, &mode) }?;
    let res = match routine {
        Some(r) => Ioctl::Done.on(&entry.sock).post_with_routine(&p.ov, routine_adapter(r, ov)),
        None => Ioctl::Done.on(&entry.sock).post(&p.ov).map(|x| x.status()),
    };
    p.keep();
    res.map(drop).map_err(err)
}

/// `BOOL DisconnectEx(SOCKET s, LPOVERLAPPED lpOverlapped, DWORD dwFlags, DWORD
/// dwReserved)`: shuts the connection down (both directions) and completes at once;
/// with an overlapped record, its notification is still delivered. `WSAENOTCONN` if not
/// connected. `TF_REUSE_SOCKET` is accepted but the socket cannot be reused for
/// AcceptEx/ConnectEx afterwards (see the crate's `# Compatibility`).
///
/// # Safety
/// `lpOverlapped` null or valid until the completion is observed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn DisconnectEx(s: SOCKET, ov: *mut OVERLAPPED, _flags: DWORD, _reserved: DWORD) -> BOOL {
    guard(FALSE, || {
        started()?;
        let e = handles::socket(s)?;
        e.sock.shutdown(Shutdown::Both).map_err(err)?;
        if !ov.is_null() {
            // SAFETY: the contract.
            unsafe { notify_done(&e, ov, None) }?;
        }
        Ok(TRUE)
    })
}

/// `TransmitFile`: not supported (there are no file handles in this ABI); fails with
/// `WSAEOPNOTSUPP`.
///
/// # Safety
/// Reads nothing.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn TransmitFile(
    _s: SOCKET,
    _file: HANDLE,
    _n: DWORD,
    _per_send: DWORD,
    _ov: *mut OVERLAPPED,
    _buffers: *mut libc::c_void,
    _flags: DWORD,
) -> BOOL {
    set_last_error(err(WsaError::WSAEOPNOTSUPP));
    FALSE
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
pub struct WSAMSG {
    name: *mut u8,
    namelen: i32,
    buffers: *mut WSABUF,
    count: DWORD,
    control: WSABUF,
    flags: DWORD,
}

/// `WSARecvMsg` (extension function): a WSARecvFrom into the message's buffers and
/// name; no control data is produced (`Control.len` becomes 0).
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
    if msg.is_null() {
        set_last_error(err(WsaError::WSAEFAULT));
        return SOCKET_ERROR;
    }
    // SAFETY: non-null and valid (the contract).
    let m = unsafe { &mut *msg };
    m.control.len = 0;
    let name = if m.name.is_null() { std::ptr::null_mut() } else { &raw mut m.namelen };
    // SAFETY: forwarded contract.
    unsafe { WSARecvFrom(s, m.buffers, m.count, received, &raw mut m.flags, m.name, name, ov, routine) }
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
    if msg.is_null() {
        set_last_error(err(WsaError::WSAEFAULT));
        return SOCKET_ERROR;
    }
    // SAFETY: non-null and valid (the contract).
    let m = unsafe { &*msg };
    if m.name.is_null() {
        // SAFETY: forwarded contract.
        return unsafe { WSASend(s, m.buffers, m.count, sent, flags, ov, routine) };
    }
    // SAFETY: forwarded contract.
    unsafe { WSASendTo(s, m.buffers, m.count, sent, flags, m.name, m.namelen, ov, routine) }
}

fn extension(guid: &GUID) -> Option<usize> {
    use crate::types::*;
    let f: usize = if *guid == WSAID_ACCEPTEX {
        AcceptEx as usize
    } else if *guid == WSAID_GETACCEPTEXSOCKADDRS {
        GetAcceptExSockaddrs as usize
    } else if *guid == WSAID_CONNECTEX {
        ConnectEx as usize
    } else if *guid == WSAID_DISCONNECTEX {
        DisconnectEx as usize
    } else if *guid == WSAID_TRANSMITFILE {
        TransmitFile as usize
    } else if *guid == WSAID_TRANSMITPACKETS {
        transmit_packets as usize
    } else if *guid == WSAID_WSARECVMSG {
        wsa_recv_msg as usize
    } else if *guid == WSAID_WSASENDMSG {
        wsa_send_msg as usize
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
    guard(SOCKET_ERROR, || {
        started()?;
        let e = handles::socket(s)?;
        if !ov.is_null() && returned.is_null() {
            return Err(err(WsaError::WSAEFAULT));
        }
        let in_u32 = || -> Result<u32, u32> {
            if input.is_null() || in_len < 4 {
                return Err(err(WsaError::WSAEFAULT));
            }
            // SAFETY: 4 readable bytes (checked; the contract).
            Ok(unsafe { input.cast::<u32>().read_unaligned() })
        };
        let write_out = |bytes: &[u8]| -> Result<(), u32> {
            if output.is_null() || (out_len as usize) < bytes.len() {
                return Err(err(WsaError::WSAEFAULT));
            }
            // SAFETY: `out_len` writable bytes (checked; the contract).
            unsafe { std::ptr::copy_nonoverlapping(bytes.as_ptr(), output, bytes.len()) };
            write_count(returned, bytes.len());
            Ok(())
        };
        let request = match code {
            c::SIO_GET_EXTENSION_FUNCTION_POINTER => {
                if input.is_null() || (in_len as usize) < size_of::<GUID>() {
                    return Err(err(WsaError::WSAEFAULT));
                }
                // SAFETY: a readable GUID (checked; the contract).
                let guid = unsafe { input.cast::<GUID>().read_unaligned() };
                let f = extension(&guid).ok_or(err(WsaError::WSAEINVAL))?;
                write_out(&f.to_ne_bytes())?;
                Ioctl::Done
            }
            c::FIONBIO => Ioctl::FionBio(in_u32()? != 0),
            c::FIONREAD => Ioctl::FionRead,
            c::SIOCATMARK => {
                write_out(&1u32.to_ne_bytes())?;
                Ioctl::Done
            }
            c::SIO_KEEPALIVE_VALS => {
                if input.is_null() || (in_len as usize) < size_of::<tcp_keepalive>() {
                    return Err(err(WsaError::WSAEFAULT));
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
                write_count(returned, 0);
            }
            let out = request.run(&e.sock).map_err(err)?;
            match out {
                IoctlOutput::Value(v) => write_out(&v.to_ne_bytes())?,
                IoctlOutput::None if !matches!(request, Ioctl::Done) => write_count(returned, 0),
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
        let p = unsafe { prepare(&e, ov, &mode) }?;
        let res = match routine {
            Some(r) => request.on(&e.sock).post_with_routine(&p.ov, routine_adapter(r, ov)),
            None => request.on(&e.sock).post(&p.ov).map(|x| x.status()),
        };
        match res {
            Ok(Status::Immediate(_)) => {
                p.keep();
                if !matches!(request, Ioctl::Done) {
                    write_count(returned, 0);
                }
                Ok(0)
            }
            other => finish(p, other, std::ptr::null_mut(), std::ptr::null_mut()),
        }
    })
}
