//! §1.6 `WSAGetOverlappedResult`: `WSA_IO_INCOMPLETE` while pending without waiting, the
//! byte count once complete (waiting if asked), and the WSA-family code of a failed
//! operation.

mod util;

use std::time::Duration;

use overlapped::{Event, NtStatus, Overlapped, Recv, Status, WsaError};

/// Upper bound on every wait: a broken library fails instead of hanging.
const LONG: Duration = Duration::from_secs(5);
/// How long "nothing happens" is watched for.
const SHORT: Duration = Duration::from_millis(100);

#[test]
fn result_without_wait_while_pending_is_io_incomplete() {
    let (client, server) = util::tcp_pair();
    let ev = Event::new_manual();
    let ov = Overlapped::with_event(&ev);
    let posted = Recv::new(&server, vec![0u8; 8]).post(&ov).unwrap();
    assert_eq!(posted.status(), Status::Pending);
    assert_eq!(ov.result(false), Err(WsaError::WSA_IO_INCOMPLETE));
    assert_eq!(WsaError::WSA_IO_INCOMPLETE.code(), 996);
    // A bounded wait that runs out says the same.
    assert_eq!(
        ov.result_timeout(Some(SHORT)),
        Err(WsaError::WSA_IO_INCOMPLETE)
    );
    assert!(!posted.is_complete());
    client.send(b"done").unwrap();
    assert_eq!(ov.result_timeout(Some(LONG)).unwrap().bytes, 4);
    assert_eq!(ov.result(false).unwrap().bytes, 4);
    let _ = posted.wait();
}

#[test]
fn result_with_wait_returns_the_byte_count() {
    let (client, server) = util::tcp_pair();
    let ov = Overlapped::with_event(&Event::new_manual());
    let posted = Recv::new(&server, vec![0u8; 64]).post(&ov).unwrap();
    let (r, fired) = std::thread::scope(|s| {
        s.spawn(|| {
            // Likely sent while the main thread is blocked; the test holds either way.
            std::thread::sleep(Duration::from_millis(30));
            client.send(b"twelve bytes").unwrap();
        });
        util::with_watchdog(LONG, || server.abort(), || ov.result(true))
    });
    assert!(!fired, "result(wait = true) never returned");
    let t = r.unwrap();
    assert_eq!(t.bytes, 12);
    assert_eq!(t.flags, 0);
    // The result stays readable, with or without waiting.
    assert_eq!(ov.result(true).unwrap(), t);
    assert_eq!(ov.result(false).unwrap(), t);
    let (r, buf) = posted.wait();
    assert_eq!(r.unwrap(), t);
    assert_eq!(&buf[..12], b"twelve bytes");
}

#[test]
fn result_waits_for_the_completion_not_a_hand_set_event() {
    // Documented `# Compatibility`: the wait is on the completion itself.
    let (client, server) = util::tcp_pair();
    let ev = Event::new_manual();
    let ov = Overlapped::with_event(&ev);
    let posted = Recv::new(&server, vec![0u8; 8]).post(&ov).unwrap();
    ev.set();
    assert_eq!(
        ov.result_timeout(Some(SHORT)),
        Err(WsaError::WSA_IO_INCOMPLETE)
    );
    assert_eq!(ov.status(), NtStatus::PENDING);
    client.send(b"ok").unwrap();
    assert_eq!(ov.result_timeout(Some(LONG)).unwrap().bytes, 2);
    let _ = posted.wait();
}

#[test]
fn result_of_a_cancelled_operation_is_operation_aborted() {
    let (_client, server) = util::tcp_pair();
    let ev = Event::new_manual();
    let ov = Overlapped::with_event(&ev);
    let posted = Recv::new(&server, vec![0u8; 8]).post(&ov).unwrap();
    assert!(server.cancel(&ov));
    assert!(ev.wait(Some(LONG)).unwrap());
    assert_eq!(ov.result(false), Err(WsaError::WSA_OPERATION_ABORTED));
    assert_eq!(ov.result(true), Err(WsaError::WSA_OPERATION_ABORTED));
    assert_eq!(ov.status(), NtStatus::CANCELLED);
    assert_eq!(posted.wait().0, Err(WsaError::WSA_OPERATION_ABORTED));
}

#[test]
fn result_of_a_reset_receive_is_wsaeconnreset() {
    let (client, server) = util::tcp_pair();
    let ov = Overlapped::new();
    let posted = Recv::new(&server, vec![0u8; 8]).post(&ov).unwrap();
    util::close_with_rst(client);
    assert_eq!(ov.result_timeout(Some(LONG)), Err(WsaError::WSAECONNRESET));
    assert_eq!(ov.result(false), Err(WsaError::WSAECONNRESET));
    assert_eq!(posted.wait().0, Err(WsaError::WSAECONNRESET));
}

#[test]
fn result_of_a_receive_aborted_by_close_is_wsaeconnaborted() {
    let (_client, server) = util::tcp_pair();
    let ov = Overlapped::new();
    let posted = Recv::new(&server, vec![0u8; 8]).post(&ov).unwrap();
    server.close();
    assert_eq!(
        ov.result_timeout(Some(LONG)),
        Err(WsaError::WSAECONNABORTED)
    );
    assert_eq!(ov.status(), NtStatus::CONNECTION_ABORTED);
    assert_eq!(posted.wait().0, Err(WsaError::WSAECONNABORTED));
}

#[test]
fn a_completed_record_can_be_reused_and_reports_the_new_result() {
    let (client, server) = util::tcp_pair();
    let ov = Overlapped::new();
    let first = Recv::new(&server, vec![0u8; 8]).post(&ov).unwrap();
    client.send(b"abc").unwrap();
    assert_eq!(ov.result_timeout(Some(LONG)).unwrap().bytes, 3);
    let _ = first.wait();
    let second = Recv::new(&server, vec![0u8; 8]).post(&ov).unwrap();
    assert_eq!(second.status(), Status::Pending);
    assert_eq!(ov.result(false), Err(WsaError::WSA_IO_INCOMPLETE));
    client.send(b"defgh").unwrap();
    assert_eq!(ov.result_timeout(Some(LONG)).unwrap().bytes, 5);
    let _ = second.wait();
}

#[test]
fn a_busy_record_cannot_be_posted_again() {
    let (client, server) = util::tcp_pair();
    let ov = Overlapped::new();
    let first = Recv::new(&server, vec![0u8; 8]).post(&ov).unwrap();
    assert_eq!(
        Recv::new(&server, vec![0u8; 8]).post(&ov).unwrap_err(),
        WsaError::WSAEINVAL
    );
    // The refused post did not disturb the pending one.
    assert_eq!(ov.status(), NtStatus::PENDING);
    client.send(b"z").unwrap();
    assert_eq!(ov.result_timeout(Some(LONG)).unwrap().bytes, 1);
    let _ = first.wait();
}
