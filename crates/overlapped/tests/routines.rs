//! §1.4 completion routines: run only on the issuing thread, only inside its alertable
//! waits, in FIFO order, never nested for one socket, and still queued for an operation
//! that completed during its post.

mod util;

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::{self, ThreadId};
use std::time::Duration;

use overlapped::{
    Event, Ioctl, IoctlOutput, Overlapped, Recv, SleepOutcome, Socket, Status, Transfer,
    WaitOutcome, WsaError, sleep, sleep_alertable, wait_any,
};

/// Upper bound on every wait: a broken library fails instead of hanging.
const LONG: Duration = Duration::from_secs(5);

/// What a routine saw: the thread it ran on, its result and the bytes received.
type Seen = Rc<RefCell<Vec<(ThreadId, Result<Transfer, WsaError>, Vec<u8>)>>>;

/// Posts a receive of up to `len` bytes on `sock` whose routine records into `seen`.
fn post_recording(sock: &Socket, ov: &Overlapped, len: usize, seen: &Seen) -> Status {
    let seen = Rc::clone(seen);
    Recv::new(sock, vec![0u8; len])
        .post_with_routine(ov, move |c| {
            let n = c.result.map_or(0, |t| t.bytes);
            seen.borrow_mut()
                .push((thread::current().id(), c.result, c.output[..n].to_vec()));
        })
        .expect("post receive with routine")
}

/// Waits until `sock` has at least `n` bytes queued.
fn wait_queued(sock: &Socket, n: u32) {
    assert!(
        util::eventually(LONG, || matches!(
            Ioctl::FionRead.run(sock),
            Ok(IoctlOutput::Value(v)) if v >= n
        )),
        "{n} bytes never arrived"
    );
}

#[test]
fn routine_runs_on_the_issuing_thread_in_its_alertable_wait() {
    let (client, server) = util::tcp_pair();
    let ov = Overlapped::new();
    let seen = Seen::default();
    assert_eq!(post_recording(&server, &ov, 16, &seen), Status::Pending);

    // The data arrives from another thread, which may also reap the completion.
    thread::scope(|s| {
        s.spawn(|| assert_eq!(client.send(b"hello").unwrap(), 5));
    });
    // A non-alertable wait for the result: it returns, the routine has not run.
    assert_eq!(ov.result_timeout(Some(LONG)).unwrap().bytes, 5);
    assert!(
        seen.borrow().is_empty(),
        "routine ran outside an alertable wait"
    );

    assert_eq!(
        sleep_alertable(Some(Duration::ZERO)),
        SleepOutcome::IoCompletion
    );
    let seen = seen.borrow();
    assert_eq!(seen.len(), 1, "routine must run exactly once");
    assert_eq!(seen[0].0, thread::current().id(), "ran on another thread");
    assert_eq!(seen[0].1.unwrap().bytes, 5);
    assert_eq!(seen[0].2, b"hello");
}

#[test]
fn another_threads_alertable_wait_never_runs_this_threads_routine() {
    let (client, server) = util::tcp_pair();
    let ov = Overlapped::new();
    let seen = Seen::default();
    assert_eq!(post_recording(&server, &ov, 16, &seen), Status::Pending);

    let stop = AtomicBool::new(false);
    let other_ran_something = thread::scope(|s| {
        // Thread B sleeps alertably (and so may reap the completion) the whole time.
        let b = s.spawn(|| {
            let mut ran = false;
            let mut rounds = 0;
            while !stop.load(Ordering::Acquire) && rounds < 250 {
                ran |=
                    sleep_alertable(Some(Duration::from_millis(20))) == SleepOutcome::IoCompletion;
                rounds += 1;
            }
            ran
        });
        client.send(b"abc").unwrap();
        let r = ov.result_timeout(Some(LONG));
        // Give B a few more alertable rounds after the completion is known.
        let _ = wait_any(
            &[&Event::new_manual()],
            Some(Duration::from_millis(60)),
            false,
        );
        stop.store(true, Ordering::Release);
        assert_eq!(r.unwrap().bytes, 3);
        b.join().unwrap()
    });
    assert!(
        !other_ran_something,
        "thread B's alertable wait ran a routine"
    );
    assert!(
        seen.borrow().is_empty(),
        "the routine ran before A's alertable wait"
    );

    assert_eq!(sleep_alertable(Some(LONG)), SleepOutcome::IoCompletion);
    let seen = seen.borrow();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].0, thread::current().id());
    assert_eq!(seen[0].2, b"abc");
}

#[test]
fn non_alertable_waits_never_run_routines() {
    let (client, server) = util::tcp_pair();
    let ov = Overlapped::new();
    let seen = Seen::default();
    assert_eq!(post_recording(&server, &ov, 16, &seen), Status::Pending);
    client.send(b"data").unwrap();

    // Overlapped::result(true): returns with the result, runs nothing.
    assert_eq!(ov.result(true).unwrap().bytes, 4);
    assert!(
        seen.borrow().is_empty(),
        "Overlapped::result ran the routine"
    );

    // wait_any(alertable = false) on an event that is never set: times out.
    let never = Event::new_manual();
    assert_eq!(
        wait_any(&[&never], Some(Duration::from_millis(50)), false).unwrap(),
        WaitOutcome::Timeout
    );
    assert!(
        seen.borrow().is_empty(),
        "a non-alertable wait_any ran the routine"
    );

    // Posted::wait on another (event-mode) operation.
    let (c2, s2) = util::tcp_pair();
    let ov2 = Overlapped::with_event(&Event::new_manual());
    let posted = Recv::new(&s2, vec![0u8; 8]).post(&ov2).unwrap();
    c2.send(b"x").unwrap();
    let (r, buf) = posted.wait();
    assert_eq!(r.unwrap().bytes, 1);
    assert_eq!(buf[0], b'x');
    assert!(seen.borrow().is_empty(), "Posted::wait ran the routine");

    // overlapped::sleep (Sleep / SleepEx(FALSE)).
    sleep(Duration::from_millis(30));
    assert!(seen.borrow().is_empty(), "sleep ran the routine");

    // The next alertable wait runs it, once.
    assert_eq!(
        sleep_alertable(Some(Duration::ZERO)),
        SleepOutcome::IoCompletion
    );
    assert_eq!(seen.borrow().len(), 1);
    assert_eq!(seen.borrow()[0].2, b"data");
    assert_eq!(
        sleep_alertable(Some(Duration::ZERO)),
        SleepOutcome::Timeout,
        "a routine ran twice"
    );
    assert_eq!(seen.borrow().len(), 1);
}

#[test]
fn routines_run_in_fifo_order_of_completion() {
    let pairs: Vec<(Socket, Socket)> = (0..3).map(|_| util::tcp_pair()).collect();
    let ovs: Vec<Overlapped> = (0..3).map(|_| Overlapped::new()).collect();
    let order = Rc::new(RefCell::new(Vec::new()));
    for (i, ((_, server), ov)) in pairs.iter().zip(&ovs).enumerate() {
        let order = Rc::clone(&order);
        let st = Recv::new(server, vec![0u8; 8])
            .post_with_routine(ov, move |c| {
                assert!(c.result.is_ok());
                order.borrow_mut().push(i);
            })
            .unwrap();
        assert_eq!(st, Status::Pending);
    }
    // Complete them in the order 2, 0, 1 (not the posting order).
    for i in [2, 0, 1] {
        pairs[i].0.send(b"x").unwrap();
        assert_eq!(ovs[i].result_timeout(Some(LONG)).unwrap().bytes, 1);
    }
    assert!(order.borrow().is_empty());
    // One alertable wait runs every queued routine, oldest completion first.
    assert_eq!(
        sleep_alertable(Some(Duration::ZERO)),
        SleepOutcome::IoCompletion
    );
    assert_eq!(*order.borrow(), vec![2, 0, 1]);
}

#[test]
fn sleep_alertable_times_out_when_no_routine_ran() {
    assert_eq!(sleep_alertable(Some(Duration::ZERO)), SleepOutcome::Timeout);
    // A pending operation that does not complete does not end the sleep.
    let (_client, server) = util::tcp_pair();
    let ov = Overlapped::new();
    let seen = Seen::default();
    assert_eq!(post_recording(&server, &ov, 8, &seen), Status::Pending);
    assert_eq!(
        sleep_alertable(Some(Duration::from_millis(50))),
        SleepOutcome::Timeout
    );
    assert!(seen.borrow().is_empty());
    assert!(!ov.is_complete());
    server.cancel_all();
    assert_eq!(sleep_alertable(Some(LONG)), SleepOutcome::IoCompletion);
    assert_eq!(seen.borrow().len(), 1);
}

#[test]
fn sleep_alertable_returns_io_completion_when_a_routine_completes_during_it() {
    let (client, server) = util::tcp_pair();
    let ov = Overlapped::new();
    let seen = Seen::default();
    assert_eq!(post_recording(&server, &ov, 8, &seen), Status::Pending);
    thread::scope(|s| {
        s.spawn(|| client.send(b"late").unwrap());
        // The sleep must end because the routine ran, not because the time passed.
        assert_eq!(sleep_alertable(Some(LONG)), SleepOutcome::IoCompletion);
    });
    assert_eq!(seen.borrow().len(), 1);
    assert_eq!(seen.borrow()[0].2, b"late");
}

#[test]
fn alertable_wait_any_on_a_never_signalled_event_reports_io_completion() {
    let (client, server) = util::tcp_pair();
    let ov = Overlapped::new();
    let seen = Seen::default();
    assert_eq!(post_recording(&server, &ov, 32, &seen), Status::Pending);
    client.send(b"Network is Computer!").unwrap();
    let never = Event::new_manual();
    assert_eq!(
        wait_any(&[&never], Some(LONG), true).unwrap(),
        WaitOutcome::IoCompletion
    );
    assert!(!never.is_set(), "the awaited event must not be signalled");
    assert_eq!(seen.borrow().len(), 1);
    assert_eq!(seen.borrow()[0].2, b"Network is Computer!");
    // Nothing left: the next alertable wait times out.
    assert_eq!(
        wait_any(&[&never], Some(Duration::ZERO), true).unwrap(),
        WaitOutcome::Timeout
    );
}

/// Posts a receive whose routine records the message and posts the next receive,
/// until the peer closes (the seeds' routine server).
fn post_chain(sock: Rc<Socket>, ov: Rc<Overlapped>, got: Rc<RefCell<Vec<Vec<u8>>>>) {
    let (s2, ov2, got2) = (Rc::clone(&sock), Rc::clone(&ov), Rc::clone(&got));
    Recv::new(&sock, vec![0u8; 64])
        .post_with_routine(&ov, move |c| {
            let n = c.result.expect("chained receive").bytes;
            got2.borrow_mut().push(c.output[..n].to_vec());
            if n > 0 {
                post_chain(s2, ov2, got2);
            }
        })
        .expect("post chained receive");
}

#[test]
fn a_routine_may_post_the_next_operation() {
    let (client, server) = util::tcp_pair();
    let server = Rc::new(server);
    let ov = Rc::new(Overlapped::new());
    let got = Rc::new(RefCell::new(Vec::new()));
    post_chain(Rc::clone(&server), Rc::clone(&ov), Rc::clone(&got));
    let msgs: [&[u8]; 3] = [b"one", b"two", b"three"];
    for (i, m) in msgs.iter().enumerate() {
        client.send(m).unwrap();
        while got.borrow().len() <= i {
            assert_eq!(sleep_alertable(Some(LONG)), SleepOutcome::IoCompletion);
        }
    }
    drop(client);
    while got.borrow().len() < 4 {
        assert_eq!(sleep_alertable(Some(LONG)), SleepOutcome::IoCompletion);
    }
    let expected: Vec<Vec<u8>> = vec![b"one".to_vec(), b"two".to_vec(), b"three".to_vec(), vec![]];
    assert_eq!(*got.borrow(), expected);
    assert!(ov.is_complete(), "the chain stopped after end of stream");
}

/// Log lines written by the nesting tests' routines.
type Log = Rc<RefCell<Vec<String>>>;

fn post_logging(sock: &Socket, ov: &Overlapped, len: usize, name: &'static str, log: &Log) {
    let log = Rc::clone(log);
    let st = Recv::new(sock, vec![0u8; len])
        .post_with_routine(ov, move |c| {
            assert!(c.result.is_ok());
            log.borrow_mut().push(name.to_string());
        })
        .unwrap();
    assert!(
        matches!(st, Status::Immediate(_)),
        "{name}: data was queued"
    );
}

#[test]
fn routines_for_one_socket_are_not_nested() {
    let (ca, sa) = util::tcp_pair();
    let (cb, sb) = util::tcp_pair();
    ca.send(b"abcdef").unwrap();
    cb.send(b"x").unwrap();
    wait_queued(&sa, 6);
    wait_queued(&sb, 1);
    let log: Log = Log::default();
    let (ov_a1, ov_a2, ov_b) = (Overlapped::new(), Overlapped::new(), Overlapped::new());

    // A1's routine enters an alertable wait itself.
    let inner = Rc::new(RefCell::new(None));
    {
        let (log, inner) = (Rc::clone(&log), Rc::clone(&inner));
        let st = Recv::new(&sa, vec![0u8; 3])
            .post_with_routine(&ov_a1, move |c| {
                assert_eq!(c.output, b"abc");
                log.borrow_mut().push("A1 start".into());
                *inner.borrow_mut() = Some(sleep_alertable(Some(Duration::ZERO)));
                log.borrow_mut().push("A1 end".into());
            })
            .unwrap();
        assert!(matches!(st, Status::Immediate(_)));
    }
    post_logging(&sa, &ov_a2, 3, "A2", &log);
    post_logging(&sb, &ov_b, 8, "B", &log);

    assert_eq!(
        sleep_alertable(Some(Duration::ZERO)),
        SleepOutcome::IoCompletion
    );
    // Inside A1, the other socket's routine ran but A's second one waited.
    assert_eq!(*log.borrow(), ["A1 start", "B", "A1 end", "A2"]);
    assert_eq!(*inner.borrow(), Some(SleepOutcome::IoCompletion));
}

#[test]
fn nested_alertable_wait_for_the_same_socket_only_times_out() {
    let (c, s) = util::tcp_pair();
    c.send(b"abcdef").unwrap();
    wait_queued(&s, 6);
    let log: Log = Log::default();
    let (ov1, ov2) = (Overlapped::new(), Overlapped::new());
    let inner = Rc::new(RefCell::new(None));
    {
        let (log, inner) = (Rc::clone(&log), Rc::clone(&inner));
        Recv::new(&s, vec![0u8; 3])
            .post_with_routine(&ov1, move |_| {
                log.borrow_mut().push("A1 start".into());
                *inner.borrow_mut() = Some(sleep_alertable(Some(Duration::from_millis(20))));
                log.borrow_mut().push("A1 end".into());
            })
            .unwrap();
    }
    post_logging(&s, &ov2, 3, "A2", &log);
    assert_eq!(
        sleep_alertable(Some(Duration::ZERO)),
        SleepOutcome::IoCompletion
    );
    assert_eq!(*log.borrow(), ["A1 start", "A1 end", "A2"]);
    assert_eq!(*inner.borrow(), Some(SleepOutcome::Timeout));
}

#[test]
fn an_immediately_completed_operation_still_queues_its_routine() {
    let (client, server) = util::tcp_pair();
    client.send(b"ready").unwrap();
    wait_queued(&server, 5);
    let ov = Overlapped::new();
    let seen = Seen::default();
    let st = post_recording(&server, &ov, 16, &seen);
    assert_eq!(
        st,
        Status::Immediate(Transfer { bytes: 5, flags: 0 }),
        "data was queued, so the post completes at once"
    );
    assert!(seen.borrow().is_empty(), "the routine ran inside the post");
    assert_eq!(
        sleep_alertable(Some(Duration::ZERO)),
        SleepOutcome::IoCompletion
    );
    assert_eq!(seen.borrow().len(), 1);
    assert_eq!(seen.borrow()[0].1.unwrap().bytes, 5);
    assert_eq!(seen.borrow()[0].2, b"ready");
}

#[test]
fn a_routines_result_carries_the_wsa_error_code() {
    let (client, server) = util::tcp_pair();
    let ov = Overlapped::new();
    let seen = Seen::default();
    assert_eq!(post_recording(&server, &ov, 16, &seen), Status::Pending);
    util::close_with_rst(client);
    assert_eq!(ov.result_timeout(Some(LONG)), Err(WsaError::WSAECONNRESET));
    assert_eq!(sleep_alertable(Some(LONG)), SleepOutcome::IoCompletion);
    assert_eq!(seen.borrow().len(), 1);
    assert_eq!(seen.borrow()[0].1, Err(WsaError::WSAECONNRESET));

    // A cancelled receive's routine gets WSA_OPERATION_ABORTED.
    let (_c2, s2) = util::tcp_pair();
    let ov2 = Overlapped::new();
    let seen2 = Seen::default();
    assert_eq!(post_recording(&s2, &ov2, 16, &seen2), Status::Pending);
    assert!(s2.cancel(&ov2));
    assert_eq!(sleep_alertable(Some(LONG)), SleepOutcome::IoCompletion);
    assert_eq!(seen2.borrow().len(), 1);
    assert_eq!(seen2.borrow()[0].1, Err(WsaError::WSA_OPERATION_ABORTED));
}

#[test]
fn a_routine_ignores_the_records_event() {
    let (client, server) = util::tcp_pair();
    let ev = Event::new_manual();
    let ov = Overlapped::with_event(&ev);
    let seen = Seen::default();
    assert_eq!(post_recording(&server, &ov, 8, &seen), Status::Pending);
    client.send(b"e").unwrap();
    assert_eq!(ov.result_timeout(Some(LONG)).unwrap().bytes, 1);
    assert_eq!(sleep_alertable(Some(LONG)), SleepOutcome::IoCompletion);
    assert_eq!(seen.borrow().len(), 1);
    assert!(
        !ev.is_set(),
        "a routine-mode completion must not signal hEvent"
    );
}
