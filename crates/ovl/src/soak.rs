//! `ovl soak`: many connections held open for a while, each echoing checksummed messages
//! at a steady rate, every echo checked byte for byte; the server's memory and
//! descriptors sampled over time and after every client has closed.
//!
//! The client is one thread with an epoll loop (edge-triggered, nonblocking sockets), so
//! that 10,000 connections cost it little; the server runs in its own process (the
//! process descriptor limit is per process), either given by address (`--server-pid`
//! for its figures) or started here with `--spawn MODEL`.
//!
//! Message `k` of connection `c` is `size` bytes: `"OVLS"`, `c` (u32 LE), `k` (u64 LE),
//! a pseudo-random payload derived from `(c, k)`, and an FNV-1a checksum of all that.
//! The echo must be exactly that message: any other byte counts as corrupt, and an echo
//! still missing when the run ends (after a grace period) counts as missing.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::ffi::OsString;
use std::io::{BufRead, BufReader, ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};

/// `ovl soak --help`.
pub(crate) const USAGE: &str = "\
Usage: ovl soak [options] (ADDR | --spawn event|routine|port|async|tokio-async)

Holds N connections open to an echo server for a duration; each sends a checksummed
message at a steady rate and checks its echo byte for byte. Every second it prints the
messages and bytes checked, corrupt and missing bytes, failed connections, and (with
--server-pid or --spawn) the server's RSS and open descriptors; at the end it closes
every connection and checks that the server's descriptors return to where they started.
Exit status 1 if any byte was corrupt or missing, a connection failed, or the server's
descriptors did not come back.

Options:
  -c, --connections N   connections (default 10000)
  -d, --duration SECS   how long to send (default 60)
  -r, --rate R          messages per second per connection (default 1)
  -s, --size BYTES      message size, 32 to 65536 (default 128)
      --server-pid PID  sample this server process's RSS and descriptors
      --spawn MODEL     start `ovl serve --model MODEL` on 127.0.0.1:0 and soak it
                        (the global --backend, or OVL_BACKEND, applies to it too)
  -h, --help            print this text";

/// What `ovl soak` was asked to do.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SoakArgs {
    /// The server's address (None with `--spawn`).
    pub(crate) addr: Option<SocketAddr>,
    /// The model to start (`--spawn`).
    pub(crate) spawn: Option<String>,
    /// The server process to sample.
    pub(crate) server_pid: Option<u32>,
    /// Connections.
    pub(crate) connections: usize,
    /// Sending time.
    pub(crate) duration: Duration,
    /// Messages per second per connection.
    pub(crate) rate: f64,
    /// Message size.
    pub(crate) size: usize,
}

/// Parses `ovl soak`'s arguments (after the command name). `Ok(None)` for `--help`.
///
/// # Errors
/// A message naming the bad argument.
pub(crate) fn parse(args: &[OsString]) -> Result<Option<SoakArgs>, String> {
    let mut a = SoakArgs {
        addr: None,
        spawn: None,
        server_pid: None,
        connections: 10_000,
        duration: Duration::from_secs(60),
        rate: 1.0,
        size: 128,
    };
    let mut it = args.iter().map(|s| s.to_string_lossy().into_owned());
    while let Some(arg) = it.next() {
        let mut value = |name: &str| it.next().ok_or_else(|| format!("{name} needs a value"));
        match arg.as_str() {
            "-h" | "--help" => return Ok(None),
            "-c" | "--connections" => {
                let v = value(&arg)?;
                a.connections = v
                    .parse()
                    .ok()
                    .filter(|&n| n > 0)
                    .ok_or_else(|| format!("--connections: not a positive count: {v}"))?;
            }
            "-d" | "--duration" => {
                let v = value(&arg)?;
                let secs: f64 = v
                    .parse()
                    .ok()
                    .filter(|s: &f64| s.is_finite() && *s > 0.0)
                    .ok_or_else(|| format!("--duration: not a positive number of seconds: {v}"))?;
                a.duration = Duration::from_secs_f64(secs);
            }
            "-r" | "--rate" => {
                let v = value(&arg)?;
                a.rate = v
                    .parse()
                    .ok()
                    .filter(|r: &f64| r.is_finite() && *r > 0.0 && *r <= 100_000.0)
                    .ok_or_else(|| format!("--rate: not a rate in (0, 100000]: {v}"))?;
            }
            "-s" | "--size" => {
                let v = value(&arg)?;
                a.size = v
                    .parse()
                    .ok()
                    .filter(|s| (32..=65536).contains(s))
                    .ok_or_else(|| format!("--size: not a size from 32 to 65536: {v}"))?;
            }
            "--server-pid" => {
                let v = value(&arg)?;
                a.server_pid = Some(
                    v.parse()
                        .map_err(|_| format!("--server-pid: not a process id: {v}"))?,
                );
            }
            "--spawn" => {
                let v = value(&arg)?;
                if !matches!(
                    v.as_str(),
                    "event" | "routine" | "port" | "async" | "tokio-async"
                ) {
                    return Err(format!(
                        "--spawn: unknown model {v:?} (event, routine, port, async or \
                         tokio-async)"
                    ));
                }
                a.spawn = Some(v);
            }
            s if s.starts_with('-') => return Err(format!("soak: unknown option {s}")),
            s => {
                if a.addr.is_some() {
                    return Err(format!("soak: unexpected argument {s}"));
                }
                a.addr = Some(
                    s.parse()
                        .map_err(|_| format!("soak: not an address (IP:PORT): {s}"))?,
                );
            }
        }
    }
    match (&a.addr, &a.spawn) {
        (None, None) => Err("soak: give ADDR or --spawn MODEL".into()),
        (Some(_), Some(_)) => Err("soak: give ADDR or --spawn, not both".into()),
        _ => Ok(Some(a)),
    }
}

/// FNV-1a, 32 bits.
fn fnv1a(bytes: &[u8]) -> u32 {
    bytes.iter().fold(0x811c_9dc5_u32, |h, &b| {
        (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
    })
}

/// Writes message `seq` of connection `conn` into `out` (its length is the size).
fn fill_message(out: &mut [u8], conn: u32, seq: u64) {
    let n = out.len();
    out[..4].copy_from_slice(b"OVLS");
    out[4..8].copy_from_slice(&conn.to_le_bytes());
    out[8..16].copy_from_slice(&seq.to_le_bytes());
    // xorshift64*, seeded by (conn, seq).
    let mut x = (u64::from(conn) << 40) ^ seq ^ 0x9e37_79b9_7f4a_7c15;
    for chunk in out[16..n - 4].chunks_mut(8) {
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        let v = x.wrapping_mul(0x2545_f491_4f6c_dd1d).to_le_bytes();
        chunk.copy_from_slice(&v[..chunk.len()]);
    }
    let sum = fnv1a(&out[..n - 4]);
    out[n - 4..].copy_from_slice(&sum.to_le_bytes());
}

/// One client connection.
#[derive(Debug)]
struct Conn {
    stream: TcpStream,
    /// Still connecting (waiting for writability).
    connecting: bool,
    /// Gone (failed or closed by the server).
    dead: bool,
    /// The message in flight (what the echo must be).
    msg: Vec<u8>,
    /// Bytes of `msg` written so far.
    written: usize,
    /// Bytes of the echo read so far.
    echoed: usize,
    /// The echo being read.
    echo: Vec<u8>,
    /// A message is in flight.
    outstanding: bool,
    /// Sequence number of the next message.
    seq: u64,
    /// When the next message is due.
    due: Instant,
}

/// Counters of a run.
#[derive(Debug, Default)]
struct Totals {
    msgs: u64,
    bytes: u64,
    corrupt: u64,
    missing: u64,
    failed: u64,
    closed_by_server: u64,
}

/// The server process's figures.
#[derive(Debug, Clone, Copy)]
struct ServerSample {
    rss_kib: u64,
    fds: usize,
}

fn sample(pid: u32) -> Option<ServerSample> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let rss_kib = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())?;
    let fds = std::fs::read_dir(format!("/proc/{pid}/fd")).ok()?.count();
    Some(ServerSample { rss_kib, fds })
}

fn fmt_sample(s: Option<ServerSample>) -> String {
    s.map_or_else(
        || "server -".to_owned(),
        |s| format!("server rss {} KiB, fds {}", s.rss_kib, s.fds),
    )
}

/// A server started by `--spawn`, stopped (SIGTERM) when dropped.
struct Spawned {
    child: Child,
}

impl Spawned {
    fn start(
        model: &str,
        backend: Option<overlapped::Backend>,
    ) -> anyhow::Result<(Self, SocketAddr)> {
        let exe = std::env::current_exe().context("cannot find the ovl executable")?;
        let mut cmd = Command::new(exe);
        if let Some(b) = backend {
            cmd.arg("--backend").arg(b.to_string());
        }
        let mut child = cmd
            .args(["serve", "--model", model, "127.0.0.1:0"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .context("cannot start the server")?;
        let out = child.stdout.take().context("server stdout")?;
        let mut out = BufReader::new(out);
        let mut line = String::new();
        out.read_line(&mut line)
            .context("reading the server's first line")?;
        let addr = line
            .strip_prefix("listening on ")
            .and_then(|r| r.split_whitespace().next())
            .and_then(|a| a.parse().ok())
            .with_context(|| format!("unexpected first line from the server: {line:?}"))?;
        // Keep its stdout drained (one line per group thread).
        std::thread::spawn(move || {
            let mut sink = Vec::new();
            let _ = out.read_to_end(&mut sink);
        });
        outln!("started: {} (pid {})", line.trim_end(), child.id());
        Ok((Self { child }, addr))
    }

    /// SIGTERM, then the exit status (killed after 10 s).
    fn stop(mut self) -> anyhow::Result<()> {
        let pid = libc::pid_t::try_from(self.child.id()).context("pid")?;
        // SAFETY: sending a signal to our own child process has no memory effects.
        unsafe { libc::kill(pid, libc::SIGTERM) };
        let end = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(st) = self.child.try_wait()? {
                if !st.success() {
                    bail!("the server exited with {st}");
                }
                return Ok(());
            }
            if Instant::now() > end {
                let _ = self.child.kill();
                bail!("the server did not stop within 10 s of SIGTERM");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Spawned {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// A nonblocking TCP connect in progress.
fn start_connect(addr: SocketAddr) -> std::io::Result<TcpStream> {
    let family = match addr {
        SocketAddr::V4(_) => libc::AF_INET,
        SocketAddr::V6(_) => libc::AF_INET6,
    };
    // SAFETY: plain socket(2) call; the result is checked before use.
    let fd = unsafe {
        libc::socket(
            family,
            libc::SOCK_STREAM | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC,
            0,
        )
    };
    if fd < 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: `fd` is a descriptor we just created and own.
    let owned = unsafe { OwnedFd::from_raw_fd(fd) };
    let (storage, len) = sockaddr(addr);
    // SAFETY: `storage` holds a valid socket address of `len` bytes.
    let rc = unsafe { libc::connect(fd, (&raw const storage).cast(), len) };
    if rc != 0 {
        let e = std::io::Error::last_os_error();
        if e.raw_os_error() != Some(libc::EINPROGRESS) {
            return Err(e);
        }
    }
    let stream = TcpStream::from(owned);
    stream.set_nodelay(true)?;
    Ok(stream)
}

/// `addr` as a C socket address.
fn sockaddr(addr: SocketAddr) -> (libc::sockaddr_storage, libc::socklen_t) {
    // SAFETY: all-zero bytes are a valid sockaddr_storage.
    let mut storage: libc::sockaddr_storage = unsafe { std::mem::zeroed() };
    let len = match addr {
        SocketAddr::V4(a) => {
            let sin = libc::sockaddr_in {
                sin_family: libc::sa_family_t::try_from(libc::AF_INET).unwrap_or(2),
                sin_port: a.port().to_be(),
                sin_addr: libc::in_addr {
                    s_addr: u32::from_ne_bytes(a.ip().octets()),
                },
                sin_zero: [0; 8],
            };
            // SAFETY: sockaddr_storage is larger than sockaddr_in and suitably aligned.
            unsafe { std::ptr::write((&raw mut storage).cast(), sin) };
            std::mem::size_of::<libc::sockaddr_in>()
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
            // SAFETY: sockaddr_storage is larger than sockaddr_in6 and suitably aligned.
            unsafe { std::ptr::write((&raw mut storage).cast(), sin6) };
            std::mem::size_of::<libc::sockaddr_in6>()
        }
    };
    (storage, libc::socklen_t::try_from(len).unwrap_or(28))
}

/// An epoll instance.
struct Epoll(OwnedFd);

impl Epoll {
    fn new() -> std::io::Result<Self> {
        // SAFETY: plain epoll_create1 call; the result is checked.
        let fd = unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) };
        if fd < 0 {
            return Err(std::io::Error::last_os_error());
        }
        // SAFETY: a descriptor we just created and own.
        Ok(Self(unsafe { OwnedFd::from_raw_fd(fd) }))
    }

    fn add(&self, fd: i32, token: u64) -> std::io::Result<()> {
        let mut ev = libc::epoll_event {
            // The flags as the kernel's u32 bit set (EPOLLET is bit 31, negative as i32).
            #[allow(clippy::cast_sign_loss)]
            events: (libc::EPOLLIN | libc::EPOLLOUT | libc::EPOLLRDHUP | libc::EPOLLET) as u32,
            u64: token,
        };
        // SAFETY: `ev` is valid for the call; `fd` is an open socket.
        let rc = unsafe { libc::epoll_ctl(self.0.as_raw_fd(), libc::EPOLL_CTL_ADD, fd, &mut ev) };
        if rc != 0 {
            return Err(std::io::Error::last_os_error());
        }
        Ok(())
    }

    fn wait(&self, events: &mut [libc::epoll_event], timeout: Duration) -> usize {
        let ms = i32::try_from(timeout.as_millis().min(1000)).unwrap_or(1000);
        let max = i32::try_from(events.len()).unwrap_or(i32::MAX);
        // SAFETY: `events` is valid for `max` entries.
        let n = unsafe { libc::epoll_wait(self.0.as_raw_fd(), events.as_mut_ptr(), max, ms) };
        usize::try_from(n).unwrap_or(0)
    }
}

/// Runs `ovl soak`.
///
/// # Errors
/// When it cannot connect at all or cannot set up; a failed check is an error too (the
/// summary names it).
pub(crate) fn run(a: &SoakArgs, backend: Option<overlapped::Backend>) -> anyhow::Result<()> {
    let limit = crate::serve::raise_nofile();
    let need = u64::try_from(a.connections).unwrap_or(u64::MAX) + 64;
    if limit < need {
        bail!(
            "{} connections need {need} descriptors; this process may open {limit} \
             (raise the hard RLIMIT_NOFILE, or use fewer connections)",
            a.connections
        );
    }
    let (spawned, addr, pid) = match (&a.spawn, a.addr) {
        (Some(model), _) => {
            let (s, addr) = Spawned::start(model, backend)?;
            let pid = s.child.id();
            (Some(s), addr, Some(pid))
        }
        (None, Some(addr)) => (None, addr, a.server_pid),
        (None, None) => bail!("no server"),
    };
    // The server's starting figures, once they settle (it prints its address before it
    // has created its first accepting socket).
    let mut baseline = pid.and_then(sample);
    for _ in 0..10 {
        std::thread::sleep(Duration::from_millis(100));
        let again = pid.and_then(sample);
        let settled = again.map(|s| s.fds) == baseline.map(|s| s.fds);
        baseline = again;
        if settled {
            break;
        }
    }
    outln!(
        "soak {addr}: {} connections, {} msg/s each, {} B messages, {:.0} s; at start: {}",
        a.connections,
        a.rate,
        a.size,
        a.duration.as_secs_f64(),
        fmt_sample(baseline)
    );

    let totals = drive(a, addr, pid)?;
    // Every client has closed: the server's descriptors must come back.
    let mut after = pid.and_then(sample);
    if let (Some(base), Some(p)) = (baseline, pid) {
        let end = Instant::now() + Duration::from_secs(10);
        while after.is_some_and(|s| s.fds > base.fds) && Instant::now() < end {
            std::thread::sleep(Duration::from_millis(100));
            after = sample(p);
        }
    }
    outln!("after every client closed: {}", fmt_sample(after));
    let fds_back = match (baseline, after) {
        (Some(b), Some(s)) => s.fds <= b.fds,
        _ => true,
    };
    outln!(
        "summary: {} messages, {} bytes checked; corrupt bytes {}, missing bytes {}; \
         failed connections {}, closed by the server {}; server descriptors {}",
        totals.msgs,
        totals.bytes,
        totals.corrupt,
        totals.missing,
        totals.failed,
        totals.closed_by_server,
        match (baseline, after) {
            (Some(b), Some(s)) => format!("{} at start, {} after close", b.fds, s.fds),
            _ => "not sampled".to_owned(),
        }
    );
    if let Some(s) = spawned {
        s.stop()?;
    }
    if totals.corrupt > 0
        || totals.missing > 0
        || totals.failed > 0
        || totals.closed_by_server > 0
        || !fds_back
    {
        bail!("soak failed (see the summary)");
    }
    Ok(())
}

/// Connects, sends and checks until the duration is over, then waits for the last
/// echoes and closes everything.
fn drive(a: &SoakArgs, addr: SocketAddr, pid: Option<u32>) -> anyhow::Result<Totals> {
    let ep = Epoll::new().context("epoll_create1")?;
    let interval = Duration::from_secs_f64(1.0 / a.rate);
    let mut conns: Vec<Conn> = Vec::with_capacity(a.connections);
    let mut totals = Totals::default();
    let mut events = vec![libc::epoll_event { events: 0, u64: 0 }; 1024];

    // Connect with at most 256 connects in flight (the listen backlog is finite).
    let started = Instant::now();
    let mut connecting = 0usize;
    let mut settled = 0usize;
    while settled < a.connections {
        while conns.len() < a.connections && connecting < 256 {
            let stream = start_connect(addr).with_context(|| format!("connect to {addr}"))?;
            let token = u64::try_from(conns.len()).unwrap_or(u64::MAX);
            ep.add(stream.as_raw_fd(), token).context("epoll_ctl")?;
            conns.push(Conn {
                stream,
                connecting: true,
                dead: false,
                msg: vec![0; a.size],
                written: 0,
                echoed: 0,
                echo: vec![0; a.size],
                outstanding: false,
                seq: 0,
                due: started,
            });
            connecting += 1;
        }
        let n = ep.wait(&mut events, Duration::from_millis(100));
        for ev in &events[..n] {
            let Ok(i) = usize::try_from(ev.u64) else {
                continue;
            };
            let c = &mut conns[i];
            if !c.connecting {
                continue;
            }
            c.connecting = false;
            connecting -= 1;
            settled += 1;
            let err = ev.events & u32::try_from(libc::EPOLLERR | libc::EPOLLHUP).unwrap_or(0);
            if err != 0 || c.stream.take_error().ok().flatten().is_some() {
                c.dead = true;
                totals.failed += 1;
            }
        }
        if started.elapsed() > Duration::from_secs(120) {
            bail!(
                "could not connect {} connections within 120 s",
                a.connections
            );
        }
    }
    outln!(
        "connected {} in {:.1} s ({} failed)",
        a.connections - usize::try_from(totals.failed).unwrap_or(0),
        started.elapsed().as_secs_f64(),
        totals.failed
    );

    // Stagger the first messages over one interval.
    let start = Instant::now();
    let mut heap: BinaryHeap<Reverse<(Instant, usize)>> = BinaryHeap::new();
    let count = u32::try_from(conns.len()).unwrap_or(u32::MAX).max(1);
    for (i, c) in conns.iter_mut().enumerate() {
        if c.dead {
            continue;
        }
        c.due =
            start + interval.mul_f64(f64::from(u32::try_from(i).unwrap_or(0)) / f64::from(count));
        heap.push(Reverse((c.due, i)));
    }
    let end = start + a.duration;
    let mut next_report = start + Duration::from_secs(1);
    let mut draining_until: Option<Instant> = None;
    loop {
        let now = Instant::now();
        if draining_until.is_none() && now >= end {
            draining_until = Some(now + Duration::from_secs(5));
        }
        if let Some(d) = draining_until
            && (now >= d || conns.iter().all(|c| c.dead || !c.outstanding))
        {
            break;
        }
        // Send what is due.
        while let Some(&Reverse((due, i))) = heap.peek() {
            if due > now || draining_until.is_some() {
                break;
            }
            heap.pop();
            let c = &mut conns[i];
            if c.dead {
                continue;
            }
            if c.outstanding {
                // Late echo: the next message goes when it arrives.
                continue;
            }
            let id = u32::try_from(i).unwrap_or(u32::MAX);
            fill_message(&mut c.msg, id, c.seq);
            c.seq += 1;
            c.written = 0;
            c.echoed = 0;
            c.outstanding = true;
            pump_write(c, &mut totals);
        }
        let timeout = heap
            .peek()
            .map_or(Duration::from_millis(100), |Reverse((d, _))| {
                d.saturating_duration_since(Instant::now())
            })
            .min(Duration::from_millis(100));
        let n = ep.wait(&mut events, timeout);
        for ev in &events[..n] {
            let Ok(i) = usize::try_from(ev.u64) else {
                continue;
            };
            let c = &mut conns[i];
            if c.dead {
                continue;
            }
            if c.outstanding && c.written < c.msg.len() {
                pump_write(c, &mut totals);
            }
            if pump_read(c, &mut totals) {
                // A whole echo checked: schedule the next message.
                c.due += interval;
                let now = Instant::now();
                if c.due < now {
                    c.due = now;
                }
                if draining_until.is_none() {
                    heap.push(Reverse((c.due, i)));
                }
            }
        }
        if Instant::now() >= next_report {
            next_report += Duration::from_secs(1);
            let open = conns.iter().filter(|c| !c.dead).count();
            outln!(
                "t={:>4.0}s open {open}, {} msgs, {} bytes checked, corrupt {}, failed {}, {}",
                start.elapsed().as_secs_f64(),
                totals.msgs,
                totals.bytes,
                totals.corrupt,
                totals.failed + totals.closed_by_server,
                fmt_sample(pid.and_then(sample))
            );
        }
    }
    let missing: u64 = conns
        .iter()
        .filter(|c| !c.dead && c.outstanding)
        .map(|c| u64::try_from(c.msg.len() - c.echoed).unwrap_or(0))
        .sum();
    totals.missing = missing;
    outln!("closing {} connections", conns.len());
    drop(conns);
    Ok(totals)
}

/// Writes what is left of the message in flight.
fn pump_write(c: &mut Conn, totals: &mut Totals) {
    while c.written < c.msg.len() {
        match c.stream.write(&c.msg[c.written..]) {
            Ok(0) => break,
            Ok(n) => c.written += n,
            Err(e) if e.kind() == ErrorKind::WouldBlock => break,
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(_) => {
                c.dead = true;
                totals.failed += 1;
                break;
            }
        }
    }
}

/// Reads echo bytes; true when a whole message was read and checked.
fn pump_read(c: &mut Conn, totals: &mut Totals) -> bool {
    let mut done = false;
    loop {
        let want = if c.outstanding {
            c.echo.len() - c.echoed
        } else {
            0
        };
        if want == 0 {
            // Nothing expected: anything that arrives is corrupt.
            let mut junk = [0u8; 4096];
            match c.stream.read(&mut junk) {
                Ok(0) => {
                    c.dead = true;
                    totals.closed_by_server += 1;
                }
                Ok(n) => {
                    totals.corrupt += u64::try_from(n).unwrap_or(0);
                    continue;
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) if e.kind() == ErrorKind::WouldBlock => {}
                Err(_) => {
                    c.dead = true;
                    totals.failed += 1;
                }
            }
            return done;
        }
        let at = c.echoed;
        match c.stream.read(&mut c.echo[at..]) {
            Ok(0) => {
                c.dead = true;
                totals.closed_by_server += 1;
                return done;
            }
            Ok(n) => {
                c.echoed += n;
                if c.echoed == c.echo.len() {
                    let bad = c.echo.iter().zip(&c.msg).filter(|(a, b)| a != b).count();
                    totals.corrupt += u64::try_from(bad).unwrap_or(0);
                    let n = c.echo.len();
                    if bad == 0 {
                        debug_assert_eq!(fnv1a(&c.echo[..n - 4]).to_le_bytes(), c.echo[n - 4..]);
                    }
                    totals.msgs += 1;
                    totals.bytes += u64::try_from(n).unwrap_or(0);
                    c.outstanding = false;
                    done = true;
                }
            }
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) if e.kind() == ErrorKind::WouldBlock => return done,
            Err(_) => {
                c.dead = true;
                totals.failed += 1;
                return done;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_carry_their_identity_and_checksum() {
        let mut a = vec![0u8; 64];
        let mut b = vec![0u8; 64];
        fill_message(&mut a, 3, 7);
        fill_message(&mut b, 3, 8);
        assert_ne!(a, b);
        assert_eq!(&a[..4], b"OVLS");
        assert_eq!(u32::from_le_bytes(a[4..8].try_into().unwrap()), 3);
        assert_eq!(u64::from_le_bytes(a[8..16].try_into().unwrap()), 7);
        assert_eq!(fnv1a(&a[..60]).to_le_bytes(), a[60..]);
        let mut c = vec![0u8; 64];
        fill_message(&mut c, 3, 7);
        assert_eq!(a, c, "deterministic");
    }

    #[test]
    fn parse_checks_its_arguments() {
        let os = |v: &[&str]| v.iter().map(OsString::from).collect::<Vec<_>>();
        let a = parse(&os(&["-c", "5", "-d", "2", "--spawn", "event"]))
            .unwrap()
            .unwrap();
        assert_eq!(a.connections, 5);
        assert_eq!(a.duration, Duration::from_secs(2));
        assert_eq!(a.spawn.as_deref(), Some("event"));
        assert!(parse(&os(&["-c", "0", "127.0.0.1:1"])).is_err());
        assert!(parse(&os(&["--size", "8", "127.0.0.1:1"])).is_err());
        for model in ["routine", "port", "async", "tokio-async"] {
            let a = parse(&os(&["--spawn", model])).unwrap().unwrap();
            assert_eq!(a.spawn.as_deref(), Some(model));
        }
        assert!(parse(&os(&["--spawn", "fibers"])).is_err());
        assert!(parse(&os(&[])).is_err());
        assert!(parse(&os(&["127.0.0.1:1", "--spawn", "event"])).is_err());
        assert_eq!(parse(&os(&["--help"])).unwrap(), None);
    }
}
