//! Performing an armed operation once its descriptor is ready: the syscall io_uring
//! would have made, non-blocking, with the same result.

use std::io;
use std::os::fd::RawFd;

use crate::sys::SysOp;

/// Interest bits that a readiness poll may ask for (the `POLL*` values equal the
/// `EPOLL*` ones on Linux).
const POLL_MASK: u32 = (libc::EPOLLIN
    | libc::EPOLLPRI
    | libc::EPOLLOUT
    | libc::EPOLLRDNORM
    | libc::EPOLLRDBAND
    | libc::EPOLLWRNORM
    | libc::EPOLLWRBAND
    | libc::EPOLLRDHUP)
    .cast_unsigned();

/// One armed operation.
pub(super) struct Pending {
    pub(super) user_data: u64,
    op: SysOp,
    /// The epoll events that make it worth trying.
    pub(super) interest: u32,
    /// A stream receive with `MSG_WAITALL` that got part of its data (see [`WaitAll`]).
    waitall: Option<Box<WaitAll>>,
}

/// io_uring completes a stream receive with `MSG_WAITALL` only when its buffers are full
/// (or at end of stream, or on an error, reporting what it got so far); this emulates
/// it. After a partial read the remaining reads go through a private copy of the
/// `msghdr` whose iovecs are advanced past the bytes already received.
pub(super) struct WaitAll {
    msg: libc::msghdr,
    iov: Vec<libc::iovec>,
    /// Bytes received so far.
    done: usize,
}

// SAFETY: the raw pointers in `op` point into the engine's operation record, which is
// `Send + Sync` and kept alive and in place until this operation's result is reaped
// (the contract of `Ring::push`); they are only passed to syscalls, under the table
// lock, so moving the description between threads is sound.
unsafe impl Send for Pending {}

impl Pending {
    pub(super) fn new(op: SysOp, user_data: u64, interest: u32) -> Self {
        Self {
            user_data,
            op,
            interest,
            waitall: None,
        }
    }
}

/// The descriptor and epoll interest of an operation.
pub(super) fn interest_of(op: &SysOp) -> (RawFd, u32) {
    let rd = libc::EPOLLIN.cast_unsigned();
    match *op {
        // Urgent data raises EPOLLPRI (and not always EPOLLIN); io_uring retries on
        // EPOLLIN, so both.
        SysOp::RecvMsg { fd, flags, .. } if flags & libc::MSG_OOB != 0 => {
            (fd, rd | libc::EPOLLPRI.cast_unsigned())
        }
        SysOp::RecvMsg { fd, .. } | SysOp::Accept { fd, .. } => (fd, rd),
        SysOp::SendMsg { fd, .. } => (fd, libc::EPOLLOUT.cast_unsigned()),
        SysOp::Poll { fd, events } => (fd, events & POLL_MASK),
    }
}

impl Pending {
    /// Performs the operation without blocking: `None` if it must wait, else its result.
    ///
    /// # Safety
    /// The pointers in the operation must be valid for the syscall.
    pub(super) unsafe fn perform(&mut self) -> Option<i32> {
        match self.op {
            SysOp::RecvMsg { fd, msg, flags, .. } if flags & libc::MSG_WAITALL != 0 => {
                // SAFETY: the caller's contract.
                unsafe { self.recv_waitall(fd, msg, flags) }
            }
            // SAFETY: the caller's contract.
            _ => unsafe { perform(&self.op) },
        }
    }

    /// A receive with `MSG_WAITALL` (see [`WaitAll`]).
    ///
    /// # Safety
    /// `msg` and the buffers it names must be valid for the syscall.
    unsafe fn recv_waitall(
        &mut self,
        fd: RawFd,
        msg: *mut libc::msghdr,
        flags: i32,
    ) -> Option<i32> {
        let (cur, done) = match self.waitall.as_deref_mut() {
            Some(w) => (&raw mut w.msg, w.done),
            None => (msg, 0),
        };
        // SAFETY: `cur` is the caller's valid msghdr or our copy of it, whose iovecs
        // point into the same buffers.
        let left: usize = unsafe { iovecs(cur) }.iter().map(|v| v.iov_len).sum();
        // SAFETY: as above.
        let r = unsafe { libc::recvmsg(fd, cur, flags | libc::MSG_DONTWAIT) };
        let n = match usize::try_from(r) {
            Ok(n) => n,
            Err(_) => match io::Error::last_os_error().raw_os_error() {
                Some(libc::EAGAIN | libc::EINTR) => return None,
                _ if done > 0 => return Some(clamp(done)),
                e => return Some(-e.unwrap_or(libc::EIO)),
            },
        };
        if n == 0 || n >= left || !is_stream(fd) {
            return Some(clamp(done + n));
        }
        let w = self.waitall.get_or_insert_with(|| {
            // SAFETY: the caller's valid msghdr, copied.
            let copy = unsafe { *msg };
            // SAFETY: its iovec array, copied.
            let iov = unsafe { iovecs(msg) }.to_vec();
            Box::new(WaitAll {
                msg: copy,
                iov,
                done: 0,
            })
        });
        w.done += n;
        advance(&mut w.iov, n);
        w.msg.msg_iov = w.iov.as_mut_ptr();
        w.msg.msg_iovlen = w.iov.len();
        // The peer's address (none on a stream) was reported by the first read.
        w.msg.msg_name = std::ptr::null_mut();
        w.msg.msg_namelen = 0;
        None
    }
}

/// The iovec array of `msg`.
///
/// # Safety
/// `msg` must be a valid msghdr whose `msg_iov` names `msg_iovlen` iovecs (or is null).
unsafe fn iovecs<'a>(msg: *const libc::msghdr) -> &'a [libc::iovec] {
    // SAFETY: `msg` is valid (the caller's contract).
    let m = unsafe { &*msg };
    let (ptr, len) = (m.msg_iov, m.msg_iovlen);
    if ptr.is_null() || len == 0 {
        return &[];
    }
    // SAFETY: `ptr` names `len` iovecs (the caller's contract).
    unsafe { std::slice::from_raw_parts(ptr, len) }
}

/// Drops the first `n` bytes from an iovec list.
fn advance(iov: &mut Vec<libc::iovec>, mut n: usize) {
    let mut whole = 0;
    for v in iov.iter_mut() {
        if n < v.iov_len {
            // SAFETY: `n < iov_len`, so the advanced pointer stays inside the buffer.
            v.iov_base = unsafe { v.iov_base.cast::<u8>().add(n) }.cast();
            v.iov_len -= n;
            break;
        }
        n -= v.iov_len;
        whole += 1;
    }
    iov.drain(..whole);
}

/// Whether `fd` is a byte-stream socket (where io_uring retries `MSG_WAITALL`).
fn is_stream(fd: RawFd) -> bool {
    matches!(
        crate::sys::net::getsockopt::<libc::c_int>(fd, libc::SOL_SOCKET, libc::SO_TYPE),
        Ok(libc::SOCK_STREAM | libc::SOCK_SEQPACKET)
    )
}

fn clamp(n: usize) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

/// Performs `op` without blocking: `None` if it would block, else its result.
///
/// # Safety
/// The pointers in `op` must be valid for the syscall.
unsafe fn perform(op: &SysOp) -> Option<i32> {
    let r: isize = match *op {
        SysOp::RecvMsg { fd, msg, flags, .. } => {
            // SAFETY: `msg` and the buffers it names are valid (the caller's contract).
            unsafe { libc::recvmsg(fd, msg, flags | libc::MSG_DONTWAIT) }
        }
        SysOp::SendMsg { fd, msg, flags, .. } => {
            // SAFETY: `msg` and the buffers it names are valid (the caller's contract).
            unsafe { libc::sendmsg(fd, msg, flags | libc::MSG_DONTWAIT) }
        }
        SysOp::Accept {
            fd,
            addr,
            len,
            flags,
        } => {
            // SAFETY: `addr` has room for `*len` bytes (the caller's contract).
            unsafe { libc::accept4(fd, addr, len, flags) as isize }
        }
        SysOp::Poll { fd, events } => {
            let mut pfd = libc::pollfd {
                fd,
                events: u16::try_from(events & 0xFFFF).unwrap_or(0).cast_signed(),
                revents: 0,
            };
            // SAFETY: one valid pollfd, no waiting.
            match unsafe { libc::poll(&raw mut pfd, 1, 0) } {
                0 => return None,
                n if n > 0 => pfd.revents.cast_unsigned() as isize,
                n => n as isize,
            }
        }
    };
    if let Ok(n) = usize::try_from(r) {
        return Some(clamp(n));
    }
    match io::Error::last_os_error().raw_os_error() {
        Some(libc::EAGAIN | libc::EINTR) => None,
        Some(e) => Some(-e),
        None => Some(-libc::EIO),
    }
}
