//! Timers for futures: [`sleep`], [`sleep_until`] and [`timeout`].
//!
//! They work under any executor (the built-in one, tokio, or a hand-written
//! `block_on`): a pending timer registers its waker with one background thread,
//! `ovl-timer`, started on first use, which wakes it at its deadline. Timers are not
//! I/O, so they do not go through the engine; an operation's future under a
//! [`timeout`] is an ordinary operation, and when the time runs out it is dropped, which
//! cancels it safely (its buffer stays owned until the kernel is done with it).
//!
//! # Examples
//! ```
//! use std::time::Duration;
//! use overlapped::{executor, time};
//!
//! executor::block_on(async {
//!     time::sleep(Duration::from_millis(1)).await;
//!     let never = std::future::pending::<()>();
//!     assert!(time::timeout(Duration::from_millis(1), never).await.is_err());
//! });
//! ```

use std::collections::BTreeMap;
use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use crate::sync::{Condvar, Mutex};

/// The timer table: deadlines in order, each with the waker of its future.
struct Timers {
    state: Mutex<TimerState>,
    /// Signalled when the earliest deadline moves earlier (or the first timer arrives).
    changed: Condvar,
}

struct TimerState {
    /// (deadline, id) -> the waker to wake at the deadline.
    pending: BTreeMap<(Instant, u64), Waker>,
    next_id: u64,
    /// Whether `ovl-timer` runs.
    started: bool,
}

fn timers() -> &'static Timers {
    static TIMERS: std::sync::OnceLock<Timers> = std::sync::OnceLock::new();
    TIMERS.get_or_init(|| Timers {
        state: Mutex::new(TimerState {
            pending: BTreeMap::new(),
            next_id: 1,
            started: false,
        }),
        changed: Condvar::default(),
    })
}

/// The timer thread: wakes every future whose deadline has passed, then sleeps until
/// the next deadline (or until an earlier one is registered).
fn run_timers(t: &'static Timers) {
    let mut state = t.state.lock();
    loop {
        let now = Instant::now();
        let mut due = Vec::new();
        while let Some(entry) = state.pending.first_entry() {
            if entry.key().0 > now {
                break;
            }
            due.push(entry.remove());
        }
        if !due.is_empty() {
            drop(state);
            // Outside the lock: a waker may poll or register at once.
            for w in due {
                w.wake();
            }
            state = t.state.lock();
            continue;
        }
        state = match state.pending.first_key_value() {
            Some(((deadline, _), _)) => {
                let left = deadline.saturating_duration_since(now);
                t.changed.wait_timeout(state, left)
            }
            None => t.changed.wait(state),
        };
    }
}

/// Registers (or refreshes) a timer; returns its key.
fn register(deadline: Instant, key: Option<(Instant, u64)>, waker: &Waker) -> (Instant, u64) {
    let t = timers();
    let mut state = t.state.lock();
    if let Some(k) = key
        && let Some(w) = state.pending.get_mut(&k)
    {
        if !w.will_wake(waker) {
            w.clone_from(waker);
        }
        return k;
    }
    let id = state.next_id;
    state.next_id += 1;
    let key = (deadline, id);
    let earliest = state
        .pending
        .first_key_value()
        .is_none_or(|(first, _)| key < *first);
    state.pending.insert(key, waker.clone());
    if !state.started {
        let spawned = std::thread::Builder::new()
            .name("ovl-timer".into())
            .spawn(move || run_timers(t));
        match spawned {
            Ok(_) => state.started = true,
            // Out of threads: no panic and no lost deadline; the future is polled
            // again at once (it checks the clock, and the next registration retries
            // the thread), so it spins until the deadline or until the thread starts.
            Err(_) => waker.wake_by_ref(),
        }
    } else if earliest {
        t.changed.notify_one();
    }
    key
}

/// Forgets a timer that has not fired (a dropped [`Sleep`]).
fn unregister(key: (Instant, u64)) {
    timers().state.lock().pending.remove(&key);
}

/// How many timers are registered (for tests).
#[cfg(all(test, not(loom)))]
fn registered() -> usize {
    timers().state.lock().pending.len()
}

/// A future that completes at a deadline: [`sleep`], [`sleep_until`].
///
/// Dropping it before the deadline unregisters it.
#[derive(Debug)]
#[must_use = "futures do nothing unless awaited"]
pub struct Sleep {
    deadline: Instant,
    key: Option<(Instant, u64)>,
}

impl Sleep {
    /// The instant at which it completes.
    pub fn deadline(&self) -> Instant {
        self.deadline
    }

    /// Whether the deadline has passed.
    pub fn is_elapsed(&self) -> bool {
        Instant::now() >= self.deadline
    }
}

impl Future for Sleep {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        if Instant::now() >= this.deadline {
            if let Some(k) = this.key.take() {
                unregister(k);
            }
            return Poll::Ready(());
        }
        this.key = Some(register(this.deadline, this.key, cx.waker()));
        Poll::Pending
    }
}

impl Drop for Sleep {
    fn drop(&mut self) {
        if let Some(k) = self.key.take() {
            unregister(k);
        }
    }
}

/// A future that completes once `duration` has passed.
///
/// # Examples
/// ```
/// use std::time::{Duration, Instant};
/// let start = Instant::now();
/// overlapped::executor::block_on(overlapped::time::sleep(Duration::from_millis(5)));
/// assert!(start.elapsed() >= Duration::from_millis(5));
/// ```
pub fn sleep(duration: Duration) -> Sleep {
    sleep_until(
        Instant::now()
            .checked_add(duration)
            .unwrap_or_else(far_future),
    )
}

/// A future that completes at `deadline` (at once if it has passed).
pub fn sleep_until(deadline: Instant) -> Sleep {
    Sleep {
        deadline,
        key: None,
    }
}

/// About thirty years from now: "never" for a duration too long to add.
fn far_future() -> Instant {
    Instant::now() + Duration::from_secs(86_400 * 365 * 30)
}

/// The error of a [`timeout`] whose time ran out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Elapsed;

impl std::fmt::Display for Elapsed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("deadline has elapsed")
    }
}

impl std::error::Error for Elapsed {}

/// A future with a deadline: [`timeout`].
#[derive(Debug)]
#[must_use = "futures do nothing unless awaited"]
pub struct Timeout<F> {
    inner: Pin<Box<F>>,
    sleep: Sleep,
}

impl<F: Future> Future for Timeout<F> {
    type Output = Result<F::Output, Elapsed>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        if let Poll::Ready(v) = this.inner.as_mut().poll(cx) {
            return Poll::Ready(Ok(v));
        }
        match Pin::new(&mut this.sleep).poll(cx) {
            Poll::Ready(()) => Poll::Ready(Err(Elapsed)),
            Poll::Pending => Poll::Pending,
        }
    }
}

/// Runs `fut` (a future, or an operation builder) for at most `duration`: its output,
/// or [`Elapsed`] if the time ran out first (the future is then dropped when the
/// `Timeout` is: an operation's future is cancelled safely).
///
/// # Examples
/// ```
/// use std::time::Duration;
/// use overlapped::{executor, time};
/// let r = executor::block_on(time::timeout(Duration::from_secs(5), async { 7 }));
/// assert_eq!(r, Ok(7));
/// ```
pub fn timeout<F: IntoFuture>(duration: Duration, fut: F) -> Timeout<F::IntoFuture> {
    Timeout {
        inner: Box::pin(fut.into_future()),
        sleep: sleep(duration),
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn a_dropped_sleep_leaves_no_timer_behind() {
        let far = Instant::now() + Duration::from_secs(3600);
        let sleeps: Vec<Sleep> = (0..100).map(|_| sleep_until(far)).collect();
        let mut sleeps: Vec<Pin<Box<Sleep>>> = sleeps.into_iter().map(Box::pin).collect();
        let waker = Waker::noop();
        let mut cx = Context::from_waker(waker);
        let before = registered();
        for s in &mut sleeps {
            assert!(s.as_mut().poll(&mut cx).is_pending());
            // A second poll refreshes, not adds.
            assert!(s.as_mut().poll(&mut cx).is_pending());
        }
        // Other tests of this binary may hold timers too; ours are 100 more.
        assert!(registered() >= before + 100);
        let keys: Vec<_> = sleeps.iter().map(|s| s.key.expect("registered")).collect();
        drop(sleeps);
        let state = timers().state.lock();
        assert!(keys.iter().all(|k| !state.pending.contains_key(k)));
    }
}
