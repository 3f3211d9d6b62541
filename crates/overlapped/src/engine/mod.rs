//! The proactor: turns posted operations into completions delivered the Windows way.
//!
//! # Layers
//! `ops` describe operations; this module queues them per socket, tries them, arms them
//! in the backend (`crate::sys`), reaps results and dispatches each completion to its
//! notification (event, routine queue, record signal). It is the only module that talks
//! to the backend.
//!
//! # Invariants
//! 1. **FIFO per direction.** Each socket has a read queue (receives, accepts) and a
//!    write queue (sends, connects). Only the head of a queue is ever in the kernel, so
//!    receives fill, and sends leave, in posting order. A new operation tries the
//!    syscall at once only if its queue is empty (try first, then queue).
//! 2. **The kernel never writes freed memory.** An armed operation's record is held by
//!    the in-flight table until its result is reaped, whatever the user drops.
//! 3. **Exactly one completion.** Every operation that was accepted (the post returned
//!    success or pending) is finished exactly once: by its attempt, by its kernel
//!    result, by a cancel of a queued (unarmed) operation, or by close.
//! 4. **No lost wake-up.** Waiting threads follow the protocol in [`wait`]; the driver
//!    token is always either held by a thread that will reap, or free with the reaper's
//!    eventfd enabled.
//!
//! # Locks, in the order they may be taken
//! socket queue (listener before acceptor) → in-flight table → record output → routine
//! queue / event state / completion port → waiter → ring submission. A socket's port
//! association slot is a leaf (read, then released before the port lock is taken). The
//! driver token is taken before any of them and never while one is held.
//!
//! # Thread exit
//! An operation still pending when the thread that posted it exits is cancelled (it
//! completes with `WSA_OPERATION_ABORTED`; its event is set; its routine is dropped with
//! the thread), unless its socket is associated with a completion port (semantics 1.4).
//! This applies to operations posted with `post`, `post_with_routine` or
//! `post_with_thread_callback`; a `post_with_callback` operation (and a future's)
//! belongs to no thread and is never cancelled this way.
//! A thread-local list of the thread's pending operations does this in its destructor.
//! io_uring also cancels a request with `ECANCELED` when the thread that *submitted* it
//! exits, which may be any thread that reaped and re-armed it; nobody asked for that
//! cancel, so the engine re-arms such a request: an operation whose issuing thread
//! exited was already cancelled by that thread's destructor, before the kernel's cancel.

#[cfg(all(test, loom))]
mod loom_tests;
pub(crate) mod op;
pub(crate) mod wait;

use std::collections::VecDeque;
use std::os::fd::RawFd;
use std::sync::OnceLock;
use std::time::Instant;

use crate::error::{NtStatus, WsaError};
use crate::overlapped::{Overlapped, Transfer};
use crate::sync::{Arc, AtomicBool, AtomicI32, Mutex, MutexGuard, Ordering};
use crate::sys::{self, Ring};
use op::{Notify, OpDesc, OpDyn, OpRecord, Outcome, QueueKind, Step, cancel};
use wait::Waiter;

/// The per-socket state the engine keeps: descriptor, queues and Winsock-level flags.
pub(crate) struct SocketState {
    pub(crate) id: u64,
    /// The descriptor; -1 once closed. Changed only under all four queue locks.
    fd: AtomicI32,
    read_q: Mutex<OpQueue>,
    write_q: Mutex<OpQueue>,
    poll_q: Mutex<OpQueue>,
    park_q: Mutex<OpQueue>,
    pub(crate) family: i32,
    pub(crate) ty: i32,
    /// `FIONBIO`: applies to the synchronous calls only.
    pub(crate) nonblocking: AtomicBool,
    /// The connection was reset: later receives and sends fail with `WSAECONNRESET`.
    pub(crate) reset: AtomicBool,
    /// `shutdown(SD_RECEIVE)` / `shutdown(SD_SEND)` were called.
    pub(crate) shut_read: AtomicBool,
    pub(crate) shut_write: AtomicBool,
    pub(crate) listening: AtomicBool,
    /// A ConnectEx is pending.
    pub(crate) connecting: AtomicBool,
    /// The connection was made by a ConnectEx (Windows refuses `connect` on such a
    /// socket with `WSAEINVAL`, where a `connect`ed one gives `WSAEISCONN`).
    pub(crate) connected_ex: AtomicBool,
    /// A stream socket's peer as last learned, and whether the connection was made
    /// (`true`: a connect done, an accept, a `getpeername` that succeeded) or is under
    /// way (`false`: the target of a non-blocking `connect`). Windows answers
    /// `getpeername` with it after both sides shut down, when Linux has forgotten it,
    /// and with the target while the connect is under way. A leaf lock.
    pub(crate) peer: Mutex<Option<(std::net::SocketAddr, bool)>>,
    /// `SO_RCVTIMEO` / `SO_SNDTIMEO` of the synchronous calls, in ms (0 = none).
    pub(crate) read_timeout_ms: std::sync::atomic::AtomicU32,
    pub(crate) write_timeout_ms: std::sync::atomic::AtomicU32,
    /// This socket is the target of a pending AcceptEx: the listener and the op's id.
    pub(crate) accept_link: Mutex<Option<(Arc<SocketState>, u64)>>,
    /// The completion port and key this socket is associated with (a leaf lock: read
    /// when an operation finishes, released before the port's lock is taken).
    pub(crate) port: Mutex<Option<crate::port::PortLink>>,
    /// `FILE_SKIP_COMPLETION_PORT_ON_SUCCESS`: no packet for an immediate success.
    pub(crate) skip_port_on_success: AtomicBool,
    /// Operations posted on this socket that now wait in another socket's queue (an
    /// AcceptEx waiting for its first data on the acceptor): they still belong to this
    /// socket, so its cancel and close reach them. A leaf lock; pruned as it grows.
    away: Mutex<Vec<std::sync::Weak<dyn OpDyn>>>,
    /// Connections of a listener that `WSAAccept`'s condition function deferred
    /// (`CF_DEFER`), each with its peer: Windows leaves them at the head of the backlog,
    /// so the next accept or AcceptEx takes them first and the listener reads as ready
    /// while one is held. A leaf lock (taken under the read queue's lock by AcceptEx).
    pub(crate) deferred: Mutex<VecDeque<(std::os::fd::OwnedFd, std::net::SocketAddr)>>,
}

/// An AcceptEx aborted after the kernel accepted its connection into `acceptor` (it was
/// waiting for the first data): the connection is shut down, so that neither the peer
/// nor operations queued behind the accept on the acceptor go on with a connection whose
/// accept was reported aborted (Windows leaves such an accept socket unusable).
fn abandon_moved(acceptor: &SocketState) {
    let fd = acceptor.fd();
    if fd >= 0 {
        let _ = sys::net::shutdown(fd, libc::SHUT_RDWR);
    }
}

/// One direction's FIFO of operations.
#[derive(Default)]
pub(crate) struct OpQueue {
    ops: VecDeque<Arc<dyn OpDyn>>,
    /// The head is in the kernel.
    armed: bool,
    /// The socket was closed: nothing more is accepted.
    closed: bool,
}

impl std::fmt::Debug for SocketState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SocketState")
            .field("id", &self.id)
            .field("fd", &self.fd())
            .finish()
    }
}

static NEXT_SOCKET: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

impl SocketState {
    pub(crate) fn new(fd: RawFd, family: i32, ty: i32) -> Arc<Self> {
        Arc::new(Self {
            id: NEXT_SOCKET.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
            fd: AtomicI32::new(fd),
            read_q: Mutex::default(),
            write_q: Mutex::default(),
            poll_q: Mutex::default(),
            park_q: Mutex::default(),
            family,
            ty,
            nonblocking: AtomicBool::new(false),
            reset: AtomicBool::new(false),
            shut_read: AtomicBool::new(false),
            shut_write: AtomicBool::new(false),
            listening: AtomicBool::new(false),
            connecting: AtomicBool::new(false),
            connected_ex: AtomicBool::new(false),
            peer: Mutex::new(None),
            read_timeout_ms: std::sync::atomic::AtomicU32::new(0),
            write_timeout_ms: std::sync::atomic::AtomicU32::new(0),
            accept_link: Mutex::new(None),
            port: Mutex::new(None),
            skip_port_on_success: AtomicBool::new(false),
            away: Mutex::new(Vec::new()),
            deferred: Mutex::new(VecDeque::new()),
        })
    }

    /// The descriptor, or -1 once closed.
    pub(crate) fn fd(&self) -> RawFd {
        self.fd.load(Ordering::Acquire)
    }

    pub(crate) fn is_stream(&self) -> bool {
        self.ty == libc::SOCK_STREAM
    }

    fn queue(&self, kind: QueueKind) -> &Mutex<OpQueue> {
        match kind {
            QueueKind::Write => &self.write_q,
            QueueKind::Poll => &self.poll_q,
            QueueKind::Park => &self.park_q,
            QueueKind::Read | QueueKind::Direct => &self.read_q,
        }
    }

    /// Whether the read queue holds operation `id` with no cancel or close requested:
    /// how a new AcceptEx tells an acceptor still in use from one whose accept was
    /// cancelled (Windows frees it at the cancel; here the kernel may answer later).
    pub(crate) fn holds_live_op(&self, id: u64) -> bool {
        self.read_q.lock().ops.iter().any(|o| {
            o.core().id == id && o.core().cancelled.load(Ordering::Acquire) == cancel::NONE
        })
    }

    /// Runs `f` with the read queue locked, if the socket is open: how AcceptEx installs
    /// an accepted connection without racing the acceptor's close.
    pub(crate) fn with_open_read_queue<R>(&self, f: impl FnOnce(RawFd) -> R) -> Option<R> {
        let q = self.read_q.lock();
        if q.closed { None } else { Some(f(self.fd())) }
    }
}

/// In-flight table: records armed in the kernel, by `user_data`.
#[derive(Default)]
struct Inflight {
    slots: Vec<(u32, Option<Arc<dyn OpDyn>>)>,
    free: Vec<u32>,
}

impl Inflight {
    fn insert(&mut self, op: Arc<dyn OpDyn>) -> u64 {
        let idx = match self.free.pop() {
            Some(i) => i,
            None => {
                self.slots.push((0, None));
                u32::try_from(self.slots.len() - 1).unwrap_or(u32::MAX)
            }
        };
        let slot = &mut self.slots[idx as usize];
        slot.0 = slot.0.wrapping_add(1);
        slot.1 = Some(op);
        (u64::from(slot.0) << 32) | u64::from(idx)
    }

    fn remove(&mut self, user_data: u64) -> Option<Arc<dyn OpDyn>> {
        let idx32 = (user_data & 0xFFFF_FFFF) as u32;
        let idx = idx32 as usize;
        let generation = (user_data >> 32) as u32;
        let slot = self.slots.get_mut(idx)?;
        if slot.0 != generation {
            return None;
        }
        let op = slot.1.take()?;
        self.free.push(idx32);
        Some(op)
    }
}

/// The process's engine (see the module docs).
pub(crate) struct Engine {
    ring: Ring,
    /// How the backend was chosen (for [`probe`]).
    selection: sys::Selection,
    inflight: Mutex<Inflight>,
    /// Who drives the ring while threads wait (leader/follower).
    drivers: wait::Drivers,
}

static ENGINE: OnceLock<Result<Engine, WsaError>> = OnceLock::new();

/// The engine, created (with its reaper thread) on first use.
///
/// # Errors
/// `WSASYSNOTREADY` if the backend cannot be set up, `WSAEINVAL` if `OVL_BACKEND` is
/// invalid (see [`sys::Backend`]).
pub(crate) fn get() -> Result<&'static Engine, WsaError> {
    let mut fresh = false;
    let r = ENGINE.get_or_init(|| {
        fresh = true;
        Ring::new()
            .map(|(ring, selection)| Engine {
                ring,
                selection,
                inflight: Mutex::default(),
                drivers: wait::Drivers::default(),
            })
            .map_err(|e| match e.kind() {
                std::io::ErrorKind::InvalidInput => WsaError::WSAEINVAL,
                _ => WsaError::WSASYSNOTREADY,
            })
    });
    let engine = r.as_ref().map_err(|e| *e)?;
    if fresh {
        let spawned = std::thread::Builder::new()
            .name("ovl-reaper".into())
            .spawn(move || engine.reaper_loop());
        if spawned.is_err() {
            return Err(WsaError::WSA_NOT_ENOUGH_MEMORY);
        }
    }
    Ok(engine)
}

fn try_get() -> Option<&'static Engine> {
    ENGINE.get().and_then(|r| r.as_ref().ok())
}

/// Wakes the thread driving the ring (called by [`Waiter::notify`]).
pub(crate) fn wake_driver() {
    if let Some(e) = try_get() {
        e.ring.wake();
    }
}

/// Blocks the calling thread until its waiter is notified or `deadline` passes, reaping
/// completions for everybody while it waits if nobody else is (leader/follower).
pub(crate) fn block(w: &Arc<Waiter>, deadline: Option<Instant>) {
    match try_get() {
        Some(e) => e.block(w, deadline),
        None => w.park(deadline),
    }
}

/// Features and identity of the backend, for `ovl probe`; starts the engine.
///
/// # Errors
/// As for creating a socket: `WSASYSNOTREADY` if no backend can be set up, `WSAEINVAL`
/// if `OVL_BACKEND` is invalid.
pub fn probe() -> Result<BackendInfo, WsaError> {
    let e = get()?;
    Ok(BackendInfo {
        name: e.ring.name(),
        ring_fd: e.ring.raw_fd(),
        features: e.ring.features(),
        backend: e.selection.backend,
        requested: e.selection.requested,
        reason: e.selection.reason.clone(),
    })
}

/// What [`probe`] reports.
#[derive(Debug, Clone)]
pub struct BackendInfo {
    /// The backend in use: `"uring"` or `"poll"`.
    pub name: &'static str,
    /// The ring's descriptor (the epoll descriptor on `poll`).
    pub ring_fd: RawFd,
    /// Kernel io_uring features (empty on `poll`).
    pub features: sys::uring::Features,
    /// The backend in use: [`Backend::Uring`](sys::Backend::Uring) or
    /// [`Backend::Poll`](sys::Backend::Poll).
    pub backend: sys::Backend,
    /// What was asked for ([`Backend::Auto`](sys::Backend::Auto) when nothing was).
    pub requested: sys::Backend,
    /// Why this backend runs, e.g. `"OVL_BACKEND=auto: io_uring is unavailable
    /// (Operation not permitted (os error 1): ...)"`.
    pub reason: String,
}

/// How a started operation went, for the poster.
pub(crate) enum Started<D: OpDesc> {
    /// Completed during the call (notification delivered too).
    Immediate(Transfer, Arc<OpRecord<D>>),
    /// Will complete later.
    Pending(Arc<OpRecord<D>>),
}

impl Engine {
    /// Posts an operation on `sock` bound to `ov` (see the module's invariants).
    ///
    /// # Errors
    /// The immediate failure (nothing is notified): `WSAEINVAL` if `ov` is in use,
    /// `WSAENOTSOCK` if the socket is closed, or the operation's own error.
    pub(crate) fn start<D: OpDesc>(
        &self,
        sock: &Arc<SocketState>,
        ov: &Overlapped,
        desc: D,
        notify: Notify,
    ) -> Result<Started<D>, WsaError> {
        if matches!(notify, Notify::Routine { .. }) && sock.port.lock().is_some() {
            // A completion routine on a socket associated with a port (semantics 1.1).
            if let Notify::Routine { token, .. } = notify {
                drop(crate::alertable::take_routine(token));
            }
            return Err(WsaError::WSAEINVAL);
        }
        // Callback-mode operations belong to no thread here (futures and the library's
        // own readiness waits post them, often from whichever thread ran a callback);
        // `post_with_thread_callback` registers its operation with the thread itself.
        let tied_to_thread = !matches!(notify, Notify::Callback(_));
        let started = self.start_inner(sock, ov, desc, notify);
        if tied_to_thread && let Ok(Started::Pending(rec)) = &started {
            let op: Arc<dyn OpDyn> = rec.clone();
            op::register_issued(&op);
        }
        started
    }

    fn start_inner<D: OpDesc>(
        &self,
        sock: &Arc<SocketState>,
        ov: &Overlapped,
        desc: D,
        notify: Notify,
    ) -> Result<Started<D>, WsaError> {
        let _scope = op::DeferScope::enter();
        // A socket that an AcceptEx is accepting into is not connected until that accept
        // completes (as on Windows): a receive or send posted on it meanwhile would take
        // the first data from the accept (or go out before it), so it fails at once.
        let refused = if matches!(desc.queue(), QueueKind::Read | QueueKind::Write)
            && sock.accept_link.lock().is_some()
        {
            Err(WsaError::WSAENOTCONN)
        } else {
            ov.state.begin()
        };
        let previous = match refused {
            Ok(p) => p,
            Err(e) => {
                if let Notify::Routine { token, .. } = notify {
                    drop(crate::alertable::take_routine(token));
                }
                return Err(e);
            }
        };
        let kind = desc.queue();
        let rec = Arc::new(OpRecord::new(
            desc,
            Arc::clone(&ov.state),
            notify,
            Arc::clone(sock),
        ));
        let dynrec: Arc<dyn OpDyn> = rec.clone();
        let fail = |e: WsaError| {
            ov.state.abandon(previous);
            rec.forget_routine();
            Err(e)
        };
        if kind == QueueKind::Direct {
            return match dynrec.attempt(sock) {
                Step::Done(o) if !o.status.is_success() => fail(wsa_of(o.status)),
                Step::Done(o) => {
                    dynrec.finish_at_once(o);
                    Ok(Started::Immediate(transfer_of(&o), rec))
                }
                Step::DoneLater(o) => {
                    dynrec.finish(o);
                    Ok(Started::Pending(rec))
                }
                Step::WouldBlock | Step::Move(_) => fail(WsaError::WSAEINVAL),
            };
        }
        let mut q = sock.queue(kind).lock();
        if q.closed {
            drop(q);
            return fail(WsaError::WSAENOTSOCK);
        }
        if !q.ops.is_empty() {
            q.ops.push_back(dynrec);
            return Ok(Started::Pending(rec));
        }
        match dynrec.attempt(sock) {
            Step::Done(o) | Step::DoneLater(o) if !o.status.is_success() => {
                drop(q);
                fail(wsa_of(o.status))
            }
            Step::Done(o) => {
                dynrec.finish_at_once(o);
                Ok(Started::Immediate(transfer_of(&o), rec))
            }
            Step::DoneLater(o) => {
                dynrec.finish(o);
                Ok(Started::Pending(rec))
            }
            Step::WouldBlock => {
                q.ops.push_back(Arc::clone(&dynrec));
                if let Err(o) = self.arm_head(&mut q, sock) {
                    q.ops.pop_back();
                    drop(q);
                    return fail(wsa_of(o.status));
                }
                Ok(Started::Pending(rec))
            }
            Step::Move(target) => {
                drop(q);
                // A failure here was already notified (the operation was accepted), so
                // it is reported as pending, never as an immediate result.
                match self.move_to(&target, dynrec, true) {
                    Some(o) if o.status.is_success() => {
                        Ok(Started::Immediate(transfer_of(&o), rec))
                    }
                    _ => Ok(Started::Pending(rec)),
                }
            }
        }
    }

    /// Arms the queue's head in the kernel.
    fn arm_head(&self, q: &mut MutexGuard<'_, OpQueue>, sock: &SocketState) -> Result<(), Outcome> {
        let Some(head) = q.ops.front().cloned() else {
            return Ok(());
        };
        // Parked operations wait in their queue, unarmed, until cancelled or closed:
        // their cancel is then synchronous, as Windows' is for these requests.
        if head.queue() == QueueKind::Park {
            return Ok(());
        }
        let sysop = head.arm(sock);
        let user_data = self.inflight.lock().insert(Arc::clone(&head));
        head.core().user_data.store(user_data, Ordering::Release);
        head.core().armed.store(true, Ordering::Release);
        self.drivers.armed();
        // SAFETY: `sysop` points into `head`'s description, which the in-flight table
        // now keeps alive (and in place, inside its Arc) until the result is reaped.
        match unsafe { self.ring.push(&sysop, user_data) } {
            Ok(()) => {
                q.armed = true;
                Ok(())
            }
            Err(e) => {
                self.inflight.lock().remove(user_data);
                self.drivers.reaped();
                head.core().armed.store(false, Ordering::Release);
                Err(Outcome::errno(sys::net::errno_of(&e)))
            }
        }
    }

    /// After the head finished: try or arm the next operations in order.
    fn advance(&self, q: &mut MutexGuard<'_, OpQueue>, sock: &SocketState) {
        while let Some(head) = q.ops.front().cloned() {
            match head.attempt(sock) {
                Step::Done(o) | Step::DoneLater(o) => {
                    q.ops.pop_front();
                    head.finish(o);
                }
                Step::WouldBlock => match self.arm_head(q, sock) {
                    Ok(()) => return,
                    Err(o) => {
                        q.ops.pop_front();
                        head.finish(o);
                    }
                },
                Step::Move(target) => {
                    q.ops.pop_front();
                    self.move_to(&target, head, false);
                }
            }
        }
    }

    /// Continues `op` on `target`'s read queue; returns its outcome if it finished at once.
    /// `at_once`: called from the post itself (an immediate success may skip the port).
    fn move_to(
        &self,
        target: &Arc<SocketState>,
        op: Arc<dyn OpDyn>,
        at_once: bool,
    ) -> Option<Outcome> {
        let origin = &op.core().origin;
        *op.core().sock.lock() = Arc::clone(target);
        if !Arc::ptr_eq(origin, target) {
            let mut away = origin.away.lock();
            away.retain(|w| w.upgrade().is_some_and(|o| !o.is_done()));
            away.push(Arc::downgrade(&op));
        }
        let mut q = target.read_q.lock();
        // A cancel or close of the origin issued while the operation was in the kernel
        // (its result raced the cancel), or while it moves, still applies: the canceller
        // sets the reason before it looks in this queue, and we look after locking it.
        let reason = op.core().cancelled.load(Ordering::Acquire);
        if reason != cancel::NONE {
            drop(q);
            abandon_moved(target);
            let o = Outcome::err(if reason == cancel::CLOSE {
                op.abort_status()
            } else {
                NtStatus::CANCELLED
            });
            op.finish(o);
            return Some(o);
        }
        if q.closed {
            let o = Outcome::err(op.abort_status());
            op.finish(o);
            return Some(o);
        }
        if !q.ops.is_empty() {
            q.ops.push_back(op);
            return None;
        }
        match op.attempt(target) {
            Step::Done(o) => {
                op.finish_as(o, at_once);
                Some(o)
            }
            Step::DoneLater(o) => {
                op.finish(o);
                Some(o)
            }
            Step::WouldBlock => {
                q.ops.push_back(Arc::clone(&op));
                if let Err(o) = self.arm_head(&mut q, target) {
                    q.ops.pop_back();
                    op.finish(o);
                    return Some(o);
                }
                None
            }
            Step::Move(next) => {
                drop(q);
                self.move_to(&next, op, at_once)
            }
        }
    }

    /// Handles one reaped result.
    fn on_cqe(&self, user_data: u64, res: i32) {
        let _scope = op::DeferScope::enter();
        let Some(op) = self.inflight.lock().remove(user_data) else {
            return;
        };
        self.drivers.reaped();
        op.core().armed.store(false, Ordering::Release);
        let sock = Arc::clone(&*op.core().sock.lock());
        let mut q = sock.queue(op.queue()).lock();
        q.armed = false;
        let is_head = q.ops.front().is_some_and(|h| Arc::ptr_eq(h, &op));
        let reason = op.core().cancelled.load(Ordering::Acquire);
        // io_uring cancels a request when the thread that submitted it exits (that may be
        // any thread that reaped and re-armed it); nobody asked for this one, so re-arm.
        // (The Windows thread-exit cancel has already happened, with reason CANCEL, in
        // the exiting issuer's destructor; see the module docs.)
        let step = if res == -libc::ECANCELED && reason == cancel::NONE {
            Step::WouldBlock
        } else {
            op.on_result(&sock, res)
        };
        match step {
            Step::WouldBlock if reason == cancel::NONE && !q.closed => {
                if let Err(o) = self.arm_head(&mut q, &sock) {
                    q.ops.pop_front();
                    op.finish(o);
                    self.advance(&mut q, &sock);
                }
            }
            Step::WouldBlock => {
                if is_head {
                    q.ops.pop_front();
                }
                let status = if reason == cancel::CLOSE {
                    op.abort_status()
                } else {
                    NtStatus::CANCELLED
                };
                op.finish(Outcome::err(status));
                if !q.closed {
                    self.advance(&mut q, &sock);
                }
            }
            Step::Done(mut o) | Step::DoneLater(mut o) => {
                if is_head {
                    q.ops.pop_front();
                }
                if o.status == NtStatus::CANCELLED && reason == cancel::CLOSE {
                    o.status = op.abort_status();
                }
                op.finish(o);
                if !q.closed {
                    self.advance(&mut q, &sock);
                }
            }
            Step::Move(target) => {
                if is_head {
                    q.ops.pop_front();
                }
                if !q.closed {
                    self.advance(&mut q, &sock);
                }
                drop(q);
                self.move_to(&target, op, false);
            }
        }
    }

    /// Cancels the operations on `sock` that `filter` selects; returns how many.
    pub(crate) fn cancel(&self, sock: &SocketState, filter: &dyn Fn(&op::OpCore) -> bool) -> usize {
        self.cancel_inner(sock, filter, None)
    }

    /// As [`Engine::cancel`], then waits (a bounded time) until the cancelled operations
    /// that the kernel still held have finished: Windows completes a cancelled request
    /// before `CancelIo`/`CancelIoEx` return, so its record, and an AcceptEx's acceptor,
    /// can be used again at once. (Called from a completion callback on the thread that
    /// reaps, the wait ends at its bound: nobody else reaps meanwhile.)
    pub(crate) fn cancel_settled(
        &self,
        sock: &SocketState,
        filter: &dyn Fn(&op::OpCore) -> bool,
    ) -> usize {
        const SETTLE: std::time::Duration = std::time::Duration::from_millis(200);
        let mut in_kernel = Vec::new();
        let n = self.cancel_inner(sock, filter, Some(&mut in_kernel));
        let deadline = Instant::now() + SETTLE;
        for op in in_kernel {
            while !op.is_done() {
                let Some(left) = deadline.checked_duration_since(Instant::now()) else {
                    return n;
                };
                // Short slices: the record may be reused (its signal reset) as soon as
                // the operation finishes.
                op.core()
                    .ov
                    .wait_done(left.min(std::time::Duration::from_millis(10)));
            }
        }
        n
    }

    fn cancel_inner(
        &self,
        sock: &SocketState,
        filter: &dyn Fn(&op::OpCore) -> bool,
        mut in_kernel: Option<&mut Vec<Arc<dyn OpDyn>>>,
    ) -> usize {
        let _scope = op::DeferScope::enter();
        let mut count = 0;
        for kind in [
            QueueKind::Read,
            QueueKind::Write,
            QueueKind::Poll,
            QueueKind::Park,
        ] {
            let mut q = sock.queue(kind).lock();
            let mut i = 0;
            while i < q.ops.len() {
                let op = Arc::clone(&q.ops[i]);
                // An operation moved in from another socket (an AcceptEx waiting for
                // data on its acceptor) belongs to that socket, not to this one.
                if !std::ptr::eq(Arc::as_ptr(&op.core().origin), sock) || !filter(op.core()) {
                    i += 1;
                    continue;
                }
                count += 1;
                op.core().cancelled.store(cancel::CANCEL, Ordering::Release);
                if i == 0 && q.armed {
                    let _ = self
                        .ring
                        .cancel(op.core().user_data.load(Ordering::Acquire));
                    if let Some(v) = in_kernel.as_deref_mut() {
                        v.push(Arc::clone(&op));
                    }
                    i += 1;
                } else {
                    q.ops.remove(i);
                    op.finish(Outcome::err(NtStatus::CANCELLED));
                }
            }
            if !q.armed && !q.closed && !q.ops.is_empty() {
                self.advance(&mut q, sock);
            }
        }
        for op in self.away_ops(sock) {
            if filter(op.core()) {
                self.cancel_away(&op, cancel::CANCEL);
                if let Some(v) = in_kernel.as_deref_mut() {
                    v.push(Arc::clone(&op));
                }
                count += 1;
            }
        }
        count
    }

    /// The operations posted on `sock` that wait in another socket's queue now.
    ///
    /// (Only an AcceptEx waiting for its first data moves; see [`abandon_moved`].)
    fn away_ops(&self, sock: &SocketState) -> Vec<Arc<dyn OpDyn>> {
        let mut away = sock.away.lock();
        away.retain(|w| w.upgrade().is_some_and(|o| !o.is_done()));
        away.iter().filter_map(std::sync::Weak::upgrade).collect()
    }

    /// Cancels (`reason` CANCEL) or aborts (CLOSE) an operation that its origin socket
    /// no longer holds: it waits in the queue of the socket it moved to, or is moving
    /// (then the mover sees the reason, set before we look, and finishes it).
    fn cancel_away(&self, op: &Arc<dyn OpDyn>, reason: u8) {
        op.core().cancelled.store(reason, Ordering::Release);
        let target = Arc::clone(&*op.core().sock.lock());
        let mut q = target.read_q.lock();
        let Some(i) = q.ops.iter().position(|o| Arc::ptr_eq(o, op)) else {
            return;
        };
        if i == 0 && q.armed {
            let _ = self
                .ring
                .cancel(op.core().user_data.load(Ordering::Acquire));
            return;
        }
        q.ops.remove(i);
        drop(q);
        abandon_moved(&target);
        let mut q = target.read_q.lock();
        if !q.armed && !q.closed && !q.ops.is_empty() {
            self.advance(&mut q, &target);
        }
        drop(q);
        let status = if reason == cancel::CLOSE {
            op.abort_status()
        } else {
            NtStatus::CANCELLED
        };
        Arc::clone(op).finish(Outcome::err(status));
    }

    /// Closes the socket: every pending operation completes aborted through its own
    /// notification; the descriptor is released at once.
    pub(crate) fn close(&self, sock: &SocketState, release_fd: bool) {
        let _scope = op::DeferScope::enter();
        let mut finished = Vec::new();
        let mut rq = sock.read_q.lock();
        let mut wq = sock.write_q.lock();
        let mut pq = sock.poll_q.lock();
        let mut kq = sock.park_q.lock();
        for q in [&mut *rq, &mut *wq, &mut *pq, &mut *kq] {
            q.closed = true;
            let armed = q.armed;
            let mut keep = None;
            for (i, op) in q.ops.drain(..).enumerate() {
                op.core().cancelled.store(cancel::CLOSE, Ordering::Release);
                if i == 0 && armed {
                    let _ = self
                        .ring
                        .cancel(op.core().user_data.load(Ordering::Acquire));
                    keep = Some(op);
                } else {
                    finished.push(op);
                }
            }
            q.ops.extend(keep);
        }
        let fd = if release_fd {
            sock.fd.swap(-1, Ordering::AcqRel)
        } else {
            sock.fd()
        };
        drop(kq);
        drop(pq);
        drop(wq);
        drop(rq);
        // Deferred connections die with their listener (their peers see them close).
        drop(std::mem::take(&mut *sock.deferred.lock()));
        if fd >= 0 {
            if release_fd {
                sys::net::close(fd);
            } else {
                // Wake threads blocked in synchronous calls on this socket; the
                // descriptor itself is released by the owner's drop.
                let _ = sys::net::shutdown(fd, libc::SHUT_RDWR);
            }
        }
        for op in finished {
            let status = op.abort_status();
            op.finish(Outcome::err(status));
        }
        // Operations posted here that wait on another socket now (an AcceptEx waiting for
        // its first data on the acceptor) are aborted too.
        for op in self.away_ops(sock) {
            self.cancel_away(&op, cancel::CLOSE);
        }
        // A pending AcceptEx into this socket lives on the listener's queue. Windows has
        // completed it when `closesocket` returns (its OVERLAPPED can be reused at once),
        // so the cancel is waited for as `CancelIo`'s is.
        let link = sock.accept_link.lock().take();
        if let Some((listener, id)) = link {
            self.cancel_settled(&listener, &|c| c.id == id);
        }
    }

    fn block(&self, w: &Arc<Waiter>, deadline: Option<Instant>) {
        self.drivers.block(self, w, deadline);
    }

    fn reap(&self, driver: &sys::Driver<'_>) -> usize {
        driver.reap(|user_data, res, _flags| self.on_cqe(user_data, res))
    }

    /// Reaps what is ready without blocking, for a driver outside the engine (tokio's
    /// reactor, see `crate::tokio_driver`), which calls this when the ring's descriptor
    /// reports readiness. `external`: that driver is registered and will call again on
    /// the next readiness, so the background reaper's notifications are turned off (an
    /// application thread that drives turns them on again when it leaves, so they are
    /// off only between this driver's reaps); `false` when it unregisters, which turns
    /// them on and reaps once more what arrived while they were off. Returns how many
    /// results were delivered, or `None` if another thread holds the driver token (that
    /// thread reaps, and turns the notifications on when it leaves).
    #[cfg(feature = "tokio")]
    pub(crate) fn reap_ready(&self, external: bool) -> Option<usize> {
        let driver = self.ring.try_drive()?;
        let mut n = self.reap(&driver);
        driver.set_reaper_notify(!external);
        n += self.reap(&driver);
        drop(driver);
        self.drivers.hand_off();
        Some(n)
    }

    /// The ring's descriptor (or the poll backend's epoll set): readable while results
    /// wait to be reaped.
    #[cfg(feature = "tokio")]
    pub(crate) fn ring_fd(&self) -> RawFd {
        self.ring.raw_fd()
    }

    fn reaper_loop(&self) {
        loop {
            self.ring.wait_for_reaper_work();
            let driver = self.ring.drive();
            self.reap(&driver);
            drop(driver);
            self.drivers.hand_off();
        }
    }
}

impl wait::Drive for Engine {
    type Token<'a> = sys::Driver<'a>;

    fn try_drive(&self) -> Option<sys::Driver<'_>> {
        self.ring.try_drive()
    }
    fn reap(&self, token: &sys::Driver<'_>) -> usize {
        Engine::reap(self, token)
    }
    fn wait(&self, token: &sys::Driver<'_>, deadline: Option<Instant>) {
        token.wait(deadline);
    }
    fn set_reaper_notify(&self, token: &sys::Driver<'_>, on: bool) {
        token.set_reaper_notify(on);
    }
}

/// Cancels the pending operations of a thread that is exiting, except those whose socket
/// is associated with a completion port (see the module docs).
pub(crate) fn cancel_for_exited_thread(ops: Vec<Arc<dyn OpDyn>>) {
    let Some(e) = try_get() else {
        return;
    };
    for op in ops {
        if op.is_done() || op.core().origin.port.lock().is_some() {
            continue;
        }
        let sock = Arc::clone(&*op.core().sock.lock());
        let id = op.core().id;
        e.cancel(&sock, &|c| c.id == id);
    }
}

fn wsa_of(status: NtStatus) -> WsaError {
    status.to_wsa().unwrap_or(WsaError::WSAEINVAL)
}

fn transfer_of(o: &Outcome) -> Transfer {
    Transfer {
        bytes: o.bytes,
        flags: o.flags,
    }
}
