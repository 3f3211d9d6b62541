//! The readiness backend: epoll, emulating completions.
//!
//! # Design
//! io_uring performs an operation in the kernel and posts its result; epoll only says
//! that a descriptor *may* be ready. This backend turns the second into the first. The
//! engine has already tried the syscall and seen `EAGAIN` before it arms anything, so
//! [`Ring::push`] only records the operation and registers interest in its descriptor
//! (`EPOLLIN` for receives and accepts, `EPOLLOUT` for sends, the asked mask for polls).
//! When epoll reports the descriptor, whoever holds the driver token performs each
//! interested operation's syscall in user space, non-blocking: `EAGAIN` keeps it
//! waiting, anything else is its result (`>= 0` or `-errno`, as io_uring would have
//! reported it), produced once and handed to the engine by [`Driver::reap`]. Readiness
//! is only a hint; the syscall decides. A spurious or stale event therefore costs one
//! `EAGAIN` and can never complete an operation wrongly.
//!
//! **One registration per descriptor.** epoll keeps one interest set per descriptor,
//! but a socket may have a receive, a send and a readiness poll armed at once (the heads
//! of its three queues). The table keeps every armed operation of a descriptor in one
//! entry and registers the union of their interests, `EPOLLONESHOT`: an event disarms
//! the registration, the operations that were tried and finished leave, and the rest
//! re-arm it. Every push re-arms too (`EPOLL_CTL_MOD`, or `ADD` when epoll no longer
//! knows the descriptor), so a registration that vanished with a closed descriptor
//! never strands an operation on a reused number.
//!
//! **Close and cancel.** The table lock is held while an operation's syscall runs, and
//! [`Ring::cancel`] takes the operation out of the table under that lock: after it
//! returns, the backend never touches the operation's memory or descriptor again, and
//! the operation's only result is the `-ECANCELED` that cancel queued (a result produced
//! before the cancel wins: cancel then finds nothing). The engine cancels the armed
//! head of every queue before it closes a socket, so no operation of a closed socket is
//! left in the table when its descriptor number is reused; epoll drops the registration
//! itself when the file goes away.
//!
//! **Wake-ups.** An eventfd sits in the epoll set, level-triggered; [`Ring::wake`]
//! writes it (at most once until a reap drains it: [`WakeLatch`], model-checked with
//! loom), so a driver blocked in `epoll_wait` returns. Cancels use it too, so a queued
//! `-ECANCELED` is reaped promptly.
//!
//! **Same results as io_uring.** Receives and sends add `MSG_DONTWAIT`; a poll's result
//! is `poll(2)`'s `revents` (the requested events plus errors and hang-ups, as
//! `IORING_OP_POLL_ADD` reports them); a stream receive with `MSG_WAITALL` keeps
//! reading until its buffers are full, the stream ends or an error comes, and reports
//! the total, as io_uring does ([`op::WaitAll`]).
//!
//! **The background reaper** must run when readiness arrives while no application
//! thread drives, and must not be woken while one does (DESIGN.md's guarantees 1 and 4,
//! as the io_uring backend's eventfd toggling gives them). Nobody sits in `epoll_wait`
//! while nobody drives, so the kernel must say that the epoll set became ready: the
//! reaper sleeps in a second epoll instance (`reaper_ep`) that watches the first one,
//! one-shot. [`Driver::set_reaper_notify`] disarms that watch while an application
//! thread drives and re-arms it when it leaves; re-arming reports an epoll set that is
//! already ready at once, so readiness that arrived in between is never stranded.

use std::cell::RefCell;
use std::collections::HashMap;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::time::Instant;

mod op;
mod wake;

use self::op::Pending;
use self::wake::{EventFd, WakeLatch};
use super::{SysOp, uring::Features};
use crate::sync::{Mutex, MutexGuard};

/// The `epoll_event` key of the wake-up eventfd (descriptors are never negative).
const WAKE_KEY: u64 = u64::MAX;

/// Events taken from epoll per call.
const BATCH: usize = 256;

/// Errors and hang-ups: epoll reports them whatever the interest; every operation of
/// the descriptor is tried on them.
const ALWAYS: u32 = (libc::EPOLLERR | libc::EPOLLHUP).cast_unsigned();

/// The process's epoll instance (see the module docs).
pub(crate) struct Ring {
    /// The epoll set of every descriptor with an armed operation, and of the wake-up
    /// eventfd.
    epfd: OwnedFd,
    /// The wake-up eventfd (readable makes `epfd` ready) and its latch.
    wake: WakeLatch<EventFd>,
    /// Watches `epfd` (one-shot) for the background reaper.
    reaper_ep: OwnedFd,
    /// Armed operations by descriptor, and results produced outside a reap.
    table: Mutex<Table>,
    /// The driver token; it guards the events a [`Driver::wait`] took from epoll and
    /// the next [`Driver::reap`] handles.
    cq: Mutex<Vec<libc::epoll_event>>,
    /// Whether the reaper's watch is armed, and whether an application thread drives.
    gate: Mutex<Gate>,
}

impl std::fmt::Debug for Ring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("poll::Ring")
            .field("epfd", &self.epfd.as_raw_fd())
            .finish_non_exhaustive()
    }
}

/// The reaper's gate (see the module docs).
#[derive(Debug, Default)]
struct Gate {
    /// An application thread holds the driver token and reaps for everybody.
    app_driving: bool,
    /// `epfd` is armed in `reaper_ep`.
    armed: bool,
}

/// Armed operations, by descriptor (see the module docs).
#[derive(Default)]
struct Table {
    /// Per descriptor: its armed operations and whether epoll knows it. Entries are kept
    /// when their operations leave, so re-arming the same socket costs one `MOD`.
    fds: HashMap<RawFd, FdEntry>,
    /// Which descriptor each armed operation waits on.
    by_user: HashMap<u64, RawFd>,
    /// Results produced outside a reap (cancels), waiting for the next one.
    done: Vec<(u64, i32)>,
}

#[derive(Default)]
struct FdEntry {
    ops: Vec<Pending>,
    /// epoll has (as far as we know) a registration for this descriptor number.
    registered: bool,
}

impl Ring {
    pub(crate) fn new() -> io::Result<Self> {
        let epfd = epoll_create()?;
        let wake = WakeLatch::new(EventFd::new()?);
        ctl(
            epfd.as_raw_fd(),
            libc::EPOLL_CTL_ADD,
            wake.signal.as_raw_fd(),
            libc::EPOLLIN.cast_unsigned(),
            WAKE_KEY,
        )?;
        let reaper_ep = epoll_create()?;
        // Registered disarmed: the reaper arms it when it goes to sleep.
        ctl(
            reaper_ep.as_raw_fd(),
            libc::EPOLL_CTL_ADD,
            epfd.as_raw_fd(),
            libc::EPOLLONESHOT.cast_unsigned(),
            0,
        )?;
        Ok(Self {
            epfd,
            wake,
            reaper_ep,
            table: Mutex::new(Table::default()),
            cq: Mutex::new(Vec::with_capacity(BATCH)),
            gate: Mutex::new(Gate::default()),
        })
    }

    /// Arms `op`, tagged `user_data`: its result is produced once its descriptor is
    /// ready (see the module docs).
    ///
    /// # Errors
    /// The `epoll_ctl` error if the descriptor cannot be watched (nothing is armed then).
    ///
    /// # Safety
    /// Every pointer in `op` must stay valid (and not be moved) until the operation's
    /// result has been reaped.
    pub(crate) unsafe fn push(&self, op: &SysOp, user_data: u64) -> io::Result<()> {
        let (fd, interest) = op::interest_of(op);
        let mut t = self.table.lock();
        let entry = t.fds.entry(fd).or_default();
        entry.ops.push(Pending::new(*op, user_data, interest));
        if let Err(e) = self.arm(fd, entry) {
            entry.ops.pop();
            return Err(e);
        }
        t.by_user.insert(user_data, fd);
        Ok(())
    }

    /// Cancels the operation tagged `user_data`: if it is still armed, it leaves the
    /// table and its result is `-ECANCELED`; if its result was already produced, that
    /// result stands and nothing happens.
    pub(crate) fn cancel(&self, user_data: u64) -> io::Result<()> {
        let mut t = self.table.lock();
        let Some(fd) = t.by_user.remove(&user_data) else {
            return Ok(());
        };
        if let Some(entry) = t.fds.get_mut(&fd) {
            entry.ops.retain(|p| p.user_data != user_data);
        }
        // A registration left armed for it reports at most one spurious event.
        t.done.push((user_data, -libc::ECANCELED));
        drop(t);
        self.wake();
        Ok(())
    }

    /// Makes a driver blocked in [`Driver::wait`] return (and the reaper run, if no
    /// application thread drives).
    pub(crate) fn wake(&self) {
        self.wake.wake();
    }

    /// Takes the driver token if nobody holds it.
    pub(crate) fn try_drive(&self) -> Option<Driver<'_>> {
        self.cq.try_lock().map(|guard| Driver {
            ring: self,
            events: RefCell::new(guard),
        })
    }

    /// Takes the driver token, waiting for the current holder to release it.
    pub(crate) fn drive(&self) -> Driver<'_> {
        Driver {
            ring: self,
            events: RefCell::new(self.cq.lock()),
        }
    }

    /// Blocks the background reaper until the epoll set is ready while no application
    /// thread drives (see the module docs).
    pub(crate) fn wait_for_reaper_work(&self) {
        loop {
            let timeout = {
                let mut g = self.gate.lock();
                if !g.app_driving && !g.armed {
                    g.armed = self.arm_reaper(true);
                }
                // Should arming ever fail, look again soon rather than sleep forever.
                if g.armed || g.app_driving { -1 } else { 10 }
            };
            let mut ev = libc::epoll_event { events: 0, u64: 0 };
            // SAFETY: one writable epoll_event; the descriptor is ours.
            let n =
                unsafe { libc::epoll_wait(self.reaper_ep.as_raw_fd(), &raw mut ev, 1, timeout) };
            if n == 0 && timeout >= 0 {
                return;
            }
            if n > 0 {
                // The one-shot watch fired and is disarmed now.
                self.gate.lock().armed = false;
                return;
            }
            if n < 0 && io::Error::last_os_error().raw_os_error() != Some(libc::EINTR) {
                return;
            }
        }
    }

    /// Arms (or disarms) the reaper's watch of the epoll set; returns whether it is armed.
    fn arm_reaper(&self, on: bool) -> bool {
        let events = if on {
            (libc::EPOLLIN | libc::EPOLLONESHOT).cast_unsigned()
        } else {
            libc::EPOLLONESHOT.cast_unsigned()
        };
        let r = ctl(
            self.reaper_ep.as_raw_fd(),
            libc::EPOLL_CTL_MOD,
            self.epfd.as_raw_fd(),
            events,
            0,
        );
        // If arming fails the reaper is not armed; if disarming fails it still is.
        r.is_ok() == on
    }

    /// The epoll descriptor (for diagnostics).
    pub(crate) fn raw_fd(&self) -> RawFd {
        self.epfd.as_raw_fd()
    }

    /// Nothing to probe: epoll has no optional features the library uses.
    pub(crate) fn features(&self) -> Features {
        Features::default()
    }

    /// Registers the union of `entry`'s interests, one-shot (see the module docs).
    fn arm(&self, fd: RawFd, entry: &mut FdEntry) -> io::Result<()> {
        let events =
            entry.ops.iter().fold(0, |m, p| m | p.interest) | libc::EPOLLONESHOT.cast_unsigned();
        let key = u64::from(fd.cast_unsigned());
        let epfd = self.epfd.as_raw_fd();
        let first = if entry.registered {
            libc::EPOLL_CTL_MOD
        } else {
            libc::EPOLL_CTL_ADD
        };
        let r = match ctl(epfd, first, fd, events, key) {
            // The descriptor was closed (and maybe reused) since: register it afresh.
            Err(e) if e.raw_os_error() == Some(libc::ENOENT) => {
                ctl(epfd, libc::EPOLL_CTL_ADD, fd, events, key)
            }
            // Registered under this number by an earlier entry's life.
            Err(e) if e.raw_os_error() == Some(libc::EEXIST) => {
                ctl(epfd, libc::EPOLL_CTL_MOD, fd, events, key)
            }
            r => r,
        };
        entry.registered = r.is_ok();
        r
    }

    /// Handles one epoll report for `fd`: tries each interested operation, moves the
    /// finished ones' results to `out`, and re-arms the descriptor for the rest.
    fn on_ready(&self, t: &mut Table, fd: RawFd, revents: u32, out: &mut Vec<(u64, i32)>) {
        let Some(entry) = t.fds.get_mut(&fd) else {
            return;
        };
        let mut i = 0;
        while i < entry.ops.len() {
            let p = &mut entry.ops[i];
            if revents & (p.interest | ALWAYS) == 0 {
                i += 1;
                continue;
            }
            // SAFETY: `p` is still armed (it is in the table, under its lock), so its
            // pointers are valid (contract of `push`), and its descriptor is open (the
            // engine cancels, which removes it, before closing).
            match unsafe { p.perform() } {
                None => i += 1,
                Some(res) => {
                    let p = entry.ops.swap_remove(i);
                    t.by_user.remove(&p.user_data);
                    out.push((p.user_data, res));
                }
            }
        }
        if entry.ops.is_empty() {
            return;
        }
        if let Err(e) = self.arm(fd, entry) {
            // The descriptor can no longer be watched: fail what waits on it.
            let errno = e.raw_os_error().unwrap_or(libc::EIO);
            for p in entry.ops.drain(..) {
                t.by_user.remove(&p.user_data);
                out.push((p.user_data, -errno));
            }
        }
    }
}

/// The driver token (see the module docs): the exclusive right to reap.
pub(crate) struct Driver<'a> {
    ring: &'a Ring,
    /// The token's guard, over the events taken by `wait` for the next `reap`.
    events: RefCell<MutexGuard<'a, Vec<libc::epoll_event>>>,
}

impl std::fmt::Debug for Driver<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("poll::Driver").finish_non_exhaustive()
    }
}

impl Driver<'_> {
    /// Blocks in `epoll_wait` until a descriptor is ready, a [`Ring::wake`], or
    /// `deadline`; what it finds waits for the next [`Driver::reap`].
    pub(crate) fn wait(&self, deadline: Option<Instant>) {
        let timeout = match deadline {
            None => -1,
            Some(d) => {
                let left = d.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    return;
                }
                // Round up: a wait that returns early would only spin.
                i32::try_from(left.as_nanos().div_ceil(1_000_000)).unwrap_or(i32::MAX)
            }
        };
        let mut events = self.events.borrow_mut();
        if events.is_empty() {
            // EINTR (a signal) means "look again"; the caller loops.
            let _ = epoll_into(self.ring.epfd.as_raw_fd(), &mut events, timeout);
        }
    }

    /// Performs the operations whose descriptors are ready, hands every result to
    /// `deliver` as `(user_data, res, 0)`, and reports how many there were.
    pub(crate) fn reap(&self, mut deliver: impl FnMut(u64, i32, u32)) -> usize {
        let ring = self.ring;
        let mut count = 0;
        let mut results = Vec::new();
        loop {
            let full = {
                let mut events = self.events.borrow_mut();
                if events.is_empty() {
                    let _ = epoll_into(ring.epfd.as_raw_fd(), &mut events, 0);
                }
                let full = events.len() == BATCH;
                // Drain the wake-up first: a cancel queues its result before it wakes,
                // so everything queued by then is in `done` when the table is read.
                if events.iter().any(|e| e.u64 == WAKE_KEY) {
                    ring.wake.drain();
                }
                let mut t = ring.table.lock();
                for ev in events.drain(..) {
                    if ev.u64 != WAKE_KEY
                        && let Ok(fd) = RawFd::try_from(ev.u64)
                    {
                        ring.on_ready(&mut t, fd, ev.events, &mut results);
                    }
                }
                results.append(&mut t.done);
                full
            };
            // Delivery re-arms and cancels: no lock of ours is held here.
            for (user_data, res) in results.drain(..) {
                count += 1;
                deliver(user_data, res, 0);
            }
            if !full {
                return count;
            }
        }
    }

    /// Arms or disarms the background reaper's watch (see the module docs).
    pub(crate) fn set_reaper_notify(&self, on: bool) {
        let mut g = self.ring.gate.lock();
        g.app_driving = !on;
        if on != g.armed {
            g.armed = self.ring.arm_reaper(on);
        }
    }
}

fn epoll_create() -> io::Result<OwnedFd> {
    // SAFETY: plain syscall; the descriptor is owned just below.
    let fd = unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `fd` is a fresh descriptor nobody else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

fn ctl(epfd: RawFd, op: i32, fd: RawFd, events: u32, key: u64) -> io::Result<()> {
    let mut ev = libc::epoll_event { events, u64: key };
    // SAFETY: `ev` is a live epoll_event; the kernel copies it.
    crate::error::cvt(unsafe { libc::epoll_ctl(epfd, op, fd, &raw mut ev) }).map(drop)
}

/// Appends what `epoll_wait` reports (at most [`BATCH`] events) to `events`.
fn epoll_into(epfd: RawFd, events: &mut Vec<libc::epoll_event>, timeout: i32) -> io::Result<()> {
    events.clear();
    events.reserve(BATCH);
    let cap = i32::try_from(BATCH).unwrap_or(i32::MAX);
    // SAFETY: the vector has room for BATCH events; the kernel writes at most `cap`.
    let n = unsafe { libc::epoll_wait(epfd, events.as_mut_ptr(), cap, timeout) };
    let n = crate::error::cvt(n)?;
    // SAFETY: the kernel initialised the first `n <= BATCH` entries.
    unsafe { events.set_len(n.unsigned_abs() as usize) };
    Ok(())
}
