//! Model checks of the handoffs around an operation record, run with
//! `RUSTFLAGS="--cfg loom" cargo test -p overlapped --lib --release loom`.
//!
//! The kernel is left out: a test description stands for an operation, and the models
//! call [`OpDyn::finish`] from another thread as the reaping thread would (with the
//! kernel's result, or with an abort as cancel and close do). What they check is the
//! publication protocol of `finish`: the output, the routine queue, the record's status
//! and the event, against the threads that wait on them.

use std::time::Duration;

use super::SocketState;
use super::op::{Notify, OpDesc, OpDyn, OpRecord, Outcome, OutputSlot, QueueKind, Step};
use crate::alertable::{self, SleepOutcome};
use crate::error::{NtStatus, WsaError};
use crate::event::{Event, WaitOutcome, wait_any};
use crate::overlapped::Overlapped;
use crate::sync::Arc;
use crate::sys::SysOp;

/// An operation that only ever finishes from outside (its buffer comes back with it).
struct TestDesc(Vec<u8>);

impl OpDesc for TestDesc {
    type Output = Vec<u8>;

    fn queue(&self) -> QueueKind {
        QueueKind::Read
    }
    fn attempt(&mut self, _sock: &SocketState) -> Step {
        Step::WouldBlock
    }
    fn arm(&mut self, _sock: &SocketState) -> SysOp {
        unreachable!("the models never arm")
    }
    fn on_result(&mut self, _sock: &SocketState, _res: i32) -> Step {
        Step::WouldBlock
    }
    fn into_output(self, _outcome: &Outcome) -> Vec<u8> {
        self.0
    }
}

/// A record bound to `ov` as a post would leave it (pending).
fn record(ov: &Overlapped, notify: Notify) -> Arc<OpRecord<TestDesc>> {
    ov.state.begin().expect("a free record");
    let sock = SocketState::new(-1, libc::AF_INET, libc::SOCK_STREAM);
    Arc::new(OpRecord::new(
        TestDesc(vec![7; 4]),
        Arc::clone(&ov.state),
        notify,
        sock,
    ))
}

fn finish(rec: &Arc<OpRecord<TestDesc>>, outcome: Outcome) {
    let dynrec: Arc<dyn OpDyn> = Arc::clone(rec) as Arc<dyn OpDyn>;
    dynrec.finish(outcome);
}

/// Completion vs waiter: a thread waiting for the result (as `Posted::wait` does) gets
/// the result and the buffers, whatever the interleaving with the completing thread.
#[test]
fn loom_completion_vs_waiter() {
    loom::model(|| {
        let ov = Overlapped::new();
        let rec = record(&ov, Notify::Record);
        let r2 = Arc::clone(&rec);
        let t = loom::thread::spawn(move || finish(&r2, Outcome::ok(3)));
        let (result, buf) = loop {
            if let Some(done) = rec.take_output() {
                break done;
            }
            let _ = rec.ov().result(true, None);
        };
        assert_eq!(result.unwrap().bytes, 3);
        assert_eq!(buf, vec![7; 4]);
        t.join().unwrap();
    });
}

/// A thread that finds the record complete (`HasOverlappedIoCompleted`,
/// `WSAGetOverlappedResult(fWait)`) finds the `Posted` handle complete too, and one
/// released by the event finds it finished. (CI found the first broken: the handle read
/// only `finished`, which was set after the record's status and wake-ups.)
#[test]
fn loom_released_waiter_finds_the_handle_finished() {
    loom::model(|| {
        let ev = Event::new_manual();
        let ov = Overlapped::with_event(&ev);
        let rec = record(&ov, Notify::Record);
        let r2 = Arc::clone(&rec);
        let t = loom::thread::spawn(move || finish(&r2, Outcome::ok(3)));
        if ov.is_complete() {
            assert!(rec.is_complete(), "record complete, handle not");
        }
        assert_eq!(ov.result(true).map(|t| t.bytes), Ok(3));
        assert!(
            rec.is_complete(),
            "released by the record, handle not complete"
        );
        t.join().unwrap();
    });
    loom::model(|| {
        let ev = Event::new_manual();
        let ov = Overlapped::with_event(&ev);
        let rec = record(&ov, Notify::Record);
        let r2 = Arc::clone(&rec);
        let t = loom::thread::spawn(move || finish(&r2, Outcome::ok(3)));
        assert_eq!(wait_any(&[&ev], None, false), Ok(WaitOutcome::Signaled(0)));
        assert!(
            rec.is_finished(),
            "released by the event, handle not finished"
        );
        t.join().unwrap();
    });
}

/// The event is set only once the record shows the completion: a thread released by the
/// event reads the result, never `WSA_IO_INCOMPLETE`.
#[test]
fn loom_event_release_sees_the_result() {
    loom::model(|| {
        let ev = Event::new_manual();
        let ov = Overlapped::with_event(&ev);
        let rec = record(&ov, Notify::Record);
        let r2 = Arc::clone(&rec);
        let t = loom::thread::spawn(move || finish(&r2, Outcome::ok(5)));
        assert_eq!(wait_any(&[&ev], None, false), Ok(WaitOutcome::Signaled(0)));
        assert_eq!(ov.result(false).map(|t| t.bytes), Ok(5));
        t.join().unwrap();
    });
}

/// Cancel (or close) vs completion: both finish the same record; exactly one wins, the
/// record and the output agree on which, and the event is set.
#[test]
fn loom_cancel_vs_completion() {
    loom::model(|| {
        let ev = Event::new_manual();
        let ov = Overlapped::with_event(&ev);
        let rec = record(&ov, Notify::Record);
        let r2 = Arc::clone(&rec);
        let t = loom::thread::spawn(move || finish(&r2, Outcome::ok(2)));
        finish(&rec, Outcome::err(NtStatus::CANCELLED));
        t.join().unwrap();
        assert!(ev.is_set());
        let (result, buf) = rec.take_output().expect("finished once");
        assert!(rec.take_output().is_none(), "one output only");
        assert_eq!(buf, vec![7; 4]);
        let seen = ov.result(false);
        match result {
            Ok(t) => assert_eq!((t.bytes, seen.map(|t| t.bytes)), (2, Ok(2))),
            Err(e) => {
                assert_eq!(e, WsaError::WSA_OPERATION_ABORTED);
                assert_eq!(seen, Err(WsaError::WSA_OPERATION_ABORTED));
            }
        }
    });
}

/// A routine completed on another thread: once the issuing thread sees the record
/// complete, its next alertable wait runs the routine (it was queued before the record
/// showed completion), exactly once, with the buffers.
#[test]
fn loom_routine_queued_before_the_record_shows_completion() {
    loom::model(|| {
        let ran = std::rc::Rc::new(std::cell::Cell::new(0));
        let r = std::rc::Rc::clone(&ran);
        let routine: Box<dyn FnOnce(crate::Completion<Vec<u8>>)> =
            Box::new(move |c: crate::Completion<Vec<u8>>| {
                assert_eq!(c.result.unwrap().bytes, 1);
                assert_eq!(c.output, vec![7; 4]);
                r.set(r.get() + 1);
            });
        let token = alertable::store_routine(Box::new(routine));
        let ov = Overlapped::new();
        let rec = record(
            &ov,
            Notify::Routine {
                queue: alertable::current_queue(),
                token,
            },
        );
        let r2 = Arc::clone(&rec);
        let t = loom::thread::spawn(move || finish(&r2, Outcome::ok(1)));
        while !ov.is_complete() {
            loom::thread::yield_now();
        }
        assert_eq!(
            alertable::sleep_alertable(Some(Duration::ZERO)),
            SleepOutcome::IoCompletion,
            "the record showed completion before its routine was queued"
        );
        assert_eq!(ran.get(), 1);
        t.join().unwrap();
    });
}

/// The ring of the driver-handoff model: the token, the completion queue the "kernel"
/// thread fills, the background reaper's notification switch, and a driver's wait.
mod model_ring {
    use std::collections::VecDeque;
    use std::time::Instant;

    use crate::engine::wait::{Drive, Drivers, Waiter};
    use crate::sync::{Arc, AtomicBool, Condvar, Mutex, MutexGuard, Ordering};

    #[derive(Default)]
    struct State {
        /// Results the kernel posted and nobody reaped: the index of the waiter each
        /// one completes.
        results: VecDeque<usize>,
        /// The reaper's notifications are on (the eventfd is enabled).
        reaper_notify: bool,
        /// The reaper's eventfd was written and not read.
        reaper_signal: bool,
        /// The model is over: the reaper returns.
        shutdown: bool,
    }

    pub(super) struct Ring {
        token: Mutex<()>,
        state: Mutex<State>,
        /// A driver blocked in `wait`.
        driver_cv: Condvar,
        /// The background reaper blocked on its eventfd.
        reaper_cv: Condvar,
        pub(super) drivers: Drivers,
        /// Each waiting thread's waiter and whether its operation completed.
        pub(super) waiters: Vec<(Arc<Waiter>, AtomicBool)>,
    }

    impl Ring {
        pub(super) fn new(threads: usize) -> Self {
            Self {
                token: Mutex::new(()),
                state: Mutex::new(State {
                    reaper_notify: true,
                    ..State::default()
                }),
                driver_cv: Condvar::default(),
                reaper_cv: Condvar::default(),
                drivers: Drivers::default(),
                waiters: (0..threads)
                    .map(|_| (Waiter::new(), AtomicBool::new(false)))
                    .collect(),
            }
        }

        /// The kernel posts waiter `i`'s result.
        pub(super) fn complete(&self, i: usize) {
            let mut s = self.state.lock();
            s.results.push_back(i);
            if s.reaper_notify {
                s.reaper_signal = true;
                self.reaper_cv.notify_one();
            }
            self.driver_cv.notify_one();
        }

        /// What a thread waiting for its operation does (the waits' protocol).
        pub(super) fn wait_for(&self, i: usize) {
            let (w, done) = &self.waiters[i];
            loop {
                w.prepare();
                if done.load(Ordering::SeqCst) {
                    return;
                }
                self.drivers.block(self, w, None);
            }
        }

        /// The background reaper, until `stop`.
        pub(super) fn reaper(&self) {
            loop {
                {
                    let mut s = self.state.lock();
                    while !s.reaper_signal && !s.shutdown {
                        s = self.reaper_cv.wait(s);
                    }
                    if !s.reaper_signal {
                        return;
                    }
                    s.reaper_signal = false;
                }
                let token = self.token.lock();
                self.reap(&token);
                drop(token);
                self.drivers.hand_off();
            }
        }

        /// Ends the model: the reaper returns once nothing signals it any more.
        pub(super) fn stop(&self) {
            self.state.lock().shutdown = true;
            self.reaper_cv.notify_one();
        }
    }

    impl Drive for Ring {
        type Token<'a> = MutexGuard<'a, ()>;

        fn try_drive(&self) -> Option<MutexGuard<'_, ()>> {
            self.token.try_lock()
        }
        fn reap(&self, _token: &MutexGuard<'_, ()>) -> usize {
            let ready: Vec<usize> = self.state.lock().results.drain(..).collect();
            for &i in &ready {
                self.drivers.reaped();
                let (w, done) = &self.waiters[i];
                done.store(true, Ordering::SeqCst);
                w.notify();
            }
            ready.len()
        }
        fn wait(&self, _token: &MutexGuard<'_, ()>, _deadline: Option<Instant>) {
            let mut s = self.state.lock();
            while s.results.is_empty() {
                s = self.driver_cv.wait(s);
            }
        }
        fn set_reaper_notify(&self, _token: &MutexGuard<'_, ()>, on: bool) {
            // Like the eventfd: turning it on signals nothing already posted (the
            // driver reaps once more after it).
            self.state.lock().reaper_notify = on;
        }
    }
}

/// The driving-thread handoff: two threads wait for their own operations while a third
/// (the kernel) completes them and a third operation nobody waits for, and the
/// background reaper runs. Whoever drives reaps for
/// both; the other parks and is handed the token when the driver leaves; the reaper
/// reaps only while nobody drives. In every interleaving both waits return (loom
/// reports a deadlock otherwise: a lost wake-up or a stranded result) and every result
/// is reaped, the unwaited one too.
#[test]
fn loom_driver_handoff() {
    let mut builder = loom::model::Builder::new();
    // Bounded preemptions keep the five-party model tractable; the bound is the one
    // tokio uses for its scheduler models.
    builder.preemption_bound = Some(3);
    builder.check(|| {
        // Operations 0 and 1 have a waiting thread each; 2 has none (a callback-mode
        // operation): its result must be reaped all the same.
        let ring = Arc::new(model_ring::Ring::new(3));
        for _ in 0..3 {
            ring.drivers.armed();
        }
        let reaper = {
            let r = Arc::clone(&ring);
            loom::thread::spawn(move || r.reaper())
        };
        let other = {
            let r = Arc::clone(&ring);
            loom::thread::spawn(move || r.wait_for(1))
        };
        let kernel = {
            let r = Arc::clone(&ring);
            loom::thread::spawn(move || {
                r.complete(1);
                r.complete(0);
                r.complete(2);
            })
        };
        ring.wait_for(0);
        other.join().unwrap();
        kernel.join().unwrap();
        ring.stop();
        reaper.join().unwrap();
        // Every result reaped once: the last one, posted when nobody waits, by the
        // background reaper unless a driver took it.
        for (i, (_, done)) in ring.waiters.iter().enumerate() {
            assert!(
                done.load(crate::sync::Ordering::SeqCst),
                "result {i} stranded"
            );
        }
    });
}

/// A user APC queued from another thread to a thread blocked in an alertable
/// synchronous call (`poll_blocking`): the blocked thread always wakes and runs it,
/// whatever the interleaving of its arming and the push (no lost wake-up).
#[test]
fn loom_apc_wakes_a_blocking_poll() {
    loom::model(|| {
        let target = alertable::ApcTarget::current();
        let ran = Arc::new(crate::sync::AtomicUsize::new(0));
        let r = Arc::clone(&ran);
        let t = loom::thread::spawn(move || {
            assert!(target.queue(move || {
                r.fetch_add(1, crate::sync::Ordering::SeqCst);
            }));
        });
        assert!(alertable::model_alertable_block());
        t.join().unwrap();
        assert_eq!(ran.load(crate::sync::Ordering::SeqCst), 1);
    });
}
