//! Winsock's overlapped socket I/O model on Linux, over io_uring.
//!
//! # The model
//! You **post** an operation on a socket (receive, send, accept, connect, ioctl), bound
//! to an [`Overlapped`] record, and the call returns at once: [`Status::Immediate`] when
//! it completed during the call, or [`Status::Pending`] (`WSA_IO_PENDING`). Completion is
//! learned one of two ways, as on Windows:
//! - **event objects**: the record's [`Event`] is signalled; wait for up to 64 with
//!   [`wait_any`]/[`wait_all`], read the result with [`Overlapped::result`] (or take the
//!   buffers back from the [`Posted`] handle);
//! - **completion routines**: a closure queued to the issuing thread, run only when that
//!   thread enters an alertable wait ([`sleep_alertable`], or an event wait with
//!   `alertable = true`), which then reports [`WaitOutcome::IoCompletion`];
//! - **completion ports**: a socket associated with a [`CompletionPort`] queues a
//!   [`Packet`] there for each completion, which any thread dequeues.
//!
//! Immediate completion still notifies; immediate failure notifies nothing. Receives
//! posted on one socket fill in posting order. Buffers are taken by value and given
//! back with the result, so the kernel never writes memory safe code can free.
//!
//! The kernel side is io_uring, or epoll readiness with completions emulated in user
//! space where io_uring is unavailable (containers' seccomp profiles, the
//! `kernel.io_uring_disabled` sysctl): chosen once per process by [`set_backend`] or
//! `OVL_BACKEND=auto|uring|poll` (see [`Backend`]); [`probe`] says which runs and why.
//!
//! # Who delivers completions
//! Nobody has to call a "run" function. A thread blocked in any of the library's waits
//! (an event wait, an alertable sleep, [`Overlapped::result`] with `wait`, a port's
//! dequeue, [`executor::block_on`] or an idle executor worker) reaps completions for
//! every thread while nobody else does, so the thread that waits for a completion
//! usually receives it without a thread switch; otherwise a background thread reaps
//! them (and, with the `tokio` feature, a tokio runtime's reactor does,
//! `tokio_driver`). So a program whose threads serve connections should not wait for
//! its shutdown signal through the library on another thread: that thread would become
//! the one reaping, and every completion would then be handed over to a worker. Wait
//! for it on a plain `std` condition variable or channel instead (`ovl serve` does).
//!
//! # Winsock to Rust
//! | Winsock | here |
//! |---|---|
//! | `WSASocket`, `socket` | [`Socket::new`], [`Socket::tcp_v4`], ... |
//! | `bind`, `listen`, `accept`, `connect` | [`Socket::bind`], [`Socket::listen`], [`Socket::accept`], [`Socket::connect`] |
//! | `WSARecv`, `WSARecvFrom` | [`Recv`], [`RecvFrom`] |
//! | `WSASend`, `WSASendTo` | [`Send`], [`SendTo`] |
//! | `AcceptEx`, `ConnectEx` | [`Accept`], [`Connect`] |
//! | `WSAIoctl`, `ioctlsocket` | [`Ioctl`] |
//! | `WSACreateEvent`, `WSASetEvent`, `WSAResetEvent` | [`Event::new_manual`], [`Event::set`], [`Event::reset`] |
//! | `WSAWaitForMultipleEvents` | [`wait_any`], [`wait_all`] |
//! | `WSAGetOverlappedResult`, `HasOverlappedIoCompleted` | [`Overlapped::result`], [`Overlapped::is_complete`] |
//! | `SleepEx(ms, TRUE)` | [`sleep_alertable`] |
//! | `CreateIoCompletionPort` | [`CompletionPort::new`], [`CompletionPort::associate`] |
//! | `GetQueuedCompletionStatus(Ex)` | [`CompletionPort::dequeue`], [`CompletionPort::dequeue_many`] |
//! | `PostQueuedCompletionStatus` | [`CompletionPort::post`] |
//! | `SetFileCompletionNotificationModes(FILE_SKIP_COMPLETION_PORT_ON_SUCCESS)` | [`Socket::set_skip_completion_port_on_success`] |
//! | `hEvent` with the low bit set | [`Overlapped::with_event_no_port`] |
//! | `CancelIo`, `CancelIoEx` | [`Socket::cancel_from_this_thread`], [`Socket::cancel_all`], [`Socket::cancel`] |
//! | `closesocket` | [`Socket::close`] (or drop) |
//! | `WSAGetLastError` | the `Err(WsaError)` of each call |
//!
//! # Examples
//! Event notification, as in the seeds' event server:
//! ```no_run
//! use overlapped::{Event, Overlapped, Recv, Socket, wait_any};
//! # fn main() -> Result<(), overlapped::WsaError> {
//! let listener = Socket::listen_on("127.0.0.1:6000".parse().unwrap(), 5)?;
//! let (conn, _) = listener.accept()?;
//! let ev = Event::new_manual();
//! let ov = Overlapped::with_event(&ev);
//! let posted = Recv::new(&conn, vec![0u8; 1024]).post(&ov)?;
//! if posted.immediate().is_none() {
//!     wait_any(&[&ev], None, false)?;
//! }
//! let (result, buf) = posted.wait();
//! println!("{}", String::from_utf8_lossy(&buf[..result?.bytes]));
//! # Ok(()) }
//! ```
//! A completion routine, as in the seeds' routine server:
//! ```no_run
//! use overlapped::{Overlapped, Recv, Socket, sleep_alertable, SleepOutcome};
//! # fn main() -> Result<(), overlapped::WsaError> {
//! # let conn = Socket::tcp_v4()?;
//! let ov = Overlapped::new();
//! Recv::new(&conn, vec![0u8; 1024]).post_with_routine(&ov, |c| {
//!     let n = c.result.map(|t| t.bytes).unwrap_or(0);
//!     println!("received {:?}", &c.output[..n]);
//! })?;
//! assert_eq!(sleep_alertable(None), SleepOutcome::IoCompletion);
//! # Ok(()) }
//! ```

mod alertable;
mod buf;
mod engine;
mod error;
mod event;
pub mod ops;
mod overlapped;
mod port;
mod socket;
mod sync;
mod sys;

#[cfg(all(test, loom))]
mod loom_tests;

pub use alertable::{AlertableBlocking, ApcTarget, SleepOutcome, sleep, sleep_alertable};
pub use buf::{BufList, IoBuf, IoBufMut, IoBufs, IoBufsMut, RawBuf, Slice};
pub use engine::op::Completion;
pub use engine::{BackendInfo, probe};
pub use error::{NtStatus, WsaError, win32};
pub use event::{Event, EventWait, MAXIMUM_WAIT_EVENTS, WaitOutcome, wait_all, wait_any};
pub use ops::{
    Accept, Accepted, AddressHook, Connect, Ioctl, IoctlOutput, IoctlRequest, Posted, Received,
    ReceivedMsg, Recv, RecvFrom, RecvMsg, Send, SendTo, Status, WaitReady,
};
pub use overlapped::{Overlapped, Transfer};
pub use port::{CompletionPort, DequeueError, Packet};
pub use socket::{Family, Kind, PollEntry, Readiness, Shutdown, Socket, poll};
pub use sys::uring::Features;
pub use sys::{BACKEND_ENV, Backend, InvalidBackend, set_backend};
pub mod executor;
#[cfg(all(test, loom))]
mod executor_loom;
pub mod future;
pub mod time;
#[cfg(feature = "tokio")]
pub mod tokio_driver;
pub use future::{OpFuture, OpResult};
