//! Plain socket syscalls, shared by every backend and by the synchronous socket calls.
//! Each returns `io::Result`, through the crate's one errno path ([`crate::error::cvt`]).

use std::io;
use std::mem::{self, MaybeUninit};
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};
use std::os::fd::RawFd;

use crate::error::{cvt, cvt_size};

// AF_INET (2) and AF_INET6 (10) fit in sa_family_t (u16).
#[allow(clippy::cast_possible_truncation)]
const AF_INET: libc::sa_family_t = libc::AF_INET as libc::sa_family_t;
#[allow(clippy::cast_possible_truncation)]
const AF_INET6: libc::sa_family_t = libc::AF_INET6 as libc::sa_family_t;

/// A socket address in the kernel's format.
#[derive(Clone, Copy)]
pub(crate) struct RawAddr {
    pub(crate) storage: libc::sockaddr_storage,
    pub(crate) len: libc::socklen_t,
}

impl std::fmt::Debug for RawAddr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "RawAddr({:?})", self.to_std())
    }
}

impl RawAddr {
    /// An empty buffer for the kernel to fill.
    pub(crate) fn zeroed() -> Self {
        // SAFETY: sockaddr_storage is plain data; all-zero is a valid (AF_UNSPEC) value.
        let storage = unsafe { mem::zeroed::<libc::sockaddr_storage>() };
        Self {
            storage,
            len: socklen_of::<libc::sockaddr_storage>(),
        }
    }

    pub(crate) fn from_std(addr: &SocketAddr) -> Self {
        let mut raw = Self::zeroed();
        match addr {
            SocketAddr::V4(a) => {
                let sin = libc::sockaddr_in {
                    sin_family: AF_INET,
                    sin_port: a.port().to_be(),
                    sin_addr: libc::in_addr {
                        s_addr: u32::from_ne_bytes(a.ip().octets()),
                    },
                    sin_zero: [0; 8],
                };
                // SAFETY: sockaddr_storage is larger than and suitably aligned for sockaddr_in.
                unsafe { std::ptr::write(raw.as_mut_ptr().cast::<libc::sockaddr_in>(), sin) };
                raw.len = socklen_of::<libc::sockaddr_in>();
            }
            SocketAddr::V6(a) => {
                let sin6 = libc::sockaddr_in6 {
                    sin6_family: AF_INET6,
                    sin6_port: a.port().to_be(),
                    sin6_flowinfo: a.flowinfo(),
                    sin6_addr: libc::in6_addr {
                        s6_addr: a.ip().octets(),
                    },
                    sin6_scope_id: a.scope_id(),
                };
                // SAFETY: sockaddr_storage is larger than and suitably aligned for sockaddr_in6.
                unsafe { std::ptr::write(raw.as_mut_ptr().cast::<libc::sockaddr_in6>(), sin6) };
                raw.len = socklen_of::<libc::sockaddr_in6>();
            }
        }
        raw
    }

    pub(crate) fn to_std(self) -> Option<SocketAddr> {
        match i32::from(self.storage.ss_family) {
            libc::AF_INET if self.len as usize >= mem::size_of::<libc::sockaddr_in>() => {
                // SAFETY: the family says the storage holds a sockaddr_in, and it is long enough.
                let sin = unsafe { &*self.as_ptr().cast::<libc::sockaddr_in>() };
                let ip = Ipv4Addr::from(sin.sin_addr.s_addr.to_ne_bytes());
                Some(SocketAddr::V4(SocketAddrV4::new(
                    ip,
                    u16::from_be(sin.sin_port),
                )))
            }
            libc::AF_INET6 if self.len as usize >= mem::size_of::<libc::sockaddr_in6>() => {
                // SAFETY: the family says the storage holds a sockaddr_in6, and it is long enough.
                let sin6 = unsafe { &*self.as_ptr().cast::<libc::sockaddr_in6>() };
                let ip = Ipv6Addr::from(sin6.sin6_addr.s6_addr);
                Some(SocketAddr::V6(SocketAddrV6::new(
                    ip,
                    u16::from_be(sin6.sin6_port),
                    sin6.sin6_flowinfo,
                    sin6.sin6_scope_id,
                )))
            }
            _ => None,
        }
    }

    pub(crate) fn as_ptr(&self) -> *const libc::sockaddr {
        (&raw const self.storage).cast()
    }

    pub(crate) fn as_mut_ptr(&mut self) -> *mut libc::sockaddr {
        (&raw mut self.storage).cast()
    }
}

pub(crate) fn socklen_of<T>() -> libc::socklen_t {
    libc::socklen_t::try_from(mem::size_of::<T>()).unwrap_or(libc::socklen_t::MAX)
}

/// A new non-blocking, close-on-exec socket.
pub(crate) fn socket(domain: i32, ty: i32, protocol: i32) -> io::Result<RawFd> {
    // SAFETY: plain syscall with integer arguments.
    cvt(unsafe {
        libc::socket(
            domain,
            ty | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC,
            protocol,
        )
    })
}

/// A second descriptor for the same open socket (close-on-exec).
pub(crate) fn dup(fd: RawFd) -> io::Result<RawFd> {
    // SAFETY: plain syscall with integer arguments; the new descriptor is the caller's.
    cvt(unsafe { libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, 0) })
}

pub(crate) fn close(fd: RawFd) {
    // SAFETY: the caller owns `fd` and gives it up; errors from close are not actionable.
    unsafe { libc::close(fd) };
}

pub(crate) fn bind(fd: RawFd, addr: &RawAddr) -> io::Result<()> {
    // SAFETY: `addr` points to `addr.len` valid bytes.
    cvt(unsafe { libc::bind(fd, addr.as_ptr(), addr.len) }).map(drop)
}

pub(crate) fn listen(fd: RawFd, backlog: i32) -> io::Result<()> {
    // SAFETY: plain syscall with integer arguments.
    cvt(unsafe { libc::listen(fd, backlog) }).map(drop)
}

pub(crate) fn connect(fd: RawFd, addr: &RawAddr) -> io::Result<()> {
    // SAFETY: `addr` points to `addr.len` valid bytes.
    cvt(unsafe { libc::connect(fd, addr.as_ptr(), addr.len) }).map(drop)
}

/// `accept4` with a non-blocking, close-on-exec result.
pub(crate) fn accept(fd: RawFd) -> io::Result<(RawFd, RawAddr)> {
    let mut addr = RawAddr::zeroed();
    // SAFETY: `addr` is a writable sockaddr_storage and `addr.len` its size.
    let new = cvt(unsafe {
        libc::accept4(
            fd,
            addr.as_mut_ptr(),
            &raw mut addr.len,
            libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC,
        )
    })?;
    Ok((new, addr))
}

pub(crate) fn local_addr(fd: RawFd) -> io::Result<RawAddr> {
    let mut addr = RawAddr::zeroed();
    // SAFETY: `addr` is a writable sockaddr_storage and `addr.len` its size.
    cvt(unsafe { libc::getsockname(fd, addr.as_mut_ptr(), &raw mut addr.len) })?;
    Ok(addr)
}

pub(crate) fn peer_addr(fd: RawFd) -> io::Result<RawAddr> {
    let mut addr = RawAddr::zeroed();
    // SAFETY: `addr` is a writable sockaddr_storage and `addr.len` its size.
    cvt(unsafe { libc::getpeername(fd, addr.as_mut_ptr(), &raw mut addr.len) })?;
    Ok(addr)
}

/// Whether a TCP socket's connect is under way (the kernel's state is `SYN_SENT`).
pub(crate) fn connect_in_progress(fd: RawFd) -> bool {
    /// `TCP_SYN_SENT` of the kernel's TCP state machine.
    const TCP_SYN_SENT: u8 = 2;
    getsockopt::<libc::tcp_info>(fd, libc::IPPROTO_TCP, libc::TCP_INFO)
        .is_ok_and(|info| info.tcpi_state == TCP_SYN_SENT)
}

pub(crate) fn shutdown(fd: RawFd, how: i32) -> io::Result<()> {
    // SAFETY: plain syscall with integer arguments.
    cvt(unsafe { libc::shutdown(fd, how) }).map(drop)
}

pub(crate) fn setsockopt<T: Copy>(fd: RawFd, level: i32, name: i32, value: T) -> io::Result<()> {
    // SAFETY: `value` is a live T of the size passed.
    cvt(unsafe {
        libc::setsockopt(
            fd,
            level,
            name,
            (&raw const value).cast(),
            socklen_of::<T>(),
        )
    })
    .map(drop)
}

pub(crate) fn getsockopt<T: Copy>(fd: RawFd, level: i32, name: i32) -> io::Result<T> {
    let mut value = MaybeUninit::<T>::zeroed();
    let mut len = socklen_of::<T>();
    // SAFETY: `value` is writable storage of `len` bytes.
    cvt(unsafe { libc::getsockopt(fd, level, name, value.as_mut_ptr().cast(), &raw mut len) })?;
    // SAFETY: zero-initialized and then (partly) written by the kernel; T is plain data.
    Ok(unsafe { value.assume_init() })
}

pub(crate) fn recvmsg(fd: RawFd, msg: *mut libc::msghdr, flags: i32) -> io::Result<usize> {
    // SAFETY: the caller built `msg` over memory it owns for the duration of the call.
    cvt_size(unsafe { libc::recvmsg(fd, msg, flags) })
}

pub(crate) fn sendmsg(fd: RawFd, msg: *const libc::msghdr, flags: i32) -> io::Result<usize> {
    // SAFETY: the caller built `msg` over memory it owns for the duration of the call.
    cvt_size(unsafe { libc::sendmsg(fd, msg, flags) })
}

/// Moves the socket `from` onto the descriptor number `onto` (closing what was there)
/// and releases `from`: how AcceptEx accepts *into* a pre-created socket.
pub(crate) fn install(from: RawFd, onto: RawFd) -> io::Result<()> {
    // SAFETY: both descriptors are owned by the caller; dup3 atomically replaces `onto`.
    let r = cvt(unsafe { libc::dup3(from, onto, libc::O_CLOEXEC) });
    close(from);
    r.map(drop)
}

/// Blocks until `fd` is ready for `events` (or `timeout_ms` passes; -1 = forever).
pub(crate) fn poll_one(fd: RawFd, events: i16, timeout_ms: i32) -> io::Result<i16> {
    let mut pfd = libc::pollfd {
        fd,
        events,
        revents: 0,
    };
    loop {
        // SAFETY: one valid pollfd.
        match cvt(unsafe { libc::poll(&raw mut pfd, 1, timeout_ms) }) {
            Ok(_) => return Ok(pfd.revents),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
}

pub(crate) fn fionread(fd: RawFd) -> io::Result<u32> {
    let mut n: libc::c_int = 0;
    // SAFETY: FIONREAD writes one int.
    cvt(unsafe { libc::ioctl(fd, libc::FIONREAD, &raw mut n) })?;
    Ok(u32::try_from(n).unwrap_or(0))
}

pub(crate) fn errno_of(e: &io::Error) -> i32 {
    e.raw_os_error().unwrap_or(libc::EIO)
}
