//! Backends: the only code that knows io_uring (or, later, epoll) exists.
//!
//! # The contract every backend provides
//! A backend is a completion source. It is handed kernel operations described neutrally
//! by [`SysOp`], each tagged with a 64-bit `user_data`, and it reports each one's result
//! exactly once, as the `res` a synchronous syscall would have returned (`>= 0`, or
//! `-errno`). Required items:
//! - `Ring::push(op, user_data)`: start the operation; the pointers inside `op` stay valid
//!   until its result is reaped (the engine keeps the owning record in its in-flight
//!   table until then).
//! - `Ring::cancel(user_data)`: ask for an early `-ECANCELED` result; the operation's
//!   own result still arrives exactly once (it may be a success that raced the cancel).
//! - `Ring::wake()`: make a thread blocked in `Driver::wait` return soon.
//! - `Ring::try_drive` / `Ring::drive`: take the **driver token**, the exclusive right to
//!   reap results. Only its holder may call `Driver::wait` and `Driver::reap`.
//! - `Driver::set_reaper_notify(on)`: while off, results do not wake the background
//!   reaper ([`Ring::wait_for_reaper_work`]), because an application thread is driving.
//!
//! The engine (`crate::engine`) is the only user of this module's backends; it never
//! calls back up into the public API. [`net`] holds the plain, backend-independent
//! socket syscalls that sockets and operations use for their synchronous paths.

pub(crate) mod net;
pub(crate) mod uring;

pub(crate) use uring::Ring;

use std::os::fd::RawFd;

/// A kernel operation, described without reference to any backend.
///
/// Every pointer points into an operation record that the engine keeps alive (and does
/// not move) until the operation's result has been reaped.
#[derive(Debug, Clone, Copy)]
pub(crate) enum SysOp {
    /// `recvmsg(fd, msg, flags)`; `poll_first`: the caller just saw `EAGAIN`.
    RecvMsg {
        fd: RawFd,
        msg: *mut libc::msghdr,
        flags: i32,
        poll_first: bool,
    },
    /// `sendmsg(fd, msg, flags)`.
    SendMsg {
        fd: RawFd,
        msg: *const libc::msghdr,
        flags: i32,
        poll_first: bool,
    },
    /// `accept4(fd, addr, len, flags)`.
    Accept {
        fd: RawFd,
        addr: *mut libc::sockaddr,
        len: *mut libc::socklen_t,
        flags: i32,
    },
    /// One-shot readiness: the result is the `revents` mask.
    Poll { fd: RawFd, events: u32 },
}

/// Reserved `user_data` values that never name an operation record.
pub(crate) mod tag {
    /// A no-op submitted to wake the driving thread.
    pub(crate) const WAKE: u64 = u64::MAX;
    /// The result of a cancel request (the cancelled operation reports separately).
    pub(crate) const CANCEL: u64 = u64::MAX - 1;
}
