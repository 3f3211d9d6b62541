//! §1.5 event objects and `WSAWaitForMultipleEvents`: manual- and auto-reset semantics,
//! posting resets the event, the lowest signalled index wins, wait-all changes nothing
//! until all are set, timeouts and polls, the 1..=64 limit, and alertable waits with no
//! routines queued.

mod util;

use std::sync::mpsc;
use std::time::{Duration, Instant};

use overlapped::{
    Event, MAXIMUM_WAIT_EVENTS, Overlapped, Recv, Status, WaitOutcome, WsaError, wait_all, wait_any,
};

/// Upper bound on every wait: a broken library fails instead of hanging.
const LONG: Duration = Duration::from_secs(5);
/// How long "nothing happens" is watched for.
const SHORT: Duration = Duration::from_millis(100);
const ZERO: Option<Duration> = Some(Duration::ZERO);

#[test]
fn manual_reset_event_stays_set_until_reset() {
    let ev = Event::new_manual();
    assert!(ev.is_manual_reset());
    assert!(!ev.is_set(), "WSACreateEvent's events start unsignalled");
    assert_eq!(wait_any(&[&ev], ZERO, false).unwrap(), WaitOutcome::Timeout);
    ev.set();
    for _ in 0..3 {
        assert_eq!(
            wait_any(&[&ev], ZERO, false).unwrap(),
            WaitOutcome::Signaled(0)
        );
        assert!(ev.is_set(), "a wait must not reset a manual-reset event");
    }
    ev.reset();
    assert!(!ev.is_set());
    assert_eq!(wait_any(&[&ev], ZERO, false).unwrap(), WaitOutcome::Timeout);
}

#[test]
fn manual_reset_event_releases_every_waiter() {
    let ev = Event::new_manual();
    let (tx, rx) = mpsc::channel();
    std::thread::scope(|s| {
        for _ in 0..3 {
            let (ev, tx) = (ev.clone(), tx.clone());
            s.spawn(move || tx.send(wait_any(&[&ev], Some(LONG), false)).unwrap());
        }
        ev.set();
        for _ in 0..3 {
            let r = rx.recv_timeout(LONG + LONG).unwrap();
            assert_eq!(r.unwrap(), WaitOutcome::Signaled(0));
        }
    });
    assert!(ev.is_set());
}

#[test]
fn auto_reset_event_is_reset_by_the_wait_it_releases() {
    let ev = Event::new_auto();
    assert!(!ev.is_manual_reset());
    ev.set();
    assert!(ev.is_set());
    assert_eq!(
        wait_any(&[&ev], ZERO, false).unwrap(),
        WaitOutcome::Signaled(0)
    );
    assert!(
        !ev.is_set(),
        "the released wait must reset an auto-reset event"
    );
    assert_eq!(wait_any(&[&ev], ZERO, false).unwrap(), WaitOutcome::Timeout);
    let initially = Event::with_mode(false, true);
    assert!(initially.is_set());
    assert!(initially.wait(ZERO).unwrap());
    assert!(!initially.wait(ZERO).unwrap());
}

#[test]
fn auto_reset_event_releases_exactly_one_waiter_per_set() {
    let ev = Event::new_auto();
    let (tx, rx) = mpsc::channel();
    std::thread::scope(|s| {
        for _ in 0..2 {
            let (ev, tx) = (ev.clone(), tx.clone());
            s.spawn(move || tx.send(wait_any(&[&ev], Some(LONG), false)).unwrap());
        }
        ev.set();
        let first = rx.recv_timeout(LONG + LONG).unwrap().unwrap();
        assert_eq!(first, WaitOutcome::Signaled(0));
        assert!(
            !ev.is_set(),
            "the released waiter must have reset the event"
        );
        // The other waiter stays blocked: one set releases one waiter.
        assert!(
            rx.recv_timeout(SHORT).is_err(),
            "a single set released a second waiter"
        );
        ev.set();
        let second = rx.recv_timeout(LONG + LONG).unwrap().unwrap();
        assert_eq!(second, WaitOutcome::Signaled(0));
        assert!(!ev.is_set());
    });
}

#[test]
fn posting_an_operation_resets_its_event() {
    let (client, server) = util::tcp_pair();
    let ev = Event::new_manual();
    ev.set();
    let ov = Overlapped::with_event(&ev);
    let posted = Recv::new(&server, vec![0u8; 8]).post(&ov).unwrap();
    assert_eq!(posted.status(), Status::Pending);
    assert!(!ev.is_set(), "posting must reset the event");
    client.send(b"x").unwrap();
    assert!(ev.wait(Some(LONG)).unwrap());
    let _ = posted.wait();
}

#[test]
fn wait_any_reports_the_lowest_signalled_index() {
    let events: Vec<Event> = (0..6).map(|_| Event::new_manual()).collect();
    let refs: Vec<&Event> = events.iter().collect();
    events[4].set();
    assert_eq!(
        wait_any(&refs, ZERO, false).unwrap(),
        WaitOutcome::Signaled(4)
    );
    events[3].set();
    events[1].set();
    assert_eq!(
        wait_any(&refs, ZERO, false).unwrap(),
        WaitOutcome::Signaled(1)
    );
    events[0].set();
    assert_eq!(
        wait_any(&refs, ZERO, false).unwrap(),
        WaitOutcome::Signaled(0)
    );
}

#[test]
fn wait_any_resets_only_the_auto_reset_event_it_reports() {
    let events: Vec<Event> = (0..4).map(|_| Event::new_auto()).collect();
    let refs: Vec<&Event> = events.iter().collect();
    events[1].set();
    events[3].set();
    assert_eq!(
        wait_any(&refs, ZERO, false).unwrap(),
        WaitOutcome::Signaled(1)
    );
    assert!(!events[1].is_set());
    assert!(
        events[3].is_set(),
        "an unreported event must keep its signal"
    );
    assert_eq!(
        wait_any(&refs, ZERO, false).unwrap(),
        WaitOutcome::Signaled(3)
    );
    assert_eq!(wait_any(&refs, ZERO, false).unwrap(), WaitOutcome::Timeout);
}

#[test]
fn wait_all_changes_nothing_until_all_are_set() {
    let events: Vec<Event> = (0..3).map(|_| Event::new_auto()).collect();
    let refs: Vec<&Event> = events.iter().collect();
    events[0].set();
    events[2].set();
    assert_eq!(wait_all(&refs, ZERO, false).unwrap(), WaitOutcome::Timeout);
    assert_eq!(
        wait_all(&refs, Some(SHORT), false).unwrap(),
        WaitOutcome::Timeout
    );
    assert!(events[0].is_set(), "wait_all must not take a partial set");
    assert!(events[2].is_set(), "wait_all must not take a partial set");
    events[1].set();
    assert_eq!(
        wait_all(&refs, ZERO, false).unwrap(),
        WaitOutcome::Signaled(0)
    );
    assert!(
        events.iter().all(|e| !e.is_set()),
        "all auto-reset events are reset together"
    );
}

#[test]
fn wait_all_blocks_until_the_last_event_is_set() {
    let a = Event::new_manual();
    let b = Event::new_manual();
    a.set();
    let r = std::thread::scope(|s| {
        s.spawn(|| {
            // Likely set while the main thread is blocked; the test holds either way.
            std::thread::sleep(Duration::from_millis(30));
            b.set();
        });
        wait_all(&[&a, &b], Some(LONG), false)
    });
    assert_eq!(
        r.unwrap(),
        WaitOutcome::Signaled(0),
        "wait_all did not return when both were set"
    );
    assert!(a.is_set() && b.is_set(), "manual-reset events stay set");
}

#[test]
fn wait_all_refuses_duplicates() {
    let a = Event::new_manual();
    a.set();
    assert_eq!(
        wait_all(&[&a, &a], ZERO, false),
        Err(WsaError::WSA_INVALID_PARAMETER)
    );
}

#[test]
fn a_timeout_returns_timeout_after_the_time() {
    let ev = Event::new_manual();
    let t = Duration::from_millis(60);
    let start = Instant::now();
    assert_eq!(
        wait_any(&[&ev], Some(t), false).unwrap(),
        WaitOutcome::Timeout
    );
    assert!(start.elapsed() >= t, "returned before the timeout");
    let start = Instant::now();
    assert_eq!(
        wait_all(&[&ev], Some(t), false).unwrap(),
        WaitOutcome::Timeout
    );
    assert!(start.elapsed() >= t, "returned before the timeout");
    assert!(!ev.wait(Some(t)).unwrap());
}

#[test]
fn a_zero_timeout_polls() {
    let a = Event::new_manual();
    let b = Event::new_auto();
    assert_eq!(
        wait_any(&[&a, &b], ZERO, false).unwrap(),
        WaitOutcome::Timeout
    );
    b.set();
    assert_eq!(
        wait_any(&[&a, &b], ZERO, false).unwrap(),
        WaitOutcome::Signaled(1)
    );
    assert_eq!(
        wait_any(&[&a, &b], ZERO, false).unwrap(),
        WaitOutcome::Timeout
    );
}

#[test]
fn more_than_64_or_no_events_is_invalid() {
    assert_eq!(MAXIMUM_WAIT_EVENTS, 64);
    let events: Vec<Event> = (0..65).map(|_| Event::new_manual()).collect();
    for e in &events {
        e.set();
    }
    let refs: Vec<&Event> = events.iter().collect();
    assert_eq!(
        wait_any(&refs, ZERO, false),
        Err(WsaError::WSA_INVALID_PARAMETER)
    );
    assert_eq!(
        wait_all(&refs, ZERO, false),
        Err(WsaError::WSA_INVALID_PARAMETER)
    );
    assert_eq!(
        wait_any(&[], ZERO, false),
        Err(WsaError::WSA_INVALID_PARAMETER)
    );
    assert_eq!(
        wait_all(&[], ZERO, false),
        Err(WsaError::WSA_INVALID_PARAMETER)
    );
    // Exactly 64 is fine.
    for e in &events[..63] {
        e.reset();
    }
    assert_eq!(
        wait_any(&refs[..64], ZERO, false).unwrap(),
        WaitOutcome::Signaled(63)
    );
    assert_eq!(
        wait_all(&refs[..64], ZERO, false).unwrap(),
        WaitOutcome::Timeout
    );
}

#[test]
fn alertable_wait_with_no_routines_is_a_normal_wait() {
    let ev = Event::new_auto();
    assert_eq!(
        wait_any(&[&ev], Some(SHORT), true).unwrap(),
        WaitOutcome::Timeout
    );
    ev.set();
    assert_eq!(
        wait_any(&[&ev], Some(LONG), true).unwrap(),
        WaitOutcome::Signaled(0)
    );
    assert!(!ev.is_set());
    let r = std::thread::scope(|s| {
        s.spawn(|| {
            // Likely set while the main thread is blocked; the test holds either way.
            std::thread::sleep(Duration::from_millis(30));
            ev.set();
        });
        wait_any(&[&ev], Some(LONG), true)
    });
    assert_eq!(r.unwrap(), WaitOutcome::Signaled(0));
    let a = Event::new_manual();
    a.set();
    assert_eq!(
        wait_all(&[&a, &ev], Some(SHORT), true).unwrap(),
        WaitOutcome::Timeout
    );
}
