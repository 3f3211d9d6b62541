//! §1.8 ConnectEx: an overlapped connect of a bound socket, optionally sending a first
//! block of data; its errors, and reuse after a refused connection.

mod util;

use std::cell::RefCell;
use std::net::SocketAddr;
use std::rc::Rc;
use std::time::Duration;

use overlapped::{
    Connect, Event, NtStatus, Overlapped, Posted, SleepOutcome, Socket, Status, WaitOutcome,
    WsaError, sleep_alertable, wait_any, win32,
};

/// Upper bound on every wait: a broken library fails instead of hanging.
const LONG: Duration = Duration::from_secs(5);

/// A TCP socket bound to an ephemeral loopback port, as ConnectEx requires.
fn bound_v4() -> Socket {
    let s = Socket::tcp_v4().unwrap();
    s.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    s
}

/// A loopback address nobody listens on (bound once, then released).
fn closed_port() -> SocketAddr {
    let s = bound_v4();
    s.local_addr().unwrap()
}

/// Waits for a posted connect through its event and returns its result.
fn finish<B: 'static>(ov: &Overlapped, posted: Posted<B>) -> (Result<usize, WsaError>, B) {
    assert_eq!(
        wait_any(&[ov.event().unwrap()], Some(LONG), false).unwrap(),
        WaitOutcome::Signaled(0),
        "the connect did not complete"
    );
    let (r, out) = posted.wait();
    (r.map(|t| t.bytes), out)
}

/// Reads from `sock` until the peer closes, with a timeout.
fn read_to_end(sock: &Socket) -> Vec<u8> {
    sock.set_read_timeout(Some(LONG));
    let mut all = Vec::new();
    let mut buf = [0u8; 256];
    loop {
        let n = sock.recv(&mut buf).expect("recv");
        if n == 0 {
            return all;
        }
        all.extend_from_slice(&buf[..n]);
    }
}

#[test]
fn an_unbound_socket_fails_with_einval() {
    let l = util::listener();
    let s = Socket::tcp_v4().unwrap();
    let ov = Overlapped::with_event(&Event::new_manual());
    let r = Connect::new(&s, l.local_addr().unwrap()).post(&ov);
    assert_eq!(r.err(), Some(WsaError::WSAEINVAL));
    assert!(
        ov.is_complete(),
        "an immediate failure leaves nothing pending"
    );
    assert!(
        !ov.event().unwrap().is_set(),
        "an immediate failure notifies nothing"
    );
}

#[test]
fn a_refused_connection_completes_with_wsaeconnrefused() {
    let to = closed_port();
    let s = bound_v4();
    let ev = Event::new_manual();
    let ov = Overlapped::with_event(&ev);
    let posted = Connect::new(&s, to)
        .post(&ov)
        .expect("the post itself succeeds");
    assert_eq!(posted.status(), Status::Pending, "a refusal comes later");
    let (r, _) = finish(&ov, posted);
    assert_eq!(r, Err(WsaError::WSAECONNREFUSED));
    assert_eq!(ov.result(false), Err(WsaError::WSAECONNREFUSED));
    assert_eq!(ov.status(), NtStatus::CONNECTION_REFUSED);
    assert_eq!(ov.status().to_win32(), win32::ERROR_CONNECTION_REFUSED);
    assert_eq!(win32::ERROR_CONNECTION_REFUSED, 1225);
}

#[test]
fn a_refused_connection_reaches_a_routine_as_wsaeconnrefused() {
    let to = closed_port();
    let s = bound_v4();
    let ov = Overlapped::new();
    let seen = Rc::new(RefCell::new(Vec::new()));
    let s2 = Rc::clone(&seen);
    let st = Connect::new(&s, to)
        .post_with_routine(&ov, move |c| s2.borrow_mut().push(c.result))
        .unwrap();
    assert_eq!(st, Status::Pending);
    assert_eq!(sleep_alertable(Some(LONG)), SleepOutcome::IoCompletion);
    assert_eq!(*seen.borrow(), vec![Err(WsaError::WSAECONNREFUSED)]);
}

#[test]
fn success_with_first_data_reports_the_bytes_sent() {
    let l = util::listener();
    let s = bound_v4();
    let ev = Event::new_manual();
    let ov = Overlapped::with_event(&ev);
    let data: &'static [u8] = b"hello from ConnectEx";
    let posted = Connect::new(&s, l.local_addr().unwrap())
        .send(data)
        .post(&ov)
        .unwrap();
    let (r, out) = finish(&ov, posted);
    assert_eq!(r, Ok(data.len()));
    assert_eq!(out, Some(data), "the send buffer comes back");
    assert_eq!(ov.result(false).unwrap().bytes, data.len());
    assert_eq!(s.peer_addr().unwrap(), l.local_addr().unwrap());

    let (peer, from) = l.accept().unwrap();
    assert_eq!(from, s.local_addr().unwrap());
    s.shutdown(overlapped::Shutdown::Send).unwrap();
    assert_eq!(
        read_to_end(&peer),
        data,
        "the peer receives exactly the data"
    );
}

#[test]
fn success_without_data_reports_zero_bytes() {
    let l = util::listener();
    let s = bound_v4();
    let ov = Overlapped::with_event(&Event::new_manual());
    let posted = Connect::new(&s, l.local_addr().unwrap()).post(&ov).unwrap();
    let (r, out) = finish(&ov, posted);
    assert_eq!(r, Ok(0));
    assert!(out.is_none());
    let (peer, _) = l.accept().unwrap();
    // The connection works both ways.
    s.send(b"up").unwrap();
    peer.set_read_timeout(Some(LONG));
    let mut b = [0u8; 2];
    assert_eq!(peer.recv(&mut b).unwrap(), 2);
    assert_eq!(&b, b"up");
}

#[test]
fn an_already_connected_socket_fails_with_wsaeisconn() {
    let (client, _server) = util::tcp_pair();
    let l = util::listener();
    let ov = Overlapped::with_event(&Event::new_manual());
    let r = Connect::new(&client, l.local_addr().unwrap()).post(&ov);
    assert_eq!(r.err(), Some(WsaError::WSAEISCONN));
    assert!(ov.is_complete());

    // Also after a successful ConnectEx.
    let s = bound_v4();
    let p = Connect::new(&s, l.local_addr().unwrap()).post(&ov).unwrap();
    assert_eq!(finish(&ov, p).0, Ok(0));
    let again = Connect::new(&s, l.local_addr().unwrap()).post(&ov);
    assert_eq!(again.err(), Some(WsaError::WSAEISCONN));
}

#[test]
fn a_listening_socket_fails_with_einval() {
    let l = util::listener();
    let other = util::listener();
    let ov = Overlapped::with_event(&Event::new_manual());
    let r = Connect::new(&l, other.local_addr().unwrap()).post(&ov);
    assert_eq!(r.err(), Some(WsaError::WSAEINVAL));
    assert!(ov.is_complete());
}

#[test]
fn the_socket_is_reusable_after_a_refused_connect() {
    let to = closed_port();
    let s = bound_v4();
    let ov = Overlapped::with_event(&Event::new_manual());
    let p = Connect::new(&s, to).post(&ov).unwrap();
    assert_eq!(finish(&ov, p).0, Err(WsaError::WSAECONNREFUSED));

    // A second ConnectEx on the same socket, now to a listener, succeeds.
    let l = util::listener();
    let data: &'static [u8] = b"second try";
    let p2 = Connect::new(&s, l.local_addr().unwrap())
        .send(data)
        .post(&ov)
        .expect("reuse after refusal");
    assert_eq!(finish(&ov, p2).0, Ok(data.len()));
    let (peer, _) = l.accept().unwrap();
    s.shutdown(overlapped::Shutdown::Send).unwrap();
    assert_eq!(read_to_end(&peer), data);
}

#[test]
fn a_blocking_connect_is_possible_after_a_refused_connect_ex() {
    let to = closed_port();
    let s = bound_v4();
    let ov = Overlapped::with_event(&Event::new_manual());
    let p = Connect::new(&s, to).post(&ov).unwrap();
    assert_eq!(finish(&ov, p).0, Err(WsaError::WSAECONNREFUSED));
    let l = util::listener();
    s.connect(l.local_addr().unwrap())
        .expect("connect after refusal");
    assert_eq!(s.peer_addr().unwrap(), l.local_addr().unwrap());
}

#[test]
fn a_refused_blocking_connect_can_be_retried_on_the_same_socket() {
    let to = closed_port();
    let s = bound_v4();
    assert_eq!(s.connect(to), Err(WsaError::WSAECONNREFUSED));
    let l = util::listener();
    s.connect(l.local_addr().unwrap())
        .expect("connect after a refused connect");
    assert_eq!(s.peer_addr().unwrap(), l.local_addr().unwrap());
}

#[test]
fn a_connect_refused_at_post_leaves_the_socket_usable() {
    let l = util::listener();
    let s = bound_v4();
    // The record is bound to a pending receive elsewhere: the connect is refused.
    let (_c, other) = util::tcp_pair();
    let busy = Overlapped::with_event(&Event::new_manual());
    let pending = overlapped::Recv::new(&other, vec![0u8; 4])
        .post(&busy)
        .unwrap();
    assert_eq!(pending.status(), Status::Pending);
    assert_eq!(
        Connect::new(&s, l.local_addr().unwrap()).post(&busy).err(),
        Some(WsaError::WSAEINVAL)
    );
    // Nothing is pending on the socket: a ConnectEx with a free record works.
    let ov = Overlapped::with_event(&Event::new_manual());
    let p = Connect::new(&s, l.local_addr().unwrap())
        .post(&ov)
        .expect("the refused post must not leave the socket marked connecting");
    assert_eq!(finish(&ov, p).0, Ok(0));
    assert!(other.cancel(&busy));
}

#[test]
fn a_connect_failing_during_the_post_leaves_the_socket_usable() {
    let s = bound_v4();
    let ov = Overlapped::with_event(&Event::new_manual());
    // The broadcast address cannot be connected to: the kernel refuses at once.
    let r = Connect::new(&s, "255.255.255.255:9".parse().unwrap()).post(&ov);
    let Err(e) = r else {
        println!("skipped: the kernel accepted a connect to the broadcast address");
        return;
    };
    assert_ne!(e, WsaError::WSA_IO_PENDING);
    assert!(ov.is_complete());
    assert!(
        !ov.event().unwrap().is_set(),
        "an immediate failure notifies nothing"
    );
    let l = util::listener();
    let p = Connect::new(&s, l.local_addr().unwrap())
        .post(&ov)
        .expect("reuse after an immediate failure");
    assert_eq!(finish(&ov, p).0, Ok(0));
}
