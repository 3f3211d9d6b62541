//! The engine driven by tokio's reactor (the `tokio` cargo feature).
//!
//! Without this, completions reach a tokio application through the engine's background
//! reaper: a thread that wakes on each batch of results, reaps them and calls the
//! futures' wakers, which then hand the tasks over to tokio's workers (a thread hop per
//! completion). With it, the engine's descriptor (the io_uring instance, or the poll
//! backend's epoll set; both are readable while results wait) is registered with the
//! reactor of a tokio runtime, and a task of that runtime reaps on readiness: the
//! wakers run on a tokio worker, which schedules the woken tasks locally, and the
//! background reaper stays asleep.
//!
//! # Registration
//! [`register`] does it explicitly; the library's futures also do it themselves the
//! first time one of them has to wait inside a tokio runtime (with its I/O driver
//! enabled), so a tokio application needs no call at all. One runtime drives the engine
//! at a time (the engine is per process): futures polled in another runtime still
//! complete, through the registered runtime's reactor, one thread hop away. When the
//! registered runtime shuts down, its task is dropped, the background reaper takes over
//! again, and the next future that waits in a runtime registers that one.
//!
//! # What stays the same
//! Nothing else changes hands: a thread blocked in one of the library's waits (an event,
//! an alertable sleep, a completion port, [`executor::block_on`](crate::executor::block_on))
//! drives the engine itself, as without tokio, and turns the background reaper's
//! notifications back on when it leaves, until the next reap by the tokio task turns
//! them off again. Completions are therefore never stranded: while no thread drives,
//! either the reaper is notified or the registered task is woken by the reactor.
//!
//! # Compatibility
//! Completions wait for the reactor: a tokio runtime polls its I/O driver when a worker
//! runs out of tasks, and otherwise every few dozen task polls (tokio's
//! `event_interval`), so a runtime whose workers are all busy delivers completions
//! later than the background reaper would. That is the same latency tokio's own
//! sockets have.

use std::io;
use std::os::fd::{AsRawFd, RawFd};

use tokio::io::Interest;
use tokio::io::unix::AsyncFd;

// Process-wide statics (loom's atomics cannot be built in a `static`), and not part of a
// modelled handoff: whoever holds the driver token reaps, whatever this flag says.
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use crate::engine::{self, Engine};

/// A tokio task is registered and driving the engine.
static ACTIVE: AtomicBool = AtomicBool::new(false);

/// Runtimes that could not be registered (no I/O driver): the futures do not try them
/// again. (A runtime id may be reused by a later runtime, which then is not registered
/// automatically either; [`register`] still works.)
static REFUSED: Mutex<Vec<tokio::runtime::Id>> = Mutex::new(Vec::new());

fn refused() -> std::sync::MutexGuard<'static, Vec<tokio::runtime::Id>> {
    REFUSED
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Results the tokio task has reaped (for tests and diagnostics).
static REAPED: AtomicU64 = AtomicU64::new(0);

/// The engine's descriptor as tokio sees it: borrowed, never closed by the reactor.
struct EngineFd(RawFd);

impl AsRawFd for EngineFd {
    fn as_raw_fd(&self) -> RawFd {
        self.0
    }
}

/// Held by the driving task: its drop (the runtime shutting down) hands reaping back to
/// the background reaper.
struct Registration {
    engine: &'static Engine,
}

impl Drop for Registration {
    fn drop(&mut self) {
        ACTIVE.store(false, Ordering::SeqCst);
        // Notifications on again, and what arrived while they were off reaped. If a
        // thread holds the driver token, it turns them on itself when it leaves.
        let _ = self.engine.reap_ready(false);
    }
}

/// Registers the engine with the reactor of the tokio runtime this is called in (see
/// the [module docs](self)). Returns `Ok(true)` if this call registered it, `Ok(false)`
/// if a runtime already drives the engine.
///
/// # Errors
/// Outside a tokio runtime, or in one built without its I/O driver (`enable_io`), or if
/// the engine cannot start (the backend's error).
pub fn register() -> io::Result<bool> {
    let handle = tokio::runtime::Handle::try_current().map_err(io::Error::other)?;
    let engine = engine::get().map_err(io::Error::other)?;
    if ACTIVE.swap(true, Ordering::SeqCst) {
        return Ok(false);
    }
    let registration = Registration { engine };
    // Registering inside the runtime's context, so that a runtime without an I/O
    // driver is reported here rather than by a task that fails later. tokio panics
    // (rather than returning an error) when the runtime has no I/O driver: the panic is
    // caught, kept quiet, and reported as an error.
    let fd = quietly(|| {
        let _enter = handle.enter();
        // SAFETY: the engine lives in a process-wide static and is never torn down,
        // so its descriptor stays open, and names the same ring, for the whole
        // lifetime of the `AsyncFd`; `EngineFd` always returns that one descriptor.
        unsafe { AsyncFd::register_with_interest(EngineFd(engine.ring_fd()), Interest::READABLE) }
            .map_err(io::Error::from)
    })
    .unwrap_or_else(|_| {
        Err(io::Error::other(
            "the tokio runtime has no I/O driver (build it with enable_io)",
        ))
    });
    let fd = match fd {
        Ok(fd) => fd,
        Err(e) => {
            refused().push(handle.id());
            drop(registration);
            return Err(e);
        }
    };
    handle.spawn(drive(fd, registration));
    Ok(true)
}

std::thread_local! {
    /// This thread is inside [`quietly`].
    static QUIET: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Runs `f`, catching a panic without the panic hook's message: the process's hook is
/// wrapped once so that it stays silent on this thread while `f` runs, and otherwise
/// does what it did before.
fn quietly<R>(f: impl FnOnce() -> R + std::panic::UnwindSafe) -> std::thread::Result<R> {
    static WRAPPED: std::sync::Once = std::sync::Once::new();
    WRAPPED.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !QUIET.with(std::cell::Cell::get) {
                previous(info);
            }
        }));
    });
    QUIET.with(|q| q.set(true));
    let r = std::panic::catch_unwind(f);
    QUIET.with(|q| q.set(false));
    r
}

/// Whether a tokio runtime drives the engine now.
pub fn is_registered() -> bool {
    ACTIVE.load(Ordering::SeqCst)
}

/// How many results tokio's reactor has reaped so far (the rest were reaped by the
/// background reaper or by threads blocked in the library's waits).
pub fn reaped() -> u64 {
    REAPED.load(Ordering::Relaxed)
}

/// Called by a future about to wait: registers the current runtime if none drives the
/// engine. Cheap when one does (one atomic load). A runtime without an I/O driver is
/// simply not registered (the background reaper serves it).
pub(crate) fn on_wait() {
    if ACTIVE.load(Ordering::Relaxed) {
        return;
    }
    if let Ok(handle) = tokio::runtime::Handle::try_current()
        && !refused().contains(&handle.id())
    {
        let _ = register();
    }
}

/// The driving task: reaps whenever the reactor reports the engine's descriptor readable.
async fn drive(fd: AsyncFd<EngineFd>, registration: Registration) {
    let engine = registration.engine;
    // Results may already wait (their readiness came before the registration).
    reap(engine);
    loop {
        let Ok(mut ready) = fd.readable().await else {
            // The reactor is gone (shutting down): the registration's drop hands over.
            return;
        };
        // Cleared before reaping: a result that arrives after this point makes the
        // descriptor ready again, so none is left behind until the next readiness.
        ready.clear_ready();
        reap(engine);
    }
}

fn reap(engine: &Engine) {
    if let Some(n) = engine.reap_ready(true) {
        REAPED.fetch_add(n as u64, Ordering::Relaxed);
    }
}
