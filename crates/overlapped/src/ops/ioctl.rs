//! `WSAIoctl` (and `ioctlsocket`): the subset overlapped programs use.

use std::time::Duration;

use super::{open, posting_methods};
use crate::engine::SocketState;
use crate::engine::op::{OpDesc, Outcome, QueueKind, Step};
use crate::error::{NtStatus, WsaError};
use crate::socket::Socket;
use crate::sync::{Arc, Ordering};
use crate::sys::{SysOp, net};

/// A socket control request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ioctl {
    /// `FIONREAD`: bytes that a receive would return now.
    FionRead,
    /// `FIONBIO`: non-blocking mode of the *synchronous* calls (overlapped operations
    /// are asynchronous either way).
    FionBio(bool),
    /// `SIO_KEEPALIVE_VALS`: TCP keep-alive on or off, idle time and probe interval.
    KeepAlive {
        /// Keep-alive on.
        enabled: bool,
        /// Idle time before the first probe.
        time: Duration,
        /// Time between probes.
        interval: Duration,
    },
    /// A request the caller has already carried out (the C ABI's extension-function
    /// query): completes at once with success and 0 bytes, so that, posted, it still
    /// delivers the notification Windows delivers for a synchronous success.
    Done,
    /// Any other control code: fails with `WSAEOPNOTSUPP` (posted with an overlapped
    /// record, it pends and then completes with that error, as on Windows).
    Unsupported(u32),
}

/// What an [`Ioctl`] returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IoctlOutput {
    /// A 32-bit value (`FIONREAD`).
    Value(u32),
    /// No output.
    None,
}

impl Ioctl {
    /// Runs the request synchronously.
    ///
    /// # Errors
    /// `WSAENOTSOCK` on a closed socket, `WSAEOPNOTSUPP` for [`Ioctl::Unsupported`], or
    /// the kernel's error.
    pub fn run(self, socket: &Socket) -> Result<IoctlOutput, WsaError> {
        let sock = open(&socket.state)?;
        run(&sock, self).map_err(|s| s.to_wsa().unwrap_or(WsaError::WSAEINVAL))
    }

    /// The request as an operation to post with an overlapped record or a routine.
    /// A supported request completes during the post (byte count 0, as Windows reports
    /// ioctl completions) and still notifies.
    pub fn on(self, socket: &Socket) -> IoctlRequest {
        IoctlRequest {
            sock: Arc::clone(&socket.state),
            ioctl: self,
        }
    }
}

/// An [`Ioctl`] bound to a socket, ready to post.
#[derive(Debug)]
pub struct IoctlRequest {
    sock: Arc<SocketState>,
    ioctl: Ioctl,
}

impl IoctlRequest {
    posting_methods!(Option<IoctlOutput>);

    fn into_desc(self) -> Result<(Arc<SocketState>, IoctlDesc), WsaError> {
        let sock = open(&self.sock)?;
        Ok((
            sock,
            IoctlDesc {
                ioctl: self.ioctl,
                output: None,
            },
        ))
    }
}

fn run(sock: &SocketState, ioctl: Ioctl) -> Result<IoctlOutput, NtStatus> {
    let errno = |e: std::io::Error| NtStatus::from_errno(net::errno_of(&e));
    let fd = sock.fd();
    match ioctl {
        Ioctl::FionRead => net::fionread(fd).map(IoctlOutput::Value).map_err(errno),
        Ioctl::FionBio(on) => {
            sock.nonblocking.store(on, Ordering::Release);
            Ok(IoctlOutput::None)
        }
        Ioctl::KeepAlive {
            enabled,
            time,
            interval,
        } => {
            let secs =
                |d: Duration| libc::c_int::try_from(d.as_secs().max(1)).unwrap_or(libc::c_int::MAX);
            net::setsockopt::<libc::c_int>(
                fd,
                libc::SOL_SOCKET,
                libc::SO_KEEPALIVE,
                i32::from(enabled),
            )
            .map_err(errno)?;
            if enabled {
                net::setsockopt(fd, libc::IPPROTO_TCP, libc::TCP_KEEPIDLE, secs(time))
                    .map_err(errno)?;
                net::setsockopt(fd, libc::IPPROTO_TCP, libc::TCP_KEEPINTVL, secs(interval))
                    .map_err(errno)?;
            }
            Ok(IoctlOutput::None)
        }
        Ioctl::Done => Ok(IoctlOutput::None),
        Ioctl::Unsupported(_) => Err(NtStatus::NOT_SUPPORTED),
    }
}

pub(crate) struct IoctlDesc {
    ioctl: Ioctl,
    output: Option<IoctlOutput>,
}

impl OpDesc for IoctlDesc {
    type Output = Option<IoctlOutput>;

    fn queue(&self) -> QueueKind {
        QueueKind::Direct
    }

    fn attempt(&mut self, sock: &SocketState) -> Step {
        match run(sock, self.ioctl) {
            Ok(out) => {
                self.output = Some(out);
                Step::Done(Outcome::ok(0))
            }
            Err(NtStatus::NOT_SUPPORTED) => Step::DoneLater(Outcome::err(NtStatus::NOT_SUPPORTED)),
            Err(s) => Step::Done(Outcome::err(s)),
        }
    }

    fn arm(&mut self, sock: &SocketState) -> SysOp {
        SysOp::Poll {
            fd: sock.fd(),
            events: 0,
        }
    }

    fn on_result(&mut self, _: &SocketState, _: i32) -> Step {
        Step::Done(Outcome::err(NtStatus::CANCELLED))
    }

    fn into_output(self, _: &Outcome) -> Option<IoctlOutput> {
        self.output
    }
}
