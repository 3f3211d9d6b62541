//! Posted operations as futures: `Recv::new(&sock, buf).await`.
//!
//! Every operation builder ([`Recv`], [`RecvFrom`], [`Send`], [`SendTo`], [`Accept`],
//! [`Connect`], [`IoctlRequest`], [`WaitReady`]) implements [`IntoFuture`]: awaiting it
//! posts the operation with its own [`Overlapped`] record in callback mode (the delivery
//! that `post_with_callback` offers) and resolves to an [`OpResult`]:
//! - `Ok(`[`Completion`]`)` for every operation the engine accepted, with the result
//!   (`Ok(Transfer)` or the operation's `WsaError`, e.g. `WSA_OPERATION_ABORTED`) **and the
//!   buffers**;
//! - `Err(WsaError)` when the post failed at once (a closed socket, an invalid argument,
//!   a receive on a reset connection): the operation never started, nothing was
//!   notified, and the buffers were dropped by the engine, as `post` drops them. This is
//!   the only case without buffers.
//!
//! The post happens in [`IntoFuture::into_future`] (which `.await` calls), not at the
//! first poll: two futures created in order are posted in that order, so receives fill
//! (and sends leave) in creation order, the engine's FIFO invariant.
//!
//! # The slot protocol
//! The operation's callback and the future share a slot: a mutex around
//! `Waiting(waker) | Done(value) | Taken | Abandoned`. The callback, on whichever thread
//! completes the operation (the posting thread during the post, an application thread
//! driving the engine, or the engine's reaper), stores the completion and takes the
//! waker under the lock, then wakes outside it. A poll stores its waker under the same
//! lock. Whichever comes second sees the other's write, so no wake-up is lost (model
//! checked under loom in `executor_loom.rs`).
//!
//! # Cancellation
//! Dropping an [`OpFuture`] while its operation is pending cancels the operation (the
//! engine's `CancelIoEx` path, selecting exactly this future's record) and marks the
//! slot abandoned. The engine keeps owning the buffers until the kernel is done with
//! them; the operation then completes (usually with `WSA_OPERATION_ABORTED`, or with
//! its result if it raced the cancel: a receive may have consumed data that is then
//! lost, as with `CancelIoEx` on Windows), and the callback drops the buffers. Dropping a
//! future whose operation already completed just drops the buffers.
//!
//! # Compatibility
//! The futures need no particular executor: the crate's [`executor`](crate::executor)
//! runs them, and so does tokio (see that module's `# Compatibility` for what is and
//! is not integrated). A future's operation is never queued to a [`CompletionPort`](crate::CompletionPort)
//! the socket may be associated with (its record is built like
//! [`Overlapped::with_event_no_port`]), and it is not cancelled when the posting thread
//! exits (callback-mode operations belong to no thread).
//!
//! # Examples
//! ```no_run
//! use overlapped::{Recv, Send, Socket, executor};
//! # fn main() -> Result<(), overlapped::WsaError> {
//! let conn = Socket::tcp_v4()?;
//! # let peer = "127.0.0.1:7".parse().unwrap();
//! # conn.connect(peer)?;
//! executor::block_on(async {
//!     let sent = Send::new(&conn, b"ping".to_vec()).await?;
//!     sent.result?;
//!     let got = Recv::new(&conn, vec![0u8; 64]).await?;
//!     let n = got.result?.bytes;
//!     println!("{:?}", &got.output[..n]);
//!     Ok(())
//! })
//! # }
//! ```

use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use crate::buf::{IoBufMut, IoBufs, IoBufsMut};
use crate::engine::op::{Completion, OpDesc};
use crate::engine::{self, SocketState};
use crate::error::WsaError;
use crate::ops::{
    Accept, Accepted, Connect, IoctlOutput, IoctlRequest, Received, ReceivedMsg, Recv, RecvFrom,
    RecvMsg, Send, SendTo, Status, WaitReady,
};
use crate::overlapped::Overlapped;
use crate::socket::Readiness;
use crate::sync::{Arc, Mutex};

/// What an [`OpFuture`] resolves to: `Err` only when the post failed at once (the buffers
/// are gone, see the [module docs](self)); otherwise the result with the buffers.
pub type OpResult<T> = Result<Completion<T>, WsaError>;

/// The one-shot handoff between a completing thread and a polling future (see the
/// [module docs](self)).
pub(crate) struct Slot<T> {
    /// The handoff state; the only lock the completer and the poller share.
    state: Mutex<SlotState<T>>,
}

enum SlotState<T> {
    /// No value yet; the waker of the latest poll, if any.
    Waiting(Option<Waker>),
    /// The value, waiting for the poller.
    Done(T),
    /// The poller took the value.
    Taken,
    /// The poller is gone: a value that arrives is dropped at once.
    Abandoned,
}

impl<T> std::fmt::Debug for Slot<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = match &*self.state.lock() {
            SlotState::Waiting(_) => "waiting",
            SlotState::Done(_) => "done",
            SlotState::Taken => "taken",
            SlotState::Abandoned => "abandoned",
        };
        f.debug_struct("Slot").field("state", &state).finish()
    }
}

impl<T> Slot<T> {
    pub(crate) fn new() -> Self {
        Self {
            state: Mutex::new(SlotState::Waiting(None)),
        }
    }

    /// Stores `value` and wakes the poller; drops the value if the poller is gone. The
    /// waker runs and the value drops after the lock is released.
    pub(crate) fn complete(&self, value: T) {
        let mut state = self.state.lock();
        match std::mem::replace(&mut *state, SlotState::Taken) {
            SlotState::Waiting(waker) => {
                *state = SlotState::Done(value);
                drop(state);
                if let Some(w) = waker {
                    w.wake();
                }
            }
            // Abandoned (or, never, a second completion): keep the state, drop the value.
            other => {
                *state = other;
                drop(state);
                drop(value);
            }
        }
    }

    /// The value if it has arrived; otherwise registers `cx`'s waker.
    ///
    /// # Panics
    /// When polled again after the value was taken.
    pub(crate) fn poll(&self, cx: &mut Context<'_>) -> Poll<T> {
        let mut state = self.state.lock();
        match &mut *state {
            SlotState::Waiting(waker) => {
                match waker {
                    Some(w) if w.will_wake(cx.waker()) => {}
                    _ => {
                        let old = waker.replace(cx.waker().clone());
                        drop(state);
                        drop(old);
                    }
                }
                Poll::Pending
            }
            SlotState::Done(_) => match std::mem::replace(&mut *state, SlotState::Taken) {
                SlotState::Done(v) => Poll::Ready(v),
                _ => unreachable!("the state was Done under the lock"),
            },
            SlotState::Taken | SlotState::Abandoned => panic!("future polled after completion"),
        }
    }

    /// The poller goes away; returns whether the value was still to come. A value that
    /// already arrived is dropped here (outside the lock).
    pub(crate) fn abandon(&self) -> bool {
        let old = std::mem::replace(&mut *self.state.lock(), SlotState::Abandoned);
        matches!(old, SlotState::Waiting(_))
    }

    /// Whether the value has arrived (and may have been taken since).
    pub(crate) fn is_done(&self) -> bool {
        !matches!(&*self.state.lock(), SlotState::Waiting(_))
    }
}

/// A posted operation as a future; see the [module docs](self).
///
/// Created by `.await` (or [`IntoFuture::into_future`]) on an operation builder, which
/// posts the operation at once. Resolves to an [`OpResult`].
///
/// # Cancellation
/// Dropping it while the operation is pending cancels the operation; the buffers are
/// freed once the kernel is done with them (see the [module docs](self#cancellation)).
#[must_use = "dropping the future cancels the operation"]
pub struct OpFuture<T> {
    state: State<T>,
}

enum State<T> {
    /// The post failed at once.
    Failed(WsaError),
    /// The operation was accepted by the engine.
    Started {
        slot: Arc<Slot<Completion<T>>>,
        /// The socket it was posted on (the listener for an accept): what a cancel
        /// searches.
        sock: Arc<SocketState>,
        /// This future's own record; the cancel selects the operation by it.
        ov: Overlapped,
        status: Status,
    },
    /// The output was returned.
    Finished,
}

impl<T> std::fmt::Debug for OpFuture<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut d = f.debug_struct("OpFuture");
        match &self.state {
            State::Failed(e) => d.field("failed", e),
            State::Started { status, slot, .. } => {
                d.field("status", status).field("complete", &slot.is_done())
            }
            State::Finished => d.field("finished", &true),
        };
        d.finish_non_exhaustive()
    }
}

impl<T: std::marker::Send + 'static> OpFuture<T> {
    /// Posts `desc` on `sock` (or fails with the builder's error).
    pub(crate) fn start<D: OpDesc<Output = T>>(
        parts: Result<(Arc<SocketState>, D), WsaError>,
    ) -> Self {
        let (sock, desc) = match parts {
            Ok(p) => p,
            Err(e) => return Self::failed(e),
        };
        let mut ov = Overlapped::new();
        if let Some(state) = Arc::get_mut(&mut ov.state) {
            state.no_port = true;
        }
        let slot = Arc::new(Slot::new());
        let target = Arc::clone(&slot);
        let posted =
            crate::ops::post_with_callback(&sock, &ov, desc, move |c| target.complete(c), false);
        match posted {
            Ok(status) => Self {
                state: State::Started {
                    slot,
                    sock,
                    ov,
                    status,
                },
            },
            Err(e) => Self::failed(e),
        }
    }

    fn failed(e: WsaError) -> Self {
        Self {
            state: State::Failed(e),
        }
    }
}

impl<T> OpFuture<T> {
    /// How the post went: `Some(`[`Status::Immediate`]`)` if the operation completed
    /// during the post, `Some(`[`Status::Pending`]`)` if not; `None` if the post failed
    /// (or the output was already returned).
    pub fn status(&self) -> Option<Status> {
        match &self.state {
            State::Started { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// Whether the future would resolve at once (the operation completed, or the post
    /// failed).
    pub fn is_complete(&self) -> bool {
        match &self.state {
            State::Started { slot, .. } => slot.is_done(),
            State::Failed(_) => true,
            State::Finished => false,
        }
    }
}

impl<T> Future for OpFuture<T> {
    type Output = OpResult<T>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<OpResult<T>> {
        let this = self.get_mut();
        let done = match &this.state {
            State::Failed(_) => None,
            State::Started { slot, .. } => match slot.poll(cx) {
                Poll::Ready(c) => Some(c),
                Poll::Pending => {
                    #[cfg(feature = "tokio")]
                    crate::tokio_driver::on_wait();
                    return Poll::Pending;
                }
            },
            State::Finished => panic!("OpFuture polled after completion"),
        };
        match (std::mem::replace(&mut this.state, State::Finished), done) {
            (_, Some(c)) => Poll::Ready(Ok(c)),
            (State::Failed(e), None) => Poll::Ready(Err(e)),
            _ => unreachable!("only a failed post resolves without a completion"),
        }
    }
}

impl<T> Drop for OpFuture<T> {
    fn drop(&mut self) {
        if let State::Started { slot, sock, ov, .. } = &self.state
            && slot.abandon()
            && let Ok(e) = engine::get()
        {
            // Exactly this future's operation: no other operation is bound to `ov`.
            e.cancel(sock, &|c| Arc::ptr_eq(&c.ov, &ov.state));
        }
    }
}

/// `IntoFuture` for a builder whose crate-visible `into_op` gives the socket and the
/// description.
macro_rules! into_future {
    ($(impl[$($g:tt)*] $builder:ty => $output:ty;)*) => {$(
        impl<$($g)*> IntoFuture for $builder {
            type Output = OpResult<$output>;
            type IntoFuture = OpFuture<$output>;

            /// Posts the operation (see the [module docs](crate::future)).
            fn into_future(self) -> OpFuture<$output> {
                OpFuture::start(self.into_op())
            }
        }
    )*};
}

into_future! {
    impl[B: IoBufsMut] Recv<B> => B;
    impl[B: IoBufsMut] RecvFrom<B> => Received<B>;
    impl[B: IoBufsMut, C: IoBufMut] RecvMsg<B, C> => ReceivedMsg<B, C>;
    impl[B: IoBufs] Send<B> => B;
    impl[B: IoBufs] SendTo<B> => B;
    impl[B: IoBufMut] Accept<B> => Accepted<B>;
    impl[B: IoBufs] Connect<B> => Option<B>;
    impl[] IoctlRequest => Option<IoctlOutput>;
    impl[] WaitReady => Readiness;
}

const _: () = {
    const fn assert_send<T: std::marker::Send>() {}
    const fn assert_unpin<T: Unpin>() {}
    assert_send::<OpFuture<Vec<u8>>>();
    assert_unpin::<OpFuture<Vec<u8>>>();
};
