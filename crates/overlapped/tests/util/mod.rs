//! Helpers shared by the behaviour tests (each test file has `mod util;`).
#![allow(dead_code, unreachable_pub)]

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use overlapped::Socket;

/// A loopback listener on an ephemeral IPv4 port.
pub fn listener() -> Socket {
    Socket::listen_on("127.0.0.1:0".parse().unwrap(), 64).expect("listen on loopback")
}

/// A connected TCP pair over IPv4 loopback: (client, server side).
pub fn tcp_pair() -> (Socket, Socket) {
    let l = listener();
    let addr = l.local_addr().unwrap();
    let c = Socket::connect_to(addr).expect("connect");
    let (s, _) = l.accept().expect("accept");
    (c, s)
}

/// A connected TCP pair over IPv6 loopback, or None (printing why) if IPv6 is off.
pub fn tcp_pair_v6() -> Option<(Socket, Socket)> {
    let l = match Socket::listen_on("[::1]:0".parse().unwrap(), 8) {
        Ok(l) => l,
        Err(e) => {
            println!("skipped: IPv6 loopback unavailable ({e})");
            return None;
        }
    };
    let addr = l.local_addr().unwrap();
    let c = Socket::connect_to(addr).expect("connect v6");
    let (s, _) = l.accept().expect("accept v6");
    Some((c, s))
}

/// Makes `sock` reset (RST) the connection when closed.
pub fn close_with_rst(sock: Socket) {
    sock.set_linger(Some(Duration::ZERO)).unwrap();
    drop(sock);
}

/// A UDP socket bound to an ephemeral loopback port.
pub fn udp() -> (Socket, SocketAddr) {
    let s = Socket::udp_v4().unwrap();
    s.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let a = s.local_addr().unwrap();
    (s, a)
}

/// Polls `cond` until it holds or `timeout` passes; returns whether it held.
pub fn eventually(timeout: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let end = Instant::now() + timeout;
    while Instant::now() < end {
        if cond() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    cond()
}

/// Number of open descriptors of this process.
pub fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd")
        .map(|d| d.count())
        .unwrap_or(0)
}

/// Fills the peer's receive buffer and our send buffer so that sends pend.
/// Returns how many bytes were written synchronously.
pub fn fill_send_buffer(sock: &Socket) -> usize {
    sock.set_nonblocking(true);
    let chunk = vec![0xABu8; 65536];
    let mut total = 0;
    while let Ok(n) = sock.send(&chunk) {
        total += n;
    }
    sock.set_nonblocking(false);
    total
}

/// Runs `f`; if it has not returned within `timeout`, runs `rescue` on another thread
/// (e.g. aborting the socket a blocking wait in `f` depends on), so that a broken
/// library fails the test instead of hanging it. Returns `f`'s value and whether the
/// rescue had to run.
pub fn with_watchdog<R>(
    timeout: Duration,
    rescue: impl FnOnce() + Send,
    f: impl FnOnce() -> R,
) -> (R, bool) {
    let (tx, rx) = std::sync::mpsc::channel::<()>();
    std::thread::scope(|s| {
        let dog = s.spawn(move || {
            if rx.recv_timeout(timeout) == Err(std::sync::mpsc::RecvTimeoutError::Timeout) {
                rescue();
                true
            } else {
                false
            }
        });
        let r = f();
        drop(tx);
        let fired = dog.join().expect("watchdog thread");
        (r, fired)
    })
}
