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

/// The names of the threads that woke a future (see [`traced`]).
pub type Wakers = std::sync::Arc<std::sync::Mutex<Vec<String>>>;

/// A waker that notes the thread it is called on, then wakes the task's own waker.
struct Noting {
    inner: std::task::Waker,
    seen: Wakers,
}

impl std::task::Wake for Noting {
    fn wake(self: std::sync::Arc<Self>) {
        self.wake_by_ref();
    }
    fn wake_by_ref(self: &std::sync::Arc<Self>) {
        let name = std::thread::current()
            .name()
            .unwrap_or("<unnamed>")
            .to_owned();
        self.seen.lock().unwrap().push(name);
        self.inner.wake_by_ref();
    }
}

/// A future polled with a waker that notes which thread wakes it (see [`traced`]).
pub struct Traced<F> {
    fut: std::pin::Pin<Box<F>>,
    seen: Wakers,
}

impl<F: std::future::Future> std::future::Future for Traced<F> {
    type Output = F::Output;
    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<F::Output> {
        let waker = std::task::Waker::from(std::sync::Arc::new(Noting {
            inner: cx.waker().clone(),
            seen: std::sync::Arc::clone(&self.seen),
        }));
        self.fut
            .as_mut()
            .poll(&mut std::task::Context::from_waker(&waker))
    }
}

/// `fut`, noting in `seen` the name of every thread that wakes it: which thread reaped
/// its operation's completion.
pub fn traced<F: std::future::Future>(fut: F, seen: &Wakers) -> Traced<F> {
    Traced {
        fut: Box::pin(fut),
        seen: std::sync::Arc::clone(seen),
    }
}
