//! The io_uring backend.
//!
//! # Design
//! One ring per process, shared by every thread. Submission is serialised by a mutex
//! (`sq`) and every push is submitted at once, so an operation is in the kernel by the
//! time the posting call returns; that is what lets [`Ring::cancel`] (by `user_data`)
//! and socket close work without racing the submission.
//!
//! Reaping belongs to whoever holds the **driver token** (`cq`): an application thread
//! that is about to block in a wait (leader/follower: it reaps for everybody and hands
//! results over), or else the background reaper, which sleeps on an eventfd registered
//! with the ring. While an application thread drives, the eventfd is disabled
//! (`IORING_CQ_EVENTFD_DISABLED`), so a busy server never pays for a second thread's
//! wake-ups; when it stops driving it enables the eventfd again and reaps once more, so a
//! completion that lands in between is never stranded.
//!
//! Wake-ups of a driver blocked in `io_uring_enter` are no-op SQEs tagged
//! [`tag::WAKE`](super::tag::WAKE); at most one is in flight at a time.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::time::Instant;

use io_uring::{IoUring, cqueue, opcode, squeue, types};

use super::{SysOp, tag};
use crate::sync::{AtomicBool, Mutex, MutexGuard, Ordering};

/// Ring size: submissions are flushed at once, so this bounds only bursts.
const ENTRIES: u32 = 1024;

/// The process's io_uring instance (see the module docs).
pub(crate) struct Ring {
    ring: IoUring,
    /// Serialises access to the submission queue.
    sq: Mutex<()>,
    /// The driver token: serialises access to the completion queue.
    cq: Mutex<()>,
    /// Signalled by the kernel on a completion while no application thread drives.
    eventfd: OwnedFd,
    /// A wake-up no-op is in flight (so another is not needed).
    wake_pending: AtomicBool,
}

impl std::fmt::Debug for Ring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ring")
            .field("fd", &self.ring.as_raw_fd())
            .finish_non_exhaustive()
    }
}

/// What `ovl probe` reports about the kernel's io_uring.
#[derive(Debug, Clone, Default)]
pub struct Features {
    /// Opcodes the kernel supports, by name, of those the library can use.
    pub opcodes: Vec<(&'static str, bool)>,
    /// Setup and feature flags the kernel accepted, by name.
    pub flags: Vec<(&'static str, bool)>,
}

impl Ring {
    pub(crate) fn new() -> io::Result<Self> {
        let ring = IoUring::builder().setup_clamp().build(ENTRIES)?;
        // SAFETY: plain syscall; the returned descriptor is owned below.
        let efd = unsafe { libc::eventfd(0, libc::EFD_CLOEXEC) };
        if efd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: `efd` is a fresh descriptor nobody else owns.
        let eventfd = unsafe { OwnedFd::from_raw_fd(efd) };
        ring.submitter().register_eventfd(eventfd.as_raw_fd())?;
        Ok(Self {
            ring,
            sq: Mutex::new(()),
            cq: Mutex::new(()),
            eventfd,
            wake_pending: AtomicBool::new(false),
        })
    }

    /// Checks that submission works (some sandboxes allow the setup call and refuse
    /// `io_uring_enter`): one no-op, submitted and reaped. Call before any other use.
    pub(crate) fn self_test(&self) -> io::Result<()> {
        let _token = self.cq.lock();
        self.push_entry(opcode::Nop::new().build().user_data(tag::CANCEL))?;
        while let Err(e) = self.ring.submitter().submit_and_wait(1) {
            if e.raw_os_error() != Some(libc::EINTR) {
                return Err(e);
            }
        }
        // SAFETY: the driver token gives exclusive use of the completion queue.
        let cqe = unsafe { self.ring.completion_shared() }.next();
        match cqe {
            Some(c) if c.result() < 0 => Err(io::Error::from_raw_os_error(-c.result())),
            Some(_) => Ok(()),
            None => Err(io::Error::from_raw_os_error(libc::EIO)),
        }
    }

    /// Starts `op`, tagged `user_data`, and submits it to the kernel.
    ///
    /// # Safety
    /// Every pointer in `op` must stay valid (and not be moved) until the operation's
    /// result has been reaped.
    pub(crate) unsafe fn push(&self, op: &SysOp, user_data: u64) -> io::Result<()> {
        self.push_entry(build(op).user_data(user_data))
    }

    /// Asks the kernel to cancel the operation tagged `user_data`.
    pub(crate) fn cancel(&self, user_data: u64) -> io::Result<()> {
        self.push_entry(
            opcode::AsyncCancel::new(user_data)
                .build()
                .user_data(tag::CANCEL),
        )
    }

    /// Makes a driver blocked in [`Driver::wait`] return.
    pub(crate) fn wake(&self) {
        if self.wake_pending.swap(true, Ordering::AcqRel) {
            return;
        }
        if self
            .push_entry(opcode::Nop::new().build().user_data(tag::WAKE))
            .is_err()
        {
            self.wake_pending.store(false, Ordering::Release);
        }
    }

    fn push_entry(&self, entry: squeue::Entry) -> io::Result<()> {
        let _guard = self.sq.lock();
        for _ in 0..64 {
            // SAFETY: the `sq` lock gives this thread exclusive use of the submission
            // queue; the SubmissionQueue is dropped (and synced) before the lock.
            let mut sq = unsafe { self.ring.submission_shared() };
            // SAFETY: the entry's pointers are valid until its result is reaped (the
            // contract of `push`; cancels and no-ops carry no pointers).
            let pushed = unsafe { sq.push(&entry) }.is_ok();
            drop(sq);
            if pushed {
                return self.submit_all();
            }
            // Full: flush what is there and try again.
            self.submit_all()?;
        }
        Err(io::Error::from_raw_os_error(libc::EBUSY))
    }

    fn submit_all(&self) -> io::Result<()> {
        loop {
            match self.ring.submitter().submit() {
                Ok(_) => return Ok(()),
                Err(e) if e.raw_os_error() == Some(libc::EINTR) => continue,
                // The CQ is overflowing; the kernel keeps the entries (NODROP) and the
                // next driver's enter will flush them.
                Err(e) if e.raw_os_error() == Some(libc::EBUSY) => return Ok(()),
                Err(e) => return Err(e),
            }
        }
    }

    /// Whether the kernel holds completions that did not fit in the CQ.
    fn cq_overflowed(&self) -> bool {
        let _guard = self.sq.lock();
        // SAFETY: the `sq` lock gives exclusive use of the submission queue; only its
        // flags are read.
        unsafe { self.ring.submission_shared() }.cq_overflow()
    }

    /// Takes the driver token if nobody holds it.
    pub(crate) fn try_drive(&self) -> Option<Driver<'_>> {
        self.cq.try_lock().map(|guard| Driver {
            ring: self,
            _guard: guard,
        })
    }

    /// Takes the driver token, waiting for the current holder to release it.
    pub(crate) fn drive(&self) -> Driver<'_> {
        Driver {
            ring: self,
            _guard: self.cq.lock(),
        }
    }

    /// Blocks the background reaper until a completion arrives while no application
    /// thread is driving.
    pub(crate) fn wait_for_reaper_work(&self) {
        let mut value = 0u64;
        loop {
            // SAFETY: reads 8 bytes into a live u64 from the eventfd we own.
            let n = unsafe {
                libc::read(
                    self.eventfd.as_raw_fd(),
                    (&raw mut value).cast(),
                    size_of::<u64>(),
                )
            };
            if n >= 0 || io::Error::last_os_error().raw_os_error() != Some(libc::EINTR) {
                return;
            }
        }
    }

    /// The ring's descriptor (for diagnostics).
    pub(crate) fn raw_fd(&self) -> RawFd {
        self.ring.as_raw_fd()
    }

    /// Probes which of the opcodes and setup flags the library cares about the kernel has.
    pub(crate) fn features(&self) -> Features {
        let mut probe = io_uring::Probe::new();
        let have_probe = self.ring.submitter().register_probe(&mut probe).is_ok();
        let op = |code| have_probe && probe.is_supported(code);
        let opcodes = vec![
            ("RECVMSG", op(opcode::RecvMsg::CODE)),
            ("SENDMSG", op(opcode::SendMsg::CODE)),
            ("RECV", op(opcode::Recv::CODE)),
            ("SEND", op(opcode::Send::CODE)),
            ("ACCEPT", op(opcode::Accept::CODE)),
            ("CONNECT", op(opcode::Connect::CODE)),
            ("POLL_ADD", op(opcode::PollAdd::CODE)),
            ("ASYNC_CANCEL", op(opcode::AsyncCancel::CODE)),
            ("SEND_ZC", op(opcode::SendZc::CODE)),
            ("MSG_RING", op(opcode::MsgRingData::CODE)),
            ("SOCKET", op(opcode::Socket::CODE)),
            ("PROVIDE_BUFFERS", op(opcode::ProvideBuffers::CODE)),
        ];
        let params = self.ring.params();
        let try_flags = |f: fn(&mut io_uring::Builder) -> &mut io_uring::Builder| {
            let mut b = IoUring::builder();
            f(&mut b);
            b.build(8).is_ok()
        };
        let flags = vec![
            ("FEAT_NODROP", params.is_feature_nodrop()),
            ("FEAT_FAST_POLL", params.is_feature_fast_poll()),
            ("FEAT_EXT_ARG", params.is_feature_ext_arg()),
            (
                "SETUP_SINGLE_ISSUER",
                try_flags(|b| b.setup_single_issuer()),
            ),
            (
                "SETUP_DEFER_TASKRUN",
                try_flags(|b| b.setup_single_issuer().setup_defer_taskrun()),
            ),
            ("SETUP_COOP_TASKRUN", try_flags(|b| b.setup_coop_taskrun())),
            ("SETUP_SQPOLL", try_flags(|b| b.setup_sqpoll(100))),
        ];
        Features { opcodes, flags }
    }
}

/// The driver token (see the module docs): the exclusive right to reap.
pub(crate) struct Driver<'a> {
    ring: &'a Ring,
    _guard: MutexGuard<'a, ()>,
}

impl Driver<'_> {
    /// Blocks in the kernel until at least one result is ready, a [`Ring::wake`], or
    /// `deadline`.
    pub(crate) fn wait(&self, deadline: Option<Instant>) {
        let submitter = self.ring.ring.submitter();
        let r = match deadline {
            None => submitter.submit_and_wait(1),
            Some(d) => {
                let left = d.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    return;
                }
                let ts = types::Timespec::from(left);
                submitter.submit_with_args(1, &types::SubmitArgs::new().timespec(&ts))
            }
        };
        // ETIME (timeout), EINTR (signal) and EBUSY (overflow being flushed) all mean
        // "look again"; other errors would repeat at once and are left to the caller's loop.
        drop(r);
    }

    /// Hands every ready result to `deliver`, as `(user_data, res, flags)`, and reports
    /// how many operation results there were (wake-ups and cancel acknowledgements are
    /// consumed here and not counted).
    pub(crate) fn reap(&self, mut deliver: impl FnMut(u64, i32, u32)) -> usize {
        let mut count = 0;
        let mut batch: Vec<(u64, i32, u32)> = Vec::new();
        loop {
            batch.clear();
            // SAFETY: the driver token gives this thread exclusive use of the completion
            // queue; the CompletionQueue is dropped (syncing the head) before `deliver`
            // runs, so delivery may push new entries freely.
            unsafe {
                let cq = self.ring.ring.completion_shared();
                batch.extend(cq.map(|c: cqueue::Entry| (c.user_data(), c.result(), c.flags())));
            }
            if batch.is_empty() {
                // Completions beyond the CQ's size wait in the kernel's overflow list
                // (FEAT_NODROP); an enter flushes them back into the CQ.
                if self.ring.cq_overflowed() {
                    let _ = self.ring.ring.submitter().submit();
                    continue;
                }
                return count;
            }
            for &(user_data, res, flags) in &batch {
                match user_data {
                    tag::WAKE => self.ring.wake_pending.store(false, Ordering::Release),
                    tag::CANCEL => {}
                    _ => {
                        count += 1;
                        deliver(user_data, res, flags);
                    }
                }
            }
        }
    }

    /// Turns the background reaper's eventfd notifications on or off.
    pub(crate) fn set_reaper_notify(&self, on: bool) {
        // SAFETY: exclusive completion-queue access under the driver token (see `reap`).
        let cq = unsafe { self.ring.ring.completion_shared() };
        if on {
            cq.enable_eventfd();
        } else {
            cq.disable_eventfd();
        }
    }
}

/// Builds the SQE for a neutral operation description.
fn build(op: &SysOp) -> squeue::Entry {
    const POLL_FIRST: u16 = 1; // IORING_RECVSEND_POLL_FIRST
    match *op {
        SysOp::RecvMsg {
            fd,
            msg,
            flags,
            poll_first,
        } => opcode::RecvMsg::new(types::Fd(fd), msg)
            .flags(flags.cast_unsigned())
            .ioprio(if poll_first { POLL_FIRST } else { 0 })
            .build(),
        SysOp::SendMsg {
            fd,
            msg,
            flags,
            poll_first,
        } => opcode::SendMsg::new(types::Fd(fd), msg)
            .flags(flags.cast_unsigned())
            .ioprio(if poll_first { POLL_FIRST } else { 0 })
            .build(),
        SysOp::Accept {
            fd,
            addr,
            len,
            flags,
        } => opcode::Accept::new(types::Fd(fd), addr, len)
            .flags(flags)
            .build(),
        SysOp::Poll { fd, events } => opcode::PollAdd::new(types::Fd(fd), events).build(),
    }
}
