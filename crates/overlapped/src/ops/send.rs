//! Sends: `WSASend` (gather from one or several buffers) and `WSASendTo`.

use std::net::SocketAddr;

use super::recv::MsgHdr;
use super::{linux_flags, open, posting_methods};
use crate::buf::IoBufs;
use crate::engine::SocketState;
use crate::engine::op::{OpDesc, Outcome, QueueKind, Step};
use crate::error::{NtStatus, WsaError};
use crate::socket::Socket;
use crate::sync::{Arc, Ordering};
use crate::sys::{SysOp, net};

/// A send (`WSASend`): sends `bufs` in order.
///
/// The operation completes only when every byte has been handed to the kernel: like
/// Windows, a send never reports a partial write. Sends posted on one socket leave in
/// posting order.
#[derive(Debug)]
pub struct Send<B> {
    sock: Arc<SocketState>,
    bufs: B,
    flags: u32,
}

impl<B: IoBufs> Send<B> {
    /// A send of `bufs` on `socket`.
    pub fn new(socket: &Socket, bufs: B) -> Self {
        Self {
            sock: Arc::clone(&socket.state),
            bufs,
            flags: 0,
        }
    }

    /// Winsock flags ([`super::flags::MSG_OOB`], [`super::flags::MSG_DONTROUTE`]); default 0.
    pub fn flags(mut self, flags: u32) -> Self {
        self.flags = flags;
        self
    }

    posting_methods!(B);

    fn into_desc(self) -> Result<(Arc<SocketState>, SendDesc<B>), WsaError> {
        let sock = open(&self.sock)?;
        let desc = SendDesc::new(&sock, self.bufs, self.flags, None)?;
        Ok((sock, desc))
    }
}

/// A send to an address (`WSASendTo`), for datagram sockets.
#[derive(Debug)]
pub struct SendTo<B> {
    sock: Arc<SocketState>,
    bufs: B,
    to: SocketAddr,
    flags: u32,
}

impl<B: IoBufs> SendTo<B> {
    /// A send of `bufs` to `to` on `socket`.
    pub fn new(socket: &Socket, bufs: B, to: SocketAddr) -> Self {
        Self {
            sock: Arc::clone(&socket.state),
            bufs,
            to,
            flags: 0,
        }
    }

    /// Winsock flags, as [`Send::flags`]; default 0.
    pub fn flags(mut self, flags: u32) -> Self {
        self.flags = flags;
        self
    }

    posting_methods!(B);

    fn into_desc(self) -> Result<(Arc<SocketState>, SendDesc<B>), WsaError> {
        let sock = open(&self.sock)?;
        let desc = SendDesc::new(&sock, self.bufs, self.flags, Some(&self.to))?;
        Ok((sock, desc))
    }
}

pub(crate) struct SendDesc<B> {
    bufs: B,
    /// The part still to send.
    iov: Vec<libc::iovec>,
    msg: MsgHdr,
    to: Option<net::RawAddr>,
    lflags: i32,
    sent: usize,
    total: usize,
}

// SAFETY: iovecs point at the user's buffers (`B: Send`) and are only used by the record.
unsafe impl<B: std::marker::Send> std::marker::Send for SendDesc<B> {}

impl<B: IoBufs> SendDesc<B> {
    fn new(
        sock: &SocketState,
        bufs: B,
        flags: u32,
        to: Option<&SocketAddr>,
    ) -> Result<Self, WsaError> {
        let lflags = linux_flags(flags)?;
        if sock.shut_write.load(Ordering::Acquire) {
            return Err(WsaError::WSAESHUTDOWN);
        }
        let mut iov = Vec::new();
        bufs.iovecs(&mut iov);
        if u32::try_from(iov.len()).is_err() {
            return Err(WsaError::WSAENOBUFS);
        }
        let total = iov.iter().map(|v| v.iov_len).sum();
        Ok(Self {
            bufs,
            iov,
            msg: MsgHdr::zeroed(),
            to: to.map(net::RawAddr::from_std),
            lflags: lflags | libc::MSG_NOSIGNAL,
            sent: 0,
            total,
        })
    }

    fn msg(&mut self) -> *const libc::msghdr {
        let m = &mut self.msg.0;
        m.msg_iov = self.iov.as_mut_ptr();
        m.msg_iovlen = self.iov.len();
        match &self.to {
            Some(a) => {
                m.msg_name = a.as_ptr().cast_mut().cast();
                m.msg_namelen = a.len;
            }
            None => {
                m.msg_name = std::ptr::null_mut();
                m.msg_namelen = 0;
            }
        }
        &raw const self.msg.0
    }

    /// Drops the first `n` bytes from the iovec list.
    fn consume(&mut self, mut n: usize) {
        self.sent += n;
        let mut drop_count = 0;
        for v in &mut self.iov {
            if n == 0 {
                break;
            }
            if n >= v.iov_len {
                n -= v.iov_len;
                drop_count += 1;
            } else {
                // SAFETY: `n < iov_len`, so the advanced pointer stays inside the buffer.
                v.iov_base = unsafe { v.iov_base.cast::<u8>().add(n).cast() };
                v.iov_len -= n;
                n = 0;
            }
        }
        self.iov.drain(..drop_count);
    }

    fn interpret(&mut self, sock: &SocketState, res: Result<usize, i32>) -> Step {
        match res {
            Ok(n) => {
                self.consume(n);
                if self.sent >= self.total || self.iov.is_empty() {
                    Step::Done(Outcome::ok(self.total))
                } else {
                    Step::WouldBlock
                }
            }
            Err(libc::EAGAIN) => Step::WouldBlock,
            Err(libc::EPIPE) if sock.shut_write.load(Ordering::Acquire) => {
                Step::Done(Outcome::err(NtStatus::PIPE_DISCONNECTED))
            }
            Err(e @ (libc::ECONNRESET | libc::EPIPE)) => {
                sock.reset.store(true, Ordering::Release);
                Step::Done(Outcome::errno(e))
            }
            Err(e) => Step::Done(Outcome::errno(e)),
        }
    }
}

impl<B: IoBufs> OpDesc for SendDesc<B> {
    type Output = B;

    fn queue(&self) -> QueueKind {
        QueueKind::Write
    }

    fn attempt(&mut self, sock: &SocketState) -> Step {
        if sock.reset.load(Ordering::Acquire) {
            return Step::Done(Outcome::err(NtStatus::CONNECTION_RESET));
        }
        let msg = self.msg();
        let r = match net::sendmsg(sock.fd(), msg, self.lflags | libc::MSG_DONTWAIT) {
            Err(e)
                if net::errno_of(&e) == libc::EPIPE && !sock.shut_write.load(Ordering::Acquire) =>
            {
                Err(super::send_epipe_errno(sock.fd()))
            }
            r => r.map_err(|e| net::errno_of(&e)),
        };
        self.interpret(sock, r)
    }

    fn arm(&mut self, sock: &SocketState) -> SysOp {
        SysOp::SendMsg {
            fd: sock.fd(),
            msg: self.msg(),
            flags: self.lflags,
            poll_first: true,
        }
    }

    fn on_result(&mut self, sock: &SocketState, res: i32) -> Step {
        let r = if res < 0 {
            Err(-res)
        } else {
            Ok(res.unsigned_abs() as usize)
        };
        self.interpret(sock, r)
    }

    fn abort_status(&self) -> NtStatus {
        NtStatus::CONNECTION_ABORTED
    }

    fn into_output(self, _: &Outcome) -> B {
        self.bufs
    }
}

impl<B: IoBufs> SendDesc<B> {
    /// The send half of a ConnectEx (no shutdown check: the socket is not connected yet).
    pub(crate) fn new_for_connect(sock: &SocketState, bufs: B) -> Result<Self, WsaError> {
        Self::new(sock, bufs, 0, None)
    }

    pub(crate) fn into_bufs(self) -> B {
        self.bufs
    }
}
