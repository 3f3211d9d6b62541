//! Completion routines and alertable waits: the APC queue of `SleepEx`,
//! `WSAWaitForMultipleEvents(fAlertable = TRUE)` and `WAIT_IO_COMPLETION`.
//!
//! Each thread has one routine queue. A completion whose operation named a routine is
//! pushed onto the queue of the thread that **issued** it, from whichever thread reaped
//! it; the routine runs only when its own thread enters an alertable wait
//! ([`sleep_alertable`], or an event wait with `alertable = true`), in FIFO order, and the
//! wait then reports [`WaitOutcome::IoCompletion`](crate::WaitOutcome::IoCompletion).
//! Non-alertable waits never run routines.
//!
//! The routine closures themselves never leave their thread: they are kept in a
//! thread-local table, and the queue carries only a token, so routines need not be
//! `Send` (an `Rc<RefCell<_>>` server state works). For one socket, routines never nest:
//! an alertable wait inside a routine skips that socket's routines until it returns.
//! When a thread exits, its pending operations are cancelled (unless their socket is
//! associated with a completion port; see `engine`'s "Thread exit"), and its queued
//! routines are dropped unrun (as Windows drops the APCs of an exited thread); their
//! buffers are freed, never leaked.
//!
//! The same queue carries user APCs (`QueueUserAPC`): an [`ApcTarget`] names a thread's
//! queue from any thread; its functions run, in FIFO order with the completion routines,
//! in that thread's next alertable wait, which then reports `WAIT_IO_COMPLETION`. They
//! belong to no socket, so they may nest (an alertable wait inside a user APC runs the
//! next one), as on Windows.

use std::any::Any;
use std::cell::{Cell, RefCell};
use std::collections::{HashMap, VecDeque};
use std::time::Duration;

use crate::engine::wait::{self, Waiter};
use crate::event::{WaitOutcome, wait_impl};
use crate::sync::{Arc, AtomicBool, Mutex, Ordering};

/// The `socket` of a user APC: it belongs to no socket, and never waits for another.
const NO_SOCKET: u64 = u64::MAX;

/// A queued completion routine: which socket it belongs to, and what runs it.
pub(crate) struct Apc {
    pub(crate) socket: u64,
    pub(crate) run: Box<dyn FnOnce() + Send>,
}

/// One thread's routine queue; shared with the threads that complete its I/O.
pub(crate) struct ApcQueue {
    /// The queued routines, oldest first.
    queue: Mutex<VecDeque<Apc>>,
    /// The owner is inside an alertable wait (a push must wake it).
    alertable: AtomicBool,
    /// The owner has exited: pushes are dropped.
    dead: AtomicBool,
    waiter: Arc<Waiter>,
    /// Wakes the owner out of an alertable blocking call (see [`poll_blocking`]).
    kick: Kick,
}

/// How a push wakes the owner while it is blocked in the kernel in a synchronous socket
/// call that waits alertably ([`poll_blocking`]): an eventfd in that call's poll set.
///
/// The handoff: the owner sets `polling`, then looks at the queue (under its lock), then
/// polls; a pusher pushes (under the lock), then reads `polling` and, if set, makes the
/// eventfd readable. Either the owner's look comes after the push (it finds the APC) or
/// its store of `polling` happens before the pusher's read, through the queue's lock (the
/// pusher signals, and the eventfd stays readable until the owner drains it). Model:
/// `loom_apc_wakes_a_blocking_poll`.
#[derive(Debug, Default)]
struct Kick {
    /// The owner is inside an alertable blocking poll.
    polling: AtomicBool,
    /// The eventfd, made by the owner before it first sets `polling`.
    #[cfg(not(loom))]
    fd: std::sync::OnceLock<std::os::fd::OwnedFd>,
    /// The model of the eventfd's readability.
    #[cfg(loom)]
    readable: AtomicBool,
}

impl Kick {
    /// Called by pushers after the push.
    fn after_push(&self) {
        if self.polling.load(Ordering::SeqCst) {
            self.signal();
        }
    }

    #[cfg(not(loom))]
    fn signal(&self) {
        use std::os::fd::AsRawFd;
        if let Some(fd) = self.fd.get() {
            let one: u64 = 1;
            // SAFETY: writes 8 bytes from a live u64 to an eventfd this queue owns.
            let _ = unsafe { libc::write(fd.as_raw_fd(), (&raw const one).cast(), 8) };
        }
    }

    #[cfg(loom)]
    fn signal(&self) {
        self.readable.store(true, Ordering::SeqCst);
    }

    /// The owner's eventfd (made on first use); `None` if the kernel refuses one.
    #[cfg(not(loom))]
    fn fd(&self) -> Option<std::os::fd::RawFd> {
        use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
        if let Some(fd) = self.fd.get() {
            return Some(fd.as_raw_fd());
        }
        // SAFETY: plain eventfd(2) call; the result is checked before use.
        let raw = unsafe { libc::eventfd(0, libc::EFD_CLOEXEC | libc::EFD_NONBLOCK) };
        if raw < 0 {
            return None;
        }
        // SAFETY: `raw` is a new descriptor that nothing else owns.
        let owned = unsafe { OwnedFd::from_raw_fd(raw) };
        Some(self.fd.get_or_init(|| owned).as_raw_fd())
    }

    /// Makes the eventfd unreadable again (the owner, before it looks at the queue).
    #[cfg(not(loom))]
    fn drain(&self) {
        use std::os::fd::AsRawFd;
        if let Some(fd) = self.fd.get() {
            let mut v: u64 = 0;
            // SAFETY: reads 8 bytes into a live u64 from a non-blocking eventfd.
            let _ = unsafe { libc::read(fd.as_raw_fd(), (&raw mut v).cast(), 8) };
        }
    }
}

impl std::fmt::Debug for ApcQueue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApcQueue")
            .field("len", &self.queue.lock().len())
            .finish()
    }
}

impl ApcQueue {
    /// Queues a routine for the owning thread and wakes it if it waits alertably.
    pub(crate) fn push(&self, apc: Apc) {
        {
            let mut q = self.queue.lock();
            if self.dead.load(Ordering::Acquire) {
                drop(q);
                drop(apc);
                return;
            }
            q.push_back(apc);
        }
        if self.alertable.load(Ordering::SeqCst) {
            self.waiter.notify();
        }
        self.kick.after_push();
    }

    /// Queues a user APC; `false` (and `f` is dropped unrun) when the owner has exited.
    fn push_user(&self, f: Box<dyn FnOnce() + Send>) -> bool {
        {
            let mut q = self.queue.lock();
            if self.dead.load(Ordering::Acquire) {
                drop(q);
                drop(f);
                return false;
            }
            q.push_back(Apc {
                socket: NO_SOCKET,
                run: f,
            });
        }
        if self.alertable.load(Ordering::SeqCst) {
            self.waiter.notify();
        }
        self.kick.after_push();
        true
    }

    fn has_pending(&self) -> bool {
        !self.queue.lock().is_empty()
    }
}

struct ThreadCtx {
    apc: Arc<ApcQueue>,
    /// Routine closures of this thread's pending operations, by token.
    routines: RefCell<HashMap<u64, Box<dyn Any>>>,
    next_token: Cell<u64>,
    /// Sockets whose routine is running on this thread (no nesting per socket).
    running: RefCell<Vec<u64>>,
}

impl Drop for ThreadCtx {
    fn drop(&mut self) {
        self.apc.dead.store(true, Ordering::Release);
        let queued: Vec<Apc> = self.apc.queue.lock().drain(..).collect();
        drop(queued);
        let routines = std::mem::take(&mut *self.routines.borrow_mut());
        drop(routines);
    }
}

#[cfg(not(loom))]
std::thread_local! {
    static CTX: ThreadCtx = ThreadCtx {
        apc: Arc::new(ApcQueue {
            queue: Mutex::new(VecDeque::new()),
            alertable: AtomicBool::new(false),
            dead: AtomicBool::new(false),
            waiter: wait::current(),
            kick: Kick::default(),
        }),
        routines: RefCell::new(HashMap::new()),
        next_token: Cell::new(1),
        running: RefCell::new(Vec::new()),
    };
}

#[cfg(loom)]
loom::thread_local! {
    static CTX: ThreadCtx = ThreadCtx {
        apc: Arc::new(ApcQueue {
            queue: Mutex::new(VecDeque::new()),
            alertable: AtomicBool::new(false),
            dead: AtomicBool::new(false),
            waiter: wait::current(),
            kick: Kick::default(),
        }),
        routines: RefCell::new(HashMap::new()),
        next_token: Cell::new(1),
        running: RefCell::new(Vec::new()),
    };
}

/// The calling thread's routine queue.
pub(crate) fn current_queue() -> Arc<ApcQueue> {
    CTX.with(|c| Arc::clone(&c.apc))
}

/// Keeps a routine closure on this thread until its completion runs it.
pub(crate) fn store_routine(f: Box<dyn Any>) -> u64 {
    CTX.with(|c| {
        let token = c.next_token.get();
        c.next_token.set(token + 1);
        c.routines.borrow_mut().insert(token, f);
        token
    })
}

/// Takes back a stored routine (to run it, or because its operation failed at once).
pub(crate) fn take_routine(token: u64) -> Option<Box<dyn Any>> {
    CTX.try_with(|c| c.routines.borrow_mut().remove(&token))
        .ok()
        .flatten()
}

/// Marks the calling thread alertable for the scope's lifetime.
pub(crate) struct AlertableScope {
    queue: Arc<ApcQueue>,
    was: bool,
}

impl AlertableScope {
    pub(crate) fn enter() -> Self {
        let queue = current_queue();
        let was = queue.alertable.swap(true, Ordering::SeqCst);
        Self { queue, was }
    }
}

impl Drop for AlertableScope {
    fn drop(&mut self) {
        self.queue.alertable.store(self.was, Ordering::SeqCst);
    }
}

/// Runs this thread's queued routines, oldest first (skipping sockets whose routine is
/// already running further up the stack). Returns whether any ran.
pub(crate) fn run_pending() -> bool {
    let Ok(queue) = CTX.try_with(|c| Arc::clone(&c.apc)) else {
        return false;
    };
    if !queue.has_pending() {
        return false;
    }
    let mut ran = false;
    loop {
        let next = {
            let running = CTX.with(|c| c.running.borrow().clone());
            let mut q = queue.queue.lock();
            let pos = q
                .iter()
                .position(|a| a.socket == NO_SOCKET || !running.contains(&a.socket));
            pos.and_then(|i| q.remove(i))
        };
        let Some(apc) = next else { break };
        if apc.socket == NO_SOCKET {
            (apc.run)();
            ran = true;
            continue;
        }
        CTX.with(|c| c.running.borrow_mut().push(apc.socket));
        (apc.run)();
        CTX.with(|c| {
            let mut r = c.running.borrow_mut();
            if let Some(i) = r.iter().rposition(|s| *s == apc.socket) {
                r.remove(i);
            }
        });
        ran = true;
    }
    ran
}

/// A thread's APC queue, as any thread may name it: the target of `QueueUserAPC`.
///
/// Obtained on the thread itself with [`ApcTarget::current`], then sent anywhere. A
/// function queued with [`ApcTarget::queue`] runs on that thread, in its next alertable
/// wait ([`sleep_alertable`], an event wait or a port dequeue with `alertable = true`), in
/// FIFO order with its completion routines; the wait then reports
/// [`WaitOutcome::IoCompletion`](crate::WaitOutcome::IoCompletion) (`WAIT_IO_COMPLETION`).
/// A thread that never waits alertably never runs them.
///
/// # Examples
/// ```
/// use overlapped::{ApcTarget, SleepOutcome, sleep_alertable};
/// use std::sync::atomic::{AtomicU32, Ordering};
/// use std::sync::Arc;
///
/// let n = Arc::new(AtomicU32::new(0));
/// let n2 = Arc::clone(&n);
/// assert!(ApcTarget::current().queue(move || { n2.fetch_add(1, Ordering::SeqCst); }));
/// assert_eq!(n.load(Ordering::SeqCst), 0); // not before an alertable wait
/// assert_eq!(sleep_alertable(None), SleepOutcome::IoCompletion);
/// assert_eq!(n.load(Ordering::SeqCst), 1);
/// ```
///
/// # Compatibility
/// When the thread exits, its queued functions are dropped unrun (as Windows drops the
/// APCs of an exited thread), and later [`queue`](ApcTarget::queue) calls fail.
#[derive(Clone)]
pub struct ApcTarget {
    /// The owner's queue (shared with its completions).
    queue: Arc<ApcQueue>,
}

impl std::fmt::Debug for ApcTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApcTarget")
            .field("alive", &self.is_alive())
            .finish()
    }
}

// An `ApcTarget` is handed to other threads (QueueUserAPC from anywhere).
const _: fn() = || {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<ApcTarget>();
};

impl ApcTarget {
    /// The calling thread's queue.
    pub fn current() -> Self {
        Self {
            queue: current_queue(),
        }
    }

    /// Queues `f` to run on the target thread in its next alertable wait (waking it if
    /// it is in one now). Returns `false`, dropping `f` unrun, when the thread has exited.
    pub fn queue(&self, f: impl FnOnce() + Send + 'static) -> bool {
        self.queue.push_user(Box::new(f))
    }

    /// Whether the target thread is still running (its queue accepts functions).
    pub fn is_alive(&self) -> bool {
        !self.queue.dead.load(Ordering::Acquire)
    }

    /// Whether `self` and `other` name the same thread.
    pub fn same_thread(&self, other: &ApcTarget) -> bool {
        Arc::ptr_eq(&self.queue, &other.queue)
    }
}

/// How an alertable sleep ended (`SleepEx`'s 0 or `WAIT_IO_COMPLETION`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SleepOutcome {
    /// The time passed and no routine ran.
    Timeout,
    /// One or more completion routines ran (`WAIT_IO_COMPLETION`).
    IoCompletion,
}

/// Sleeps alertably (`SleepEx(ms, TRUE)`): returns as soon as completion routines queued
/// to this thread have run, or after `timeout` (`None` = forever, `Some(ZERO)` runs what
/// is queued and returns).
pub fn sleep_alertable(timeout: Option<Duration>) -> SleepOutcome {
    match wait_impl(&[], timeout, true, false) {
        Ok(WaitOutcome::IoCompletion) => SleepOutcome::IoCompletion,
        _ => SleepOutcome::Timeout,
    }
}

/// Sleeps without running routines (`Sleep` / `SleepEx(ms, FALSE)`), while still
/// driving completions for other threads if this thread is the one reaping.
pub fn sleep(timeout: Duration) {
    let _ = wait_impl(&[], Some(timeout), false, false);
}

#[cfg(not(loom))]
std::thread_local! {
    /// The calling thread's blocking socket calls wait alertably ([`AlertableBlocking`]).
    static BLOCKING_ALERTABLE: Cell<bool> = const { Cell::new(false) };
}

/// While it lives, the calling thread's synchronous socket calls that block (a blocking
/// `recv`, `send`, `accept`, `connect`, and [`poll`](crate::poll)) wait **alertably**, as
/// Winsock's blocking calls do: completion routines and user APCs ([`ApcTarget`]) queued
/// to the thread run while the call waits (one queued from another thread wakes it to
/// run), and the call then goes on waiting for what it waits for, until its own timeout.
/// A call that finds its socket ready at once runs nothing. Without it (the default),
/// blocking calls never run routines.
///
/// # Examples
/// ```
/// use overlapped::AlertableBlocking;
/// let _alertable = AlertableBlocking::enter();
/// // blocking socket calls on this thread now run its queued APCs while they wait
/// ```
#[derive(Debug)]
pub struct AlertableBlocking {
    #[cfg_attr(loom, allow(dead_code))]
    was: bool,
    /// Restores a thread-local: stays on its thread.
    _not_send: std::marker::PhantomData<*const ()>,
}

#[cfg(not(loom))]
impl AlertableBlocking {
    /// Makes the calling thread's blocking calls alertable until the guard drops (the
    /// previous setting comes back then; guards nest).
    pub fn enter() -> Self {
        Self {
            was: BLOCKING_ALERTABLE.with(|b| b.replace(true)),
            _not_send: std::marker::PhantomData,
        }
    }
}

#[cfg(not(loom))]
impl Drop for AlertableBlocking {
    fn drop(&mut self) {
        let was = self.was;
        let _ = BLOCKING_ALERTABLE.try_with(|b| b.set(was));
    }
}

/// Marks the owner as polling for the scope's lifetime (nested polls restore it).
#[cfg(any(not(loom), test))]
struct PollingScope<'a> {
    kick: &'a Kick,
    was: bool,
}

#[cfg(any(not(loom), test))]
impl<'a> PollingScope<'a> {
    fn enter(kick: &'a Kick) -> Self {
        let was = kick.polling.swap(true, Ordering::SeqCst);
        Self { kick, was }
    }
}

#[cfg(any(not(loom), test))]
impl Drop for PollingScope<'_> {
    fn drop(&mut self) {
        self.kick.polling.store(self.was, Ordering::SeqCst);
    }
}

/// `poll(2)` on `fds` for a synchronous call: retries on `EINTR` until `timeout` (`None`
/// = forever) and returns how many are ready (0: the time passed). On a thread inside
/// [`AlertableBlocking`], once nothing is ready at once, it runs the thread's queued
/// routines and APCs while it waits (woken by one queued from another thread) and goes
/// on waiting until `timeout`.
#[cfg(not(loom))]
pub(crate) fn poll_blocking(
    fds: &mut [libc::pollfd],
    timeout: Option<Duration>,
) -> std::io::Result<usize> {
    use std::time::Instant;
    let deadline = timeout.map(|t| Instant::now() + t);
    // Milliseconds left, rounded up (a wait shorter than 1 ms still waits).
    let left = || -> i32 {
        deadline.map_or(-1, |d| {
            let rest = d.saturating_duration_since(Instant::now());
            let ms = rest.as_micros().div_ceil(1000);
            i32::try_from(ms).unwrap_or(i32::MAX)
        })
    };
    let nfds = |n: usize| {
        libc::nfds_t::try_from(n).map_err(|_| std::io::Error::from_raw_os_error(libc::EINVAL))
    };
    let sys_poll = |fds: &mut [libc::pollfd], ms: i32| -> std::io::Result<Option<usize>> {
        // SAFETY: `fds` is a live, writable array of `fds.len()` pollfd records.
        let r = unsafe { libc::poll(fds.as_mut_ptr(), nfds(fds.len())?, ms) };
        if r >= 0 {
            return Ok(Some(r.unsigned_abs() as usize));
        }
        let e = std::io::Error::last_os_error();
        if e.kind() == std::io::ErrorKind::Interrupted {
            Ok(None)
        } else {
            Err(e)
        }
    };
    let alertable = BLOCKING_ALERTABLE.with(Cell::get);
    let queue = if alertable {
        CTX.try_with(|c| Arc::clone(&c.apc)).ok()
    } else {
        None
    };
    let kick_fd = queue.as_ref().and_then(|q| q.kick.fd());
    let (Some(queue), Some(kick_fd)) = (queue, kick_fd) else {
        loop {
            if let Some(n) = sys_poll(fds, left())? {
                return Ok(n);
            }
        }
    };
    // Ready at once, or not to wait: the call does not wait, and runs nothing.
    if let Some(n) = sys_poll(fds, 0)?
        && (n > 0 || timeout == Some(Duration::ZERO))
    {
        return Ok(n);
    }
    let mut all: Vec<libc::pollfd> = fds.to_vec();
    all.push(libc::pollfd {
        fd: kick_fd,
        events: libc::POLLIN,
        revents: 0,
    });
    let _polling = PollingScope::enter(&queue.kick);
    loop {
        queue.kick.drain();
        run_pending();
        let ms = left();
        let Some(n) = sys_poll(&mut all, ms)? else {
            continue;
        };
        let kicked = all.last().is_some_and(|k| k.revents != 0);
        let n = n - usize::from(kicked);
        if n > 0 || (ms == 0 && !kicked) {
            for (f, a) in fds.iter_mut().zip(&all) {
                f.revents = a.revents;
            }
            return Ok(n);
        }
        if ms == 0 {
            // The time passed while routines were queued: run them, then report it.
            queue.kick.drain();
            run_pending();
            for f in fds.iter_mut() {
                f.revents = 0;
            }
            return Ok(0);
        }
    }
}

/// The loom build's [`poll_blocking`]: models never block in the kernel.
#[cfg(loom)]
pub(crate) fn poll_blocking(
    fds: &mut [libc::pollfd],
    timeout: Option<Duration>,
) -> std::io::Result<usize> {
    let ms = timeout.map_or(-1, |d| i32::try_from(d.as_millis()).unwrap_or(i32::MAX));
    let nfds = libc::nfds_t::try_from(fds.len())
        .map_err(|_| std::io::Error::from_raw_os_error(libc::EINVAL))?;
    // SAFETY: `fds` is a live, writable array of `nfds` pollfd records.
    let r = unsafe { libc::poll(fds.as_mut_ptr(), nfds, ms) };
    if r < 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(r.unsigned_abs() as usize)
}

/// The loom model of [`poll_blocking`]'s alertable wait, over the real [`Kick`] protocol
/// with the eventfd modelled by `Kick::readable`: arms the kick, drains it, runs what is
/// queued, and otherwise "blocks" until the kick is readable. Whether an APC ran.
#[cfg(all(loom, test))]
pub(crate) fn model_alertable_block() -> bool {
    let queue = current_queue();
    let _polling = PollingScope::enter(&queue.kick);
    loop {
        queue.kick.readable.store(false, Ordering::SeqCst);
        if run_pending() {
            return true;
        }
        while !queue.kick.readable.load(Ordering::SeqCst) {
            loom::thread::yield_now();
        }
    }
}
