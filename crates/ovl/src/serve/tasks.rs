//! The `async` and `tokio-async` models: the echo server written with the library's
//! futures (`Accept`, `Recv` and `Send` builders awaited), one task per connection, on
//! either executor. Everything but the executor is shared: [`run`] is generic over
//! [`Executor`], implemented by [`Builtin`] (the library's own
//! [`Runtime`](overlapped::executor::Runtime)) and [`Tokio`] (tokio's multi-thread runtime,
//! our futures inside tokio tasks).
//!
//! - **Accepting**: [`ACCEPTS`] accept tasks, each a loop around one `AcceptEx`-style
//!   [`Accept`] future into a fresh socket, so that many accepts are posted at any time.
//!   Each accepted connection gets a task of its own. A shortage of descriptors or memory
//!   (creating the accepting socket, posting, or the completion) is waited out for
//!   [`BACKOFF`] (an async sleep: the workers keep serving the open connections) and
//!   retried, said once per shortage.
//! - **A connection task** receives into a 16 KiB buffer, sends back what came (the rest
//!   again if a send ever reports fewer bytes than asked; the engine never does), and
//!   ends at end of stream or on an error, closing its socket. It yields to the other
//!   tasks after [`BUDGET`] rounds in a row that completed during their posts.
//! - **Stopping**: the calling thread waits on the stop signal ([`Stop`]); then it aborts the
//!   listener (every pending accept completes aborted and the accept tasks end) and drops
//!   the runtime, which drops every connection task's future: the pending receive or send
//!   is cancelled and the socket closed, before [`run`] returns.

use std::future::{Future, IntoFuture as _};
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use anyhow::Context as _;
use overlapped::{Accept, Kind, Recv, Send, Slice, Socket, Status, WsaError};

use super::{BACKOFF, BUF_SIZE, Shortage, Stop};

/// Accept tasks, each keeping one accept posted on the listener.
const ACCEPTS: usize = 16;

/// Echo rounds in a row that completed during their posts before a connection task
/// yields to the others (a peer that keeps the socket full would otherwise keep its
/// worker).
const BUDGET: u32 = 32;

/// A boxed task, as the runtimes take it from outside.
pub(super) type Task = Pin<Box<dyn Future<Output = ()> + std::marker::Send>>;

/// What the shared server code needs from an executor.
pub(super) trait Executor: 'static {
    /// The runtime that owns the tasks; dropping it drops every unfinished task.
    type Runtime;

    /// The model's name, for the messages.
    const NAME: &'static str;

    /// Starts a runtime with `threads` workers (0: one per core); returns it and how many
    /// workers it has.
    ///
    /// # Errors
    /// When its threads cannot be started.
    fn start(threads: usize) -> io::Result<(Self::Runtime, usize)>;

    /// Spawns `task` on `rt` from outside the runtime (detached).
    fn spawn_on(rt: &Self::Runtime, task: Task);

    /// Spawns `task` on the runtime of the worker that calls this (detached).
    fn spawn(task: impl Future<Output = ()> + std::marker::Send + 'static);

    /// Completes after `d`, without holding a worker.
    fn sleep(d: Duration) -> impl Future<Output = ()> + std::marker::Send;
}

/// The library's executor, [`overlapped::executor::Runtime`].
#[derive(Debug)]
pub(super) struct Builtin;

impl Executor for Builtin {
    type Runtime = overlapped::executor::Runtime;

    const NAME: &'static str = "async";

    fn start(threads: usize) -> io::Result<(Self::Runtime, usize)> {
        let rt = overlapped::executor::Runtime::builder()
            .threads(threads)
            .thread_name("ovl-async")
            .build()?;
        let n = rt.threads();
        Ok((rt, n))
    }

    fn spawn_on(rt: &Self::Runtime, task: Task) {
        drop(rt.spawn(task));
    }

    fn spawn(task: impl Future<Output = ()> + std::marker::Send + 'static) {
        // On a worker, `spawn` adds to that worker's runtime.
        drop(overlapped::executor::spawn(task));
    }

    fn sleep(d: Duration) -> impl Future<Output = ()> + std::marker::Send {
        overlapped::time::sleep(d)
    }
}

/// tokio's multi-thread runtime.
#[derive(Debug)]
pub(super) struct Tokio;

impl Executor for Tokio {
    type Runtime = tokio::runtime::Runtime;

    const NAME: &'static str = "tokio-async";

    fn start(threads: usize) -> io::Result<(Self::Runtime, usize)> {
        let n = if threads == 0 {
            std::thread::available_parallelism().map_or(1, usize::from)
        } else {
            threads
        };
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(n)
            .thread_name("ovl-tokio")
            // The I/O driver: the library registers the engine with it (the `tokio`
            // feature), so completions are reaped on these workers.
            .enable_io()
            .enable_time()
            .build()?;
        Ok((rt, n))
    }

    fn spawn_on(rt: &Self::Runtime, task: Task) {
        drop(rt.spawn(task));
    }

    fn spawn(task: impl Future<Output = ()> + std::marker::Send + 'static) {
        drop(tokio::spawn(task));
    }

    fn sleep(d: Duration) -> impl Future<Output = ()> + std::marker::Send {
        tokio::time::sleep(d)
    }
}

/// What the accept tasks share with the thread that runs the server.
#[derive(Debug)]
struct Shared {
    listener: Socket,
    /// Set (with `stopping`) by an accept task that cannot go on, to stop the server.
    stop: Arc<Stop>,
    /// The server is stopping: failures of the listener are expected.
    stopping: AtomicBool,
    /// Connections accepted.
    served: AtomicU64,
    shortage: Mutex<Shortage>,
    /// Why an accept task gave up, if one did.
    error: Mutex<Option<anyhow::Error>>,
}

impl Shared {
    /// Whether `e` is a shortage to wait out (said once per shortage).
    fn short(&self, what: &str, e: WsaError) -> bool {
        self.shortage
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .hit(what, e)
    }

    /// An accept task cannot go on: the server stops with `e` (the first such error).
    fn fail(&self, e: anyhow::Error) {
        self.error
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get_or_insert(e);
        self.stop.set();
    }
}

/// Serves on `listener` with executor `E` and `threads` workers (0: one per core) until
/// `stop` is set; returns how many connections were accepted.
///
/// # Errors
/// When the runtime cannot be started, the wait fails, or accepting fails for good (no
/// accepting socket, or a post refused for another reason than a shortage).
pub(super) fn run<E: Executor>(
    listener: Socket,
    stop: &Arc<Stop>,
    threads: usize,
) -> anyhow::Result<u64> {
    let (rt, workers) = E::start(threads).context("cannot start the runtime")?;
    let shared = Arc::new(Shared {
        listener,
        stop: Arc::clone(stop),
        stopping: AtomicBool::new(false),
        served: AtomicU64::new(0),
        shortage: Mutex::new(Shortage::default()),
        error: Mutex::new(None),
    });
    for _ in 0..ACCEPTS {
        E::spawn_on(&rt, Box::pin(accept_loop::<E>(Arc::clone(&shared))));
    }
    outln!(
        "{} model: {workers} worker thread(s), {ACCEPTS} accepts posted",
        E::NAME
    );
    stop.wait();
    shared.stopping.store(true, Ordering::SeqCst);
    // Every pending accept completes aborted, new ones fail: the accept tasks end.
    shared.listener.abort();
    // Drops every unfinished task: each connection's pending operation is cancelled and
    // its socket closed.
    drop(rt);
    if let Some(e) = shared
        .error
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .take()
    {
        return Err(e);
    }
    Ok(shared.served.load(Ordering::Relaxed))
}

/// One accept task: an accept posted at a time, a task per connection, until the
/// listener is closed.
async fn accept_loop<E: Executor>(s: Arc<Shared>) {
    while !s.stopping.load(Ordering::SeqCst) {
        let acceptor = match Socket::new(s.listener.family(), Kind::Stream) {
            Ok(a) => a,
            Err(e) if s.short("cannot create the accepting socket", e) => {
                E::sleep(BACKOFF).await;
                continue;
            }
            Err(e) => {
                s.fail(anyhow::Error::new(e).context("cannot create the accepting socket"));
                return;
            }
        };
        let done = match Accept::new(&s.listener, &acceptor).await {
            Ok(done) => done,
            Err(_) if s.stopping.load(Ordering::SeqCst) => return,
            Err(e) if s.short("AcceptEx failed", e) => {
                drop(acceptor);
                E::sleep(BACKOFF).await;
                continue;
            }
            Err(e) => {
                s.fail(anyhow::Error::new(e).context("AcceptEx failed"));
                return;
            }
        };
        match done.result {
            Ok(_) => {
                s.shortage
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .over();
                s.served.fetch_add(1, Ordering::Relaxed);
                E::spawn(echo(acceptor));
            }
            Err(_) if s.stopping.load(Ordering::SeqCst) => return,
            Err(e) if s.short("accept failed", e) => {
                drop(acceptor);
                E::sleep(BACKOFF).await;
            }
            Err(e) => eprintln!("accept failed: {e}"),
        }
    }
}

/// One connection: echoes until end of stream or an error, then closes.
async fn echo(sock: Socket) {
    let _ = sock.set_nodelay(true);
    let mut buf = vec![0u8; BUF_SIZE];
    let mut immediate = 0;
    loop {
        let recv = Recv::new(&sock, buf).into_future();
        if recv.status() == Some(Status::Pending) {
            immediate = 0;
        } else {
            immediate += 1;
        }
        let Ok(got) = recv.await else { return };
        let n = match got.result {
            Ok(t) if t.bytes > 0 => t.bytes,
            _ => return,
        };
        buf = got.output;
        // Sends are never partial (they complete when all was sent, or fail); should one
        // ever report fewer bytes, the rest goes again.
        let mut off = 0;
        while off < n {
            let Ok(sent) = Send::new(&sock, Slice::new(buf, off..n)).await else {
                return;
            };
            buf = sent.output.into_inner();
            match sent.result {
                Ok(t) if t.bytes > 0 => off += t.bytes,
                _ => return,
            }
        }
        if immediate >= BUDGET {
            immediate = 0;
            overlapped::executor::yield_now().await;
        }
    }
}
