//! `AcceptEx`: accept into a pre-created socket, with the addresses and, optionally, the
//! first block of data in one operation.

use std::net::SocketAddr;

use super::recv::MsgHdr;
use super::{open, posting_methods};
use crate::buf::IoBufMut;
use crate::engine::SocketState;
use crate::engine::op::{OpDesc, Outcome, QueueKind, Step};
use crate::error::{NtStatus, WsaError};
use crate::socket::Socket;
use crate::sync::{Arc, Ordering};
use crate::sys::{SysOp, net};

/// An accept into a pre-created socket (`AcceptEx`).
///
/// The connection is installed into `acceptor` (a fresh, unbound stream socket of the
/// listener's family). Without [`Accept::receive`] the operation completes as soon as a
/// connection is accepted; with it, only when the first data arrives (or the peer closes,
/// which completes with success and 0 bytes). The completion belongs to the listener: it
/// is cancelled by cancelling or closing the listener, or by closing the acceptor.
///
/// # Examples
/// ```no_run
/// use overlapped::{Accept, Event, Overlapped, Socket, wait_any};
/// # fn f(listener: &Socket) -> Result<(), overlapped::WsaError> {
/// let acceptor = Socket::tcp_v4()?;
/// let ov = Overlapped::with_event(&Event::new_manual());
/// let posted = Accept::new(listener, &acceptor).receive(vec![0u8; 512]).post(&ov)?;
/// let (result, accepted) = posted.wait();
/// println!("{} bytes from {:?}", result?.bytes, accepted.remote);
/// # Ok(()) }
/// ```
pub struct Accept<B = Vec<u8>> {
    listener: Arc<SocketState>,
    acceptor: Arc<SocketState>,
    buf: Option<B>,
    hook: Option<AddressHook>,
    too_small: bool,
}

impl<B> std::fmt::Debug for Accept<B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Accept")
            .field("listener", &self.listener)
            .field("acceptor", &self.acceptor)
            .finish_non_exhaustive()
    }
}

/// Receives the local and remote addresses of a finished accept, before it notifies.
pub type AddressHook = Box<dyn FnOnce(Option<SocketAddr>, Option<SocketAddr>) + std::marker::Send>;

/// What an [`Accept`] gives back.
#[derive(Debug)]
pub struct Accepted<B> {
    /// The first-data buffer, if one was given.
    pub buf: Option<B>,
    /// The acceptor's local address (on success).
    pub local: Option<SocketAddr>,
    /// The peer's address (on success).
    pub remote: Option<SocketAddr>,
}

impl Accept<Vec<u8>> {
    /// An accept on `listener` into `acceptor`, completing on connection.
    pub fn new(listener: &Socket, acceptor: &Socket) -> Self {
        Self {
            listener: Arc::clone(&listener.state),
            acceptor: Arc::clone(&acceptor.state),
            buf: None,
            hook: None,
            too_small: false,
        }
    }
}

impl<B: IoBufMut> Accept<B> {
    /// Also receives the first block of data into `buf` (its whole length is the
    /// receive window); the operation then completes only when data arrives.
    pub fn receive<C: IoBufMut>(self, buf: C) -> Accept<C> {
        Accept {
            listener: self.listener,
            acceptor: self.acceptor,
            buf: Some(buf),
            hook: self.hook,
            too_small: self.too_small,
        }
    }

    /// Calls `hook` with the local and remote addresses (or `None`s on failure) when the
    /// accept finishes, *before* its notification is delivered: how the C ABI writes
    /// `AcceptEx`'s address blocks into the caller's buffer in time for
    /// `GetAcceptExSockaddrs`. Default: none.
    pub fn on_addresses(
        mut self,
        hook: impl FnOnce(Option<SocketAddr>, Option<SocketAddr>) + std::marker::Send + 'static,
    ) -> Self {
        self.hook = Some(Box::new(hook));
        self
    }

    /// The caller's room for the addresses is too small (`AcceptEx` with a local or
    /// remote address length below the address size + 16): the operation still pends,
    /// and completes with `STATUS_BUFFER_TOO_SMALL` when a connection is waiting,
    /// **leaving that connection queued** for the next accept, as Windows does.
    pub fn too_small_for_addresses(mut self) -> Self {
        self.too_small = true;
        self
    }

    posting_methods!(Accepted<B>);

    fn into_desc(self) -> Result<(Arc<SocketState>, AcceptDesc<B>), WsaError> {
        let listener = open(&self.listener)?;
        let acceptor = open(&self.acceptor)?;
        if !listener.listening.load(Ordering::Acquire) || Arc::ptr_eq(&listener, &acceptor) {
            return Err(WsaError::WSAEINVAL);
        }
        if acceptor.family != listener.family || !acceptor.is_stream() {
            return Err(WsaError::WSAEINVAL);
        }
        let bound = net::local_addr(acceptor.fd())
            .ok()
            .and_then(|a| a.to_std())
            .is_some_and(|a| a.port() != 0);
        if bound
            || net::peer_addr(acceptor.fd()).is_ok()
            || acceptor.listening.load(Ordering::Acquire)
        {
            return Err(WsaError::WSAEINVAL);
        }
        // The acceptor of an accept that was cancelled (or is being closed) is free
        // again at once, as on Windows, even while the kernel has yet to answer the
        // cancel; that accept clears the link only while it is still its own. (The queue
        // locks are taken with the link unlocked: finishing an accept locks the link
        // under its queue's lock.)
        let previous = acceptor.accept_link.lock().clone();
        let mut took_over = false;
        if let Some((old_listener, id)) = &previous {
            if *id == 0 || old_listener.holds_live_op(*id) || acceptor.holds_live_op(*id) {
                return Err(WsaError::WSAEINVAL);
            }
            took_over = true;
        }
        {
            let mut link = acceptor.accept_link.lock();
            let same = match (&*link, &previous) {
                (None, None) => true,
                (Some(a), Some(b)) => Arc::ptr_eq(&a.0, &b.0) && a.1 == b.1,
                _ => false,
            };
            if !same {
                return Err(WsaError::WSAEINVAL);
            }
            *link = Some((Arc::clone(&listener), 0));
        }
        let mut iov = Vec::new();
        let mut buf = self.buf;
        if let Some(b) = buf.as_mut() {
            iov.push(libc::iovec {
                iov_base: b.io_mut_ptr().cast(),
                iov_len: b.io_len(),
            });
        }
        let desc = AcceptDesc {
            acceptor,
            buf,
            iov,
            msg: MsgHdr::zeroed(),
            addr: net::RawAddr::zeroed(),
            receiving: false,
            hook: self.hook,
            too_small: self.too_small,
            id: 0,
            took_over,
        };
        Ok((listener, desc))
    }
}

pub(crate) struct AcceptDesc<B> {
    acceptor: Arc<SocketState>,
    buf: Option<B>,
    iov: Vec<libc::iovec>,
    msg: MsgHdr,
    /// Where the kernel writes the peer address of an armed accept.
    addr: net::RawAddr,
    /// Accepted; now waiting for the first data on the acceptor.
    receiving: bool,
    hook: Option<AddressHook>,
    /// Complete with `STATUS_BUFFER_TOO_SMALL` on the first pending connection,
    /// without accepting it.
    too_small: bool,
    /// The record's id (the acceptor's link names it).
    id: u64,
    /// Took the acceptor over from a cancelled accept, which may still have succeeded
    /// (its result raced the cancel): checked before accepting.
    took_over: bool,
}

// SAFETY: iovecs point at the user's buffer (`B: Send`) and are only used by the record.
unsafe impl<B: Send> Send for AcceptDesc<B> {}

impl<B> Drop for AcceptDesc<B> {
    /// Frees the acceptor for another accept, also when the post failed at once (the
    /// description is then dropped without [`OpDesc::into_output`]).
    fn drop(&mut self) {
        self.unlink();
    }
}

impl<B> AcceptDesc<B> {
    /// Frees the acceptor, unless a later accept has taken it over.
    fn unlink(&self) {
        let mut link = self.acceptor.accept_link.lock();
        if link.as_ref().is_some_and(|l| l.1 == self.id) {
            *link = None;
        }
    }
}

impl<B: IoBufMut> AcceptDesc<B> {
    fn wants_data(&self) -> bool {
        self.iov.first().is_some_and(|v| v.iov_len > 0)
    }

    /// Installs the accepted descriptor into the acceptor, then finishes or moves on.
    fn accepted(&mut self, newfd: i32) -> Step {
        match self
            .acceptor
            .with_open_read_queue(|fd| net::install(newfd, fd))
        {
            None => {
                net::close(newfd);
                Step::Done(Outcome::err(NtStatus::CANCELLED))
            }
            Some(Err(e)) => Step::Done(Outcome::errno(net::errno_of(&e))),
            Some(Ok(())) if self.wants_data() => {
                self.receiving = true;
                Step::Move(Arc::clone(&self.acceptor))
            }
            Some(Ok(())) => Step::Done(Outcome::ok(0)),
        }
    }

    fn msg(&mut self) -> *mut libc::msghdr {
        let m = &mut self.msg.0;
        m.msg_iov = self.iov.as_mut_ptr();
        m.msg_iovlen = self.iov.len();
        &raw mut self.msg.0
    }

    fn received(res: Result<usize, i32>) -> Step {
        match res {
            Ok(n) => Step::Done(Outcome::ok(n)),
            Err(libc::EAGAIN) => Step::WouldBlock,
            Err(e) => Step::Done(Outcome::errno(e)),
        }
    }
}

impl<B: IoBufMut> OpDesc for AcceptDesc<B> {
    type Output = Accepted<B>;

    fn queue(&self) -> QueueKind {
        QueueKind::Read
    }

    fn attempt(&mut self, sock: &SocketState) -> Step {
        if self.receiving {
            let msg = self.msg();
            let r = net::recvmsg(sock.fd(), msg, libc::MSG_DONTWAIT);
            return Self::received(r.map_err(|e| net::errno_of(&e)));
        }
        let held = !sock.deferred.lock().is_empty();
        if self.too_small {
            if held {
                return Step::Done(Outcome::err(NtStatus::BUFFER_TOO_SMALL));
            }
            return match net::poll_one(sock.fd(), libc::POLLIN, 0) {
                Ok(0) => Step::WouldBlock,
                Ok(_) => Step::Done(Outcome::err(NtStatus::BUFFER_TOO_SMALL)),
                Err(e) => Step::Done(Outcome::errno(net::errno_of(&e))),
            };
        }
        if self.took_over && net::peer_addr(self.acceptor.fd()).is_ok() {
            return Step::Done(Outcome::errno(libc::EINVAL));
        }
        // A connection `WSAAccept` deferred comes first; Windows reports the AcceptEx
        // pending even so.
        let deferred = if held {
            sock.deferred.lock().pop_front()
        } else {
            None
        };
        if let Some((conn, _)) = deferred {
            return match self.accepted(std::os::fd::IntoRawFd::into_raw_fd(conn)) {
                Step::Done(o) => Step::DoneLater(o),
                step => step,
            };
        }
        match net::accept(sock.fd()) {
            Ok((newfd, _)) => self.accepted(newfd),
            Err(e) => match net::errno_of(&e) {
                libc::EAGAIN => Step::WouldBlock,
                // A connection reset before it was accepted (the documented WSAECONNRESET).
                libc::ECONNABORTED => Step::Done(Outcome::err(NtStatus::CONNECTION_RESET)),
                errno => Step::Done(Outcome::errno(errno)),
            },
        }
    }

    fn arm(&mut self, sock: &SocketState) -> SysOp {
        if self.receiving {
            return SysOp::RecvMsg {
                fd: sock.fd(),
                msg: self.msg(),
                flags: 0,
                poll_first: true,
            };
        }
        if self.too_small {
            return SysOp::Poll {
                fd: sock.fd(),
                events: libc::POLLIN.cast_unsigned().into(),
            };
        }
        self.addr = net::RawAddr::zeroed();
        SysOp::Accept {
            fd: sock.fd(),
            addr: self.addr.as_mut_ptr(),
            len: &raw mut self.addr.len,
            flags: libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC,
        }
    }

    fn on_result(&mut self, _sock: &SocketState, res: i32) -> Step {
        if self.receiving {
            let r = if res < 0 {
                Err(-res)
            } else {
                Ok(res.unsigned_abs() as usize)
            };
            return Self::received(r);
        }
        if self.too_small {
            return match res {
                e if e < 0 => Step::Done(Outcome::errno(-e)),
                // A connection is waiting (or the listener failed): left queued.
                _ => Step::Done(Outcome::err(NtStatus::BUFFER_TOO_SMALL)),
            };
        }
        match res {
            fd if fd >= 0 => self.accepted(fd),
            e if -e == libc::EAGAIN => Step::WouldBlock,
            e if -e == libc::ECONNABORTED => Step::Done(Outcome::err(NtStatus::CONNECTION_RESET)),
            e => Step::Done(Outcome::errno(-e)),
        }
    }

    fn on_record(&mut self, id: u64) {
        self.id = id;
        if let Some(link) = self.acceptor.accept_link.lock().as_mut() {
            link.1 = id;
        }
    }

    fn into_output(mut self, outcome: &Outcome) -> Accepted<B> {
        self.unlink();
        let fd = self.acceptor.fd();
        let (local, remote) = if outcome.status.is_success() && fd >= 0 {
            (
                net::local_addr(fd).ok().and_then(|a| a.to_std()),
                net::peer_addr(fd).ok().and_then(|a| a.to_std()),
            )
        } else {
            (None, None)
        };
        if let Some(hook) = self.hook.take() {
            hook(local, remote);
        }
        Accepted {
            buf: self.buf.take(),
            local,
            remote,
        }
    }
}
