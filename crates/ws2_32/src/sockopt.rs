//! Socket options: `setsockopt` and `getsockopt` with Windows levels, names, sizes and
//! errors.
//!
//! Windows' option table, as Wine's conformance tests record it (`sock.c`,
//! `test_set_getsockopt`), differs from Linux in the sizes it reads and writes:
//! - `SOL_SOCKET` `BOOL` options (`SO_BROADCAST`, `SO_REUSEADDR`, ...) read as many bytes
//!   as given (none is `FALSE`) and write 4 (1 with a 1- to 3-byte buffer);
//! - `BOOLEAN` options (`SO_KEEPALIVE`, `SO_DONTROUTE`, `TCP_NODELAY`, `IPV6_V6ONLY`) read
//!   and write one byte, whatever the length;
//! - small IP integers (`IP_TTL`, `IP_TOS`, `IP_MULTICAST_*`, `IPV6_*_HOPS`, ...) read 1
//!   to 4 bytes and write 1 byte when the buffer is shorter than 4;
//! - the rest want 4 bytes (`WSAEFAULT` otherwise; a negative length is `WSAENOBUFS`
//!   outside `SOL_SOCKET`, where it reads as a large unsigned length).
//!
//! An unknown level is `WSAEINVAL`, an unknown option of a known level `WSAENOPROTOOPT`.
//! What Linux keeps differently (it doubles `SO_RCVBUF`/`SO_SNDBUF`, stores a `linger`'s
//! `l_onoff` as a flag, lets only administrators set `SO_DEBUG`) is kept here per socket.

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use overlapped::{Family, Socket, WsaError};

use crate::handles::{self, SockEntry, started, ws_guard};
use crate::protocols::{WSAEnumProtocolsA, WSAEnumProtocolsW, WSAPROTOCOL_INFO};
use crate::types::{SOCKET, SOCKET_ERROR, c};

/// Windows option names not in `types::c`.
mod w {
    pub(super) const IPPROTO_ICMP: i32 = 1;
    pub(super) const IPPROTO_ICMPV6: i32 = 58;
    pub(super) const IPPROTO_RAW: i32 = 255;
    pub(super) const SO_OPENTYPE: i32 = 0x7008;
    pub(super) const SO_MAX_MSG_SIZE: i32 = 0x2003;
    pub(super) const SO_PROTOCOL_INFOA: i32 = 0x2004;
    pub(super) const SO_PROTOCOL_INFOW: i32 = 0x2005;
    pub(super) const TCP_KEEPALIVE: i32 = 3;
    pub(super) const TCP_KEEPCNT: i32 = 16;
    pub(super) const TCP_KEEPINTVL: i32 = 17;
    pub(super) const IP_HDRINCL: i32 = 2;
    pub(super) const IP_TOS: i32 = 3;
    pub(super) const IP_MULTICAST_TTL: i32 = 10;
    pub(super) const IP_MULTICAST_LOOP: i32 = 11;
    pub(super) const IP_DONTFRAGMENT: i32 = 14;
    pub(super) const IP_PKTINFO: i32 = 19;
    pub(super) const IP_RECVTTL: i32 = 21;
    pub(super) const IP_RECVTOS: i32 = 40;
    pub(super) const IPV6_UNICAST_HOPS: i32 = 4;
    pub(super) const IPV6_MULTICAST_HOPS: i32 = 10;
    pub(super) const IPV6_MULTICAST_LOOP: i32 = 11;
    pub(super) const IPV6_DONTFRAG: i32 = 14;
    pub(super) const IPV6_PKTINFO: i32 = 19;
    pub(super) const IPV6_HOPLIMIT: i32 = 21;
    pub(super) const IPV6_RECVTCLASS: i32 = 40;
}

fn err(e: WsaError) -> u32 {
    e.code()
}

fn fault() -> u32 {
    err(WsaError::WSAEFAULT)
}

fn clamp(v: usize) -> i32 {
    i32::try_from(v).unwrap_or(i32::MAX)
}

/// What Windows keeps per socket that Linux keeps differently or not at all.
#[derive(Default, Clone, Copy)]
struct Extra {
    /// `SO_LINGER`'s `l_onoff` as last set (Linux keeps only on/off).
    linger_onoff: Option<u16>,
    /// `SO_RCVBUF` as set (Linux reports double).
    rcvbuf: Option<u32>,
    /// `SO_SNDBUF` as set.
    sndbuf: Option<u32>,
    /// `SO_DEBUG` (Linux lets only `CAP_NET_ADMIN` set it).
    debug: bool,
    /// `SO_ERROR` as set by the program (reported, then cleared, by `getsockopt`).
    error: u32,
    /// `IPV6_V6ONLY` of an IPv4 socket (Windows keeps it; `None`: the default, on).
    v6only_v4: Option<bool>,
    /// `IP_DONTFRAGMENT` / `IPV6_DONTFRAG` as set.
    dontfrag: Option<bool>,
}

type ExtraTable = HashMap<SOCKET, (Weak<SockEntry>, Extra)>;

static EXTRA: Mutex<Option<ExtraTable>> = Mutex::new(None);

/// The socket's [`Extra`] (the default for a socket that set none; a handle value
/// reused by a new socket does not see the old one's).
fn extra(s: SOCKET, e: &Arc<SockEntry>) -> Extra {
    let t = EXTRA.lock().unwrap_or_else(|p| p.into_inner());
    t.as_ref()
        .and_then(|m| m.get(&s))
        .filter(|(w, _)| std::ptr::eq(w.as_ptr(), Arc::as_ptr(e)))
        .map(|(_, x)| *x)
        .unwrap_or_default()
}

fn update(s: SOCKET, e: &Arc<SockEntry>, f: impl FnOnce(&mut Extra)) {
    let mut t = EXTRA.lock().unwrap_or_else(|p| p.into_inner());
    let m = t.get_or_insert_with(HashMap::new);
    let slot = m
        .entry(s)
        .or_insert_with(|| (Arc::downgrade(e), Extra::default()));
    if !std::ptr::eq(slot.0.as_ptr(), Arc::as_ptr(e)) {
        *slot = (Arc::downgrade(e), Extra::default());
    }
    f(&mut slot.1);
    if m.len().is_multiple_of(64) {
        m.retain(|_, (w, _)| w.strong_count() > 0);
    }
}

/// Gives the accepted socket `s` the options of its listener `l` that this layer keeps
/// (Windows' accepted sockets take them all: Wine's test_accept_inheritance): the
/// `SO_REUSEADDR`/`SO_EXCLUSIVEADDRUSE` flags, the [`Extra`] values as set (buffer sizes,
/// linger, ...; not a pending `SO_ERROR`) and the `SO_RCVTIMEO`/`SO_SNDTIMEO` timeouts.
/// What Linux keeps in the socket itself (keep-alive, `TCP_NODELAY`, linger, the buffer
/// sizes) the kernel has already copied.
pub(crate) fn inherit(listener: SOCKET, l: &Arc<SockEntry>, s: SOCKET, e: &Arc<SockEntry>) {
    e.reuse
        .store(l.reuse.load(Ordering::Relaxed), Ordering::Relaxed);
    e.exclusive
        .store(l.exclusive.load(Ordering::Relaxed), Ordering::Relaxed);
    let from = Extra {
        error: 0,
        ..extra(listener, l)
    };
    update(s, e, |x| *x = from);
    e.sock.set_read_timeout(l.sock.read_timeout());
    e.sock.set_write_timeout(l.sock.write_timeout());
}

thread_local! {
    /// This thread's `SO_OPENTYPE`: 0 (the default) makes `socket` create overlapped
    /// sockets; `SO_SYNCHRONOUS_ALERT`/`SO_SYNCHRONOUS_NONALERT` (any non-zero value)
    /// non-overlapped ones. `WSASocket` is not affected (its flags say).
    static OPEN_TYPE: std::cell::Cell<i32> = const { std::cell::Cell::new(0) };
}

/// This thread's `SO_OPENTYPE`, set with `setsockopt(any handle, SOL_SOCKET,
/// SO_OPENTYPE, ...)`, `INVALID_SOCKET` included, as on Windows.
pub(crate) fn open_type() -> i32 {
    OPEN_TYPE.with(std::cell::Cell::get)
}

/// Windows' defaults that differ from Linux's, applied to a new socket: `IPV6_V6ONLY`
/// is on.
pub(crate) fn apply_defaults(sock: &Socket) {
    if sock.family() == Family::V6 {
        // Best effort: a socket that refuses keeps Linux's default.
        let _ = sock.set_option_bytes(libc::IPPROTO_IPV6, libc::IPV6_V6ONLY, &1i32.to_ne_bytes());
    }
}

/// How an option's value is sized.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Shape {
    /// A `SOL_SOCKET` `BOOL`: any length (0 is `FALSE`); written in 4 bytes, or 1 (2 bytes
    /// touched) in a shorter buffer.
    SockBool,
    /// A `BOOLEAN`: one byte read and written.
    Byte,
    /// A small integer: 1 to 4 bytes read; written in 4 bytes, or 1 in a shorter buffer.
    Small,
    /// 4 bytes exactly.
    Int,
}

/// One entry of the option table.
#[derive(Clone, Copy, Debug)]
struct Opt {
    shape: Shape,
    /// A `BOOL`: values other than 0 read back as 1.
    boolean: bool,
    /// The largest value accepted (`WSAEINVAL` above).
    max: u32,
}

const fn opt(shape: Shape, boolean: bool) -> Opt {
    Opt {
        shape,
        boolean,
        max: u32::MAX,
    }
}

const BYTE_SIZED: Opt = Opt {
    shape: Shape::Small,
    boolean: false,
    max: 255,
};

/// Windows' option table: `Err` with `WSAEINVAL` for an unknown level,
/// `WSAENOPROTOOPT` for an unknown option.
fn lookup(level: i32, name: i32) -> Result<Opt, u32> {
    use Shape::*;
    let o = match (level, name) {
        (c::SOL_SOCKET, c::SO_DEBUG)
        | (c::SOL_SOCKET, c::SO_ACCEPTCONN)
        | (c::SOL_SOCKET, c::SO_REUSEADDR)
        | (c::SOL_SOCKET, c::SO_EXCLUSIVEADDRUSE)
        | (c::SOL_SOCKET, c::SO_BROADCAST)
        | (c::SOL_SOCKET, c::SO_OOBINLINE)
        | (c::SOL_SOCKET, c::SO_DONTLINGER) => opt(SockBool, true),
        (c::SOL_SOCKET, c::SO_KEEPALIVE) | (c::SOL_SOCKET, c::SO_DONTROUTE) => opt(Byte, true),
        (c::SOL_SOCKET, c::SO_LINGER)
        | (c::SOL_SOCKET, c::SO_SNDBUF)
        | (c::SOL_SOCKET, c::SO_RCVBUF)
        | (c::SOL_SOCKET, c::SO_SNDTIMEO)
        | (c::SOL_SOCKET, c::SO_RCVTIMEO)
        | (c::SOL_SOCKET, c::SO_ERROR)
        | (c::SOL_SOCKET, c::SO_TYPE)
        | (c::SOL_SOCKET, c::SO_CONNECT_TIME)
        | (c::SOL_SOCKET, w::SO_OPENTYPE)
        | (c::SOL_SOCKET, w::SO_MAX_MSG_SIZE) => opt(Int, false),
        (c::IPPROTO_TCP, c::TCP_NODELAY) => opt(Byte, true),
        (c::IPPROTO_TCP, w::TCP_KEEPALIVE)
        | (c::IPPROTO_TCP, w::TCP_KEEPCNT)
        | (c::IPPROTO_TCP, w::TCP_KEEPINTVL) => opt(Int, false),
        (c::IPPROTO_IP, c::IP_TTL)
        | (c::IPPROTO_IP, w::IP_TOS)
        | (c::IPPROTO_IP, w::IP_MULTICAST_TTL) => BYTE_SIZED,
        (c::IPPROTO_IP, w::IP_MULTICAST_LOOP) | (c::IPPROTO_IP, w::IP_DONTFRAGMENT) => {
            opt(Small, true)
        }
        (c::IPPROTO_IP, w::IP_PKTINFO)
        | (c::IPPROTO_IP, w::IP_RECVTTL)
        | (c::IPPROTO_IP, w::IP_RECVTOS) => opt(Int, true),
        (c::IPPROTO_IP, w::IP_HDRINCL) => opt(Int, true),
        (c::IPPROTO_IPV6, c::IPV6_V6ONLY) => opt(Byte, true),
        (c::IPPROTO_IPV6, w::IPV6_UNICAST_HOPS) | (c::IPPROTO_IPV6, w::IPV6_MULTICAST_HOPS) => {
            BYTE_SIZED
        }
        (c::IPPROTO_IPV6, w::IPV6_MULTICAST_LOOP) | (c::IPPROTO_IPV6, w::IPV6_DONTFRAG) => {
            opt(Small, true)
        }
        (c::IPPROTO_IPV6, w::IPV6_PKTINFO)
        | (c::IPPROTO_IPV6, w::IPV6_HOPLIMIT)
        | (c::IPPROTO_IPV6, w::IPV6_RECVTCLASS) => opt(Int, true),
        (
            c::SOL_SOCKET
            | c::IPPROTO_IP
            | w::IPPROTO_ICMP
            | c::IPPROTO_TCP
            | c::IPPROTO_UDP
            | c::IPPROTO_IPV6
            | w::IPPROTO_ICMPV6
            | w::IPPROTO_RAW,
            _,
        ) => return Err(err(WsaError::WSAENOPROTOOPT)),
        _ => return Err(err(WsaError::WSAEINVAL)),
    };
    Ok(o)
}

/// The Linux option behind a Windows one that maps one to one.
fn linux_name(level: i32, name: i32) -> Option<(i32, i32)> {
    Some(match (level, name) {
        (c::SOL_SOCKET, c::SO_ACCEPTCONN) => (libc::SOL_SOCKET, libc::SO_ACCEPTCONN),
        (c::SOL_SOCKET, c::SO_BROADCAST) => (libc::SOL_SOCKET, libc::SO_BROADCAST),
        (c::SOL_SOCKET, c::SO_OOBINLINE) => (libc::SOL_SOCKET, libc::SO_OOBINLINE),
        (c::SOL_SOCKET, c::SO_DONTROUTE) => (libc::SOL_SOCKET, libc::SO_DONTROUTE),
        (c::SOL_SOCKET, c::SO_KEEPALIVE) => (libc::SOL_SOCKET, libc::SO_KEEPALIVE),
        (c::IPPROTO_TCP, c::TCP_NODELAY) => (libc::IPPROTO_TCP, libc::TCP_NODELAY),
        (c::IPPROTO_TCP, w::TCP_KEEPALIVE) => (libc::IPPROTO_TCP, libc::TCP_KEEPIDLE),
        (c::IPPROTO_TCP, w::TCP_KEEPCNT) => (libc::IPPROTO_TCP, libc::TCP_KEEPCNT),
        (c::IPPROTO_TCP, w::TCP_KEEPINTVL) => (libc::IPPROTO_TCP, libc::TCP_KEEPINTVL),
        (c::IPPROTO_IP, c::IP_TTL) => (libc::IPPROTO_IP, libc::IP_TTL),
        (c::IPPROTO_IP, w::IP_TOS) => (libc::IPPROTO_IP, libc::IP_TOS),
        (c::IPPROTO_IP, w::IP_MULTICAST_TTL) => (libc::IPPROTO_IP, libc::IP_MULTICAST_TTL),
        (c::IPPROTO_IP, w::IP_MULTICAST_LOOP) => (libc::IPPROTO_IP, libc::IP_MULTICAST_LOOP),
        (c::IPPROTO_IP, w::IP_PKTINFO) => (libc::IPPROTO_IP, libc::IP_PKTINFO),
        (c::IPPROTO_IP, w::IP_RECVTTL) => (libc::IPPROTO_IP, libc::IP_RECVTTL),
        (c::IPPROTO_IP, w::IP_RECVTOS) => (libc::IPPROTO_IP, libc::IP_RECVTOS),
        (c::IPPROTO_IPV6, c::IPV6_V6ONLY) => (libc::IPPROTO_IPV6, libc::IPV6_V6ONLY),
        (c::IPPROTO_IPV6, w::IPV6_UNICAST_HOPS) => (libc::IPPROTO_IPV6, libc::IPV6_UNICAST_HOPS),
        (c::IPPROTO_IPV6, w::IPV6_MULTICAST_HOPS) => {
            (libc::IPPROTO_IPV6, libc::IPV6_MULTICAST_HOPS)
        }
        (c::IPPROTO_IPV6, w::IPV6_MULTICAST_LOOP) => {
            (libc::IPPROTO_IPV6, libc::IPV6_MULTICAST_LOOP)
        }
        (c::IPPROTO_IPV6, w::IPV6_PKTINFO) => (libc::IPPROTO_IPV6, libc::IPV6_RECVPKTINFO),
        (c::IPPROTO_IPV6, w::IPV6_HOPLIMIT) => (libc::IPPROTO_IPV6, libc::IPV6_RECVHOPLIMIT),
        (c::IPPROTO_IPV6, w::IPV6_RECVTCLASS) => (libc::IPPROTO_IPV6, libc::IPV6_RECVTCLASS),
        _ => return None,
    })
}

fn get_raw(sock: &Socket, (lvl, nm): (i32, i32)) -> Result<u32, u32> {
    let mut b = [0u8; 4];
    sock.option_bytes(lvl, nm, &mut b).map_err(err)?;
    Ok(u32::from_ne_bytes(b))
}

fn set_raw(sock: &Socket, (lvl, nm): (i32, i32), v: u32) -> Result<(), u32> {
    sock.set_option_bytes(lvl, nm, &v.to_ne_bytes())
        .map_err(err)
}

fn linux_linger(sock: &Socket) -> Result<libc::linger, u32> {
    let mut b = [0u8; size_of::<libc::linger>()];
    sock.option_bytes(libc::SOL_SOCKET, libc::SO_LINGER, &mut b)
        .map_err(err)?;
    let on = i32::from_ne_bytes([b[0], b[1], b[2], b[3]]);
    let secs = i32::from_ne_bytes([b[4], b[5], b[6], b[7]]);
    Ok(libc::linger {
        l_onoff: on,
        l_linger: secs,
    })
}

fn set_linux_linger(sock: &Socket, on: bool, secs: u16) -> Result<(), u32> {
    let mut b = [0u8; size_of::<libc::linger>()];
    b[..4].copy_from_slice(&i32::from(on).to_ne_bytes());
    b[4..].copy_from_slice(&i32::from(secs).to_ne_bytes());
    sock.set_option_bytes(libc::SOL_SOCKET, libc::SO_LINGER, &b)
        .map_err(err)
}

/// `WSAENOPROTOOPT` for a stream-only option on a datagram socket.
fn stream_only(sock: &Socket) -> Result<(), u32> {
    if sock.is_stream() {
        Ok(())
    } else {
        Err(err(WsaError::WSAENOPROTOOPT))
    }
}

fn bound(sock: &Socket) -> bool {
    sock.local_addr().is_ok_and(|a| a.port() != 0)
}

/// `int setsockopt(SOCKET s, int level, int optname, const char *optval, int optlen)`
/// with Windows levels, names and sizes (see the module's docs): `SOL_SOCKET`
/// (`SO_DEBUG`, `SO_REUSEADDR`, `SO_EXCLUSIVEADDRUSE`, `SO_KEEPALIVE`, `SO_DONTROUTE`,
/// `SO_BROADCAST`, `SO_OOBINLINE`, `SO_LINGER`, `SO_DONTLINGER`, `SO_SNDBUF`,
/// `SO_RCVBUF`, `SO_RCVTIMEO`, `SO_SNDTIMEO`, `SO_ERROR`, `SO_OPENTYPE` (per thread),
/// `SO_UPDATE_ACCEPT_CONTEXT`, `SO_UPDATE_CONNECT_CONTEXT`), `IPPROTO_TCP`
/// (`TCP_NODELAY`, `TCP_KEEPALIVE`, `TCP_KEEPCNT`, `TCP_KEEPINTVL`), `IPPROTO_IP`
/// (`IP_TTL`, `IP_TOS`, `IP_MULTICAST_TTL`, `IP_MULTICAST_LOOP`, `IP_DONTFRAGMENT`,
/// `IP_PKTINFO`, `IP_RECVTTL`, `IP_RECVTOS`), `IPPROTO_IPV6` (`IPV6_V6ONLY`,
/// `IPV6_UNICAST_HOPS`, `IPV6_MULTICAST_HOPS`, `IPV6_MULTICAST_LOOP`, `IPV6_DONTFRAG`,
/// `IPV6_PKTINFO`, `IPV6_HOPLIMIT`, `IPV6_RECVTCLASS`).
///
/// Parameters: a socket, the Windows level and option, the value and its size.
/// Returns: 0, or `SOCKET_ERROR` with `WSAEINVAL` (unknown level, value out of range,
/// `SO_REUSEADDR` with `SO_EXCLUSIVEADDRUSE`, `IPV6_V6ONLY` after `bind`, `IP_HDRINCL`
/// of a non-raw socket), `WSAENOPROTOOPT` (unknown option, `SO_LINGER` of a datagram
/// socket), `WSAEFAULT` (NULL or short value), `WSAENOBUFS` (negative length),
/// `WSAENOTSOCK`.
/// Memory and lifetimes: the value is read during the call only.
///
/// # Safety
/// `optval` must be null or point to `optlen` readable bytes.
#[unsafe(export_name = "ws2_setsockopt")]
pub unsafe extern "C" fn setsockopt(
    s: SOCKET,
    level: i32,
    name: i32,
    val: *const u8,
    len: i32,
) -> i32 {
    ws_guard(SOCKET_ERROR, || {
        started()?;
        if level == c::SOL_SOCKET && name == w::SO_OPENTYPE {
            // A per-thread setting: any handle will do, as on Windows.
            if (0..4).contains(&len) || !handles::readable(val, 4) {
                return Err(fault());
            }
            // SAFETY: 4 readable bytes (checked above).
            let v = unsafe { val.cast::<i32>().read_unaligned() };
            OPEN_TYPE.with(|t| t.set(v));
            return Ok(0);
        }
        let e = handles::socket(s)?;
        let sock = &e.sock;
        if level == c::SOL_SOCKET
            && (name == c::SO_UPDATE_ACCEPT_CONTEXT || name == c::SO_UPDATE_CONNECT_CONTEXT)
        {
            // An AcceptEx socket takes its listener's options here, as on Windows (the
            // value is the listener's handle); anything else is accepted unread.
            let n = std::mem::size_of::<SOCKET>();
            if name == c::SO_UPDATE_ACCEPT_CONTEXT
                && usize::try_from(len).is_ok_and(|l| l >= n)
                && handles::readable(val, n)
            {
                // SAFETY: `n` readable bytes (checked above).
                let listener = unsafe { val.cast::<SOCKET>().read_unaligned() };
                if let Ok(l) = handles::socket(listener) {
                    inherit(listener, &l, s, &e);
                }
            }
            return Ok(0);
        }
        let o = lookup(level, name)?;
        if val.is_null() {
            return Err(fault());
        }
        let nobufs = || err(WsaError::WSAENOBUFS);
        let n: usize = match (o.shape, usize::try_from(len)) {
            (Shape::SockBool, Ok(l)) => l.min(4),
            (Shape::SockBool, Err(_)) => 4,
            (_, Err(_)) if level == c::SOL_SOCKET && o.shape == Shape::Int => 4,
            (_, Err(_)) => return Err(nobufs()),
            (_, Ok(0)) => return Err(fault()),
            (Shape::Byte, Ok(_)) => 1,
            (Shape::Small, Ok(l)) => l.min(4),
            (Shape::Int, Ok(l)) if l < 4 => return Err(fault()),
            (Shape::Int, Ok(_)) => 4,
        };
        if !handles::readable(val, n) {
            return Err(fault());
        }
        let mut b = [0u8; 4];
        for (i, d) in b.iter_mut().enumerate().take(n) {
            // SAFETY: `i < n`, within the `n` readable bytes at `val` (checked above).
            let at = unsafe { val.add(i) };
            // SAFETY: as above.
            *d = unsafe { at.read() };
        }
        let raw = u32::from_le_bytes(b);
        if !o.boolean && raw > o.max {
            return Err(err(WsaError::WSAEINVAL));
        }
        let on = raw != 0;
        let v = if o.boolean { u32::from(on) } else { raw };
        match (level, name) {
            (c::SOL_SOCKET, c::SO_DEBUG) => update(s, &e, |x| x.debug = on),
            // Linux's SO_REUSEADDR is already on for stream sockets (see `bind`): the
            // Windows flag is recorded for `getsockopt` and `bind`.
            (c::SOL_SOCKET, c::SO_REUSEADDR) => {
                if on && e.exclusive.load(Ordering::Relaxed) {
                    return Err(err(WsaError::WSAEINVAL));
                }
                e.reuse.store(on, Ordering::Relaxed);
            }
            (c::SOL_SOCKET, c::SO_EXCLUSIVEADDRUSE) => {
                if on && e.reuse.load(Ordering::Relaxed) {
                    return Err(err(WsaError::WSAEINVAL));
                }
                e.exclusive.store(on, Ordering::Relaxed);
            }
            // Read-only. Windows refuses it as an unknown option on a stream socket and
            // as an invalid value on a datagram socket (Wine's test_WSASocket).
            (c::SOL_SOCKET, c::SO_TYPE) if !sock.is_stream() => {
                return Err(err(WsaError::WSAEINVAL));
            }
            (c::SOL_SOCKET, c::SO_ACCEPTCONN)
            | (c::SOL_SOCKET, c::SO_TYPE)
            | (c::SOL_SOCKET, c::SO_CONNECT_TIME)
            | (c::SOL_SOCKET, w::SO_MAX_MSG_SIZE) => {
                return Err(err(WsaError::WSAENOPROTOOPT));
            }
            (c::SOL_SOCKET, c::SO_LINGER) => {
                stream_only(sock)?;
                let [a, b2, l0, l1] = b;
                let onoff = u16::from_le_bytes([a, b2]);
                set_linux_linger(sock, onoff != 0, u16::from_le_bytes([l0, l1]))?;
                update(s, &e, |x| x.linger_onoff = Some(onoff));
            }
            (c::SOL_SOCKET, c::SO_DONTLINGER) => {
                stream_only(sock)?;
                // FALSE turns lingering on with the timeout set before.
                let secs = linux_linger(sock)?.l_linger;
                set_linux_linger(sock, !on, u16::try_from(secs).unwrap_or(u16::MAX))?;
                update(s, &e, |x| x.linger_onoff = None);
            }
            (c::SOL_SOCKET, c::SO_SNDBUF) => {
                sock.set_send_buffer_size(v as usize).map_err(err)?;
                update(s, &e, |x| x.sndbuf = Some(v));
            }
            (c::SOL_SOCKET, c::SO_RCVBUF) => {
                sock.set_recv_buffer_size(v as usize).map_err(err)?;
                update(s, &e, |x| x.rcvbuf = Some(v));
            }
            (c::SOL_SOCKET, c::SO_RCVTIMEO) => {
                sock.set_read_timeout((v != 0).then(|| Duration::from_millis(v.into())));
            }
            (c::SOL_SOCKET, c::SO_SNDTIMEO) => {
                sock.set_write_timeout((v != 0).then(|| Duration::from_millis(v.into())));
            }
            (c::SOL_SOCKET, c::SO_ERROR) => update(s, &e, |x| x.error = v),
            (c::IPPROTO_IP, w::IP_HDRINCL) => return Err(err(WsaError::WSAEINVAL)),
            (c::IPPROTO_IPV6, c::IPV6_V6ONLY) if sock.family() == Family::V4 => {
                if bound(sock) {
                    return Err(err(WsaError::WSAEINVAL));
                }
                update(s, &e, |x| x.v6only_v4 = Some(on));
            }
            (c::IPPROTO_IP, w::IP_DONTFRAGMENT) | (c::IPPROTO_IPV6, w::IPV6_DONTFRAG) => {
                // Best effort: the flag is what Windows reports either way.
                let _ = if sock.family() == Family::V6 {
                    set_raw(sock, (libc::IPPROTO_IPV6, libc::IPV6_DONTFRAG), v)
                } else {
                    let mode = if on {
                        libc::IP_PMTUDISC_DO
                    } else {
                        libc::IP_PMTUDISC_DONT
                    };
                    set_raw(sock, (libc::IPPROTO_IP, libc::IP_MTU_DISCOVER), mode as u32)
                };
                update(s, &e, |x| x.dontfrag = Some(on));
            }
            _ => {
                let linux = linux_name(level, name).ok_or(err(WsaError::WSAENOPROTOOPT))?;
                set_raw(sock, linux, v)?;
            }
        }
        Ok(0)
    })
}

/// Writes `bytes` at `val` and `reported` at `len`.
///
/// # Safety
/// `val` must have `bytes.len()` writable bytes, `len` must be writable.
unsafe fn put(val: *mut u8, len: *mut i32, bytes: &[u8], reported: i32) {
    for (i, b) in bytes.iter().enumerate() {
        // SAFETY: the caller's contract, `i < bytes.len()`.
        let at = unsafe { val.add(i) };
        // SAFETY: as above.
        unsafe { at.write(*b) };
    }
    // SAFETY: the caller's contract.
    unsafe { len.write_unaligned(reported) };
}

/// `SO_PROTOCOL_INFOA` / `SO_PROTOCOL_INFOW`: the catalog entry of the socket's family,
/// type and protocol. A short buffer is `WSAEFAULT` with the size needed stored.
///
/// # Safety
/// `len` must be writable; `val` must be null or have `*len` writable bytes.
pub(crate) unsafe fn protocol_info(
    sock: &Socket,
    wide: bool,
    val: *mut u8,
    len: *mut i32,
) -> Result<i32, u32> {
    let need = if wide {
        size_of::<WSAPROTOCOL_INFO<u16>>()
    } else {
        size_of::<WSAPROTOCOL_INFO<u8>>()
    };
    // SAFETY: the caller's contract.
    let room = unsafe { len.read_unaligned() };
    if val.is_null() {
        return Err(fault());
    }
    if usize::try_from(room).map_or(true, |r| r < need) {
        // SAFETY: the caller's contract.
        unsafe { len.write_unaligned(clamp(need)) };
        return Err(fault());
    }
    handles::check_out_bytes(val, need)?;
    let (af, ty, proto) = match (sock.family(), sock.is_stream()) {
        (Family::V4, true) => (c::AF_INET, c::SOCK_STREAM, c::IPPROTO_TCP),
        (Family::V4, false) => (c::AF_INET, c::SOCK_DGRAM, c::IPPROTO_UDP),
        (Family::V6, true) => (c::AF_INET6, c::SOCK_STREAM, c::IPPROTO_TCP),
        (Family::V6, false) => (c::AF_INET6, c::SOCK_DGRAM, c::IPPROTO_UDP),
    };
    let wanted = [proto, 0];
    let mut buf = vec![0u8; need * 8];
    let mut size = u32::try_from(buf.len()).unwrap_or(u32::MAX);
    let count = if wide {
        // SAFETY: a 0-terminated list, a buffer of `size` bytes, a valid length.
        unsafe { WSAEnumProtocolsW(wanted.as_ptr(), buf.as_mut_ptr().cast(), &mut size) }
    } else {
        // SAFETY: as above.
        unsafe { WSAEnumProtocolsA(wanted.as_ptr(), buf.as_mut_ptr().cast(), &mut size) }
    };
    let count = usize::try_from(count).map_err(|_| err(WsaError::WSAENOPROTOOPT))?;
    let family_at = std::mem::offset_of!(WSAPROTOCOL_INFO<u8>, iAddressFamily);
    let type_at = std::mem::offset_of!(WSAPROTOCOL_INFO<u8>, iSocketType);
    let int_at = |e: &[u8], at: usize| i32::from_ne_bytes([e[at], e[at + 1], e[at + 2], e[at + 3]]);
    let entry = buf
        .chunks_exact(need)
        .take(count)
        .find(|e| int_at(e, family_at) == af && int_at(e, type_at) == ty)
        .ok_or(err(WsaError::WSAENOPROTOOPT))?;
    for (i, b) in entry.iter().enumerate() {
        // SAFETY: `need` writable bytes at `val` (checked above), `i < need`.
        let at = unsafe { val.add(i) };
        // SAFETY: as above.
        unsafe { at.write(*b) };
    }
    Ok(0)
}

/// `int getsockopt(SOCKET s, int level, int optname, char *optval, int *optlen)`: the
/// options of [`setsockopt`], plus `SO_ACCEPTCONN`, `SO_TYPE`, `SO_MAX_MSG_SIZE`,
/// `SO_PROTOCOL_INFOA`/`SO_PROTOCOL_INFOW` and `SO_CONNECT_TIME` (0 when connected,
/// `0xFFFFFFFF` when not), in Windows' sizes (see the module's docs). `SO_RCVBUF` and
/// `SO_SNDBUF` read back what was set (Linux reports double); `SO_ERROR` reports (and
/// clears) a value set by `setsockopt`, else the pending error as a WSA code.
///
/// Parameters: a socket, the Windows level and option, the buffer and its size (in/out).
/// Returns: 0, or `SOCKET_ERROR` with `WSAEINVAL` (unknown level), `WSAENOPROTOOPT`,
/// `WSAEFAULT` (NULL or short buffer), `WSAENOTSOCK`.
/// Memory and lifetimes: the value is written before return.
///
/// # Safety
/// `optval` must be null or point to `*optlen` writable bytes; `optlen` null or valid.
#[unsafe(export_name = "ws2_getsockopt")]
pub unsafe extern "C" fn getsockopt(
    s: SOCKET,
    level: i32,
    name: i32,
    val: *mut u8,
    len: *mut i32,
) -> i32 {
    ws_guard(SOCKET_ERROR, || {
        started()?;
        if level == c::SOL_SOCKET && name == w::SO_OPENTYPE {
            // A per-thread setting: any handle will do; a negative length reads as a
            // large unsigned one, as on Windows.
            handles::check_out(len)?;
            // SAFETY: checked writable above.
            let room = unsafe { len.read_unaligned() };
            if (0..4).contains(&room) || !handles::writable(val, 4) {
                return Err(fault());
            }
            let v = open_type().to_le_bytes();
            // SAFETY: 4 writable bytes at `val`, a writable `len` (checked above).
            unsafe { put(val, len, &v, 4) };
            return Ok(0);
        }
        let e = handles::socket(s)?;
        let sock = &e.sock;
        handles::check_out(len)?;
        if level == c::SOL_SOCKET && (name == w::SO_PROTOCOL_INFOA || name == w::SO_PROTOCOL_INFOW)
        {
            // SAFETY: `len` is writable (checked above); the caller's contract for `val`.
            return unsafe { protocol_info(sock, name == w::SO_PROTOCOL_INFOW, val, len) };
        }
        let o = lookup(level, name)?;
        // SAFETY: checked writable above.
        let room = unsafe { len.read_unaligned() };
        if val.is_null() {
            return Err(fault());
        }
        // How many bytes are written, and the length reported.
        let (n, reported): (usize, i32) = match (o.shape, room) {
            (_, r) if r <= 0 => return Err(fault()),
            (Shape::SockBool, 1) => (1, 1),
            (Shape::SockBool, 2 | 3) => (2, 1),
            (Shape::Byte, _) => (1, 1),
            (Shape::Small, 1..=3) => (1, 1),
            (Shape::Int, 1..=3) => {
                let zeroed = level == c::SOL_SOCKET
                    && matches!(name, c::SO_LINGER | c::SO_RCVBUF | c::SO_SNDBUF);
                if zeroed {
                    let n = usize::try_from(room).unwrap_or(0);
                    handles::check_out_bytes(val, n)?;
                    // SAFETY: `n` writable bytes (checked above), a writable `len`.
                    unsafe { put(val, len, &[0; 3][..n], room) };
                } else if level != c::SOL_SOCKET {
                    // SAFETY: checked writable above.
                    unsafe { len.write_unaligned(0) };
                }
                return Err(fault());
            }
            _ => (4, 4),
        };
        handles::check_out_bytes(val, n)?;
        let ex = || extra(s, &e);
        let value: u32 = match (level, name) {
            (c::SOL_SOCKET, c::SO_DEBUG) => ex().debug.into(),
            (c::SOL_SOCKET, c::SO_REUSEADDR) => e.reuse.load(Ordering::Relaxed).into(),
            (c::SOL_SOCKET, c::SO_EXCLUSIVEADDRUSE) => e.exclusive.load(Ordering::Relaxed).into(),
            (c::SOL_SOCKET, c::SO_LINGER) => {
                stream_only(sock)?;
                let l = linux_linger(sock)?;
                let onoff = match (l.l_onoff != 0, ex().linger_onoff) {
                    (false, _) => 0,
                    (true, Some(v)) if v != 0 => v,
                    (true, _) => 1,
                };
                let secs = u16::try_from(l.l_linger).unwrap_or(u16::MAX);
                u32::from(onoff) | (u32::from(secs) << 16)
            }
            (c::SOL_SOCKET, c::SO_DONTLINGER) => {
                stream_only(sock)?;
                (linux_linger(sock)?.l_onoff == 0).into()
            }
            (c::SOL_SOCKET, c::SO_SNDBUF) => match ex().sndbuf {
                Some(v) => v,
                None => {
                    u32::try_from(sock.send_buffer_size().map_err(err)? / 2).unwrap_or(u32::MAX)
                }
            },
            (c::SOL_SOCKET, c::SO_RCVBUF) => match ex().rcvbuf {
                Some(v) => v,
                None => {
                    u32::try_from(sock.recv_buffer_size().map_err(err)? / 2).unwrap_or(u32::MAX)
                }
            },
            (c::SOL_SOCKET, c::SO_RCVTIMEO) => sock
                .read_timeout()
                .map_or(0, |d| u32::try_from(d.as_millis()).unwrap_or(u32::MAX)),
            (c::SOL_SOCKET, c::SO_SNDTIMEO) => sock
                .write_timeout()
                .map_or(0, |d| u32::try_from(d.as_millis()).unwrap_or(u32::MAX)),
            (c::SOL_SOCKET, c::SO_ERROR) => {
                let set = ex().error;
                if set != 0 {
                    update(s, &e, |x| x.error = 0);
                    set
                } else {
                    sock.take_error().map_err(err)?.map_or(0, |w| w.code())
                }
            }
            (c::SOL_SOCKET, c::SO_TYPE) => {
                if sock.is_stream() {
                    c::SOCK_STREAM as u32
                } else {
                    c::SOCK_DGRAM as u32
                }
            }
            (c::SOL_SOCKET, w::SO_MAX_MSG_SIZE) => match (sock.is_stream(), sock.family()) {
                (true, _) => i32::MAX as u32,
                (false, Family::V4) => 65507,
                (false, Family::V6) => 65527,
            },
            (c::SOL_SOCKET, c::SO_CONNECT_TIME) => {
                // A connected datagram socket has no connection time (Wine's tests).
                if sock.is_stream() && sock.peer_addr().is_ok() {
                    0
                } else {
                    u32::MAX
                }
            }
            (c::IPPROTO_IP, w::IP_HDRINCL) => return Err(err(WsaError::WSAEINVAL)),
            (c::IPPROTO_IPV6, c::IPV6_V6ONLY) if sock.family() == Family::V4 => {
                ex().v6only_v4.unwrap_or(true).into()
            }
            (c::IPPROTO_IP, w::IP_DONTFRAGMENT) | (c::IPPROTO_IPV6, w::IPV6_DONTFRAG) => {
                // Windows sets DF on TCP, not on UDP, until told otherwise.
                ex().dontfrag.unwrap_or(sock.is_stream()).into()
            }
            _ => {
                let linux = linux_name(level, name).ok_or(err(WsaError::WSAENOPROTOOPT))?;
                let v = get_raw(sock, linux)?;
                if o.boolean { u32::from(v != 0) } else { v }
            }
        };
        let bytes = value.to_le_bytes();
        // SAFETY: `n` writable bytes at `val` (checked above), a writable `len`.
        unsafe { put(val, len, &bytes[..n], reported) };
        Ok(0)
    })
}
