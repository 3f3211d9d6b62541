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
    /// A request the caller has already carried out whose overlapped form Windows
    /// reports as pending and then completes with this status and byte count
    /// (`SIO_GET_INTERFACE_LIST`). Run synchronously: the status as an error, if any.
    Later {
        /// The completion status.
        status: NtStatus,
        /// The completion's byte count.
        bytes: usize,
    },
    /// `SIO_ADDRESS_LIST_CHANGE`. Posted, it pends until it is cancelled or the socket
    /// closed (a change of the host's addresses is not reported to posted requests).
    /// Run synchronously: `WSAEWOULDBLOCK` on a non-blocking socket, else it blocks
    /// until the host's address list changes (a netlink notification of an added or
    /// removed address) or the socket is closed.
    AddressListChange,
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
        Ioctl::Later { status, .. } if status.is_success() => Ok(IoctlOutput::None),
        Ioctl::Later { status, .. } => Err(status),
        Ioctl::AddressListChange => {
            if sock.nonblocking.load(Ordering::Acquire) {
                return Err(NtStatus::from_errno(libc::EAGAIN));
            }
            let watch = address_watch().map_err(errno)?;
            // Blocks until a change, waking each second to see whether the socket was
            // closed meanwhile (Windows, too, blocks until a change).
            loop {
                let mut pfd = libc::pollfd {
                    fd: std::os::fd::AsRawFd::as_raw_fd(&watch),
                    events: libc::POLLIN,
                    revents: 0,
                };
                // SAFETY: one valid pollfd for the duration of the call.
                let n = unsafe { libc::poll(&raw mut pfd, 1, 1000) };
                if n > 0 {
                    return Ok(IoctlOutput::None);
                }
                if sock.fd() < 0 {
                    return Err(NtStatus::CANCELLED);
                }
            }
        }
    }
}

/// A descriptor that becomes readable when an address is added to or removed from an
/// interface: a netlink route socket subscribed to the address groups, or, where
/// netlink is unavailable (some sandboxes), an eventfd that never does.
fn address_watch() -> std::io::Result<std::os::fd::OwnedFd> {
    use std::os::fd::FromRawFd;
    // SAFETY: plain socket(2) call; the result is checked before use.
    let fd = unsafe {
        libc::socket(
            libc::AF_NETLINK,
            libc::SOCK_RAW | libc::SOCK_CLOEXEC | libc::SOCK_NONBLOCK,
            libc::NETLINK_ROUTE,
        )
    };
    if fd >= 0 {
        // SAFETY: `fd` is a fresh descriptor that nothing else owns.
        let owned = unsafe { std::os::fd::OwnedFd::from_raw_fd(fd) };
        // SAFETY: an all-zero sockaddr_nl is valid.
        let mut sa: libc::sockaddr_nl = unsafe { std::mem::zeroed() };
        sa.nl_family = libc::sa_family_t::try_from(libc::AF_NETLINK).unwrap_or_default();
        sa.nl_groups = (libc::RTMGRP_IPV4_IFADDR | libc::RTMGRP_IPV6_IFADDR).cast_unsigned();
        // SAFETY: `sa` is a valid sockaddr_nl of the stated size.
        let r = unsafe {
            libc::bind(
                fd,
                (&raw const sa).cast(),
                libc::socklen_t::try_from(size_of::<libc::sockaddr_nl>()).unwrap_or(0),
            )
        };
        if r == 0 {
            return Ok(owned);
        }
    }
    // SAFETY: plain eventfd(2) call; the result is checked before use.
    let fd = unsafe { libc::eventfd(0, libc::EFD_CLOEXEC | libc::EFD_NONBLOCK) };
    if fd < 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: `fd` is a fresh descriptor that nothing else owns.
    Ok(unsafe { std::os::fd::OwnedFd::from_raw_fd(fd) })
}

pub(crate) struct IoctlDesc {
    ioctl: Ioctl,
    output: Option<IoctlOutput>,
}

impl OpDesc for IoctlDesc {
    type Output = Option<IoctlOutput>;

    fn queue(&self) -> QueueKind {
        match self.ioctl {
            Ioctl::AddressListChange => QueueKind::Park,
            _ => QueueKind::Direct,
        }
    }

    fn attempt(&mut self, sock: &SocketState) -> Step {
        match self.ioctl {
            Ioctl::Later { status, bytes } => {
                let o = if status.is_success() {
                    Outcome::ok(bytes)
                } else {
                    Outcome::err(status)
                };
                return Step::DoneLater(o);
            }
            // Parked (never armed) until cancelled or closed.
            Ioctl::AddressListChange => return Step::WouldBlock,
            _ => {}
        }
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
