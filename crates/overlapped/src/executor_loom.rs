//! Model checks of the executor's task state machine and of the futures' slot, run with
//! `RUSTFLAGS="--cfg loom" cargo test -p overlapped --lib --release loom`.
//!
//! The engine is not started in these models, so [`block_on`] parks on its waiter
//! (loom's condvar) and the completing thread is a plain loom thread.

use std::future::poll_fn;
use std::sync::atomic::AtomicUsize as StdAtomicUsize;
use std::task::Poll;

use crate::executor::{TaskState, block_on, state};
use crate::future::Slot;
use crate::sync::{Arc, AtomicBool, AtomicUsize, Ordering};

/// A wake racing a poll: the task is polled again after the wake exactly once (by its
/// worker if the wake came during the poll, through the queue if after), and never
/// when the wake came before the poll started (that poll sees the event).
#[test]
fn loom_task_wake_during_poll_repolls_once() {
    loom::model(|| {
        let task = Arc::new(TaskState::scheduled());
        // What the wake announces, and how often the task was queued by a wake.
        let event = Arc::new(AtomicBool::new(false));
        let queued = Arc::new(AtomicUsize::new(0));
        let (t2, e2, q2) = (Arc::clone(&task), Arc::clone(&event), Arc::clone(&queued));
        let waker = loom::thread::spawn(move || {
            e2.store(true, Ordering::SeqCst);
            if t2.wake() {
                q2.fetch_add(1, Ordering::SeqCst);
            }
        });
        // The worker: poll until the poll returns Pending with no wake pending.
        let mut polls = 0;
        let mut saw_event;
        assert!(task.start_poll());
        loop {
            polls += 1;
            saw_event = event.load(Ordering::SeqCst);
            if !task.end_poll_pending() {
                break;
            }
            assert!(task.start_poll(), "a re-scheduled task is polled");
        }
        waker.join().unwrap();
        let queued = queued.load(Ordering::SeqCst);
        assert!(queued <= 1, "one wake queues at most once");
        if queued == 1 {
            // Woken while idle: the queue's poll is the one after the wake.
            assert_eq!(task.get(), state::SCHEDULED);
            assert!(task.start_poll());
            polls += 1;
            saw_event = event.load(Ordering::SeqCst);
            assert!(!task.end_poll_pending());
        }
        assert!(saw_event, "the last poll came after the wake");
        assert!(polls <= 2, "polled again at most once for one wake");
        assert_eq!(task.get(), state::IDLE);
    });
}

/// Two wakes during one poll schedule the task once.
#[test]
fn loom_task_two_wakes_schedule_once() {
    loom::model(|| {
        let task = Arc::new(TaskState::scheduled());
        let queued = Arc::new(AtomicUsize::new(0));
        assert!(task.start_poll());
        let wakers: Vec<_> = (0..2)
            .map(|_| {
                let (t, q) = (Arc::clone(&task), Arc::clone(&queued));
                loom::thread::spawn(move || {
                    if t.wake() {
                        q.fetch_add(1, Ordering::SeqCst);
                    }
                })
            })
            .collect();
        let again = task.end_poll_pending();
        for w in wakers {
            w.join().unwrap();
        }
        let queued = queued.load(Ordering::SeqCst);
        assert_eq!(
            usize::from(again) + queued,
            1,
            "exactly one re-schedule (worker or queue) for the wakes"
        );
    });
}

/// A wake after the task finished does nothing.
#[test]
fn loom_task_wake_after_done_is_ignored() {
    loom::model(|| {
        let task = Arc::new(TaskState::scheduled());
        let t2 = Arc::clone(&task);
        let waker = loom::thread::spawn(move || t2.wake());
        assert!(task.start_poll());
        task.finish();
        let late = waker.join().unwrap();
        if late {
            // The wake came before the finish, while IDLE: impossible here, since the
            // task went SCHEDULED -> RUNNING -> DONE without being IDLE.
            panic!("a wake of a running or finished task must not queue it");
        }
        assert!(!task.wake());
        assert!(!task.start_poll());
        assert_eq!(task.get(), state::DONE);
    });
}

/// The operation's callback completing the slot on another thread always wakes a
/// `block_on` polling it: no lost wake-up between registering the waker and parking.
#[test]
fn loom_slot_completion_wakes_poller() {
    loom::model(|| {
        let slot = Arc::new(Slot::new());
        let s2 = Arc::clone(&slot);
        let completer = loom::thread::spawn(move || s2.complete(7u32));
        let v = block_on(poll_fn(|cx| slot.poll(cx)));
        assert_eq!(v, 7);
        completer.join().unwrap();
    });
}

/// A value counting its drops.
struct Counted(std::sync::Arc<StdAtomicUsize>);

impl Drop for Counted {
    fn drop(&mut self) {
        self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }
}

/// A poller abandoning the slot while the value arrives: the value is dropped exactly
/// once, whichever side comes second.
#[test]
fn loom_slot_abandon_races_completion() {
    loom::model(|| {
        let drops = std::sync::Arc::new(StdAtomicUsize::new(0));
        let slot = Arc::new(Slot::new());
        let (s2, d2) = (Arc::clone(&slot), std::sync::Arc::clone(&drops));
        let completer = loom::thread::spawn(move || s2.complete(Counted(d2)));
        // A first poll, as a future does before it is dropped.
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        let first = slot.poll(&mut cx);
        let pending = matches!(first, Poll::Pending);
        drop(first);
        if pending {
            slot.abandon();
        }
        completer.join().unwrap();
        drop(slot);
        assert_eq!(drops.load(std::sync::atomic::Ordering::SeqCst), 1);
    });
}
