//! Operations as futures (`Recv::new(&s, buf).await`), dropping pending futures, the
//! built-in executor, and (with `--features tokio`) the same futures under tokio.

mod util;

use std::future::IntoFuture;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};
use std::thread;
use std::time::Duration;

use overlapped::executor::{self, Runtime};
use overlapped::{
    Accept, Connect, IoBuf, IoBufMut, OpResult, Recv, Send, Slice, Socket, Status, WsaError,
};

/// Upper bound on every test: a broken library fails instead of hanging.
const LONG: Duration = Duration::from_secs(30);

/// The descriptor count is process-wide: the tests run one at a time.
fn serial() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

/// Exits the process if the test outlives `LONG`; holds the [`serial`] lock.
struct Watchdog(
    Option<std::sync::mpsc::Sender<()>>,
    #[allow(dead_code)] MutexGuard<'static, ()>,
);

fn watchdog(name: &'static str) -> Watchdog {
    let serial = serial();
    let (tx, rx) = std::sync::mpsc::channel::<()>();
    thread::spawn(move || {
        if rx.recv_timeout(LONG) == Err(std::sync::mpsc::RecvTimeoutError::Timeout) {
            eprintln!("{name}: hung for {LONG:?}");
            std::process::exit(101);
        }
    });
    Watchdog(Some(tx), serial)
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        drop(self.0.take());
    }
}

/// A buffer that counts its drops.
struct Tracked {
    buf: Vec<u8>,
    drops: Arc<AtomicUsize>,
}

impl Tracked {
    fn new(len: usize, drops: &Arc<AtomicUsize>) -> Self {
        Self {
            buf: vec![0; len],
            drops: Arc::clone(drops),
        }
    }
}

impl Drop for Tracked {
    fn drop(&mut self) {
        self.drops.fetch_add(1, Ordering::SeqCst);
    }
}

// SAFETY: the Vec's heap pointer is stable under moves and valid for its length.
unsafe impl IoBuf for Tracked {
    fn io_ptr(&self) -> *const u8 {
        self.buf.as_ptr()
    }
    fn io_len(&self) -> usize {
        self.buf.len()
    }
}

// SAFETY: as above; the Vec's initialized bytes are writable.
unsafe impl IoBufMut for Tracked {
    fn io_mut_ptr(&mut self) -> *mut u8 {
        self.buf.as_mut_ptr()
    }
}

/// Polls `fut` once with a no-op waker.
fn poll_once<F: std::future::Future + Unpin>(fut: &mut F) -> Poll<F::Output> {
    std::pin::Pin::new(fut).poll(&mut Context::from_waker(Waker::noop()))
}

fn bytes_of<T>(r: &OpResult<T>) -> usize {
    r.as_ref().unwrap().result.unwrap().bytes
}

#[test]
fn recv_future_completes_with_the_buffers() {
    let _dog = watchdog("recv_future_completes_with_the_buffers");
    let (c, s) = util::tcp_pair();
    let fut = Recv::new(&s, vec![0u8; 16]).into_future();
    assert_eq!(fut.status(), Some(Status::Pending));
    assert!(!fut.is_complete());
    let sender = thread::spawn(move || {
        thread::sleep(Duration::from_millis(50));
        c.send(b"hello").unwrap();
        c
    });
    let done = executor::block_on(fut).expect("posted");
    let n = done.result.expect("received").bytes;
    assert_eq!(&done.output[..n], b"hello");
    assert_eq!(done.output.len(), 16, "the whole buffer comes back");
    drop(sender.join().unwrap());
}

#[test]
fn send_future_completes_with_the_buffers() {
    let _dog = watchdog("send_future_completes_with_the_buffers");
    let (c, s) = util::tcp_pair();
    let done = executor::block_on(Send::new(&c, b"abc".to_vec())).expect("posted");
    assert_eq!(done.result.unwrap().bytes, 3);
    assert_eq!(done.output, b"abc");
    let mut buf = [0u8; 8];
    assert_eq!(s.recv(&mut buf).unwrap(), 3);
    assert_eq!(&buf[..3], b"abc");
}

#[test]
fn accept_and_connect_as_futures() {
    let _dog = watchdog("accept_and_connect_as_futures");
    let l = util::listener();
    let addr = l.local_addr().unwrap();
    let acceptor = Socket::tcp_v4().unwrap();
    let client = Socket::tcp_v4().unwrap();
    client.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    executor::block_on(async {
        let accepted = Accept::new(&l, &acceptor).into_future();
        let connected = Connect::new(&client, addr).send(b"first".to_vec()).await;
        assert_eq!(bytes_of(&connected), 5);
        let accepted = accepted.await.expect("posted");
        accepted.result.expect("accepted");
        assert_eq!(accepted.output.remote, Some(client.local_addr().unwrap()));
        let got = Recv::new(&acceptor, vec![0u8; 8]).await.unwrap();
        assert_eq!(&got.output[..got.result.unwrap().bytes], b"first");
        let sent = Send::new(&acceptor, b"back".to_vec()).await.unwrap();
        assert_eq!(sent.result.unwrap().bytes, 4);
        let got = Recv::new(&client, vec![0u8; 8]).await.unwrap();
        assert_eq!(&got.output[..got.result.unwrap().bytes], b"back");
    });
}

#[test]
fn immediate_completion_and_immediate_failure() {
    let _dog = watchdog("immediate_completion_and_immediate_failure");
    let (c, s) = util::tcp_pair();
    c.send(b"ready").unwrap();
    assert!(util::eventually(LONG, || {
        overlapped::Ioctl::FionRead.run(&s) == Ok(overlapped::IoctlOutput::Value(5))
    }));
    let mut fut = Recv::new(&s, vec![0u8; 16]).into_future();
    assert!(matches!(fut.status(), Some(Status::Immediate(t)) if t.bytes == 5));
    assert!(fut.is_complete());
    let Poll::Ready(done) = poll_once(&mut fut) else {
        panic!("an immediate completion resolves at the first poll");
    };
    let done = done.unwrap();
    assert_eq!(&done.output[..done.result.unwrap().bytes], b"ready");

    // A post that fails at once resolves to Err, without buffers.
    s.abort();
    let failed = executor::block_on(Recv::new(&s, vec![0u8; 16]));
    assert_eq!(failed.err(), Some(WsaError::WSAENOTSOCK));
}

#[test]
fn dropping_a_pending_future_cancels_it() {
    let _dog = watchdog("dropping_a_pending_future_cancels_it");
    let (c, s) = util::tcp_pair();
    let drops = Arc::new(AtomicUsize::new(0));
    let mut fut = Recv::new(&s, Tracked::new(64, &drops)).into_future();
    assert_eq!(fut.status(), Some(Status::Pending));
    assert!(poll_once(&mut fut).is_pending());
    drop(fut);
    // The engine frees the buffer once the kernel is done with the cancelled receive.
    assert!(util::eventually(LONG, || drops.load(Ordering::SeqCst) == 1));
    thread::sleep(Duration::from_millis(20));
    assert_eq!(drops.load(Ordering::SeqCst), 1, "freed exactly once");
    // The socket is usable, and the cancelled receive took nothing.
    c.send(b"after").unwrap();
    let got = executor::block_on(Recv::new(&s, vec![0u8; 16])).unwrap();
    assert_eq!(&got.output[..got.result.unwrap().bytes], b"after");
    // A dropped pending send: the engine keeps the buffer until the kernel took it.
    let filled = util::fill_send_buffer(&s);
    assert!(filled > 0);
    let mut send = Send::new(&s, Tracked::new(256 * 1024, &drops)).into_future();
    assert!(poll_once(&mut send).is_pending());
    drop(send);
    assert!(util::eventually(LONG, || drops.load(Ordering::SeqCst) == 2));
}

/// Futures dropped while the data they wait for arrives: each buffer is freed exactly
/// once, only after its receive is over, and every byte is either still queued after
/// the cancel or went with the cancelled receive (as with `CancelIoEx`), never both.
#[test]
fn drop_racing_completion() {
    let _dog = watchdog("drop_racing_completion");
    let (c, s) = util::tcp_pair();
    let drops = Arc::new(AtomicUsize::new(0));
    let rounds = 300;
    let mut lost = 0usize;
    let mut seen = 0usize;
    for i in 0..rounds {
        let mut fut = Recv::new(&s, Tracked::new(1, &drops)).into_future();
        let byte = [u8::try_from(i % 251).unwrap()];
        let first = thread::scope(|sc| {
            sc.spawn(|| c.send(&byte).unwrap());
            poll_once(&mut fut)
        });
        let polled = match first {
            Poll::Ready(r) => Poll::Ready(r),
            Poll::Pending => poll_once(&mut fut),
        };
        match polled {
            Poll::Ready(r) => {
                let r = r.unwrap();
                assert_eq!(r.output.buf, byte);
                seen += 1;
            }
            Poll::Pending => {
                drop(fut);
                // Once the engine freed the buffer, the cancelled receive is over:
                // either the cancel won (the byte is still queued) or the receive did
                // (the byte went with the dropped buffer, as with CancelIoEx).
                assert!(util::eventually(LONG, || {
                    drops.load(Ordering::SeqCst) == i + 1
                }));
                match overlapped::Ioctl::FionRead.run(&s).unwrap() {
                    overlapped::IoctlOutput::Value(1) => {
                        let mut b = [0u8; 1];
                        assert_eq!(s.recv(&mut b).unwrap(), 1);
                        assert_eq!(b, byte);
                        seen += 1;
                    }
                    overlapped::IoctlOutput::Value(0) => lost += 1,
                    other => panic!("unexpected {other:?}"),
                }
            }
        }
        assert!(util::eventually(LONG, || drops.load(Ordering::SeqCst) == i + 1));
    }
    assert!(util::eventually(LONG, || drops.load(Ordering::SeqCst) == rounds));
    assert_eq!(seen + lost, rounds);
    println!("{lost} of {rounds} bytes went with a cancelled receive");
}

#[test]
fn many_dropped_futures_leak_nothing() {
    let _dog = watchdog("many_dropped_futures_leak_nothing");
    let drops = Arc::new(AtomicUsize::new(0));
    // Warm up the engine and the default descriptors before counting.
    drop(util::tcp_pair());
    let before = util::open_fds();
    let rounds = 200;
    for _ in 0..rounds {
        let (c, s) = util::tcp_pair();
        let l = util::listener();
        let acceptor = Socket::tcp_v4().unwrap();
        let mut recv = Recv::new(&s, Tracked::new(32, &drops)).into_future();
        let mut accept = Accept::new(&l, &acceptor)
            .receive(Tracked::new(32, &drops))
            .into_future();
        assert!(poll_once(&mut recv).is_pending());
        assert!(poll_once(&mut accept).is_pending());
        drop(recv);
        drop(accept);
        drop((c, s, l, acceptor));
    }
    assert!(
        util::eventually(LONG, || drops.load(Ordering::SeqCst) == 2 * rounds),
        "buffers freed: {} of {}",
        drops.load(Ordering::SeqCst),
        2 * rounds
    );
    assert!(
        util::eventually(LONG, || util::open_fds() <= before),
        "descriptors: {} before, {} after",
        before,
        util::open_fds()
    );
}

#[test]
fn block_on_and_spawn_on_a_multi_thread_runtime() {
    let _dog = watchdog("block_on_and_spawn_on_a_multi_thread_runtime");
    let rt = Runtime::builder().threads(3).build().unwrap();
    assert_eq!(rt.threads(), 3);
    let sum = rt.block_on(async {
        let handles: Vec<_> = (0..100u64)
            .map(|i| {
                executor::spawn(async move {
                    // Hop between tasks a little: a task awaiting another.
                    let inner = executor::spawn(async move { i * 2 });
                    inner.await + 1
                })
            })
            .collect();
        let mut sum = 0;
        for h in handles {
            sum += h.await;
        }
        sum
    });
    assert_eq!(sum, (0..100u64).map(|i| i * 2 + 1).sum::<u64>());
    // A handle awaited from outside the runtime, by the free block_on.
    let (c, s) = util::tcp_pair();
    let h = rt.spawn(async move {
        let got = Recv::new(&s, vec![0u8; 4]).await.unwrap();
        got.output[..got.result.unwrap().bytes].to_vec()
    });
    c.send(b"task").unwrap();
    assert_eq!(executor::block_on(h), b"task");
    // A panicking task's panic reaches the handle's awaiter.
    let h = rt.spawn(async { panic!("boom") });
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| executor::block_on(h)));
    assert!(caught.is_err());
    // Outside any runtime, spawn uses the default one.
    assert_eq!(executor::block_on(executor::spawn(async { 5 })), 5);
    // `threads(0)`: one worker per core.
    let cores = thread::available_parallelism().map_or(1, |n| n.get());
    assert_eq!(Runtime::new(0).unwrap().threads(), cores);
    // Dropping a runtime with a task waiting on an operation cancels it.
    let drops = Arc::new(AtomicUsize::new(0));
    let (_c2, s2) = util::tcp_pair();
    let d = Arc::clone(&drops);
    let waiting = rt.spawn(async move {
        let _ = Recv::new(&s2, Tracked::new(8, &d)).await;
    });
    thread::sleep(Duration::from_millis(20));
    drop(rt);
    assert!(util::eventually(LONG, || drops.load(Ordering::SeqCst) == 1));
    let caught =
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| executor::block_on(waiting)));
    assert!(caught.is_err(), "a task dropped by shutdown reports it");
}

/// Echoes one connection until the peer closes; returns the bytes echoed.
async fn echo(sock: Socket) -> usize {
    let mut buf = vec![0u8; 4096];
    let mut total = 0;
    loop {
        let got = Recv::new(&sock, buf).await.expect("recv posted");
        let n = got.result.expect("recv").bytes;
        if n == 0 {
            return total;
        }
        let sent = Send::new(&sock, Slice::new(got.output, ..n))
            .await
            .expect("send posted");
        assert_eq!(sent.result.expect("send").bytes, n);
        buf = sent.output.into_inner();
        total += n;
    }
}

/// Accepts one connection with an accept future.
async fn accept(l: &Socket) -> Socket {
    let acceptor = Socket::tcp_v4().unwrap();
    let done = Accept::new(l, &acceptor).await.expect("accept posted");
    done.result.expect("accept");
    acceptor
}

const CLIENTS: usize = 50;
const MESSAGES: usize = 20;

fn payload(client: usize, msg: usize) -> Vec<u8> {
    let len = (client * 131 + msg * 977) % 3000 + 1;
    (0..len)
        .map(|k| u8::try_from((client * 7 + msg * 13 + k) % 251).unwrap())
        .collect()
}

/// Starts the clients: each sends its messages and checks every echo. Returns the
/// bytes each will send.
fn clients(addr: SocketAddr) -> (Vec<thread::JoinHandle<()>>, usize) {
    let total = (0..CLIENTS)
        .flat_map(|c| (0..MESSAGES).map(move |m| payload(c, m).len()))
        .sum();
    let handles = (0..CLIENTS)
        .map(|id| {
            thread::spawn(move || {
                let sock = Socket::connect_to(addr).expect("connect");
                for m in 0..MESSAGES {
                    let msg = payload(id, m);
                    let mut off = 0;
                    while off < msg.len() {
                        off += sock.send(&msg[off..]).unwrap();
                    }
                    let mut back = vec![0u8; msg.len()];
                    let mut got = 0;
                    while got < back.len() {
                        let n = sock.recv(&mut back[got..]).unwrap();
                        assert!(n > 0, "server closed early");
                        got += n;
                    }
                    assert_eq!(back, msg, "client {id} message {m}");
                }
            })
        })
        .collect();
    (handles, total)
}

#[test]
fn echo_server_on_the_builtin_executor() {
    let _dog = watchdog("echo_server_on_the_builtin_executor");
    let rt = Runtime::new(2).unwrap();
    let l = util::listener();
    let (clients, expected) = clients(l.local_addr().unwrap());
    let echoed = rt.block_on(async {
        let mut handles = Vec::new();
        for _ in 0..CLIENTS {
            let conn = accept(&l).await;
            handles.push(executor::spawn(echo(conn)));
        }
        let mut total = 0;
        for h in handles {
            total += h.await;
        }
        total
    });
    for c in clients {
        c.join().unwrap();
    }
    assert_eq!(echoed, expected);
}

#[cfg(feature = "tokio")]
async fn tokio_echo_server() {
    let l = util::listener();
    let (clients, expected) = clients(l.local_addr().unwrap());
    let mut handles = Vec::new();
    for _ in 0..CLIENTS {
        let conn = accept(&l).await;
        handles.push(tokio::spawn(echo(conn)));
    }
    let mut total = 0;
    for h in handles {
        total += h.await.unwrap();
    }
    for c in clients {
        c.join().unwrap();
    }
    assert_eq!(total, expected);
}

#[cfg(feature = "tokio")]
#[tokio::test(flavor = "current_thread")]
async fn echo_server_on_tokio_current_thread() {
    let _dog = watchdog("echo_server_on_tokio_current_thread");
    tokio_echo_server().await;
}

#[cfg(feature = "tokio")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn echo_server_on_tokio_multi_thread() {
    let _dog = watchdog("echo_server_on_tokio_multi_thread");
    tokio_echo_server().await;
}
