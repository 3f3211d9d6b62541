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
