//! `uring-floor`: the least an io_uring echo server can do per message, by hand, on one
//! thread. It is the floor of what io_uring costs, so that the benchmark can tell how much
//! of our engine's cost is io_uring's and how much is ours.
//!
//! One multishot accept stays armed on the listener. Every connection has one multishot
//! receive armed, which takes its buffers from a ring of [`BUF_COUNT`] provided buffers of
//! [`BUF_SIZE`] bytes (`IORING_REGISTER_PBUF_RING`): no receive is posted per message, and
//! no memory is pinned to an idle connection. Each received buffer is sent back as it is;
//! a connection has at most one send in the kernel (two sends on one stream socket could
//! complete out of order), the others wait in its queue in arrival order. A short send is
//! re-posted for the rest. When its send completes, the buffer goes back to the ring.
//!
//! The kernel ends a multishot request by posting a completion without `IORING_CQE_F_MORE`:
//! after data (a full completion queue, say), it is re-armed at once; after `ENOBUFS`, the
//! ring was empty, and the connection is re-armed once [`REARM_FREE`] buffers have come
//! back, not before (re-arming at once would spin); after end of file or an error, the connection is
//! closed once its last send has completed (a client that half-closes still gets its echo).
//! A failed send shuts the socket down, which ends its receive, and then closes it.
//!
//! The loop is `submit_and_wait(1)`, then every completion, then the buffers given back are
//! published to the kernel with one store of the ring's tail. The ring is set up with
//! `SINGLE_ISSUER | DEFER_TASKRUN` (completions are processed only when the thread asks),
//! falling back to `COOP_TASKRUN`, then to a plain ring, on older kernels.
//!
//! Stop: a poll on the stop eventfd. On the way out every request still in the kernel is
//! cancelled synchronously (`IORING_REGISTER_SYNC_CANCEL`) before the ring is closed and the
//! buffers unmapped, so the kernel never writes memory that has been given back; if the
//! cancellation fails the buffers are leaked instead.

use std::collections::VecDeque;
use std::io;
use std::mem;
use std::net::TcpListener;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::ptr::{self, NonNull};
use std::sync::atomic::{AtomicU16, Ordering};

use anyhow::Context as _;
use io_uring::types::{CancelBuilder, Fd, Timespec};
use io_uring::{IoUring, cqueue, opcode, squeue};

use super::{Stop, accept_failed, set_nodelay};

/// Bytes in each provided buffer: the size of the other servers' read buffer.
const BUF_SIZE: u32 = 16 * 1024;
/// Buffers in the ring (a power of two; 32 MiB in all).
const BUF_COUNT: u16 = 2048;
/// The ring's buffer group id.
const BUF_GROUP: u16 = 0;
/// Buffers that must be back in the ring before connections starved by `ENOBUFS` are
/// re-armed: re-arming for every single buffer returned would cost a receive and an
/// `ENOBUFS` completion per buffer while the ring is short.
const REARM_FREE: usize = 64;
/// Submission queue entries (at most two are pushed per completion).
const SQ_ENTRIES: u32 = 1024;
/// Completion queue entries: room for a burst from a thousand connections.
const CQ_ENTRIES: u32 = 8192;

/// `user_data`: the operation in the top byte, the descriptor in the low 32 bits.
const OP_MASK: u64 = 0xff << 56;
/// The multishot accept on the listener.
const ACCEPT: u64 = 1 << 56;
/// A connection's multishot receive.
const RECV: u64 = 2 << 56;
/// A connection's send.
const SEND: u64 = 3 << 56;
/// The poll on the stop eventfd.
const STOP: u64 = 4 << 56;

/// Runs the server on `listener` until `stop`; `ready` is called once the accept is armed.
pub(super) fn run(listener: TcpListener, stop: &Stop, ready: impl FnOnce()) -> anyhow::Result<()> {
    let ring = setup().context("setting up the io_uring")?;
    let bufs = BufRing::new().context("mapping the provided buffers")?;
    // SAFETY: the ring's entries stay mapped until after the io_uring is closed: `bufs` is
    // declared after `ring` in `Server`, so it drops later, and `Server::finish` drops the
    // ring first.
    unsafe {
        ring.submitter()
            .register_buf_ring_with_flags(bufs.ring_addr(), BUF_COUNT, BUF_GROUP, 0)
    }
    .context("registering the provided-buffer ring (Linux 5.19 or later)")?;
    let mut server = Server {
        ring,
        bufs,
        conns: Vec::new(),
        starved: Vec::new(),
        listener: listener.as_raw_fd(),
    };
    let result = server.start(stop.fd().as_raw_fd()).and_then(|()| {
        ready();
        server.serve()
    });
    server.finish();
    drop(listener);
    Ok(result?)
}

/// An io_uring with the cheapest way of running completions that this kernel accepts.
fn setup() -> io::Result<IoUring> {
    let preferred = IoUring::builder()
        .setup_cqsize(CQ_ENTRIES)
        .setup_single_issuer()
        .setup_defer_taskrun()
        .build(SQ_ENTRIES);
    let refused = match preferred {
        Ok(ring) => return Ok(ring),
        Err(e) => e,
    };
    let coop = IoUring::builder()
        .setup_cqsize(CQ_ENTRIES)
        .setup_coop_taskrun()
        .setup_taskrun_flag()
        .build(SQ_ENTRIES);
    if let Ok(ring) = coop {
        eprintln!(
            "uring-floor: SINGLE_ISSUER|DEFER_TASKRUN refused ({refused}); using COOP_TASKRUN"
        );
        return Ok(ring);
    }
    eprintln!(
        "uring-floor: DEFER_TASKRUN and COOP_TASKRUN refused ({refused}); using a plain ring"
    );
    IoUring::builder()
        .setup_cqsize(CQ_ENTRIES)
        .build(SQ_ENTRIES)
}

/// One connection.
struct Conn {
    /// The socket; dropping it closes it, which happens only with nothing of it in the kernel.
    fd: OwnedFd,
    /// Whether its multishot receive is in the kernel.
    recv_armed: bool,
    /// The send in the kernel, if any.
    sending: Option<Sending>,
    /// Received buffers (id, length) waiting for the send in the kernel, oldest first.
    queued: VecDeque<(u16, u32)>,
    /// The peer has closed, or the connection failed: close once nothing is in the kernel.
    finished: bool,
}

/// A buffer being sent back.
#[derive(Debug, Clone, Copy)]
struct Sending {
    /// The provided buffer's id.
    bid: u16,
    /// Bytes of it already sent.
    done: u32,
    /// Bytes received into it.
    len: u32,
}

/// The server's state; everything runs on the thread that created the ring.
struct Server {
    /// The ring. Declared before `bufs`: it must be closed before the buffers are unmapped.
    ring: IoUring,
    /// The provided buffers and their ring.
    bufs: BufRing,
    /// Connections, indexed by descriptor.
    conns: Vec<Option<Conn>>,
    /// Connections whose receive ended with `ENOBUFS`, to re-arm once buffers come back.
    starved: Vec<usize>,
    /// The listening socket (owned by `run`).
    listener: RawFd,
}

impl Server {
    /// Arms the accept and the stop poll, and submits them.
    fn start(&mut self, stop: RawFd) -> io::Result<()> {
        self.arm_accept()?;
        let pollin = u32::from(libc::POLLIN.unsigned_abs());
        self.push(
            &opcode::PollAdd::new(Fd(stop), pollin)
                .build()
                .user_data(STOP),
        )?;
        self.ring.submit().map(drop)
    }

    /// The event loop, until the stop poll completes.
    fn serve(&mut self) -> io::Result<()> {
        let mut cqes: Vec<cqueue::Entry> = Vec::with_capacity(CQ_ENTRIES as usize);
        loop {
            self.bufs.publish();
            match self.ring.submit_and_wait(1) {
                Ok(_) => {}
                Err(e) if matches!(e.raw_os_error(), Some(libc::EINTR | libc::EBUSY)) => {}
                Err(e) => return Err(e),
            }
            cqes.clear();
            cqes.extend(self.ring.completion());
            for cqe in &cqes {
                let fd = usize::try_from(cqe.user_data() & !OP_MASK).unwrap_or(usize::MAX);
                match cqe.user_data() & OP_MASK {
                    STOP => return Ok(()),
                    ACCEPT => self.on_accept(cqe.result(), cqe.flags())?,
                    RECV => self.on_recv(fd, cqe.result(), cqe.flags())?,
                    SEND => self.on_send(fd, cqe.result())?,
                    _ => {}
                }
            }
            if !self.starved.is_empty() && self.bufs.free >= REARM_FREE {
                for fd in mem::take(&mut self.starved) {
                    if self.conn(fd).is_some_and(|c| !c.recv_armed && !c.finished) {
                        self.arm_recv(fd)?;
                    }
                }
            }
        }
    }

    /// A new connection (or an accept error); re-arms the accept if the kernel ended it.
    fn on_accept(&mut self, res: i32, flags: u32) -> io::Result<()> {
        if res >= 0 {
            // SAFETY: a successful accept's result is a new descriptor that nothing else owns.
            let fd = unsafe { OwnedFd::from_raw_fd(res) };
            set_nodelay(res);
            let index = res.unsigned_abs() as usize;
            if self.conns.len() <= index {
                self.conns.resize_with(index + 1, || None);
            }
            self.conns[index] = Some(Conn {
                fd,
                recv_armed: false,
                sending: None,
                queued: VecDeque::new(),
                finished: false,
            });
            self.arm_recv(index)?;
        } else {
            accept_failed(&io::Error::from_raw_os_error(-res));
        }
        if !cqueue::more(flags) {
            self.arm_accept()?;
        }
        Ok(())
    }

    /// Data (sent back), or the end of the multishot receive.
    fn on_recv(&mut self, fd: usize, res: i32, flags: u32) -> io::Result<()> {
        let bid = cqueue::buffer_select(flags);
        if bid.is_some() {
            self.bufs.free -= 1;
        }
        let Some(conn) = self.conn(fd) else {
            if let Some(bid) = bid {
                self.bufs.give_back(bid);
            }
            return Ok(());
        };
        let more = cqueue::more(flags);
        if !more {
            conn.recv_armed = false;
        }
        let finished = conn.finished;
        if let Some(bid) = bid {
            match u32::try_from(res) {
                Ok(len) if len > 0 && !finished => {
                    conn.queued.push_back((bid, len));
                    self.send_next(fd)?;
                }
                _ => self.bufs.give_back(bid),
            }
        }
        if more {
            return Ok(());
        }
        if res == -libc::ENOBUFS {
            self.starved.push(fd);
        } else if res > 0 && !finished {
            self.arm_recv(fd)?;
        } else if let Some(conn) = self.conn(fd) {
            // End of file or an error.
            conn.finished = true;
            self.close_if_idle(fd);
        }
        Ok(())
    }

    /// A send completed: re-post the rest of a short one, or give the buffer back and
    /// send the next.
    fn on_send(&mut self, fd: usize, res: i32) -> io::Result<()> {
        let Some(conn) = self.conn(fd) else {
            return Ok(());
        };
        let Some(mut sending) = conn.sending.take() else {
            return Ok(());
        };
        match u32::try_from(res) {
            Ok(n) if n > 0 => {
                sending.done += n;
                if sending.done < sending.len {
                    conn.sending = Some(sending);
                    return self.push_send(fd, sending);
                }
                self.bufs.give_back(sending.bid);
                self.send_next(fd)
            }
            _ => {
                // The peer is gone: drop what waits, end the receive, close when it has ended.
                let queued: Vec<u16> = conn.queued.drain(..).map(|(bid, _)| bid).collect();
                conn.finished = true;
                if conn.recv_armed {
                    // SAFETY: shutdown takes no pointers; the socket is open (owned by `conn`).
                    unsafe { libc::shutdown(conn.fd.as_raw_fd(), libc::SHUT_RDWR) };
                }
                self.bufs.give_back(sending.bid);
                for bid in queued {
                    self.bufs.give_back(bid);
                }
                self.close_if_idle(fd);
                Ok(())
            }
        }
    }

    /// Posts the connection's oldest queued buffer if no send is in the kernel; with
    /// nothing queued, closes a finished connection.
    fn send_next(&mut self, fd: usize) -> io::Result<()> {
        let Some(conn) = self.conn(fd) else {
            return Ok(());
        };
        if conn.sending.is_some() {
            return Ok(());
        }
        match conn.queued.pop_front() {
            Some((bid, len)) => {
                let sending = Sending { bid, done: 0, len };
                conn.sending = Some(sending);
                self.push_send(fd, sending)
            }
            None => {
                self.close_if_idle(fd);
                Ok(())
            }
        }
    }

    /// Closes a finished connection once nothing of it is in the kernel.
    fn close_if_idle(&mut self, fd: usize) {
        if self
            .conn(fd)
            .is_some_and(|c| c.finished && !c.recv_armed && c.sending.is_none())
            && let Some(conn) = self.conns[fd].take()
        {
            for (bid, _) in conn.queued {
                self.bufs.give_back(bid);
            }
        }
    }

    /// Arms the multishot accept.
    fn arm_accept(&mut self) -> io::Result<()> {
        let accept = opcode::AcceptMulti::new(Fd(self.listener))
            .flags(libc::SOCK_CLOEXEC)
            .build()
            .user_data(ACCEPT);
        self.push(&accept)
    }

    /// Arms the connection's multishot receive.
    fn arm_recv(&mut self, fd: usize) -> io::Result<()> {
        let Some(conn) = self.conn(fd) else {
            return Ok(());
        };
        conn.recv_armed = true;
        let recv = opcode::RecvMulti::new(Fd(conn.fd.as_raw_fd()), BUF_GROUP)
            .build()
            .user_data(RECV | fd as u64);
        self.push(&recv)
    }

    /// Posts the send of the rest of `sending`.
    fn push_send(&mut self, fd: usize, sending: Sending) -> io::Result<()> {
        let Some(socket) = self.conn(fd).map(|c| c.fd.as_raw_fd()) else {
            return Ok(());
        };
        let data = self
            .bufs
            .buf(sending.bid)
            .wrapping_add(sending.done as usize);
        let send = opcode::Send::new(Fd(socket), data, sending.len - sending.done)
            .flags(libc::MSG_NOSIGNAL)
            .build()
            .user_data(SEND | fd as u64);
        self.push(&send)
    }

    /// Queues `entry`, submitting first if the submission queue is full.
    fn push(&mut self, entry: &squeue::Entry) -> io::Result<()> {
        loop {
            // SAFETY: every entry pushed here points only into `self.bufs` (receives name a
            // buffer group, sends a buffer held out of the ring until the send completes),
            // and the buffers outlive every request: `finish` cancels them all, or leaks
            // the buffers, before unmapping.
            if unsafe { self.ring.submission().push(entry) }.is_ok() {
                return Ok(());
            }
            self.ring.submit()?;
        }
    }

    /// The connection on descriptor `fd`, if open.
    fn conn(&mut self, fd: usize) -> Option<&mut Conn> {
        self.conns.get_mut(fd).and_then(Option::as_mut)
    }

    /// Cancels every request still in the kernel, then closes the connections and the ring
    /// and unmaps the buffers (or leaks them if the cancellation failed).
    fn finish(self) {
        let Server {
            ring, bufs, conns, ..
        } = self;
        let cancelled = ring
            .submitter()
            .register_sync_cancel(Some(Timespec::new().sec(1)), CancelBuilder::any());
        let safe = match cancelled {
            Ok(()) => true,
            Err(e) if e.kind() == io::ErrorKind::NotFound => true,
            Err(e) => {
                eprintln!("uring-floor: cancelling at exit: {e}; leaking the buffers");
                false
            }
        };
        drop(conns);
        drop(ring);
        if safe {
            drop(bufs);
        } else {
            mem::forget(bufs);
        }
    }
}

/// The kernel's `struct io_uring_buf`: one entry of a provided-buffer ring. Entry 0's `resv`
/// is the ring's tail.
#[repr(C)]
struct RawBuf {
    /// The buffer's address.
    addr: u64,
    /// Its length.
    len: u32,
    /// The id the kernel reports in the completion's flags.
    bid: u16,
    /// Unused, except in entry 0, where it is the tail.
    resv: u16,
}

const _: () = assert!(mem::size_of::<RawBuf>() == 16);
const _: () = assert!(BUF_COUNT.is_power_of_two());

/// The provided buffers: [`BUF_COUNT`] buffers of [`BUF_SIZE`] bytes and the ring through
/// which they are handed to the kernel.
struct BufRing {
    /// The ring: [`BUF_COUNT`] [`RawBuf`] entries, page-aligned. The kernel reads entries
    /// from its head up to the published tail; this side writes entries at and after the tail.
    ring: Mapping,
    /// The buffers, `BUF_SIZE` bytes each, buffer `bid` at `bid * BUF_SIZE`.
    data: Mapping,
    /// The tail as written so far; the kernel sees it at the next [`BufRing::publish`].
    tail: u16,
    /// Buffers in the ring (given back and not taken by a receive since).
    free: usize,
}

impl BufRing {
    /// All buffers, all in the ring.
    fn new() -> io::Result<BufRing> {
        let mut bufs = BufRing {
            ring: Mapping::new(usize::from(BUF_COUNT) * mem::size_of::<RawBuf>())?,
            data: Mapping::new(usize::from(BUF_COUNT) * BUF_SIZE as usize)?,
            tail: 0,
            free: 0,
        };
        for bid in 0..BUF_COUNT {
            bufs.give_back(bid);
        }
        bufs.publish();
        Ok(bufs)
    }

    /// The ring's address, for registration.
    fn ring_addr(&self) -> u64 {
        self.ring.ptr.as_ptr() as u64
    }

    /// The start of buffer `bid`.
    fn buf(&self, bid: u16) -> *mut u8 {
        self.data
            .ptr
            .as_ptr()
            .wrapping_add(usize::from(bid) * BUF_SIZE as usize)
    }

    /// Puts buffer `bid` back in the ring (the kernel sees it after [`BufRing::publish`]).
    fn give_back(&mut self, bid: u16) {
        let index = usize::from(self.tail & (BUF_COUNT - 1));
        let entry = self.ring.ptr.as_ptr().cast::<RawBuf>().wrapping_add(index);
        let field = |offset: usize| entry.wrapping_byte_add(offset);
        let addr = field(mem::offset_of!(RawBuf, addr)).cast::<u64>();
        let len = field(mem::offset_of!(RawBuf, len)).cast::<u32>();
        let id = field(mem::offset_of!(RawBuf, bid)).cast::<u16>();
        // SAFETY: each field lies inside the ring mapping and is aligned; the kernel reads no
        // entry at or after the published tail, so nothing reads this one now. The fields are
        // written one by one so that entry 0's `resv`, the tail, is left alone.
        unsafe { addr.write(self.buf(bid) as u64) };
        // SAFETY: as above.
        unsafe { len.write(BUF_SIZE) };
        // SAFETY: as above.
        unsafe { id.write(bid) };
        self.tail = self.tail.wrapping_add(1);
        self.free += 1;
    }

    /// Shows the kernel every buffer given back so far.
    fn publish(&self) {
        let tail = self
            .ring
            .ptr
            .as_ptr()
            .wrapping_add(mem::offset_of!(RawBuf, resv))
            .cast::<u16>();
        // SAFETY: entry 0's `resv` is an aligned u16 inside the mapping, which lives as long
        // as `self`; the kernel only reads it, atomically, and this side writes it only here.
        let tail = unsafe { AtomicU16::from_ptr(tail) };
        tail.store(self.tail, Ordering::Release);
    }
}

/// An anonymous private mapping, unmapped on drop.
struct Mapping {
    /// Its start, page-aligned.
    ptr: NonNull<u8>,
    /// Its length in bytes.
    len: usize,
}

impl Mapping {
    /// `len` bytes of zeroed memory, committed as they are touched.
    fn new(len: usize) -> io::Result<Mapping> {
        // SAFETY: asks for a fresh mapping; no existing memory is named.
        let ptr = unsafe {
            libc::mmap(
                ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        if ptr == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        let ptr = NonNull::new(ptr.cast()).ok_or_else(|| io::Error::other("mmap returned null"))?;
        Ok(Mapping { ptr, len })
    }
}

impl Drop for Mapping {
    fn drop(&mut self) {
        // SAFETY: unmaps exactly the mapping `new` made; nothing refers to it any more (the
        // ring is closed and its requests cancelled first, see `Server::finish`).
        unsafe { libc::munmap(self.ptr.as_ptr().cast(), self.len) };
    }
}
