//! Readiness waits: an operation that completes when a socket becomes readable or
//! writable. What `WSAEventSelect` is built on; rarely needed by overlapped programs.

use super::{open, posting_methods};
use crate::engine::SocketState;
use crate::engine::op::{OpDesc, Outcome, QueueKind, Step};
use crate::error::WsaError;
use crate::socket::{Readiness, Socket};
use crate::sync::Arc;
use crate::sys::{SysOp, net};

/// Waits until the socket is ready as `interest` asks (errors and hang-ups are always
/// reported). The completion's byte count is 0; the output is what was found.
/// Readiness waits have their own queue: they never hold up receives or sends.
#[derive(Debug)]
pub struct WaitReady {
    sock: Arc<SocketState>,
    events: i16,
}

impl WaitReady {
    /// A wait on `socket` for `interest`.
    pub fn new(socket: &Socket, interest: Readiness) -> Self {
        let mut events = 0;
        if interest.read {
            events |= libc::POLLIN;
        }
        if interest.write {
            events |= libc::POLLOUT;
        }
        if interest.priority {
            events |= libc::POLLPRI;
        }
        Self {
            sock: Arc::clone(&socket.state),
            events,
        }
    }

    posting_methods!(Readiness);

    fn into_desc(self) -> Result<(Arc<SocketState>, ReadyDesc), WsaError> {
        let sock = open(&self.sock)?;
        Ok((
            sock,
            ReadyDesc {
                events: self.events,
                found: 0,
            },
        ))
    }
}

pub(crate) struct ReadyDesc {
    events: i16,
    found: i16,
}

impl OpDesc for ReadyDesc {
    type Output = Readiness;

    fn queue(&self) -> QueueKind {
        QueueKind::Poll
    }

    fn attempt(&mut self, sock: &SocketState) -> Step {
        // A listener holding a deferred connection reads as ready (see `defer_accepted`).
        let held = if self.events & libc::POLLIN != 0 && !sock.deferred.lock().is_empty() {
            libc::POLLIN
        } else {
            0
        };
        match net::poll_one(sock.fd(), self.events, 0) {
            Ok(0) if held == 0 => Step::WouldBlock,
            Ok(revents) => {
                self.found = revents | held;
                Step::Done(Outcome::ok(0))
            }
            Err(e) => Step::Done(Outcome::errno(net::errno_of(&e))),
        }
    }

    fn arm(&mut self, sock: &SocketState) -> SysOp {
        SysOp::Poll {
            fd: sock.fd(),
            events: self.events.cast_unsigned().into(),
        }
    }

    fn on_result(&mut self, _: &SocketState, res: i32) -> Step {
        if res < 0 {
            return Step::Done(Outcome::errno(-res));
        }
        self.found = i16::try_from(res).unwrap_or(i16::MAX);
        Step::Done(Outcome::ok(0))
    }

    fn into_output(self, _: &Outcome) -> Readiness {
        let r = self.found;
        Readiness {
            read: r & libc::POLLIN != 0,
            write: r & libc::POLLOUT != 0,
            priority: r & libc::POLLPRI != 0,
            error: r & libc::POLLERR != 0,
            hangup: r & libc::POLLHUP != 0,
            read_closed: r & libc::POLLRDHUP != 0,
        }
    }
}
