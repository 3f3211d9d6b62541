//! §1.1 the completion-indication matrix: with no event and no routine the record itself
//! is signalled; with an event the event is signalled; with a routine the routine runs
//! once and the event is not signalled.

mod util;

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use overlapped::{Event, Overlapped, Recv, SleepOutcome, Status, WaitOutcome, sleep_alertable};

/// Upper bound on every wait: a broken library fails instead of hanging.
const LONG: Duration = Duration::from_secs(5);

#[test]
fn no_event_no_routine_signals_the_record() {
    let (client, server) = util::tcp_pair();
    let ov = Overlapped::new();
    assert!(ov.event().is_none());
    let posted = Recv::new(&server, vec![0u8; 8]).post(&ov).unwrap();
    assert_eq!(posted.status(), Status::Pending);
    assert!(!ov.is_complete(), "complete before any data arrived");
    assert!(!posted.is_complete());

    client.send(b"abc").unwrap();
    // WSAGetOverlappedResult(fWait = TRUE) waits on the record when there is no event.
    let t = ov
        .result_timeout(Some(LONG))
        .expect("the record is signalled");
    assert_eq!(t.bytes, 3);
    assert!(ov.is_complete());
    assert!(posted.is_complete());
    let (r, buf) = posted.wait();
    assert_eq!(r.unwrap().bytes, 3);
    assert_eq!(&buf[..3], b"abc");
}

#[test]
fn no_event_result_wait_true_blocks_until_completion() {
    let (client, server) = util::tcp_pair();
    let ov = Overlapped::new();
    let _posted = Recv::new(&server, vec![0u8; 8]).post(&ov).unwrap();
    let (r, fired) = std::thread::scope(|s| {
        s.spawn(|| {
            // Sends while the main thread is (very likely) blocked in result(true); the
            // test holds either way.
            std::thread::sleep(Duration::from_millis(50));
            client.send(b"xy").unwrap();
        });
        // If the record is never signalled the watchdog aborts the socket, and the
        // wait ends with an abort instead of hanging.
        util::with_watchdog(LONG, || server.abort(), || ov.result(true))
    });
    assert!(
        !fired,
        "result(wait = true) did not return: record never signalled"
    );
    assert_eq!(
        r.expect("result(wait = true) returns the transfer").bytes,
        2
    );
    assert!(ov.is_complete());
}

#[test]
fn event_mode_signals_the_event() {
    let (client, server) = util::tcp_pair();
    let ev = Event::new_manual();
    let ov = Overlapped::with_event(&ev);
    let posted = Recv::new(&server, vec![0u8; 8]).post(&ov).unwrap();
    assert_eq!(posted.status(), Status::Pending);
    assert!(!ev.is_set(), "event set before completion");

    client.send(b"hello").unwrap();
    assert!(ev.wait(Some(LONG)).unwrap(), "event never signalled");
    assert!(ev.is_set(), "manual-reset event must stay set");
    assert!(ov.is_complete());
    let (r, buf) = posted.wait();
    assert_eq!(r.unwrap().bytes, 5);
    assert_eq!(&buf[..5], b"hello");
}

#[test]
fn event_mode_with_auto_reset_event_releases_a_wait() {
    let (client, server) = util::tcp_pair();
    let ev = Event::new_auto();
    let ov = Overlapped::with_event(&ev);
    let posted = Recv::new(&server, vec![0u8; 8]).post(&ov).unwrap();
    client.send(b"z").unwrap();
    assert_eq!(
        overlapped::wait_any(&[&ev], Some(LONG), false).unwrap(),
        WaitOutcome::Signaled(0)
    );
    assert!(!ev.is_set(), "the wait must reset an auto-reset event");
    assert_eq!(posted.wait().0.unwrap().bytes, 1);
}

#[test]
fn routine_mode_runs_the_routine_once_and_leaves_the_event_unset() {
    let (client, server) = util::tcp_pair();
    let ev = Event::new_manual();
    let ov = Overlapped::with_event(&ev);
    let calls = Rc::new(Cell::new(0u32));
    let got = Rc::new(Cell::new(0usize));
    let (c2, g2) = (Rc::clone(&calls), Rc::clone(&got));
    let st = Recv::new(&server, vec![0u8; 8])
        .post_with_routine(&ov, move |c| {
            c2.set(c2.get() + 1);
            g2.set(c.result.unwrap().bytes);
            assert_eq!(&c.output[..4], b"ping");
        })
        .unwrap();
    assert_eq!(st, Status::Pending);

    client.send(b"ping").unwrap();
    // The record completes (observable without waiting alertably).
    assert_eq!(ov.result_timeout(Some(LONG)).unwrap().bytes, 4);
    assert_eq!(calls.get(), 0, "routine ran outside an alertable wait");
    assert_eq!(sleep_alertable(Some(LONG)), SleepOutcome::IoCompletion);
    assert_eq!(calls.get(), 1, "routine must run exactly once");
    assert_eq!(got.get(), 4);
    assert!(
        !ev.is_set(),
        "a routine-mode completion must not signal the event"
    );
    // Nothing more is queued: the routine never runs twice.
    assert_eq!(
        sleep_alertable(Some(Duration::from_millis(20))),
        SleepOutcome::Timeout
    );
    assert_eq!(calls.get(), 1);
    assert!(!ev.is_set());
}

#[test]
fn routine_mode_immediate_completion_leaves_the_event_unset() {
    let (client, server) = util::tcp_pair();
    client.send(b"ready").unwrap();
    // Wait until the data is there, so the post completes during the call.
    assert!(util::eventually(LONG, || {
        let mut b = [0u8; 8];
        server.peek(&mut b).unwrap_or(0) == 5
    }));
    let ev = Event::new_manual();
    let ov = Overlapped::with_event(&ev);
    let calls = Rc::new(Cell::new(0u32));
    let c2 = Rc::clone(&calls);
    let st = Recv::new(&server, vec![0u8; 8])
        .post_with_routine(&ov, move |_| c2.set(c2.get() + 1))
        .unwrap();
    assert!(matches!(st, Status::Immediate(t) if t.bytes == 5));
    assert_eq!(sleep_alertable(Some(LONG)), SleepOutcome::IoCompletion);
    assert_eq!(calls.get(), 1);
    assert!(
        !ev.is_set(),
        "a routine-mode completion must not signal the event"
    );
}
