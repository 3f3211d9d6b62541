//! §1.4 thread exit: an operation issued by a thread that exits is cancelled (aborted,
//! event set, routine not run), unless its socket is associated with a completion port.

mod util;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::Duration;

use overlapped::{
    Accept, CompletionPort, Event, Overlapped, Posted, Recv, Send, Socket, Status, Transfer,
    WaitOutcome, WsaError, wait_any,
};

/// Upper bound on every wait: a broken library fails instead of hanging.
const LONG: Duration = Duration::from_secs(5);
/// How long an operation that must stay pending is watched.
const PENDING_FOR: Duration = Duration::from_millis(150);

fn ev_ov() -> (Event, Overlapped) {
    let ev = Event::new_manual();
    let ov = Overlapped::with_event(&ev);
    (ev, ov)
}

fn assert_signalled(ev: &Event) {
    assert_eq!(
        wait_any(&[ev], Some(LONG), false).unwrap(),
        WaitOutcome::Signaled(0),
        "the operation did not complete"
    );
}

/// Posts a receive on `sock` from a thread that then exits.
fn recv_from_exiting_thread(sock: &Socket, ov: &Overlapped) -> Posted<Vec<u8>> {
    thread::scope(|s| {
        s.spawn(|| {
            let p = Recv::new(sock, vec![0u8; 8]).post(ov).unwrap();
            assert_eq!(p.status(), Status::Pending);
            p
        })
        .join()
        .unwrap()
    })
}

#[test]
fn an_operation_issued_by_a_thread_that_exits_is_cancelled() {
    let (client, server) = util::tcp_pair();
    let (ev, ov) = ev_ov();
    let posted = recv_from_exiting_thread(&server, &ov);
    assert_signalled(&ev);
    assert_eq!(ov.result(false), Err(WsaError::WSA_OPERATION_ABORTED));
    let (r, buf) = posted.wait();
    assert_eq!(r, Err(WsaError::WSA_OPERATION_ABORTED));
    assert_eq!(buf.len(), 8, "the buffer comes back");

    // The socket stays usable, and the aborted receive took no data.
    let (ev2, ov2) = ev_ov();
    let p = Recv::new(&server, vec![0u8; 8]).post(&ov2).unwrap();
    client.send(b"after").unwrap();
    assert_signalled(&ev2);
    let (r, buf) = p.wait();
    assert_eq!(r, Ok(Transfer { bytes: 5, flags: 0 }));
    assert_eq!(&buf[..5], b"after");
}

#[test]
fn queued_operations_and_sends_of_an_exiting_thread_are_cancelled_too() {
    let (client, server) = util::tcp_pair();
    let (ev1, ov1) = ev_ov();
    let (ev2, ov2) = ev_ov();
    let (ev3, ov3) = ev_ov();
    util::fill_send_buffer(&server);
    let (p1, p2, p3) = thread::scope(|s| {
        s.spawn(|| {
            let p1 = Recv::new(&server, vec![0u8; 8]).post(&ov1).unwrap();
            let p2 = Recv::new(&server, vec![0u8; 8]).post(&ov2).unwrap();
            let p3 = Send::new(&server, vec![7u8; 1 << 20]).post(&ov3).unwrap();
            assert_eq!(p3.status(), Status::Pending);
            (p1, p2, p3)
        })
        .join()
        .unwrap()
    });
    for ev in [&ev1, &ev2, &ev3] {
        assert_signalled(ev);
    }
    assert_eq!(p1.wait().0, Err(WsaError::WSA_OPERATION_ABORTED));
    assert_eq!(p2.wait().0, Err(WsaError::WSA_OPERATION_ABORTED));
    assert_eq!(p3.wait().0, Err(WsaError::WSA_OPERATION_ABORTED));
    drop(client);
}

#[test]
fn an_accept_issued_by_a_thread_that_exits_is_cancelled() {
    let listener = util::listener();
    let acceptor = Socket::tcp_v4().unwrap();
    let (ev, ov) = ev_ov();
    let posted = thread::scope(|s| {
        s.spawn(|| Accept::new(&listener, &acceptor).post(&ov).unwrap())
            .join()
            .unwrap()
    });
    assert_signalled(&ev);
    assert_eq!(posted.wait().0, Err(WsaError::WSA_OPERATION_ABORTED));
    // The listener still accepts.
    let addr = listener.local_addr().unwrap();
    let _c = Socket::connect_to(addr).unwrap();
    let acceptor = Socket::tcp_v4().unwrap();
    let ov = Overlapped::new();
    let p = Accept::new(&listener, &acceptor).post(&ov).unwrap();
    assert!(p.wait().0.is_ok());
}

#[test]
fn a_routine_of_an_exiting_thread_is_not_run_and_its_buffers_are_freed() {
    let (_client, server) = util::tcp_pair();
    let ov = Overlapped::new();
    let ran = Arc::new(AtomicBool::new(false));
    let dropped = Arc::new(AtomicBool::new(false));
    struct Guard(Arc<AtomicBool>);
    impl Drop for Guard {
        fn drop(&mut self) {
            self.0.store(true, Ordering::SeqCst);
        }
    }
    thread::scope(|s| {
        s.spawn(|| {
            let ran = Arc::clone(&ran);
            let guard = Guard(Arc::clone(&dropped));
            let st = Recv::new(&server, vec![0u8; 8])
                .post_with_routine(&ov, move |_| {
                    let _g = &guard;
                    ran.store(true, Ordering::SeqCst);
                })
                .unwrap();
            assert_eq!(st, Status::Pending);
        });
    });
    assert_eq!(
        ov.result_timeout(Some(LONG)),
        Err(WsaError::WSA_OPERATION_ABORTED)
    );
    assert!(util::eventually(LONG, || dropped.load(Ordering::SeqCst)));
    assert!(!ran.load(Ordering::SeqCst));
}

#[test]
fn a_port_associated_operation_survives_its_threads_exit() {
    let (client, server) = util::tcp_pair();
    let port = CompletionPort::new(0);
    port.associate(&server, 21).unwrap();
    let ov = Overlapped::new();
    let posted = recv_from_exiting_thread(&server, &ov);
    thread::sleep(PENDING_FOR);
    assert!(!ov.is_complete(), "not cancelled by the thread's exit");
    client.send(b"kept").unwrap();
    // Another thread dequeues it.
    let mut p = thread::scope(|s| s.spawn(|| port.dequeue(Some(LONG))).join().unwrap())
        .expect("the packet of the surviving operation");
    assert_eq!((p.bytes, p.key), (4, 21));
    assert_eq!(p.result, Ok(Transfer { bytes: 4, flags: 0 }));
    assert_eq!(&p.take_output::<Vec<u8>>().unwrap()[..4], b"kept");
    drop(posted);
}

#[test]
fn a_port_associated_operation_survives_repeatedly() {
    // On io_uring the exiting thread also submitted the request, which the kernel then
    // cancels: the engine must re-arm it.
    let (client, server) = util::tcp_pair();
    let port = CompletionPort::new(0);
    port.associate(&server, 1).unwrap();
    for i in 0..10u8 {
        let ov = Overlapped::new();
        let posted = recv_from_exiting_thread(&server, &ov);
        client.send(&[i]).unwrap();
        let p = port.dequeue(Some(LONG)).unwrap();
        assert_eq!(p.result, Ok(Transfer { bytes: 1, flags: 0 }), "round {i}");
        assert_eq!(posted.wait().1[0], i);
    }
}

#[test]
fn an_operation_that_completed_before_the_exit_is_unaffected() {
    let (client, server) = util::tcp_pair();
    let (ev, ov) = ev_ov();
    let posted = thread::scope(|s| {
        s.spawn(|| {
            let p = Recv::new(&server, vec![0u8; 8]).post(&ov).unwrap();
            client.send(b"done").unwrap();
            assert_eq!(ov.result_timeout(Some(LONG)).unwrap().bytes, 4);
            p
        })
        .join()
        .unwrap()
    });
    assert!(ev.is_set());
    let (r, buf) = posted.wait();
    assert_eq!(r, Ok(Transfer { bytes: 4, flags: 0 }));
    assert_eq!(&buf[..4], b"done");
}

#[test]
fn only_the_exiting_threads_operations_are_cancelled() {
    let (client, server) = util::tcp_pair();
    let (ev_main, ov_main) = ev_ov();
    let mine = Recv::new(&server, vec![0u8; 8]).post(&ov_main).unwrap();
    let (c2, s2) = util::tcp_pair();
    let (ev, ov) = ev_ov();
    let theirs = recv_from_exiting_thread(&s2, &ov);
    assert_signalled(&ev);
    assert_eq!(theirs.wait().0, Err(WsaError::WSA_OPERATION_ABORTED));
    assert_eq!(
        wait_any(&[&ev_main], Some(PENDING_FOR), false).unwrap(),
        WaitOutcome::Timeout
    );
    client.send(b"mine").unwrap();
    assert_signalled(&ev_main);
    assert_eq!(mine.wait().0.unwrap().bytes, 4);
    drop(c2);
}

/// Receives on `server` with two records: the first completes (reaped on another
/// thread, which re-arms the second and then exits); the second, issued by this living
/// thread, must still complete normally afterwards, not cancelled by the kernel.
fn rearmed_by_exiting_thread_round(client: &Socket, server: &Socket) {
    let (ev1, ov1) = ev_ov();
    let (ev2, ov2) = ev_ov();
    let p1: Posted<Vec<u8>> = Recv::new(server, vec![0u8; 1]).post(&ov1).unwrap();
    let p2: Posted<Vec<u8>> = Recv::new(server, vec![0u8; 1]).post(&ov2).unwrap();
    thread::scope(|s| {
        s.spawn(|| {
            client.send(b"a").unwrap();
            // This thread waits, so it may reap the completion and arm the next receive.
            assert_eq!(ov1.result_timeout(Some(LONG)).unwrap().bytes, 1);
        });
    });
    assert_signalled(&ev1);
    assert_eq!(p1.wait().1, b"a");
    client.send(b"b").unwrap();
    assert_signalled(&ev2);
    let (r, b) = p2.wait();
    assert_eq!(
        r,
        Ok(Transfer { bytes: 1, flags: 0 }),
        "spuriously cancelled"
    );
    assert_eq!(b, b"b");
}

#[test]
fn an_operation_of_a_living_thread_rearmed_by_a_thread_that_exits_is_not_cancelled() {
    let (client, server) = util::tcp_pair();
    for _ in 0..20 {
        rearmed_by_exiting_thread_round(&client, &server);
    }
}

#[test]
fn a_callback_operation_belongs_to_no_thread_and_survives_its_posters_exit() {
    let (client, server) = util::tcp_pair();
    let ov = Overlapped::new();
    let (tx, rx) = std::sync::mpsc::channel();
    thread::scope(|s| {
        s.spawn(|| {
            let st = Recv::new(&server, vec![0u8; 8])
                .post_with_callback(&ov, move |c| {
                    let _ = tx.send((c.result, c.output));
                })
                .unwrap();
            assert_eq!(st, Status::Pending);
        });
    });
    thread::sleep(PENDING_FOR);
    assert!(!ov.is_complete(), "not cancelled by the poster's exit");
    client.send(b"cb").unwrap();
    let (r, buf) = rx.recv_timeout(LONG).expect("the callback ran");
    assert_eq!(r, Ok(Transfer { bytes: 2, flags: 0 }));
    assert_eq!(&buf[..2], b"cb");
}

/// Posts a receive with a thread-owned callback from a thread that then exits; the
/// callback's result and buffer arrive on the returned channel.
fn thread_callback_recv_from_exiting_thread(
    sock: &Socket,
    ov: &Overlapped,
) -> std::sync::mpsc::Receiver<(Result<Transfer, WsaError>, Vec<u8>)> {
    let (tx, rx) = std::sync::mpsc::channel();
    thread::scope(|s| {
        s.spawn(|| {
            let st = Recv::new(sock, vec![0u8; 8])
                .post_with_thread_callback(ov, move |c| {
                    let _ = tx.send((c.result, c.output));
                })
                .unwrap();
            assert_eq!(st, Status::Pending);
        });
    });
    rx
}

#[test]
fn a_thread_callback_operation_is_cancelled_when_its_poster_exits() {
    let (client, server) = util::tcp_pair();
    let (ev, ov) = ev_ov();
    let rx = thread_callback_recv_from_exiting_thread(&server, &ov);
    let (r, buf) = rx.recv_timeout(LONG).expect("the callback ran");
    assert_eq!(r, Err(WsaError::WSA_OPERATION_ABORTED));
    assert_eq!(buf.len(), 8, "the buffer comes back");
    assert_signalled(&ev);
    assert_eq!(ov.result(false), Err(WsaError::WSA_OPERATION_ABORTED));
    // The aborted receive took nothing: the next one gets the data.
    let (ev2, ov2) = ev_ov();
    let p = Recv::new(&server, vec![0u8; 8]).post(&ov2).unwrap();
    client.send(b"next").unwrap();
    assert_signalled(&ev2);
    assert_eq!(p.wait().0, Ok(Transfer { bytes: 4, flags: 0 }));
}

#[test]
fn a_thread_callback_operation_on_a_port_socket_survives_its_posters_exit() {
    let (client, server) = util::tcp_pair();
    let port = CompletionPort::new(0);
    port.associate(&server, 5).unwrap();
    let ov = Overlapped::new();
    let rx = thread_callback_recv_from_exiting_thread(&server, &ov);
    thread::sleep(PENDING_FOR);
    assert!(!ov.is_complete(), "not cancelled by the thread's exit");
    client.send(b"kept").unwrap();
    let (r, buf) = rx.recv_timeout(LONG).expect("the callback ran");
    assert_eq!(r, Ok(Transfer { bytes: 4, flags: 0 }));
    assert_eq!(&buf[..4], b"kept");
}
