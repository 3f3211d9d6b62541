//! `ovl serve`: an echo server in either notification model.
//!
//! Both models stop the same way: the Ctrl-C (SIGINT) / SIGTERM handler only sets the
//! stop [`Event`]; the accepting thread has it in its wait array, notices at once, and
//! stops the rest (see each model), closing every socket before `run` returns.

mod event;
mod routine;

use anyhow::Context as _;
use overlapped::{Event, Socket};

use crate::args::{Model, ServeArgs};

/// The receive buffer of each connection.
const BUF_SIZE: usize = 16 * 1024;

/// The listen backlog.
const BACKLOG: i32 = 1024;

/// Listens, announces the bound address, serves until stopped.
///
/// # Errors
/// When the address cannot be bound, or a wait or an accept fails for good.
pub(crate) fn run(a: &ServeArgs) -> anyhow::Result<()> {
    let listener = Socket::listen_on(a.addr, BACKLOG)
        .with_context(|| format!("cannot listen on {}", a.addr))?;
    let bound = listener.local_addr().context("getsockname")?;

    let stop = Event::new_manual();
    {
        let stop = stop.clone();
        // The handler runs on ctrlc's own thread, not in signal context; it only sets the
        // event.
        ctrlc::set_handler(move || stop.set()).context("cannot install the Ctrl-C handler")?;
    }

    let backend = overlapped::probe().map_or("?", |b| b.name);
    let model = match a.model {
        Model::Event => "event",
        Model::Routine => "routine",
    };
    outln!("listening on {bound} (model {model}, backend {backend}); Ctrl-C stops");

    let served = match a.model {
        Model::Event => event::serve(listener, &stop),
        Model::Routine => routine::serve(listener, &stop),
    }?;
    outln!("stopped after {served} connection(s)");
    Ok(())
}
