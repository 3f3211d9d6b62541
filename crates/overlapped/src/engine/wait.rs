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

use std::time::Instant;

use crate::sync::{Arc, AtomicBool, Condvar, Mutex, Ordering};

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
    pub(crate) fn prepare(&self) {
        self.notified.store(false, Ordering::SeqCst);
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
