//! The completion-port model, as Windows servers that use every core are written: one
//! port, worker threads (default one per core) dequeuing its packets, each connection
//! associated with the port under its own key.
//!
//! - The listener is associated with the port under [`LISTENER_KEY`]; [`ACCEPTS`]
//!   `AcceptEx`-style accepts are kept posted on it, each into its own pre-created socket
//!   and record. An accept packet hands the connection to a worker, which associates it
//!   with the port (key = connection id), posts its first receive, and posts the next
//!   accept.
//! - Every socket skips the port on immediate success
//!   (`FILE_SKIP_COMPLETION_PORT_ON_SUCCESS`), as high-throughput Windows servers set
//!   it: a receive that completes during its post continues at once on the same thread
//!   (echo, next receive) without a round trip through the port; a pending one comes
//!   back as a packet, to whichever worker dequeues it.
//! - Stopping closes the port (waking every worker), then closes every socket.

use anyhow::Context as _;
use overlapped::{
    Accept, Accepted, CompletionPort, DequeueError, Kind, Overlapped, Packet, Recv, Send, Slice,
    Socket, Status, WsaError,
};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError, RwLock};

use super::{BACKOFF, BUF_SIZE, Shortage, Stop};

/// The key of the listener's packets (connection keys count up from 0).
const LISTENER_KEY: usize = usize::MAX;

/// Accepts kept posted on the listener.
const ACCEPTS: usize = 16;

/// One connection: its socket and the record its one operation at a time is bound to.
#[derive(Debug)]
struct Conn {
    sock: Socket,
    ov: Overlapped,
}

/// A posted accept: the socket it accepts into (its record is found by the packet).
#[derive(Debug)]
struct AcceptSlot {
    acceptor: Socket,
}

/// What the workers share.
#[derive(Debug)]
struct Shared {
    port: CompletionPort,
    listener: Socket,
    conns: RwLock<HashMap<usize, Arc<Conn>>>,
    /// Pending accepts by their record's id.
    accepts: Mutex<HashMap<usize, AcceptSlot>>,
    next_key: std::sync::atomic::AtomicUsize,
    served: std::sync::atomic::AtomicU64,
    /// Accepts that could not be posted again (out of descriptors or memory): posted
    /// when connections close, or on the workers' next timeout.
    deficit: std::sync::atomic::AtomicUsize,
    shortage: Mutex<Shortage>,
}

/// Serves until `stop` is set with `threads` workers (0 = one per core); returns how
/// many connections were accepted.
///
/// # Errors
/// When the port cannot take the listener or the first accepts cannot be posted.
pub(super) fn serve(listener: Socket, stop: &Stop, threads: usize) -> anyhow::Result<u64> {
    let threads = if threads == 0 {
        std::thread::available_parallelism().map_or(1, usize::from)
    } else {
        threads
    };
    let port = CompletionPort::new(threads);
    port.associate(&listener, LISTENER_KEY)
        .context("cannot associate the listener with the port")?;
    let shared = Arc::new(Shared {
        port,
        listener,
        conns: RwLock::new(HashMap::new()),
        accepts: Mutex::new(HashMap::new()),
        next_key: std::sync::atomic::AtomicUsize::new(0),
        served: std::sync::atomic::AtomicU64::new(0),
        deficit: std::sync::atomic::AtomicUsize::new(0),
        shortage: Mutex::new(Shortage::default()),
    });
    for _ in 0..ACCEPTS {
        post_accept(&shared).context("cannot post the first accepts")?;
    }
    outln!("port model: {threads} worker thread(s), {ACCEPTS} accepts posted");
    let workers: Vec<_> = (0..threads)
        .map(|i| {
            let s = Arc::clone(&shared);
            std::thread::Builder::new()
                .name(format!("worker-{i}"))
                .spawn(move || work(&s))
        })
        .collect::<Result<_, _>>()
        .context("cannot start the worker threads")?;
    stop.wait();
    shared.port.close();
    for w in workers {
        let _ = w.join();
    }
    // Closing completes what is still pending (aborted); nobody dequeues those packets.
    shared
        .conns
        .write()
        .unwrap_or_else(PoisonError::into_inner)
        .clear();
    shared
        .accepts
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .clear();
    Ok(shared.served.load(std::sync::atomic::Ordering::Relaxed))
}

/// Posts one accept on the listener.
fn post_accept(s: &Shared) -> Result<(), WsaError> {
    let acceptor = Socket::new(s.listener.family(), Kind::Stream)?;
    let ov = Overlapped::new();
    // The packet may be dequeued before `post` returns: the map stays locked until the
    // slot is in it, and the worker that takes the packet looks it up under the lock.
    let mut accepts = s.accepts.lock().unwrap_or_else(PoisonError::into_inner);
    // The listener does not skip the port on success: every accept comes as a packet,
    // with the acceptor looked up by the record's id.
    let _posted = Accept::new(&s.listener, &acceptor).post(&ov)?;
    accepts.insert(ov.id(), AcceptSlot { acceptor });
    Ok(())
}

/// A worker: dequeues until the port closes.
fn work(s: &Shared) {
    loop {
        // While accepts are missing, wake up now and then to post them again.
        let timeout = (s.deficit.load(std::sync::atomic::Ordering::Acquire) > 0).then_some(BACKOFF);
        match s.port.dequeue(timeout) {
            Ok(p) if p.key == LISTENER_KEY => on_accept(s, p),
            Ok(p) => on_io(s, p),
            Err(DequeueError::Timeout) => replenish(s),
            Err(DequeueError::Closed) => return,
            Err(e) => {
                eprintln!("dequeue failed: {e}");
                return;
            }
        }
    }
}

/// An accept completed: set the connection up, post the next accept.
fn on_accept(s: &Shared, mut p: Packet) {
    let Some(id) = p.overlapped().map(Overlapped::id) else {
        return;
    };
    let slot = s
        .accepts
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .remove(&id);
    let _ = p.take_output::<Accepted<Vec<u8>>>();
    if let Some(slot) = slot {
        match p.result {
            Ok(_) => {
                s.shortage
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .over();
                start_conn(s, slot.acceptor);
            }
            Err(e) => {
                let short = s
                    .shortage
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .hit("accept failed", e);
                if !short && !s.port.is_closed() {
                    eprintln!("accept failed: {e}");
                }
            }
        }
    }
    // Keep the number of posted accepts (never blocking this worker: the others may
    // all be here too, and the open connections must still be served).
    s.deficit.fetch_add(1, std::sync::atomic::Ordering::AcqRel);
    replenish(s);
}

/// Posts the accepts that are missing, until one fails.
fn replenish(s: &Shared) {
    use std::sync::atomic::Ordering;
    while !s.port.is_closed()
        && s.deficit
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |d| d.checked_sub(1))
            .is_ok()
    {
        if let Err(e) = post_accept(s) {
            s.deficit.fetch_add(1, Ordering::AcqRel);
            let short = s
                .shortage
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .hit("cannot post an accept", e);
            if !short {
                eprintln!("cannot post an accept: {e}");
            }
            return;
        }
    }
}

/// Associates a new connection and posts its first receive.
fn start_conn(s: &Shared, sock: Socket) {
    let key = s
        .next_key
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    if s.port.associate(&sock, key).is_err()
        || sock.set_skip_completion_port_on_success(true).is_err()
    {
        return;
    }
    let _ = sock.set_nodelay(true);
    s.served.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let conn = Arc::new(Conn {
        sock,
        ov: Overlapped::new(),
    });
    s.conns
        .write()
        .unwrap_or_else(PoisonError::into_inner)
        .insert(key, Arc::clone(&conn));
    if !echo_loop(&conn, Step::Recv(vec![0u8; BUF_SIZE])) {
        forget(s, key);
    }
}

/// What a connection does next.
enum Step {
    /// Post a receive into this buffer.
    Recv(Vec<u8>),
    /// Post the echo of the buffer's first `n` bytes.
    Send(Vec<u8>, usize),
}

/// A connection's packet: continue its echo loop.
fn on_io(s: &Shared, mut p: Packet) {
    let conn = s
        .conns
        .read()
        .unwrap_or_else(PoisonError::into_inner)
        .get(&p.key)
        .cloned();
    let Some(conn) = conn else {
        return;
    };
    let next = if let Some(buf) = p.take_output::<Vec<u8>>() {
        // A receive.
        match p.result {
            Ok(t) if t.bytes > 0 => Some(Step::Send(buf, t.bytes)),
            _ => None,
        }
    } else if let Some(sent) = p.take_output::<Slice<Vec<u8>>>() {
        match p.result {
            Ok(_) => Some(Step::Recv(sent.into_inner())),
            Err(_) => None,
        }
    } else {
        None
    };
    let alive = match next {
        Some(step) => echo_loop(&conn, step),
        None => false,
    };
    if !alive {
        forget(s, p.key);
    }
}

/// Posts operations until one pends (its packet continues the loop); false when the
/// connection is done.
fn echo_loop(conn: &Conn, mut step: Step) -> bool {
    loop {
        step = match step {
            Step::Recv(buf) => match Recv::new(&conn.sock, buf).post(&conn.ov) {
                Ok(posted) => match posted.status() {
                    Status::Pending => return true,
                    Status::Immediate(t) if t.bytes == 0 => return false,
                    Status::Immediate(t) => match posted.try_take() {
                        Ok((_, buf)) => Step::Send(buf, t.bytes),
                        Err(_) => return false,
                    },
                },
                Err(_) => return false,
            },
            Step::Send(buf, n) => {
                match Send::new(&conn.sock, Slice::new(buf, ..n)).post(&conn.ov) {
                    Ok(posted) => match posted.status() {
                        Status::Pending => return true,
                        Status::Immediate(_) => match posted.try_take() {
                            Ok((_, slice)) => Step::Recv(slice.into_inner()),
                            Err(_) => return false,
                        },
                    },
                    Err(_) => return false,
                }
            }
        };
    }
}

/// Drops the server's reference to a finished connection (closing it), and posts the
/// accepts a shortage of descriptors left missing.
fn forget(s: &Shared, key: usize) {
    let conn = s
        .conns
        .write()
        .unwrap_or_else(PoisonError::into_inner)
        .remove(&key);
    drop(conn);
    replenish(s);
}
