//! DESIGN.md guarantees 1 and 3, across threads: a completion's event is seen by another
//! thread waiting on it while the issuing thread computes or is blocked outside the
//! library; `is_complete` and `result(false)` see a finished completion without anyone
//! having waited; a waiter wakes when its condition holds (bounded generously, never
//! timed for speed), and a wait with a timeout returns `Timeout` when nothing happens.

mod util;

use std::cell::Cell;
use std::hint::black_box;
use std::rc::Rc;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use overlapped::{
    Event, NtStatus, Overlapped, Recv, SleepOutcome, Status, WaitOutcome, WsaError,
    sleep_alertable, wait_any,
};

/// Upper bound on every wait: a broken library fails instead of hanging.
const LONG: Duration = Duration::from_secs(5);
/// "Promptly", generously: a wake-up later than this is a missed one.
const PROMPT: Duration = Duration::from_secs(2);
/// How long "nothing happens" is watched for.
const SHORT: Duration = Duration::from_millis(150);

/// Computes (never calling into the library or blocking) until `done` reports or
/// `LONG` passes; returns what `done` reported.
fn spin_until<T>(done: &mpsc::Receiver<T>) -> Option<T> {
    let end = Instant::now() + LONG;
    let mut x = 0u64;
    while Instant::now() < end {
        for i in 0..10_000u64 {
            x = black_box(x.wrapping_mul(31).wrapping_add(i));
        }
        if let Ok(v) = done.try_recv() {
            return Some(v);
        }
    }
    None
}

#[test]
fn event_is_seen_by_another_thread_while_the_issuer_computes() {
    let (client, server) = util::tcp_pair();
    let ev = Event::new_manual();
    let ov = Overlapped::with_event(&ev);
    let posted = Recv::new(&server, vec![0u8; 16]).post(&ov).unwrap();
    assert_eq!(posted.status(), Status::Pending);
    let (tx, rx) = mpsc::channel();
    std::thread::scope(|s| {
        let ev2 = ev.clone();
        s.spawn(move || tx.send(wait_any(&[&ev2], Some(LONG), false)).unwrap());
        s.spawn(|| client.send(b"while busy").unwrap());
        // The issuing thread only computes.
        let got = spin_until(&rx).expect("the waiting thread never woke");
        assert_eq!(got.unwrap(), WaitOutcome::Signaled(0));
    });
    assert_eq!(ov.result(false).unwrap().bytes, 10);
    let (r, buf) = posted.wait();
    assert_eq!(r.unwrap().bytes, 10);
    assert_eq!(&buf[..10], b"while busy");
}

#[test]
fn several_waiters_each_see_their_event_while_the_issuer_computes() {
    let pairs: Vec<_> = (0..4).map(|_| util::tcp_pair()).collect();
    let events: Vec<Event> = (0..4).map(|_| Event::new_manual()).collect();
    let ovs: Vec<Overlapped> = events.iter().map(Overlapped::with_event).collect();
    let posted: Vec<_> = pairs
        .iter()
        .zip(&ovs)
        .map(|((_, server), ov)| Recv::new(server, vec![0u8; 8]).post(ov).unwrap())
        .collect();
    let (tx, rx) = mpsc::channel();
    std::thread::scope(|s| {
        for (i, ev) in events.iter().enumerate() {
            let (ev, tx) = (ev.clone(), tx.clone());
            s.spawn(move || tx.send((i, wait_any(&[&ev], Some(LONG), false))).unwrap());
        }
        s.spawn(|| {
            for (i, (client, _)) in pairs.iter().enumerate() {
                client.send(&[b"abcd"[i]]).unwrap();
            }
        });
        let mut woke = [false; 4];
        for _ in 0..4 {
            let (i, r) = spin_until(&rx).expect("a waiting thread never woke");
            assert_eq!(r.unwrap(), WaitOutcome::Signaled(0));
            woke[i] = true;
        }
        assert_eq!(woke, [true; 4]);
    });
    for (i, p) in posted.into_iter().enumerate() {
        let (r, buf) = p.wait();
        assert_eq!(r.unwrap().bytes, 1);
        assert_eq!(buf[0], b"abcd"[i]);
    }
}

#[test]
fn event_is_seen_by_another_thread_while_the_issuer_is_blocked_elsewhere() {
    let (client, server) = util::tcp_pair();
    let ev = Event::new_manual();
    let ov = Overlapped::with_event(&ev);
    let posted = Recv::new(&server, vec![0u8; 16]).post(&ov).unwrap();
    assert_eq!(posted.status(), Status::Pending);
    let (tx, rx) = mpsc::channel();
    std::thread::scope(|s| {
        let ev2 = ev.clone();
        s.spawn(move || tx.send(wait_any(&[&ev2], Some(LONG), false)).unwrap());
        s.spawn(|| client.send(b"blocked").unwrap());
        // The issuing thread blocks outside the library.
        let got = rx
            .recv_timeout(LONG + LONG)
            .expect("the waiting thread never reported");
        assert_eq!(got.unwrap(), WaitOutcome::Signaled(0));
    });
    assert_eq!(posted.wait().0.unwrap().bytes, 7);
}

#[test]
fn completion_is_observable_without_anyone_waiting() {
    let (client, server) = util::tcp_pair();
    let ev = Event::new_manual();
    let ov = Overlapped::with_event(&ev);
    let posted = Recv::new(&server, vec![0u8; 16]).post(&ov).unwrap();
    assert_eq!(posted.status(), Status::Pending);
    std::thread::scope(|s| {
        s.spawn(|| client.send(b"unwatched").unwrap());
    });
    // Nobody waits: the issuer sleeps outside the library and polls the record.
    assert!(
        util::eventually(LONG, || ov.is_complete()),
        "the completion was never delivered while nobody waited"
    );
    assert_eq!(ov.status(), NtStatus::SUCCESS);
    assert_eq!(ov.result(false).unwrap().bytes, 9);
    assert!(ev.is_set(), "the event must be set too");
    assert!(posted.is_complete());
    let (r, buf) = posted.try_take().expect("complete: the buffers are back");
    assert_eq!(r.unwrap().bytes, 9);
    assert_eq!(&buf[..9], b"unwatched");
}

#[test]
fn event_is_set_without_anyone_waiting_while_the_issuer_computes() {
    let (client, server) = util::tcp_pair();
    let ev = Event::new_manual();
    let ov = Overlapped::with_event(&ev);
    let _posted = Recv::new(&server, vec![0u8; 16]).post(&ov).unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::scope(|s| {
        s.spawn(|| client.send(b"x").unwrap());
        // A watcher that polls without waiting in the library.
        let ev2 = ev.clone();
        s.spawn(move || tx.send(util::eventually(LONG, || ev2.is_set())).unwrap());
        assert_eq!(spin_until(&rx), Some(true), "the event was never set");
    });
    assert!(ov.is_complete());
    assert_eq!(ov.result(false).unwrap().bytes, 1);
}

#[test]
fn routine_mode_completion_is_observable_but_the_routine_waits_for_its_thread() {
    let (client, server) = util::tcp_pair();
    let ov = Overlapped::new();
    let ran = Rc::new(Cell::new(false));
    let r2 = Rc::clone(&ran);
    let st = Recv::new(&server, vec![0u8; 16])
        .post_with_routine(&ov, move |_| r2.set(true))
        .unwrap();
    assert_eq!(st, Status::Pending);
    client.send(b"abc").unwrap();
    assert!(util::eventually(LONG, || ov.is_complete()));
    assert_eq!(ov.result(false).unwrap().bytes, 3);
    assert!(!ran.get(), "the routine ran outside an alertable wait");
    assert_eq!(sleep_alertable(Some(LONG)), SleepOutcome::IoCompletion);
    assert!(ran.get());
}

#[test]
fn a_blocked_waiter_wakes_when_its_event_is_set_by_a_completion() {
    let (client, server) = util::tcp_pair();
    let ev = Event::new_manual();
    let ov = Overlapped::with_event(&ev);
    let posted = Recv::new(&server, vec![0u8; 16]).post(&ov).unwrap();
    std::thread::scope(|s| {
        let waiter = s.spawn(|| wait_any(&[&ev], Some(PROMPT), false));
        client.send(b"wake").unwrap();
        assert_eq!(
            waiter.join().unwrap().unwrap(),
            WaitOutcome::Signaled(0),
            "the waiter did not wake within {PROMPT:?}"
        );
    });
    assert_eq!(posted.wait().0.unwrap().bytes, 4);
}

#[test]
fn a_blocked_result_wait_wakes_on_completion() {
    let (client, server) = util::tcp_pair();
    let ov = Overlapped::new();
    let posted = Recv::new(&server, vec![0u8; 16]).post(&ov).unwrap();
    std::thread::scope(|s| {
        let waiter = s.spawn(|| ov.result_timeout(Some(PROMPT)));
        s.spawn(|| client.send(b"result").unwrap());
        assert_eq!(waiter.join().unwrap().unwrap().bytes, 6);
    });
    assert_eq!(posted.wait().0.unwrap().bytes, 6);
}

#[test]
fn an_alertable_sleep_wakes_when_its_routine_is_queued() {
    let (client, server) = util::tcp_pair();
    let ov = Overlapped::new();
    let ran = Rc::new(Cell::new(0u32));
    let r2 = Rc::clone(&ran);
    Recv::new(&server, vec![0u8; 16])
        .post_with_routine(&ov, move |c| {
            assert_eq!(c.result.unwrap().bytes, 2);
            r2.set(r2.get() + 1);
        })
        .unwrap();
    std::thread::scope(|s| {
        s.spawn(|| {
            // Likely sent while the main thread sleeps; the test holds either way.
            std::thread::sleep(Duration::from_millis(30));
            client.send(b"hi").unwrap();
        });
        assert_eq!(
            sleep_alertable(Some(PROMPT)),
            SleepOutcome::IoCompletion,
            "the alertable sleep did not wake within {PROMPT:?}"
        );
    });
    assert_eq!(ran.get(), 1);
}

#[test]
fn a_wait_with_a_timeout_returns_timeout_when_nothing_happens() {
    let (_client, server) = util::tcp_pair();
    let ev = Event::new_manual();
    let ov = Overlapped::with_event(&ev);
    let posted = Recv::new(&server, vec![0u8; 16]).post(&ov).unwrap();
    assert_eq!(
        wait_any(&[&ev], Some(SHORT), false).unwrap(),
        WaitOutcome::Timeout
    );
    assert_eq!(
        ov.result_timeout(Some(SHORT)),
        Err(WsaError::WSA_IO_INCOMPLETE)
    );
    assert_eq!(sleep_alertable(Some(SHORT)), SleepOutcome::Timeout);
    assert!(!ov.is_complete());
    assert!(!posted.is_complete());
}

#[test]
fn a_waiter_is_not_woken_by_another_records_completion() {
    let (client_a, server_a) = util::tcp_pair();
    let (_client_b, server_b) = util::tcp_pair();
    let ev_a = Event::new_manual();
    let ev_b = Event::new_manual();
    let ov_a = Overlapped::with_event(&ev_a);
    let ov_b = Overlapped::with_event(&ev_b);
    let pa = Recv::new(&server_a, vec![0u8; 8]).post(&ov_a).unwrap();
    let _pb = Recv::new(&server_b, vec![0u8; 8]).post(&ov_b).unwrap();
    std::thread::scope(|s| {
        let waiter = s.spawn(|| wait_any(&[&ev_b], Some(Duration::from_millis(300)), false));
        client_a.send(b"a").unwrap();
        assert!(ev_a.wait(Some(LONG)).unwrap());
        assert_eq!(
            waiter.join().unwrap().unwrap(),
            WaitOutcome::Timeout,
            "woken by an unrelated completion"
        );
    });
    assert!(!ev_b.is_set());
    assert_eq!(pa.wait().0.unwrap().bytes, 1);
}
