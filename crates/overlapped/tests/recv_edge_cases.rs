//! §1.3 receive edge cases: no buffers, one zero-length buffer, graceful close,
//! `shutdown(SD_RECEIVE)`, the peer's `shutdown(SD_SEND)`, and a datagram larger than
//! the buffers.

mod util;

use std::time::Duration;

use overlapped::ops::flags::MSG_PARTIAL;
use overlapped::{
    BufList, Event, NtStatus, Overlapped, Recv, RecvFrom, SendTo, Shutdown, Socket, Status,
    WaitOutcome, WsaError, wait_any, win32,
};

/// Upper bound on every wait: a broken library fails instead of hanging.
const LONG: Duration = Duration::from_secs(5);
/// How long "nothing happens" is watched for.
const SHORT: Duration = Duration::from_millis(100);

/// Waits until `sock` has exactly `n` bytes queued (seen by a peek).
fn wait_queued(sock: &Socket, n: usize) {
    assert!(
        util::eventually(LONG, || {
            let mut b = vec![0u8; n + 1];
            sock.peek(&mut b).unwrap_or(0) == n
        }),
        "{n} bytes never arrived"
    );
}

#[test]
fn zero_buffers_is_invalid_and_notifies_nothing() {
    let (_client, server) = util::tcp_pair();
    let ev = Event::new_manual();
    let ov = Overlapped::with_event(&ev);
    let err = Recv::new(&server, BufList(Vec::<Vec<u8>>::new()))
        .post(&ov)
        .unwrap_err();
    assert_eq!(err, WsaError::WSAEINVAL);
    assert!(!ev.is_set());
    assert!(ov.is_complete());
}

#[test]
fn zero_length_buffer_pends_and_completes_with_zero_bytes_leaving_the_data() {
    let (client, server) = util::tcp_pair();
    let ev = Event::new_manual();
    let ov = Overlapped::with_event(&ev);
    let posted = Recv::new(&server, Vec::<u8>::new()).post(&ov).unwrap();
    assert_eq!(posted.status(), Status::Pending, "no data yet: must pend");
    assert_eq!(
        wait_any(&[&ev], Some(SHORT), false).unwrap(),
        WaitOutcome::Timeout
    );
    client.send(b"kept").unwrap();
    assert!(ev.wait(Some(LONG)).unwrap(), "never completed on arrival");
    let (r, buf) = posted.wait();
    assert_eq!(r.unwrap().bytes, 0);
    assert!(buf.is_empty());
    // The data is still queued for the next receive.
    let mut b = [0u8; 8];
    server.set_read_timeout(Some(LONG));
    assert_eq!(server.recv(&mut b).unwrap(), 4);
    assert_eq!(&b[..4], b"kept");
}

#[test]
fn zero_length_buffer_with_data_present_completes_at_once() {
    let (client, server) = util::tcp_pair();
    client.send(b"xyz").unwrap();
    wait_queued(&server, 3);
    let ov = Overlapped::new();
    let posted = Recv::new(&server, Vec::<u8>::new()).post(&ov).unwrap();
    assert!(matches!(posted.status(), Status::Immediate(t) if t.bytes == 0));
    // Nothing was consumed.
    wait_queued(&server, 3);
}

#[test]
fn graceful_peer_close_completes_a_pending_receive_with_zero_bytes() {
    let (client, server) = util::tcp_pair();
    let ev = Event::new_manual();
    let ov = Overlapped::with_event(&ev);
    let posted = Recv::new(&server, vec![0u8; 8]).post(&ov).unwrap();
    assert_eq!(posted.status(), Status::Pending);
    drop(client);
    assert!(ev.wait(Some(LONG)).unwrap());
    let (r, _) = posted.wait();
    assert_eq!(r, Ok(overlapped::Transfer::default()), "success, 0 bytes");
    // A receive posted after the close completes at once with 0 bytes, and notifies.
    let posted = Recv::new(&server, vec![0u8; 8]).post(&ov).unwrap();
    assert!(matches!(posted.status(), Status::Immediate(t) if t.bytes == 0));
    assert!(ev.is_set());
}

#[test]
fn shutdown_receive_lets_the_pending_receive_complete_but_refuses_new_ones() {
    let (client, server) = util::tcp_pair();
    let ev = Event::new_manual();
    let ov = Overlapped::with_event(&ev);
    let posted = Recv::new(&server, vec![0u8; 8]).post(&ov).unwrap();
    assert_eq!(posted.status(), Status::Pending);
    server.shutdown(Shutdown::Receive).unwrap();

    // A new receive fails at once, without notification.
    let ev2 = Event::new_manual();
    let ov2 = Overlapped::with_event(&ev2);
    let err = Recv::new(&server, vec![0u8; 8]).post(&ov2).unwrap_err();
    assert_eq!(err, WsaError::WSAESHUTDOWN);
    assert!(!ev2.is_set());

    // The pending one is still pending, and completes with data.
    assert_eq!(ov.status(), NtStatus::PENDING);
    client.send(b"late").unwrap();
    assert!(ev.wait(Some(LONG)).unwrap());
    let (r, buf) = posted.wait();
    assert_eq!(r.unwrap().bytes, 4);
    assert_eq!(&buf[..4], b"late");
}

#[test]
fn peer_shutdown_send_completes_a_pending_receive_with_zero_bytes() {
    let (client, server) = util::tcp_pair();
    let ev = Event::new_manual();
    let ov = Overlapped::with_event(&ev);
    let posted = Recv::new(&server, vec![0u8; 8]).post(&ov).unwrap();
    assert_eq!(posted.status(), Status::Pending);
    client.shutdown(Shutdown::Send).unwrap();
    assert!(ev.wait(Some(LONG)).unwrap());
    let (r, _) = posted.wait();
    assert_eq!(r, Ok(overlapped::Transfer::default()), "success, 0 bytes");
    // The other direction still works.
    assert_eq!(server.send(b"back").unwrap(), 4);
    let mut b = [0u8; 8];
    client.set_read_timeout(Some(LONG));
    assert_eq!(client.recv(&mut b).unwrap(), 4);
}

#[test]
fn oversized_datagram_pending_completes_with_wsaemsgsize() {
    let (rx, rx_addr) = util::udp();
    let (tx, tx_addr) = util::udp();
    let ev = Event::new_manual();
    let ov = Overlapped::with_event(&ev);
    let posted = RecvFrom::new(&rx, vec![0u8; 4]).post(&ov).unwrap();
    assert_eq!(posted.status(), Status::Pending);
    tx.send_to(b"0123456789", rx_addr).unwrap();
    assert!(ev.wait(Some(LONG)).unwrap());

    // STATUS_BUFFER_OVERFLOW in the record: WSAEMSGSIZE / ERROR_MORE_DATA.
    assert_eq!(ov.status(), NtStatus::BUFFER_OVERFLOW);
    assert_eq!(ov.status().to_win32(), win32::ERROR_MORE_DATA);
    assert_eq!(ov.result(false), Err(WsaError::WSAEMSGSIZE));
    let (r, out) = posted.wait();
    assert_eq!(r, Err(WsaError::WSAEMSGSIZE));
    assert_eq!(out.bufs, b"0123", "the buffer holds the datagram's head");
    assert_eq!(out.from, Some(tx_addr));

    // The rest of the datagram was discarded: the next receive gets the next datagram.
    tx.send_to(b"ab", rx_addr).unwrap();
    let posted = RecvFrom::new(&rx, vec![0u8; 4]).post(&ov).unwrap();
    let (r, out) = posted.wait();
    assert_eq!(r.unwrap().bytes, 2);
    assert_eq!(&out.bufs[..2], b"ab");
}

#[test]
fn oversized_datagram_already_queued_reports_partial_and_wsaemsgsize() {
    let (rx, rx_addr) = util::udp();
    let (tx, tx_addr) = util::udp();
    tx.send_to(b"0123456789", rx_addr).unwrap();
    // Wait for the datagram (a peek of a UDP socket reports the truncated length).
    assert!(util::eventually(LONG, || {
        let mut b = [0u8; 16];
        rx.peek(&mut b).unwrap_or(0) == 10
    }));
    let ev = Event::new_manual();
    let ov = Overlapped::with_event(&ev);
    let posted = RecvFrom::new(&rx, BufList(vec![vec![0u8; 3], vec![0u8; 3]]))
        .post(&ov)
        .unwrap();
    // Completed during the call: the transfer carries MSG_PARTIAL; the record and the
    // completion carry STATUS_BUFFER_OVERFLOW / WSAEMSGSIZE; the event is set.
    match posted.status() {
        Status::Immediate(t) => {
            assert_eq!(t.bytes, 6);
            assert_ne!(t.flags & MSG_PARTIAL, 0, "MSG_PARTIAL must be reported");
        }
        Status::Pending => panic!("the datagram was queued: must complete at once"),
    }
    assert!(ev.is_set());
    assert_eq!(ov.status(), NtStatus::BUFFER_OVERFLOW);
    let (r, out) = posted.wait();
    assert_eq!(r, Err(WsaError::WSAEMSGSIZE));
    assert_eq!(out.bufs.0.concat(), b"012345");
    assert_eq!(out.from, Some(tx_addr));
}

#[test]
fn datagram_that_fits_is_not_partial() {
    let (rx, rx_addr) = util::udp();
    let (tx, _) = util::udp();
    let ov = Overlapped::new();
    let posted = RecvFrom::new(&rx, vec![0u8; 10]).post(&ov).unwrap();
    let tov = Overlapped::new();
    let sent = SendTo::new(&tx, b"0123456789".to_vec(), rx_addr)
        .post(&tov)
        .unwrap();
    assert_eq!(sent.wait().0.unwrap().bytes, 10);
    let (r, out) = posted.wait();
    let t = r.unwrap();
    assert_eq!(t.bytes, 10);
    assert_eq!(t.flags & MSG_PARTIAL, 0);
    assert_eq!(out.bufs, b"0123456789");
}
