//! §1.7 AcceptEx: accept into a pre-created socket, with the addresses and optionally the
//! first block of data; errors, cancellation and closing.

mod util;

use std::cell::RefCell;
use std::net::SocketAddr;
use std::rc::Rc;
use std::time::Duration;

use overlapped::{
    Accept, Accepted, Event, NtStatus, Overlapped, SleepOutcome, Socket, Status, Transfer,
    WaitOutcome, WsaError, sleep_alertable, wait_any, win32,
};

/// Upper bound on every wait: a broken library fails instead of hanging.
const LONG: Duration = Duration::from_secs(5);
/// How long an operation that must stay pending is watched.
const PENDING_FOR: Duration = Duration::from_millis(200);

/// Asserts that `ev` is signalled within [`LONG`].
fn wait_signalled(ev: &Event) {
    assert_eq!(
        wait_any(&[ev], Some(LONG), false).unwrap(),
        WaitOutcome::Signaled(0),
        "the operation did not complete"
    );
}

/// Asserts that `ev` stays unsignalled for [`PENDING_FOR`].
fn assert_stays_pending(ev: &Event, ov: &Overlapped) {
    assert_eq!(
        wait_any(&[ev], Some(PENDING_FOR), false).unwrap(),
        WaitOutcome::Timeout,
        "the operation completed early"
    );
    assert!(!ov.is_complete());
    assert_eq!(ov.result(false), Err(WsaError::WSA_IO_INCOMPLETE));
}

/// A pending accept on a fresh IPv4 listener: (listener, address, acceptor, event, record).
fn v4_setup() -> (Socket, SocketAddr, Socket, Event, Overlapped) {
    let l = util::listener();
    let addr = l.local_addr().unwrap();
    let acceptor = Socket::tcp_v4().unwrap();
    let ev = Event::new_manual();
    let ov = Overlapped::with_event(&ev);
    (l, addr, acceptor, ev, ov)
}

/// Reads exactly `n` bytes from `sock` (synchronously, with a timeout).
fn read_exact(sock: &Socket, n: usize) -> Vec<u8> {
    sock.set_read_timeout(Some(LONG));
    let mut out = vec![0u8; n];
    let mut got = 0;
    while got < n {
        let k = sock.recv(&mut out[got..]).expect("recv");
        assert!(k > 0, "peer closed after {got} of {n} bytes");
        got += k;
    }
    out
}

#[test]
fn without_a_receive_buffer_completes_on_connect_with_addresses() {
    let (l, addr, acceptor, ev, ov) = v4_setup();
    let posted = Accept::new(&l, &acceptor).post(&ov).unwrap();
    assert_eq!(posted.status(), Status::Pending);
    assert_stays_pending(&ev, &ov);

    let client = Socket::connect_to(addr).unwrap();
    wait_signalled(&ev);
    let (r, accepted) = posted.wait();
    assert_eq!(r.unwrap(), Transfer { bytes: 0, flags: 0 });
    let Accepted { buf, local, remote } = accepted;
    assert!(buf.is_none());
    assert_eq!(local, Some(addr), "local address is the listener's");
    assert_eq!(remote, Some(client.local_addr().unwrap()));
    assert_eq!(acceptor.local_addr().unwrap(), addr);
    assert_eq!(acceptor.peer_addr().unwrap(), client.local_addr().unwrap());
    assert_eq!(ov.status(), NtStatus::SUCCESS);
}

#[test]
fn with_a_receive_buffer_completes_only_when_data_arrives() {
    let (l, addr, acceptor, ev, ov) = v4_setup();
    let posted = Accept::new(&l, &acceptor)
        .receive(vec![0u8; 64])
        .post(&ov)
        .unwrap();
    assert_eq!(posted.status(), Status::Pending);

    let client = Socket::connect_to(addr).unwrap();
    // Connected, but no data yet: still pending.
    assert_stays_pending(&ev, &ov);

    client.send(b"first block").unwrap();
    wait_signalled(&ev);
    let (r, accepted) = posted.wait();
    assert_eq!(r.unwrap().bytes, 11);
    let buf = accepted.buf.expect("the buffer comes back");
    assert_eq!(buf.len(), 64, "the buffer's length never changes");
    assert_eq!(&buf[..11], b"first block");
    assert_eq!(accepted.local, Some(addr));
    assert_eq!(accepted.remote, Some(client.local_addr().unwrap()));
}

#[test]
fn peer_closing_before_sending_completes_with_zero_bytes() {
    let (l, addr, acceptor, ev, ov) = v4_setup();
    let posted = Accept::new(&l, &acceptor)
        .receive(vec![0u8; 64])
        .post(&ov)
        .unwrap();
    let client = Socket::connect_to(addr).unwrap();
    let client_addr = client.local_addr().unwrap();
    drop(client);
    wait_signalled(&ev);
    let (r, accepted) = posted.wait();
    assert_eq!(r, Ok(Transfer { bytes: 0, flags: 0 }));
    assert_eq!(accepted.remote, Some(client_addr));
}

#[test]
fn the_accepted_socket_works_both_ways() {
    let (l, addr, acceptor, ev, ov) = v4_setup();
    let posted = Accept::new(&l, &acceptor)
        .receive(vec![0u8; 16])
        .post(&ov)
        .unwrap();
    let client = Socket::connect_to(addr).unwrap();
    client.send(b"ping").unwrap();
    wait_signalled(&ev);
    let (r, accepted) = posted.wait();
    let n = r.unwrap().bytes;
    assert_eq!(&accepted.buf.unwrap()[..n], b"ping");

    // Echo it back, then the other way round, on the accepted socket.
    assert_eq!(acceptor.send(b"pong").unwrap(), 4);
    assert_eq!(read_exact(&client, 4), b"pong");
    client.send(b"again").unwrap();
    assert_eq!(read_exact(&acceptor, 5), b"again");

    // Overlapped operations work on it too.
    let rev = Event::new_manual();
    let rov = Overlapped::with_event(&rev);
    let recv = overlapped::Recv::new(&acceptor, vec![0u8; 8])
        .post(&rov)
        .unwrap();
    client.send(b"ovl").unwrap();
    wait_signalled(&rev);
    let (r, buf) = recv.wait();
    assert_eq!(&buf[..r.unwrap().bytes], b"ovl");
}

#[test]
fn a_second_accept_into_the_same_acceptor_fails_with_einval() {
    let (l, addr, acceptor, ev, ov) = v4_setup();
    let posted = Accept::new(&l, &acceptor).post(&ov).unwrap();
    let ov2 = Overlapped::with_event(&Event::new_manual());
    let second = Accept::new(&l, &acceptor).post(&ov2);
    assert_eq!(second.err(), Some(WsaError::WSAEINVAL));
    assert!(ov2.is_complete(), "a refused post leaves its record idle");

    // The first one is unaffected.
    assert_stays_pending(&ev, &ov);
    let client = Socket::connect_to(addr).unwrap();
    wait_signalled(&ev);
    let (r, a) = posted.wait();
    assert_eq!(r.unwrap().bytes, 0);
    assert_eq!(a.remote, Some(client.local_addr().unwrap()));
}

#[test]
fn a_listener_that_is_not_listening_fails_with_einval() {
    let ov = Overlapped::new();
    // Bound but not listening.
    let bound = Socket::tcp_v4().unwrap();
    bound.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let acceptor = Socket::tcp_v4().unwrap();
    assert_eq!(
        Accept::new(&bound, &acceptor).post(&ov).err(),
        Some(WsaError::WSAEINVAL)
    );
    // Not even bound.
    let fresh = Socket::tcp_v4().unwrap();
    assert_eq!(
        Accept::new(&fresh, &acceptor).post(&ov).err(),
        Some(WsaError::WSAEINVAL)
    );
    assert!(ov.is_complete());
    // The acceptor is still usable for a real listener.
    let l = util::listener();
    let p = Accept::new(&l, &acceptor).post(&ov).unwrap();
    let _client = Socket::connect_to(l.local_addr().unwrap()).unwrap();
    assert_eq!(ov.result_timeout(Some(LONG)).unwrap().bytes, 0);
    assert!(p.wait().0.is_ok());
}

#[test]
fn closing_the_acceptor_while_pending_aborts_the_accept() {
    let (l, addr, acceptor, ev, ov) = v4_setup();
    let posted = Accept::new(&l, &acceptor).post(&ov).unwrap();
    assert_stays_pending(&ev, &ov);
    acceptor.close();
    // No client ever connects: the close alone completes it.
    wait_signalled(&ev);
    let (r, a) = posted.wait();
    assert_eq!(r, Err(WsaError::WSA_OPERATION_ABORTED));
    assert_eq!(ov.status(), NtStatus::CANCELLED);
    assert_eq!(ov.status().to_win32(), win32::ERROR_OPERATION_ABORTED);
    assert!(a.remote.is_none() && a.local.is_none());

    // The listener keeps working: a new accept gets the next connection.
    let acceptor2 = Socket::tcp_v4().unwrap();
    let ov2 = Overlapped::new();
    let p2 = Accept::new(&l, &acceptor2).post(&ov2).unwrap();
    let client = Socket::connect_to(addr).unwrap();
    let (r2, a2) = p2.wait();
    assert!(r2.is_ok());
    assert_eq!(a2.remote, Some(client.local_addr().unwrap()));
}

#[test]
fn closing_the_acceptor_after_connect_while_waiting_for_data_aborts_it() {
    let (l, addr, acceptor, ev, ov) = v4_setup();
    let posted = Accept::new(&l, &acceptor)
        .receive(vec![0u8; 16])
        .post(&ov)
        .unwrap();
    let _client = Socket::connect_to(addr).unwrap();
    assert_stays_pending(&ev, &ov);
    acceptor.close();
    wait_signalled(&ev);
    let (r, _) = posted.wait();
    // Windows reports either code for this case (semantics §1.7).
    assert!(
        matches!(
            r,
            Err(WsaError::WSA_OPERATION_ABORTED | WsaError::WSAECONNABORTED)
        ),
        "{r:?}"
    );
}

#[test]
fn closing_the_listener_while_pending_gives_operation_aborted() {
    let (l, _addr, acceptor, ev, ov) = v4_setup();
    let posted = Accept::new(&l, &acceptor).post(&ov).unwrap();
    assert_stays_pending(&ev, &ov);
    l.close();
    wait_signalled(&ev);
    let (r, a) = posted.wait();
    assert_eq!(r, Err(WsaError::WSA_OPERATION_ABORTED));
    assert_eq!(ov.status(), NtStatus::CANCELLED);
    assert!(a.remote.is_none());
    // The acceptor is free again.
    let l2 = util::listener();
    let ov2 = Overlapped::new();
    let p2 = Accept::new(&l2, &acceptor).post(&ov2).unwrap();
    let _c = Socket::connect_to(l2.local_addr().unwrap()).unwrap();
    assert!(p2.wait().0.is_ok());
}

#[test]
fn cancelling_on_the_acceptor_does_not_cancel_but_on_the_listener_does() {
    let (l, _addr, acceptor, ev, ov) = v4_setup();
    let posted = Accept::new(&l, &acceptor).post(&ov).unwrap();
    // The operation belongs to the listener.
    assert_eq!(acceptor.cancel_all(), 0);
    assert!(!acceptor.cancel(&ov));
    assert_eq!(acceptor.cancel_from_this_thread(), 0);
    assert_stays_pending(&ev, &ov);

    assert!(l.cancel(&ov));
    wait_signalled(&ev);
    let (r, _) = posted.wait();
    assert_eq!(r, Err(WsaError::WSA_OPERATION_ABORTED));
}

#[test]
fn accept_over_ipv6() {
    let l = match Socket::listen_on("[::1]:0".parse().unwrap(), 8) {
        Ok(l) => l,
        Err(e) => {
            println!("skipped: IPv6 loopback unavailable ({e})");
            return;
        }
    };
    let addr = l.local_addr().unwrap();
    // An IPv4 acceptor does not match the listener's family.
    let v4 = Socket::tcp_v4().unwrap();
    let ov = Overlapped::with_event(&Event::new_manual());
    assert_eq!(
        Accept::new(&l, &v4).post(&ov).err(),
        Some(WsaError::WSAEINVAL)
    );

    let acceptor = Socket::tcp_v6().unwrap();
    let posted = Accept::new(&l, &acceptor)
        .receive(vec![0u8; 8])
        .post(&ov)
        .unwrap();
    let client = Socket::connect_to(addr).unwrap();
    client.send(b"six").unwrap();
    wait_signalled(ov.event().unwrap());
    let (r, a) = posted.wait();
    assert_eq!(r.unwrap().bytes, 3);
    assert_eq!(&a.buf.unwrap()[..3], b"six");
    assert_eq!(a.local, Some(addr));
    assert_eq!(a.remote, Some(client.local_addr().unwrap()));
    assert!(a.remote.unwrap().is_ipv6());
}

#[test]
fn accept_with_a_completion_routine() {
    let l = util::listener();
    let addr = l.local_addr().unwrap();
    let acceptor = Socket::tcp_v4().unwrap();
    let ov = Overlapped::new();
    let seen = Rc::new(RefCell::new(Vec::new()));
    let s2 = Rc::clone(&seen);
    let st = Accept::new(&l, &acceptor)
        .receive(vec![0u8; 32])
        .post_with_routine(&ov, move |c| {
            let n = c.result.map_or(0, |t| t.bytes);
            let data = c.output.buf.as_ref().map(|b| b[..n].to_vec());
            s2.borrow_mut()
                .push((std::thread::current().id(), c.result, data, c.output.remote));
        })
        .unwrap();
    assert_eq!(st, Status::Pending);
    let client = Socket::connect_to(addr).unwrap();
    client.send(b"hello routine").unwrap();
    assert_eq!(sleep_alertable(Some(LONG)), SleepOutcome::IoCompletion);
    let seen = seen.borrow();
    assert_eq!(seen.len(), 1);
    let (tid, r, data, remote) = &seen[0];
    assert_eq!(*tid, std::thread::current().id());
    assert_eq!(r.unwrap().bytes, 13);
    assert_eq!(data.as_deref(), Some(&b"hello routine"[..]));
    assert_eq!(*remote, Some(client.local_addr().unwrap()));
}

#[test]
fn accept_with_an_event_when_the_connection_is_already_queued() {
    let (l, addr, acceptor, ev, ov) = v4_setup();
    let client = Socket::connect_to(addr).unwrap();
    // The connection waits in the backlog; the accept may complete during the post,
    // and the event is signalled either way.
    let posted = Accept::new(&l, &acceptor).post(&ov).unwrap();
    wait_signalled(&ev);
    let (r, a) = posted.wait();
    assert_eq!(r.unwrap().bytes, 0);
    assert_eq!(a.remote, Some(client.local_addr().unwrap()));
}

#[test]
fn an_accept_refused_at_post_leaves_the_acceptor_usable() {
    let (l, addr, acceptor, _ev, ov) = v4_setup();
    // Bind the record to a pending receive elsewhere: the accept is refused.
    let (_c, s) = util::tcp_pair();
    let pending = overlapped::Recv::new(&s, vec![0u8; 4]).post(&ov).unwrap();
    assert_eq!(pending.status(), Status::Pending);
    assert_eq!(
        Accept::new(&l, &acceptor).post(&ov).err(),
        Some(WsaError::WSAEINVAL)
    );
    // Nothing is pending on the acceptor, so it accepts normally with a free record.
    let ov2 = Overlapped::with_event(&Event::new_manual());
    let posted = Accept::new(&l, &acceptor)
        .post(&ov2)
        .expect("the refused post must not leave the acceptor marked busy");
    let client = Socket::connect_to(addr).unwrap();
    wait_signalled(ov2.event().unwrap());
    let (r, a) = posted.wait();
    assert!(r.is_ok());
    assert_eq!(a.remote, Some(client.local_addr().unwrap()));
    assert!(s.cancel(&ov));
}

/// Closing the acceptor of a pending accept completes that accept before the close
/// returns (as Windows' `closesocket` does): its record can be posted again at once.
#[test]
fn closing_the_acceptor_frees_the_record_at_once() {
    let (l, _addr, _acceptor, ev, ov) = v4_setup();
    for _ in 0..20 {
        let a = Socket::tcp_v4().unwrap();
        let posted = Accept::new(&l, &a).post(&ov).unwrap();
        assert_eq!(posted.status(), Status::Pending);
        drop(a);
        assert!(ov.is_complete());
        assert_eq!(ov.status(), NtStatus::CANCELLED);
        wait_signalled(&ev);
        drop(posted);
    }
}
