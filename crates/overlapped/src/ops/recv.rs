//! Receives: `WSARecv` (scatter into one or several buffers) and `WSARecvFrom`.

use std::net::SocketAddr;

use super::{flags, linux_flags, open, posting_methods};
use crate::buf::IoBufsMut;
use crate::engine::SocketState;
use crate::engine::op::{OpDesc, Outcome, QueueKind, Step};
use crate::error::{NtStatus, WsaError};
use crate::socket::Socket;
use crate::sync::{Arc, Ordering};
use crate::sys::{SysOp, net};

/// A receive (`WSARecv`): fills `bufs` in order with what arrives.
///
/// A stream receive completes as soon as some data is there (a partial fill is normal;
/// 0 bytes means the peer closed gracefully). A single zero-length buffer completes with
/// 0 bytes when data arrives, leaving the data queued. Receives posted on one socket
/// fill in posting order.
///
/// # Examples
/// ```no_run
/// use overlapped::{Event, Overlapped, Recv, Socket, wait_any};
/// # fn f(sock: &Socket) -> Result<(), overlapped::WsaError> {
/// let ev = Event::new_manual();
/// let ov = Overlapped::with_event(&ev);
/// let posted = Recv::new(sock, vec![0u8; 1024]).post(&ov)?;
/// wait_any(&[&ev], None, false)?;
/// let (result, buf) = posted.wait();
/// println!("{:?}", &buf[..result?.bytes]);
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct Recv<B> {
    sock: Arc<SocketState>,
    bufs: B,
    flags: u32,
}

impl<B: IoBufsMut> Recv<B> {
    /// A receive into `bufs` on `socket`.
    pub fn new(socket: &Socket, bufs: B) -> Self {
        Self {
            sock: Arc::clone(&socket.state),
            bufs,
            flags: 0,
        }
    }

    /// Winsock flags ([`flags::MSG_PEEK`], [`flags::MSG_OOB`], [`flags::MSG_WAITALL`]);
    /// default 0.
    pub fn flags(mut self, flags: u32) -> Self {
        self.flags = flags;
        self
    }

    posting_methods!(B);

    fn into_desc(self) -> Result<(Arc<SocketState>, RecvDesc<B, Plain>), WsaError> {
        let sock = open(&self.sock)?;
        let desc = RecvDesc::new(&sock, self.bufs, self.flags, false)?;
        Ok((sock, desc))
    }
}

/// A receive that also reports the sender (`WSARecvFrom`), for datagram sockets.
#[derive(Debug)]
pub struct RecvFrom<B> {
    sock: Arc<SocketState>,
    bufs: B,
    flags: u32,
}

/// What a [`RecvFrom`] gives back.
#[derive(Debug)]
pub struct Received<B> {
    /// The buffers.
    pub bufs: B,
    /// The sender, when the receive succeeded.
    pub from: Option<SocketAddr>,
}

impl<B: IoBufsMut> RecvFrom<B> {
    /// A receive-from into `bufs` on `socket`.
    pub fn new(socket: &Socket, bufs: B) -> Self {
        Self {
            sock: Arc::clone(&socket.state),
            bufs,
            flags: 0,
        }
    }

    /// Winsock flags, as [`Recv::flags`]; default 0.
    pub fn flags(mut self, flags: u32) -> Self {
        self.flags = flags;
        self
    }

    posting_methods!(Received<B>);

    fn into_desc(self) -> Result<(Arc<SocketState>, RecvDesc<B, WithAddr>), WsaError> {
        let sock = open(&self.sock)?;
        let desc = RecvDesc::new(&sock, self.bufs, self.flags, true)?;
        Ok((sock, desc))
    }
}

/// Output shape markers for [`RecvDesc`].
#[derive(Debug)]
pub(crate) struct Plain;
#[derive(Debug)]
pub(crate) struct WithAddr;

/// A `msghdr` whose pointers point into the record that owns it.
pub(crate) struct MsgHdr(pub(crate) libc::msghdr);
// SAFETY: the pointers inside point only into the same record (its iovec array, its
// address storage) and at the user's buffers, which are themselves `Send`; the record
// moves between threads as a whole.
unsafe impl Send for MsgHdr {}

impl MsgHdr {
    pub(crate) fn zeroed() -> Self {
        // SAFETY: msghdr is plain data; all-zero (null pointers) is valid.
        Self(unsafe { std::mem::zeroed() })
    }
}

pub(crate) struct RecvDesc<B, K> {
    bufs: B,
    iov: Vec<libc::iovec>,
    msg: MsgHdr,
    addr: net::RawAddr,
    want_addr: bool,
    lflags: i32,
    /// One zero-length buffer: complete when data is there, without taking it.
    zero_len: bool,
    stream: bool,
    _kind: std::marker::PhantomData<K>,
}

// SAFETY: iovecs point at the user's buffers (`B: Send`) and are only used by the record.
unsafe impl<B: Send, K> Send for RecvDesc<B, K> {}

impl<B: IoBufsMut, K> RecvDesc<B, K> {
    fn new(sock: &SocketState, mut bufs: B, flags: u32, want_addr: bool) -> Result<Self, WsaError> {
        let lflags = linux_flags(flags)?;
        if sock.shut_read.load(Ordering::Acquire) {
            return Err(WsaError::WSAESHUTDOWN);
        }
        let mut iov = Vec::new();
        bufs.iovecs_mut(&mut iov);
        if iov.is_empty() {
            return Err(WsaError::WSAEINVAL);
        }
        if u32::try_from(iov.len()).is_err() {
            return Err(WsaError::WSAENOBUFS);
        }
        let zero_len = iov.iter().all(|v| v.iov_len == 0);
        Ok(Self {
            bufs,
            iov,
            msg: MsgHdr::zeroed(),
            addr: net::RawAddr::zeroed(),
            want_addr,
            lflags,
            zero_len,
            stream: sock.is_stream(),
            _kind: std::marker::PhantomData,
        })
    }

    fn msg(&mut self) -> *mut libc::msghdr {
        let m = &mut self.msg.0;
        m.msg_iov = self.iov.as_mut_ptr();
        m.msg_iovlen = self.iov.len();
        if self.want_addr {
            self.addr = net::RawAddr::zeroed();
            m.msg_name = self.addr.as_mut_ptr().cast();
            m.msg_namelen = self.addr.len;
        } else {
            m.msg_name = std::ptr::null_mut();
            m.msg_namelen = 0;
        }
        m.msg_control = std::ptr::null_mut();
        m.msg_controllen = 0;
        m.msg_flags = 0;
        &raw mut self.msg.0
    }

    fn interpret(&mut self, sock: &SocketState, res: Result<usize, i32>) -> Step {
        match res {
            Ok(_) if self.zero_len => Step::Done(Outcome::ok(0)),
            // Linux reports a reset to one call only: if a send (or SO_ERROR) took the
            // ECONNRESET, this receive sees end of stream. It was no graceful close.
            Ok(0) if self.stream && was_reset(sock) => {
                sock.reset.store(true, Ordering::Release);
                Step::Done(Outcome::err(NtStatus::CONNECTION_RESET))
            }
            Ok(n) => {
                if self.want_addr {
                    self.addr.len = self.msg.0.msg_namelen;
                }
                if !self.stream && self.msg.0.msg_flags & libc::MSG_TRUNC != 0 {
                    let mut o = Outcome::err(NtStatus::BUFFER_OVERFLOW);
                    o.bytes = n;
                    o.flags = flags::MSG_PARTIAL;
                    return Step::Done(o);
                }
                Step::Done(Outcome::ok(n))
            }
            Err(libc::EAGAIN) => Step::WouldBlock,
            Err(e @ (libc::ECONNRESET | libc::EPIPE)) => {
                sock.reset.store(true, Ordering::Release);
                Step::Done(Outcome::errno(e))
            }
            Err(e) => Step::Done(Outcome::errno(e)),
        }
    }
}

/// Whether a stream socket whose receive just saw end of stream was in fact reset: its
/// reset was already recorded, or TCP shows the connection closed although we never shut
/// down sending (a graceful close by the peer leaves it in CLOSE_WAIT).
fn was_reset(sock: &SocketState) -> bool {
    if sock.reset.load(Ordering::Acquire) {
        return true;
    }
    if sock.shut_write.load(Ordering::Acquire) {
        return false;
    }
    /// `TCP_CLOSE` of the kernel's TCP state machine.
    const TCP_CLOSE: u8 = 7;
    match net::getsockopt::<libc::tcp_info>(sock.fd(), libc::IPPROTO_TCP, libc::TCP_INFO) {
        Ok(info) => info.tcpi_state == TCP_CLOSE,
        Err(_) => false,
    }
}

impl<B: IoBufsMut, K: Send + 'static> RecvDesc<B, K> {
    fn attempt_impl(&mut self, sock: &SocketState) -> Step {
        if sock.reset.load(Ordering::Acquire) {
            return Step::Done(Outcome::err(NtStatus::CONNECTION_RESET));
        }
        let fd = sock.fd();
        let res = if self.zero_len {
            let mut byte = 0u8;
            // SAFETY: one writable byte; MSG_PEEK leaves the data queued.
            let r = unsafe {
                libc::recv(
                    fd,
                    (&raw mut byte).cast(),
                    1,
                    libc::MSG_PEEK | libc::MSG_DONTWAIT,
                )
            };
            crate::error::cvt_size(r).map_err(|e| net::errno_of(&e))
        } else {
            let msg = self.msg();
            net::recvmsg(fd, msg, self.lflags | libc::MSG_DONTWAIT).map_err(|e| net::errno_of(&e))
        };
        self.interpret(sock, res)
    }

    fn arm_impl(&mut self, sock: &SocketState) -> SysOp {
        let fd = sock.fd();
        if self.zero_len {
            return SysOp::Poll {
                fd,
                events: libc::POLLIN as u32,
            };
        }
        SysOp::RecvMsg {
            fd,
            msg: self.msg(),
            flags: self.lflags,
            poll_first: true,
        }
    }

    fn on_result_impl(&mut self, sock: &SocketState, res: i32) -> Step {
        let r = if res < 0 {
            Err(-res)
        } else {
            Ok(res.unsigned_abs() as usize)
        };
        self.interpret(sock, r)
    }
}

impl<B: IoBufsMut> OpDesc for RecvDesc<B, Plain> {
    type Output = B;

    fn queue(&self) -> QueueKind {
        QueueKind::Read
    }
    fn attempt(&mut self, sock: &SocketState) -> Step {
        self.attempt_impl(sock)
    }
    fn arm(&mut self, sock: &SocketState) -> SysOp {
        self.arm_impl(sock)
    }
    fn on_result(&mut self, sock: &SocketState, res: i32) -> Step {
        self.on_result_impl(sock, res)
    }
    fn abort_status(&self) -> NtStatus {
        NtStatus::CONNECTION_ABORTED
    }
    fn into_output(self, _: &Outcome) -> B {
        self.bufs
    }
}

impl<B: IoBufsMut> OpDesc for RecvDesc<B, WithAddr> {
    type Output = Received<B>;

    fn queue(&self) -> QueueKind {
        QueueKind::Read
    }
    fn attempt(&mut self, sock: &SocketState) -> Step {
        self.attempt_impl(sock)
    }
    fn arm(&mut self, sock: &SocketState) -> SysOp {
        self.arm_impl(sock)
    }
    fn on_result(&mut self, sock: &SocketState, res: i32) -> Step {
        self.on_result_impl(sock, res)
    }
    fn abort_status(&self) -> NtStatus {
        NtStatus::CONNECTION_ABORTED
    }
    fn into_output(self, outcome: &Outcome) -> Received<B> {
        let ok = outcome.status.is_success() || outcome.status == NtStatus::BUFFER_OVERFLOW;
        let from = if ok { self.addr.to_std() } else { None };
        Received {
            bufs: self.bufs,
            from,
        }
    }
}
