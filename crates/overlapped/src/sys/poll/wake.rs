//! Wake-ups of the driver: the eventfd in the epoll set and the latch that writes it
//! at most once per drain.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

use crate::sync::{AtomicBool, Ordering};

/// What a driver's `epoll_wait` watches for wake-ups: the eventfd, or a counter in
/// the loom model.
pub(crate) trait Signal {
    /// Makes the signal readable; `false` if that failed.
    fn raise(&self) -> bool;
    /// Makes it unreadable again.
    fn clear(&self);
}

/// The wake-up latch: at most one [`Signal::raise`] until a reap drains it.
///
/// The protocol that keeps a queued result from being stranded: a waker queues its
/// result (under the table lock) *before* [`WakeLatch::wake`]; the reaping driver calls
/// [`WakeLatch::drain`] when its wait reported the signal and *then* takes the queued
/// results. A wake skipped because `pending` was still set happened before the drain
/// cleared it, so its result is taken by that reap; any later wake raises the signal
/// again. Model-checked by `loom_wake_latch_strands_no_result`.
#[derive(Debug)]
pub(crate) struct WakeLatch<S> {
    /// The signal was raised and not yet drained (so another raise is not needed).
    pending: AtomicBool,
    pub(crate) signal: S,
}

impl<S: Signal> WakeLatch<S> {
    pub(crate) fn new(signal: S) -> Self {
        Self {
            pending: AtomicBool::new(false),
            signal,
        }
    }

    /// Raises the signal unless a raise is already pending.
    pub(crate) fn wake(&self) {
        if self.pending.swap(true, Ordering::AcqRel) {
            return;
        }
        if !self.signal.raise() {
            self.pending.swap(false, Ordering::AcqRel);
        }
    }

    /// Clears the signal and the latch; the caller takes queued results afterwards.
    pub(crate) fn drain(&self) {
        self.signal.clear();
        // A swap, not a store: every write to `pending` is a read-modify-write, so the
        // loom model (which orders plain stores loosely against RMWs) checks exactly
        // the protocol that runs.
        self.pending.swap(false, Ordering::AcqRel);
    }
}

/// The wake-up eventfd (non-blocking).
#[derive(Debug)]
pub(crate) struct EventFd(OwnedFd);

impl EventFd {
    pub(crate) fn new() -> io::Result<Self> {
        // SAFETY: plain syscall; the descriptor is owned just below.
        let efd = unsafe { libc::eventfd(0, libc::EFD_CLOEXEC | libc::EFD_NONBLOCK) };
        if efd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: `efd` is a fresh descriptor nobody else owns.
        Ok(Self(unsafe { OwnedFd::from_raw_fd(efd) }))
    }

    pub(crate) fn as_raw_fd(&self) -> RawFd {
        self.0.as_raw_fd()
    }
}

impl Signal for EventFd {
    fn raise(&self) -> bool {
        let one = 1u64;
        // SAFETY: writes 8 bytes from a live u64 to the eventfd we own.
        let n = unsafe {
            libc::write(
                self.0.as_raw_fd(),
                (&raw const one).cast(),
                size_of::<u64>(),
            )
        };
        // Only a saturated counter (it is readable already) refuses the write.
        n >= 0 || io::Error::last_os_error().raw_os_error() == Some(libc::EAGAIN)
    }

    fn clear(&self) {
        let mut value = 0u64;
        // SAFETY: reads 8 bytes into a live u64 from the non-blocking eventfd we own.
        let _ = unsafe {
            libc::read(
                self.0.as_raw_fd(),
                (&raw mut value).cast(),
                size_of::<u64>(),
            )
        };
    }
}

#[cfg(all(test, loom))]
mod loom_tests {
    use super::{Signal, WakeLatch};
    use crate::sync::{Arc, AtomicU64, Mutex, Ordering};

    /// The eventfd, as a counter.
    #[derive(Debug, Default)]
    struct Counter(AtomicU64);

    impl Counter {
        fn readable(&self) -> bool {
            self.0.load(Ordering::Acquire) > 0
        }
    }

    impl Signal for Counter {
        fn raise(&self) -> bool {
            self.0.fetch_add(1, Ordering::Release);
            true
        }
        fn clear(&self) {
            self.0.swap(0, Ordering::AcqRel);
        }
    }

    /// A result queued by a canceller is either taken by a concurrent reap or leaves
    /// the signal readable (so the next wait returns and reaps it); a pending latch
    /// always has its signal readable. With and without an earlier wake outstanding.
    #[test]
    fn loom_wake_latch_strands_no_result() {
        for earlier_wake in [false, true] {
            loom::model(move || {
                let latch = Arc::new(WakeLatch::new(Counter::default()));
                let done = Arc::new(Mutex::new(Vec::new()));
                if earlier_wake {
                    latch.wake();
                }
                let (l2, d2) = (Arc::clone(&latch), Arc::clone(&done));
                let canceller = loom::thread::spawn(move || {
                    d2.lock().push(1u64);
                    l2.wake();
                });
                // The driver's reap, after its wait reported the signal (or not).
                if latch.signal.readable() {
                    latch.drain();
                }
                let taken = std::mem::take(&mut *done.lock());
                canceller.join().unwrap();
                let left = done.lock().len();
                assert_eq!(taken.len() + left, 1);
                assert!(left == 0 || latch.signal.readable(), "result stranded");
                assert!(
                    !latch.pending.load(Ordering::Acquire) || latch.signal.readable(),
                    "latch pending with no signal: later wakes would be lost"
                );
            });
        }
    }
}
