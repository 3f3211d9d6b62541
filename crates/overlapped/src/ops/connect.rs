//! `ConnectEx`: an overlapped connect, optionally sending a first block of data.

use std::net::SocketAddr;

use super::send::SendDesc;
use super::{open, posting_methods};
use crate::buf::IoBufs;
use crate::engine::SocketState;
use crate::engine::op::{OpDesc, Outcome, QueueKind, Step};
use crate::error::{NtStatus, WsaError};
use crate::socket::Socket;
use crate::sync::{Arc, Ordering};
use crate::sys::{SysOp, net};

/// An overlapped connect (`ConnectEx`).
///
/// The socket must be a bound, unconnected stream socket (bind it to port 0 first, as
/// Windows requires). With [`Connect::send`] the data is sent once connected and the
/// byte count reports how much was sent. A refused connection completes with
/// `WSAECONNREFUSED` (Win32 family: `ERROR_CONNECTION_REFUSED`).
#[derive(Debug)]
pub struct Connect<B = &'static [u8]> {
    sock: Arc<SocketState>,
    to: SocketAddr,
    data: Option<B>,
}

impl Connect<&'static [u8]> {
    /// A connect of `socket` to `to`.
    pub fn new(socket: &Socket, to: SocketAddr) -> Self {
        Self {
            sock: Arc::clone(&socket.state),
            to,
            data: None,
        }
    }
}

impl<B: IoBufs> Connect<B> {
    /// Sends `data` once connected.
    pub fn send<C: IoBufs>(self, data: C) -> Connect<C> {
        Connect {
            sock: self.sock,
            to: self.to,
            data: Some(data),
        }
    }

    posting_methods!(Option<B>);

    fn into_desc(self) -> Result<(Arc<SocketState>, ConnectDesc<B>), WsaError> {
        let sock = open(&self.sock)?;
        // Windows: a ConnectEx or a non-blocking connect under way is WSAEINVAL.
        if !sock.is_stream()
            || sock.listening.load(Ordering::Acquire)
            || sock.connecting.load(Ordering::Acquire)
            || sock.accept_link.lock().is_some()
            || net::connect_in_progress(sock.fd())
        {
            return Err(WsaError::WSAEINVAL);
        }
        // Connected now, or earlier (its connection since shut down or reset).
        if net::peer_addr(sock.fd()).is_ok() || matches!(*sock.peer.lock(), Some((_, true))) {
            return Err(WsaError::WSAEISCONN);
        }
        let local = net::local_addr(sock.fd()).ok().and_then(|a| a.to_std());
        if local.is_none_or(|a| a.port() == 0) {
            return Err(WsaError::WSAEINVAL);
        }
        if self.to.ip().is_unspecified() || self.to.port() == 0 {
            return Err(WsaError::WSAEADDRNOTAVAIL);
        }
        let send = match self.data {
            Some(d) => Some(SendDesc::new_for_connect(&sock, d)?),
            None => None,
        };
        sock.connecting.store(true, Ordering::Release);
        let desc = ConnectDesc {
            sock: Arc::clone(&sock),
            to: net::RawAddr::from_std(&self.to),
            send,
            connected: false,
        };
        Ok((sock, desc))
    }
}

pub(crate) struct ConnectDesc<B> {
    sock: Arc<SocketState>,
    to: net::RawAddr,
    send: Option<SendDesc<B>>,
    connected: bool,
}

impl<B> Drop for ConnectDesc<B> {
    /// Ends the "connect pending" state, also when the post failed at once (the
    /// description is then dropped without [`OpDesc::into_output`]).
    fn drop(&mut self) {
        self.sock.connecting.store(false, Ordering::Release);
    }
}

impl<B: IoBufs> ConnectDesc<B> {
    fn on_connected(&mut self, sock: &SocketState) -> Step {
        if !self.connected {
            // Linux leaves the socket "connecting" until the next connect call, which
            // then succeeds: make it now, so that a later connect does not succeed.
            let _ = net::connect(sock.fd(), &self.to);
            *sock.peer.lock() = self.to.to_std().map(|a| (a, true));
            sock.connected_ex.store(true, Ordering::Release);
        }
        self.connected = true;
        match self.send.as_mut() {
            None => Step::Done(Outcome::ok(0)),
            Some(s) => s.attempt(sock),
        }
    }
}

impl<B: IoBufs> OpDesc for ConnectDesc<B> {
    type Output = Option<B>;

    fn queue(&self) -> QueueKind {
        QueueKind::Write
    }

    fn attempt(&mut self, sock: &SocketState) -> Step {
        if self.connected {
            return self.on_connected(sock);
        }
        match net::connect(sock.fd(), &self.to) {
            Ok(()) => self.on_connected(sock),
            Err(e) => match net::errno_of(&e) {
                libc::EINPROGRESS | libc::EALREADY | libc::EAGAIN => Step::WouldBlock,
                errno => Step::Done(Outcome::errno(errno)),
            },
        }
    }

    fn arm(&mut self, sock: &SocketState) -> SysOp {
        match (self.connected, self.send.as_mut()) {
            (true, Some(s)) => s.arm(sock),
            _ => SysOp::Poll {
                fd: sock.fd(),
                events: libc::POLLOUT as u32,
            },
        }
    }

    fn on_result(&mut self, sock: &SocketState, res: i32) -> Step {
        if self.connected {
            return match self.send.as_mut() {
                Some(s) => s.on_result(sock, res),
                None => Step::Done(Outcome::ok(0)),
            };
        }
        if res < 0 {
            return Step::Done(Outcome::errno(-res));
        }
        match net::getsockopt::<libc::c_int>(sock.fd(), libc::SOL_SOCKET, libc::SO_ERROR) {
            Ok(0) => self.on_connected(sock),
            Ok(errno) => {
                // Linux keeps a socket whose non-blocking connect failed in the
                // "connecting" state until the next connect call reports the failure;
                // make that call now so the socket can connect again (as Windows allows
                // after a refused ConnectEx).
                let _ = net::connect(sock.fd(), &self.to);
                Step::Done(Outcome::errno(errno))
            }
            Err(e) => Step::Done(Outcome::errno(net::errno_of(&e))),
        }
    }

    fn into_output(mut self, _: &Outcome) -> Option<B> {
        self.sock.connecting.store(false, Ordering::Release);
        self.send.take().map(SendDesc::into_bufs)
    }

    fn abort_status(&self) -> NtStatus {
        NtStatus::CANCELLED
    }
}
