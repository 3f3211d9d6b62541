//! The load generator: closed-loop echo clients on raw epoll.
//!
//! Every connection has exactly one message in flight: it sends `size` bytes, reads
//! `size` bytes back, checks them, records the round trip (from the first byte sent to
//! the last byte received) and sends the next message at once. The connections are
//! shared out round-robin among `threads` client threads; each thread runs one
//! level-triggered epoll loop over nonblocking sockets (`TCP_NODELAY`), so a message
//! costs the client one `send`, usually one `recv`, and a share of one `epoll_wait`.
//! `EPOLLOUT` is asked for only while a send is short (a full socket buffer).
//!
//! Message `k` of connection `c` is its 4-byte id and 8-byte sequence number (little
//! endian, cut short for messages under 12 bytes) followed by a slice of a random pool
//! at an offset derived from `(c, k)`: a corrupted, truncated, stale or misrouted echo
//! differs from what is expected, and the first differing byte is reported with its
//! connection, message and offset. Building a message is a `memcpy`, so the check costs
//! the client little even at 16 KiB.
//!
//! All connections are made before the warm-up starts; only messages completed inside
//! the measured window `[warmup, warmup + duration)` are counted and recorded.

use std::io;
use std::mem::size_of;
use std::net::SocketAddr;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{Context as _, anyhow, bail};
use hdrhistogram::Histogram;

/// How long one connection may take to be established.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// How many connects are in progress at once: stays well inside any listen backlog, so
/// no SYN is dropped (a dropped SYN is retried only after a second).
const CONNECT_WINDOW: usize = 64;

/// The largest latency the histogram holds, in nanoseconds (a minute).
const MAX_LATENCY_NS: u64 = 60_000_000_000;

/// How far apart message payloads may start in the random pool.
const POOL_SLACK: usize = 4096;

/// The header of each message: connection id (4 bytes) and sequence number (8 bytes).
const HEADER: usize = 12;

/// The longest an idle client thread sleeps before it looks at the clock and the abort
/// flag again.
const POLL_SLICE_MS: i32 = 50;

/// One measured point's workload.
#[derive(Debug, Clone)]
pub(crate) struct Load {
    /// The echo server.
    pub(crate) addr: SocketAddr,
    /// Concurrent connections.
    pub(crate) connections: usize,
    /// Message size in bytes.
    pub(crate) size: usize,
    /// Client threads (at most `connections` are used).
    pub(crate) threads: usize,
    /// Unmeasured time before the window.
    pub(crate) warmup: Duration,
    /// The measured window.
    pub(crate) duration: Duration,
}

/// What the caller does while the clients run (on the calling thread).
pub(crate) trait Watcher {
    /// The measured window opens now.
    fn window_start(&mut self);
    /// The measured window closes now.
    fn window_end(&mut self);
    /// Progress: time since the warm-up began and messages completed in the window so far.
    fn tick(&mut self, elapsed: Duration, measured: u64);
    /// How often `tick` is wanted (`None`: never).
    fn tick_every(&self) -> Option<Duration>;
}

/// What the clients measured.
#[derive(Debug)]
pub(crate) struct Outcome {
    /// Messages completed inside the window.
    pub(crate) messages: u64,
    /// Their round-trip times, in nanoseconds.
    pub(crate) latency: Histogram<u64>,
    /// The window's length.
    pub(crate) window: Duration,
}

/// A message-count slot on a cache line of its own, written by one client thread.
#[derive(Debug, Default)]
#[repr(align(128))]
struct Counter(AtomicU64);

/// What a client thread hands back: messages completed in the window, their latencies.
type ThreadResult = anyhow::Result<(u64, Histogram<u64>)>;

/// What the client threads and the calling thread share.
#[derive(Debug)]
struct Shared {
    /// Set by the first thread that fails, so the others stop.
    abort: AtomicBool,
    /// Messages completed in the window, one slot per thread.
    done: Vec<Counter>,
}

/// The instants that bound a run.
#[derive(Debug, Clone, Copy)]
struct Times {
    /// The window opens.
    measure: Instant,
    /// The window closes; the threads stop.
    end: Instant,
}

/// Connects, runs the workload, and returns what was measured.
///
/// # Errors
/// When a connection cannot be made, a socket call fails, the server closes a
/// connection, or an echo differs from the message sent (naming the connection, the
/// message and the byte offset).
pub(crate) fn run(load: &Load, watcher: &mut dyn Watcher) -> anyhow::Result<Outcome> {
    let fds = connect_all(load.addr, load.connections)?;
    let threads = load.threads.clamp(1, load.connections.max(1));
    let pool = Arc::new(random_pool(load.size + POOL_SLACK));
    let mut shares: Vec<Vec<Conn>> = (0..threads).map(|_| Vec::new()).collect();
    for (i, fd) in fds.into_iter().enumerate() {
        let id = u32::try_from(i).context("too many connections")?;
        shares[i % threads].push(Conn::new(fd, id, load.size));
    }
    let shared = Arc::new(Shared {
        abort: AtomicBool::new(false),
        done: (0..threads).map(|_| Counter::default()).collect(),
    });
    let start = Instant::now();
    let times = Times {
        measure: start + load.warmup,
        end: start + load.warmup + load.duration,
    };
    let mut handles = Vec::with_capacity(threads);
    for (slot, conns) in shares.into_iter().enumerate() {
        let mine = Arc::clone(&shared);
        let pool = Arc::clone(&pool);
        let spawned = thread::Builder::new()
            .name(format!("bench-client-{slot}"))
            .spawn(move || {
                let r = client_thread(conns, &pool, times, &mine, slot);
                if r.is_err() {
                    mine.abort.store(true, Ordering::Relaxed);
                }
                r
            });
        match spawned {
            Ok(h) => handles.push(h),
            Err(e) => {
                shared.abort.store(true, Ordering::Relaxed);
                join_all(handles);
                return Err(e).context("cannot start a client thread");
            }
        }
    }

    watch(&shared, times, start, watcher);

    let mut latency = new_histogram()?;
    let mut messages = 0;
    let mut first_err = None;
    for r in join_all(handles) {
        match r {
            Ok((n, h)) => {
                messages += n;
                latency
                    .add(&h)
                    .map_err(|e| anyhow!("merging histograms: {e:?}"))?;
            }
            Err(e) => {
                first_err.get_or_insert(e);
            }
        }
    }
    if let Some(e) = first_err {
        return Err(e);
    }
    Ok(Outcome {
        messages,
        latency,
        window: load.duration,
    })
}

/// The calling thread's part: marks the window's ends for the watcher and ticks it,
/// until the window closes or a client thread fails.
fn watch(shared: &Shared, times: Times, start: Instant, watcher: &mut dyn Watcher) {
    let every = watcher.tick_every();
    let mut started = false;
    loop {
        if shared.abort.load(Ordering::Relaxed) {
            return;
        }
        let now = Instant::now();
        if !started && now >= times.measure {
            watcher.window_start();
            started = true;
        }
        if now >= times.end {
            watcher.window_end();
            return;
        }
        let done = shared
            .done
            .iter()
            .map(|c| c.0.load(Ordering::Relaxed))
            .sum();
        watcher.tick(now - start, done);
        let boundary = if started { times.end } else { times.measure };
        // Wake at the next boundary, or at the next tick, or at least every 100 ms to
        // notice a failed client.
        let mut nap = boundary - now;
        nap = nap.min(every.unwrap_or(Duration::from_millis(100)));
        thread::sleep(nap);
    }
}

/// Joins the client threads, turning a panic into an error.
fn join_all(handles: Vec<thread::JoinHandle<ThreadResult>>) -> Vec<ThreadResult> {
    handles
        .into_iter()
        .map(|h| {
            h.join()
                .unwrap_or_else(|_| Err(anyhow!("a client thread panicked")))
        })
        .collect()
}

/// A latency histogram in nanoseconds, 3 significant figures, up to a minute.
fn new_histogram() -> anyhow::Result<Histogram<u64>> {
    Histogram::new_with_bounds(1, MAX_LATENCY_NS, 3)
        .map_err(|e| anyhow!("cannot create a histogram: {e:?}"))
}

/// One connection and its message in flight.
#[derive(Debug)]
struct Conn {
    /// The socket (nonblocking).
    fd: OwnedFd,
    /// Its number, 0-based, across all threads.
    id: u32,
    /// Its epoll token: its index in its thread's list.
    token: u64,
    /// The sequence number of the message in flight.
    seq: u64,
    /// The message in flight, which is also the echo expected.
    msg: Vec<u8>,
    /// The echo received so far.
    echo: Vec<u8>,
    /// Bytes of `msg` sent.
    sent: usize,
    /// Bytes of `echo` received.
    received: usize,
    /// When the message's first byte was sent.
    started: Instant,
    /// Whether the socket is registered for `EPOLLOUT` (a send was short).
    want_out: bool,
}

impl Conn {
    fn new(fd: OwnedFd, id: u32, size: usize) -> Self {
        Self {
            fd,
            id,
            token: 0,
            seq: 0,
            msg: vec![0; size],
            echo: vec![0; size],
            sent: 0,
            received: 0,
            started: Instant::now(),
            want_out: false,
        }
    }

    /// Builds message `seq` and starts sending it.
    fn start(&mut self, ep: &Epoll, pool: &[u8], seq: u64, now: Instant) -> anyhow::Result<()> {
        self.seq = seq;
        fill_message(&mut self.msg, pool, self.id, seq);
        self.sent = 0;
        self.received = 0;
        self.started = now;
        self.send_some(ep)
    }

    /// Sends what the socket takes of the rest of the message; asks for `EPOLLOUT` while
    /// some is left.
    fn send_some(&mut self, ep: &Epoll) -> anyhow::Result<()> {
        while self.sent < self.msg.len() {
            let rest = &self.msg[self.sent..];
            // SAFETY: `rest` is a live, initialized slice for the duration of the call;
            // MSG_NOSIGNAL turns a closed peer into EPIPE instead of SIGPIPE.
            let n = unsafe {
                libc::send(
                    self.fd.as_raw_fd(),
                    rest.as_ptr().cast(),
                    rest.len(),
                    libc::MSG_NOSIGNAL | libc::MSG_DONTWAIT,
                )
            };
            if let Ok(n) = usize::try_from(n) {
                self.sent += n;
                continue;
            }
            let e = io::Error::last_os_error();
            match e.kind() {
                io::ErrorKind::Interrupted => continue,
                io::ErrorKind::WouldBlock => {
                    if !self.want_out {
                        ep.modify(self.fd.as_raw_fd(), libc::EPOLLIN | libc::EPOLLOUT, self)?;
                        self.want_out = true;
                    }
                    return Ok(());
                }
                _ => {
                    return Err(e).with_context(|| {
                        format!("connection {}: send of message {}", self.id, self.seq)
                    });
                }
            }
        }
        if self.want_out {
            ep.modify(self.fd.as_raw_fd(), libc::EPOLLIN, self)?;
            self.want_out = false;
        }
        Ok(())
    }

    /// Reads what has arrived of the echo and checks it; whether the echo is complete.
    fn recv_some(&mut self) -> anyhow::Result<bool> {
        let rest = &mut self.echo[self.received..];
        if rest.is_empty() {
            // Readable with nothing expected: the server sent more than it was sent, or
            // closed; the next message's read will tell.
            return Ok(false);
        }
        // SAFETY: `rest` is a live, writable slice for the duration of the call.
        let n = unsafe {
            libc::recv(
                self.fd.as_raw_fd(),
                rest.as_mut_ptr().cast(),
                rest.len(),
                libc::MSG_DONTWAIT,
            )
        };
        let n = match usize::try_from(n) {
            Ok(0) => bail!(
                "connection {}: the server closed the connection during message {} \
                 ({} of {} bytes echoed)",
                self.id,
                self.seq,
                self.received,
                self.msg.len()
            ),
            Ok(n) => n,
            Err(_) => {
                let e = io::Error::last_os_error();
                return match e.kind() {
                    io::ErrorKind::Interrupted | io::ErrorKind::WouldBlock => Ok(false),
                    _ => Err(e).with_context(|| {
                        format!("connection {}: receive of message {}", self.id, self.seq)
                    }),
                };
            }
        };
        let from = self.received;
        let got = &self.echo[from..from + n];
        let want = &self.msg[from..from + n];
        if got != want {
            let i = got.iter().zip(want).position(|(a, b)| a != b).unwrap_or(0);
            bail!(
                "echo mismatch on connection {}, message {}: byte at offset {} of {} is \
                 0x{:02x}, expected 0x{:02x}",
                self.id,
                self.seq,
                from + i,
                self.msg.len(),
                got[i],
                want[i]
            );
        }
        self.received += n;
        Ok(self.received == self.msg.len())
    }
}

/// A client thread: drives its connections until the window closes or another thread
/// fails; returns the messages completed in the window and their latencies.
fn client_thread(
    mut conns: Vec<Conn>,
    pool: &[u8],
    times: Times,
    shared: &Shared,
    slot: usize,
) -> ThreadResult {
    let mut hist = new_histogram()?;
    let ep = Epoll::new()?;
    for (i, c) in conns.iter_mut().enumerate() {
        c.token = token(i);
        ep.add(c.fd.as_raw_fd(), libc::EPOLLIN, c.token)?;
    }
    let now = Instant::now();
    for c in &mut conns {
        c.start(&ep, pool, 0, now)?;
    }
    let mut events = vec![libc::epoll_event { events: 0, u64: 0 }; conns.len().clamp(1, 512)];
    let mut done: u64 = 0;
    loop {
        if shared.abort.load(Ordering::Relaxed) {
            break;
        }
        let now = Instant::now();
        if now >= times.end {
            break;
        }
        let left_ms = (times.end - now).as_millis().saturating_add(1);
        let timeout = i32::try_from(left_ms).map_or(POLL_SLICE_MS, |t| t.min(POLL_SLICE_MS));
        let ready = ep.wait(&mut events, timeout)?;
        for ev in &events[..ready] {
            let Some(c) = usize::try_from(ev.u64).ok().and_then(|i| conns.get_mut(i)) else {
                continue;
            };
            let flags = ev.events;
            if flags & bits(libc::EPOLLOUT) != 0 && c.sent < c.msg.len() {
                c.send_some(&ep)?;
            }
            if flags & bits(libc::EPOLLIN | libc::EPOLLHUP | libc::EPOLLERR) != 0
                && c.recv_some()?
            {
                let now = Instant::now();
                if now >= times.measure && now < times.end {
                    let ns = u64::try_from((now - c.started).as_nanos()).unwrap_or(u64::MAX);
                    hist.saturating_record(ns.max(1));
                    done += 1;
                }
                let next = c.seq + 1;
                c.start(&ep, pool, next, now)?;
            }
        }
        shared.done[slot].0.store(done, Ordering::Relaxed);
    }
    Ok((done, hist))
}

/// The epoll registration token of connection `i`.
fn token(i: usize) -> u64 {
    u64::try_from(i).unwrap_or(u64::MAX)
}

/// An epoll flag as the unsigned bits of `epoll_event::events`.
fn bits(flag: i32) -> u32 {
    u32::from_ne_bytes(flag.to_ne_bytes())
}

/// Writes message `seq` of connection `conn` into `out`.
fn fill_message(out: &mut [u8], pool: &[u8], conn: u32, seq: u64) {
    let mut header = [0u8; HEADER];
    header[..4].copy_from_slice(&conn.to_le_bytes());
    header[4..].copy_from_slice(&seq.to_le_bytes());
    let h = out.len().min(HEADER);
    out[..h].copy_from_slice(&header[..h]);
    let mix = splitmix64((u64::from(conn) << 40) ^ seq);
    let off = usize::try_from(mix % (POOL_SLACK as u64)).unwrap_or(0);
    let body = out.len() - h;
    out[h..].copy_from_slice(&pool[off..off + body]);
}

/// One step of SplitMix64: a well-mixed 64-bit value from `x`.
fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// `len` pseudo-random bytes.
fn random_pool(len: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(len + 8);
    let mut x = 0x243F_6A88_85A3_08D3_u64;
    while out.len() < len {
        x = splitmix64(x);
        out.extend_from_slice(&x.to_le_bytes());
    }
    out.truncate(len);
    out
}

/// An epoll instance.
#[derive(Debug)]
struct Epoll {
    /// The epoll descriptor.
    fd: OwnedFd,
}

impl Epoll {
    fn new() -> io::Result<Self> {
        // SAFETY: plain syscall with no pointer arguments.
        let fd = unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: `fd` is a fresh descriptor that nothing else owns.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        Ok(Self { fd })
    }

    fn ctl(&self, op: i32, fd: RawFd, flags: i32, data: u64) -> io::Result<()> {
        let mut ev = libc::epoll_event {
            events: bits(flags),
            u64: data,
        };
        // SAFETY: `ev` is a valid epoll_event for the duration of the call.
        let r = unsafe { libc::epoll_ctl(self.fd.as_raw_fd(), op, fd, &mut ev) };
        if r < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }

    fn add(&self, fd: RawFd, flags: i32, data: u64) -> io::Result<()> {
        self.ctl(libc::EPOLL_CTL_ADD, fd, flags, data)
    }

    /// Changes the interest of connection `c`'s socket (`fd`), keeping its token.
    fn modify(&self, fd: RawFd, flags: i32, c: &Conn) -> anyhow::Result<()> {
        // EPOLL_CTL_MOD replaces the registration's data too: pass the token on.
        self.ctl(libc::EPOLL_CTL_MOD, fd, flags, c.token)
            .with_context(|| format!("connection {}: epoll_ctl", c.id))
    }

    fn del(&self, fd: RawFd) {
        // SAFETY: a null event is allowed for EPOLL_CTL_DEL (since Linux 2.6.9).
        let _ = unsafe {
            libc::epoll_ctl(
                self.fd.as_raw_fd(),
                libc::EPOLL_CTL_DEL,
                fd,
                std::ptr::null_mut(),
            )
        };
    }

    /// Waits up to `timeout_ms` for readiness; how many events were filled in.
    fn wait(&self, events: &mut [libc::epoll_event], timeout_ms: i32) -> io::Result<usize> {
        let max = i32::try_from(events.len()).unwrap_or(i32::MAX);
        // SAFETY: `events` is a live, writable array of `max` epoll_events.
        let n =
            unsafe { libc::epoll_wait(self.fd.as_raw_fd(), events.as_mut_ptr(), max, timeout_ms) };
        match usize::try_from(n) {
            Ok(n) => Ok(n),
            Err(_) => {
                let e = io::Error::last_os_error();
                if e.kind() == io::ErrorKind::Interrupted {
                    Ok(0)
                } else {
                    Err(e)
                }
            }
        }
    }
}

/// A connect in progress.
#[derive(Debug)]
struct Pending {
    /// The socket.
    fd: OwnedFd,
    /// When the connect began.
    since: Instant,
}

/// Opens `n` nonblocking `TCP_NODELAY` connections to `addr`, at most
/// [`CONNECT_WINDOW`] in progress at a time, each within [`CONNECT_TIMEOUT`].
fn connect_all(addr: SocketAddr, n: usize) -> anyhow::Result<Vec<OwnedFd>> {
    let (storage, len) = sockaddr(addr);
    let ep = Epoll::new().context("epoll_create1")?;
    let mut done = Vec::with_capacity(n);
    let mut pending: Vec<Option<Pending>> = Vec::new();
    let mut in_flight = 0;
    let mut events = vec![libc::epoll_event { events: 0, u64: 0 }; CONNECT_WINDOW];
    let family = if addr.is_ipv4() {
        libc::AF_INET
    } else {
        libc::AF_INET6
    };
    let mut started = 0;
    while done.len() < n {
        while started < n && in_flight < CONNECT_WINDOW {
            let fd = tcp_socket(family).context("cannot create a socket")?;
            // SAFETY: `storage` holds a sockaddr of `len` bytes for the duration of the call.
            let r = unsafe {
                libc::connect(
                    fd.as_raw_fd(),
                    (&raw const storage).cast::<libc::sockaddr>(),
                    len,
                )
            };
            if r == 0 {
                done.push(fd);
                started += 1;
                continue;
            }
            let e = io::Error::last_os_error();
            match e.raw_os_error() {
                Some(libc::EINPROGRESS) => {
                    let slot = pending.len();
                    ep.add(fd.as_raw_fd(), libc::EPOLLOUT, token(slot))?;
                    pending.push(Some(Pending {
                        fd,
                        since: Instant::now(),
                    }));
                    in_flight += 1;
                    started += 1;
                }
                Some(libc::EAGAIN) => {
                    // Out of local ports or a full backlog for now: retry shortly.
                    thread::sleep(Duration::from_millis(1));
                    break;
                }
                _ => {
                    return Err(e).with_context(|| {
                        format!("connection {} of {n}: cannot connect to {addr}", done.len())
                    });
                }
            }
        }
        if in_flight == 0 {
            continue;
        }
        let ready = ep.wait(&mut events, 10).context("epoll_wait")?;
        for ev in &events[..ready] {
            let Some(slot) = usize::try_from(ev.u64).ok() else {
                continue;
            };
            let Some(p) = pending.get_mut(slot).and_then(Option::take) else {
                continue;
            };
            ep.del(p.fd.as_raw_fd());
            in_flight -= 1;
            match socket_error(&p.fd)? {
                0 => done.push(p.fd),
                e => {
                    return Err(io::Error::from_raw_os_error(e))
                        .with_context(|| format!("cannot connect to {addr}"));
                }
            }
        }
        let now = Instant::now();
        if pending
            .iter()
            .flatten()
            .any(|p| now - p.since > CONNECT_TIMEOUT)
        {
            bail!(
                "cannot connect to {addr}: a connection was not established within {} s \
                 ({} of {n} connected)",
                CONNECT_TIMEOUT.as_secs(),
                done.len()
            );
        }
    }
    Ok(done)
}

/// A nonblocking, close-on-exec TCP socket with `TCP_NODELAY`.
fn tcp_socket(family: i32) -> io::Result<OwnedFd> {
    // SAFETY: plain syscall with no pointer arguments.
    let fd = unsafe {
        libc::socket(
            family,
            libc::SOCK_STREAM | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC,
            0,
        )
    };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `fd` is a fresh descriptor that nothing else owns.
    let fd = unsafe { OwnedFd::from_raw_fd(fd) };
    let one: libc::c_int = 1;
    // SAFETY: `one` is a valid c_int for the duration of the call, and the length says so.
    let r = unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            libc::IPPROTO_TCP,
            libc::TCP_NODELAY,
            (&raw const one).cast(),
            socklen_of::<libc::c_int>(),
        )
    };
    if r < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(fd)
}

/// The pending error of a socket (`SO_ERROR`): 0 when its connect succeeded.
fn socket_error(fd: &OwnedFd) -> io::Result<i32> {
    let mut err: libc::c_int = 0;
    let mut len = socklen_of::<libc::c_int>();
    // SAFETY: `err` and `len` are valid and writable for the duration of the call, and
    // `len` is the size of `err`.
    let r = unsafe {
        libc::getsockopt(
            fd.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_ERROR,
            (&raw mut err).cast(),
            &mut len,
        )
    };
    if r < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(err)
}

/// `size_of::<T>()` as a `socklen_t`.
fn socklen_of<T>() -> libc::socklen_t {
    libc::socklen_t::try_from(size_of::<T>()).unwrap_or(libc::socklen_t::MAX)
}

/// `addr` as a C socket address and its length.
fn sockaddr(addr: SocketAddr) -> (libc::sockaddr_storage, libc::socklen_t) {
    // SAFETY: sockaddr_storage is plain old data; all zeroes is a valid value.
    let mut storage: libc::sockaddr_storage = unsafe { std::mem::zeroed() };
    match addr {
        SocketAddr::V4(a) => {
            let sin = libc::sockaddr_in {
                sin_family: libc::sa_family_t::try_from(libc::AF_INET).unwrap_or(2),
                sin_port: a.port().to_be(),
                sin_addr: libc::in_addr {
                    s_addr: u32::from_ne_bytes(a.ip().octets()),
                },
                sin_zero: [0; 8],
            };
            // SAFETY: sockaddr_storage is larger than and aligned for sockaddr_in.
            unsafe { std::ptr::write((&raw mut storage).cast::<libc::sockaddr_in>(), sin) };
            (storage, socklen_of::<libc::sockaddr_in>())
        }
        SocketAddr::V6(a) => {
            let sin6 = libc::sockaddr_in6 {
                sin6_family: libc::sa_family_t::try_from(libc::AF_INET6).unwrap_or(10),
                sin6_port: a.port().to_be(),
                sin6_flowinfo: a.flowinfo(),
                sin6_addr: libc::in6_addr {
                    s6_addr: a.ip().octets(),
                },
                sin6_scope_id: a.scope_id(),
            };
            // SAFETY: sockaddr_storage is larger than and aligned for sockaddr_in6.
            unsafe { std::ptr::write((&raw mut storage).cast::<libc::sockaddr_in6>(), sin6) };
            (storage, socklen_of::<libc::sockaddr_in6>())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_differ_by_connection_and_sequence() {
        let pool = random_pool(64 + POOL_SLACK);
        let mut a = vec![0; 64];
        let mut b = vec![0; 64];
        fill_message(&mut a, &pool, 3, 7);
        fill_message(&mut b, &pool, 3, 8);
        assert_ne!(a, b);
        fill_message(&mut b, &pool, 4, 7);
        assert_ne!(a, b);
        fill_message(&mut b, &pool, 3, 7);
        assert_eq!(a, b);
        assert_eq!(&a[..4], &3u32.to_le_bytes());
        assert_eq!(&a[4..12], &7u64.to_le_bytes());
        // Short messages are cut, not padded.
        let mut tiny = vec![0; 5];
        fill_message(&mut tiny, &pool, 1, 2);
        assert_eq!(&tiny[..4], &1u32.to_le_bytes());
    }
}
