//! A small executor for the library's futures: [`block_on`], [`spawn`] and a
//! multi-thread [`Runtime`].
//!
//! The futures themselves ([`OpFuture`](crate::OpFuture)) need no particular executor:
//! their wakers are called by whichever thread completes the operation (an application
//! thread driving the engine, or the engine's reaper thread), so they work under any
//! executor, including tokio's (see `# Compatibility`). This one exists so that a program
//! needs nothing else.
//!
//! # Design
//! - **Tasks** are `Arc`s holding the boxed future and a state machine,
//!   `IDLE → SCHEDULED → RUNNING → (IDLE | NOTIFIED → SCHEDULED | DONE)`: a wake of an
//!   `IDLE` task schedules it (pushes it on the queue) exactly once; a wake of a
//!   `RUNNING` task marks it `NOTIFIED`, and the worker, when the poll returns
//!   `Pending`, schedules it again (once, however many wakes came in); a wake of a
//!   `SCHEDULED`, `NOTIFIED` or `DONE` task does nothing. Loom checks this in
//!   `executor_loom.rs`.
//! - **Workers** share one FIFO queue under a mutex (from the crate's `sync` module). An
//!   idle worker waits the way every wait of the library does (its thread's waiter,
//!   `engine::block`): if operations are in the kernel and nobody drives the engine, it
//!   drives it, reaping completions itself, so a completion wakes its task on that
//!   worker, which runs it next without a thread hop; otherwise it parks, no spinning.
//!   A wake-up picks the waking thread itself if it is an idle worker of the runtime
//!   (the driver that just reaped the completion), else the most recently idle worker.
//!   [`Builder::threads`]`(0)` starts one worker per available core.
//! - **[`block_on`]** runs a future on the calling thread with the engine's own waiting
//!   (the thread's waiter, `engine::block`): while it waits, the thread takes the
//!   engine's driver token if nobody holds it and reaps completions itself, so a
//!   completion wakes it without a thread hop; otherwise it parks until woken.
//! - **[`spawn`]** outside a runtime uses a default runtime (one worker per core), started on
//!   first use and never shut down.
//! - A task that panics completes its [`JoinHandle`] with the panic, which awaiting the
//!   handle resumes; a detached task's panic is reported by the panic hook only.
//!
//! # Cancellation
//! Dropping a [`JoinHandle`] detaches the task. Dropping a [`Runtime`] stops its workers
//! after their current poll, then drops every unfinished task's future (pending
//! operations are cancelled by their futures' drops); awaiting the handle of such a
//! task panics.
//!
//! # Compatibility
//! The library's futures run inside a tokio runtime (current-thread or multi-thread)
//! as they are: their wakers may be called from any thread, and nothing in them needs
//! this module. With the `tokio` cargo feature, the engine is also registered with the
//! runtime's reactor the first time a future waits in it, so that completions are
//! reaped on a tokio worker instead of the engine's background reaper thread (no thread
//! hop per completion); see `overlapped::tokio_driver` (built with that feature) for how
//! and what it changes. Without the feature, completions reach a tokio application
//! through the background reaper.

//! # Examples
//! ```no_run
//! use overlapped::executor::{Runtime, block_on, spawn};
//! let rt = Runtime::builder().threads(0).build().unwrap();
//! let sum = rt.block_on(async {
//!     let handles: Vec<_> = (0..4u64).map(|i| spawn(async move { i * i })).collect();
//!     let mut sum = 0;
//!     for h in handles {
//!         sum += h.await;
//!     }
//!     sum
//! });
//! assert_eq!(sum, 14);
//! assert_eq!(block_on(async { 1 + 1 }), 2);
//! ```

use std::any::Any;
use std::cell::RefCell;
use std::collections::{HashMap, VecDeque};
use std::future::{Future, IntoFuture};
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::pin::Pin;
use std::sync::OnceLock;
use std::task::{Context, Poll, Wake, Waker};
use std::thread::ThreadId;

use crate::engine::{self, wait::Waiter};
use crate::future::Slot;
use crate::sync::{Arc, AtomicU8, Mutex, Ordering};

/// The task states (see the module docs).
pub(crate) mod state {
    /// Waiting for a wake; not on the queue.
    pub(crate) const IDLE: u8 = 0;
    /// On the queue (or about to be): will be polled.
    pub(crate) const SCHEDULED: u8 = 1;
    /// Being polled.
    pub(crate) const RUNNING: u8 = 2;
    /// Woken while being polled: the worker schedules it again.
    pub(crate) const NOTIFIED: u8 = 3;
    /// Finished (or its runtime shut down): never polled again.
    pub(crate) const DONE: u8 = 4;
}

/// A task's state machine, separate from the task so that loom can check it alone.
#[derive(Debug)]
pub(crate) struct TaskState(AtomicU8);

impl TaskState {
    /// A new task, scheduled (its spawner pushes it on the queue).
    pub(crate) fn scheduled() -> Self {
        Self(AtomicU8::new(state::SCHEDULED))
    }

    /// A wake; true if the caller must push the task on the queue.
    ///
    /// Always a read-modify-write, even when the state stays as it is (`SCHEDULED`,
    /// `NOTIFIED`, `DONE`): the worker's next transition then reads from it, so what
    /// the waker wrote before waking is visible to the poll that follows. A plain load
    /// here would let a wake that sees `SCHEDULED` race the worker's `SCHEDULED →
    /// RUNNING` and the poll miss the waker's writes (store buffering).
    pub(crate) fn wake(&self) -> bool {
        let mut cur = self.0.load(Ordering::Acquire);
        loop {
            let next = match cur {
                state::IDLE => state::SCHEDULED,
                state::RUNNING => state::NOTIFIED,
                same => same,
            };
            match self
                .0
                .compare_exchange_weak(cur, next, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => return cur == state::IDLE,
                Err(actual) => cur = actual,
            }
        }
    }

    /// A worker takes the task off the queue: `SCHEDULED → RUNNING`; false if the task
    /// must not be polled (it was shut down).
    pub(crate) fn start_poll(&self) -> bool {
        self.0
            .compare_exchange(
                state::SCHEDULED,
                state::RUNNING,
                Ordering::AcqRel,
                Ordering::Acquire,
            )
            .is_ok()
    }

    /// The poll returned `Pending`; true if the task was woken meanwhile and is now
    /// `SCHEDULED` (the caller pushes it on the queue), false if it is `IDLE`.
    pub(crate) fn end_poll_pending(&self) -> bool {
        match self.0.compare_exchange(
            state::RUNNING,
            state::IDLE,
            Ordering::AcqRel,
            Ordering::Acquire,
        ) {
            Ok(_) => false,
            Err(state::NOTIFIED) => {
                // Only the polling worker leaves NOTIFIED (wakes leave it alone).
                self.0.swap(state::SCHEDULED, Ordering::AcqRel);
                true
            }
            Err(_) => false,
        }
    }

    /// The task finished (or is shut down): no wake schedules it any more.
    pub(crate) fn finish(&self) {
        self.0.swap(state::DONE, Ordering::AcqRel);
    }

    /// The current state (for tests).
    #[cfg(all(test, loom))]
    pub(crate) fn get(&self) -> u8 {
        self.0.load(Ordering::Acquire)
    }
}

type BoxFuture = Pin<Box<dyn Future<Output = ()> + std::marker::Send>>;

/// A spawned task (see the module docs).
struct Task {
    id: u64,
    state: TaskState,
    /// The future; `None` once finished. Locked only by the worker polling the task
    /// (the state machine makes that one worker at a time) and by shutdown after the
    /// workers have stopped.
    future: Mutex<Option<BoxFuture>>,
    /// The runtime's queue.
    shared: Arc<Shared>,
}

impl Wake for Task {
    fn wake(self: Arc<Self>) {
        if self.state.wake() {
            Arc::clone(&self.shared).push(self);
        }
    }

    fn wake_by_ref(self: &Arc<Self>) {
        if self.state.wake() {
            self.shared.push(Arc::clone(self));
        }
    }
}

/// The queue of scheduled tasks.
#[derive(Default)]
struct Queue {
    tasks: VecDeque<Arc<Task>>,
    /// Idle workers' waiters, most recently idle last.
    idle: Vec<Arc<Waiter>>,
    /// The runtime is shutting down: workers exit, pushes are dropped.
    shutdown: bool,
}

/// What a runtime's workers and tasks share.
#[derive(Default)]
struct Shared {
    /// Scheduled tasks, FIFO, and the idle workers.
    queue: Mutex<Queue>,
    /// Every unfinished task, so that shutdown can drop their futures (a task waiting on
    /// an operation is otherwise owned only by that operation's waker).
    live: Mutex<HashMap<u64, Arc<Task>>>,
    /// The id of the next task.
    next_id: std::sync::atomic::AtomicU64,
}

impl Shared {
    fn push(&self, task: Arc<Task>) {
        let mut q = self.queue.lock();
        if q.shutdown {
            drop(q);
            // Its future is dropped by the shutdown; dropping this reference is enough.
            drop(task);
            return;
        }
        q.tasks.push_back(task);
        // The waking thread itself if it is one of the idle workers (it reaped the
        // completion while driving and runs the task as soon as it returns), else the
        // most recently idle worker (its cache is the warmest).
        let me = engine::wait::current();
        let own = q.idle.iter().position(|w| Arc::ptr_eq(w, &me));
        let target = match own {
            Some(i) => Some(q.idle.swap_remove(i)),
            None => q.idle.pop(),
        };
        drop(q);
        match (target, own) {
            (Some(w), Some(_)) => w.notify_local(),
            (Some(w), None) => w.notify(),
            (None, _) => {}
        }
    }

    fn spawn<F>(self: &Arc<Self>, fut: F) -> JoinHandle<F::Output>
    where
        F: Future + std::marker::Send + 'static,
        F::Output: std::marker::Send + 'static,
    {
        let slot = Arc::new(Slot::new());
        let wrapped = Spawned {
            fut: Some(Box::pin(fut)),
            slot: Arc::clone(&slot),
        };
        let id = self
            .next_id
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let task = Arc::new(Task {
            id,
            state: TaskState::scheduled(),
            future: Mutex::new(Some(Box::pin(wrapped))),
            shared: Arc::clone(self),
        });
        {
            // Lock order: live -> queue. Shutdown sets `shutdown` before it drains
            // `live`, so a task is either registered before the drain or never.
            let mut live = self.live.lock();
            if !self.queue.lock().shutdown {
                live.insert(id, Arc::clone(&task));
            }
        }
        self.push(task);
        JoinHandle { slot }
    }

    /// A worker's loop: run tasks until shutdown. Idle, it waits through the engine
    /// (see the module docs), following the waiter protocol: forget old notifications,
    /// look at the queue (and register as idle) under its lock, then block; a push
    /// between the look and the block makes the block return at once.
    fn work(self: &Arc<Self>) {
        let _context = enter(Arc::clone(self));
        let me = engine::wait::current();
        loop {
            me.prepare();
            let task = {
                let mut q = self.queue.lock();
                if q.shutdown {
                    return;
                }
                let task = q.tasks.pop_front();
                if task.is_none() && !q.idle.iter().any(|w| Arc::ptr_eq(w, &me)) {
                    q.idle.push(Arc::clone(&me));
                }
                task
            };
            match task {
                Some(task) => run(task),
                None => {
                    engine::block(&me, None);
                    let mut q = self.queue.lock();
                    if let Some(i) = q.idle.iter().position(|w| Arc::ptr_eq(w, &me)) {
                        q.idle.swap_remove(i);
                    }
                }
            }
        }
    }

    /// Stops the queue and drops every unfinished task's future.
    fn shut_down(&self) {
        let (queued, idle) = {
            let mut q = self.queue.lock();
            q.shutdown = true;
            (std::mem::take(&mut q.tasks), std::mem::take(&mut q.idle))
        };
        for w in idle {
            w.notify();
        }
        drop(queued);
        let live: Vec<Arc<Task>> = self.live.lock().drain().map(|(_, t)| t).collect();
        for task in live {
            task.state.finish();
            // Dropped outside the lock: a future's drop may cancel operations, whose
            // callbacks may wake (and so push) other tasks.
            let fut = task.future.lock().take();
            drop(fut);
        }
    }
}

/// Polls `task` once, on a worker.
fn run(task: Arc<Task>) {
    if !task.state.start_poll() {
        return;
    }
    let waker = Waker::from(Arc::clone(&task));
    let mut cx = Context::from_waker(&waker);
    let mut slot = task.future.lock();
    let Some(fut) = slot.as_mut() else {
        task.state.finish();
        return;
    };
    // `Spawned` catches the user future's panics; this one catches nothing else.
    match fut.as_mut().poll(&mut cx) {
        Poll::Pending => {
            drop(slot);
            if task.state.end_poll_pending() {
                let shared = Arc::clone(&task.shared);
                shared.push(task);
            }
        }
        Poll::Ready(()) => {
            task.state.finish();
            let done = slot.take();
            drop(slot);
            drop(done);
            task.shared.live.lock().remove(&task.id);
        }
    }
}

/// A spawned future with the handoff to its [`JoinHandle`].
struct Spawned<F: Future> {
    /// `None` once it completed.
    fut: Option<Pin<Box<F>>>,
    slot: Arc<Slot<std::thread::Result<F::Output>>>,
}

impl<F: Future> Future for Spawned<F> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        let Some(fut) = this.fut.as_mut() else {
            return Poll::Ready(());
        };
        let out = match catch_unwind(AssertUnwindSafe(|| fut.as_mut().poll(cx))) {
            Ok(Poll::Pending) => return Poll::Pending,
            Ok(Poll::Ready(v)) => Ok(v),
            Err(panic) => Err(panic),
        };
        this.fut = None;
        this.slot.complete(out);
        Poll::Ready(())
    }
}

impl<F: Future> Drop for Spawned<F> {
    fn drop(&mut self) {
        if let Some(fut) = self.fut.take() {
            // Dropped unfinished (its runtime shut down): tell the handle.
            drop(fut);
            let why: Box<dyn Any + std::marker::Send> =
                Box::new("the task was dropped unfinished: its runtime shut down");
            self.slot.complete(Err(why));
        }
    }
}

/// The handle of a spawned task: a future that resolves to the task's output.
///
/// # Cancellation
/// Dropping the handle detaches the task, which runs on.
///
/// # Panics
/// Awaiting it resumes the task's panic, if the task panicked, or panics if the task
/// was dropped unfinished because its runtime shut down.
#[must_use = "dropping a JoinHandle detaches the task"]
pub struct JoinHandle<T> {
    slot: Arc<Slot<std::thread::Result<T>>>,
}

impl<T> std::fmt::Debug for JoinHandle<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JoinHandle")
            .field("finished", &self.slot.is_done())
            .finish()
    }
}

impl<T> JoinHandle<T> {
    /// Whether the task has finished (awaiting the handle would not wait).
    pub fn is_finished(&self) -> bool {
        self.slot.is_done()
    }
}

impl<T> Future for JoinHandle<T> {
    type Output = T;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        match self.slot.poll(cx) {
            Poll::Ready(Ok(v)) => Poll::Ready(v),
            Poll::Ready(Err(panic)) => resume_unwind(panic),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<T> Drop for JoinHandle<T> {
    fn drop(&mut self) {
        self.slot.abandon();
    }
}

std::thread_local! {
    /// The runtime whose tasks [`spawn`] adds to on this thread.
    static CONTEXT: RefCell<Option<Arc<Shared>>> = const { RefCell::new(None) };
}

/// Restores the previous [`CONTEXT`] when dropped.
struct ContextGuard(Option<Arc<Shared>>);

fn enter(shared: Arc<Shared>) -> ContextGuard {
    ContextGuard(CONTEXT.with(|c| c.borrow_mut().replace(shared)))
}

impl Drop for ContextGuard {
    fn drop(&mut self) {
        let previous = self.0.take();
        let _ = CONTEXT.try_with(|c| *c.borrow_mut() = previous);
    }
}

/// The waker of [`block_on`]: notifies the blocked thread's waiter.
struct BlockOnWaker(Arc<Waiter>);

impl Wake for BlockOnWaker {
    fn wake(self: Arc<Self>) {
        self.0.notify();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.0.notify();
    }
}

/// Runs `fut` (a future, or an operation builder) to completion on the calling thread
/// and returns its output.
///
/// While the future is pending the thread waits the way the library's own waits do:
/// it reaps completions itself when nobody else drives the engine (no thread hop),
/// else it sleeps until woken. [`spawn`] inside it adds to the current runtime, or to
/// the default runtime.
///
/// # Examples
/// ```
/// assert_eq!(overlapped::executor::block_on(async { 40 + 2 }), 42);
/// ```
pub fn block_on<F: IntoFuture>(fut: F) -> F::Output {
    let mut fut = std::pin::pin!(fut.into_future());
    let waiter = Waiter::new();
    let waker = Waker::from(Arc::new(BlockOnWaker(Arc::clone(&waiter))));
    let mut cx = Context::from_waker(&waker);
    loop {
        // The waiter protocol: forget old notifications, check (poll), then block; a
        // wake between the poll and the block makes the block return at once.
        waiter.prepare();
        if let Poll::Ready(v) = fut.as_mut().poll(&mut cx) {
            return v;
        }
        engine::block(&waiter, None);
    }
}

/// A future that is pending once, waking itself: awaiting it lets the executor run
/// other tasks before this one goes on (a long-running task's courtesy). Works under
/// any executor.
///
/// # Examples
/// ```
/// overlapped::executor::block_on(async {
///     overlapped::executor::yield_now().await;
/// });
/// ```
pub fn yield_now() -> YieldNow {
    YieldNow { yielded: false }
}

/// The future of [`yield_now`].
#[derive(Debug)]
#[must_use = "futures do nothing unless awaited"]
pub struct YieldNow {
    yielded: bool,
}

impl Future for YieldNow {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        if this.yielded {
            return Poll::Ready(());
        }
        this.yielded = true;
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

/// Spawns `fut` (a future, or an operation builder, posted now) on the current runtime (the one whose worker or
/// [`Runtime::block_on`] runs this code), or else on the default runtime, started on
/// first use with one worker per core.
///
/// # Panics
/// If the default runtime is needed and its threads cannot be started.
pub fn spawn<F>(fut: F) -> JoinHandle<F::Output>
where
    F: IntoFuture,
    F::IntoFuture: std::marker::Send + 'static,
    F::Output: std::marker::Send + 'static,
{
    let current = CONTEXT.with(|c| c.borrow().clone());
    match current {
        Some(shared) => shared.spawn(fut.into_future()),
        None => default_runtime().spawn(fut),
    }
}

fn default_runtime() -> &'static Runtime {
    static DEFAULT: OnceLock<Runtime> = OnceLock::new();
    DEFAULT.get_or_init(|| {
        Runtime::builder()
            .thread_name("ovl-default-worker")
            .build()
            .expect("the default runtime's threads cannot be started")
    })
}

/// Configures a [`Runtime`].
#[derive(Debug, Clone)]
pub struct Builder {
    threads: usize,
    name: String,
}

impl Builder {
    /// Worker threads; `0` (the default) means one per available core.
    pub fn threads(mut self, threads: usize) -> Self {
        self.threads = threads;
        self
    }

    /// The workers' thread name; default `"ovl-worker"`.
    pub fn thread_name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// Starts the workers.
    ///
    /// # Errors
    /// When a thread cannot be started (the ones already started are stopped).
    pub fn build(self) -> std::io::Result<Runtime> {
        let threads = match self.threads {
            0 => std::thread::available_parallelism().map_or(1, std::num::NonZero::get),
            n => n,
        };
        let mut rt = Runtime {
            shared: Arc::new(Shared::default()),
            workers: Vec::with_capacity(threads),
        };
        for i in 0..threads {
            let shared = Arc::clone(&rt.shared);
            let worker = std::thread::Builder::new()
                .name(format!("{}-{i}", self.name))
                .spawn(move || shared.work())?;
            rt.workers.push(worker);
        }
        Ok(rt)
    }
}

/// A pool of worker threads running spawned tasks (see the module docs).
///
/// # Cancellation
/// Dropping it stops the workers after their current poll and drops every unfinished
/// task's future; see the module docs.
pub struct Runtime {
    shared: Arc<Shared>,
    workers: Vec<std::thread::JoinHandle<()>>,
}

impl std::fmt::Debug for Runtime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runtime")
            .field("threads", &self.workers.len())
            .finish_non_exhaustive()
    }
}

impl Runtime {
    /// A runtime with `threads` workers (`0`: one per available core).
    ///
    /// # Errors
    /// When a thread cannot be started.
    pub fn new(threads: usize) -> std::io::Result<Self> {
        Self::builder().threads(threads).build()
    }

    /// A [`Builder`] with the defaults: one worker per core, named `"ovl-worker-N"`.
    pub fn builder() -> Builder {
        Builder {
            threads: 0,
            name: "ovl-worker".to_owned(),
        }
    }

    /// The number of worker threads.
    pub fn threads(&self) -> usize {
        self.workers.len()
    }

    /// Spawns `fut` on this runtime's workers.
    pub fn spawn<F>(&self, fut: F) -> JoinHandle<F::Output>
    where
        F: IntoFuture,
        F::IntoFuture: std::marker::Send + 'static,
        F::Output: std::marker::Send + 'static,
    {
        self.shared.spawn(fut.into_future())
    }

    /// Runs `fut` on the calling thread, as [`block_on`], with [`spawn`] adding to
    /// this runtime.
    pub fn block_on<F: IntoFuture>(&self, fut: F) -> F::Output {
        let _context = enter(Arc::clone(&self.shared));
        block_on(fut)
    }

    /// A cloneable [`Handle`] that spawns on this runtime from any thread.
    pub fn handle(&self) -> Handle {
        Handle {
            shared: Arc::clone(&self.shared),
        }
    }
}

/// A handle to a [`Runtime`]: cloneable and `Send`, it spawns on the runtime from any
/// thread without owning it.
///
/// # Panics
/// A task spawned through a handle after its runtime was dropped never runs: awaiting
/// its [`JoinHandle`] panics ("its runtime shut down").
#[derive(Clone)]
pub struct Handle {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for Handle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Handle").finish_non_exhaustive()
    }
}

impl Handle {
    /// The runtime whose worker (or [`Runtime::block_on`]) runs the calling code, if
    /// any.
    pub fn try_current() -> Option<Handle> {
        CONTEXT
            .try_with(|c| c.borrow().clone())
            .ok()
            .flatten()
            .map(|shared| Handle { shared })
    }

    /// Spawns `fut` on the runtime, as [`Runtime::spawn`].
    pub fn spawn<F>(&self, fut: F) -> JoinHandle<F::Output>
    where
        F: IntoFuture,
        F::IntoFuture: std::marker::Send + 'static,
        F::Output: std::marker::Send + 'static,
    {
        self.shared.spawn(fut.into_future())
    }

    /// Runs `fut` on the calling thread, as [`Runtime::block_on`].
    pub fn block_on<F: IntoFuture>(&self, fut: F) -> F::Output {
        let _context = enter(Arc::clone(&self.shared));
        block_on(fut)
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        self.shared.shut_down();
        let me: ThreadId = std::thread::current().id();
        for w in self.workers.drain(..) {
            // A runtime dropped by one of its own tasks cannot join that worker.
            if w.thread().id() != me {
                let _ = w.join();
            }
        }
        // Tasks that a worker was polling during the first pass are finished now.
        self.shared.shut_down();
    }
}

const _: () = {
    const fn assert_send_sync<T: std::marker::Send + Sync>() {}
    assert_send_sync::<Runtime>();
    assert_send_sync::<Handle>();
    assert_send_sync::<JoinHandle<u32>>();
};
