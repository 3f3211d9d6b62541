//! §1.1, 1.2, 1.10 completion ports: which completions post a packet, what a dequeue
//! returns, hand posts, closing, LIFO release and the concurrency limit.

mod util;

use std::cell::Cell;
use std::collections::HashMap;
use std::rc::Rc;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use overlapped::{
    Accept, Accepted, CompletionPort, DequeueError, Event, NtStatus, Overlapped, Packet, Recv,
    Send, SleepOutcome, Socket, Status, Transfer, WaitOutcome, WsaError, sleep_alertable, wait_any,
};

/// Upper bound on every wait: a broken library fails instead of hanging.
const LONG: Duration = Duration::from_secs(5);
/// How long a port that must stay empty is watched.
const QUIET: Duration = Duration::from_millis(200);

/// Blocks until `sock` has data to read (so that a receive completes at once).
fn wait_readable(sock: &Socket) {
    sock.set_read_timeout(Some(LONG));
    let mut b = [0u8; 1];
    assert!(sock.peek(&mut b).expect("peek") > 0, "peer closed");
}

/// Asserts that nothing is dequeued for [`QUIET`].
fn assert_no_packet(port: &CompletionPort) {
    match port.dequeue(Some(QUIET)) {
        Err(DequeueError::Timeout) => {}
        Ok(p) => panic!("unexpected packet {p:?}"),
        Err(e) => panic!("unexpected error {e}"),
    }
}

/// Waits until `n` threads are blocked in a dequeue of `port`.
fn wait_waiting(port: &CompletionPort, n: usize) {
    assert!(
        util::eventually(LONG, || port.waiting() == n),
        "expected {n} waiting threads, have {}",
        port.waiting()
    );
}

#[test]
fn an_immediate_success_posts_a_packet() {
    let (client, server) = util::tcp_pair();
    let port = CompletionPort::new(0);
    port.associate(&server, 11).unwrap();
    client.send(b"hi").unwrap();
    wait_readable(&server);
    let ov = Overlapped::new();
    let posted = Recv::new(&server, vec![0u8; 16]).post(&ov).unwrap();
    assert_eq!(
        posted.status(),
        Status::Immediate(Transfer { bytes: 2, flags: 0 })
    );
    let mut p = port
        .dequeue(Some(LONG))
        .expect("the immediate success's packet");
    assert_eq!((p.bytes, p.key), (2, 11));
    assert_eq!(p.result, Ok(Transfer { bytes: 2, flags: 0 }));
    assert_eq!(p.status(), NtStatus::SUCCESS);
    assert!(p.is_from_operation());
    assert!(p.overlapped().is_some_and(|o| o.same_record(&ov)));
    assert_eq!(
        p.take_output::<String>(),
        None,
        "a wrong type consumes nothing"
    );
    let buf = p.take_output::<Vec<u8>>().expect("the receive buffer");
    assert_eq!(&buf[..2], b"hi");
    assert_eq!(p.take_output::<Vec<u8>>(), None, "taken once");
    assert!(posted.try_take().is_err(), "the packet took the buffers");
    assert_no_packet(&port);
}

#[test]
fn a_pending_completion_posts_a_packet_and_the_posted_handle_still_works() {
    let (client, server) = util::tcp_pair();
    let port = CompletionPort::new(0);
    port.associate(&server, 5).unwrap();
    let ov = Overlapped::new();
    let posted = Recv::new(&server, vec![0u8; 16]).post(&ov).unwrap();
    assert_eq!(posted.status(), Status::Pending);
    assert_no_packet(&port);
    client.send(b"later").unwrap();
    // Only this thread dequeues: the wait itself must drive the engine.
    let p = port
        .dequeue(Some(LONG))
        .expect("the pending completion's packet");
    assert_eq!((p.bytes, p.key), (5, 5));
    assert!(posted.is_complete());
    let (r, buf) = posted.wait();
    assert_eq!(r, Ok(Transfer { bytes: 5, flags: 0 }));
    assert_eq!(&buf[..5], b"later");
}

#[test]
fn skip_on_success_suppresses_only_the_immediate_success_packet() {
    let (client, server) = util::tcp_pair();
    let port = CompletionPort::new(0);
    port.associate(&server, 3).unwrap();
    assert!(!server.skips_completion_port_on_success());
    server.set_skip_completion_port_on_success(true).unwrap();
    assert!(server.skips_completion_port_on_success());
    assert_eq!(
        server.set_skip_completion_port_on_success(false),
        Err(WsaError::WSAEINVAL),
        "the mode cannot be unset"
    );

    // Immediate success: event set, no packet.
    client.send(b"now").unwrap();
    wait_readable(&server);
    let ev = Event::new_manual();
    let ov = Overlapped::with_event(&ev);
    let posted = Recv::new(&server, vec![0u8; 16]).post(&ov).unwrap();
    assert!(posted.immediate().is_some());
    assert!(ev.is_set(), "the event is still set");
    assert_no_packet(&port);
    assert_eq!(&posted.wait().1[..3], b"now");

    // Pending: the packet comes.
    let posted = Recv::new(&server, vec![0u8; 16]).post(&ov).unwrap();
    assert_eq!(posted.status(), Status::Pending);
    client.send(b"then").unwrap();
    let p = port
        .dequeue(Some(LONG))
        .expect("a pending completion still posts");
    assert_eq!((p.bytes, p.key), (4, 3));
    assert!(ev.is_set());

    // A pending failure posts too.
    let posted = Recv::new(&server, vec![0u8; 16]).post(&ov).unwrap();
    assert_eq!(posted.status(), Status::Pending);
    util::close_with_rst(client);
    let p = port.dequeue(Some(LONG)).expect("a failed completion posts");
    assert_eq!(p.result, Err(WsaError::WSAECONNRESET));
    assert_eq!(p.status(), NtStatus::CONNECTION_RESET);
    assert_eq!(p.bytes, 0);
    drop(posted);
}

#[test]
fn an_immediate_failure_posts_nothing() {
    let port = CompletionPort::new(0);
    let unconnected = Socket::tcp_v4().unwrap();
    port.associate(&unconnected, 1).unwrap();
    let ev = Event::new_manual();
    let ov = Overlapped::with_event(&ev);
    assert!(Recv::new(&unconnected, vec![0u8; 8]).post(&ov).is_err());
    assert!(!ev.is_set());

    // A send on a reset connection fails at once.
    let (client, server) = util::tcp_pair();
    port.associate(&server, 2).unwrap();
    util::close_with_rst(client);
    wait_readable_or_reset(&server);
    assert!(Send::new(&server, b"x".to_vec()).post(&ov).is_err());
    assert!(!ev.is_set());
    assert_no_packet(&port);
}

/// Waits until the reset has reached `sock`.
fn wait_readable_or_reset(sock: &Socket) {
    sock.set_read_timeout(Some(LONG));
    let mut b = [0u8; 1];
    let _ = sock.peek(&mut b);
}

#[test]
fn a_low_bit_event_is_set_but_posts_no_packet() {
    let (client, server) = util::tcp_pair();
    let port = CompletionPort::new(0);
    port.associate(&server, 9).unwrap();
    let ev = Event::new_manual();
    let ov = Overlapped::with_event_no_port(&ev);
    assert!(ov.skips_port());

    // Pending.
    let posted = Recv::new(&server, vec![0u8; 8]).post(&ov).unwrap();
    assert_eq!(posted.status(), Status::Pending);
    client.send(b"abc").unwrap();
    assert_eq!(
        wait_any(&[&ev], Some(LONG), false).unwrap(),
        WaitOutcome::Signaled(0)
    );
    assert_eq!(posted.wait().0.unwrap().bytes, 3);
    // Immediate.
    client.send(b"de").unwrap();
    wait_readable(&server);
    let posted = Recv::new(&server, vec![0u8; 8]).post(&ov).unwrap();
    assert!(posted.immediate().is_some());
    assert!(ev.is_set());
    assert_no_packet(&port);

    // An ordinary event: set and posted.
    let ev2 = Event::new_manual();
    let ov2 = Overlapped::with_event(&ev2);
    let posted = Recv::new(&server, vec![0u8; 8]).post(&ov2).unwrap();
    client.send(b"f").unwrap();
    let p = port.dequeue(Some(LONG)).expect("ordinary event: packet");
    assert!(ev2.is_set());
    assert!(p.overlapped().is_some_and(|o| o.same_record(&ov2)));
    drop(posted);
}

#[test]
fn dequeue_many_returns_packets_in_fifo_order() {
    let (client, server) = util::tcp_pair();
    let port = CompletionPort::new(0);
    port.associate(&client, 100).unwrap();
    // Three sends that complete at once, then hand posts.
    let ovs: Vec<Overlapped> = (0..3).map(|_| Overlapped::new()).collect();
    for (i, ov) in ovs.iter().enumerate() {
        let posted = Send::new(&client, vec![b'a' + u8::try_from(i).unwrap(); i + 1])
            .post(ov)
            .unwrap();
        assert!(posted.immediate().is_some());
    }
    for k in 0..3 {
        assert!(port.post(1000 + k, k, None));
    }
    let first = port.dequeue_many(4, Some(LONG), false).unwrap();
    assert_eq!(first.len(), 4);
    for (i, p) in first.iter().take(3).enumerate() {
        assert_eq!((p.bytes, p.key), (i + 1, 100));
        assert!(p.overlapped().is_some_and(|o| o.same_record(&ovs[i])));
    }
    assert_eq!((first[3].bytes, first[3].key), (1000, 0));
    let rest = port.dequeue_many(10, Some(LONG), false).unwrap();
    let got: Vec<(usize, usize)> = rest.iter().map(|p| (p.bytes, p.key)).collect();
    assert_eq!(got, vec![(1001, 1), (1002, 2)]);
    assert_eq!(
        port.dequeue_many(0, None, false).err(),
        Some(DequeueError::InvalidParameter)
    );
    drop(server);
}

#[test]
fn a_hand_post_returns_exactly_its_values() {
    let port = CompletionPort::new(0);
    let ev = Event::new_manual();
    let ov = Overlapped::with_event(&ev);
    assert!(port.post(usize::MAX, 0xdead_beef_cafe_f00d, Some(&ov)));
    let mut p = port.dequeue(Some(LONG)).unwrap();
    assert_eq!(p.bytes, usize::MAX);
    assert_eq!(p.key, 0xdead_beef_cafe_f00d);
    assert_eq!(
        p.result,
        Ok(Transfer {
            bytes: usize::MAX,
            flags: 0
        })
    );
    assert_eq!(p.status(), NtStatus::SUCCESS);
    assert!(p.overlapped().is_some_and(|o| o.same_record(&ov)));
    assert!(!p.is_from_operation());
    assert_eq!(p.take_output::<Vec<u8>>(), None);
    assert!(!ev.is_set(), "the record is not touched");
    assert!(ov.is_complete());

    assert!(port.post(0, 0, None));
    let p = port.dequeue(Some(LONG)).unwrap();
    assert_eq!((p.bytes, p.key), (0, 0));
    assert!(p.overlapped().is_none());
}

#[test]
fn closing_the_port_wakes_every_waiter_with_the_closed_error() {
    let port = CompletionPort::new(0);
    let results = thread::scope(|s| {
        let handles: Vec<_> = (0..3)
            .map(|_| {
                let port = port.clone();
                s.spawn(move || port.dequeue(Some(LONG * 2)).err())
            })
            .collect();
        wait_waiting(&port, 3);
        port.close();
        handles
            .into_iter()
            .map(|h| h.join().unwrap())
            .collect::<Vec<_>>()
    });
    assert_eq!(results, vec![Some(DequeueError::Closed); 3]);
    assert_eq!(DequeueError::Closed.code(), 735);
    assert!(port.is_closed());
    assert_eq!(port.dequeue(Some(LONG)).err(), Some(DequeueError::Closed));
    assert!(!port.post(1, 1, None), "a closed port takes no packet");
    let s = Socket::tcp_v4().unwrap();
    assert_eq!(port.associate(&s, 1), Err(WsaError::WSA_INVALID_HANDLE));
}

#[test]
fn dropping_the_last_handle_closes_the_port_and_completions_still_finish() {
    let (client, server) = util::tcp_pair();
    let port = CompletionPort::new(0);
    let other = port.clone();
    port.associate(&server, 1).unwrap();
    let ev = Event::new_manual();
    let ov = Overlapped::with_event(&ev);
    let posted = Recv::new(&server, vec![0u8; 8]).post(&ov).unwrap();
    drop(port);
    assert!(!other.is_closed(), "a handle is left");
    let watcher = other.clone();
    let waiter = thread::spawn(move || watcher.dequeue(Some(LONG)).err());
    wait_waiting(&other, 1);
    // `other` is not the last handle while the waiter holds its clone: close through it.
    other.close();
    assert_eq!(waiter.join().unwrap(), Some(DequeueError::Closed));
    drop(other);
    // The port is gone: the completion is discarded, the operation still completes.
    client.send(b"xy").unwrap();
    assert_eq!(
        wait_any(&[&ev], Some(LONG), false).unwrap(),
        WaitOutcome::Signaled(0)
    );
    let (r, buf) = posted.wait();
    assert_eq!(r.unwrap().bytes, 2);
    assert_eq!(&buf[..2], b"xy");

    // Dropping the last of several handles closes it.
    let port = CompletionPort::new(0);
    let other = port.clone();
    let third = port.clone();
    drop(port);
    drop(other);
    assert!(!third.is_closed());
    let s = Socket::tcp_v4().unwrap();
    third.associate(&s, 1).unwrap();
    drop(third);
    // A completion on a socket whose port was dropped is discarded without harm.
    let ov = Overlapped::new();
    let (c2, s2) = util::tcp_pair();
    drop(s);
    c2.send(b"z").unwrap();
    wait_readable(&s2);
    let posted = Recv::new(&s2, vec![0u8; 4]).post(&ov).unwrap();
    assert!(posted.immediate().is_some());
}

#[test]
fn a_timeout_returns_the_timeout_error_and_consumes_nothing() {
    let port = CompletionPort::new(0);
    let r = port.dequeue(Some(Duration::from_millis(50)));
    assert_eq!(r.err(), Some(DequeueError::Timeout));
    assert_eq!(DequeueError::Timeout.code(), 258);
    assert_eq!(
        port.dequeue_many(4, Some(Duration::ZERO), false).err(),
        Some(DequeueError::Timeout)
    );
    port.post(7, 8, None);
    let p = port.dequeue(Some(Duration::ZERO)).unwrap();
    assert_eq!((p.bytes, p.key), (7, 8));
}

#[test]
fn a_routine_on_a_port_socket_fails_with_wsaeinval_and_never_runs() {
    let (client, server) = util::tcp_pair();
    let port = CompletionPort::new(0);
    port.associate(&server, 1).unwrap();
    let ran = Rc::new(Cell::new(false));
    let r2 = Rc::clone(&ran);
    let ov = Overlapped::new();
    let r = Recv::new(&server, vec![0u8; 8]).post_with_routine(&ov, move |_| r2.set(true));
    assert_eq!(r, Err(WsaError::WSAEINVAL));
    client.send(b"data").unwrap();
    assert_eq!(sleep_alertable(Some(QUIET)), SleepOutcome::Timeout);
    assert!(!ran.get());
    assert_no_packet(&port);
    // The record was not bound: it can be used at once.
    let posted = Recv::new(&server, vec![0u8; 8]).post(&ov).unwrap();
    assert_eq!(posted.wait().0.unwrap().bytes, 4);
    assert_eq!(port.dequeue(Some(LONG)).unwrap().bytes, 4);
}

#[test]
fn an_accept_posts_to_the_listeners_port_and_key() {
    let listener = util::listener();
    let addr = listener.local_addr().unwrap();
    let acceptor = Socket::tcp_v4().unwrap();
    let port = CompletionPort::new(0);
    port.associate(&listener, 125).unwrap();
    port.associate(&acceptor, 236).unwrap();
    let ov = Overlapped::new();
    let posted = Accept::new(&listener, &acceptor).post(&ov).unwrap();
    assert_eq!(posted.status(), Status::Pending);
    let client = Socket::connect_to(addr).unwrap();
    let mut p = port.dequeue(Some(LONG)).expect("the accept's packet");
    assert_eq!(p.key, 125, "the listener's key");
    assert_eq!(p.result, Ok(Transfer { bytes: 0, flags: 0 }));
    let accepted = p.take_output::<Accepted<Vec<u8>>>().expect("accept output");
    assert_eq!(accepted.remote, Some(client.local_addr().unwrap()));
    assert_no_packet(&port);
}

#[test]
fn an_association_made_after_the_post_still_gets_the_packet() {
    let (client, server) = util::tcp_pair();
    let port = CompletionPort::new(0);
    let ov = Overlapped::new();
    let posted = Recv::new(&server, vec![0u8; 8]).post(&ov).unwrap();
    assert_eq!(posted.status(), Status::Pending);
    port.associate(&server, 44).unwrap();
    assert_eq!(port.associate(&server, 45), Err(WsaError::WSAEINVAL));
    assert_eq!(
        CompletionPort::new(0).associate(&server, 1),
        Err(WsaError::WSAEINVAL),
        "a socket belongs to one port"
    );
    client.send(b"late").unwrap();
    let p = port.dequeue(Some(LONG)).unwrap();
    assert_eq!((p.bytes, p.key), (4, 44));

    // Accept posted before its listener is associated.
    let listener = util::listener();
    let addr = listener.local_addr().unwrap();
    let acceptor = Socket::tcp_v4().unwrap();
    let ov = Overlapped::new();
    let _posted = Accept::new(&listener, &acceptor).post(&ov).unwrap();
    port.associate(&listener, 77).unwrap();
    let _client = Socket::connect_to(addr).unwrap();
    assert_eq!(port.dequeue(Some(LONG)).unwrap().key, 77);
}

#[test]
fn waiters_are_released_most_recent_first() {
    let port = CompletionPort::new(4);
    let (tx, rx) = mpsc::channel();
    thread::scope(|s| {
        for name in ["first", "second", "third"] {
            let mine = port.clone();
            let tx = tx.clone();
            let before = port.waiting();
            s.spawn(move || {
                let r = mine.dequeue(Some(LONG * 2));
                tx.send((name, r.map(|p| p.key))).unwrap();
            });
            wait_waiting(&port, before + 1);
        }
        port.post(0, 1, None);
        let (who, r) = rx.recv_timeout(LONG).expect("a waiter released");
        assert_eq!((who, r), ("third", Ok(1)), "the most recent waiter");
        assert!(
            rx.recv_timeout(QUIET).is_err(),
            "only one waiter released for one packet"
        );
        port.close();
        let mut rest: Vec<_> = (0..2).map(|_| rx.recv_timeout(LONG).unwrap()).collect();
        rest.sort_by_key(|(n, _)| *n);
        assert_eq!(
            rest,
            vec![
                ("first", Err(DequeueError::Closed)),
                ("second", Err(DequeueError::Closed))
            ]
        );
    });
}

#[test]
fn concurrency_one_holds_other_waiters_while_a_thread_runs() {
    let port = CompletionPort::new(1);
    port.post(0, 1, None);
    let (go_tx, go_rx) = mpsc::channel::<()>();
    let (got_tx, got_rx) = mpsc::channel();
    thread::scope(|s| {
        // Owned here, so that a failed assertion below releases T1 instead of hanging.
        let go_tx = go_tx;
        let p1 = port.clone();
        let t1 = s.spawn(move || {
            let a = p1.dequeue(Some(LONG)).expect("T1's packet");
            got_tx.send(a.key).unwrap();
            // Running until told to go on.
            go_rx.recv().unwrap();
            // Coming back: T1 takes the queued packet itself.
            let b = p1.dequeue(Some(Duration::ZERO)).expect("T1 takes it back");
            got_tx.send(b.key).unwrap();
            // ... and is running again until it exits.
            go_rx.recv().unwrap();
        });
        assert_eq!(got_rx.recv_timeout(LONG).unwrap(), 1);

        // T2 waits; a packet arrives; T1 still runs, so T2 is not released.
        let p2 = port.clone();
        let t2 = s.spawn(move || p2.dequeue(Some(Duration::from_millis(400))).map(|p| p.key));
        wait_waiting(&port, 1);
        port.post(0, 2, None);
        assert_eq!(t2.join().unwrap(), Err(DequeueError::Timeout));
        assert_eq!(port.queued(), 1, "the timed-out wait consumed nothing");

        // T1 comes back and takes packet 2 itself; T3 waits for packet 3.
        go_tx.send(()).unwrap();
        assert_eq!(got_rx.recv_timeout(LONG).unwrap(), 2);
        let p3 = port.clone();
        let t3 = s.spawn(move || p3.dequeue(Some(LONG)).map(|p| p.key));
        wait_waiting(&port, 1);
        port.post(0, 3, None);
        thread::sleep(QUIET);
        assert_eq!(port.queued(), 1, "held while T1 runs");
        // T1 exits: it no longer runs, T3 is released.
        go_tx.send(()).unwrap();
        t1.join().unwrap();
        assert_eq!(t3.join().unwrap(), Ok(3));
    });
}

#[test]
fn an_alertable_dequeue_reports_routines_that_ran() {
    let (client, server) = util::tcp_pair();
    let port = CompletionPort::new(0);
    let ran = Rc::new(Cell::new(0));
    let r2 = Rc::clone(&ran);
    let ov = Overlapped::new();
    // `server` is not associated: its routine runs in this thread's alertable dequeue.
    Recv::new(&server, vec![0u8; 8])
        .post_with_routine(&ov, move |c| {
            assert_eq!(c.result.unwrap().bytes, 2);
            r2.set(r2.get() + 1);
        })
        .unwrap();
    client.send(b"ok").unwrap();
    assert_eq!(
        port.dequeue_many(8, Some(LONG), true).err(),
        Some(DequeueError::IoCompletion)
    );
    assert_eq!(ran.get(), 1);
    // Non-alertable: no routine, timeout.
    assert_eq!(
        port.dequeue_many(8, Some(Duration::from_millis(20)), false)
            .err(),
        Some(DequeueError::Timeout)
    );
}

/// One connection of the echo server.
struct Conn {
    sock: Socket,
    recv_ov: Overlapped,
    send_ov: Overlapped,
}

fn post_recv(conns: &Mutex<HashMap<usize, Conn>>, key: usize) {
    let map = conns.lock().unwrap();
    let c = &map[&key];
    if let Ok(posted) = Recv::new(&c.sock, vec![0u8; 4096]).post(&c.recv_ov) {
        drop(posted);
    }
}

/// Serves packets until the stop packet (key `usize::MAX`); returns how many it handled.
fn echo_worker(port: &CompletionPort, conns: &Mutex<HashMap<usize, Conn>>) -> usize {
    let mut handled = 0;
    loop {
        let mut p: Packet = port.dequeue(Some(LONG * 4)).expect("echo worker dequeue");
        if p.key == usize::MAX {
            return handled;
        }
        handled += 1;
        let key = p.key;
        let is_recv = {
            let map = conns.lock().unwrap();
            p.overlapped()
                .is_some_and(|o| o.same_record(&map[&key].recv_ov))
        };
        let buf = p.take_output::<Vec<u8>>().expect("buffers");
        match (is_recv, p.result) {
            (true, Ok(t)) if t.bytes > 0 => {
                let mut data = buf;
                data.truncate(t.bytes);
                let map = conns.lock().unwrap();
                let c = &map[&key];
                drop(
                    Send::new(&c.sock, data)
                        .post(&c.send_ov)
                        .expect("echo send"),
                );
            }
            (true, _) => {
                // Peer closed: forget the connection.
                conns.lock().unwrap().remove(&key);
            }
            (false, Ok(t)) => {
                assert_eq!(t.bytes, buf.len(), "sends are never partial");
                post_recv(conns, key);
            }
            (false, Err(e)) => panic!("echo send failed: {e}"),
        }
    }
}

#[test]
fn a_two_thread_echo_server_on_a_port_serves_fifty_clients() {
    const CLIENTS: usize = 50;
    let listener = util::listener();
    let addr = listener.local_addr().unwrap();
    let port = CompletionPort::new(2);
    let conns: Arc<Mutex<HashMap<usize, Conn>>> = Arc::default();
    let (_, fired) = util::with_watchdog(
        Duration::from_secs(60),
        || {
            let _ = listener.local_addr();
        },
        || {
            thread::scope(|s| {
                let workers: Vec<_> = (0..2)
                    .map(|_| s.spawn(|| echo_worker(&port, &conns)))
                    .collect();
                let clients: Vec<_> = (0..5)
                    .map(|t| {
                        s.spawn(move || {
                            for i in 0..CLIENTS / 5 {
                                let n = t * 10 + i;
                                let c = Socket::connect_to(addr).unwrap();
                                c.set_read_timeout(Some(LONG));
                                let payload: Vec<u8> = (0..(500 + n * 97))
                                    .map(|j| u8::try_from((j * 31 + n) % 251).unwrap())
                                    .collect();
                                let mut sent = 0;
                                while sent < payload.len() {
                                    sent += c.send(&payload[sent..]).unwrap();
                                }
                                let mut back = vec![0u8; payload.len()];
                                let mut got = 0;
                                while got < back.len() {
                                    let k = c.recv(&mut back[got..]).expect("echo recv");
                                    assert!(k > 0, "server closed early");
                                    got += k;
                                }
                                assert_eq!(back, payload, "client {n}: payload echoed");
                            }
                        })
                    })
                    .collect();
                for key in 0..CLIENTS {
                    let (sock, _) = listener.accept().unwrap();
                    port.associate(&sock, key).unwrap();
                    conns.lock().unwrap().insert(
                        key,
                        Conn {
                            sock,
                            recv_ov: Overlapped::new(),
                            send_ov: Overlapped::new(),
                        },
                    );
                    post_recv(&conns, key);
                }
                for c in clients {
                    c.join().expect("client");
                }
                assert!(
                    util::eventually(LONG, || conns.lock().unwrap().is_empty()),
                    "every connection closed"
                );
                port.post(0, usize::MAX, None);
                port.post(0, usize::MAX, None);
                let handled: usize = workers.into_iter().map(|w| w.join().unwrap()).sum();
                assert!(handled >= CLIENTS * 3, "handled {handled} packets");
            });
        },
    );
    assert!(!fired);
}
