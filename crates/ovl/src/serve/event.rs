//! The event model, for any number of connections, the way Windows programs do it:
//! `WSAWaitForMultipleEvents` takes at most 64 events, so connections are served in
//! groups of up to [`GROUP_SIZE`], one thread per group.
//!
//! - The **acceptor** (the calling thread) posts an `AcceptEx`-style [`Accept`](overlapped::Accept) bound to
//!   its event and waits on `[accept event, stop event]`. Each new connection goes to the
//!   first group with room (through the group's inbox, then its wake-up event); when all
//!   groups are full it starts a new group thread.
//! - A **group thread** waits on `[wake-up event, one event per connection]`. A
//!   connection's event fires when its receive or its echo send completes: the thread
//!   resets the event, reads the result from the overlapped record, and posts the echo
//!   or the next receive. A closed connection leaves the arrays, which are compacted.
//! - **Stopping**: the stop event wakes the acceptor, which marks every group stopping
//!   and sets its wake-up event; each group thread closes its connections and exits, and
//!   the acceptor joins them.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;

use overlapped::{
    Event, MAXIMUM_WAIT_EVENTS, Overlapped, Posted, Recv, Send, Slice, Socket, WaitOutcome,
    WsaError, wait_any,
};

use super::{BUF_SIZE, Shortage, accept_next};

/// Connections per group: the array's other slot is the wake-up event.
pub(crate) const GROUP_SIZE: usize = MAXIMUM_WAIT_EVENTS - 1;

/// A group of up to [`GROUP_SIZE`] connections, served by one thread.
#[derive(Debug)]
struct Group {
    /// Connections handed over by the acceptor, not yet taken by the group thread.
    inbox: Mutex<Vec<Socket>>,
    /// Slot 0 of the group's array: set for new connections in the inbox, and to stop.
    wake: Event,
    /// Connections owned or handed over (at most [`GROUP_SIZE`]): raised by the
    /// acceptor, lowered by the group thread when one closes.
    load: AtomicUsize,
    /// The server is stopping: the group thread closes everything and exits.
    stopping: AtomicBool,
}

/// Serves until `stop` is set; returns how many connections were accepted.
///
/// # Errors
/// A failed wait, or no socket for the next accept.
pub(super) fn serve(listener: Socket, stop: &Event) -> anyhow::Result<u64> {
    let accept_ev = Event::new_manual();
    let ov = Overlapped::with_event(&accept_ev);
    let mut groups: Vec<(Arc<Group>, JoinHandle<()>)> = Vec::new();
    let mut accepted = 0;
    let mut shortage = Shortage::default();
    let result = loop {
        match accept_next(&listener, &ov, &accept_ev, stop, false, &mut shortage) {
            Ok(Some(sock)) => {
                accepted += 1;
                hand_over(&mut groups, sock);
            }
            Ok(None) => break Ok(()),
            Err(e) => break Err(e),
        }
    };
    drop(listener);
    for (g, _) in &groups {
        g.stopping.store(true, Ordering::SeqCst);
        g.wake.set();
    }
    for (_, t) in groups {
        let _ = t.join();
    }
    result.map(|()| accepted)
}

/// Gives a new connection to the first group with room, or to a new group.
fn hand_over(groups: &mut Vec<(Arc<Group>, JoinHandle<()>)>, sock: Socket) {
    let with_room = groups.iter().find(|(g, _)| {
        g.load
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < GROUP_SIZE).then_some(n + 1)
            })
            .is_ok()
    });
    let group = match with_room {
        Some((g, _)) => Arc::clone(g),
        None => {
            let g = Arc::new(Group {
                inbox: Mutex::new(Vec::new()),
                wake: Event::new_manual(),
                load: AtomicUsize::new(1),
                stopping: AtomicBool::new(false),
            });
            let index = groups.len();
            let worker = Arc::clone(&g);
            let spawned = std::thread::Builder::new()
                .name(format!("group-{index}"))
                .spawn(move || run_group(&worker));
            match spawned {
                Ok(t) => {
                    groups.push((Arc::clone(&g), t));
                    outln!(
                        "group thread {} started: now up to {} connections",
                        groups.len(),
                        groups.len() * GROUP_SIZE
                    );
                }
                Err(e) => {
                    eprintln!("cannot start a thread for connection group {index}: {e}");
                    return;
                }
            }
            g
        }
    };
    group
        .inbox
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .push(sock);
    group.wake.set();
}

/// What a connection's overlapped record is bound to now.
#[derive(Debug)]
enum Op {
    /// A receive.
    Recv(Posted<Vec<u8>>),
    /// The echo of what the last receive brought (the filled head of its buffer).
    Send(Posted<Slice<Vec<u8>>>),
}

/// One connection: its socket, its overlapped record (bound to its event, at the same
/// index + 1 in the group's event array) and the operation in flight.
#[derive(Debug)]
struct Conn {
    sock: Socket,
    ov: Overlapped,
    op: Option<Op>,
}

impl Conn {
    /// Posts a receive; false if the post failed at once.
    fn post_recv(&mut self, buf: Vec<u8>) -> bool {
        match Recv::new(&self.sock, buf).post(&self.ov) {
            Ok(p) => {
                self.op = Some(Op::Recv(p));
                true
            }
            Err(_) => false,
        }
    }

    /// The connection's event fired: read the result, post what comes next. False when
    /// the connection is done (the peer closed, or an error).
    fn on_event(&mut self) -> bool {
        let result = match self.ov.result(false) {
            Err(WsaError::WSA_IO_INCOMPLETE) => return true,
            r => r,
        };
        match (self.op.take(), result) {
            (Some(Op::Recv(posted)), Ok(t)) if t.bytes > 0 => {
                let (_, buf) = posted.wait();
                match Send::new(&self.sock, Slice::new(buf, ..t.bytes)).post(&self.ov) {
                    Ok(p) => {
                        self.op = Some(Op::Send(p));
                        true
                    }
                    Err(_) => false,
                }
            }
            (Some(Op::Send(posted)), Ok(_)) => {
                let (_, buf) = posted.wait();
                self.post_recv(buf.into_inner())
            }
            // End of stream, an error, or nothing was pending.
            _ => false,
        }
    }
}

/// A group thread: waits on the group's array until the server stops.
fn run_group(g: &Group) {
    let mut events: Vec<Event> = vec![g.wake.clone()];
    let mut conns: Vec<Conn> = Vec::new();
    'serve: loop {
        let first = {
            let refs: Vec<&Event> = events.iter().collect();
            match wait_any(&refs, None, false) {
                Ok(WaitOutcome::Signaled(i)) => i,
                Ok(_) => continue,
                Err(e) => {
                    eprintln!("wait failed: {e}");
                    break;
                }
            }
        };
        // wait_any names the lowest signalled slot; serve every signalled one so the
        // first connections cannot starve the last. Highest first, so that removing a
        // connection does not move those still to be served.
        let mut ready: Vec<usize> = (first + 1..events.len())
            .filter(|&i| events[i].is_set())
            .collect();
        ready.push(first);
        ready.sort_unstable_by(|a, b| b.cmp(a));
        for i in ready {
            events[i].reset();
            if i == 0 {
                if g.stopping.load(Ordering::SeqCst) {
                    break 'serve;
                }
                let new =
                    std::mem::take(&mut *g.inbox.lock().unwrap_or_else(PoisonError::into_inner));
                for sock in new {
                    let ev = Event::new_manual();
                    let mut c = Conn {
                        sock,
                        ov: Overlapped::with_event(&ev),
                        op: None,
                    };
                    if c.post_recv(vec![0u8; BUF_SIZE]) {
                        events.push(ev);
                        conns.push(c);
                    } else {
                        g.load.fetch_sub(1, Ordering::AcqRel);
                    }
                }
            } else if !conns[i - 1].on_event() {
                conns.remove(i - 1);
                events.remove(i);
                g.load.fetch_sub(1, Ordering::AcqRel);
            }
        }
    }
    // Closing completes the pending receives and sends aborted.
    drop(conns);
}
