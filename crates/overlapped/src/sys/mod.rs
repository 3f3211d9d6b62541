//! Backends: the only code that knows io_uring or epoll exists.
//!
//! # The contract every backend provides
//! A backend is a completion source. It is handed kernel operations described neutrally
//! by [`SysOp`], each tagged with a 64-bit `user_data`, and it reports each one's result
//! exactly once, as the `res` a synchronous syscall would have returned (`>= 0`, or
//! `-errno`). Required items:
//! - `Ring::push(op, user_data)`: start the operation; the pointers inside `op` stay valid
//!   until its result is reaped (the engine keeps the owning record in its in-flight
//!   table until then). The engine has just tried the syscall and seen `EAGAIN`.
//! - `Ring::cancel(user_data)`: ask for an early `-ECANCELED` result; the operation's
//!   own result still arrives exactly once (it may be a success that raced the cancel).
//!   The engine cancels every armed operation of a socket *before* it closes the
//!   descriptor, and arms nothing on it afterwards; the readiness backend relies on that
//!   order so that a reused descriptor number never meets a stale operation.
//! - `Ring::wake()`: make a thread blocked in `Driver::wait` return soon.
//! - `Ring::try_drive` / `Ring::drive`: take the **driver token**, the exclusive right to
//!   reap results. Only its holder may call `Driver::wait` and `Driver::reap`.
//! - `Driver::set_reaper_notify(on)`: while off, results do not wake the background
//!   reaper ([`Ring::wait_for_reaper_work`]), because an application thread is driving;
//!   turning it on again must wake the reaper if results are already waiting.
//!
//! # The backends
//! - [`uring`]: io_uring; the kernel performs the operations.
//! - [`poll`]: epoll readiness; the driver performs each operation when its descriptor
//!   is ready (a fallback where io_uring is missing or refused).
//!
//! [`Ring`] and [`Driver`] are enums over the two, chosen once per process
//! ([`Backend`]: `OVL_BACKEND=auto|uring|poll` or [`set_backend`]); each call costs one
//! predictable branch.
//!
//! The engine (`crate::engine`) is the only user of this module's backends; it never
//! calls back up into the public API. [`net`] holds the plain, backend-independent
//! socket syscalls that sockets and operations use for their synchronous paths.

pub(crate) mod net;
pub(crate) mod poll;
pub(crate) mod uring;

use std::fmt;
use std::io;
use std::os::fd::RawFd;
use std::str::FromStr;
use std::time::Instant;

use crate::error::WsaError;

/// A kernel operation, described without reference to any backend.
///
/// Every pointer points into an operation record that the engine keeps alive (and does
/// not move) until the operation's result has been reaped.
#[derive(Debug, Clone, Copy)]
pub(crate) enum SysOp {
    /// `recvmsg(fd, msg, flags)`; `poll_first`: the caller just saw `EAGAIN`.
    RecvMsg {
        fd: RawFd,
        msg: *mut libc::msghdr,
        flags: i32,
        poll_first: bool,
    },
    /// `sendmsg(fd, msg, flags)`.
    SendMsg {
        fd: RawFd,
        msg: *const libc::msghdr,
        flags: i32,
        poll_first: bool,
    },
    /// `accept4(fd, addr, len, flags)`.
    Accept {
        fd: RawFd,
        addr: *mut libc::sockaddr,
        len: *mut libc::socklen_t,
        flags: i32,
    },
    /// One-shot readiness: the result is the `revents` mask.
    Poll { fd: RawFd, events: u32 },
}

/// Reserved `user_data` values that never name an operation record.
pub(crate) mod tag {
    /// A no-op submitted to wake the driving thread.
    pub(crate) const WAKE: u64 = u64::MAX;
    /// The result of a cancel request (the cancelled operation reports separately).
    pub(crate) const CANCEL: u64 = u64::MAX - 1;
}

/// Which backend the library runs on.
///
/// Chosen once per process, when the first socket is created: by [`set_backend`] if it
/// was called, else by the `OVL_BACKEND` environment variable (`auto`, `uring` or
/// `poll`; unset means `auto`). `auto` uses io_uring when it can be set up and works,
/// and otherwise falls back to `poll`, printing the cause once to stderr.
/// [`probe`](crate::probe) reports the choice and why.
///
/// # Compatibility
/// Both backends give the same semantics (the test suite runs on each); `poll` costs a
/// few more syscalls per operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub enum Backend {
    /// io_uring if it works here, else `Poll`.
    #[default]
    Auto,
    /// io_uring only: the library fails (`WSASYSNOTREADY`) where it is unavailable.
    Uring,
    /// epoll readiness, with completions emulated in user space.
    Poll,
}

impl Backend {
    /// The name used by `OVL_BACKEND`: `"auto"`, `"uring"` or `"poll"`.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Auto => "auto",
            Self::Uring => "uring",
            Self::Poll => "poll",
        }
    }
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A backend name that is not `auto`, `uring` or `poll`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidBackend(pub String);

impl fmt::Display for InvalidBackend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invalid backend {:?}: expected one of auto, uring, poll",
            self.0
        )
    }
}

impl std::error::Error for InvalidBackend {}

impl FromStr for Backend {
    type Err = InvalidBackend;

    /// Parses `auto`, `uring` or `poll` (ASCII case ignored, surrounding blanks
    /// trimmed; `io_uring` and `epoll` are accepted as synonyms).
    fn from_str(s: &str) -> Result<Self, InvalidBackend> {
        match s.trim().to_ascii_lowercase().as_str() {
            "auto" | "" => Ok(Self::Auto),
            "uring" | "io_uring" | "iouring" => Ok(Self::Uring),
            "poll" | "epoll" => Ok(Self::Poll),
            _ => Err(InvalidBackend(s.to_owned())),
        }
    }
}

/// The environment variable that chooses the backend.
pub const BACKEND_ENV: &str = "OVL_BACKEND";

/// What was asked for and what was chosen: set once, when the backend is created.
#[derive(Debug, Default)]
struct Choice {
    /// [`set_backend`]'s request, if any.
    requested: Option<Backend>,
    /// The backend created (`Uring` or `Poll`), once it is.
    chosen: Option<Backend>,
}

// Configuration, not a cross-thread handoff: std's mutex in every mode (it is a static).
static CHOICE: std::sync::Mutex<Choice> = std::sync::Mutex::new(Choice {
    requested: None,
    chosen: None,
});

fn choice() -> std::sync::MutexGuard<'static, Choice> {
    CHOICE.lock().unwrap_or_else(|e| e.into_inner())
}

/// Chooses the backend programmatically; overrides `OVL_BACKEND`.
///
/// Call it before the first socket is created. Afterwards it succeeds only if `backend`
/// names the backend already running (or is [`Backend::Auto`]).
///
/// # Examples
/// ```no_run
/// overlapped::set_backend(overlapped::Backend::Poll)?;
/// let sock = overlapped::Socket::tcp_v4()?; // runs on epoll
/// assert_eq!(overlapped::probe()?.backend, overlapped::Backend::Poll);
/// # Ok::<(), overlapped::WsaError>(())
/// ```
///
/// # Errors
/// `WSAEALREADY` if another backend is already running.
pub fn set_backend(backend: Backend) -> Result<(), WsaError> {
    let mut c = choice();
    match c.chosen {
        None => {
            c.requested = Some(backend);
            Ok(())
        }
        Some(running) if backend == Backend::Auto || backend == running => Ok(()),
        Some(_) => Err(WsaError::WSAEALREADY),
    }
}

/// The backend in use, as the engine sees it (see the module docs).
#[derive(Debug)]
pub(crate) enum Ring {
    Uring(uring::Ring),
    Poll(poll::Ring),
}

/// How the backend was chosen, for [`probe`](crate::probe).
#[derive(Debug, Clone)]
pub(crate) struct Selection {
    /// What was asked for (`Auto` when nothing was).
    pub(crate) requested: Backend,
    /// What runs: `Uring` or `Poll`.
    pub(crate) backend: Backend,
    /// Why, in words.
    pub(crate) reason: String,
}

impl Ring {
    /// Creates the backend chosen by [`set_backend`] or `OVL_BACKEND` (see [`Backend`]).
    ///
    /// # Errors
    /// `InvalidInput` for an invalid `OVL_BACKEND`; io_uring's setup error when `uring`
    /// was asked for and is unavailable; the epoll setup error. Each is also printed to
    /// stderr (this runs once per process).
    pub(crate) fn new() -> io::Result<(Self, Selection)> {
        let mut c = choice();
        let (requested, source) = match c.requested {
            Some(b) => (b, format!("set_backend({b})")),
            None => match std::env::var(BACKEND_ENV) {
                Err(std::env::VarError::NotPresent) => {
                    (Backend::Auto, format!("{BACKEND_ENV} unset (auto)"))
                }
                Err(std::env::VarError::NotUnicode(v)) => {
                    return Err(invalid(&v.to_string_lossy()));
                }
                Ok(v) => match v.parse::<Backend>() {
                    Ok(b) => (b, format!("{BACKEND_ENV}={v}")),
                    Err(_) => return Err(invalid(&v)),
                },
            },
        };
        let (ring, reason) = match requested {
            Backend::Poll => (Self::new_poll()?, format!("{source}: poll requested")),
            Backend::Uring => match open_uring() {
                Ok(r) => (Self::Uring(r), format!("{source}: uring requested")),
                Err(e) => {
                    eprintln!(
                        "overlapped: {source} asks for io_uring, which is unavailable: {}",
                        why_uring_failed(&e)
                    );
                    return Err(e);
                }
            },
            Backend::Auto => match open_uring() {
                Ok(r) => (Self::Uring(r), format!("{source}: io_uring works")),
                Err(e) => {
                    let why = why_uring_failed(&e);
                    eprintln!(
                        "overlapped: io_uring is unavailable ({why}); using the poll backend"
                    );
                    (
                        Self::new_poll()?,
                        format!("{source}: io_uring is unavailable ({why})"),
                    )
                }
            },
        };
        let backend = match ring {
            Self::Uring(_) => Backend::Uring,
            Self::Poll(_) => Backend::Poll,
        };
        c.chosen = Some(backend);
        Ok((
            ring,
            Selection {
                requested,
                backend,
                reason,
            },
        ))
    }

    fn new_poll() -> io::Result<Self> {
        poll::Ring::new().map(Self::Poll).inspect_err(|e| {
            eprintln!("overlapped: the poll backend cannot be set up: {e}");
        })
    }

    /// The backend's name: `"uring"` or `"poll"`.
    pub(crate) fn name(&self) -> &'static str {
        match self {
            Self::Uring(_) => Backend::Uring.name(),
            Self::Poll(_) => Backend::Poll.name(),
        }
    }

    /// Starts `op`, tagged `user_data` (see the module docs).
    ///
    /// # Safety
    /// Every pointer in `op` must stay valid (and not be moved) until the operation's
    /// result has been reaped.
    #[inline]
    pub(crate) unsafe fn push(&self, op: &SysOp, user_data: u64) -> io::Result<()> {
        match self {
            // SAFETY: the caller's contract is the backend's.
            Self::Uring(r) => unsafe { r.push(op, user_data) },
            // SAFETY: the caller's contract is the backend's.
            Self::Poll(r) => unsafe { r.push(op, user_data) },
        }
    }

    /// Asks for an early `-ECANCELED` result of the operation tagged `user_data`.
    #[inline]
    pub(crate) fn cancel(&self, user_data: u64) -> io::Result<()> {
        match self {
            Self::Uring(r) => r.cancel(user_data),
            Self::Poll(r) => r.cancel(user_data),
        }
    }

    /// Makes a driver blocked in [`Driver::wait`] return.
    #[inline]
    pub(crate) fn wake(&self) {
        match self {
            Self::Uring(r) => r.wake(),
            Self::Poll(r) => r.wake(),
        }
    }

    /// Takes the driver token if nobody holds it.
    #[inline]
    pub(crate) fn try_drive(&self) -> Option<Driver<'_>> {
        match self {
            Self::Uring(r) => r.try_drive().map(Driver::Uring),
            Self::Poll(r) => r.try_drive().map(Driver::Poll),
        }
    }

    /// Takes the driver token, waiting for the current holder to release it.
    #[inline]
    pub(crate) fn drive(&self) -> Driver<'_> {
        match self {
            Self::Uring(r) => Driver::Uring(r.drive()),
            Self::Poll(r) => Driver::Poll(r.drive()),
        }
    }

    /// Blocks the background reaper until results arrive while no application thread
    /// drives.
    pub(crate) fn wait_for_reaper_work(&self) {
        match self {
            Self::Uring(r) => r.wait_for_reaper_work(),
            Self::Poll(r) => r.wait_for_reaper_work(),
        }
    }

    /// The ring's (or epoll set's) descriptor, for diagnostics.
    pub(crate) fn raw_fd(&self) -> RawFd {
        match self {
            Self::Uring(r) => r.raw_fd(),
            Self::Poll(r) => r.raw_fd(),
        }
    }

    /// The kernel's io_uring features (empty on `poll`).
    pub(crate) fn features(&self) -> uring::Features {
        match self {
            Self::Uring(r) => r.features(),
            Self::Poll(r) => r.features(),
        }
    }
}

/// The driver token of either backend (see the module docs).
pub(crate) enum Driver<'a> {
    Uring(uring::Driver<'a>),
    Poll(poll::Driver<'a>),
}

impl fmt::Debug for Driver<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Uring(_) => "Driver::Uring",
            Self::Poll(_) => "Driver::Poll",
        })
    }
}

impl Driver<'_> {
    /// Blocks until a result is ready, a [`Ring::wake`], or `deadline`.
    #[inline]
    pub(crate) fn wait(&self, deadline: Option<Instant>) {
        match self {
            Self::Uring(d) => d.wait(deadline),
            Self::Poll(d) => d.wait(deadline),
        }
    }

    /// Hands every ready result to `deliver` as `(user_data, res, flags)`; returns how
    /// many there were.
    #[inline]
    pub(crate) fn reap(&self, deliver: impl FnMut(u64, i32, u32)) -> usize {
        match self {
            Self::Uring(d) => d.reap(deliver),
            Self::Poll(d) => d.reap(deliver),
        }
    }

    /// Turns the background reaper's notifications on or off.
    #[inline]
    pub(crate) fn set_reaper_notify(&self, on: bool) {
        match self {
            Self::Uring(d) => d.set_reaper_notify(on),
            Self::Poll(d) => d.set_reaper_notify(on),
        }
    }
}

fn invalid(value: &str) -> io::Error {
    let e = InvalidBackend(value.to_owned());
    eprintln!("overlapped: {BACKEND_ENV}: {e}");
    io::Error::new(io::ErrorKind::InvalidInput, e)
}

/// Sets up io_uring and checks that it really works (a no-op round trip): some
/// sandboxes allow the setup call but refuse submission.
fn open_uring() -> io::Result<uring::Ring> {
    let ring = uring::Ring::new()?;
    ring.self_test()?;
    Ok(ring)
}

/// io_uring's setup error, with the likely cause.
fn why_uring_failed(e: &io::Error) -> String {
    let disabled = std::fs::read_to_string("/proc/sys/kernel/io_uring_disabled")
        .ok()
        .map(|s| s.trim().to_owned())
        .filter(|s| s != "0");
    let hint = match e.raw_os_error() {
        Some(libc::ENOSYS) => "the kernel lacks io_uring, or a seccomp filter hides it",
        Some(libc::EPERM | libc::EACCES) => match disabled {
            Some(_) => "kernel.io_uring_disabled forbids it",
            None => "refused, probably by a seccomp filter (container default profile)",
        },
        Some(libc::ENOMEM) => "out of memory, or the locked-memory limit (ulimit -l) is too low",
        _ => "setup failed",
    };
    match disabled {
        Some(v) => format!("{e}: {hint}; kernel.io_uring_disabled={v}"),
        None => format!("{e}: {hint}"),
    }
}
