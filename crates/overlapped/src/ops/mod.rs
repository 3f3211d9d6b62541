//! Posted operations, one file per family: receive, send, accept, connect, ioctl.
//!
//! Each operation is data: required arguments in `new`, options as chained setters with
//! documented defaults, then one of two ways to post it, matching Winsock's notification
//! modes:
//! - [`post`](Recv::post): bound to an [`Overlapped`] (its event, if any, is signalled);
//!   returns a [`Posted`] handle that gives the buffers back with the result;
//! - [`post_with_routine`](Recv::post_with_routine): a completion routine, run on this
//!   thread in its next alertable wait, receives the result and the buffers.
//!
//! Either way the call returns at once: [`Status::Immediate`] when the operation
//! completed during the call (the notification is *still* delivered, as on Windows), or
//! [`Status::Pending`] (`WSA_IO_PENDING`). An immediate failure is returned as `Err` and
//! notifies nothing.

mod accept;
mod connect;
mod ioctl;
mod ready;
mod recv;
mod send;

pub use accept::{Accept, Accepted, AddressHook};
pub use connect::Connect;
pub use ioctl::{Ioctl, IoctlOutput, IoctlRequest};
pub use ready::WaitReady;
pub use recv::{Received, ReceivedMsg, Recv, RecvFrom, RecvMsg};
pub use send::{Send, SendTo};

use crate::engine::op::{Completion, OpDesc, OutputSlot, box_routine};
use crate::engine::{self, SocketState, Started};
use crate::error::WsaError;
use crate::overlapped::{Overlapped, Transfer};
use crate::sync::Arc;

/// Winsock message flags, as `WSARecv`/`WSASend` take and return them.
pub mod flags {
    /// `MSG_OOB`: out-of-band data.
    pub const MSG_OOB: u32 = 0x1;
    /// `MSG_PEEK`: look at the data without removing it.
    pub const MSG_PEEK: u32 = 0x2;
    /// `MSG_DONTROUTE`.
    pub const MSG_DONTROUTE: u32 = 0x4;
    /// `MSG_WAITALL`: complete only when the buffers are full (stream sockets).
    pub const MSG_WAITALL: u32 = 0x8;
    /// `MSG_PARTIAL` (output): the datagram did not fit and was truncated.
    pub const MSG_PARTIAL: u32 = 0x8000;
    /// `MSG_TRUNC` (output of a receive-message): the datagram was truncated.
    pub const MSG_TRUNC: u32 = 0x0100;
    /// `MSG_CTRUNC` (output of a receive-message): the control data was truncated.
    pub const MSG_CTRUNC: u32 = 0x0200;
}

/// How a post went: completed during the call, or pending.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Completed during the call (Winsock returned 0); the notification was still
    /// delivered.
    Immediate(Transfer),
    /// Will complete later (`WSA_IO_PENDING`).
    Pending,
}

/// A posted operation: the handle through which its buffers come back.
///
/// # Cancellation
/// Dropping a `Posted` while the operation is pending does not cancel it and is always
/// safe: the engine keeps the buffers until the kernel is done, then frees them. Use
/// [`crate::Socket::cancel`] to cancel. The operation is cancelled (it completes with
/// `WSA_OPERATION_ABORTED`) if the thread that posted it exits first, unless its socket
/// is associated with a [`CompletionPort`](crate::CompletionPort), as on Windows.
#[must_use = "the buffers come back through the Posted handle"]
pub struct Posted<T> {
    slot: Arc<dyn OutputSlot<T>>,
    status: Status,
}

impl<T> std::fmt::Debug for Posted<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Posted")
            .field("status", &self.status)
            .finish_non_exhaustive()
    }
}

impl<T: 'static> Posted<T> {
    /// How the post went.
    pub fn status(&self) -> Status {
        self.status
    }

    /// The transfer if the operation completed during the post.
    pub fn immediate(&self) -> Option<Transfer> {
        match self.status {
            Status::Immediate(t) => Some(t),
            Status::Pending => None,
        }
    }

    /// Whether the operation has completed (`HasOverlappedIoCompleted`).
    pub fn is_complete(&self) -> bool {
        self.slot.is_complete()
    }

    /// Waits (non-alertably) for the operation and returns its result with the buffers.
    /// On a socket associated with a [`CompletionPort`](crate::CompletionPort) it returns
    /// at once after the operation's packet was dequeued.
    ///
    /// # Panics
    /// If the buffers were already taken with
    /// [`Packet::take_output`](crate::Packet::take_output).
    pub fn wait(self) -> (Result<Transfer, WsaError>, T) {
        loop {
            // Read before taking: the output is stored before `finished` is set, so
            // finished-then-empty means it was taken, not that it is on its way.
            let finished = self.slot.is_finished();
            if let Some(done) = self.slot.take_output() {
                return done;
            }
            assert!(
                !finished,
                "the operation's output was taken through Packet::take_output"
            );
            // Not finished, so the record is still bound to this operation.
            let _ = self.slot.ov().result(true, None);
        }
    }

    /// The result and buffers if the operation has completed, else the handle back.
    ///
    /// # Errors
    /// Gives `self` back while the operation is pending, or forever if the buffers were
    /// taken with [`Packet::take_output`](crate::Packet::take_output).
    pub fn try_take(self) -> Result<(Result<Transfer, WsaError>, T), Self> {
        match self.slot.take_output() {
            Some(done) => Ok(done),
            None => Err(self),
        }
    }
}

/// Posts `desc` on `sock` with its result going to a [`Posted`] handle.
pub(crate) fn post<D: OpDesc>(
    sock: &Arc<SocketState>,
    ov: &Overlapped,
    desc: D,
) -> Result<Posted<D::Output>, WsaError> {
    let engine = engine::get()?;
    let started = engine.start(sock, ov, desc, engine::op::Notify::Record)?;
    Ok(match started {
        Started::Immediate(t, rec) => Posted {
            slot: rec,
            status: Status::Immediate(t),
        },
        Started::Pending(rec) => Posted {
            slot: rec,
            status: Status::Pending,
        },
    })
}

/// Posts `desc` on `sock` with its result going to `routine` on this thread.
pub(crate) fn post_with_routine<D: OpDesc>(
    sock: &Arc<SocketState>,
    ov: &Overlapped,
    desc: D,
    routine: impl FnOnce(Completion<D::Output>) + 'static,
) -> Result<Status, WsaError> {
    let engine = engine::get()?;
    let token = crate::alertable::store_routine(box_routine(routine));
    let notify = engine::op::Notify::Routine {
        queue: crate::alertable::current_queue(),
        token,
    };
    Ok(match engine.start(sock, ov, desc, notify)? {
        Started::Immediate(t, _) => Status::Immediate(t),
        Started::Pending(_) => Status::Pending,
    })
}

/// Posts `desc` on `sock` with its result going to `callback` on the completing thread.
/// `owned`: the operation belongs to the posting thread (cancelled when it exits unless
/// the socket is associated with a port), as `post` and `post_with_routine` are.
pub(crate) fn post_with_callback<D: OpDesc>(
    sock: &Arc<SocketState>,
    ov: &Overlapped,
    desc: D,
    callback: impl FnOnce(Completion<D::Output>) + std::marker::Send + 'static,
    owned: bool,
) -> Result<Status, WsaError> {
    let engine = engine::get()?;
    let notify = engine::op::Notify::Callback(crate::sync::Mutex::new(Some(
        engine::op::box_callback(callback),
    )));
    Ok(match engine.start(sock, ov, desc, notify)? {
        Started::Immediate(t, _) => Status::Immediate(t),
        Started::Pending(rec) => {
            if owned {
                let op: Arc<dyn engine::op::OpDyn> = rec;
                engine::op::register_issued(&op);
            }
            Status::Pending
        }
    })
}

/// The posting methods every operation builder has.
macro_rules! posting_methods {
    ($output:ty) => {
        /// Posts the operation bound to `ov` (see the [module docs](crate::ops)).
        ///
        /// # Errors
        /// The immediate failure; nothing is notified. `WSAEINVAL` if `ov` is still
        /// bound to a pending operation, `WSAENOTSOCK` if the socket is closed.
        pub fn post(
            self,
            ov: &$crate::Overlapped,
        ) -> Result<$crate::Posted<$output>, $crate::WsaError> {
            let (sock, desc) = self.into_desc()?;
            $crate::ops::post(&sock, ov, desc)
        }

        /// Posts the operation with a completion routine, run on this thread in its
        /// next alertable wait, that receives the result and the buffers.
        ///
        /// # Errors
        /// As [`post`](Self::post); the routine is dropped unrun.
        pub fn post_with_routine(
            self,
            ov: &$crate::Overlapped,
            routine: impl FnOnce($crate::Completion<$output>) + 'static,
        ) -> Result<$crate::ops::Status, $crate::WsaError> {
            let (sock, desc) = self.into_desc()?;
            $crate::ops::post_with_routine(&sock, ov, desc, routine)
        }

        /// Posts the operation with a callback that runs on whichever thread completes
        /// it (possibly the posting thread, before this call returns), after the
        /// engine's locks are released. The callback must not block: it runs on the
        /// thread that reaps completions for everybody. The record's event is
        /// signalled too. This is the delivery that completion ports and futures build on.
        /// Unlike [`post`](Self::post) and [`post_with_routine`](Self::post_with_routine),
        /// the operation is not cancelled when the posting thread exits: it belongs to no
        /// thread.
        ///
        /// # Errors
        /// As [`post`](Self::post); the callback is dropped unrun.
        pub fn post_with_callback(
            self,
            ov: &$crate::Overlapped,
            callback: impl FnOnce($crate::Completion<$output>) + std::marker::Send + 'static,
        ) -> Result<$crate::ops::Status, $crate::WsaError> {
            let (sock, desc) = self.into_desc()?;
            $crate::ops::post_with_callback(&sock, ov, desc, callback, false)
        }

        /// As [`post_with_callback`](Self::post_with_callback), but the operation belongs
        /// to the posting thread, as one posted with [`post`](Self::post) does: if it is
        /// still pending when that thread exits, it is cancelled (and its callback runs
        /// with `WSA_OPERATION_ABORTED`), unless the socket is associated with a
        /// completion port (semantics 1.4). This is what a Winsock program's event-mode
        /// operations get through the C ABI.
        ///
        /// # Errors
        /// As [`post`](Self::post); the callback is dropped unrun.
        pub fn post_with_thread_callback(
            self,
            ov: &$crate::Overlapped,
            callback: impl FnOnce($crate::Completion<$output>) + std::marker::Send + 'static,
        ) -> Result<$crate::ops::Status, $crate::WsaError> {
            let (sock, desc) = self.into_desc()?;
            $crate::ops::post_with_callback(&sock, ov, desc, callback, true)
        }

        /// The socket and the description, for the futures (`crate::future`).
        pub(crate) fn into_op(
            self,
        ) -> Result<
            (
                $crate::sync::Arc<$crate::engine::SocketState>,
                impl $crate::engine::op::OpDesc<Output = $output>,
            ),
            $crate::WsaError,
        > {
            self.into_desc()
        }
    };
}
pub(crate) use posting_methods;

/// Refuses operations on a closed socket.
pub(crate) fn open(sock: &Arc<SocketState>) -> Result<Arc<SocketState>, WsaError> {
    if sock.fd() < 0 {
        Err(WsaError::WSAENOTSOCK)
    } else {
        Ok(Arc::clone(sock))
    }
}

/// The errno a send's `EPIPE` stands for on a socket not shut down for sending: Linux
/// says `EPIPE` for a stream socket that is not connected (never was, or its connect
/// failed), where Windows says `WSAENOTCONN`; such a socket has no peer address.
pub(crate) fn send_epipe_errno(fd: std::os::fd::RawFd) -> i32 {
    match crate::sys::net::peer_addr(fd) {
        Err(e) if crate::sys::net::errno_of(&e) == libc::ENOTCONN => libc::ENOTCONN,
        _ => libc::EPIPE,
    }
}

/// Winsock receive/send flags to Linux flags.
pub(crate) fn linux_flags(flags: u32) -> Result<i32, WsaError> {
    let known = flags::MSG_OOB | flags::MSG_PEEK | flags::MSG_DONTROUTE | flags::MSG_WAITALL;
    if flags & !(known | flags::MSG_PARTIAL) != 0 {
        return Err(WsaError::WSAEOPNOTSUPP);
    }
    let mut out = 0;
    if flags & flags::MSG_OOB != 0 {
        out |= libc::MSG_OOB;
    }
    if flags & flags::MSG_PEEK != 0 {
        out |= libc::MSG_PEEK;
    }
    if flags & flags::MSG_DONTROUTE != 0 {
        out |= libc::MSG_DONTROUTE;
    }
    if flags & flags::MSG_WAITALL != 0 {
        out |= libc::MSG_WAITALL;
    }
    Ok(out)
}
