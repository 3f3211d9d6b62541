//! The per-thread waiter: how a blocked thread is found and woken.
//!
//! Every wait in the library (events, alertable sleeps, overlapped results) follows one
//! protocol, which never loses a wake-up:
//! 1. [`Waiter::prepare`] clears `notified`;
//! 2. the caller checks its condition (registered wherever a notifier will look);
//! 3. the caller blocks through [`crate::engine::block`], which returns at once if
//!    `notified` was set in between.
//!
//! A notifier sets `notified` and then wakes the thread the way it is blocked: through
//! the condition variable if parked, or with a ring wake-up if it is the driver blocked
//! in the kernel. `notified` and `driving` are both `SeqCst`, so either the waiter sees
//! the notification before it blocks or the notifier sees that it is driving.

use std::collections::VecDeque;
use std::time::Instant;

use crate::sync::{Arc, AtomicBool, AtomicUsize, Condvar, Mutex, Ordering};

/// A thread's wake-up target (see the module docs).
#[derive(Debug, Default)]
pub(crate) struct Waiter {
    /// Set by notifiers; cleared by the owner before it checks its condition.
    notified: AtomicBool,
    /// The owner is the driver, blocked (or about to block) in the backend's wait.
    pub(crate) driving: AtomicBool,
    /// True while the owner sleeps on `cv`; protects that sleep against a racing
    /// notification (and spares a futex wake-up when nobody sleeps).
    lock: Mutex<bool>,
    cv: Condvar,
}

impl Waiter {
    pub(crate) fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    /// Step 1 of the protocol: forget earlier notifications.
    ///
    /// A swap, not a store: the waiter then reads its condition, and a notifier writes
    /// the condition before it swaps `notified`. With both writes to `notified`
    /// read-modify-writes, either the notifier's swap sees this one (and the waiter will
    /// see the notification) or this swap reads the notifier's, acquiring its write of
    /// the condition; the protocol then holds under acquire/release alone, not only
    /// under a sequentially consistent store-then-load, which loom does not model (it
    /// found this as a lost wake-up in `loom_driver_handoff`). On x86 both are one
    /// `xchg`.
    pub(crate) fn prepare(&self) {
        self.notified.swap(false, Ordering::SeqCst);
    }

    pub(crate) fn is_notified(&self) -> bool {
        self.notified.load(Ordering::SeqCst)
    }

    /// Wakes the owner (see the module docs). Never blocks for long: it takes only the
    /// waiter's own short lock, or pushes one no-op to the ring.
    pub(crate) fn notify(&self) {
        if self.notified.swap(true, Ordering::SeqCst) {
            return;
        }
        if self.driving.load(Ordering::SeqCst) {
            crate::engine::wake_driver();
        }
        let parked = self.lock.lock();
        if *parked {
            self.cv.notify_one();
        }
    }

    /// Notifies the calling thread's own waiter, which is not blocked (it is running,
    /// or reaping as the driver): sets `notified` only; the owner checks it before it
    /// blocks or waits again (steps 2-3 of the protocol), so no wake-up is needed.
    pub(crate) fn notify_local(&self) {
        self.notified.swap(true, Ordering::SeqCst);
    }

    /// Sleeps until notified or `deadline`.
    pub(crate) fn park(&self, deadline: Option<Instant>) {
        let mut guard = self.lock.lock();
        *guard = true;
        while !self.notified.load(Ordering::SeqCst) {
            match deadline {
                None => guard = self.cv.wait(guard),
                Some(d) => {
                    let now = Instant::now();
                    if now >= d {
                        break;
                    }
                    guard = self.cv.wait_timeout(guard, d - now);
                }
            }
        }
        *guard = false;
    }
}

#[cfg(not(loom))]
std::thread_local! {
    static CURRENT: Arc<Waiter> = Waiter::new();
}

#[cfg(loom)]
loom::thread_local! {
    static CURRENT: Arc<Waiter> = Waiter::new();
}

/// The calling thread's waiter.
pub(crate) fn current() -> Arc<Waiter> {
    CURRENT.with(Arc::clone)
}

/// What a waiting thread needs from the backend to drive it (see [`Drivers::block`]):
/// the driver token and what only its holder may do. The engine implements it over the
/// real ring; the loom model `loom_driver_handoff` over a model ring.
pub(crate) trait Drive {
    /// The driver token: held by one thread at a time.
    type Token<'a>
    where
        Self: 'a;
    /// Takes the token if nobody holds it.
    fn try_drive(&self) -> Option<Self::Token<'_>>;
    /// Delivers every ready result (notifying the waiters they concern); how many.
    fn reap(&self, token: &Self::Token<'_>) -> usize;
    /// Blocks until a result is ready, a driver wake-up, or `deadline`.
    fn wait(&self, token: &Self::Token<'_>, deadline: Option<Instant>);
    /// Turns the background reaper's notifications on or off.
    fn set_reaper_notify(&self, token: &Self::Token<'_>, on: bool);
}

/// The driving-thread handoff (leader/follower): a thread that must wait drives the
/// backend itself if nobody does (it takes the token, turns the background reaper's
/// notifications off, reaps and waits in the backend); otherwise it parks in `idle`, and
/// the driver, when it leaves, wakes the first parked thread to take over. Model-checked
/// by `loom_driver_handoff`.
#[derive(Debug, Default)]
pub(crate) struct Drivers {
    /// Threads parked in a wait while another thread drives.
    idle: Mutex<VecDeque<Arc<Waiter>>>,
    /// Operations armed in the backend and not yet reaped.
    in_kernel: AtomicUsize,
}

impl Drivers {
    /// An operation was armed (before it is handed to the backend).
    pub(crate) fn armed(&self) {
        self.in_kernel.fetch_add(1, Ordering::SeqCst);
    }

    /// An armed operation's result was reaped (or its arming failed).
    pub(crate) fn reaped(&self) {
        self.in_kernel.fetch_sub(1, Ordering::SeqCst);
    }

    /// Blocks `w`'s thread until it is notified or `deadline` (step 3 of the module's
    /// protocol), driving the backend meanwhile if nobody else does.
    pub(crate) fn block<D: Drive>(&self, d: &D, w: &Arc<Waiter>, deadline: Option<Instant>) {
        if self.in_kernel.load(Ordering::SeqCst) > 0
            && let Some(token) = d.try_drive()
        {
            w.driving.store(true, Ordering::SeqCst);
            d.set_reaper_notify(&token, false);
            if !w.is_notified() && d.reap(&token) == 0 && !w.is_notified() {
                d.wait(&token, deadline);
            }
            w.driving.store(false, Ordering::SeqCst);
            d.reap(&token);
            d.set_reaper_notify(&token, true);
            // What arrived while the notifications were off.
            d.reap(&token);
            drop(token);
            self.hand_off();
            return;
        }
        self.idle.lock().push_back(Arc::clone(w));
        w.park(deadline);
        let mut idle = self.idle.lock();
        if let Some(i) = idle.iter().position(|x| Arc::ptr_eq(x, w)) {
            idle.remove(i);
        }
    }

    /// After the driver token is released: lets a parked thread take over driving.
    pub(crate) fn hand_off(&self) {
        if self.in_kernel.load(Ordering::SeqCst) == 0 {
            return;
        }
        if let Some(w) = self.idle.lock().front() {
            w.notify();
        }
    }
}
