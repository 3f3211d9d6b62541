//! Socket options: `setsockopt` and `getsockopt` with Windows levels, names, sizes and
//! errors.

use std::sync::atomic::Ordering;
use std::time::Duration;

use overlapped::WsaError;

use crate::handles::{self, started, ws_guard};
use crate::types::{SOCKET, SOCKET_ERROR, c, linger};

fn err(e: WsaError) -> u32 {
    e.code()
}

fn clamp(v: usize) -> i32 {
    i32::try_from(v).unwrap_or(i32::MAX)
}

/// Reads a caller's `int` length.
///
/// # Safety
/// `p` must be valid for reads.
unsafe fn read_len(p: *const i32) -> i32 {
    // SAFETY: the caller's contract.
    unsafe { p.read_unaligned() }
}

/// Reads an int-like option value: Windows accepts a 1-byte `char` for booleans.
///
/// # Safety
/// `val` must point to `len` readable bytes.
unsafe fn read_int(val: *const u8, len: i32) -> Result<i32, u32> {
    if !handles::readable(val, usize::try_from(len.clamp(1, 4)).unwrap_or(1)) {
        return Err(err(WsaError::WSAEFAULT));
    }
    match len {
        // SAFETY: 4 readable bytes.
        l if l >= 4 => Ok(unsafe { val.cast::<i32>().read_unaligned() }),
        // SAFETY: 1 readable byte.
        l if l >= 1 => Ok(i32::from(unsafe { val.read() })),
        _ => Err(err(WsaError::WSAEFAULT)),
    }
}

/// `int setsockopt(SOCKET s, int level, int optname, const char *optval, int optlen)`
/// with Windows levels and names: `SOL_SOCKET` (`SO_REUSEADDR`, `SO_KEEPALIVE`,
/// `SO_LINGER`, `SO_DONTLINGER`, `SO_SNDBUF`, `SO_RCVBUF`, `SO_RCVTIMEO`, `SO_SNDTIMEO`,
/// `SO_BROADCAST`, `SO_OOBINLINE`, `SO_DONTROUTE`, `SO_EXCLUSIVEADDRUSE`,
/// `SO_UPDATE_ACCEPT_CONTEXT`, `SO_UPDATE_CONNECT_CONTEXT`), `IPPROTO_TCP`
/// (`TCP_NODELAY`), `IPPROTO_IPV6` (`IPV6_V6ONLY`), `IPPROTO_IP` (`IP_TTL`).
///
/// Parameters: a socket, the Windows level and option, the value and its size.
/// Returns: 0, or `SOCKET_ERROR` with `WSAENOPROTOOPT` (unknown option), `WSAEFAULT`, `WSAENOTSOCK`.
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
        let e = handles::socket(s)?;
        let sock = &e.sock;
        // SAFETY: the caller's contract.
        let int = || unsafe { read_int(val, len) };
        let raw = |lvl: i32, nm: i32, v: i32| {
            sock.set_option_bytes(lvl, nm, &v.to_ne_bytes())
                .map_err(err)
        };
        match (level, name) {
            // Linux's SO_REUSEADDR is already on for stream sockets (see `bind`): the
            // Windows flag is recorded for `getsockopt`.
            (c::SOL_SOCKET, c::SO_REUSEADDR) => e.reuse.store(int()? != 0, Ordering::Relaxed),
            (c::SOL_SOCKET, c::SO_EXCLUSIVEADDRUSE) => {
                e.exclusive.store(int()? != 0, Ordering::Relaxed)
            }
            (c::SOL_SOCKET, c::SO_KEEPALIVE) => sock.set_keepalive(int()? != 0).map_err(err)?,
            (c::SOL_SOCKET, c::SO_LINGER) => {
                if len < 4 || !handles::readable(val, 4) {
                    return Err(err(WsaError::WSAEFAULT));
                }
                // SAFETY: 4 readable bytes (a Windows `linger`).
                let l = unsafe { val.cast::<linger>().read_unaligned() };
                let v = (l.l_onoff != 0).then(|| Duration::from_secs(l.l_linger.into()));
                sock.set_linger(v).map_err(err)?;
            }
            (c::SOL_SOCKET, c::SO_DONTLINGER) => {
                if int()? != 0 {
                    sock.set_linger(None).map_err(err)?;
                }
            }
            (c::SOL_SOCKET, c::SO_SNDBUF) => sock
                .set_send_buffer_size(int()?.max(0) as usize)
                .map_err(err)?,
            (c::SOL_SOCKET, c::SO_RCVBUF) => sock
                .set_recv_buffer_size(int()?.max(0) as usize)
                .map_err(err)?,
            (c::SOL_SOCKET, c::SO_RCVTIMEO) => {
                sock.set_read_timeout(ms(int()?));
            }
            (c::SOL_SOCKET, c::SO_SNDTIMEO) => {
                sock.set_write_timeout(ms(int()?));
            }
            (c::SOL_SOCKET, c::SO_BROADCAST) => raw(libc::SOL_SOCKET, libc::SO_BROADCAST, int()?)?,
            (c::SOL_SOCKET, c::SO_OOBINLINE) => raw(libc::SOL_SOCKET, libc::SO_OOBINLINE, int()?)?,
            (c::SOL_SOCKET, c::SO_DONTROUTE) => raw(libc::SOL_SOCKET, libc::SO_DONTROUTE, int()?)?,
            (c::SOL_SOCKET, c::SO_UPDATE_ACCEPT_CONTEXT)
            | (c::SOL_SOCKET, c::SO_UPDATE_CONNECT_CONTEXT) => {}
            (c::IPPROTO_TCP, c::TCP_NODELAY) => sock.set_nodelay(int()? != 0).map_err(err)?,
            (c::IPPROTO_IPV6, c::IPV6_V6ONLY) => {
                raw(libc::IPPROTO_IPV6, libc::IPV6_V6ONLY, int()?)?
            }
            (c::IPPROTO_IP, c::IP_TTL) => raw(libc::IPPROTO_IP, libc::IP_TTL, int()?)?,
            _ => return Err(err(WsaError::WSAENOPROTOOPT)),
        }
        Ok(0)
    })
}

fn ms(v: i32) -> Option<Duration> {
    (v > 0).then(|| Duration::from_millis(v.unsigned_abs().into()))
}

/// `int getsockopt(SOCKET s, int level, int optname, char *optval, int *optlen)`: the
/// options of [`setsockopt`], plus `SO_ERROR` (a WSA code), `SO_TYPE`,
/// `SO_ACCEPTCONN` and `SO_CONNECT_TIME` (0 when connected, `0xFFFFFFFF` when not).
///
/// Parameters: a socket, the Windows level and option, the buffer and its size (in/out).
/// Returns: 0, or `SOCKET_ERROR` with `WSAENOPROTOOPT`, `WSAEFAULT`, `WSAENOTSOCK`.
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
        let e = handles::socket(s)?;
        let sock = &e.sock;
        handles::check_out(len)?;
        // SAFETY: checked writable above.
        let room = unsafe { read_len(len) };
        handles::check_out_bytes(val, usize::try_from(room.clamp(1, 4)).unwrap_or(1))?;
        let raw = |lvl: i32, nm: i32| -> Result<i32, u32> {
            let mut b = [0u8; 4];
            sock.option_bytes(lvl, nm, &mut b).map_err(err)?;
            Ok(i32::from_ne_bytes(b))
        };
        let value: i32 = match (level, name) {
            (c::SOL_SOCKET, c::SO_REUSEADDR) => e.reuse.load(Ordering::Relaxed).into(),
            (c::SOL_SOCKET, c::SO_EXCLUSIVEADDRUSE) => e.exclusive.load(Ordering::Relaxed).into(),
            (c::SOL_SOCKET, c::SO_KEEPALIVE) => raw(libc::SOL_SOCKET, libc::SO_KEEPALIVE)?,
            (c::SOL_SOCKET, c::SO_LINGER) => {
                if room < 4 {
                    return Err(err(WsaError::WSAEFAULT));
                }
                let l = sock.linger().map_err(err)?;
                let w = linger {
                    l_onoff: l.is_some().into(),
                    l_linger: l.map_or(0, |d| u16::try_from(d.as_secs()).unwrap_or(u16::MAX)),
                };
                // SAFETY: 4 writable bytes at `val`, a valid `len` (checked above).
                unsafe { val.cast::<linger>().write_unaligned(w) };
                // SAFETY: as above.
                unsafe { len.write(4) };
                return Ok(0);
            }
            (c::SOL_SOCKET, c::SO_DONTLINGER) => sock.linger().map_err(err)?.is_none().into(),
            (c::SOL_SOCKET, c::SO_SNDBUF) => clamp(sock.send_buffer_size().map_err(err)?),
            (c::SOL_SOCKET, c::SO_RCVBUF) => clamp(sock.recv_buffer_size().map_err(err)?),
            (c::SOL_SOCKET, c::SO_RCVTIMEO) => sock
                .read_timeout()
                .map_or(0, |d| clamp(d.as_millis() as usize)),
            (c::SOL_SOCKET, c::SO_SNDTIMEO) => sock
                .write_timeout()
                .map_or(0, |d| clamp(d.as_millis() as usize)),
            (c::SOL_SOCKET, c::SO_ERROR) => sock
                .take_error()
                .map_err(err)?
                .map_or(0, |w| w.code() as i32),
            (c::SOL_SOCKET, c::SO_TYPE) => {
                if sock.is_stream() {
                    c::SOCK_STREAM
                } else {
                    c::SOCK_DGRAM
                }
            }
            (c::SOL_SOCKET, c::SO_ACCEPTCONN) => raw(libc::SOL_SOCKET, libc::SO_ACCEPTCONN)?,
            (c::SOL_SOCKET, c::SO_BROADCAST) => raw(libc::SOL_SOCKET, libc::SO_BROADCAST)?,
            (c::SOL_SOCKET, c::SO_OOBINLINE) => raw(libc::SOL_SOCKET, libc::SO_OOBINLINE)?,
            (c::SOL_SOCKET, c::SO_CONNECT_TIME) => {
                // A connected datagram socket has no connection time (Wine's tests).
                if sock.is_stream() && sock.peer_addr().is_ok() {
                    0
                } else {
                    -1
                }
            }
            (c::IPPROTO_TCP, c::TCP_NODELAY) => sock.nodelay().map_err(err)?.into(),
            (c::IPPROTO_IPV6, c::IPV6_V6ONLY) => raw(libc::IPPROTO_IPV6, libc::IPV6_V6ONLY)?,
            (c::IPPROTO_IP, c::IP_TTL) => raw(libc::IPPROTO_IP, libc::IP_TTL)?,
            _ => return Err(err(WsaError::WSAENOPROTOOPT)),
        };
        if room >= 4 {
            // SAFETY: 4 writable bytes, valid `len`.
            unsafe { val.cast::<i32>().write_unaligned(value) };
            // SAFETY: as above.
            unsafe { len.write(4) };
        } else if room >= 1 {
            // SAFETY: 1 writable byte (Windows returns BOOL options in a char if asked).
            unsafe { val.write(u8::from(value != 0)) };
            // SAFETY: as above.
            unsafe { len.write(1) };
        } else {
            return Err(err(WsaError::WSAEFAULT));
        }
        Ok(0)
    })
}
