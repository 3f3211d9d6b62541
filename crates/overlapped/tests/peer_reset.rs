//! §1.3 peer reset: a pending receive completes with `WSAECONNRESET` (record status
//! `STATUS_CONNECTION_RESET`, Win32 `ERROR_NETNAME_DELETED`), and afterwards new
//! receives and sends fail at once with `WSAECONNRESET`, notifying nothing.

mod util;

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use overlapped::{
    Event, NtStatus, Overlapped, Recv, Send, SleepOutcome, Socket, Status, Transfer, WsaError,
    sleep_alertable, wait_all, win32,
};

/// Upper bound on every wait: a broken library fails instead of hanging.
const LONG: Duration = Duration::from_secs(5);

/// Checks that new receives and sends on `sock` fail at once with `WSAECONNRESET` and
/// notify nothing.
fn assert_later_calls_fail_with_reset(sock: &Socket) {
    let ev = Event::new_manual();
    let ov = Overlapped::with_event(&ev);
    assert_eq!(
        Recv::new(sock, vec![0u8; 8]).post(&ov).unwrap_err(),
        WsaError::WSAECONNRESET
    );
    assert!(!ev.is_set());
    assert_eq!(
        Send::new(sock, b"x".to_vec()).post(&ov).unwrap_err(),
        WsaError::WSAECONNRESET
    );
    assert!(!ev.is_set());
    assert!(
        ov.is_complete(),
        "a failed post must not leave the record busy"
    );
    let mut b = [0u8; 4];
    assert_eq!(sock.recv(&mut b), Err(WsaError::WSAECONNRESET));
    assert_eq!(sock.send(b"y"), Err(WsaError::WSAECONNRESET));
}

#[test]
fn pending_receive_fails_with_connection_reset() {
    let (client, server) = util::tcp_pair();
    let ev = Event::new_manual();
    let ov = Overlapped::with_event(&ev);
    let posted = Recv::new(&server, vec![0u8; 8]).post(&ov).unwrap();
    assert_eq!(posted.status(), Status::Pending);
    util::close_with_rst(client);

    assert!(ev.wait(Some(LONG)).unwrap(), "the reset never completed it");
    assert_eq!(ov.result(false), Err(WsaError::WSAECONNRESET));
    assert_eq!(ov.result(true), Err(WsaError::WSAECONNRESET));
    assert_eq!(ov.status(), NtStatus::CONNECTION_RESET);
    assert_eq!(ov.status().to_win32(), win32::ERROR_NETNAME_DELETED);
    assert_eq!(win32::ERROR_NETNAME_DELETED, 64);
    let (r, _) = posted.wait();
    assert_eq!(r, Err(WsaError::WSAECONNRESET));

    assert_later_calls_fail_with_reset(&server);
}

#[test]
fn every_pending_receive_fails_with_connection_reset() {
    let (client, server) = util::tcp_pair();
    let events = [Event::new_manual(), Event::new_manual()];
    let ovs: Vec<Overlapped> = events.iter().map(Overlapped::with_event).collect();
    let posted: Vec<_> = ovs
        .iter()
        .map(|ov| Recv::new(&server, vec![0u8; 8]).post(ov).unwrap())
        .collect();
    util::close_with_rst(client);
    let refs: Vec<&Event> = events.iter().collect();
    assert_eq!(
        wait_all(&refs, Some(LONG), false).unwrap(),
        overlapped::WaitOutcome::Signaled(0)
    );
    for (ov, p) in ovs.iter().zip(posted) {
        assert_eq!(ov.status(), NtStatus::CONNECTION_RESET);
        assert_eq!(p.wait().0, Err(WsaError::WSAECONNRESET));
    }
    assert_later_calls_fail_with_reset(&server);
}

#[test]
fn routine_of_a_pending_receive_gets_connection_reset() {
    let (client, server) = util::tcp_pair();
    let ov = Overlapped::new();
    let seen: Rc<RefCell<Vec<Result<Transfer, WsaError>>>> = Rc::default();
    let s2 = Rc::clone(&seen);
    let st = Recv::new(&server, vec![0u8; 8])
        .post_with_routine(&ov, move |c| s2.borrow_mut().push(c.result))
        .unwrap();
    assert_eq!(st, Status::Pending);
    util::close_with_rst(client);
    assert_eq!(sleep_alertable(Some(LONG)), SleepOutcome::IoCompletion);
    assert_eq!(*seen.borrow(), vec![Err(WsaError::WSAECONNRESET)]);
    assert_eq!(ov.status(), NtStatus::CONNECTION_RESET);
    assert_later_calls_fail_with_reset(&server);
}

#[test]
fn reset_with_nothing_pending_fails_the_next_receive() {
    let (client, server) = util::tcp_pair();
    util::close_with_rst(client);
    // Wait until the reset has arrived (the socket reports an error or hang-up).
    assert!(util::eventually(LONG, || {
        let mut e = [overlapped::PollEntry {
            socket: &server,
            interest: overlapped::Readiness {
                read: true,
                ..Default::default()
            },
            ready: overlapped::Readiness::default(),
        }];
        overlapped::poll(&mut e, Some(Duration::ZERO)).unwrap_or(0) == 1
            && (e[0].ready.error || e[0].ready.hangup)
    }));
    let ev = Event::new_manual();
    let ov = Overlapped::with_event(&ev);
    assert_eq!(
        Recv::new(&server, vec![0u8; 8]).post(&ov).unwrap_err(),
        WsaError::WSAECONNRESET
    );
    assert!(!ev.is_set(), "an immediate failure must not notify");
    assert_later_calls_fail_with_reset(&server);
}
