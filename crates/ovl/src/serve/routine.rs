//! The completion-routine model, on one thread, as the seed routine server grows into
//! a multi-client one: accept, post a receive with a routine; the routine posts the echo
//! with a routine, which posts the next receive; between accepts the thread waits
//! alertably on `[accept event, stop event]`, and the routines run inside that wait
//! (`WAIT_IO_COMPLETION`).
//!
//! The accept itself is notified by its event: `AcceptEx`, as the seed article notes,
//! is used with event notification. Stopping aborts every connection, lets the aborted
//! operations' routines run (they see the error and let go of the connection), and
//! closes the sockets.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;
use std::time::{Duration, Instant};

use overlapped::{Completion, Event, Overlapped, Recv, Send, Slice, Socket, sleep_alertable};

use super::{BUF_SIZE, Shortage, accept_next};

/// How long stopping waits for the aborted operations' routines.
const DRAIN: Duration = Duration::from_secs(2);

/// One connection. Its pending operation's routine holds an `Rc` of it, so it lives
/// until that routine has run.
#[derive(Debug)]
struct Conn {
    id: u64,
    sock: Socket,
    ov: Overlapped,
    /// Counts the connections not yet dropped (shared by all of them).
    live: Rc<Cell<usize>>,
}

impl Drop for Conn {
    fn drop(&mut self) {
        self.live.set(self.live.get() - 1);
    }
}

/// The open connections, by id: what stopping aborts.
type Registry = Rc<RefCell<HashMap<u64, Rc<Conn>>>>;

/// Serves until `stop` is set; returns how many connections were accepted.
///
/// # Errors
/// A failed wait, or no socket for the next accept.
pub(super) fn serve(listener: Socket, stop: &Event) -> anyhow::Result<u64> {
    let registry: Registry = Rc::default();
    let live = Rc::new(Cell::new(0));
    let accept_ev = Event::new_manual();
    let ov = Overlapped::with_event(&accept_ev);
    let mut accepted = 0;
    let mut shortage = Shortage::default();
    let result = loop {
        // Alertable: the connections' routines run in the accept's waits.
        match accept_next(&listener, &ov, &accept_ev, stop, true, &mut shortage) {
            Ok(Some(sock)) => {
                accepted += 1;
                live.set(live.get() + 1);
                let conn = Rc::new(Conn {
                    id: accepted,
                    sock,
                    ov: Overlapped::new(),
                    live: Rc::clone(&live),
                });
                registry.borrow_mut().insert(conn.id, Rc::clone(&conn));
                post_recv(conn, &registry, vec![0u8; BUF_SIZE]);
            }
            Ok(None) => break Ok(()),
            Err(e) => break Err(e),
        }
    };
    drop(listener);
    // Abort every connection: each pending operation completes with an error, and its
    // routine, run below, drops the last reference to the connection (closing it).
    let conns: Vec<Rc<Conn>> = registry.borrow_mut().drain().map(|(_, c)| c).collect();
    for c in &conns {
        c.sock.abort();
    }
    drop(conns);
    let deadline = Instant::now() + DRAIN;
    while live.get() > 0 && Instant::now() < deadline {
        sleep_alertable(Some(Duration::from_millis(20)));
    }
    result.map(|()| accepted)
}

/// Posts a receive whose routine posts the echo.
fn post_recv(conn: Rc<Conn>, registry: &Registry, buf: Vec<u8>) {
    let reg = Rc::clone(registry);
    let c = Rc::clone(&conn);
    let posted =
        Recv::new(&conn.sock, buf).post_with_routine(&conn.ov, move |done: Completion<Vec<u8>>| {
            on_recv(c, &reg, done);
        });
    if posted.is_err() {
        forget(&conn, registry);
    }
}

/// A receive completed: echo what came, or let the connection go.
fn on_recv(conn: Rc<Conn>, registry: &Registry, done: Completion<Vec<u8>>) {
    match done.result {
        Ok(t) if t.bytes > 0 => post_send(conn, registry, Slice::new(done.output, ..t.bytes)),
        _ => forget(&conn, registry),
    }
}

/// Posts the echo; its routine posts the next receive.
fn post_send(conn: Rc<Conn>, registry: &Registry, buf: Slice<Vec<u8>>) {
    let reg = Rc::clone(registry);
    let c = Rc::clone(&conn);
    let posted = Send::new(&conn.sock, buf).post_with_routine(
        &conn.ov,
        move |done: Completion<Slice<Vec<u8>>>| match done.result {
            Ok(_) => post_recv(c, &reg, done.output.into_inner()),
            Err(_) => forget(&c, &reg),
        },
    );
    if posted.is_err() {
        forget(&conn, registry);
    }
}

/// Drops the registry's reference: the connection closes when the caller's goes too.
fn forget(conn: &Conn, registry: &Registry) {
    registry.borrow_mut().remove(&conn.id);
}
