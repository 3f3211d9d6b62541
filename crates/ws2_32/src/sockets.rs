//! The plain socket calls: `socket`, `bind`, `listen`, `accept`, `connect`,
//! `closesocket`, `shutdown`, options, addresses, `ioctlsocket`, `send`/`recv`,
//! `sendto`/`recvfrom`, `select`, `WSAPoll`.
//!
//! Functions whose names glibc also exports are exported as `ws2_<name>`; the headers
//! bind the Winsock names to those symbols with asm labels, so the C library's own
//! `bind`, `accept` and friends stay untouched for the rest of the process.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use overlapped::{Event, Kind, Shutdown, Socket, WsaError};

use crate::addr;
use crate::handles::{self, Object, SockEntry, started, ws_guard};
use crate::types::{INVALID_SOCKET, SOCKET, SOCKET_ERROR, WSABUF, c};

fn err(e: WsaError) -> u32 {
    e.code()
}

/// Registers a new socket; returns its handle.
pub(crate) fn register(sock: Socket, overlapped: bool) -> Result<SOCKET, u32> {
    let entry = SockEntry {
        sock,
        signal: Event::new_manual(),
        overlapped,
        select: Mutex::new(None),
        reuse: AtomicBool::new(false),
        exclusive: AtomicBool::new(false),
        iocp: Default::default(),
        handles: std::sync::atomic::AtomicUsize::new(1),
        send_tail: Default::default(),
    };
    handles::insert(Object::Socket(Arc::new(entry)))
}

/// `SOCK_RAW`.
const SOCK_RAW: i32 = 3;

/// Creates a socket as Windows matches `(af, type, protocol)` against its protocol
/// catalog (Wine's test_WSASocket records the outcomes): `AF_UNSPEC` with protocol 0 is
/// `WSAEINVAL`; a type of 0 is the first catalog entry for the protocol (TCP or 0: a
/// stream, UDP: a datagram socket, another IP protocol up to 255: raw); then an unknown
/// type is `WSAESOCKTNOSUPPORT`, an unknown family `WSAEAFNOSUPPORT` (`AF_UNSPEC` is
/// `AF_INET`), a protocol the type does not carry `WSAEPROTONOSUPPORT`.
///
/// # Compatibility
/// Raw sockets are not provided: `SOCK_RAW` is `WSAEACCES`, what Windows answers a
/// process that may not open one.
fn create(af: i32, ty: i32, protocol: i32, overlapped: bool) -> Result<SOCKET, u32> {
    started()?;
    if af == c::AF_UNSPEC && protocol == 0 {
        return Err(err(WsaError::WSAEINVAL));
    }
    let ty = match (ty, protocol) {
        (0, 0 | c::IPPROTO_TCP) => c::SOCK_STREAM,
        (0, c::IPPROTO_UDP) => c::SOCK_DGRAM,
        (0, 1..=255) => SOCK_RAW,
        (0, _) => return Err(err(WsaError::WSAEPROTONOSUPPORT)),
        (t, _) => t,
    };
    let kind = match ty {
        c::SOCK_STREAM => Some(Kind::Stream),
        c::SOCK_DGRAM => Some(Kind::Datagram),
        SOCK_RAW => None,
        _ => return Err(err(WsaError::WSAESOCKTNOSUPPORT)),
    };
    let af = if af == c::AF_UNSPEC { c::AF_INET } else { af };
    let family = addr::family_to_linux(af).ok_or(err(WsaError::WSAEAFNOSUPPORT))?;
    let Some(kind) = kind else {
        return Err(err(if (0..=255).contains(&protocol) {
            WsaError::WSAEACCES
        } else {
            WsaError::WSAEPROTONOSUPPORT
        }));
    };
    match (kind, protocol) {
        (_, 0) | (Kind::Stream, c::IPPROTO_TCP) | (Kind::Datagram, c::IPPROTO_UDP) => {}
        _ => return Err(err(WsaError::WSAEPROTONOSUPPORT)),
    }
    let sock = Socket::new(family, kind).map_err(err)?;
    crate::sockopt::apply_defaults(&sock);
    register(sock, overlapped)
}

/// `SOCKET socket(int af, int type, int protocol)`: an overlapped-capable socket, as on
/// Windows. `AF_INET`/`AF_INET6` (23) with `SOCK_STREAM`/`SOCK_DGRAM`.
///
/// Returns the socket, or `INVALID_SOCKET` with `WSANOTINITIALISED`,
/// `WSAEAFNOSUPPORT`, `WSAESOCKTNOSUPPORT`, `WSAEPROTONOSUPPORT`, `WSAEMFILE`.
///
/// Parameters: the Windows family (`AF_INET`, `AF_INET6` = 23), type and protocol.
/// Memory and lifetimes: the socket lives until `closesocket` (or `WSACleanup`).
///
/// # Safety
/// Always safe to call.
#[unsafe(export_name = "ws2_socket")]
pub unsafe extern "C" fn socket(af: i32, ty: i32, protocol: i32) -> SOCKET {
    ws_guard(INVALID_SOCKET, || {
        create(af, ty, protocol, crate::sockopt::open_type() == 0)
    })
}

/// `SOCKET WSASocketA(int af, int type, int protocol, LPWSAPROTOCOL_INFOA lpProtocolInfo,
/// GROUP g, DWORD dwFlags)`. `g` is ignored; `dwFlags` may carry `WSA_FLAG_OVERLAPPED`
/// (without it, overlapped calls on the socket block until done, as on Windows). With
/// `lpProtocolInfo` filled by `WSADuplicateSocketA`, the new handle is that duplicate
/// (`af`, `type` and `protocol` are not used); with another record (a catalog entry),
/// an `af`, `type` or `protocol` of 0 or `FROM_PROTOCOL_INFO` is taken from it.
///
/// Parameters: as `socket`, plus `lpProtocolInfo` (NULL, or a record), `g` (ignored), `dwFlags` (`WSA_FLAG_OVERLAPPED`).
/// Returns: the socket, or `INVALID_SOCKET` with the errors of `socket`, and `WSAEFAULT`
/// for an unreadable record.
/// Memory and lifetimes: the socket lives until `closesocket` (or `WSACleanup`); the
/// record is read during the call only.
///
/// # Safety
/// `info` must be NULL or point to a `WSAPROTOCOL_INFOA` (an unreadable one is refused).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn WSASocketA(
    af: i32,
    ty: i32,
    protocol: i32,
    info: *mut crate::protocols::WSAPROTOCOL_INFO<u8>,
    _group: u32,
    flags: u32,
) -> SOCKET {
    ws_guard(INVALID_SOCKET, || {
        let overlapped = flags & c::WSA_FLAG_OVERLAPPED != 0;
        if info.is_null() {
            return create(af, ty, protocol, overlapped);
        }
        started()?;
        // The fields both character sets share come before `szProtocol`.
        let head = std::mem::offset_of!(crate::protocols::WSAPROTOCOL_INFO<u8>, szProtocol);
        if !handles::readable(info.cast(), head) {
            return Err(err(WsaError::WSAEFAULT));
        }
        // SAFETY: the record's shared head is readable (checked above).
        if let Some(dup) = unsafe { crate::duplicate::take(info.cast()) } {
            // Another handle to the source's socket (the record counted it already).
            let counted = Arc::clone(&dup);
            return handles::insert(Object::Socket(dup)).inspect_err(|_| {
                counted.handles.fetch_sub(1, Ordering::AcqRel);
            });
        }
        let field = |at: usize| {
            let p = info.cast::<u8>().wrapping_add(at).cast::<i32>();
            // SAFETY: the field lies in the record's head, readable (checked above).
            unsafe { p.read_unaligned() }
        };
        use crate::protocols::WSAPROTOCOL_INFO as Info;
        let i_af = field(std::mem::offset_of!(Info<u8>, iAddressFamily));
        let i_ty = field(std::mem::offset_of!(Info<u8>, iSocketType));
        let i_proto = field(std::mem::offset_of!(Info<u8>, iProtocol));
        let pick = |v: i32, from: i32| {
            if v == 0 || v == FROM_PROTOCOL_INFO {
                from
            } else {
                v
            }
        };
        // With a record, the family is not inferred: it must name one.
        let af = pick(af, i_af);
        if addr::family_to_linux(af).is_none() {
            return Err(err(WsaError::WSAEAFNOSUPPORT));
        }
        create(af, pick(ty, i_ty), pick(protocol, i_proto), overlapped)
    })
}

/// `FROM_PROTOCOL_INFO`: take the value from the protocol record.
const FROM_PROTOCOL_INFO: i32 = -1;

/// `WSASocketW`: as [`WSASocketA`], with a `WSAPROTOCOL_INFOW` (its fields up to
/// `szProtocol` are laid out as the `A` record's, and only those are read).
///
/// Parameters: as `WSASocketA`.
/// Returns: as `WSASocketA`.
/// Memory and lifetimes: as `WSASocketA`.
///
/// # Safety
/// As `WSASocketA`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn WSASocketW(
    af: i32,
    ty: i32,
    protocol: i32,
    info: *mut crate::protocols::WSAPROTOCOL_INFO<u16>,
    group: u32,
    flags: u32,
) -> SOCKET {
    // SAFETY: the two records agree up to `szProtocol`, the only part read (the contract).
    unsafe { WSASocketA(af, ty, protocol, info.cast(), group, flags) }
}

/// `int bind(SOCKET s, const struct sockaddr *name, int namelen)`.
///
/// Parameters: a Windows `sockaddr` (`AF_INET` 2, `AF_INET6` 23) of `namelen` bytes.
/// Returns 0 or `SOCKET_ERROR` (`WSAENOTSOCK`, `WSAEFAULT`, `WSAEADDRINUSE`,
/// `WSAEADDRNOTAVAIL`, `WSAEINVAL`). Memory and lifetimes: `name` is read during the
/// call only.
///
/// # Compatibility
/// Windows lets a server bind its port again while old connections on it linger in
/// TIME_WAIT; Linux does that only with its `SO_REUSEADDR`, so stream sockets are bound
/// with it (unless `SO_EXCLUSIVEADDRUSE` was set). Windows' own `SO_REUSEADDR` (binding
/// a port another socket is actively using) is not reproduced.
///
/// # Safety
/// `name` must be null or point to `namelen` readable bytes.
#[unsafe(export_name = "ws2_bind")]
pub unsafe extern "C" fn bind(s: SOCKET, name: *const u8, namelen: i32) -> i32 {
    ws_guard(SOCKET_ERROR, || {
        started()?;
        let e = handles::socket(s)?;
        // SAFETY: the caller's contract.
        let a = unsafe { addr::read(name, namelen) }?;
        if !e.sock.is_stream() {
            e.sock.bind(a).map_err(err)?;
            return Ok(0);
        }
        // One bind at a time, so two binds of one address cannot both pass the check.
        let mut bound = BOUND.lock().unwrap_or_else(|p| p.into_inner());
        bound.retain(|(w, _)| w.strong_count() > 0);
        let claim = Claim::of(&e, &a);
        for (other, at) in bound.iter() {
            if let Some(other) = other.upgrade()
                && !std::ptr::eq(Arc::as_ptr(&other), Arc::as_ptr(&e))
                && let Some(code) = bind_conflict(&Claim::of(&other, at), &claim)
            {
                return Err(err(code));
            }
        }
        // Every stream socket, exclusive ones included: the table above decides within
        // the process (an exclusive socket's claim), Linux only between processes.
        e.sock.set_reuse_address(true).map_err(err)?;
        e.sock.bind(a).map_err(err)?;
        let at = e.sock.local_addr().unwrap_or(a);
        bound.push((Arc::downgrade(&e), at));
        Ok(0)
    })
}

/// The stream sockets bound by [`bind`] and their addresses, while they are open.
///
/// Linux's `SO_REUSEADDR`, which every stream socket is bound with so that a port in
/// TIME_WAIT can be bound again as on Windows, also lets two sockets bind one address
/// while neither listens. Windows decides by its own table ([`bind_conflict`]:
/// `SO_EXCLUSIVEADDRUSE`, its `SO_REUSEADDR`, wildcards, dual-stack sockets), applied
/// here to the process's own sockets. (So an exclusive socket keeps other processes
/// out only once it listens, where Linux refuses every other bind.)
static BOUND: Mutex<Vec<(std::sync::Weak<SockEntry>, std::net::SocketAddr)>> =
    Mutex::new(Vec::new());

/// What a bound (or binding) stream socket claims: its address (an IPv4-mapped IPv6
/// address counts as IPv4), whether it is an IPv6 wildcard that also takes IPv4
/// (`IPV6_V6ONLY` off), and its `SO_EXCLUSIVEADDRUSE` / Windows `SO_REUSEADDR`.
struct Claim {
    ip: std::net::IpAddr,
    port: u16,
    dual: bool,
    exclusive: bool,
    reuse: bool,
}

impl Claim {
    fn of(e: &SockEntry, at: &std::net::SocketAddr) -> Self {
        use std::net::IpAddr;
        let ip = match at.ip() {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
            v4 => v4,
        };
        let dual = ip.is_ipv6() && ip.is_unspecified() && {
            let mut v = [0u8; 4];
            e.sock
                .option_bytes(libc::IPPROTO_IPV6, libc::IPV6_V6ONLY, &mut v)
                .is_ok_and(|_| i32::from_ne_bytes(v) == 0)
        };
        Claim {
            ip,
            port: at.port(),
            dual,
            exclusive: e.exclusive.load(Ordering::Relaxed),
            reuse: e.reuse.load(Ordering::Relaxed),
        }
    }
}

/// Whether Windows refuses binding `new` while `old` holds its port, and with what
/// (Wine's test_reuseaddr and test_ipv6only record the table):
/// - the same address: allowed if both asked for `SO_REUSEADDR`; `WSAEACCES` if only
///   `new` did; else `WSAEADDRINUSE`;
/// - `old` a wildcard, `new` a specific address of its family (or any IPv4 address
///   under a dual-stack IPv6 wildcard): allowed, unless `old` is exclusive
///   (`WSAEACCES`);
/// - `new` a wildcard over `old`'s specific address (or a dual-stack IPv6 wildcard over
///   an IPv4 one): allowed, unless `new` asks to be exclusive (`WSAEADDRINUSE`);
/// - different addresses, or families that do not meet: allowed.
fn bind_conflict(old: &Claim, new: &Claim) -> Option<WsaError> {
    if old.port != new.port || old.port == 0 {
        return None;
    }
    if old.ip.is_ipv4() == new.ip.is_ipv4() {
        if old.ip == new.ip {
            // (An exclusive `old` has no `SO_REUSEADDR`: `WSAEACCES` only for a `new`
            // that asks for it.)
            return match (old.reuse, new.reuse) {
                (true, true) => None,
                // Taking over a port whose owner did not allow it.
                (false, true) => Some(WsaError::WSAEACCES),
                _ => Some(WsaError::WSAEADDRINUSE),
            };
        }
        if old.ip.is_unspecified() {
            return old.exclusive.then_some(WsaError::WSAEACCES);
        }
        if new.ip.is_unspecified() {
            return new.exclusive.then_some(WsaError::WSAEADDRINUSE);
        }
        return None;
    }
    // Different families: only a dual-stack IPv6 wildcard reaches IPv4 addresses.
    if old.dual && new.ip.is_ipv4() {
        return old.exclusive.then_some(WsaError::WSAEACCES);
    }
    if new.dual && old.ip.is_ipv4() {
        return new.exclusive.then_some(WsaError::WSAEADDRINUSE);
    }
    None
}

/// `int listen(SOCKET s, int backlog)`.
///
/// Parameters: a bound stream socket, the backlog (clamped to 1..=4096).
/// Returns: 0, or `SOCKET_ERROR` with `WSAENOTSOCK`, `WSAEOPNOTSUPP` (datagram), `WSAEINVAL`.
/// Memory and lifetimes: nothing is kept.
///
/// # Safety
/// Always safe to call.
#[unsafe(export_name = "ws2_listen")]
pub unsafe extern "C" fn listen(s: SOCKET, backlog: i32) -> i32 {
    ws_guard(SOCKET_ERROR, || {
        started()?;
        let e = handles::socket(s)?;
        if !e.sock.is_stream() {
            return Err(err(WsaError::WSAEOPNOTSUPP));
        }
        // Windows refuses to listen on an unbound socket (Linux would bind it to an
        // ephemeral port).
        if e.sock.local_addr().map_or(true, |a| a.port() == 0) {
            return Err(err(WsaError::WSAEINVAL));
        }
        e.sock.listen(backlog.clamp(1, 4096)).map_err(err)?;
        Ok(0)
    })
}

/// `SOCKET accept(SOCKET s, struct sockaddr *addr, int *addrlen)`: blocks unless the
/// socket is non-blocking (`WSAEWOULDBLOCK`). The new socket is overlapped-capable.
///
/// Parameters: a listening socket, where to write the peer address (may be NULL) and its size.
/// Returns: the new socket, or `INVALID_SOCKET` with `WSAEWOULDBLOCK`, `WSAEINVAL` (not listening), `WSAEFAULT`, `WSAENOTSOCK`.
/// Memory and lifetimes: the address is written before return; the new socket lives until `closesocket`.
///
/// # Safety
/// `addr` must be null or point to `*addrlen` writable bytes; `addrlen` null or valid.
#[unsafe(export_name = "ws2_accept")]
pub unsafe extern "C" fn accept(s: SOCKET, address: *mut u8, addrlen: *mut i32) -> SOCKET {
    ws_guard(INVALID_SOCKET, || {
        started()?;
        let e = handles::socket(s)?;
        // Windows ignores the address buffer when there is no length (Wine's tests).
        let address = if addrlen.is_null() {
            std::ptr::null_mut()
        } else {
            address
        };
        // Before accepting: a connection taken and then not delivered would be lost.
        // SAFETY: `addrlen` null or valid (the contract).
        unsafe { addr::check_room(e.sock.family(), address, addrlen) }?;
        let (sock, peer) = take_connection(&e)?;
        // SAFETY: the caller's contract.
        unsafe { addr::write(&peer, address, addrlen) }?;
        register_accepted(s, &e, sock)
    })
}

/// Registers a socket accepted from the listener `s` (`accept`, `WSAAccept`), with the
/// listener's options ([`crate::sockopt::inherit`]).
fn register_accepted(s: SOCKET, e: &Arc<SockEntry>, sock: Socket) -> Result<SOCKET, u32> {
    let new = register(sock, true)?;
    if let Ok(n) = handles::socket(new) {
        crate::sockopt::inherit(s, e, new, &n);
    }
    Ok(new)
}

/// The next connection of a listener: one a condition function deferred (the library
/// holds it), else a new one (`accept`'s blocking rules).
fn take_connection(e: &Arc<SockEntry>) -> Result<(Socket, std::net::SocketAddr), u32> {
    let accepted = e.sock.accept();
    crate::events::read_called(e);
    accepted.map_err(err)
}

/// `LPCONDITIONPROC`: `int CALLBACK ConditionFunc(LPWSABUF lpCallerId, LPWSABUF
/// lpCallerData, LPQOS lpSQOS, LPQOS lpGQOS, LPWSABUF lpCalleeId, LPWSABUF lpCalleeData,
/// GROUP *g, DWORD_PTR dwCallbackData)`.
pub type ConditionProc = unsafe extern "C" fn(
    *mut WSABUF,
    *mut WSABUF,
    *mut libc::c_void,
    *mut libc::c_void,
    *mut WSABUF,
    *mut WSABUF,
    *mut u32,
    usize,
) -> i32;

/// `CF_ACCEPT`, `CF_REJECT`, `CF_DEFER`.
const CF_ACCEPT: i32 = 0;
const CF_REJECT: i32 = 1;
const CF_DEFER: i32 = 2;
/// `WSATRY_AGAIN`.
const WSATRY_AGAIN: u32 = 11002;

/// `SOCKET WSAAccept(SOCKET s, struct sockaddr *addr, LPINT addrlen, LPCONDITIONPROC
/// lpfnCondition, DWORD_PTR dwCallbackData)`: as [`accept`], with an optional condition
/// function that sees the caller's and the callee's addresses and accepts or rejects
/// the connection.
///
/// Parameters: a listening socket, where to write the peer address (may be NULL) and
/// its size, the condition function (NULL: accept every connection), the value passed
/// to it. The condition function gets the caller id (the peer's `sockaddr` in a
/// `WSABUF`), the callee id (the listener's local address), and NULL for caller and
/// callee data, the QOS and the group.
/// Returns: the new socket, or `INVALID_SOCKET` with `WSAECONNREFUSED` (the condition
/// returned `CF_REJECT`), `WSATRY_AGAIN` (`CF_DEFER`), `WSAEINVAL` (any other value),
/// or `accept`'s errors.
/// Memory and lifetimes: the address is written only for an accepted connection; the
/// `WSABUF`s passed to the condition function are valid during the call only.
///
/// # Compatibility
/// Without `SO_CONDITIONAL_ACCEPT` (not supported here) Windows has completed the TCP
/// handshake before the condition runs, as here; a rejected connection is closed (the
/// peer sees it reset). A deferred one (`CF_DEFER`) is kept by the listener and is what
/// its next `accept`, `WSAAccept` or `AcceptEx` takes first (an `AcceptEx` still reports
/// `ERROR_IO_PENDING`), and `select` and `WSAPoll` report the listener readable while it
/// is held (Wine's tests of Windows).
///
/// # Safety
/// As [`accept`]; `lpfnCondition` null or a function of that type.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn WSAAccept(
    s: SOCKET,
    address: *mut u8,
    addrlen: *mut i32,
    condition: Option<ConditionProc>,
    data: usize,
) -> SOCKET {
    ws_guard(INVALID_SOCKET, || {
        started()?;
        let e = handles::socket(s)?;
        // SAFETY: `addrlen` null or valid (the contract).
        unsafe { addr::check_room(e.sock.family(), address, addrlen) }?;
        let (sock, peer) = take_connection(&e)?;
        if let Some(cond) = condition {
            let mut caller = addr::encode(&peer);
            let mut callee = e
                .sock
                .local_addr()
                .map(|a| addr::encode(&a))
                .unwrap_or_default();
            let mut caller_id = WSABUF {
                len: u32::try_from(caller.len()).unwrap_or(0),
                buf: caller.as_mut_ptr(),
            };
            let mut callee_id = WSABUF {
                len: u32::try_from(callee.len()).unwrap_or(0),
                buf: callee.as_mut_ptr(),
            };
            // SAFETY: the application's condition function; every pointer is valid for
            // the call (locals) or NULL.
            let verdict = unsafe {
                cond(
                    &raw mut caller_id,
                    std::ptr::null_mut(),
                    std::ptr::null_mut(),
                    std::ptr::null_mut(),
                    &raw mut callee_id,
                    std::ptr::null_mut(),
                    std::ptr::null_mut(),
                    data,
                )
            };
            if verdict == CF_DEFER {
                // Kept for the next accept on this listener, as Windows keeps it queued.
                e.sock.defer_accepted(sock, peer).map_err(err)?;
                return Err(WSATRY_AGAIN);
            }
            let refused = match verdict {
                CF_ACCEPT => None,
                CF_REJECT => Some(WsaError::WSAECONNREFUSED.code()),
                _ => Some(WsaError::WSAEINVAL.code()),
            };
            if let Some(code) = refused {
                // A reset (linger 0), so the peer learns at once.
                let _ = sock.set_linger(Some(std::time::Duration::ZERO));
                sock.close();
                return Err(code);
            }
        }
        // SAFETY: the caller's contract.
        unsafe { addr::write(&peer, address, addrlen) }?;
        register_accepted(s, &e, sock)
    })
}

/// `int connect(SOCKET s, const struct sockaddr *name, int namelen)`: blocks unless the
/// socket is non-blocking (then `WSAEWOULDBLOCK` while the connect is under way).
///
/// Parameters: a socket, the destination (Windows `sockaddr`) and its size.
/// Returns: 0, or `SOCKET_ERROR` with `WSAECONNREFUSED`, `WSAETIMEDOUT`, `WSAEWOULDBLOCK` (non-blocking), `WSAEISCONN`, `WSAEFAULT`.
/// Memory and lifetimes: the address is read during the call only.
///
/// # Safety
/// `name` must be null or point to `namelen` readable bytes.
#[unsafe(export_name = "ws2_connect")]
pub unsafe extern "C" fn connect(s: SOCKET, name: *const u8, namelen: i32) -> i32 {
    ws_guard(SOCKET_ERROR, || {
        started()?;
        let e = handles::socket(s)?;
        // A datagram socket connected to an AF_UNSPEC address loses its peer.
        if !e.sock.is_stream()
            && namelen >= 2
            && handles::readable(name, 2)
            // SAFETY: 2 readable bytes (checked above).
            && unsafe { name.cast::<u16>().read_unaligned() } == 0
        {
            return e.sock.disconnect_datagram().map(|()| 0).map_err(err);
        }
        // SAFETY: the caller's contract.
        let a = unsafe { addr::read(name, namelen) }?;
        let r = e.sock.connect(a);
        crate::events::connect_called(&e);
        r.map_err(err)?;
        Ok(0)
    })
}

/// `int closesocket(SOCKET s)`: closes the socket; its pending overlapped operations
/// complete aborted through their own notification (event, routine). A thread blocked
/// in `accept`/`recv` on it wakes with an error.
///
/// Parameters: a socket.
/// Returns: 0, or `SOCKET_ERROR` with `WSAENOTSOCK` / `WSANOTINITIALISED`.
/// Memory and lifetimes: the handle is invalid afterwards; pending operations complete later, so their buffers and `WSAOVERLAPPED`s must stay valid until each completion is observed.
///
/// # Safety
/// Always safe to call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn closesocket(s: SOCKET) -> i32 {
    ws_guard(SOCKET_ERROR, || {
        started()?;
        match handles::get(s) {
            Some(Object::Socket(_)) => {}
            _ => return Err(err(WsaError::WSAENOTSOCK)),
        }
        let Some(Object::Socket(entry)) = handles::remove(s) else {
            return Err(err(WsaError::WSAENOTSOCK));
        };
        release(entry);
        Ok(0)
    })
}

/// Gives up one handle to `entry`'s socket (`closesocket`, or `CloseHandle` of a
/// `DuplicateHandle` copy): the socket is closed when its last handle goes.
pub(crate) fn release(entry: Arc<SockEntry>) {
    if entry.handles.fetch_sub(1, Ordering::AcqRel) > 1 {
        // Another handle (a duplicate) still names the socket: it stays open.
        return;
    }
    // A non-blocking send's tail still going: closed gracefully once it has gone.
    let Some(entry) = entry
        .send_tail
        .defer_close(Arc::clone(&entry))
        .map(|_| entry)
    else {
        return;
    };
    match Arc::try_unwrap(entry) {
        // Nobody else uses it: a real close (linger and RST semantics preserved).
        Ok(entry) => drop(entry),
        // Another thread is inside a call on it: abort now, release on its return.
        Err(shared) => shared.sock.abort(),
    }
}

/// `int shutdown(SOCKET s, int how)`: `SD_RECEIVE` (0), `SD_SEND` (1), `SD_BOTH` (2).
///
/// Parameters: a socket and `SD_RECEIVE`/`SD_SEND`/`SD_BOTH`.
/// Returns: 0, or `SOCKET_ERROR` with `WSAENOTCONN`, `WSAEINVAL`, `WSAENOTSOCK`.
/// Memory and lifetimes: nothing is kept.
///
/// # Safety
/// Always safe to call.
#[unsafe(export_name = "ws2_shutdown")]
pub unsafe extern "C" fn shutdown(s: SOCKET, how: i32) -> i32 {
    ws_guard(SOCKET_ERROR, || {
        started()?;
        let e = handles::socket(s)?;
        let how = match how {
            c::SD_RECEIVE => Shutdown::Receive,
            c::SD_SEND => Shutdown::Send,
            c::SD_BOTH => Shutdown::Both,
            _ => return Err(err(WsaError::WSAEINVAL)),
        };
        // After a non-blocking send's tail, not before it (a FIN would cut the stream).
        if !e.send_tail.defer_shutdown(&e, how) {
            e.sock.shutdown(how).map_err(err)?;
        }
        Ok(0)
    })
}

fn clamp(v: usize) -> i32 {
    i32::try_from(v).unwrap_or(i32::MAX)
}

fn name_call(s: SOCKET, address: *mut u8, addrlen: *mut i32, peer: bool) -> Result<i32, u32> {
    started()?;
    let e = handles::socket(s)?;
    // Windows checks the socket's state before the caller's pointers: an unconnected
    // socket is WSAENOTCONN even with NULL arguments (Wine's test_getpeername).
    if peer {
        e.sock.peer_addr().map_err(err)?;
    }
    if address.is_null() {
        return Err(err(WsaError::WSAEFAULT));
    }
    handles::check_out(addrlen)?;
    let a = if peer {
        e.sock.peer_addr()
    } else {
        e.sock.local_addr()
    }
    .map_err(err)?;
    if !peer && a.port() == 0 && a.ip().is_unspecified() {
        return Err(err(WsaError::WSAEINVAL));
    }
    // SAFETY: the caller's contract (checked non-null above).
    unsafe { addr::write(&a, address, addrlen) }?;
    Ok(0)
}

/// `int getsockname(SOCKET s, struct sockaddr *name, int *namelen)`; `WSAEINVAL` if unbound.
///
/// Parameters: a bound socket, the buffer and its size (in/out).
/// Returns: 0, or `SOCKET_ERROR`.
/// Memory and lifetimes: the address is written before return.
///
/// # Safety
/// `name` must point to `*namelen` writable bytes; `namelen` must be valid.
#[unsafe(export_name = "ws2_getsockname")]
pub unsafe extern "C" fn getsockname(s: SOCKET, name: *mut u8, namelen: *mut i32) -> i32 {
    ws_guard(SOCKET_ERROR, || name_call(s, name, namelen, false))
}

/// `int getpeername(SOCKET s, struct sockaddr *name, int *namelen)`; `WSAENOTCONN` if
/// not connected.
///
/// Parameters: a connected socket, the buffer and its size (in/out).
/// Returns: 0, or `SOCKET_ERROR`.
/// Memory and lifetimes: the address is written before return.
///
/// # Safety
/// `name` must point to `*namelen` writable bytes; `namelen` must be valid.
#[unsafe(export_name = "ws2_getpeername")]
pub unsafe extern "C" fn getpeername(s: SOCKET, name: *mut u8, namelen: *mut i32) -> i32 {
    ws_guard(SOCKET_ERROR, || name_call(s, name, namelen, true))
}

/// `int ioctlsocket(SOCKET s, long cmd, u_long *argp)`: `FIONBIO`, `FIONREAD`, `SIOCATMARK`.
///
/// Parameters: a socket, the command, the 32-bit argument (in/out).
/// Returns: 0, or `SOCKET_ERROR` with `WSAEINVAL` (unknown command), `WSAEFAULT`, `WSAENOTSOCK`.
/// Memory and lifetimes: `argp` is used during the call only.
///
/// # Safety
/// `argp` must be null or point to a readable and writable `u_long` (32-bit).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ioctlsocket(s: SOCKET, cmd: libc::c_long, argp: *mut u32) -> i32 {
    ws_guard(SOCKET_ERROR, || {
        started()?;
        let e = handles::socket(s)?;
        // Windows: WSAEFAULT for a pointer it cannot use (Wine's test_fionbio), NULL or not.
        handles::check_out(argp)?;
        // `long` is 64-bit here; the command is the low 32 bits (FIONBIO is negative as
        // a Windows `long`, positive as a Linux one).
        match (cmd & 0xFFFF_FFFF) as u32 {
            c::FIONBIO => {
                // SAFETY: `argp` is non-null and readable (the contract).
                let on = unsafe { argp.read() } != 0;
                if !on && crate::events::event_select_active(&e) {
                    return Err(err(WsaError::WSAEINVAL));
                }
                e.sock.set_nonblocking(on);
            }
            c::FIONREAD => {
                let n = match overlapped::Ioctl::FionRead.run(&e.sock).map_err(err)? {
                    overlapped::IoctlOutput::Value(v) => v,
                    overlapped::IoctlOutput::None => 0,
                };
                // SAFETY: `argp` is non-null and writable (the contract).
                unsafe { argp.write(n) };
            }
            // No out-of-band data is ever pending: "at the mark".
            c::SIOCATMARK => {
                // SAFETY: as above.
                unsafe { argp.write(1) };
            }
            _ => return Err(err(WsaError::WSAEINVAL)),
        }
        Ok(0)
    })
}

/// A data buffer's length: `WSAEFAULT` for a negative one, or memory that cannot be
/// read (`write`: written), as Windows checks before transferring.
fn buf_len(buf: *const u8, len: i32, write: bool) -> Result<usize, u32> {
    let n = usize::try_from(len).map_err(|_| err(WsaError::WSAEFAULT))?;
    if write {
        handles::check_out_bytes(buf.cast_mut(), n)?;
    } else {
        handles::check_in_bytes(buf, n)?;
    }
    Ok(n)
}

/// `int send(SOCKET s, const char *buf, int len, int flags)`: blocking sockets send all
/// of `buf`; non-blocking ones what fits (`WSAEWOULDBLOCK` if nothing does).
///
/// Parameters: a connected socket, the data and its length, flags.
/// Returns: the bytes sent, or `SOCKET_ERROR` (`WSAEWOULDBLOCK`, `WSAECONNRESET`, `WSAESHUTDOWN`, `WSAENOTCONN`, ...).
/// Memory and lifetimes: the data is read during the call only.
///
/// # Safety
/// `buf` must point to `len` readable bytes.
#[unsafe(export_name = "ws2_send")]
pub unsafe extern "C" fn send(s: SOCKET, buf: *const u8, len: i32, flags: i32) -> i32 {
    ws_guard(SOCKET_ERROR, || {
        started()?;
        let e = handles::socket(s)?;
        let n = buf_len(buf, len, false)?;
        let data: &[u8] = if n == 0 {
            &[]
        } else {
            // SAFETY: `buf` is non-null with `len` readable bytes (the contract).
            unsafe { std::slice::from_raw_parts(buf, n) }
        };
        match crate::sendtail::send(&e, data, flags.cast_unsigned()) {
            Ok(n) => Ok(clamp(n)),
            Err(WsaError::WSAEWOULDBLOCK) => {
                // WSAEventSelect: FD_WRITE is reported again once there is room.
                crate::events::write_blocked(&e);
                Err(err(WsaError::WSAEWOULDBLOCK))
            }
            Err(x) => Err(err(x)),
        }
    })
}

/// `int recv(SOCKET s, char *buf, int len, int flags)`; `MSG_PEEK` is honoured. 0 means
/// the peer closed.
///
/// Parameters: a socket, the buffer and its length, flags (`MSG_PEEK`).
/// Returns: the bytes received (0: the peer closed), or `SOCKET_ERROR` (`WSAEWOULDBLOCK`, `WSAECONNRESET`, `WSAETIMEDOUT`, ...).
/// Memory and lifetimes: the buffer is written during the call only.
///
/// # Safety
/// `buf` must point to `len` writable bytes.
#[unsafe(export_name = "ws2_recv")]
pub unsafe extern "C" fn recv(s: SOCKET, buf: *mut u8, len: i32, flags: i32) -> i32 {
    ws_guard(SOCKET_ERROR, || {
        started()?;
        let e = handles::socket(s)?;
        let n = buf_len(buf, len, true)?;
        let out: &mut [u8] = if n == 0 {
            &mut []
        } else {
            // SAFETY: `buf` is non-null with `len` writable bytes (the contract).
            unsafe { std::slice::from_raw_parts_mut(buf, n) }
        };
        let got = e.sock.recv_with_flags(out, flags.cast_unsigned());
        crate::events::read_called(&e);
        Ok(clamp(got.map_err(err)?))
    })
}

/// `int sendto(SOCKET s, const char *buf, int len, int flags, const struct sockaddr *to,
/// int tolen)`; a null `to` behaves as `send`.
///
/// Parameters: a socket, the data, flags, the destination and its size.
/// Returns: the bytes sent, or `SOCKET_ERROR`.
/// Memory and lifetimes: the data and address are read during the call only.
///
/// # Safety
/// `buf` must point to `len` readable bytes, `to` to `tolen` readable bytes (or be null).
#[unsafe(export_name = "ws2_sendto")]
pub unsafe extern "C" fn sendto(
    s: SOCKET,
    buf: *const u8,
    len: i32,
    flags: i32,
    to: *const u8,
    tolen: i32,
) -> i32 {
    if to.is_null() {
        // SAFETY: forwarded contract.
        return unsafe { send(s, buf, len, flags) };
    }
    ws_guard(SOCKET_ERROR, || {
        started()?;
        let e = handles::socket(s)?;
        let n = buf_len(buf, len, false)?;
        // SAFETY: the caller's contract.
        let dest = unsafe { addr::read(to, tolen) }?;
        let data: &[u8] = if n == 0 {
            &[]
        } else {
            // SAFETY: `buf` is non-null with `len` readable bytes.
            unsafe { std::slice::from_raw_parts(buf, n) }
        };
        Ok(clamp(e.sock.send_to(data, dest).map_err(err)?))
    })
}

/// `int recvfrom(SOCKET s, char *buf, int len, int flags, struct sockaddr *from, int
/// *fromlen)`.
///
/// Parameters: a socket, the buffer, flags, where to write the sender and its size (may be NULL).
/// Returns: the bytes received, or `SOCKET_ERROR` (`WSAEFAULT` at once when `*fromlen`
/// is too small for the socket's address family, before any datagram is taken).
/// Memory and lifetimes: written during the call only.
///
/// # Safety
/// `buf` must point to `len` writable bytes; `from` null or `*fromlen` writable bytes.
#[unsafe(export_name = "ws2_recvfrom")]
pub unsafe extern "C" fn recvfrom(
    s: SOCKET,
    buf: *mut u8,
    len: i32,
    flags: i32,
    from: *mut u8,
    fromlen: *mut i32,
) -> i32 {
    if handles::socket(s).is_ok_and(|e| e.sock.is_stream()) {
        // A connection-oriented socket ignores `from` and `fromlen` (they are neither
        // checked nor written, as on Windows): `recv`.
        // SAFETY: forwarded contract.
        return unsafe { recv(s, buf, len, flags) };
    }
    ws_guard(SOCKET_ERROR, || {
        started()?;
        let e = handles::socket(s)?;
        let n = buf_len(buf, len, true)?;
        // Before receiving: a datagram taken and then not delivered would be lost.
        // SAFETY: `fromlen` null or valid (the contract).
        unsafe { addr::check_room(e.sock.family(), from, fromlen) }?;
        let out: &mut [u8] = if n == 0 {
            &mut []
        } else {
            // SAFETY: `buf` is non-null with `len` writable bytes.
            unsafe { std::slice::from_raw_parts_mut(buf, n) }
        };
        let received = e.sock.recv_from(out);
        crate::events::read_called(&e);
        let (got, peer) = received.map_err(err)?;
        // SAFETY: the caller's contract.
        unsafe { addr::write(&peer, from, fromlen) }?;
        Ok(clamp(got))
    })
}
