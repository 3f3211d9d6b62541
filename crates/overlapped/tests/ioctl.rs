//! `WSAIoctl` / `ioctlsocket` (§1.9): FIONREAD, FIONBIO, SIO_KEEPALIVE_VALS, unsupported
//! codes, and the notification a posted ioctl delivers.

mod util;

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use overlapped::{
    Event, Ioctl, IoctlOutput, NtStatus, Overlapped, Recv, SleepOutcome, Status, Transfer,
    WaitOutcome, WsaError, sleep_alertable, wait_any, win32,
};

/// Upper bound on every wait: a broken library fails instead of hanging.
const LONG: Duration = Duration::from_secs(5);

fn fionread(s: &overlapped::Socket) -> u32 {
    match Ioctl::FionRead.run(s).unwrap() {
        IoctlOutput::Value(v) => v,
        other => panic!("FIONREAD gave {other:?}"),
    }
}

fn int_option(s: &overlapped::Socket, level: i32, name: i32) -> i32 {
    let mut b = [0u8; 4];
    assert_eq!(s.option_bytes(level, name, &mut b).unwrap(), 4);
    i32::from_ne_bytes(b)
}

#[test]
fn fionread_reports_the_queued_byte_count() {
    let (client, server) = util::tcp_pair();
    assert_eq!(fionread(&server), 0);
    client.send(&[5u8; 10]).unwrap();
    assert!(util::eventually(LONG, || fionread(&server) >= 10));
    assert_eq!(fionread(&server), 10);
    client.send(&[6u8; 7]).unwrap();
    assert!(util::eventually(LONG, || fionread(&server) >= 17));
    assert_eq!(fionread(&server), 17);

    // Taking 4 bytes leaves 13.
    let mut b = [0u8; 4];
    assert_eq!(server.recv(&mut b).unwrap(), 4);
    assert_eq!(fionread(&server), 13);

    // Posted with a record: completes during the post, with the value as its output.
    let ev = Event::new_manual();
    let ov = Overlapped::with_event(&ev);
    let p = Ioctl::FionRead.on(&server).post(&ov).unwrap();
    assert_eq!(p.status(), Status::Immediate(Transfer::default()));
    assert!(ev.is_set(), "a synchronous success still signals the event");
    let (r, out) = p.wait();
    assert_eq!(
        r,
        Ok(Transfer::default()),
        "ioctl completions report 0 bytes"
    );
    assert_eq!(out, Some(IoctlOutput::Value(13)));
}

#[test]
fn fionbio_switches_the_synchronous_calls_but_posts_still_pend() {
    let (client, server) = util::tcp_pair();
    assert_eq!(
        Ioctl::FionBio(true).run(&server).unwrap(),
        IoctlOutput::None
    );
    assert!(server.is_nonblocking());
    let mut b = [0u8; 8];
    assert_eq!(server.recv(&mut b), Err(WsaError::WSAEWOULDBLOCK));

    // An overlapped receive is asynchronous whatever the mode: it pends.
    let ev = Event::new_manual();
    let ov = Overlapped::with_event(&ev);
    let p = Recv::new(&server, vec![0u8; 8]).post(&ov).unwrap();
    assert_eq!(p.status(), Status::Pending);
    assert_eq!(
        wait_any(&[&ev], Some(Duration::from_millis(100)), false).unwrap(),
        WaitOutcome::Timeout
    );
    client.send(b"nb").unwrap();
    assert_eq!(
        wait_any(&[&ev], Some(LONG), false).unwrap(),
        WaitOutcome::Signaled(0)
    );
    let (r, buf) = p.wait();
    assert_eq!(&buf[..r.unwrap().bytes], b"nb");

    // Back to blocking: an empty receive now waits (here until its timeout).
    Ioctl::FionBio(false).run(&server).unwrap();
    assert!(!server.is_nonblocking());
    server.set_read_timeout(Some(Duration::from_millis(50)));
    assert_eq!(server.recv(&mut b), Err(WsaError::WSAETIMEDOUT));
    client.send(b"blk").unwrap();
    server.set_read_timeout(Some(LONG));
    assert_eq!(server.recv(&mut b).unwrap(), 3);
}

#[test]
fn keepalive_values_are_accepted_and_applied() {
    let (_client, server) = util::tcp_pair();
    let on = Ioctl::KeepAlive {
        enabled: true,
        time: Duration::from_secs(30),
        interval: Duration::from_secs(3),
    };
    assert_eq!(on.run(&server).unwrap(), IoctlOutput::None);
    assert_eq!(int_option(&server, libc::SOL_SOCKET, libc::SO_KEEPALIVE), 1);
    assert_eq!(
        int_option(&server, libc::IPPROTO_TCP, libc::TCP_KEEPIDLE),
        30
    );
    assert_eq!(
        int_option(&server, libc::IPPROTO_TCP, libc::TCP_KEEPINTVL),
        3
    );

    // Posted with a record: synchronous success, event signalled, 0 bytes.
    let ev = Event::new_manual();
    let ov = Overlapped::with_event(&ev);
    let off = Ioctl::KeepAlive {
        enabled: false,
        time: Duration::from_secs(1),
        interval: Duration::from_secs(1),
    };
    let p = off.on(&server).post(&ov).unwrap();
    assert!(matches!(p.status(), Status::Immediate(_)));
    assert!(ev.is_set());
    assert_eq!(p.wait().0, Ok(Transfer::default()));
    assert_eq!(int_option(&server, libc::SOL_SOCKET, libc::SO_KEEPALIVE), 0);
}

#[test]
fn an_unsupported_code_run_synchronously_fails_with_wsaeopnotsupp() {
    let (_client, server) = util::tcp_pair();
    assert_eq!(
        Ioctl::Unsupported(0x1234_5678).run(&server),
        Err(WsaError::WSAEOPNOTSUPP)
    );
}

#[test]
fn an_unsupported_code_posted_pends_then_completes_with_wsaeopnotsupp() {
    let (_client, server) = util::tcp_pair();
    let ev = Event::new_manual();
    let ov = Overlapped::with_event(&ev);
    let p = Ioctl::Unsupported(0x4800_0008)
        .on(&server)
        .post(&ov)
        .unwrap();
    assert_eq!(p.status(), Status::Pending, "reported as WSA_IO_PENDING");
    assert_eq!(
        wait_any(&[&ev], Some(LONG), false).unwrap(),
        WaitOutcome::Signaled(0)
    );
    assert_eq!(ov.result(false), Err(WsaError::WSAEOPNOTSUPP));
    assert_eq!(ov.status(), NtStatus::NOT_SUPPORTED);
    assert_eq!(ov.status().to_win32(), win32::ERROR_NOT_SUPPORTED);
    assert_eq!(p.wait().0, Err(WsaError::WSAEOPNOTSUPP));

    // With a routine: the routine gets WSAEOPNOTSUPP.
    let seen = Rc::new(RefCell::new(Vec::new()));
    let s2 = Rc::clone(&seen);
    let ov2 = Overlapped::new();
    let st = Ioctl::Unsupported(0x4800_0008)
        .on(&server)
        .post_with_routine(&ov2, move |c| s2.borrow_mut().push(c.result))
        .unwrap();
    assert_eq!(st, Status::Pending);
    assert!(seen.borrow().is_empty());
    assert_eq!(sleep_alertable(Some(LONG)), SleepOutcome::IoCompletion);
    assert_eq!(*seen.borrow(), vec![Err(WsaError::WSAEOPNOTSUPP)]);
}

#[test]
fn a_posted_successful_ioctl_runs_its_routine_with_zero_bytes() {
    let (client, server) = util::tcp_pair();
    client.send(b"12345").unwrap();
    assert!(util::eventually(LONG, || fionread(&server) == 5));
    let seen = Rc::new(RefCell::new(Vec::new()));
    let s2 = Rc::clone(&seen);
    let ov = Overlapped::new();
    let st = Ioctl::FionRead
        .on(&server)
        .post_with_routine(&ov, move |c| s2.borrow_mut().push((c.result, c.output)))
        .unwrap();
    assert_eq!(st, Status::Immediate(Transfer::default()));
    assert!(seen.borrow().is_empty(), "ran inside the post");
    assert_eq!(
        sleep_alertable(Some(Duration::ZERO)),
        SleepOutcome::IoCompletion
    );
    let seen = seen.borrow();
    assert_eq!(seen.len(), 1);
    // cbTransferred is 0 even though the ioctl returned a value (§1.9).
    assert_eq!(seen[0].0, Ok(Transfer { bytes: 0, flags: 0 }));
    assert_eq!(seen[0].1, Some(IoctlOutput::Value(5)));
    drop(seen);

    // FIONBIO posted with a routine too.
    let seen2 = Rc::new(RefCell::new(Vec::new()));
    let s3 = Rc::clone(&seen2);
    let st = Ioctl::FionBio(true)
        .on(&server)
        .post_with_routine(&ov, move |c| s3.borrow_mut().push(c.result))
        .unwrap();
    assert!(matches!(st, Status::Immediate(_)));
    assert_eq!(
        sleep_alertable(Some(Duration::ZERO)),
        SleepOutcome::IoCompletion
    );
    assert_eq!(*seen2.borrow(), vec![Ok(Transfer::default())]);
    assert!(server.is_nonblocking());
}
