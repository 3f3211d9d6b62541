//! The comparison servers of `ovl bench --compare`: echo servers written the ordinary way
//! on other I/O stacks, so that the benchmark can put ours beside them.
//!
//! Each runs in a process of its own (`ovl bench-server KIND ADDR` calls [`serve`]), so the
//! benchmark can read its CPU time from `/proc/PID/stat`. They are baselines, not strawmen:
//! each is what a competent engineer would write on that stack, with `TCP_NODELAY` on every
//! connection, a listen backlog of [`BACKLOG`], `SO_REUSEADDR`, and no busy-polling.
//!
//! | kind | file | what it is |
//! |---|---|---|
//! | `tokio-ct` | `tokio.rs` | tokio, current-thread runtime, a task per connection |
//! | `tokio-mt` | `tokio.rs` | tokio, multi-thread runtime (a worker per core), a task per connection |
//! | `epoll` | `epoll.rs` | one thread, level-triggered epoll, nonblocking sockets |
//! | `uring-floor` | `uring.rs` | one thread, io_uring: multishot accept and receive, a provided-buffer ring |
//!
//! Stopping: [`serve`] installs a SIGINT/SIGTERM handler that triggers a [`Stop`], an eventfd
//! each server watches with its own readiness mechanism (tokio's `AsyncFd`, the epoll set, an
//! io_uring poll), so stopping costs nothing while the server runs and needs no timeout.
//! [`serve_with_stop`] is the same server with the stop in the caller's hands (the tests).

mod epoll;
mod tokio;
mod uring;

use std::fmt;
use std::io::{self, Write as _};
use std::mem;
use std::net::{SocketAddr, TcpListener};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;

/// The listen backlog of every comparison server (the kernel caps it at `net.core.somaxconn`).
pub(crate) const BACKLOG: libc::c_int = 1024;

// AF_INET (2) and AF_INET6 (10) fit in sa_family_t (u16).
#[allow(clippy::cast_possible_truncation)]
const AF_INET: libc::sa_family_t = libc::AF_INET as libc::sa_family_t;
#[allow(clippy::cast_possible_truncation)]
const AF_INET6: libc::sa_family_t = libc::AF_INET6 as libc::sa_family_t;

/// A comparison server, written here to be compared with ours.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Foreign {
    /// tokio's current-thread runtime.
    TokioCurrent,
    /// tokio's multi-thread runtime, default worker count.
    TokioMulti,
    /// A single-threaded epoll readiness loop on raw libc.
    Epoll,
    /// A minimal single-threaded io_uring loop: the floor of what io_uring costs.
    UringFloor,
}

impl Foreign {
    /// Every comparison server, in the order the benchmark reports them.
    pub(crate) const ALL: [Foreign; 4] = [
        Foreign::TokioCurrent,
        Foreign::TokioMulti,
        Foreign::Epoll,
        Foreign::UringFloor,
    ];

    /// The name on the command line and in the report: "tokio-ct", "tokio-mt", "epoll",
    /// "uring-floor".
    pub(crate) fn name(self) -> &'static str {
        match self {
            Foreign::TokioCurrent => "tokio-ct",
            Foreign::TokioMulti => "tokio-mt",
            Foreign::Epoll => "epoll",
            Foreign::UringFloor => "uring-floor",
        }
    }

    /// One line describing it, for the benchmark's report.
    pub(crate) fn describe(self) -> &'static str {
        match self {
            Foreign::TokioCurrent => {
                "tokio current-thread runtime; a task per connection: read up to 16 KiB, write_all"
            }
            Foreign::TokioMulti => {
                "tokio multi-thread runtime (a worker per core); a task per connection: read up to 16 KiB, write_all"
            }
            Foreign::Epoll => {
                "one thread, level-triggered epoll, nonblocking sockets: read up to 16 KiB, send back, EPOLLOUT on a short send"
            }
            Foreign::UringFloor => {
                "one thread, io_uring: multishot accept, multishot recv into a ring of 16 KiB provided buffers, send, submit_and_wait(1)"
            }
        }
    }
}

impl fmt::Display for Foreign {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Foreign {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Foreign::ALL
            .into_iter()
            .find(|kind| kind.name() == s)
            .ok_or_else(|| {
                format!("unknown comparison server {s:?}: expected tokio-ct, tokio-mt, epoll or uring-floor")
            })
    }
}

/// Binds `addr` (port 0 allowed), prints exactly one line `listening on <bound addr>` to
/// stdout (flushed), then echoes every connection until SIGINT/SIGTERM, then returns `Ok(())`.
///
/// Installs the process's `ctrlc` handler, so call it once per process. Raises the soft limit
/// on open files to the hard limit, so that a thousand connections fit.
///
/// # Errors
///
/// When the address cannot be bound, the handler cannot be installed, or the server's I/O
/// stack cannot be set up (an io_uring refused by the kernel, for instance). Errors of single
/// connections only close those connections.
pub(crate) fn serve(kind: Foreign, addr: SocketAddr) -> anyhow::Result<()> {
    raise_open_file_limit();
    let stop = Stop::new().context("creating the stop eventfd")?;
    let on_signal = stop.clone();
    ctrlc::set_handler(move || on_signal.trigger())
        .context("installing the SIGINT/SIGTERM handler")?;
    serve_with_stop(
        kind,
        addr,
        |bound| {
            let mut out = io::stdout().lock();
            let _ = writeln!(out, "listening on {bound}");
            let _ = out.flush();
        },
        &stop,
    )
}

/// [`serve`] without the signal handler: binds `addr`, calls `ready` with the bound address
/// once the server is set up and about to wait for connections, then echoes until `stop` is
/// triggered, closes every connection and returns.
///
/// # Errors
///
/// As [`serve`].
pub(crate) fn serve_with_stop(
    kind: Foreign,
    addr: SocketAddr,
    ready: impl FnOnce(SocketAddr),
    stop: &Stop,
) -> anyhow::Result<()> {
    let listener = listen(addr).with_context(|| format!("listening on {addr}"))?;
    let bound = listener.local_addr()?;
    let ready = move || ready(bound);
    match kind {
        Foreign::TokioCurrent => self::tokio::run(listener, false, stop, ready),
        Foreign::TokioMulti => self::tokio::run(listener, true, stop, ready),
        Foreign::Epoll => epoll::run(listener, stop, ready),
        Foreign::UringFloor => uring::run(listener, stop, ready),
    }
    .with_context(|| format!("the {kind} server"))
}

/// The stop signal every server watches: an eventfd that becomes readable when triggered and
/// stays readable (nobody reads it), so a trigger before the server waits is not lost.
#[derive(Debug, Clone)]
pub(crate) struct Stop {
    /// The eventfd (nonblocking, close-on-exec); shared with the signal handler's thread.
    fd: Arc<OwnedFd>,
}

impl Stop {
    /// A stop not yet triggered.
    ///
    /// # Errors
    ///
    /// When `eventfd(2)` fails (out of descriptors).
    pub(crate) fn new() -> io::Result<Stop> {
        // SAFETY: eventfd takes no pointers.
        let fd = cvt(unsafe { libc::eventfd(0, libc::EFD_CLOEXEC | libc::EFD_NONBLOCK) })?;
        // SAFETY: `fd` was just returned by eventfd, and nothing else owns it.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        Ok(Stop { fd: Arc::new(fd) })
    }

    /// Makes the eventfd readable, for good: the server stops at its next wait.
    pub(crate) fn trigger(&self) {
        let one: u64 = 1;
        // SAFETY: writes 8 bytes from a live u64 to a descriptor this value owns. The only
        // possible failure, EAGAIN when the counter would overflow, leaves it readable.
        unsafe {
            libc::write(
                self.fd.as_raw_fd(),
                (&raw const one).cast(),
                mem::size_of::<u64>(),
            )
        };
    }

    /// The eventfd, to be watched for readability.
    fn fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

/// A listening TCP socket on `addr`: `SO_REUSEADDR`, backlog [`BACKLOG`], blocking,
/// close-on-exec. (std's `TcpListener::bind` picks its own backlog.)
fn listen(addr: SocketAddr) -> io::Result<TcpListener> {
    let domain = match addr {
        SocketAddr::V4(_) => libc::AF_INET,
        SocketAddr::V6(_) => libc::AF_INET6,
    };
    // SAFETY: socket takes no pointers.
    let fd = cvt(unsafe { libc::socket(domain, libc::SOCK_STREAM | libc::SOCK_CLOEXEC, 0) })?;
    // SAFETY: `fd` was just returned by socket, and nothing else owns it.
    let fd = unsafe { OwnedFd::from_raw_fd(fd) };
    set_int_option(fd.as_raw_fd(), libc::SOL_SOCKET, libc::SO_REUSEADDR, 1)?;
    let (storage, len) = sockaddr(addr);
    // SAFETY: `storage` holds a sockaddr of the family and length `len` describes.
    cvt(unsafe { libc::bind(fd.as_raw_fd(), (&raw const storage).cast(), len) })?;
    // SAFETY: listen takes no pointers.
    cvt(unsafe { libc::listen(fd.as_raw_fd(), BACKLOG) })?;
    Ok(TcpListener::from(fd))
}

/// `addr` as the kernel's `sockaddr_in`/`sockaddr_in6`, and its length.
fn sockaddr(addr: SocketAddr) -> (libc::sockaddr_storage, libc::socklen_t) {
    // SAFETY: sockaddr_storage is plain old data; all zeroes is a valid (unspecified) value.
    let mut storage: libc::sockaddr_storage = unsafe { mem::zeroed() };
    let len = match addr {
        SocketAddr::V4(a) => {
            let sin = libc::sockaddr_in {
                sin_family: AF_INET,
                sin_port: a.port().to_be(),
                sin_addr: libc::in_addr {
                    s_addr: u32::from_ne_bytes(a.ip().octets()),
                },
                sin_zero: [0; 8],
            };
            // SAFETY: sockaddr_storage is larger than and aligned for every sockaddr type.
            unsafe { (&raw mut storage).cast::<libc::sockaddr_in>().write(sin) };
            mem::size_of::<libc::sockaddr_in>()
        }
        SocketAddr::V6(a) => {
            let sin6 = libc::sockaddr_in6 {
                sin6_family: AF_INET6,
                sin6_port: a.port().to_be(),
                sin6_flowinfo: a.flowinfo(),
                sin6_addr: libc::in6_addr {
                    s6_addr: a.ip().octets(),
                },
                sin6_scope_id: a.scope_id(),
            };
            // SAFETY: as above.
            unsafe { (&raw mut storage).cast::<libc::sockaddr_in6>().write(sin6) };
            mem::size_of::<libc::sockaddr_in6>()
        }
    };
    (storage, socklen(len))
}

/// `setsockopt(fd, level, name, &value)` for an `int` option.
fn set_int_option(
    fd: RawFd,
    level: libc::c_int,
    name: libc::c_int,
    value: libc::c_int,
) -> io::Result<()> {
    // SAFETY: passes a pointer to a live c_int and its exact size.
    cvt(unsafe {
        libc::setsockopt(
            fd,
            level,
            name,
            (&raw const value).cast(),
            socklen(mem::size_of::<libc::c_int>()),
        )
    })
    .map(drop)
}

/// A structure size as a `socklen_t` (all the sizes here are a few bytes).
fn socklen(size: usize) -> libc::socklen_t {
    libc::socklen_t::try_from(size).unwrap_or(libc::socklen_t::MAX)
}

/// Turns Nagle's algorithm off on an accepted connection. A failure (the peer already gone)
/// is left for the connection's next read or write to report.
fn set_nodelay(fd: RawFd) {
    let _ = set_int_option(fd, libc::IPPROTO_TCP, libc::TCP_NODELAY, 1);
}

/// What every server does when accepting fails: a connection that died in the backlog or an
/// interrupted call is nothing; running out of descriptors or memory is reported on stderr,
/// and the server backs off 10 ms instead of spinning on a listener that stays readable.
fn accept_failed(e: &io::Error) {
    match e.kind() {
        io::ErrorKind::ConnectionAborted
        | io::ErrorKind::ConnectionReset
        | io::ErrorKind::Interrupted
        | io::ErrorKind::WouldBlock => {}
        _ => {
            eprintln!("ovl bench-server: accept: {e}; retrying in 10 ms");
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

/// Raises the soft limit on open files to the hard limit (a thousand connections need more
/// than the usual 1024). Best effort: on failure the limit stays as it was.
fn raise_open_file_limit() {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: passes a pointer to a live rlimit.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &raw mut limit) } == 0
        && limit.rlim_cur < limit.rlim_max
    {
        limit.rlim_cur = limit.rlim_max;
        // SAFETY: passes a pointer to a live rlimit.
        unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raw const limit) };
    }
}

/// A libc return value: `-1` becomes the thread's `errno`.
fn cvt<T: Copy + PartialEq + From<i8>>(ret: T) -> io::Result<T> {
    if ret == T::from(-1) {
        Err(io::Error::last_os_error())
    } else {
        Ok(ret)
    }
}

#[cfg(test)]
mod tests {
    use std::io::{Read as _, Write as _};
    use std::net::TcpStream;
    use std::sync::mpsc;
    use std::thread;
    use std::time::{Duration, Instant};

    use super::*;

    /// How long any one step may take before the test fails instead of hanging.
    const PATIENCE: Duration = Duration::from_secs(10);

    /// A server of `kind` on 127.0.0.1:0, on a thread of its own.
    struct Running {
        addr: SocketAddr,
        stop: Stop,
        done: mpsc::Receiver<anyhow::Result<()>>,
    }

    impl Running {
        fn start(kind: Foreign) -> Running {
            let stop = Stop::new().unwrap();
            let (ready_tx, ready_rx) = mpsc::channel();
            let (done_tx, done) = mpsc::channel();
            let server_stop = stop.clone();
            thread::spawn(move || {
                let result = serve_with_stop(
                    kind,
                    "127.0.0.1:0".parse().unwrap(),
                    move |addr| ready_tx.send(addr).unwrap(),
                    &server_stop,
                );
                let _ = done_tx.send(result);
            });
            let addr = match ready_rx.recv_timeout(PATIENCE) {
                Ok(addr) => addr,
                Err(_) => panic!("{kind} never got ready: {:?}", done.try_recv()),
            };
            Running { addr, stop, done }
        }

        fn connect(&self) -> TcpStream {
            let stream = TcpStream::connect(self.addr).unwrap();
            stream.set_nodelay(true).unwrap();
            stream.set_read_timeout(Some(PATIENCE)).unwrap();
            stream.set_write_timeout(Some(PATIENCE)).unwrap();
            stream
        }

        /// Triggers the stop and checks the server returns `Ok` in time.
        fn stop(self, kind: Foreign) {
            self.stop.trigger();
            match self.done.recv_timeout(PATIENCE) {
                Ok(result) => result.unwrap(),
                Err(_) => panic!("{kind} did not stop"),
            }
        }
    }

    /// xorshift64: sizes and payloads that differ per client and per message.
    fn next(state: &mut u64) -> u64 {
        *state ^= *state << 13;
        *state ^= *state >> 7;
        *state ^= *state << 17;
        *state
    }

    /// 50 closed-loop clients, each exchanging 200 messages of 1 to 16384 bytes, checked byte
    /// for byte; an idle connection stays open across the stop.
    fn echoes_many_clients(kind: Foreign) {
        let started = Instant::now();
        let server = Running::start(kind);
        let idle = server.connect();
        let clients: Vec<_> = (0..50u64)
            .map(|client| {
                let mut stream = server.connect();
                thread::spawn(move || {
                    let mut rng = 0x9E37_79B9_7F4A_7C15 ^ (client + 1);
                    let mut back = vec![0u8; 16384];
                    for _ in 0..200 {
                        let len = usize::try_from(next(&mut rng) % 16384 + 1).unwrap();
                        let seed = next(&mut rng);
                        let msg: Vec<u8> = (0..len)
                            .map(|i| seed.to_le_bytes()[i % 8] ^ i.to_le_bytes()[0])
                            .collect();
                        stream.write_all(&msg).unwrap();
                        stream.read_exact(&mut back[..len]).unwrap();
                        assert!(
                            back[..len] == msg[..],
                            "{kind}: client {client} got a different echo"
                        );
                    }
                })
            })
            .collect();
        for client in clients {
            client.join().unwrap();
        }
        server.stop(kind);
        drop(idle);
        assert!(
            started.elapsed() < PATIENCE,
            "{kind} took {:?}",
            started.elapsed()
        );
    }

    /// Two clients each stream 24 MiB and start reading their echo only 300 ms later, so the
    /// server meets full send buffers (epoll's EPOLLOUT path, short sends) and, for
    /// uring-floor, runs out of provided buffers (ENOBUFS, re-arm after buffers return).
    fn echoes_bulk_with_backpressure(kind: Foreign) {
        const TOTAL: usize = 24 << 20;
        let server = Running::start(kind);
        let clients: Vec<_> = (0..2u8)
            .map(|client| {
                let stream = server.connect();
                let mut reader = stream.try_clone().unwrap();
                let mut writer = stream;
                let pattern = move |i: usize| u8::try_from(i % 251).unwrap() ^ client;
                let write = thread::spawn(move || {
                    let chunk: Vec<u8> = (0..1 << 20).map(pattern).collect();
                    for _ in 0..TOTAL / chunk.len() {
                        writer.write_all(&chunk).unwrap();
                    }
                    writer
                });
                thread::spawn(move || {
                    thread::sleep(Duration::from_millis(300));
                    let mut buf = vec![0u8; 1 << 16];
                    let mut at = 0;
                    while at < TOTAL {
                        let n = reader.read(&mut buf).unwrap();
                        assert!(n > 0, "{kind}: echo ended at {at} of {TOTAL}");
                        for (k, &b) in buf[..n].iter().enumerate() {
                            assert_eq!(b, pattern((at + k) % (1 << 20)), "{kind}: byte {}", at + k);
                        }
                        at += n;
                    }
                    write.join().unwrap();
                })
            })
            .collect();
        for client in clients {
            client.join().unwrap();
        }
        server.stop(kind);
    }

    /// A stop triggered before the server waits is not lost, and a client that closes its
    /// write side still gets its echo.
    fn half_close_and_early_stop(kind: Foreign) {
        let server = Running::start(kind);
        let mut stream = server.connect();
        stream.write_all(b"hello").unwrap();
        stream.shutdown(std::net::Shutdown::Write).unwrap();
        let mut back = Vec::new();
        stream.read_to_end(&mut back).unwrap();
        assert_eq!(back, b"hello");
        server.stop(kind);

        let stop = Stop::new().unwrap();
        stop.trigger();
        serve_with_stop(kind, "127.0.0.1:0".parse().unwrap(), |_| {}, &stop).unwrap();
    }

    #[test]
    fn names_round_trip() {
        for kind in Foreign::ALL {
            assert_eq!(kind.name().parse::<Foreign>(), Ok(kind));
            assert!(!kind.describe().is_empty());
        }
        assert!("tokio".parse::<Foreign>().is_err());
    }

    #[test]
    fn listener_takes_reuseaddr_and_ipv6() {
        let listener = listen("127.0.0.1:0".parse().unwrap()).unwrap();
        let addr = listener.local_addr().unwrap();
        drop(listener);
        // SO_REUSEADDR: the port can be bound again at once.
        listen(addr).unwrap();
        if let Ok(v6) = listen("[::1]:0".parse().unwrap()) {
            assert!(v6.local_addr().unwrap().is_ipv6());
        }
    }

    macro_rules! server_tests {
        ($($module:ident => $kind:expr),* $(,)?) => {$(
            mod $module {
                use super::*;

                #[test]
                fn echoes_many_clients() {
                    super::echoes_many_clients($kind);
                }

                #[test]
                fn echoes_bulk_with_backpressure() {
                    super::echoes_bulk_with_backpressure($kind);
                }

                #[test]
                fn half_close_and_early_stop() {
                    super::half_close_and_early_stop($kind);
                }
            }
        )*};
    }

    server_tests! {
        tokio_ct => Foreign::TokioCurrent,
        tokio_mt => Foreign::TokioMulti,
        epoll => Foreign::Epoll,
        uring_floor => Foreign::UringFloor,
    }
}
