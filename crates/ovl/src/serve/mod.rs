//! `ovl serve`: an echo server in one of five models: the three notification models
//! (`event`, `routine`, `port`) and the library's futures on two executors (`async`,
//! `tokio-async`, in `tasks`).
//!
//! Every model stops the same way: the Ctrl-C (SIGINT) / SIGTERM handler only sets the
//! stop [`Event`]; the accepting thread (for the futures, the thread that started the
//! runtime) has it in its wait array, notices at once, and stops the rest (see each
//! model), closing every socket before `run` returns.

mod event;
mod port;
mod routine;
mod tasks;

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use overlapped::{Accept, Event, Kind, Overlapped, Socket, WaitOutcome, WsaError, wait_any};

use crate::args::{Model, ServeArgs};

/// The receive buffer of each connection.
const BUF_SIZE: usize = 16 * 1024;

/// The listen backlog.
const BACKLOG: i32 = 1024;

/// How long the acceptor backs off when the process is out of descriptors or memory.
const BACKOFF: Duration = Duration::from_millis(100);

/// Accepting through a shortage of descriptors (`WSAEMFILE`) or memory (`WSAENOBUFS`):
/// such an error passes when connections close, so the acceptor backs off and retries
/// instead of stopping, saying so once per shortage (not once per retry).
#[derive(Debug, Default)]
struct Shortage {
    /// The shortage being waited out, if any.
    current: Option<WsaError>,
}

impl Shortage {
    /// Whether `e` is a shortage to wait out; reports the first of a run.
    fn hit(&mut self, what: &str, e: WsaError) -> bool {
        if e != WsaError::WSAEMFILE && e != WsaError::WSAENOBUFS {
            return false;
        }
        if self.current.is_none() {
            eprintln!(
                "{what}: {e} ({}); serving the open connections, retrying",
                e.code()
            );
        }
        self.current = Some(e);
        true
    }

    /// An accept succeeded: reports the end of a shortage.
    fn over(&mut self) {
        if let Some(e) = self.current.take() {
            eprintln!("accepting again after {e}");
        }
    }
}

/// The accepting loop of the event and routine models: an `AcceptEx`-style accept bound
/// to `ov` (whose event is `accept_ev`), waited for together with `stop`. Returns the
/// next connection, or `None` once `stop` is set. A shortage of descriptors or memory
/// (creating the accepting socket, the post, which tries the accept at once, or the
/// completion) is waited out for [`BACKOFF`] and retried, said once per shortage.
/// `alertable`: the waits run the thread's completion routines (the routine model's
/// connections live in them) and go on waiting after they ran.
fn accept_next(
    listener: &Socket,
    ov: &Overlapped,
    accept_ev: &Event,
    stop: &Event,
    alertable: bool,
    shortage: &mut Shortage,
) -> anyhow::Result<Option<Socket>> {
    // Waits out a shortage; true when stopping.
    let back_off = || -> anyhow::Result<bool> {
        match wait_any(&[stop], Some(BACKOFF), alertable).context("wait failed")? {
            WaitOutcome::Signaled(_) => Ok(true),
            _ => Ok(false),
        }
    };
    loop {
        let acceptor = match Socket::new(listener.family(), Kind::Stream) {
            Ok(s) => s,
            Err(e) if shortage.hit("cannot create the accepting socket", e) => {
                if back_off()? {
                    return Ok(None);
                }
                continue;
            }
            Err(e) => return Err(e).context("cannot create the accepting socket"),
        };
        let posted = match Accept::new(listener, &acceptor).post(ov) {
            Ok(p) => p,
            Err(e) if shortage.hit("AcceptEx failed", e) => {
                drop(acceptor);
                if back_off()? {
                    return Ok(None);
                }
                continue;
            }
            Err(e) => return Err(e).context("AcceptEx failed"),
        };
        let outcome = loop {
            match wait_any(&[accept_ev, stop], None, alertable).context("wait failed")? {
                WaitOutcome::IoCompletion => {}
                other => break other,
            }
        };
        if outcome != WaitOutcome::Signaled(0) {
            return Ok(None);
        }
        match posted.wait().0 {
            Ok(_) => {
                shortage.over();
                return Ok(Some(acceptor));
            }
            Err(e) if shortage.hit("accept failed", e) => {
                drop(acceptor);
                if back_off()? {
                    return Ok(None);
                }
            }
            Err(e) => eprintln!("accept failed: {e}"),
        }
    }
}

/// Raises this process's soft descriptor limit to its hard limit (a server of 10,000
/// connections needs more than the usual 1,024); returns the limit now in force.
pub(crate) fn raise_nofile() -> u64 {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `lim` is a valid, writable rlimit for the duration of the call.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } != 0 {
        return 0;
    }
    if lim.rlim_cur < lim.rlim_max {
        let raised = libc::rlimit {
            rlim_cur: lim.rlim_max,
            rlim_max: lim.rlim_max,
        };
        // SAFETY: `raised` is a valid rlimit for the duration of the call.
        if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raised) } == 0 {
            return raised.rlim_cur;
        }
    }
    lim.rlim_cur
}

/// The stop signal, set by the Ctrl-C/SIGTERM handler (or by a model that cannot go
/// on): an [`Event`], for the event and routine models, whose accepting thread waits on
/// it among its I/O events, and a plain flag with a condition variable, for the port
/// and futures models, whose starting thread has nothing else to wait for. That thread
/// must not wait through the library: a thread blocked in one of its waits drives the
/// engine when nobody else does, so every completion would be reaped there and handed
/// over to a worker, a thread switch each, instead of being reaped by the worker that
/// runs it.
#[derive(Debug)]
pub(crate) struct Stop {
    pub(crate) event: Event,
    set: std::sync::Mutex<bool>,
    cv: std::sync::Condvar,
}

impl Stop {
    fn new() -> Self {
        Self {
            event: Event::new_manual(),
            set: std::sync::Mutex::new(false),
            cv: std::sync::Condvar::new(),
        }
    }

    /// Sets the signal (both forms).
    pub(crate) fn set(&self) {
        self.event.set();
        *self
            .set
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = true;
        self.cv.notify_all();
    }

    /// Waits until the signal is set, without the library's waits (see above).
    pub(crate) fn wait(&self) {
        let mut set = self
            .set
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        while !*set {
            set = self
                .cv
                .wait(set)
                .unwrap_or_else(std::sync::PoisonError::into_inner);
        }
    }
}

/// Listens, announces the bound address, serves until stopped.
///
/// # Errors
/// When the address cannot be bound, or a wait or an accept fails for good.
pub(crate) fn run(a: &ServeArgs) -> anyhow::Result<()> {
    raise_nofile();
    let listener = Socket::listen_on(a.addr, BACKLOG)
        .with_context(|| format!("cannot listen on {}", a.addr))?;
    let bound = listener.local_addr().context("getsockname")?;

    let stop = Arc::new(Stop::new());
    {
        let stop = Arc::clone(&stop);
        // The handler runs on ctrlc's own thread, not in signal context; it only sets the
        // stop signal.
        ctrlc::set_handler(move || stop.set()).context("cannot install the Ctrl-C handler")?;
    }

    let backend = overlapped::probe().map_or("?", |b| b.name);
    let model = a.model.name();
    outln!("listening on {bound} (model {model}, backend {backend}); Ctrl-C stops");

    let served = match a.model {
        Model::Event => event::serve(listener, &stop.event),
        Model::Routine => routine::serve(listener, &stop.event),
        Model::Port => port::serve(listener, &stop, a.threads),
        Model::Async => tasks::run::<tasks::Builtin>(listener, &stop, a.threads),
        Model::TokioAsync => tasks::run::<tasks::Tokio>(listener, &stop, a.threads),
    }?;
    outln!("stopped after {served} connection(s)");
    Ok(())
}
