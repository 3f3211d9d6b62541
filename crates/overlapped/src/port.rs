//! Completion ports: `CreateIoCompletionPort`, `GetQueuedCompletionStatus(Ex)` and
//! `PostQueuedCompletionStatus`.
//!
//! A [`CompletionPort`] is a FIFO of completion [`Packet`]s and a set of threads waiting
//! for them. A socket [associated](CompletionPort::associate) with a port (with a
//! completion key) has every completion of its overlapped operations queued there as a
//! packet, whichever thread reaped it; any thread may [dequeue](CompletionPort::dequeue)
//! it. Packets can also be [posted by hand](CompletionPort::post).
//!
//! The rules, the buffers and the concurrency limit are documented on
//! [`CompletionPort`].
//!
//! # Lock order
//! The port lock sits after the engine's record-output lock and before the waiter: a
//! completion is queued (and a waiter woken) by the completing thread, possibly while
//! it holds a socket queue lock; the port never takes an engine lock. A socket's
//! association slot is a leaf lock, released before the port lock is taken.
//!
//! # Waiting
//! A dequeue parks on the thread's engine waiter through `engine::block`, as event
//! waits do: if operations are in the kernel and nobody drives, the dequeuing thread
//! reaps for everybody; a packet handed to it wakes it through the waiter, by condvar
//! or, if it is the driver blocked in the kernel, by a ring wake-up.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use crate::alertable::{self, AlertableScope};
use crate::engine::op::OpDyn;
use crate::engine::{self, wait::Waiter};
use crate::error::{NtStatus, WsaError};
use crate::overlapped::{OvState, Overlapped, Transfer};
use crate::socket::Socket;
use crate::sync::{Arc, Mutex, MutexGuard, Ordering};

/// A completion port: a FIFO of completion [`Packet`]s and the threads waiting for them.
///
/// A socket [associated](Self::associate) with a port (with a completion key) has every
/// completion of its overlapped operations queued there as a packet, whichever thread
/// reaped it; any thread may [dequeue](Self::dequeue) it. Packets can also be
/// [posted by hand](Self::post).
///
/// A cheap, cloneable handle (`Send + Sync`). The port closes when [`close`](Self::close)
/// is called or the last handle is dropped: every waiting thread then returns
/// [`DequeueError::Closed`], queued packets are dropped (their buffers freed), and later
/// completions of associated sockets are discarded.
///
/// # Which completions post a packet
/// As on Windows (semantics 1.1, 1.2, 1.10), an operation on an associated socket posts:
/// - when it completes after the post returned pending, whatever its result;
/// - when it completes during the post ([`Status::Immediate`](crate::Status::Immediate)),
///   unless [`Socket::set_skip_completion_port_on_success`] was set;
/// - never when the post fails at once (`Err`);
/// - never when its record was made with [`Overlapped::with_event_no_port`] (the
///   low-bit `hEvent`); the event is still set. With an ordinary event the event is set
///   **and** the packet posted.
///
/// An [`Accept`](crate::Accept) posts to the **listener's** port and key. The port is
/// looked up when the operation completes, so an association made after the post still
/// gets the packet. A completion routine cannot be used on an associated socket: the
/// post fails with `WSAEINVAL` and the routine is dropped unrun.
///
/// # Getting the buffers back
/// A packet of an operation posted with `post(&ov)` carries the operation's output: take
/// it with [`Packet::take_output`] (typed: `Vec<u8>` for a `Recv` of a `Vec<u8>`,
/// [`Received`](crate::Received) for a `RecvFrom`, ...). The [`Posted`](crate::Posted)
/// handle of the operation keeps working too: once the packet exists, `posted.wait()`
/// returns at once. Exactly one of the two gets the buffers. A packet exists only after
/// the kernel has finished with the operation, so neither way can free memory the kernel
/// may still write.
///
/// # Waiters and concurrency
/// Waiting threads are released most recent first (LIFO), as Windows does, so that a hot
/// thread keeps running. At most `concurrency` threads are released to run at once: a
/// thread counts as **running** on a port from the moment it dequeues a packet from it
/// until it calls a dequeue again (on any port) or exits. While `concurrency` threads are
/// running, queued packets wait; a running thread that calls dequeue again takes the next
/// packet itself if one is queued.
///
/// # Examples
/// ```
/// use std::time::Duration;
/// use overlapped::CompletionPort;
///
/// let port = CompletionPort::new(0);
/// port.post(42, 7, None);
/// let p = port.dequeue(Some(Duration::from_secs(1)))?;
/// assert_eq!((p.bytes, p.key), (42, 7));
/// # Ok::<(), overlapped::DequeueError>(())
/// ```
///
/// # Compatibility
/// - Windows counts a thread as not running while it blocks in *any* wait (an event,
///   `Sleep`, a synchronous `recv`), and releases another waiter meanwhile. Here a thread
///   counts as running until it comes back to dequeue (or exits): user space cannot see
///   that a thread blocked elsewhere. With a concurrency of 1, a thread that dequeues and
///   then blocks for a long time holds the port's other waiters back.
/// - Windows also counts a thread again as running when its dequeue times out; here only
///   a dequeued packet makes a thread running.
/// - A socket can be associated once; a second association (with any port) is
///   `WSAEINVAL`, as `CreateIoCompletionPort` reports `ERROR_INVALID_PARAMETER`.
/// - Operations issued by a thread that exits are not cancelled on an associated
///   socket (Windows: with a completion key and no event); here the event does not
///   matter, only the association.
#[derive(Clone)]
pub struct CompletionPort {
    handle: Arc<Handle>,
}

/// The user-side handle: closing the port when the last one goes.
struct Handle {
    inner: Arc<PortInner>,
}

impl Drop for Handle {
    fn drop(&mut self) {
        self.inner.close();
    }
}

impl std::fmt::Debug for CompletionPort {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let st = self.handle.inner.state.lock();
        f.debug_struct("CompletionPort")
            .field("concurrency", &self.handle.inner.concurrency)
            .field("queued", &st.packets.len())
            .field("waiting", &st.waiters.len())
            .field("running", &st.running)
            .field("closed", &st.closed)
            .finish()
    }
}

/// The port object, shared by its handles and the sockets associated with it.
pub(crate) struct PortInner {
    /// How many threads may run at once.
    concurrency: usize,
    /// The queue, the waiters and the running count (see [`PortState`]).
    state: Mutex<PortState>,
}

struct PortState {
    /// Packets not yet handed to a thread, oldest first.
    packets: VecDeque<Packet>,
    /// Threads blocked in a dequeue, in the order they started waiting; released from
    /// the back (LIFO).
    waiters: Vec<Arc<PortWaiter>>,
    /// Threads that dequeued a packet and have not come back (see the module docs).
    running: usize,
    /// Closed: nothing more is queued or handed out.
    closed: bool,
}

/// One blocked dequeue.
struct PortWaiter {
    waiter: Arc<Waiter>,
    /// The most packets it takes.
    max: usize,
    /// Packets handed to it by another thread (taken under the port lock, then this one).
    given: Mutex<Vec<Packet>>,
}

/// A socket's association: the port and the completion key.
#[derive(Clone)]
pub(crate) struct PortLink {
    pub(crate) port: Arc<PortInner>,
    pub(crate) key: usize,
}

/// A dequeued completion: `GetQueuedCompletionStatus`'s bytes, key, overlapped and result.
///
/// A packet of a failed operation is still a dequeued packet (`GetQueuedCompletionStatus`
/// returning FALSE with a non-NULL overlapped): its `result` is the error.
pub struct Packet {
    /// Bytes transferred (`lpNumberOfBytes`); the posted value for a hand post.
    pub bytes: usize,
    /// The completion key of the association (`lpCompletionKey`), or the posted key.
    pub key: usize,
    /// The operation's result, in the WSA family (as [`Overlapped::result`] reports it).
    /// A hand post is always `Ok` with the posted byte count.
    pub result: Result<Transfer, WsaError>,
    status: NtStatus,
    overlapped: Option<Overlapped>,
    /// The finished operation (its output waits in it).
    op: Option<Arc<dyn OpDyn>>,
}

impl std::fmt::Debug for Packet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Packet")
            .field("bytes", &self.bytes)
            .field("key", &self.key)
            .field("result", &self.result)
            .field("status", &self.status)
            .field("has_overlapped", &self.overlapped.is_some())
            .field("from_operation", &self.op.is_some())
            .finish()
    }
}

impl Packet {
    /// The operation's NTSTATUS (`Internal`): the Win32 code that
    /// `GetQueuedCompletionStatus` reports is `status().to_win32()`.
    pub fn status(&self) -> NtStatus {
        self.status
    }

    /// The record the operation was bound to (`lpOverlapped`), or the one passed to
    /// [`CompletionPort::post`]; `None` for a hand post without one. It is a second
    /// handle to the same record: compare with [`Overlapped::same_record`].
    pub fn overlapped(&self) -> Option<&Overlapped> {
        self.overlapped.as_ref()
    }

    /// Whether the packet comes from an operation (false for a hand post).
    pub fn is_from_operation(&self) -> bool {
        self.op.is_some()
    }

    /// Takes the operation's output (its buffers), typed as the operation gives it back:
    /// `B` for a [`Recv`](crate::Recv) or [`Send`](crate::Send) of a `B`,
    /// [`Received<B>`](crate::Received) for a `RecvFrom`, [`Accepted<B>`](crate::Accepted)
    /// for an `Accept`, ...
    ///
    /// `None` for a hand post, if `T` is not the operation's output type (nothing is
    /// consumed then), or if the output was already taken (by an earlier call, or by the
    /// operation's [`Posted`](crate::Posted) handle).
    pub fn take_output<T: 'static>(&mut self) -> Option<T> {
        self.op
            .as_ref()
            .and_then(|op| op.take_output_as::<T>().map(|(_, out)| out))
    }
}

/// Why a dequeue returned no packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DequeueError {
    /// The timeout passed with nothing dequeued (`WAIT_TIMEOUT`, 258).
    Timeout,
    /// The port was closed (`ERROR_ABANDONED_WAIT_0`, 735).
    Closed,
    /// An alertable dequeue ran completion routines of this thread
    /// (`WAIT_IO_COMPLETION`, 0xC0); nothing was dequeued.
    IoCompletion,
    /// `max` was 0 (`ERROR_INVALID_PARAMETER`, 87).
    InvalidParameter,
}

impl DequeueError {
    /// `WAIT_TIMEOUT`.
    pub const WAIT_TIMEOUT: u32 = 258;
    /// `ERROR_ABANDONED_WAIT_0`.
    pub const ERROR_ABANDONED_WAIT_0: u32 = 735;
    /// `WAIT_IO_COMPLETION`.
    pub const WAIT_IO_COMPLETION: u32 = 0xC0;

    /// The Win32 code `GetLastError` gives on Windows.
    pub fn code(self) -> u32 {
        match self {
            Self::Timeout => Self::WAIT_TIMEOUT,
            Self::Closed => Self::ERROR_ABANDONED_WAIT_0,
            Self::IoCompletion => Self::WAIT_IO_COMPLETION,
            Self::InvalidParameter => crate::win32::ERROR_INVALID_PARAMETER,
        }
    }
}

impl std::fmt::Display for DequeueError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let what = match self {
            Self::Timeout => "the wait timed out",
            Self::Closed => "the completion port was closed",
            Self::IoCompletion => "completion routines ran",
            Self::InvalidParameter => "invalid parameter",
        };
        write!(f, "{what} ({})", self.code())
    }
}

impl std::error::Error for DequeueError {}

const _: () = {
    const fn send_sync<T: Send + Sync>() {}
    const fn send<T: Send>() {}
    send_sync::<CompletionPort>();
    send::<Packet>();
};

impl CompletionPort {
    /// A new port (`CreateIoCompletionPort(INVALID_HANDLE_VALUE, NULL, 0, n)`) that
    /// releases at most `concurrency` threads at once; 0 means the number of CPUs.
    pub fn new(concurrency: usize) -> Self {
        let concurrency = if concurrency == 0 {
            std::thread::available_parallelism().map_or(1, |n| n.get())
        } else {
            concurrency
        };
        Self {
            handle: Arc::new(Handle {
                inner: Arc::new(PortInner {
                    concurrency,
                    state: Mutex::new(PortState {
                        packets: VecDeque::new(),
                        waiters: Vec::new(),
                        running: 0,
                        closed: false,
                    }),
                }),
            }),
        }
    }

    fn inner(&self) -> &Arc<PortInner> {
        &self.handle.inner
    }

    /// The most threads released at once.
    pub fn concurrency(&self) -> usize {
        self.inner().concurrency
    }

    /// Associates `sock` with this port under `key` (`CreateIoCompletionPort(s, port,
    /// key, 0)`): its operations' completions are queued here from now on, including
    /// those of operations already pending.
    ///
    /// # Errors
    /// `WSAEINVAL` if the socket is already associated (with any port),
    /// `WSAENOTSOCK` if it is closed, `WSA_INVALID_HANDLE` if the port is closed.
    pub fn associate(&self, sock: &Socket, key: usize) -> Result<(), WsaError> {
        if sock.state.fd() < 0 {
            return Err(WsaError::WSAENOTSOCK);
        }
        if self.inner().state.lock().closed {
            return Err(WsaError::WSA_INVALID_HANDLE);
        }
        let mut slot = sock.state.port.lock();
        if slot.is_some() {
            return Err(WsaError::WSAEINVAL);
        }
        *slot = Some(PortLink {
            port: Arc::clone(self.inner()),
            key,
        });
        Ok(())
    }

    /// Queues a packet by hand (`PostQueuedCompletionStatus`): a dequeue returns exactly
    /// `bytes`, `key` and `ov` (a second handle to the same record), with an `Ok`
    /// result. The record itself is not touched. Returns false if the port is closed.
    pub fn post(&self, bytes: usize, key: usize, ov: Option<&Overlapped>) -> bool {
        let packet = Packet {
            bytes,
            key,
            result: Ok(Transfer { bytes, flags: 0 }),
            status: NtStatus::SUCCESS,
            overlapped: ov.map(|o| Overlapped {
                state: Arc::clone(&o.state),
            }),
            op: None,
        };
        self.inner().push(packet).is_none()
    }

    /// How many threads are blocked in a dequeue of this port now (a diagnostic: it may
    /// change as soon as it is read).
    pub fn waiting(&self) -> usize {
        self.inner().state.lock().waiters.len()
    }

    /// How many packets are queued and not yet handed to a thread (a diagnostic).
    pub fn queued(&self) -> usize {
        self.inner().state.lock().packets.len()
    }

    /// Closes the port now, for every handle (see the type's docs). Idempotent.
    pub fn close(&self) {
        self.inner().close();
    }

    /// Whether the port is closed.
    pub fn is_closed(&self) -> bool {
        self.inner().state.lock().closed
    }

    /// Dequeues one packet (`GetQueuedCompletionStatus`), waiting at most `timeout`
    /// (`None` = forever, `Some(ZERO)` polls). While it waits, the thread reaps
    /// completions for everybody if nobody else is, so a single thread that only
    /// dequeues makes progress.
    ///
    /// # Errors
    /// [`DequeueError::Timeout`] with nothing consumed, or [`DequeueError::Closed`] when
    /// the port is closed before or during the wait. A packet of a failed operation is
    /// `Ok`, with the error in [`Packet::result`].
    pub fn dequeue(&self, timeout: Option<Duration>) -> Result<Packet, DequeueError> {
        let mut v = self.inner().dequeue(1, timeout, false)?;
        v.pop().ok_or(DequeueError::Timeout)
    }

    /// Dequeues up to `max` packets at once, oldest first (`GetQueuedCompletionStatusEx`).
    /// With `alertable`, the wait runs this thread's queued completion routines and then
    /// returns [`DequeueError::IoCompletion`] if it dequeued nothing.
    ///
    /// # Errors
    /// As [`dequeue`](Self::dequeue); [`DequeueError::IoCompletion`] as above;
    /// [`DequeueError::InvalidParameter`] if `max` is 0.
    pub fn dequeue_many(
        &self,
        max: usize,
        timeout: Option<Duration>,
        alertable: bool,
    ) -> Result<Vec<Packet>, DequeueError> {
        if max == 0 {
            return Err(DequeueError::InvalidParameter);
        }
        self.inner().dequeue(max, timeout, alertable)
    }
}

/// Which port the calling thread runs on (counted in its `running`), if any.
struct Running(std::cell::RefCell<Option<Arc<PortInner>>>);

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(p) = self.0.borrow_mut().take() {
            p.leave();
        }
    }
}

#[cfg(not(loom))]
std::thread_local! {
    static RUNNING: Running = const { Running(std::cell::RefCell::new(None)) };
}

#[cfg(loom)]
loom::thread_local! {
    static RUNNING: Running = Running(std::cell::RefCell::new(None));
}

/// Ends the calling thread's running time on its port, as its exit does (for the loom
/// models, whose threads cannot exit while the model still needs them).
#[cfg(all(loom, test))]
pub(crate) fn stop_running() {
    let previous = RUNNING.with(|r| r.0.borrow_mut().take());
    if let Some(p) = previous {
        p.leave();
    }
}

impl PortInner {
    /// Queues a packet and releases a waiter if the concurrency allows. Gives the packet
    /// back if the port is closed (for the caller to drop outside any lock).
    pub(crate) fn push(&self, packet: Packet) -> Option<Packet> {
        let mut st = self.state.lock();
        if st.closed {
            return Some(packet);
        }
        st.packets.push_back(packet);
        self.dispatch(&mut st);
        None
    }

    /// Hands queued packets to the most recent waiters while fewer than `concurrency`
    /// threads run.
    fn dispatch(&self, st: &mut MutexGuard<'_, PortState>) {
        while !st.closed && !st.packets.is_empty() && st.running < self.concurrency {
            let Some(w) = st.waiters.pop() else { break };
            let n = w.max.min(st.packets.len());
            let batch: Vec<Packet> = st.packets.drain(..n).collect();
            *w.given.lock() = batch;
            st.running += 1;
            w.waiter.notify();
        }
    }

    /// A thread running on this port stops running (dequeues elsewhere, or exits).
    fn leave(&self) {
        let mut st = self.state.lock();
        st.running = st.running.saturating_sub(1);
        self.dispatch(&mut st);
    }

    fn close(&self) {
        let packets = {
            let mut st = self.state.lock();
            if st.closed {
                return;
            }
            st.closed = true;
            for w in st.waiters.drain(..) {
                w.waiter.notify();
            }
            std::mem::take(&mut st.packets)
        };
        drop(packets);
    }

    fn dequeue(
        self: &Arc<Self>,
        max: usize,
        timeout: Option<Duration>,
        alertable: bool,
    ) -> Result<Vec<Packet>, DequeueError> {
        let deadline = timeout.map(|t| Instant::now() + t);
        // Coming back to a dequeue ends this thread's running time on its port.
        let previous = RUNNING.try_with(|r| r.0.borrow_mut().take()).ok().flatten();
        let mut was_running_here = false;
        if let Some(p) = previous {
            if Arc::ptr_eq(&p, self) {
                was_running_here = true;
            } else {
                p.leave();
            }
        }
        let waiter = engine::wait::current();
        let _alert = alertable.then(AlertableScope::enter);
        let me = Arc::new(PortWaiter {
            waiter: Arc::clone(&waiter),
            max,
            given: Mutex::new(Vec::new()),
        });
        let mut registered = false;
        let outcome = loop {
            waiter.prepare();
            {
                let mut st = self.state.lock();
                let given = std::mem::take(&mut *me.given.lock());
                if !given.is_empty() {
                    break Ok(given);
                }
                if was_running_here {
                    // The caller stops running and, if it may, takes the next packet
                    // itself (as Windows does) before anybody else is released.
                    was_running_here = false;
                    st.running = st.running.saturating_sub(1);
                }
                if st.closed {
                    break Err(DequeueError::Closed);
                }
                if !registered {
                    if !st.packets.is_empty() && st.running < self.concurrency {
                        let n = max.min(st.packets.len());
                        let batch: Vec<Packet> = st.packets.drain(..n).collect();
                        st.running += 1;
                        break Ok(batch);
                    }
                    st.waiters.push(Arc::clone(&me));
                    registered = true;
                    // Our own leave may let somebody (us included) go.
                    self.dispatch(&mut st);
                    continue;
                }
            }
            if alertable && alertable::run_pending() {
                break Err(DequeueError::IoCompletion);
            }
            if deadline.is_some_and(|d| Instant::now() >= d) {
                break Err(DequeueError::Timeout);
            }
            engine::block(&waiter, deadline);
        };
        let result = match outcome {
            Ok(batch) => Ok(batch),
            Err(e) => self.withdraw(&me, e),
        };
        if result.is_ok() {
            let port = Arc::clone(self);
            let _ = RUNNING.try_with(|r| *r.0.borrow_mut() = Some(port));
        }
        result
    }

    /// Leaves the waiter list after a wait that ends without packets; packets handed to
    /// it meanwhile are returned (timeout, close) or put back at the front (routines ran).
    fn withdraw(&self, me: &Arc<PortWaiter>, e: DequeueError) -> Result<Vec<Packet>, DequeueError> {
        let mut st = self.state.lock();
        if let Some(i) = st.waiters.iter().position(|w| Arc::ptr_eq(w, me)) {
            st.waiters.remove(i);
        }
        let given = std::mem::take(&mut *me.given.lock());
        if given.is_empty() {
            return Err(e);
        }
        if e != DequeueError::IoCompletion {
            return Ok(given);
        }
        for p in given.into_iter().rev() {
            st.packets.push_front(p);
        }
        st.running = st.running.saturating_sub(1);
        self.dispatch(&mut st);
        Err(e)
    }
}

/// Where a finished operation's packet goes, if anywhere: the origin socket's port,
/// unless the record opted out (low-bit event) or skip-on-success applies.
pub(crate) fn target_of(
    origin: &crate::engine::SocketState,
    ov: &OvState,
    status: NtStatus,
    at_once: bool,
) -> Option<PortLink> {
    if ov.no_port {
        return None;
    }
    let link = origin.port.lock().clone()?;
    if at_once && status.is_success() && origin.skip_port_on_success.load(Ordering::Acquire) {
        return None;
    }
    Some(link)
}

/// Queues the packet of a finished operation.
pub(crate) fn deliver(
    link: PortLink,
    op: Arc<dyn OpDyn>,
    status: NtStatus,
    bytes: usize,
    flags: u32,
) {
    let result = match status.to_wsa() {
        None => Ok(Transfer { bytes, flags }),
        Some(e) => Err(e),
    };
    let overlapped = Some(Overlapped {
        state: Arc::clone(&op.core().ov),
    });
    let packet = Packet {
        bytes,
        key: link.key,
        result,
        status,
        overlapped,
        op: Some(op),
    };
    drop(link.port.push(packet));
}
