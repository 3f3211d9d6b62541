//! Operation records: what the engine keeps for each posted operation until the kernel
//! is done with it.
//!
//! An operation is described by an [`OpDesc`] (one per family, in `crate::ops`): how to
//! try it now, how to hand it to the kernel, how to read the kernel's result. The engine
//! wraps it in an [`OpRecord`], which adds the overlapped record, the notification mode
//! and the bookkeeping, and erases its type behind [`OpDyn`].
//!
//! # Ownership
//! The record is reference-counted. While the operation is armed, the in-flight table
//! holds one reference, so the buffers and the `msghdr` inside the description (which
//! the kernel writes through raw pointers) stay alive and in place until the result is
//! reaped, whatever the user drops. The description is only touched under the lock of
//! the socket queue that holds the operation, or by the thread reaping its result.

use std::any::Any;
use std::thread::ThreadId;

use super::SocketState;
use crate::alertable::{self, Apc, ApcQueue};
use crate::error::NtStatus;
use crate::overlapped::{OvState, Transfer};
use crate::sync::{Arc, AtomicBool, AtomicU8, AtomicU64, Mutex, Ordering};
use crate::sys::SysOp;

/// Which per-socket FIFO an operation waits in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum QueueKind {
    /// Receives and accepts: filled in posting order.
    Read,
    /// Sends and connects: sent in posting order.
    Write,
    /// Readiness waits: a queue of their own, so they never hold up receives.
    Poll,
    /// Waits for something outside the socket (an address-list change): a queue of
    /// their own, so they never hold up the socket's own operations.
    Park,
    /// Completes in user space at once (ioctls): no queue.
    Direct,
}

/// The outcome of an operation: NTSTATUS, bytes and receive flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Outcome {
    pub(crate) status: NtStatus,
    pub(crate) bytes: usize,
    pub(crate) flags: u32,
}

impl Outcome {
    pub(crate) fn ok(bytes: usize) -> Self {
        Self {
            status: NtStatus::SUCCESS,
            bytes,
            flags: 0,
        }
    }

    pub(crate) fn err(status: NtStatus) -> Self {
        Self {
            status,
            bytes: 0,
            flags: 0,
        }
    }

    pub(crate) fn errno(errno: i32) -> Self {
        Self::err(NtStatus::from_errno(errno))
    }
}

/// What an attempt or a kernel result means for the operation.
pub(crate) enum Step {
    /// Finished with this outcome.
    Done(Outcome),
    /// Finished, but report it to the poster as pending (an unsupported ioctl).
    DoneLater(Outcome),
    /// Not yet: arm (or re-arm) it in the kernel.
    WouldBlock,
    /// Continue on another socket's read queue (AcceptEx waiting for first data).
    Move(Arc<SocketState>),
}

/// One operation family's behaviour (see the module docs).
pub(crate) trait OpDesc: Send + 'static {
    /// What the operation gives back with its result (the buffers, addresses).
    type Output: Send + 'static;

    fn queue(&self) -> QueueKind;

    /// Tries the operation now without blocking.
    fn attempt(&mut self, sock: &SocketState) -> Step;

    /// Describes the kernel operation to arm. Pointers in the result point into `self`,
    /// which stays in place until the result is reaped.
    fn arm(&mut self, sock: &SocketState) -> SysOp;

    /// Interprets the kernel's result (`>= 0` or `-errno`).
    fn on_result(&mut self, sock: &SocketState, res: i32) -> Step;

    /// The status to report when the operation was aborted by closing its socket.
    fn abort_status(&self) -> NtStatus {
        NtStatus::CANCELLED
    }

    /// Learns the id of the record that wraps it, before it is started (AcceptEx links
    /// its acceptor to it, so that closing the acceptor can cancel it).
    fn on_record(&mut self, _id: u64) {}

    /// Gives back the buffers (and anything else) to the user.
    fn into_output(self, outcome: &Outcome) -> Self::Output;
}

/// What a completion routine receives: the result and the operation's buffers.
#[derive(Debug)]
pub struct Completion<T> {
    /// The transfer, or the WSA-family error (`dwError`).
    pub result: Result<Transfer, crate::WsaError>,
    /// The buffers (and addresses) the operation was posted with.
    pub output: T,
}

/// A finished operation's result and output.
pub(crate) type Finished<T> = (Result<Transfer, crate::WsaError>, T);

/// A routine closure as stored in the thread-local table.
pub(crate) type Routine<T> = Box<dyn FnOnce(Completion<T>)>;

/// A completion callback, boxed with its output type erased.
pub(crate) type Callback = Box<dyn FnOnce(Box<dyn Any + Send>) + Send>;

/// How an operation notifies.
pub(crate) enum Notify {
    /// Through its overlapped record (event or record signal); the output waits in the
    /// record for the [`crate::Posted`] handle.
    Record,
    /// Through a completion routine run on the issuing thread.
    Routine { queue: Arc<ApcQueue>, token: u64 },
    /// Through a callback run on the completing thread once the engine's locks are
    /// released (see [`defer`]).
    Callback(Mutex<Option<Callback>>),
}

std::thread_local! {
    /// Callbacks finished under engine locks, run when the outermost [`DeferScope`]
    /// of this thread ends.
    static DEFERRED: std::cell::RefCell<Vec<Box<dyn FnOnce()>>> = const { std::cell::RefCell::new(Vec::new()) };
    static DEPTH: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
}

/// Marks an engine entry point: callbacks finished inside it run when the outermost
/// scope ends, after every engine lock taken inside has been released.
pub(crate) struct DeferScope(());

impl DeferScope {
    pub(crate) fn enter() -> Self {
        DEPTH.with(|d| d.set(d.get() + 1));
        Self(())
    }
}

impl Drop for DeferScope {
    fn drop(&mut self) {
        let depth = DEPTH.with(|d| {
            let v = d.get() - 1;
            d.set(v);
            v
        });
        if depth > 0 {
            return;
        }
        loop {
            let batch = DEFERRED
                .try_with(|q| std::mem::take(&mut *q.borrow_mut()))
                .unwrap_or_default();
            if batch.is_empty() {
                return;
            }
            for f in batch {
                f();
            }
        }
    }
}

/// Runs `f` now if no engine lock can be held, else when the outermost scope ends.
fn defer(f: Box<dyn FnOnce()>) {
    if DEPTH.with(|d| d.get()) == 0 {
        f();
    } else {
        let mut slot = Some(f);
        let _ = DEFERRED.try_with(|q| q.borrow_mut().extend(slot.take()));
        // DEFERRED is gone only inside a thread-local destructor, and
        // `register_issued` makes it outlive the one that enters the engine: run it now
        // rather than lose it.
        if let Some(f) = slot {
            f();
        }
    }
}

/// A thread's pending operations, cancelled when the thread exits (semantics 1.4).
struct Issued {
    /// Operations this thread posted that were pending when the post returned.
    ops: std::cell::RefCell<Vec<std::sync::Weak<dyn OpDyn>>>,
    /// Prune finished entries when the list reaches this length.
    prune_at: std::cell::Cell<usize>,
}

impl Drop for Issued {
    fn drop(&mut self) {
        let ops = std::mem::take(&mut *self.ops.borrow_mut());
        let live: Vec<Arc<dyn OpDyn>> = ops
            .iter()
            .filter_map(std::sync::Weak::upgrade)
            .filter(|op| !op.is_done())
            .collect();
        if !live.is_empty() {
            super::cancel_for_exited_thread(live);
        }
    }
}

std::thread_local! {
    static ISSUED: Issued = const {
        Issued {
            ops: std::cell::RefCell::new(Vec::new()),
            prune_at: std::cell::Cell::new(64),
        }
    };
}

/// Remembers a pending operation of the calling thread, to cancel it if the thread
/// exits first (unless its socket is associated with a completion port then).
pub(crate) fn register_issued(op: &Arc<dyn OpDyn>) {
    // Thread-local destructors run in reverse order of first use: touching DEFERRED
    // first makes it outlive ISSUED, whose destructor enters the engine.
    let _ = DEFERRED.try_with(|_| ());
    let _ = ISSUED.try_with(|i| {
        let mut ops = i.ops.borrow_mut();
        if ops.len() >= i.prune_at.get() {
            ops.retain(|w| w.upgrade().is_some_and(|op| !op.is_done()));
            i.prune_at.set((ops.len() * 2).max(64));
        }
        ops.push(Arc::downgrade(op));
    });
}

/// Why an operation is being cancelled.
pub(crate) mod cancel {
    pub(crate) const NONE: u8 = 0;
    pub(crate) const CANCEL: u8 = 1;
    pub(crate) const CLOSE: u8 = 2;
}

/// The type-independent part of a record.
pub(crate) struct OpCore {
    pub(crate) id: u64,
    /// The socket the operation was posted on (the listener for an accept): its
    /// completion port association decides where the packet goes.
    pub(crate) origin: Arc<SocketState>,
    pub(crate) ov: Arc<OvState>,
    pub(crate) notify: Notify,
    /// The socket whose queue holds the operation now.
    pub(crate) sock: Mutex<Arc<SocketState>>,
    /// The in-flight tag while armed.
    pub(crate) user_data: AtomicU64,
    pub(crate) armed: AtomicBool,
    /// [`cancel`] reason, if any.
    pub(crate) cancelled: AtomicU8,
    pub(crate) issuer: ThreadId,
}

/// A typed record (see the module docs).
pub(crate) struct OpRecord<D: OpDesc> {
    pub(crate) core: OpCore,
    /// The description; `None` once finished.
    desc: Mutex<Option<D>>,
    /// The result and output, waiting for the `Posted` handle or the routine.
    output: Mutex<Option<Finished<D::Output>>>,
    /// Finished (the output may have been taken since).
    finished: AtomicBool,
}

/// The engine's view of any record.
pub(crate) trait OpDyn: Send + Sync {
    fn core(&self) -> &OpCore;
    fn queue(&self) -> QueueKind;
    fn attempt(&self, sock: &SocketState) -> Step;
    fn arm(&self, sock: &SocketState) -> SysOp;
    fn on_result(&self, sock: &SocketState, res: i32) -> Step;
    fn abort_status(&self) -> NtStatus;
    /// Stores the output and result, then notifies through the record's mode.
    fn finish(self: Arc<Self>, outcome: Outcome) {
        self.finish_as(outcome, false);
    }
    /// As [`OpDyn::finish`] for an operation that completes during its post (a port
    /// skips its packet if the socket asked for it and the operation succeeded).
    fn finish_at_once(self: Arc<Self>, outcome: Outcome) {
        self.finish_as(outcome, true);
    }
    fn finish_as(self: Arc<Self>, outcome: Outcome, at_once: bool);
    /// Finished (the output may have been taken since).
    fn is_done(&self) -> bool;
    /// The output slot, a `Mutex<Option<Finished<Output>>>`, for typed retrieval
    /// through [`take_output_as`](dyn OpDyn::take_output_as).
    fn output_any(&self) -> &dyn Any;
}

impl dyn OpDyn {
    /// Takes the finished output if the operation's output type is `T`.
    pub(crate) fn take_output_as<T: 'static>(&self) -> Option<Finished<T>> {
        self.output_any()
            .downcast_ref::<Mutex<Option<Finished<T>>>>()?
            .lock()
            .take()
    }
}

/// The `Posted` handle's view of a record.
pub(crate) trait OutputSlot<T>: Send + Sync {
    fn ov(&self) -> &Arc<OvState>;
    fn is_finished(&self) -> bool;
    fn take_output(&self) -> Option<Finished<T>>;
    /// Completed as `HasOverlappedIoCompleted` sees it: the record shows a result (the
    /// status is published before `finished`), or `finished` (the record may since be
    /// bound to a new operation, which needs `finished` first). Read in that order.
    fn is_complete(&self) -> bool {
        self.ov().status() != NtStatus::PENDING || self.is_finished()
    }
}

/// Operation ids (plain counter, not a handoff: std's atomic in every mode).
static NEXT_ID: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

impl<D: OpDesc> OpRecord<D> {
    pub(crate) fn new(
        mut desc: D,
        ov: Arc<OvState>,
        notify: Notify,
        sock: Arc<SocketState>,
    ) -> Self {
        let id = NEXT_ID.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        desc.on_record(id);
        Self {
            core: OpCore {
                id,
                ov,
                notify,
                sock: Mutex::new(Arc::clone(&sock)),
                user_data: AtomicU64::new(0),
                armed: AtomicBool::new(false),
                cancelled: AtomicU8::new(cancel::NONE),
                issuer: std::thread::current().id(),
                origin: Arc::clone(&sock),
            },
            desc: Mutex::new(Some(desc)),
            output: Mutex::new(None),
            finished: AtomicBool::new(false),
        }
    }

    fn with_desc<R>(&self, f: impl FnOnce(&mut D) -> R, default: R) -> R {
        match self.desc.lock().as_mut() {
            Some(d) => f(d),
            None => default,
        }
    }

    /// Runs the routine on the issuing thread (called from its alertable wait).
    fn run_routine(&self, token: u64) {
        let Some(boxed) = alertable::take_routine(token) else {
            return;
        };
        let Ok(routine) = boxed.downcast::<Routine<D::Output>>() else {
            return;
        };
        let Some((result, output)) = self.output.lock().take() else {
            return;
        };
        routine(Completion { result, output });
    }

    /// Drops a stored routine of an operation that failed at once.
    pub(crate) fn forget_routine(&self) {
        if let Notify::Routine { token, .. } = self.core.notify {
            drop(alertable::take_routine(token));
        }
    }
}

impl<D: OpDesc> OpRecord<D> {
    /// Hands the output to the callback of a callback-mode operation.
    fn run_callback(&self) {
        let Notify::Callback(slot) = &self.core.notify else {
            return;
        };
        let Some(callback) = slot.lock().take() else {
            return;
        };
        let Some((result, output)) = self.output.lock().take() else {
            return;
        };
        callback(Box::new(Completion { result, output }));
    }
}

impl<D: OpDesc> OpDyn for OpRecord<D> {
    fn core(&self) -> &OpCore {
        &self.core
    }

    fn queue(&self) -> QueueKind {
        self.with_desc(|d| d.queue(), QueueKind::Direct)
    }

    fn attempt(&self, sock: &SocketState) -> Step {
        self.with_desc(
            |d| d.attempt(sock),
            Step::Done(Outcome::err(NtStatus::CANCELLED)),
        )
    }

    fn arm(&self, sock: &SocketState) -> SysOp {
        self.with_desc(|d| d.arm(sock), SysOp::Poll { fd: -1, events: 0 })
    }

    fn on_result(&self, sock: &SocketState, res: i32) -> Step {
        self.with_desc(
            |d| d.on_result(sock, res),
            Step::Done(Outcome::err(NtStatus::CANCELLED)),
        )
    }

    fn abort_status(&self) -> NtStatus {
        self.with_desc(|d| d.abort_status(), NtStatus::CANCELLED)
    }

    fn is_done(&self) -> bool {
        self.finished.load(Ordering::Acquire)
    }

    fn output_any(&self) -> &dyn Any {
        &self.output
    }

    fn finish_as(self: Arc<Self>, outcome: Outcome, at_once: bool) {
        let Some(desc) = self.desc.lock().take() else {
            return;
        };
        let result = match outcome.status.to_wsa() {
            None => Ok(Transfer {
                bytes: outcome.bytes,
                flags: outcome.flags,
            }),
            Some(e) => Err(e),
        };
        let output = desc.into_output(&outcome);
        let routine = matches!(self.core.notify, Notify::Routine { .. });
        {
            // The record's status and event are published under the output lock, so a
            // `Posted` handle never gives the buffers back (nor reports completion) before
            // the record shows the operation complete.
            let mut slot = self.output.lock();
            *slot = Some((result, output));
            // A routine is queued before the record shows completion: a thread that sees
            // the operation complete and then enters an alertable wait must find it there.
            // (The routine takes the output lock, so it cannot run before we release it.)
            // Lock order: output -> routine queue.
            if let Notify::Routine { queue, token } = &self.core.notify {
                let socket = self.core.sock.lock().id;
                let token = *token;
                let rec = Arc::clone(&self);
                queue.push(Apc {
                    socket,
                    run: Box::new(move || rec.run_routine(token)),
                });
            }
            // Status, then `finished`, then the wake-ups: a thread released by the record
            // or its event (or that reuses the record) finds the `Posted` handle complete
            // too, and the handle never reports completion before the record shows it.
            let ov = &self.core.ov;
            ov.publish(outcome.status, outcome.bytes, outcome.flags);
            self.finished.store(true, Ordering::Release);
            ov.signal(!routine);
        }
        // The completion port's packet, after the record shows completion (so a thread
        // that dequeues it finds the output), and for a callback after the callback ran
        // (the C ABI copies results out there). Lock order: output (released) -> port.
        let port = if routine {
            None
        } else {
            crate::port::target_of(&self.core.origin, &self.core.ov, outcome.status, at_once)
        };
        if let Notify::Callback(_) = &self.core.notify {
            let rec = Arc::clone(&self);
            defer(Box::new(move || {
                rec.run_callback();
                if let Some(link) = port {
                    let bytes = outcome.bytes;
                    crate::port::deliver(link, rec, outcome.status, bytes, outcome.flags);
                }
            }));
        } else if let Some(link) = port {
            crate::port::deliver(link, self, outcome.status, outcome.bytes, outcome.flags);
        }
    }
}

impl<D: OpDesc> OutputSlot<D::Output> for OpRecord<D> {
    fn ov(&self) -> &Arc<OvState> {
        &self.core.ov
    }

    fn is_finished(&self) -> bool {
        self.finished.load(Ordering::Acquire)
    }

    fn take_output(&self) -> Option<Finished<D::Output>> {
        self.output.lock().take()
    }
}

/// Boxes a completion callback, erasing its output type.
pub(crate) fn box_callback<T: std::marker::Send + 'static>(
    f: impl FnOnce(Completion<T>) + std::marker::Send + 'static,
) -> Callback {
    Box::new(move |any: Box<dyn Any + std::marker::Send>| {
        if let Ok(c) = any.downcast::<Completion<T>>() {
            f(*c);
        }
    })
}

/// Boxes a routine for the thread-local table.
pub(crate) fn box_routine<T: 'static>(f: impl FnOnce(Completion<T>) + 'static) -> Box<dyn Any> {
    let routine: Routine<T> = Box::new(f);
    Box::new(routine)
}
