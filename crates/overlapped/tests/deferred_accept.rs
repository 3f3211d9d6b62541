//! `Socket::defer_accepted` (`WSAAccept`'s `CF_DEFER`): a deferred connection stays at
//! the head of the listener's backlog: the listener reads as ready, and the next accept
//! or AcceptEx takes it before a newer connection (AcceptEx still reporting pending).
//! Runs on the backend `OVL_BACKEND` names (the suite runs once per backend).

mod util;

use std::time::Duration;

use overlapped::{
    Accept, Event, Overlapped, PollEntry, Readiness, Socket, Status, WaitOutcome, WsaError,
    wait_any,
};

const LONG: Duration = Duration::from_secs(5);

/// Whether `poll` reports `l` readable within `t`.
fn readable(l: &Socket, t: Duration) -> bool {
    let mut e = [PollEntry {
        socket: l,
        interest: Readiness {
            read: true,
            ..Default::default()
        },
        ready: Readiness::default(),
    }];
    overlapped::poll(&mut e, Some(t)).unwrap() == 1 && e[0].ready.read
}

/// Reads one byte from `s` (with a timeout).
fn one_byte(s: &Socket) -> u8 {
    s.set_read_timeout(Some(LONG));
    let mut b = [0u8; 1];
    assert_eq!(s.recv(&mut b).unwrap(), 1);
    b[0]
}

#[test]
fn accept_ex_takes_the_deferred_connection_first_and_reports_pending() {
    let l = util::listener();
    let addr = l.local_addr().unwrap();
    let c1 = Socket::connect_to(addr).unwrap();
    let (conn, peer) = l.accept().unwrap();
    l.defer_accepted(conn, peer).unwrap();
    // Nothing in the kernel's queue, yet the listener is readable.
    assert!(readable(&l, Duration::ZERO));

    let acceptor = Socket::tcp_v4().unwrap();
    let ev = Event::new_manual();
    let ov = Overlapped::with_event(&ev);
    let posted = Accept::new(&l, &acceptor).post(&ov).unwrap();
    assert_eq!(posted.status(), Status::Pending);
    // It took the deferred connection: the listener is not readable any more.
    assert!(!readable(&l, Duration::from_millis(50)));

    // A newer connection is left for the next accept.
    let c2 = Socket::connect_to(addr).unwrap();
    assert!(readable(&l, LONG));
    let (second, _) = l.accept().unwrap();

    assert_eq!(
        wait_any(&[&ev], Some(LONG), false).unwrap(),
        WaitOutcome::Signaled(0)
    );
    let (result, accepted) = posted.wait();
    assert_eq!(result.unwrap().bytes, 0);
    assert_eq!(accepted.remote, Some(c1.local_addr().unwrap()));

    c1.send(b"1").unwrap();
    c2.send(b"2").unwrap();
    assert_eq!(one_byte(&acceptor), b'1');
    assert_eq!(one_byte(&second), b'2');
}

#[test]
fn accept_takes_the_deferred_connection_first() {
    let l = util::listener();
    let addr = l.local_addr().unwrap();
    let c1 = Socket::connect_to(addr).unwrap();
    let (conn, peer) = l.accept().unwrap();
    l.defer_accepted(conn, peer).unwrap();
    let _c2 = Socket::connect_to(addr).unwrap();
    let (first, from) = l.accept().unwrap();
    assert_eq!(from, c1.local_addr().unwrap());
    assert_eq!(first.peer_addr().unwrap(), from);
    c1.send(b"x").unwrap();
    assert_eq!(one_byte(&first), b'x');
}

#[test]
fn closing_the_listener_closes_the_deferred_connection() {
    let l = util::listener();
    let c1 = Socket::connect_to(l.local_addr().unwrap()).unwrap();
    let (conn, peer) = l.accept().unwrap();
    l.defer_accepted(conn, peer).unwrap();
    drop(l);
    c1.set_read_timeout(Some(LONG));
    let mut b = [0u8; 1];
    // End of stream (or a reset): never a timeout.
    match c1.recv(&mut b) {
        Ok(n) => assert_eq!(n, 0),
        Err(e) => assert_ne!(e, WsaError::WSAETIMEDOUT),
    }
}

#[test]
fn deferring_on_a_socket_that_does_not_listen_fails() {
    let (c, s) = util::tcp_pair();
    let peer = c.local_addr().unwrap();
    assert_eq!(s.defer_accepted(c, peer), Err(WsaError::WSAEINVAL));
}
