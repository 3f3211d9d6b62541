//! Sockets: create, bind, listen, the synchronous calls the seeds use (blocking
//! `accept` and `connect`, `send`, `recv`), options, addresses, shutdown, cancel, close.
//!
//! Every socket is overlapped-capable, as `socket()` makes them on Windows. Internally
//! the descriptor is always non-blocking; the Winsock blocking mode (`FIONBIO`,
//! [`Socket::set_nonblocking`]) only decides whether the *synchronous* calls wait.

use std::net::SocketAddr;
use std::os::fd::RawFd;
use std::time::Duration;

use crate::engine::{self, SocketState};
use crate::error::WsaError;
use crate::overlapped::Overlapped;
use crate::sync::{Arc, Ordering};
use crate::sys::net;

/// An address family.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// `AF_INET`.
    V4,
    /// `AF_INET6`.
    V6,
}

/// A socket type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `SOCK_STREAM` (TCP).
    Stream,
    /// `SOCK_DGRAM` (UDP).
    Datagram,
}

/// `shutdown`'s direction (`SD_RECEIVE`, `SD_SEND`, `SD_BOTH`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shutdown {
    /// No more receives: new receives fail with `WSAESHUTDOWN`; pending ones still
    /// complete with data.
    Receive,
    /// No more sends: the peer sees end of stream.
    Send,
    /// Both.
    Both,
}

/// An overlapped-capable socket (`SOCKET`).
///
/// # Cancellation
/// Dropping (or [`closing`](Socket::close)) a socket with pending operations completes
/// each of them through its own notification (event, routine), with
/// `WSAECONNABORTED` for receives and sends and `WSA_OPERATION_ABORTED` for accepts and
/// connects, as Windows reports them; their buffers are freed only once the kernel has
/// let go of them.
#[derive(Debug)]
pub struct Socket {
    pub(crate) state: Arc<SocketState>,
}

impl Socket {
    /// A new socket of `family` and `kind` (`WSASocket(..., WSA_FLAG_OVERLAPPED)`).
    ///
    /// # Errors
    /// `WSAEMFILE` when out of descriptors; `WSASYSNOTREADY` if the engine cannot start.
    pub fn new(family: Family, kind: Kind) -> Result<Self, WsaError> {
        engine::get()?;
        let domain = match family {
            Family::V4 => libc::AF_INET,
            Family::V6 => libc::AF_INET6,
        };
        let (ty, proto) = match kind {
            Kind::Stream => (libc::SOCK_STREAM, libc::IPPROTO_TCP),
            Kind::Datagram => (libc::SOCK_DGRAM, libc::IPPROTO_UDP),
        };
        let fd = net::socket(domain, ty, proto)?;
        Ok(Self {
            state: SocketState::new(fd, domain, ty),
        })
    }

    /// A second socket for the same kernel socket (`dup`; what `WSADuplicateSocket`
    /// gives within a process): data, options and the connection are shared, and closing
    /// one leaves the other open. Operations pending on `self` stay with `self`; the new
    /// socket starts in blocking mode with no shutdown recorded, as a duplicated
    /// `SOCKET` does on Windows.
    ///
    /// # Errors
    /// `WSAENOTSOCK` if `self` is closed; `WSAEMFILE` when out of descriptors;
    /// `WSASYSNOTREADY` if the engine cannot start.
    pub fn try_clone(&self) -> Result<Socket, WsaError> {
        engine::get()?;
        let fd = net::dup(self.fd()?)?;
        Ok(Self {
            state: SocketState::new(fd, self.state.family, self.state.ty),
        })
    }

    /// A TCP socket for IPv4.
    ///
    /// # Errors
    /// As [`Socket::new`].
    pub fn tcp_v4() -> Result<Self, WsaError> {
        Self::new(Family::V4, Kind::Stream)
    }

    /// A TCP socket for IPv6.
    ///
    /// # Errors
    /// As [`Socket::new`].
    pub fn tcp_v6() -> Result<Self, WsaError> {
        Self::new(Family::V6, Kind::Stream)
    }

    /// A UDP socket for IPv4.
    ///
    /// # Errors
    /// As [`Socket::new`].
    pub fn udp_v4() -> Result<Self, WsaError> {
        Self::new(Family::V4, Kind::Datagram)
    }

    /// A UDP socket for IPv6.
    ///
    /// # Errors
    /// As [`Socket::new`].
    pub fn udp_v6() -> Result<Self, WsaError> {
        Self::new(Family::V6, Kind::Datagram)
    }

    /// A socket of `kind` whose family matches `addr`.
    ///
    /// # Errors
    /// As [`Socket::new`].
    pub fn for_addr(addr: &SocketAddr, kind: Kind) -> Result<Self, WsaError> {
        Self::new(
            if addr.is_ipv4() {
                Family::V4
            } else {
                Family::V6
            },
            kind,
        )
    }

    /// A listening TCP socket bound to `addr` with `SO_REUSEADDR` (a convenience for
    /// `socket` + `setsockopt` + `bind` + `listen`).
    ///
    /// # Errors
    /// As [`Socket::bind`] and [`Socket::listen`].
    pub fn listen_on(addr: SocketAddr, backlog: i32) -> Result<Self, WsaError> {
        let s = Self::for_addr(&addr, Kind::Stream)?;
        s.set_reuse_address(true)?;
        s.bind(addr)?;
        s.listen(backlog)?;
        Ok(s)
    }

    /// A TCP socket connected to `addr` (blocking connect).
    ///
    /// # Errors
    /// As [`Socket::connect`].
    pub fn connect_to(addr: SocketAddr) -> Result<Self, WsaError> {
        let s = Self::for_addr(&addr, Kind::Stream)?;
        s.connect(addr)?;
        Ok(s)
    }

    fn fd(&self) -> Result<RawFd, WsaError> {
        match self.state.fd() {
            fd if fd >= 0 => Ok(fd),
            _ => Err(WsaError::WSAENOTSOCK),
        }
    }

    /// The descriptor (for `select`-style readiness checks; do not close it).
    pub fn as_raw_fd(&self) -> RawFd {
        self.state.fd()
    }

    /// Whether this is a stream (TCP) socket.
    pub fn is_stream(&self) -> bool {
        self.state.is_stream()
    }

    /// The address family.
    pub fn family(&self) -> Family {
        if self.state.family == libc::AF_INET6 {
            Family::V6
        } else {
            Family::V4
        }
    }

    /// Binds to `addr` (`bind`).
    ///
    /// # Errors
    /// `WSAEADDRINUSE`, `WSAEADDRNOTAVAIL`, `WSAEINVAL` (already bound), `WSAEFAULT`
    /// (address family does not match).
    pub fn bind(&self, addr: SocketAddr) -> Result<(), WsaError> {
        if addr.is_ipv4() != (self.state.family == libc::AF_INET) {
            return Err(WsaError::WSAEFAULT);
        }
        net::bind(self.fd()?, &net::RawAddr::from_std(&addr)).map_err(WsaError::from)
    }

    /// Starts listening (`listen`).
    ///
    /// # Errors
    /// `WSAEOPNOTSUPP` for datagram sockets, `WSAEINVAL` if not bound... as Linux reports.
    pub fn listen(&self, backlog: i32) -> Result<(), WsaError> {
        net::listen(self.fd()?, backlog)?;
        self.state.listening.store(true, Ordering::Release);
        Ok(())
    }

    /// Accepts a connection (`accept`), blocking unless the socket is non-blocking.
    ///
    /// # Errors
    /// `WSAEWOULDBLOCK` on a non-blocking socket with nothing to accept, `WSAEINVAL` if
    /// not listening, `WSAEMFILE` when out of descriptors.
    pub fn accept(&self) -> Result<(Socket, SocketAddr), WsaError> {
        let fd = self.fd()?;
        if !self.state.listening.load(Ordering::Acquire) {
            return Err(WsaError::WSAEINVAL);
        }
        let deferred = self.state.deferred.lock().pop_front();
        if let Some((conn, peer)) = deferred {
            let sock = Socket {
                state: SocketState::new(
                    std::os::fd::IntoRawFd::into_raw_fd(conn),
                    self.state.family,
                    self.state.ty,
                ),
            };
            sock.learn_peer(peer, true);
            return Ok((sock, peer));
        }
        loop {
            match net::accept(fd) {
                Ok((new, addr)) => {
                    let peer = addr.to_std().ok_or(WsaError::WSAEAFNOSUPPORT);
                    let sock = Socket {
                        state: SocketState::new(new, self.state.family, self.state.ty),
                    };
                    let peer = peer?;
                    sock.learn_peer(peer, true);
                    return Ok((sock, peer));
                }
                Err(e) if net::errno_of(&e) == libc::EAGAIN => self.block_on(fd, libc::POLLIN)?,
                Err(e) if net::errno_of(&e) == libc::ECONNABORTED => continue,
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// Gives back a connection accepted from this listener, to be what its next accept
    /// takes (`WSAAccept`'s condition function returning `CF_DEFER`): as Windows keeps
    /// such a connection at the head of the backlog, the next [`Socket::accept`] or
    /// [`Accept`](crate::Accept) takes it before any new one (an `Accept` then still
    /// reports pending, completing at once), and [`poll`] reports the listener readable
    /// while one is held. Closing the listener closes them.
    ///
    /// An `Accept` already pending when a connection is deferred waits for the kernel's
    /// next connection (it is not handed the deferred one).
    ///
    /// # Errors
    /// `WSAEINVAL` if this socket is not listening; `WSAENOTSOCK` if either is closed;
    /// `WSAEMFILE` when out of descriptors. On an error `conn` is closed.
    pub fn defer_accepted(&self, conn: Socket, peer: SocketAddr) -> Result<(), WsaError> {
        self.fd()?;
        if !self.state.listening.load(Ordering::Acquire) {
            return Err(WsaError::WSAEINVAL);
        }
        let fd = net::dup(conn.fd()?)?;
        // SAFETY: `dup` just returned this descriptor, owned by no one else.
        let owned = unsafe { <std::os::fd::OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(fd) };
        drop(conn);
        self.state.deferred.lock().push_back((owned, peer));
        Ok(())
    }

    /// Waits for readiness in a synchronous call, or fails with `WSAEWOULDBLOCK` in
    /// non-blocking mode, or `WSAETIMEDOUT` after the socket's timeout for that direction.
    fn block_on(&self, fd: RawFd, events: i16) -> Result<(), WsaError> {
        if self.state.nonblocking.load(Ordering::Acquire) {
            return Err(WsaError::WSAEWOULDBLOCK);
        }
        let ms = if events == libc::POLLOUT {
            self.state
                .write_timeout_ms
                .load(std::sync::atomic::Ordering::Acquire)
        } else {
            self.state
                .read_timeout_ms
                .load(std::sync::atomic::Ordering::Acquire)
        };
        let timeout = (ms != 0).then(|| Duration::from_millis(ms.into()));
        let mut pfd = [libc::pollfd {
            fd,
            events,
            revents: 0,
        }];
        // Alertable on a thread that asked for it (Winsock's blocking calls).
        if crate::alertable::poll_blocking(&mut pfd, timeout)? == 0 {
            return Err(WsaError::WSAETIMEDOUT);
        }
        Ok(())
    }

    /// Connects (`connect`), blocking unless the socket is non-blocking (then
    /// `WSAEWOULDBLOCK` means the connect is under way).
    ///
    /// # Errors
    /// `WSAECONNREFUSED`, `WSAETIMEDOUT`, `WSAENETUNREACH`, `WSAEISCONN`,
    /// `WSAEALREADY` (a connect is under way), `WSAEINVAL` (a ConnectEx is pending).
    pub fn connect(&self, addr: SocketAddr) -> Result<(), WsaError> {
        let fd = self.fd()?;
        // Windows: a listening socket, one with a ConnectEx pending or done, or the
        // target of an AcceptEx cannot connect (Linux says EISCONN for a listener).
        if self.state.connecting.load(Ordering::Acquire)
            || self.state.connected_ex.load(Ordering::Acquire)
            || self.state.listening.load(Ordering::Acquire)
            || self.state.accept_link.lock().is_some()
        {
            return Err(WsaError::WSAEINVAL);
        }
        let to = net::RawAddr::from_std(&addr);
        // A non-blocking connect was started by an earlier call.
        let earlier = self.is_stream() && matches!(*self.state.peer.lock(), Some((_, false)));
        match net::connect(fd, &to) {
            // Linux reports the end of an earlier non-blocking connect to the next
            // connect call as a success; Windows says that the socket is connected.
            Ok(()) if earlier => {
                self.learn_peer(addr, true);
                return Err(WsaError::WSAEISCONN);
            }
            Ok(()) => {
                self.learn_peer(addr, true);
                return Ok(());
            }
            Err(e) if net::errno_of(&e) == libc::EINPROGRESS => {}
            Err(e) => {
                if !matches!(net::errno_of(&e), libc::EALREADY | libc::EISCONN) {
                    self.forget_target();
                }
                return Err(e.into());
            }
        }
        // Under way: `getpeername` answers with the target, as on Windows.
        self.learn_peer(addr, false);
        self.block_on(fd, libc::POLLOUT)?;
        match net::getsockopt::<libc::c_int>(fd, libc::SOL_SOCKET, libc::SO_ERROR)? {
            0 => {
                // Linux leaves a non-blocking connect's socket "connecting" until the
                // next connect call (which then succeeds); make it now, so that a later
                // connect fails with WSAEISCONN as on Windows.
                let _ = net::connect(fd, &to);
                self.learn_peer(addr, true);
                Ok(())
            }
            errno => {
                // Linux leaves the socket "connecting" until the next connect call
                // reports the failure; make it now so that the socket can connect again.
                let _ = net::connect(fd, &to);
                self.forget_target();
                Err(WsaError::from_errno(errno))
            }
        }
    }

    /// Records a stream socket's peer (`established`) or a connect's target.
    fn learn_peer(&self, addr: SocketAddr, established: bool) {
        if self.is_stream() {
            *self.state.peer.lock() = Some((addr, established));
        }
    }

    /// Forgets a connect's target once the connect failed (a peer once connected stays).
    fn forget_target(&self) {
        let mut peer = self.state.peer.lock();
        if matches!(*peer, Some((_, false))) {
            *peer = None;
        }
    }

    /// Dissolves a datagram socket's default peer (`connect` with an `AF_UNSPEC`
    /// address, as Winsock's `connect` with `AF_UNSPEC`): afterwards it has no peer.
    ///
    /// # Errors
    /// `WSAENOTSOCK` (closed); a stream socket: `WSAEAFNOSUPPORT`.
    pub fn disconnect_datagram(&self) -> Result<(), WsaError> {
        let fd = self.fd()?;
        if self.is_stream() {
            return Err(WsaError::WSAEAFNOSUPPORT);
        }
        let mut unspec = net::RawAddr::zeroed();
        unspec.len = net::socklen_of::<libc::sa_family_t>();
        net::connect(fd, &unspec).map_err(WsaError::from)
    }

    /// Sends synchronously (`send`): in blocking mode, returns once all of `data` is
    /// sent; in non-blocking mode, sends what fits (never a partial write of 0).
    ///
    /// # Errors
    /// `WSAEWOULDBLOCK` (non-blocking, nothing fits), `WSAECONNRESET`, `WSAESHUTDOWN`,
    /// `WSAENOTCONN`.
    pub fn send(&self, data: &[u8]) -> Result<usize, WsaError> {
        self.send_impl(data, 0, None)
    }

    /// Sends synchronously with Winsock flags ([`crate::ops::flags::MSG_OOB`],
    /// [`crate::ops::flags::MSG_DONTROUTE`]), as [`Socket::send`] otherwise.
    ///
    /// # Errors
    /// As [`Socket::send`]; `WSAEOPNOTSUPP` for a flag a send does not take.
    pub fn send_with_flags(&self, data: &[u8], flags: u32) -> Result<usize, WsaError> {
        if flags & !(crate::ops::flags::MSG_OOB | crate::ops::flags::MSG_DONTROUTE) != 0 {
            return Err(WsaError::WSAEOPNOTSUPP);
        }
        self.send_impl(data, crate::ops::linux_flags(flags)?, None)
    }

    /// Sends a datagram synchronously (`sendto`).
    ///
    /// # Errors
    /// As [`Socket::send`], and `WSAEMSGSIZE` for an oversized datagram.
    pub fn send_to(&self, data: &[u8], to: SocketAddr) -> Result<usize, WsaError> {
        self.send_impl(data, 0, Some(net::RawAddr::from_std(&to)))
    }

    fn send_impl(
        &self,
        data: &[u8],
        flags: i32,
        to: Option<net::RawAddr>,
    ) -> Result<usize, WsaError> {
        let fd = self.fd()?;
        if self.state.shut_write.load(Ordering::Acquire) {
            return Err(WsaError::WSAESHUTDOWN);
        }
        if self.state.reset.load(Ordering::Acquire) {
            return Err(WsaError::WSAECONNRESET);
        }
        let mut sent = 0;
        loop {
            let rest = &data[sent..];
            let (name, namelen) = match &to {
                Some(a) => (a.as_ptr(), a.len),
                None => (std::ptr::null(), 0),
            };
            // SAFETY: `rest` and the optional address are live for the call.
            let r = unsafe {
                libc::sendto(
                    fd,
                    rest.as_ptr().cast(),
                    rest.len(),
                    libc::MSG_NOSIGNAL | libc::MSG_DONTWAIT | flags,
                    name,
                    namelen,
                )
            };
            match crate::error::cvt_size(r) {
                Ok(n) => {
                    sent += n;
                    if sent == data.len() || self.state.nonblocking.load(Ordering::Acquire) {
                        return Ok(sent);
                    }
                }
                Err(e) if net::errno_of(&e) == libc::EAGAIN => {
                    if sent > 0 && self.state.nonblocking.load(Ordering::Acquire) {
                        return Ok(sent);
                    }
                    // A connect under way: Windows says not connected (Linux waits).
                    if self.is_stream() && net::connect_in_progress(fd) {
                        return Err(WsaError::WSAENOTCONN);
                    }
                    self.block_on(fd, libc::POLLOUT)?;
                }
                Err(e) => {
                    if net::errno_of(&e) == libc::EPIPE
                        && crate::ops::send_epipe_errno(fd) == libc::ENOTCONN
                    {
                        return Err(WsaError::WSAENOTCONN);
                    }
                    // A datagram socket without a peer, sent to without a destination:
                    // Winsock says not connected (Linux: EDESTADDRREQ).
                    if net::errno_of(&e) == libc::EDESTADDRREQ {
                        return Err(WsaError::WSAENOTCONN);
                    }
                    if matches!(net::errno_of(&e), libc::ECONNRESET | libc::EPIPE) {
                        self.state.reset.store(true, Ordering::Release);
                    }
                    return Err(e.into());
                }
            }
        }
    }

    /// Receives synchronously (`recv`); 0 means the peer closed.
    ///
    /// # Errors
    /// `WSAEWOULDBLOCK` (non-blocking, no data), `WSAECONNRESET`, `WSAESHUTDOWN`,
    /// `WSAENOTCONN`.
    pub fn recv(&self, buf: &mut [u8]) -> Result<usize, WsaError> {
        self.recv_impl(buf, 0, None)
    }

    /// Looks at queued data without taking it (`recv` with `MSG_PEEK`).
    ///
    /// # Errors
    /// As [`Socket::recv`].
    pub fn peek(&self, buf: &mut [u8]) -> Result<usize, WsaError> {
        self.recv_impl(buf, libc::MSG_PEEK, None)
    }

    /// Receives synchronously with Winsock flags ([`crate::ops::flags::MSG_PEEK`],
    /// [`crate::ops::flags::MSG_OOB`], [`crate::ops::flags::MSG_WAITALL`]), as [`Socket::recv`]
    /// otherwise.
    ///
    /// # Errors
    /// As [`Socket::recv`]; `WSAEOPNOTSUPP` for an unknown flag; `WSAEINVAL` for
    /// `MSG_OOB` with no urgent byte to take.
    pub fn recv_with_flags(&self, buf: &mut [u8], flags: u32) -> Result<usize, WsaError> {
        self.recv_impl(buf, crate::ops::linux_flags(flags)?, None)
    }

    /// Receives a datagram synchronously (`recvfrom`).
    ///
    /// # Errors
    /// As [`Socket::recv`].
    pub fn recv_from(&self, buf: &mut [u8]) -> Result<(usize, SocketAddr), WsaError> {
        let mut addr = net::RawAddr::zeroed();
        let n = self.recv_impl(buf, 0, Some(&mut addr))?;
        Ok((n, addr.to_std().ok_or(WsaError::WSAEAFNOSUPPORT)?))
    }

    fn recv_impl(
        &self,
        buf: &mut [u8],
        flags: i32,
        mut from: Option<&mut net::RawAddr>,
    ) -> Result<usize, WsaError> {
        let fd = self.fd()?;
        if self.state.shut_read.load(Ordering::Acquire) {
            return Err(WsaError::WSAESHUTDOWN);
        }
        if self.state.reset.load(Ordering::Acquire) {
            return Err(WsaError::WSAECONNRESET);
        }
        loop {
            let (name, len) = match from.as_deref_mut() {
                Some(a) => {
                    *a = net::RawAddr::zeroed();
                    (a.as_mut_ptr(), &raw mut a.len)
                }
                None => (std::ptr::null_mut(), std::ptr::null_mut()),
            };
            // SAFETY: `buf` and the optional address are live and writable for the call.
            let r = unsafe {
                libc::recvfrom(
                    fd,
                    buf.as_mut_ptr().cast(),
                    buf.len(),
                    flags | libc::MSG_DONTWAIT,
                    name,
                    len,
                )
            };
            match crate::error::cvt_size(r) {
                Ok(n) => return Ok(n),
                Err(e) if net::errno_of(&e) == libc::EAGAIN => {
                    // Nothing can arrive on a datagram socket that has no address yet:
                    // Winsock refuses the receive (WSAEINVAL) rather than wait.
                    if !self.is_stream() && self.local_addr().is_ok_and(|a| a.port() == 0) {
                        return Err(WsaError::WSAEINVAL);
                    }
                    // A connect under way: Windows says not connected (Linux waits).
                    if self.is_stream() && net::connect_in_progress(fd) {
                        return Err(WsaError::WSAENOTCONN);
                    }
                    self.block_on(fd, libc::POLLIN)?
                }
                Err(e) => {
                    if net::errno_of(&e) == libc::ECONNRESET {
                        self.state.reset.store(true, Ordering::Release);
                    }
                    return Err(e.into());
                }
            }
        }
    }

    /// Sets the blocking mode of the synchronous calls (`ioctlsocket(FIONBIO)`).
    pub fn set_nonblocking(&self, on: bool) {
        self.state.nonblocking.store(on, Ordering::Release);
    }

    /// `SO_RCVTIMEO`: how long a synchronous receive (or `accept`) waits before failing
    /// with `WSAETIMEDOUT` (`None` = forever). Overlapped receives ignore it, as on Windows.
    pub fn set_read_timeout(&self, timeout: Option<Duration>) {
        self.state
            .read_timeout_ms
            .store(timeout_ms(timeout), std::sync::atomic::Ordering::Release);
    }

    /// `SO_RCVTIMEO`'s value.
    pub fn read_timeout(&self) -> Option<Duration> {
        from_ms(
            self.state
                .read_timeout_ms
                .load(std::sync::atomic::Ordering::Acquire),
        )
    }

    /// `SO_SNDTIMEO`: as [`Socket::set_read_timeout`], for synchronous sends.
    pub fn set_write_timeout(&self, timeout: Option<Duration>) {
        self.state
            .write_timeout_ms
            .store(timeout_ms(timeout), std::sync::atomic::Ordering::Release);
    }

    /// `SO_SNDTIMEO`'s value.
    pub fn write_timeout(&self) -> Option<Duration> {
        from_ms(
            self.state
                .write_timeout_ms
                .load(std::sync::atomic::Ordering::Acquire),
        )
    }

    /// Sets any socket option by its **Linux** level and name, from raw bytes: the
    /// escape hatch for options without a typed setter.
    ///
    /// # Errors
    /// The kernel's error (`WSAENOPROTOOPT` for an unknown option, `WSAEFAULT` for a
    /// bad length).
    pub fn set_option_bytes(&self, level: i32, name: i32, value: &[u8]) -> Result<(), WsaError> {
        let len = libc::socklen_t::try_from(value.len()).map_err(|_| WsaError::WSAEFAULT)?;
        // SAFETY: `value` is a live slice of `len` bytes.
        let r = unsafe { libc::setsockopt(self.fd()?, level, name, value.as_ptr().cast(), len) };
        crate::error::cvt(r).map(drop).map_err(WsaError::from)
    }

    /// Reads any socket option by its Linux level and name into `out`; returns the
    /// length the kernel wrote.
    ///
    /// # Errors
    /// As [`Socket::set_option_bytes`].
    pub fn option_bytes(&self, level: i32, name: i32, out: &mut [u8]) -> Result<usize, WsaError> {
        let mut len = libc::socklen_t::try_from(out.len()).map_err(|_| WsaError::WSAEFAULT)?;
        // SAFETY: `out` is a live, writable slice of `len` bytes.
        let r = unsafe {
            libc::getsockopt(
                self.fd()?,
                level,
                name,
                out.as_mut_ptr().cast(),
                &raw mut len,
            )
        };
        crate::error::cvt(r).map_err(WsaError::from)?;
        Ok(len as usize)
    }

    /// Whether the synchronous calls are in non-blocking mode (`FIONBIO`).
    pub fn is_nonblocking(&self) -> bool {
        self.state.nonblocking.load(Ordering::Acquire)
    }

    /// The local address (`getsockname`).
    ///
    /// # Errors
    /// `WSAENOTSOCK` if closed; `WSAEINVAL` if it has none.
    pub fn local_addr(&self) -> Result<SocketAddr, WsaError> {
        net::local_addr(self.fd()?)?
            .to_std()
            .ok_or(WsaError::WSAEINVAL)
    }

    /// The peer's address (`getpeername`).
    ///
    /// # Errors
    /// `WSAENOTCONN` if not connected.
    ///
    /// # Compatibility
    /// As on Windows, a stream socket keeps answering with its peer after the
    /// connection ended (both sides shut down, or a reset), and answers with the target
    /// while a non-blocking `connect` is under way; Linux forgets both.
    pub fn peer_addr(&self) -> Result<SocketAddr, WsaError> {
        let fd = self.fd()?;
        match net::peer_addr(fd) {
            Ok(a) => {
                let a = a.to_std().ok_or(WsaError::WSAENOTCONN)?;
                self.learn_peer(a, true);
                Ok(a)
            }
            Err(e) => match *self.state.peer.lock() {
                Some((a, true)) => Ok(a),
                Some((a, false)) if net::connect_in_progress(fd) => Ok(a),
                _ => Err(e.into()),
            },
        }
    }

    /// Whether a stream socket has been connected (its connection may have ended since:
    /// shut down or reset); a datagram socket: whether it has a default peer.
    pub fn was_connected(&self) -> bool {
        if !self.is_stream() {
            return self.fd().is_ok_and(|fd| net::peer_addr(fd).is_ok());
        }
        self.peer_addr().is_ok() && matches!(*self.state.peer.lock(), Some((_, true)))
    }

    /// Whether the connection was reset (by the peer, or a failed send or receive saw
    /// it): receives and sends fail with `WSAECONNRESET`, and readiness checks report an
    /// error (`WSAPoll`'s `POLLERR`) even after `SO_ERROR` was read.
    pub fn is_reset(&self) -> bool {
        self.state.reset.load(Ordering::Acquire)
    }

    /// Shuts down one or both directions (`shutdown`).
    ///
    /// # Compatibility
    /// [`Shutdown::Receive`] is recorded but not passed to Linux, whose `SHUT_RD` would
    /// complete pending receives with 0 bytes; Windows lets them complete with data.
    ///
    /// A stream socket must have been connected (it still may be shut down after the
    /// connection ended, as on Windows); a datagram socket needs no peer.
    ///
    /// # Errors
    /// `WSAENOTCONN` if a stream socket was never connected (or is listening).
    pub fn shutdown(&self, how: Shutdown) -> Result<(), WsaError> {
        let fd = self.fd()?;
        if self.is_stream() && !self.was_connected() {
            return Err(WsaError::WSAENOTCONN);
        }
        if matches!(how, Shutdown::Receive | Shutdown::Both) {
            self.state.shut_read.store(true, Ordering::Release);
        }
        if matches!(how, Shutdown::Send | Shutdown::Both) {
            self.state.shut_write.store(true, Ordering::Release);
            match net::shutdown(fd, libc::SHUT_WR) {
                // The connection is already gone (or a datagram socket has no peer):
                // Linux says ENOTCONN, Windows records the shutdown and succeeds.
                Err(e) if net::errno_of(&e) == libc::ENOTCONN => {}
                r => r?,
            }
        }
        Ok(())
    }

    /// Cancels every pending operation on this socket, from any thread (`CancelIoEx(s,
    /// NULL)`); each completes with `WSA_OPERATION_ABORTED` through its own
    /// notification, unless it completed first. Returns how many were pending.
    pub fn cancel_all(&self) -> usize {
        match engine::get() {
            Ok(e) => e.cancel_settled(&self.state, &|_| true),
            Err(_) => 0,
        }
    }

    /// Cancels the pending operation bound to `ov` (`CancelIoEx(s, ov)`); false if there
    /// is none (`ERROR_NOT_FOUND`).
    pub fn cancel(&self, ov: &Overlapped) -> bool {
        match engine::get() {
            Ok(e) => e.cancel_settled(&self.state, &|c| Arc::ptr_eq(&c.ov, &ov.state)) > 0,
            Err(_) => false,
        }
    }

    /// Cancels the pending operations this thread issued on this socket (`CancelIo`).
    /// Returns how many.
    pub fn cancel_from_this_thread(&self) -> usize {
        let me = std::thread::current().id();
        match engine::get() {
            Ok(e) => e.cancel_settled(&self.state, &|c| c.issuer == me),
            Err(_) => 0,
        }
    }

    /// `SetFileCompletionNotificationModes(s, FILE_SKIP_COMPLETION_PORT_ON_SUCCESS)`: an
    /// operation that completes during its post ([`Status::Immediate`](crate::Status))
    /// with success no longer queues a packet to the socket's
    /// [completion port](crate::CompletionPort); pending completions and failures still
    /// do. The mode cannot be unset.
    ///
    /// # Errors
    /// `WSAEINVAL` when asked to unset it once set; `WSAENOTSOCK` if closed.
    pub fn set_skip_completion_port_on_success(&self, on: bool) -> Result<(), WsaError> {
        self.fd()?;
        let set = self.state.skip_port_on_success.load(Ordering::Acquire);
        match (on, set) {
            (true, _) => {
                self.state
                    .skip_port_on_success
                    .store(true, Ordering::Release);
                Ok(())
            }
            (false, true) => Err(WsaError::WSAEINVAL),
            (false, false) => Ok(()),
        }
    }

    /// Whether [`Socket::set_skip_completion_port_on_success`] is in effect.
    pub fn skips_completion_port_on_success(&self) -> bool {
        self.state.skip_port_on_success.load(Ordering::Acquire)
    }

    /// Closes the socket (`closesocket`); see the type's `# Cancellation`.
    pub fn close(self) {
        drop(self);
    }

    /// Does what closing does to operations, through a shared reference: every pending
    /// operation completes aborted, new ones fail with `WSAENOTSOCK`, and threads blocked
    /// in synchronous calls on it wake up (the connection is shut down). The descriptor
    /// itself is released when the `Socket` is dropped. This is how a `closesocket`
    /// from one thread wakes another thread blocked in `accept`.
    pub fn abort(&self) {
        if let Ok(e) = engine::get() {
            e.close(&self.state, false);
        }
    }

    fn set_opt<T: Copy>(&self, level: i32, name: i32, value: T) -> Result<(), WsaError> {
        net::setsockopt(self.fd()?, level, name, value).map_err(WsaError::from)
    }

    fn get_opt<T: Copy>(&self, level: i32, name: i32) -> Result<T, WsaError> {
        net::getsockopt(self.fd()?, level, name).map_err(WsaError::from)
    }

    /// `SO_REUSEADDR`.
    ///
    /// # Errors
    /// `WSAENOTSOCK` if closed.
    pub fn set_reuse_address(&self, on: bool) -> Result<(), WsaError> {
        self.set_opt::<libc::c_int>(libc::SOL_SOCKET, libc::SO_REUSEADDR, on.into())
    }

    /// `SO_REUSEADDR`'s value.
    ///
    /// # Errors
    /// `WSAENOTSOCK` if closed.
    pub fn reuse_address(&self) -> Result<bool, WsaError> {
        Ok(self.get_opt::<libc::c_int>(libc::SOL_SOCKET, libc::SO_REUSEADDR)? != 0)
    }

    /// `TCP_NODELAY`.
    ///
    /// # Errors
    /// `WSAENOPROTOOPT` on a datagram socket.
    pub fn set_nodelay(&self, on: bool) -> Result<(), WsaError> {
        self.set_opt::<libc::c_int>(libc::IPPROTO_TCP, libc::TCP_NODELAY, on.into())
    }

    /// `TCP_NODELAY`'s value.
    ///
    /// # Errors
    /// `WSAENOPROTOOPT` on a datagram socket.
    pub fn nodelay(&self) -> Result<bool, WsaError> {
        Ok(self.get_opt::<libc::c_int>(libc::IPPROTO_TCP, libc::TCP_NODELAY)? != 0)
    }

    /// `SO_LINGER`: `None` = graceful close in the background; `Some(ZERO)` = reset
    /// (RST) on close; `Some(t)` = close waits up to `t` for unsent data.
    ///
    /// # Errors
    /// `WSAENOTSOCK` if closed.
    pub fn set_linger(&self, linger: Option<Duration>) -> Result<(), WsaError> {
        let l = libc::linger {
            l_onoff: linger.is_some().into(),
            l_linger: linger.map_or(0, |d| {
                libc::c_int::try_from(d.as_secs()).unwrap_or(libc::c_int::MAX)
            }),
        };
        self.set_opt(libc::SOL_SOCKET, libc::SO_LINGER, l)
    }

    /// `SO_LINGER`'s value.
    ///
    /// # Errors
    /// `WSAENOTSOCK` if closed.
    pub fn linger(&self) -> Result<Option<Duration>, WsaError> {
        let l: libc::linger = self.get_opt(libc::SOL_SOCKET, libc::SO_LINGER)?;
        Ok((l.l_onoff != 0).then(|| Duration::from_secs(l.l_linger.unsigned_abs().into())))
    }

    /// `SO_RCVBUF`.
    ///
    /// # Errors
    /// `WSAENOTSOCK` if closed.
    pub fn set_recv_buffer_size(&self, bytes: usize) -> Result<(), WsaError> {
        self.set_opt::<libc::c_int>(libc::SOL_SOCKET, libc::SO_RCVBUF, clamp_int(bytes))
    }

    /// `SO_RCVBUF`'s value (Linux reports double what was set, for its bookkeeping).
    ///
    /// # Errors
    /// `WSAENOTSOCK` if closed.
    pub fn recv_buffer_size(&self) -> Result<usize, WsaError> {
        Ok(self
            .get_opt::<libc::c_int>(libc::SOL_SOCKET, libc::SO_RCVBUF)?
            .unsigned_abs() as usize)
    }

    /// `SO_SNDBUF`.
    ///
    /// # Errors
    /// `WSAENOTSOCK` if closed.
    pub fn set_send_buffer_size(&self, bytes: usize) -> Result<(), WsaError> {
        self.set_opt::<libc::c_int>(libc::SOL_SOCKET, libc::SO_SNDBUF, clamp_int(bytes))
    }

    /// `SO_SNDBUF`'s value.
    ///
    /// # Errors
    /// `WSAENOTSOCK` if closed.
    pub fn send_buffer_size(&self) -> Result<usize, WsaError> {
        Ok(self
            .get_opt::<libc::c_int>(libc::SOL_SOCKET, libc::SO_SNDBUF)?
            .unsigned_abs() as usize)
    }

    /// `SO_KEEPALIVE`.
    ///
    /// # Errors
    /// `WSAENOTSOCK` if closed.
    pub fn set_keepalive(&self, on: bool) -> Result<(), WsaError> {
        self.set_opt::<libc::c_int>(libc::SOL_SOCKET, libc::SO_KEEPALIVE, on.into())
    }

    /// `SO_ERROR`: the pending socket error, cleared by reading it.
    ///
    /// # Errors
    /// `WSAENOTSOCK` if closed.
    pub fn take_error(&self) -> Result<Option<WsaError>, WsaError> {
        let e: libc::c_int = self.get_opt(libc::SOL_SOCKET, libc::SO_ERROR)?;
        Ok((e != 0).then(|| WsaError::from_errno(e)))
    }
}

fn timeout_ms(t: Option<Duration>) -> u32 {
    t.map_or(0, |d| {
        u32::try_from(d.as_millis()).unwrap_or(u32::MAX).max(1)
    })
}

fn from_ms(ms: u32) -> Option<Duration> {
    (ms != 0).then(|| Duration::from_millis(ms.into()))
}

/// Readiness conditions for [`poll`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Readiness {
    /// Data (or a connection, or end of stream) can be read.
    pub read: bool,
    /// Data can be written (or a connect finished).
    pub write: bool,
    /// Urgent (out-of-band) data is there.
    pub priority: bool,
    /// An error is pending (reported whether asked for or not).
    pub error: bool,
    /// The peer hung up (reported whether asked for or not).
    pub hangup: bool,
    /// The peer shut down its sending side: the stream ends after what is queued
    /// (reported by [`poll`] whether asked for or not).
    pub read_closed: bool,
}

/// One socket for [`poll`]: what to wait for, and what was found.
#[derive(Debug)]
pub struct PollEntry<'a> {
    /// The socket.
    pub socket: &'a Socket,
    /// What to wait for.
    pub interest: Readiness,
    /// What was found (filled in by [`poll`]).
    pub ready: Readiness,
}

/// Waits until one of the sockets is ready as asked, or `timeout` passes (`None` =
/// forever); returns how many are ready (`select` / `WSAPoll`).
///
/// # Errors
/// `WSAEINVAL` for more entries than the kernel takes; `WSAENOTSOCK` if one is closed.
pub fn poll(entries: &mut [PollEntry<'_>], timeout: Option<Duration>) -> Result<usize, WsaError> {
    let mut fds = Vec::with_capacity(entries.len());
    for e in entries.iter() {
        let mut events = libc::POLLRDHUP;
        if e.interest.read {
            events |= libc::POLLIN;
        }
        if e.interest.write {
            events |= libc::POLLOUT;
        }
        if e.interest.priority {
            events |= libc::POLLPRI;
        }
        fds.push(libc::pollfd {
            fd: e.socket.fd()?,
            events,
            revents: 0,
        });
    }
    // A listener holding a deferred connection is readable (it is at the head of the
    // backlog on Windows), whatever the kernel says.
    let held: Vec<bool> = entries
        .iter()
        .map(|e| e.interest.read && !e.socket.state.deferred.lock().is_empty())
        .collect();
    let timeout = if held.contains(&true) {
        Some(Duration::ZERO)
    } else {
        timeout
    };
    // Alertable on a thread that asked for it (Winsock's select and WSAPoll).
    let mut n = crate::alertable::poll_blocking(&mut fds, timeout)?;
    for (p, &h) in fds.iter_mut().zip(&held) {
        if h {
            if p.revents == 0 {
                n += 1;
            }
            p.revents |= libc::POLLIN;
        }
    }
    for (e, p) in entries.iter_mut().zip(&fds) {
        e.ready = Readiness {
            read: p.revents & libc::POLLIN != 0,
            write: p.revents & libc::POLLOUT != 0,
            priority: p.revents & libc::POLLPRI != 0,
            error: p.revents & libc::POLLERR != 0,
            hangup: p.revents & libc::POLLHUP != 0,
            read_closed: p.revents & libc::POLLRDHUP != 0,
        };
    }
    Ok(n)
}

fn clamp_int(v: usize) -> libc::c_int {
    libc::c_int::try_from(v).unwrap_or(libc::c_int::MAX)
}

impl Drop for Socket {
    fn drop(&mut self) {
        match engine::get() {
            Ok(e) => e.close(&self.state, true),
            Err(_) => {
                let fd = self.state.fd();
                if fd >= 0 {
                    net::close(fd);
                }
            }
        }
    }
}
