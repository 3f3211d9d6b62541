//! Event objects and multi-event waits: `WSACreateEvent`, `WSASetEvent`,
//! `WSAResetEvent` and `WSAWaitForMultipleEvents`.
//!
//! An [`Event`] is a cheap, cloneable handle (`Send + Sync`). A completion sets the
//! event of its [`Overlapped`](crate::Overlapped) from whichever thread reaps it, so a
//! thread waiting on it wakes even while the thread that issued the I/O is busy
//! (guarantee 1 of the design).
//!
//! # Examples
//! ```
//! use std::time::Duration;
//! use overlapped::{Event, WaitOutcome, wait_any};
//!
//! let a = Event::new_manual();
//! let b = Event::new_manual();
//! b.set();
//! assert_eq!(wait_any(&[&a, &b], Some(Duration::ZERO), false)?, WaitOutcome::Signaled(1));
//! assert!(b.is_set(), "manual-reset events stay set until reset");
//! # Ok::<(), overlapped::WsaError>(())
//! ```

use std::time::{Duration, Instant};

use crate::alertable;
use crate::engine::{self, wait::Waiter};
use crate::error::WsaError;
use crate::sync::{Arc, Mutex, MutexGuard};

/// The most events one wait accepts (`WSA_MAXIMUM_WAIT_EVENTS`).
pub const MAXIMUM_WAIT_EVENTS: usize = 64;

/// An event object: manual-reset (as `WSACreateEvent` makes) or auto-reset.
#[derive(Clone)]
pub struct Event(Arc<EventInner>);

struct EventInner {
    /// Manual-reset events stay set until [`Event::reset`]; auto-reset events are reset
    /// by the one wait they release.
    manual: bool,
    /// The signal state and the threads blocked on it.
    state: Mutex<EventState>,
}

#[derive(Default)]
struct EventState {
    signaled: bool,
    /// Waiters currently blocked on this event (registered only while blocking).
    waiters: Vec<Arc<Waiter>>,
    /// Futures waiting on this event ([`Event::wait_async`]), by id; a set takes them
    /// all (a future that finds the signal taken registers again).
    tasks: Vec<(u64, std::task::Waker)>,
}

/// Ids of [`EventWait`] futures (a plain counter, not a handoff).
static NEXT_WAIT_ID: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

impl std::fmt::Debug for Event {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Event")
            .field("manual", &self.0.manual)
            .field("signaled", &self.is_set())
            .finish()
    }
}

impl PartialEq for Event {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}
impl Eq for Event {}

impl Event {
    /// A manual-reset event, initially not signalled: what `WSACreateEvent` returns.
    pub fn new_manual() -> Self {
        Self::with_mode(true, false)
    }

    /// An auto-reset event, initially not signalled: a successful wait resets it, and
    /// [`Event::set`] releases exactly one waiter.
    pub fn new_auto() -> Self {
        Self::with_mode(false, false)
    }

    /// An event of either mode and initial state (`CreateEvent`).
    pub fn with_mode(manual_reset: bool, initially_set: bool) -> Self {
        Self(Arc::new(EventInner {
            manual: manual_reset,
            state: Mutex::new(EventState {
                signaled: initially_set,
                waiters: Vec::new(),
                tasks: Vec::new(),
            }),
        }))
    }

    /// True for a manual-reset event.
    pub fn is_manual_reset(&self) -> bool {
        self.0.manual
    }

    /// Signals the event (`WSASetEvent`) and wakes the threads waiting on it.
    pub fn set(&self) {
        let mut state = self.0.state.lock();
        state.signaled = true;
        for w in &state.waiters {
            w.notify();
            if !self.0.manual {
                // One wake-up is enough for an auto-reset event; a waiter that finds it
                // already taken goes back to sleep and the next set wakes another.
                break;
            }
        }
        let tasks = std::mem::take(&mut state.tasks);
        drop(state);
        // Every waiting future, outside the lock (a waker may poll at once); for an
        // auto-reset event the first to poll takes the signal, the rest wait again.
        for (_, w) in tasks {
            w.wake();
        }
    }

    /// A future that completes when the event is signalled; for an auto-reset event it
    /// takes the signal (resets it), as a successful wait does. It works under any
    /// executor; with [`crate::time::timeout`] it has a deadline.
    ///
    /// # Examples
    /// ```
    /// use overlapped::{Event, executor};
    /// let ev = Event::new_auto();
    /// let e2 = ev.clone();
    /// std::thread::spawn(move || e2.set());
    /// executor::block_on(ev.wait_async());
    /// assert!(!ev.is_set(), "the wait took the auto-reset signal");
    /// ```
    pub fn wait_async(&self) -> EventWait {
        EventWait {
            event: self.clone(),
            id: NEXT_WAIT_ID.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
            registered: false,
        }
    }

    /// Clears the signal (`WSAResetEvent`).
    pub fn reset(&self) {
        self.0.state.lock().signaled = false;
    }

    /// Whether the event is signalled now (does not reset an auto-reset event).
    pub fn is_set(&self) -> bool {
        self.0.state.lock().signaled
    }

    /// Waits for this event alone; see [`wait_any`].
    ///
    /// # Errors
    /// As [`wait_any`].
    pub fn wait(&self, timeout: Option<Duration>) -> Result<bool, WsaError> {
        Ok(matches!(
            wait_any(&[self], timeout, false)?,
            WaitOutcome::Signaled(0)
        ))
    }

    /// Takes the signal if it is set (resetting an auto-reset event).
    fn try_take(state: &mut EventState, manual: bool) -> bool {
        if state.signaled {
            if !manual {
                state.signaled = false;
            }
            true
        } else {
            false
        }
    }

    fn register(&self, w: &Arc<Waiter>) {
        self.0.state.lock().waiters.push(Arc::clone(w));
    }

    fn unregister(&self, w: &Arc<Waiter>) {
        let mut state = self.0.state.lock();
        if let Some(i) = state.waiters.iter().position(|x| Arc::ptr_eq(x, w)) {
            state.waiters.swap_remove(i);
        }
    }

    fn addr(&self) -> usize {
        Arc::as_ptr(&self.0) as usize
    }
}

/// The future of [`Event::wait_async`]. Dropping it stops the wait (an auto-reset
/// event's signal is only taken by a wait that completes).
#[derive(Debug)]
#[must_use = "futures do nothing unless awaited"]
pub struct EventWait {
    event: Event,
    id: u64,
    registered: bool,
}

impl std::future::Future for EventWait {
    type Output = ();

    fn poll(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<()> {
        let this = self.get_mut();
        let inner = &this.event.0;
        let mut state = inner.state.lock();
        let at = state.tasks.iter().position(|(id, _)| *id == this.id);
        if Event::try_take(&mut state, inner.manual) {
            if let Some(i) = at {
                state.tasks.swap_remove(i);
            }
            this.registered = false;
            return std::task::Poll::Ready(());
        }
        match at {
            Some(i) => {
                if !state.tasks[i].1.will_wake(cx.waker()) {
                    state.tasks[i].1.clone_from(cx.waker());
                }
            }
            None => state.tasks.push((this.id, cx.waker().clone())),
        }
        this.registered = true;
        std::task::Poll::Pending
    }
}

impl Drop for EventWait {
    fn drop(&mut self) {
        if self.registered {
            let mut state = self.event.0.state.lock();
            if let Some(i) = state.tasks.iter().position(|(id, _)| *id == self.id) {
                state.tasks.swap_remove(i);
            }
        }
    }
}

/// How a wait ended (`WSA_WAIT_EVENT_0 + i`, `WSA_WAIT_IO_COMPLETION`, `WSA_WAIT_TIMEOUT`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WaitOutcome {
    /// For [`wait_any`], the lowest index of a signalled event; for [`wait_all`], 0.
    Signaled(usize),
    /// An alertable wait ran one or more completion routines; no event was consumed.
    IoCompletion,
    /// The timeout passed first.
    Timeout,
}

/// Waits until any of `events` is signalled (`WSAWaitForMultipleEvents` with
/// `fWaitAll = FALSE`), the timeout passes (`None` waits forever, `Some(ZERO)` polls),
/// or, if `alertable`, completion routines queued to this thread have run.
///
/// An auto-reset event that releases the wait is reset; manual-reset events are not.
/// Signalled events are checked before queued routines.
///
/// # Errors
/// `WSA_INVALID_PARAMETER` if `events` is empty (and the wait is not a pure alertable
/// sleep) or holds more than [`MAXIMUM_WAIT_EVENTS`].
pub fn wait_any(
    events: &[&Event],
    timeout: Option<Duration>,
    alertable: bool,
) -> Result<WaitOutcome, WsaError> {
    check_count(events)?;
    wait_impl(events, timeout, alertable, false)
}

/// Waits until all of `events` are signalled at once (`fWaitAll = TRUE`); auto-reset
/// events among them are reset together, and nothing changes until all are signalled.
///
/// # Errors
/// `WSA_INVALID_PARAMETER` for 0 or more than [`MAXIMUM_WAIT_EVENTS`] events, or the same
/// event twice.
pub fn wait_all(
    events: &[&Event],
    timeout: Option<Duration>,
    alertable: bool,
) -> Result<WaitOutcome, WsaError> {
    check_count(events)?;
    for (i, a) in events.iter().enumerate() {
        if events[..i].iter().any(|b| a == b) {
            return Err(WsaError::WSA_INVALID_PARAMETER);
        }
    }
    wait_impl(events, timeout, alertable, true)
}

fn check_count(events: &[&Event]) -> Result<(), WsaError> {
    if events.is_empty() || events.len() > MAXIMUM_WAIT_EVENTS {
        Err(WsaError::WSA_INVALID_PARAMETER)
    } else {
        Ok(())
    }
}

/// The shared wait loop for events and alertable sleeps (`events` may be empty here).
pub(crate) fn wait_impl(
    events: &[&Event],
    timeout: Option<Duration>,
    alertable: bool,
    all: bool,
) -> Result<WaitOutcome, WsaError> {
    let deadline = timeout.map(|t| Instant::now() + t);
    let waiter = engine::wait::current();
    let _alert = alertable.then(alertable::AlertableScope::enter);
    let mut registered = false;
    let outcome = loop {
        waiter.prepare();
        if let Some(i) = try_satisfy(events, all) {
            break WaitOutcome::Signaled(i);
        }
        if alertable && alertable::run_pending() {
            break WaitOutcome::IoCompletion;
        }
        if deadline.is_some_and(|d| Instant::now() >= d) {
            break WaitOutcome::Timeout;
        }
        if !registered {
            // Register, then look again before blocking (the protocol in `engine::wait`).
            for e in events {
                e.register(&waiter);
            }
            registered = true;
            continue;
        }
        engine::block(&waiter, deadline);
    };
    if registered {
        for e in events {
            e.unregister(&waiter);
        }
    }
    Ok(outcome)
}

fn try_satisfy(events: &[&Event], all: bool) -> Option<usize> {
    if !all {
        return events.iter().position(|e| {
            let mut s = e.0.state.lock();
            Event::try_take(&mut s, e.0.manual)
        });
    }
    // Lock every event in address order so the check-and-reset is atomic.
    let mut order: Vec<&Event> = events.to_vec();
    order.sort_by_key(|e| e.addr());
    let mut guards: Vec<(MutexGuard<'_, EventState>, bool)> = order
        .iter()
        .map(|e| (e.0.state.lock(), e.0.manual))
        .collect();
    if guards.iter().all(|(g, _)| g.signaled) {
        for (g, manual) in &mut guards {
            if !*manual {
                g.signaled = false;
            }
        }
        Some(0)
    } else {
        None
    }
}
