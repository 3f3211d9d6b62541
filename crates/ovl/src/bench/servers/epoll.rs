//! `epoll`: the classic single-threaded readiness loop on raw libc, as a C programmer would
//! write it.
//!
//! Everything is level-triggered and nonblocking. A readable connection is read into one
//! shared 16 KiB buffer and sent straight back; a read shorter than the buffer ends the turn
//! (level triggering reports the socket again if more arrived, which saves the `EAGAIN` read
//! an edge-triggered loop needs), and at most [`READS_PER_TURN`] full reads are done in a row
//! so one busy connection cannot starve the others. When a send is short, the rest is kept
//! with the connection, whose interest switches from `EPOLLIN` to `EPOLLOUT`: the server stops
//! reading a client that does not read its echo, which is the backpressure a client expects.
//! Once the rest is sent, the interest goes back to `EPOLLIN`.
//!
//! Connections live in a table indexed by descriptor (the epoll token); closing a descriptor
//! removes it from the epoll set. The listener and the stop eventfd have tokens no
//! descriptor can have.

use std::io;
use std::net::TcpListener;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

use super::{Stop, accept_failed, cvt, set_nodelay};

/// The epoll token of the listener.
const LISTENER: u64 = u64::MAX;
/// The epoll token of the stop eventfd.
const STOP: u64 = u64::MAX - 1;
/// The most full-buffer reads one connection gets per readiness report.
const READS_PER_TURN: usize = 16;
/// The size of the shared read buffer.
const BUF_SIZE: usize = 16 * 1024;

/// One connection.
struct Conn {
    /// The nonblocking socket; dropping it closes it and takes it out of the epoll set.
    fd: OwnedFd,
    /// Bytes received but not yet sent back (non-empty only while waiting for `EPOLLOUT`).
    pending: Vec<u8>,
    /// How much of `pending` has been sent.
    sent: usize,
}

/// Runs the server on `listener` until `stop`; `ready` is called once the epoll set is built.
pub(super) fn run(listener: TcpListener, stop: &Stop, ready: impl FnOnce()) -> anyhow::Result<()> {
    listener.set_nonblocking(true)?;
    // SAFETY: epoll_create1 takes no pointers.
    let epoll = cvt(unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) })?;
    // SAFETY: `epoll` was just returned by epoll_create1, and nothing else owns it.
    let epoll = unsafe { OwnedFd::from_raw_fd(epoll) };
    let ep = epoll.as_raw_fd();
    control(
        ep,
        libc::EPOLL_CTL_ADD,
        listener.as_raw_fd(),
        libc::EPOLLIN,
        LISTENER,
    )?;
    control(
        ep,
        libc::EPOLL_CTL_ADD,
        stop.fd().as_raw_fd(),
        libc::EPOLLIN,
        STOP,
    )?;

    let mut conns: Vec<Option<Conn>> = Vec::new();
    let mut buf = vec![0u8; BUF_SIZE];
    let mut events = vec![libc::epoll_event { events: 0, u64: 0 }; 1024];
    let capacity = libc::c_int::try_from(events.len()).unwrap_or(libc::c_int::MAX);
    ready();
    loop {
        // SAFETY: `events` has room for `capacity` entries.
        let n = match cvt(unsafe { libc::epoll_wait(ep, events.as_mut_ptr(), capacity, -1) }) {
            Ok(n) => n.unsigned_abs() as usize,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e.into()),
        };
        for event in &events[..n] {
            // Copies out of the (packed) event.
            let (flags, token) = (event.events, event.u64);
            match token {
                STOP => return Ok(()),
                LISTENER => accept_all(ep, &listener, &mut conns),
                fd => {
                    let Ok(fd) = usize::try_from(fd) else {
                        continue;
                    };
                    let Some(conn) = conns.get_mut(fd).and_then(Option::as_mut) else {
                        continue;
                    };
                    if !serve_conn(ep, conn, flags, &mut buf) {
                        conns[fd] = None;
                    }
                }
            }
        }
    }
}

/// Accepts every pending connection and adds it to the set.
fn accept_all(ep: RawFd, listener: &TcpListener, conns: &mut Vec<Option<Conn>>) {
    loop {
        // SAFETY: null address pointers ask for no peer address.
        let fd = unsafe {
            libc::accept4(
                listener.as_raw_fd(),
                std::ptr::null_mut(),
                std::ptr::null_mut(),
                libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC,
            )
        };
        let fd = match cvt(fd) {
            Ok(fd) => fd,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
            Err(e) => {
                accept_failed(&e);
                if matches!(
                    e.kind(),
                    io::ErrorKind::ConnectionAborted | io::ErrorKind::Interrupted
                ) {
                    continue;
                }
                return;
            }
        };
        // SAFETY: `fd` was just returned by accept4, and nothing else owns it.
        let conn = unsafe { OwnedFd::from_raw_fd(fd) };
        set_nodelay(fd);
        // The token is the descriptor, which is never negative.
        let index = fd.unsigned_abs() as usize;
        if control(ep, libc::EPOLL_CTL_ADD, fd, libc::EPOLLIN, index as u64).is_err() {
            continue; // dropping `conn` closes it
        }
        if conns.len() <= index {
            conns.resize_with(index + 1, || None);
        }
        conns[index] = Some(Conn {
            fd: conn,
            pending: Vec::new(),
            sent: 0,
        });
    }
}

/// Handles one readiness report; `false` when the connection is finished and must be closed.
fn serve_conn(ep: RawFd, conn: &mut Conn, flags: u32, buf: &mut [u8]) -> bool {
    let fd = conn.fd.as_raw_fd();
    if !conn.pending.is_empty() {
        // Waiting for EPOLLOUT (or an error, which the send reports).
        if flags & (libc::EPOLLOUT | libc::EPOLLERR | libc::EPOLLHUP) as u32 == 0 {
            return true;
        }
        match send(fd, &conn.pending[conn.sent..]) {
            Ok(n) => conn.sent += n,
            Err(e) => return e.kind() == io::ErrorKind::WouldBlock,
        }
        if conn.sent < conn.pending.len() {
            return true;
        }
        conn.pending.clear();
        conn.sent = 0;
        if control(
            ep,
            libc::EPOLL_CTL_MOD,
            fd,
            libc::EPOLLIN,
            fd.unsigned_abs().into(),
        )
        .is_err()
        {
            return false;
        }
        // Fall through: the socket may well be readable already.
    }
    for _ in 0..READS_PER_TURN {
        // SAFETY: reads at most `buf.len()` bytes into `buf`.
        let n = unsafe { libc::recv(fd, buf.as_mut_ptr().cast(), buf.len(), 0) };
        let n = match cvt(n) {
            Ok(0) => return false,
            Ok(n) => n.unsigned_abs(),
            Err(e) => {
                return matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted
                );
            }
        };
        let sent = match send(fd, &buf[..n]) {
            Ok(sent) => sent,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => 0,
            Err(_) => return false,
        };
        if sent < n {
            conn.pending.extend_from_slice(&buf[sent..n]);
            return control(
                ep,
                libc::EPOLL_CTL_MOD,
                fd,
                libc::EPOLLOUT,
                fd.unsigned_abs().into(),
            )
            .is_ok();
        }
        if n < buf.len() {
            break;
        }
    }
    true
}

/// Sends as much of `data` as the socket takes now (a short count means its send buffer is
/// full), retrying on `EINTR`.
fn send(fd: RawFd, data: &[u8]) -> io::Result<usize> {
    loop {
        // SAFETY: sends at most `data.len()` bytes from `data`.
        let n = unsafe { libc::send(fd, data.as_ptr().cast(), data.len(), libc::MSG_NOSIGNAL) };
        match cvt(n) {
            Ok(n) => return Ok(n.unsigned_abs()),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

/// `epoll_ctl(ep, op, fd, {events, token})`.
fn control(
    ep: RawFd,
    op: libc::c_int,
    fd: RawFd,
    events: libc::c_int,
    token: u64,
) -> io::Result<()> {
    let mut event = libc::epoll_event {
        // The EPOLL* constants are small positive c_ints.
        events: events.unsigned_abs(),
        u64: token,
    };
    // SAFETY: passes a pointer to a live epoll_event.
    cvt(unsafe { libc::epoll_ctl(ep, op, fd, &raw mut event) }).map(drop)
}
