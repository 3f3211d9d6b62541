//! Receives: `WSARecv` (scatter into one or several buffers) and `WSARecvFrom`.

use std::net::SocketAddr;

use super::{flags, linux_flags, open, posting_methods};
use crate::buf::{IoBufMut, IoBufsMut};
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
        let desc = RecvDesc::new(&sock, self.bufs, self.flags, false, Plain)?;
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
        let desc = RecvDesc::new(&sock, self.bufs, self.flags, true, WithAddr)?;
        Ok((sock, desc))
    }
}

/// A receive that also reports the sender, the control data and the message flags
/// (`WSARecvMsg`), for datagram sockets.
///
/// The control data (`IP_PKTINFO`, `IP_TTL`, `IP_TOS`, `IPV6_PKTINFO`, `IPV6_HOPLIMIT`,
/// `IPV6_TCLASS`, as the socket options enable them) is written into `control` in
/// Windows' layout: `WSACMSGHDR` headers (`cmsg_len` a 64-bit size, then level and type,
/// 8-byte aligned) with Windows' numbering and payloads (`IN_PKTINFO` is `{addr,
/// ifindex}`, `IP_TOS` an `int`). Messages Windows has no equivalent for are left out.
/// When the messages do not fit in `control`, those that fit are kept, the receive
/// completes with `WSAEMSGSIZE` (`STATUS_BUFFER_OVERFLOW`, the bytes still counted) and
/// [`ReceivedMsg::msg_flags`] has [`flags::MSG_CTRUNC`].
///
/// `control` belongs to the operation until it completes and comes back in the
/// [`ReceivedMsg`].
#[derive(Debug)]
pub struct RecvMsg<B, C> {
    sock: Arc<SocketState>,
    bufs: B,
    control: C,
    flags: u32,
}

/// What a [`RecvMsg`] gives back.
#[derive(Debug)]
pub struct ReceivedMsg<B, C> {
    /// The buffers.
    pub bufs: B,
    /// The sender, when a datagram was received.
    pub from: Option<SocketAddr>,
    /// The control buffer; its first `control_len` bytes are the control messages.
    pub control: C,
    /// Bytes of control messages written (`Control.len` after `WSARecvMsg`).
    pub control_len: usize,
    /// The message flags (`WSAMSG::dwFlags` after `WSARecvMsg`): [`flags::MSG_TRUNC`],
    /// [`flags::MSG_CTRUNC`].
    pub msg_flags: u32,
    /// Bytes received, also when the result is `WSAEMSGSIZE`.
    pub bytes: usize,
}

impl<B: IoBufsMut, C: IoBufMut> RecvMsg<B, C> {
    /// A receive-message into `bufs` on `socket`, with `control` for the control data.
    pub fn new(socket: &Socket, bufs: B, control: C) -> Self {
        Self {
            sock: Arc::clone(&socket.state),
            bufs,
            control,
            flags: 0,
        }
    }

    /// Winsock flags, as [`Recv::flags`]; default 0.
    pub fn flags(mut self, flags: u32) -> Self {
        self.flags = flags;
        self
    }

    posting_methods!(ReceivedMsg<B, C>);

    fn into_desc(self) -> Result<(Arc<SocketState>, MsgDesc<B, C>), WsaError> {
        let sock = open(&self.sock)?;
        let kind = WithMsg {
            control: self.control,
            len: 0,
            msg_flags: 0,
        };
        let desc = RecvDesc::new(&sock, self.bufs, self.flags, true, kind)?;
        Ok((sock, desc))
    }
}

/// The description of a [`RecvMsg`].
type MsgDesc<B, C> = RecvDesc<B, WithMsg<C>>;

/// Output shape markers for [`RecvDesc`].
#[derive(Debug)]
pub(crate) struct Plain;
#[derive(Debug)]
pub(crate) struct WithAddr;
/// A [`RecvMsg`]: the caller's control buffer and what was written into it.
#[derive(Debug)]
pub(crate) struct WithMsg<C> {
    control: C,
    len: usize,
    msg_flags: u32,
}

/// What a receive does with the kernel's control data.
pub(crate) trait RecvKind: Send + 'static {
    /// Bytes of kernel control buffer to give `recvmsg` (0: none).
    fn kernel_control_len(&self) -> usize {
        0
    }
    /// Takes the kernel's control messages and message flags; returns whether the
    /// control data was truncated (the receive then reports `STATUS_BUFFER_OVERFLOW`).
    fn take(&mut self, _kernel: &[u8], _linux_flags: i32) -> bool {
        false
    }
}

impl RecvKind for Plain {}
impl RecvKind for WithAddr {}

impl<C: IoBufMut> RecvKind for WithMsg<C> {
    fn kernel_control_len(&self) -> usize {
        // Linux's messages are at most 8 bytes longer than Windows' (IP_PKTINFO: 32 for
        // 24) and each takes at least 24 bytes of Windows space: twice the caller's room
        // and some always hold what fits there, so the truncation is decided here, by
        // Windows' sizes. With no room at all, arriving control data still shows.
        self.control
            .io_len()
            .saturating_mul(2)
            .saturating_add(64)
            .min(1 << 16)
    }

    fn take(&mut self, kernel: &[u8], linux_flags: i32) -> bool {
        let cap = self.control.io_len();
        let (win, mut truncated) = cmsg::to_windows(kernel, cap);
        truncated |= linux_flags & libc::MSG_CTRUNC != 0;
        if !win.is_empty() {
            // SAFETY: `win.len() <= cap`, and an `IoBufMut` is valid for writes of
            // `io_len` bytes while the operation owns it (the trait's contract); `win`
            // is a separate allocation.
            unsafe {
                std::ptr::copy_nonoverlapping(win.as_ptr(), self.control.io_mut_ptr(), win.len())
            };
        }
        self.len = win.len();
        self.msg_flags = 0;
        if linux_flags & libc::MSG_TRUNC != 0 {
            self.msg_flags |= flags::MSG_TRUNC;
        }
        if truncated {
            self.msg_flags |= flags::MSG_CTRUNC;
        }
        truncated
    }
}

/// Linux control messages in Windows' `WSACMSGHDR` layout and numbering.
pub(crate) mod cmsg {
    /// `sizeof(WSACMSGHDR)` and `sizeof(struct cmsghdr)` on 64-bit: `{size_t len; int
    /// level; int type;}`; the data follows at this offset in both.
    const HDR: usize = 16;

    fn align8(n: usize) -> usize {
        (n + 7) & !7
    }

    fn u32_at(b: &[u8], at: usize) -> Option<[u8; 4]> {
        b.get(at..at + 4)?.try_into().ok()
    }

    /// Windows' level, type and payload for one Linux message (`None`: no equivalent).
    fn translate(level: i32, ty: i32, data: &[u8]) -> Option<(i32, i32, Vec<u8>)> {
        /// Windows' `IP_TOS`, `IP_TTL`, `IP_PKTINFO`.
        const WIN_IP_TOS: i32 = 3;
        const WIN_IP_TTL: i32 = 4;
        const WIN_IP_PKTINFO: i32 = 19;
        /// Windows' `IPV6_PKTINFO`, `IPV6_HOPLIMIT`, `IPV6_TCLASS`.
        const WIN_IPV6_PKTINFO: i32 = 19;
        const WIN_IPV6_HOPLIMIT: i32 = 21;
        const WIN_IPV6_TCLASS: i32 = 39;
        let int = |v: [u8; 4]| v.to_vec();
        match (level, ty) {
            // struct in_pktinfo {int ifindex; in_addr spec_dst; in_addr addr;} becomes
            // IN_PKTINFO {IN_ADDR addr; ULONG ifindex;}.
            (libc::IPPROTO_IP, libc::IP_PKTINFO) => {
                let mut v = u32_at(data, 8)?.to_vec();
                v.extend_from_slice(&u32_at(data, 0)?);
                Some((level, WIN_IP_PKTINFO, v))
            }
            (libc::IPPROTO_IP, libc::IP_TTL) => Some((level, WIN_IP_TTL, int(u32_at(data, 0)?))),
            // One byte on Linux, an int on Windows.
            (libc::IPPROTO_IP, libc::IP_TOS) => {
                let tos = i32::from(*data.first()?);
                Some((level, WIN_IP_TOS, tos.to_ne_bytes().to_vec()))
            }
            // struct in6_pktinfo and IN6_PKTINFO are both {addr; ifindex} (20 bytes).
            (libc::IPPROTO_IPV6, libc::IPV6_PKTINFO) => {
                Some((level, WIN_IPV6_PKTINFO, data.get(..20)?.to_vec()))
            }
            (libc::IPPROTO_IPV6, libc::IPV6_HOPLIMIT) => {
                Some((level, WIN_IPV6_HOPLIMIT, int(u32_at(data, 0)?)))
            }
            (libc::IPPROTO_IPV6, libc::IPV6_TCLASS) => {
                Some((level, WIN_IPV6_TCLASS, int(u32_at(data, 0)?)))
            }
            _ => None,
        }
    }

    /// The Windows form of the Linux control messages `kernel`, in at most `cap` bytes;
    /// and whether some did not fit.
    pub(crate) fn to_windows(kernel: &[u8], cap: usize) -> (Vec<u8>, bool) {
        let mut out = Vec::new();
        let mut at = 0;
        while let Some(hdr) = kernel.get(at..at + HDR) {
            let len = usize::from_ne_bytes(hdr[..8].try_into().unwrap_or([0; 8]));
            let level = i32::from_ne_bytes(hdr[8..12].try_into().unwrap_or([0; 4]));
            let ty = i32::from_ne_bytes(hdr[12..16].try_into().unwrap_or([0; 4]));
            let Some(data) = (len >= HDR)
                .then(|| kernel.get(at + HDR..at + len))
                .flatten()
            else {
                break;
            };
            if let Some((level, ty, payload)) = translate(level, ty, data) {
                let wlen = HDR + payload.len();
                if out.len() + wlen > cap {
                    return (out, true);
                }
                out.extend_from_slice(&(wlen as u64).to_ne_bytes());
                out.extend_from_slice(&level.to_ne_bytes());
                out.extend_from_slice(&ty.to_ne_bytes());
                out.extend_from_slice(&payload);
                out.resize(align8(out.len()).min(cap), 0);
            }
            at += align8(len);
        }
        (out, false)
    }
}

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
    /// The kernel's control buffer (empty: none).
    control: Vec<u8>,
    msg: MsgHdr,
    addr: net::RawAddr,
    want_addr: bool,
    lflags: i32,
    /// One zero-length buffer: complete when data is there, without taking it.
    zero_len: bool,
    stream: bool,
    kind: K,
}

// SAFETY: iovecs point at the user's buffers (`B: Send`) and are only used by the record;
// the msghdr points into the record's own control buffer.
unsafe impl<B: Send, K: Send> Send for RecvDesc<B, K> {}

impl<B: IoBufsMut, K: RecvKind> RecvDesc<B, K> {
    fn new(
        sock: &SocketState,
        mut bufs: B,
        flags: u32,
        want_addr: bool,
        kind: K,
    ) -> Result<Self, WsaError> {
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
            control: vec![0; kind.kernel_control_len()],
            msg: MsgHdr::zeroed(),
            addr: net::RawAddr::zeroed(),
            want_addr,
            lflags,
            zero_len,
            stream: sock.is_stream(),
            kind,
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
        if self.control.is_empty() {
            m.msg_control = std::ptr::null_mut();
        } else {
            m.msg_control = self.control.as_mut_ptr().cast();
        }
        m.msg_controllen = self.control.len();
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
                let got = self.msg.0.msg_controllen.min(self.control.len());
                let ctrunc = self.kind.take(&self.control[..got], self.msg.0.msg_flags);
                if !self.stream && self.msg.0.msg_flags & libc::MSG_TRUNC != 0 {
                    let mut o = Outcome::err(NtStatus::BUFFER_OVERFLOW);
                    o.bytes = n;
                    o.flags = flags::MSG_PARTIAL;
                    return Step::Done(o);
                }
                if ctrunc {
                    // Control data that did not fit: a warning, as a truncated datagram,
                    // with no MSG_PARTIAL (the data is whole).
                    let mut o = Outcome::err(NtStatus::BUFFER_OVERFLOW);
                    o.bytes = n;
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

impl<B: IoBufsMut, K: RecvKind> RecvDesc<B, K> {
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

impl<B: IoBufsMut, C: IoBufMut> OpDesc for RecvDesc<B, WithMsg<C>> {
    type Output = ReceivedMsg<B, C>;

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
    fn into_output(self, outcome: &Outcome) -> ReceivedMsg<B, C> {
        let ok = outcome.status.is_success() || outcome.status == NtStatus::BUFFER_OVERFLOW;
        let from = if ok { self.addr.to_std() } else { None };
        ReceivedMsg {
            bufs: self.bufs,
            from,
            control: self.kind.control,
            control_len: if ok { self.kind.len } else { 0 },
            msg_flags: if ok { self.kind.msg_flags } else { 0 },
            bytes: outcome.bytes,
        }
    }
}

#[cfg(test)]
mod cmsg_tests {
    use super::cmsg::to_windows;

    fn linux_msg(level: i32, ty: i32, data: &[u8]) -> Vec<u8> {
        let mut v = (16 + data.len()).to_ne_bytes().to_vec();
        v.extend_from_slice(&level.to_ne_bytes());
        v.extend_from_slice(&ty.to_ne_bytes());
        v.extend_from_slice(data);
        v.resize((v.len() + 7) & !7, 0);
        v
    }

    #[test]
    fn pktinfo_and_tos_take_windows_layout() {
        // in_pktinfo: ifindex 1, spec_dst 127.0.0.1, addr 127.0.0.2.
        let mut k = linux_msg(
            libc::IPPROTO_IP,
            libc::IP_PKTINFO,
            &[1, 0, 0, 0, 127, 0, 0, 1, 127, 0, 0, 2],
        );
        k.extend(linux_msg(libc::IPPROTO_IP, libc::IP_TOS, &[0x10]));
        let (w, trunc) = to_windows(&k, 100);
        assert!(!trunc);
        assert_eq!(w.len(), 48);
        assert_eq!(u64::from_ne_bytes(w[..8].try_into().unwrap()), 24);
        assert_eq!(i32::from_ne_bytes(w[12..16].try_into().unwrap()), 19);
        assert_eq!(&w[16..24], &[127, 0, 0, 2, 1, 0, 0, 0]);
        assert_eq!(u64::from_ne_bytes(w[24..32].try_into().unwrap()), 20);
        assert_eq!(i32::from_ne_bytes(w[36..40].try_into().unwrap()), 3);
        assert_eq!(i32::from_ne_bytes(w[40..44].try_into().unwrap()), 0x10);
        // Too little room: what fits is kept, the rest reported.
        let (w, trunc) = to_windows(&k, 30);
        assert!(trunc);
        assert_eq!(w.len(), 24);
        let (w, trunc) = to_windows(&k, 1);
        assert!(trunc && w.is_empty());
        // Unknown messages are left out.
        let (w, trunc) = to_windows(&linux_msg(libc::SOL_SOCKET, 99, &[0; 8]), 0);
        assert!(!trunc && w.is_empty());
    }
}
