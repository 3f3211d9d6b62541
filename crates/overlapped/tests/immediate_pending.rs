//! §1.2 immediate vs pending completion: an immediate success returns the byte count and
//! still notifies; a pending post leaves the record `STATUS_PENDING` with its byte count
//! untouched; an immediate failure notifies nothing and frees the record; neither
//! `FIONBIO` nor `SO_RCVTIMEO` changes how an overlapped receive behaves; a large send is
//! never reported partial.

mod util;

use std::cell::Cell;
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use overlapped::{
    Event, NtStatus, Overlapped, Recv, Send, SleepOutcome, Socket, Status, WaitOutcome, WsaError,
    sleep_alertable, wait_any,
};

/// Upper bound on every wait: a broken library fails instead of hanging.
const LONG: Duration = Duration::from_secs(5);
/// How long "nothing happens" is watched for.
const SHORT: Duration = Duration::from_millis(100);

/// Sends `data` from `client` and waits until `server` has all of it queued.
fn make_ready(client: &Socket, server: &Socket, data: &[u8]) {
    assert_eq!(client.send(data).unwrap(), data.len());
    assert!(
        util::eventually(LONG, || {
            let mut b = vec![0u8; data.len() + 1];
            server.peek(&mut b).unwrap_or(0) == data.len()
        }),
        "data never arrived"
    );
}

#[test]
fn immediate_success_returns_the_bytes_and_still_sets_the_event() {
    let (client, server) = util::tcp_pair();
    make_ready(&client, &server, b"already here");
    let ev = Event::new_manual();
    let ov = Overlapped::with_event(&ev);
    let posted = Recv::new(&server, vec![0u8; 64]).post(&ov).unwrap();
    match posted.status() {
        Status::Immediate(t) => assert_eq!(t.bytes, 12),
        Status::Pending => panic!("data was queued: the post must complete at once"),
    }
    assert_eq!(posted.immediate().map(|t| t.bytes), Some(12));
    // The notification is delivered as for a late completion: no wait needed.
    assert!(ev.is_set(), "immediate completion must still set the event");
    assert!(ov.is_complete());
    assert_eq!(ov.result(false).unwrap().bytes, 12);
    assert_eq!(
        wait_any(&[&ev], Some(Duration::ZERO), false).unwrap(),
        WaitOutcome::Signaled(0)
    );
    let (r, buf) = posted.wait();
    assert_eq!(r.unwrap().bytes, 12);
    assert_eq!(&buf[..12], b"already here");
}

#[test]
fn immediate_success_still_queues_the_routine_for_the_next_alertable_wait() {
    let (client, server) = util::tcp_pair();
    make_ready(&client, &server, b"now");
    let ov = Overlapped::new();
    let ran = Rc::new(Cell::new(0u32));
    let r2 = Rc::clone(&ran);
    let st = Recv::new(&server, vec![0u8; 16])
        .post_with_routine(&ov, move |c| {
            assert_eq!(c.result.unwrap().bytes, 3);
            assert_eq!(&c.output[..3], b"now");
            r2.set(r2.get() + 1);
        })
        .unwrap();
    assert!(matches!(st, Status::Immediate(t) if t.bytes == 3), "{st:?}");
    assert_eq!(ran.get(), 0, "the routine must wait for an alertable wait");
    assert_eq!(
        sleep_alertable(Some(Duration::ZERO)),
        SleepOutcome::IoCompletion,
        "the immediate completion's routine was not queued"
    );
    assert_eq!(ran.get(), 1);
}

#[test]
fn immediate_send_success_sets_the_event() {
    let (client, server) = util::tcp_pair();
    let ev = Event::new_manual();
    let ov = Overlapped::with_event(&ev);
    let posted = Send::new(&client, b"out".to_vec()).post(&ov).unwrap();
    assert!(matches!(posted.status(), Status::Immediate(t) if t.bytes == 3));
    assert!(ev.is_set());
    let mut b = [0u8; 8];
    server.set_read_timeout(Some(LONG));
    assert_eq!(server.recv(&mut b).unwrap(), 3);
}

#[test]
fn pending_post_is_status_pending_with_the_byte_count_untouched() {
    let (client, server) = util::tcp_pair();
    // Internal / InternalHigh as a C caller would see them.
    let words = Box::new([AtomicUsize::new(0), AtomicUsize::new(0xdead_beef)]);
    let ev = Event::new_manual();
    let ov = Overlapped::with_event(&ev);
    // SAFETY: `words` is two aligned, writable words declared before `ov`, so they
    // outlive every operation posted with it (each is waited for below).
    unsafe { ov.set_mirror(words[0].as_ptr()) };

    let posted = Recv::new(&server, vec![0u8; 32]).post(&ov).unwrap();
    assert_eq!(posted.status(), Status::Pending);
    assert_eq!(posted.immediate(), None);
    assert_eq!(ov.status(), NtStatus::PENDING);
    assert!(!ov.is_complete());
    assert_eq!(ov.result(false), Err(WsaError::WSA_IO_INCOMPLETE));
    assert_eq!(words[0].load(Ordering::Acquire), 0x103, "Internal");
    assert_eq!(
        words[1].load(Ordering::Acquire),
        0xdead_beef,
        "InternalHigh must be untouched while pending"
    );
    assert!(!ev.is_set());

    client.send(b"0123456789").unwrap();
    assert!(ev.wait(Some(LONG)).unwrap());
    assert_eq!(ov.status(), NtStatus::SUCCESS);
    assert_eq!(words[0].load(Ordering::Acquire), 0);
    assert_eq!(words[1].load(Ordering::Acquire), 10);
    assert_eq!(posted.wait().0.unwrap().bytes, 10);
}

#[test]
fn recv_on_unconnected_tcp_fails_at_once_and_notifies_nothing() {
    let sock = Socket::tcp_v4().unwrap();
    let ev = Event::new_manual();
    let ov = Overlapped::with_event(&ev);
    let err = Recv::new(&sock, vec![0u8; 8]).post(&ov).unwrap_err();
    assert_eq!(err, WsaError::WSAENOTCONN);
    assert!(!ev.is_set(), "an immediate failure must not set the event");
    assert_eq!(
        wait_any(&[&ev], Some(SHORT), false).unwrap(),
        WaitOutcome::Timeout
    );
    assert!(ov.is_complete(), "the record must not stay pending");

    // Routine mode: the routine never runs.
    let ran = Rc::new(Cell::new(false));
    let r2 = Rc::clone(&ran);
    let err = Recv::new(&sock, vec![0u8; 8])
        .post_with_routine(&ov, move |_| r2.set(true))
        .unwrap_err();
    assert_eq!(err, WsaError::WSAENOTCONN);
    assert_eq!(sleep_alertable(Some(SHORT)), SleepOutcome::Timeout);
    assert!(!ran.get(), "an immediate failure must not run the routine");

    // The record is free: the same Overlapped can be posted again.
    let (client, server) = util::tcp_pair();
    let posted = Recv::new(&server, vec![0u8; 8])
        .post(&ov)
        .expect("the record must not be left busy");
    client.send(b"again").unwrap();
    assert!(ev.wait(Some(LONG)).unwrap());
    assert_eq!(posted.wait().0.unwrap().bytes, 5);
}

#[test]
fn send_on_unconnected_tcp_fails_at_once_and_notifies_nothing() {
    let sock = Socket::tcp_v4().unwrap();
    let ev = Event::new_manual();
    let ov = Overlapped::with_event(&ev);
    let err = Send::new(&sock, b"x".to_vec()).post(&ov).unwrap_err();
    assert_eq!(err, WsaError::WSAENOTCONN);
    assert!(!ev.is_set(), "an immediate failure must not set the event");
    assert_eq!(
        wait_any(&[&ev], Some(SHORT), false).unwrap(),
        WaitOutcome::Timeout
    );
    assert!(ov.is_complete());
    let ran = Rc::new(Cell::new(false));
    let r2 = Rc::clone(&ran);
    let err = Send::new(&sock, b"x".to_vec())
        .post_with_routine(&ov, move |_| r2.set(true))
        .unwrap_err();
    assert_eq!(err, WsaError::WSAENOTCONN);
    assert_eq!(sleep_alertable(Some(SHORT)), SleepOutcome::Timeout);
    assert!(!ran.get());
    // The record is free again.
    let (client, _server) = util::tcp_pair();
    let posted = Send::new(&client, b"ok".to_vec())
        .post(&ov)
        .expect("the record must not be left busy");
    assert!(ev.wait(Some(LONG)).unwrap());
    assert_eq!(posted.wait().0.unwrap().bytes, 2);
}

#[test]
fn nonblocking_mode_still_pends_an_overlapped_receive() {
    let (client, server) = util::tcp_pair();
    server.set_nonblocking(true);
    assert!(server.is_nonblocking());
    // A synchronous receive would fail with WSAEWOULDBLOCK...
    let mut b = [0u8; 4];
    assert_eq!(server.recv(&mut b), Err(WsaError::WSAEWOULDBLOCK));
    // ...but an overlapped one pends.
    let ev = Event::new_manual();
    let ov = Overlapped::with_event(&ev);
    let posted = Recv::new(&server, vec![0u8; 8]).post(&ov).unwrap();
    assert_eq!(posted.status(), Status::Pending);
    assert_eq!(ov.status(), NtStatus::PENDING);
    client.send(b"late").unwrap();
    assert!(ev.wait(Some(LONG)).unwrap());
    let (r, buf) = posted.wait();
    assert_eq!(r.unwrap().bytes, 4);
    assert_eq!(&buf[..4], b"late");
}

#[test]
fn receive_timeout_does_not_affect_overlapped_receives() {
    let (client, server) = util::tcp_pair();
    server.set_read_timeout(Some(Duration::from_millis(50)));
    // The timeout is in force for a synchronous receive.
    let mut b = [0u8; 4];
    assert_eq!(server.recv(&mut b), Err(WsaError::WSAETIMEDOUT));

    let ev = Event::new_manual();
    let ov = Overlapped::with_event(&ev);
    let posted = Recv::new(&server, vec![0u8; 8]).post(&ov).unwrap();
    assert_eq!(posted.status(), Status::Pending);
    // Well past the timeout the receive is still pending.
    assert_eq!(
        wait_any(&[&ev], Some(Duration::from_millis(250)), false).unwrap(),
        WaitOutcome::Timeout
    );
    assert_eq!(ov.status(), NtStatus::PENDING);
    assert_eq!(ov.result(false), Err(WsaError::WSA_IO_INCOMPLETE));
    client.send(b"fine").unwrap();
    assert!(ev.wait(Some(LONG)).unwrap());
    let (r, buf) = posted.wait();
    assert_eq!(r.unwrap().bytes, 4);
    assert_eq!(&buf[..4], b"fine");
}

/// Posts one send of `len` bytes from `client` while another thread drains `server`;
/// checks the send reports every byte and the bytes arrive intact.
fn large_send(client: &Socket, server: &Socket, len: usize) {
    let data: Vec<u8> = (0..len).map(|i| u8::try_from(i % 251).unwrap()).collect();
    let expected = data.clone();
    let ev = Event::new_manual();
    let ov = Overlapped::with_event(&ev);
    server.set_read_timeout(Some(LONG));
    std::thread::scope(|s| {
        let reader = s.spawn(|| {
            let mut got = Vec::with_capacity(len);
            let mut buf = vec![0u8; 65536];
            while got.len() < len {
                match server.recv(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => got.extend_from_slice(&buf[..n]),
                }
            }
            got
        });
        let posted = Send::new(client, data).post(&ov).unwrap();
        if let Status::Immediate(t) = posted.status() {
            assert_eq!(t.bytes, len, "an immediate send must report every byte");
        }
        assert!(ev.wait(Some(LONG)).unwrap(), "the send never completed");
        let (r, _buf) = posted.wait();
        assert_eq!(
            r.unwrap().bytes,
            len,
            "a send must never be reported partial"
        );
        assert_eq!(ov.result(false).unwrap().bytes, len);
        let got = reader.join().unwrap();
        assert_eq!(got.len(), len);
        assert!(got == expected, "the bytes arrived altered");
    });
}

#[test]
fn large_send_is_never_reported_partial() {
    let (client, server) = util::tcp_pair();
    large_send(&client, &server, 8 << 20);
}

#[test]
fn large_send_on_a_nonblocking_socket_is_never_reported_partial() {
    let (client, server) = util::tcp_pair();
    client.set_nonblocking(true);
    large_send(&client, &server, 8 << 20);
}
