//! Model checks of the cross-thread handoffs, run with
//! `RUSTFLAGS="--cfg loom" cargo test -p overlapped --lib --release loom`.
//!
//! Under `cfg(loom)` every lock, condvar and atomic of the handoff code comes from loom
//! (`crate::sync`), and loom explores every interleaving of the threads below. The
//! io_uring engine is not started in these models, so `engine::block` parks on the
//! waiter; the driver path is covered by the integration tests.

use std::time::Duration;

use crate::alertable::{self, Apc, SleepOutcome};
use crate::event::{Event, WaitOutcome, wait_any};
use crate::port::{CompletionPort, DequeueError};

/// A set from another thread always releases a wait that is blocked or about to block
/// (no lost wake-up between "check the event" and "park").
#[test]
fn loom_event_set_wakes_waiter() {
    loom::model(|| {
        let ev = Event::new_manual();
        let setter = ev.clone();
        let t = loom::thread::spawn(move || setter.set());
        assert_eq!(wait_any(&[&ev], None, false), Ok(WaitOutcome::Signaled(0)));
        t.join().unwrap();
    });
}

/// A waker that records that it was woken.
struct Flag(crate::sync::AtomicBool);

impl std::task::Wake for Flag {
    fn wake(self: std::sync::Arc<Self>) {
        self.0.store(true, crate::sync::Ordering::SeqCst);
    }
}

/// An async wait (`Event::wait_async`) against a set from another thread: the poll is
/// ready, or the set wakes the future's waker and the next poll is (no lost wake-up);
/// the completed wait takes the auto-reset signal.
#[test]
fn loom_event_set_wakes_async_wait() {
    loom::model(|| {
        let ev = Event::new_auto();
        let setter = ev.clone();
        let t = loom::thread::spawn(move || setter.set());
        let woken = std::sync::Arc::new(Flag(crate::sync::AtomicBool::new(false)));
        let waker = std::task::Waker::from(std::sync::Arc::clone(&woken));
        let mut cx = std::task::Context::from_waker(&waker);
        let mut wait = Box::pin(ev.wait_async());
        let ready = wait.as_mut().poll(&mut cx).is_ready();
        t.join().unwrap();
        if !ready {
            assert!(
                woken.0.load(crate::sync::Ordering::SeqCst),
                "set after the poll registered: the waker must be woken"
            );
            assert!(wait.as_mut().poll(&mut cx).is_ready());
        }
        assert!(!ev.is_set(), "the completed wait took the signal");
    });
}

/// An auto-reset event set once releases exactly one of two waiters; the second set
/// releases the other.
#[test]
fn loom_auto_reset_releases_one_per_set() {
    loom::model(|| {
        let ev = Event::new_auto();
        let e1 = ev.clone();
        let waiter = loom::thread::spawn(move || wait_any(&[&e1], None, false));
        ev.set();
        let me = wait_any(&[&ev], Some(Duration::ZERO), false).unwrap();
        if me == WaitOutcome::Timeout {
            // The other thread took the signal: it must return Signaled.
            assert_eq!(waiter.join().unwrap(), Ok(WaitOutcome::Signaled(0)));
        } else {
            // We took it: the other thread needs a second set.
            assert_eq!(me, WaitOutcome::Signaled(0));
            ev.set();
            assert_eq!(waiter.join().unwrap(), Ok(WaitOutcome::Signaled(0)));
        }
        assert!(!ev.is_set(), "each release consumed one set");
    });
}

/// A routine pushed from another thread wakes the owner's alertable sleep and runs on
/// the owner's thread, once.
#[test]
fn loom_routine_push_wakes_alertable_sleep() {
    loom::model(|| {
        let queue = alertable::current_queue();
        let ran = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let r2 = std::sync::Arc::clone(&ran);
        let owner = std::thread::current().id();
        let t = loom::thread::spawn(move || {
            queue.push(Apc {
                socket: 1,
                run: Box::new(move || {
                    assert_eq!(
                        std::thread::current().id(),
                        owner,
                        "ran on the issuing thread"
                    );
                    r2.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                }),
            });
        });
        assert_eq!(alertable::sleep_alertable(None), SleepOutcome::IoCompletion);
        t.join().unwrap();
        assert_eq!(ran.load(std::sync::atomic::Ordering::SeqCst), 1);
    });
}

/// A non-alertable wait never runs a routine, even when one is queued meanwhile.
#[test]
fn loom_non_alertable_wait_never_runs_routines() {
    loom::model(|| {
        let queue = alertable::current_queue();
        let ev = Event::new_manual();
        let e2 = ev.clone();
        let ran = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let r2 = std::sync::Arc::clone(&ran);
        let t = loom::thread::spawn(move || {
            queue.push(Apc {
                socket: 1,
                run: Box::new(move || r2.store(true, std::sync::atomic::Ordering::SeqCst)),
            });
            e2.set();
        });
        assert_eq!(wait_any(&[&ev], None, false), Ok(WaitOutcome::Signaled(0)));
        t.join().unwrap();
        assert!(!ran.load(std::sync::atomic::Ordering::SeqCst));
        assert_eq!(
            alertable::sleep_alertable(Some(Duration::ZERO)),
            SleepOutcome::IoCompletion
        );
        assert!(ran.load(std::sync::atomic::Ordering::SeqCst));
    });
}

/// A packet posted from another thread always reaches a dequeue that is blocked or about
/// to block (the port's handoff: queue under the port lock, then wake the waiter).
#[test]
fn loom_port_post_wakes_waiter() {
    loom::model(|| {
        let port = CompletionPort::new(1);
        let p2 = port.clone();
        let t = loom::thread::spawn(move || assert!(p2.post(3, 4, None)));
        let p = port.dequeue(None).unwrap();
        assert_eq!((p.bytes, p.key), (3, 4));
        t.join().unwrap();
        assert_eq!(port.queued(), 0);
    });
}

/// Closing the port from another thread always releases a blocked dequeue with the
/// closed error, and a packet posted around the close is either dequeued or refused.
#[test]
fn loom_port_close_wakes_waiter() {
    loom::model(|| {
        let port = CompletionPort::new(1);
        let p2 = port.clone();
        let t = loom::thread::spawn(move || {
            let posted = p2.post(1, 1, None);
            p2.close();
            posted
        });
        let r = port.dequeue(None);
        let posted = t.join().unwrap();
        match r {
            Ok(p) => assert!(posted && p.key == 1),
            Err(e) => assert_eq!(e, DequeueError::Closed),
        }
        assert_eq!(port.dequeue(None).err(), Some(DequeueError::Closed));
    });
}

/// Concurrency 1: a packet queued while another thread runs is handed out once that
/// thread stops running, never lost and never handed out twice; the other thread's exit
/// (its thread-local destructor) ends its running time too.
#[test]
fn loom_port_running_thread_exit_releases_waiter() {
    loom::model(|| {
        let port = CompletionPort::new(1);
        assert!(port.post(0, 1, None));
        let p2 = port.clone();
        let t = loom::thread::spawn(move || p2.dequeue(None).map(|p| p.key));
        assert!(port.post(0, 2, None));
        let mine = port.dequeue(None).map(|p| p.key).unwrap();
        // This thread stops running (as if it blocked elsewhere or exited), so a
        // waiting thread may be released.
        crate::port::stop_running();
        let theirs = t.join().unwrap().unwrap();
        let mut keys = [mine, theirs];
        keys.sort_unstable();
        assert_eq!(keys, [1, 2]);
    });
}
