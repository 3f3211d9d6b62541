//! Readiness through the C ABI: `select` (with `FD_ISSET`'s `__WSAFDIsSet`) and
//! `WSAPoll`, with Windows' rules for what counts as ready, over the library's
//! [`overlapped::poll`].

use std::sync::Arc;
use std::time::Duration;

use overlapped::{Ioctl, IoctlOutput, PollEntry, Readiness, Socket, WsaError};

use crate::handles::{self, SockEntry, guard, started, ws_guard};
use crate::types::{INVALID_SOCKET, SOCKET, SOCKET_ERROR, c, fd_set, timeval};

fn err(e: WsaError) -> u32 {
    e.code()
}

fn clamp(v: usize) -> i32 {
    i32::try_from(v).unwrap_or(i32::MAX)
}

/// Reads a Windows `fd_set`'s sockets: all `fd_count` of them, which may be more than
/// `FD_SETSIZE` (the array really is that long: Windows' `fd_set` is a count and an
/// array, and programs allocate larger ones). Only the count and those entries are
/// touched, so a set at the end of its memory is fine.
///
/// # Safety
/// `set` must be null or point to a readable `fd_set` count followed by that many sockets.
unsafe fn set_members(set: *const fd_set) -> Result<Vec<SOCKET>, u32> {
    if set.is_null() {
        return Ok(Vec::new());
    }
    let head = std::mem::offset_of!(fd_set, fd_array);
    // select rewrites the set: the count and the entries must be writable too.
    handles::check_out_bytes(set.cast_mut().cast(), head)?;
    // SAFETY: the count's bytes were just checked readable (and writable).
    let n = unsafe { set.cast::<u32>().read_unaligned() } as usize;
    let array = set.cast::<u8>().wrapping_add(head).cast::<SOCKET>();
    let bytes = n
        .checked_mul(size_of::<SOCKET>())
        .ok_or(WsaError::WSAEFAULT.code())?;
    handles::check_out_bytes(array.cast_mut().cast(), bytes)?;
    if n == 0 {
        return Ok(Vec::new());
    }
    // SAFETY: `n` sockets at `array` were just checked readable; they are copied out.
    Ok(unsafe { std::slice::from_raw_parts(array, n) }.to_vec())
}

/// One of `select`'s output sets: where it is, how many entries it had on input (all
/// it may hold), and the sockets reported in it. Sets passed twice (the same pointer
/// as read and write set) share one output, as on Windows: a socket is listed once.
struct SelectOut {
    set: *mut fd_set,
    cap: usize,
    members: Vec<SOCKET>,
}

impl SelectOut {
    /// Lists `h` unless it is there already (or the set is full); whether it was added.
    fn add(&mut self, h: SOCKET) -> bool {
        if self.members.contains(&h) || self.members.len() >= self.cap {
            return false;
        }
        self.members.push(h);
        true
    }

    /// Writes the reported sockets back.
    ///
    /// # Safety
    /// `set` is a writable `fd_set` of at least `cap` entries (checked by
    /// [`set_members`]).
    unsafe fn write(&self) {
        let head = std::mem::offset_of!(fd_set, fd_array);
        let count = u32::try_from(self.members.len()).unwrap_or(0);
        // SAFETY: the count is writable (the contract).
        unsafe { self.set.cast::<u32>().write_unaligned(count) };
        let array = self.set.cast::<u8>().wrapping_add(head).cast::<SOCKET>();
        for (i, &h) in self.members.iter().enumerate() {
            let slot = array.wrapping_add(i);
            // SAFETY: `i < cap` entries are writable (the contract; `add` keeps to `cap`).
            unsafe { slot.write_unaligned(h) };
        }
    }
}

/// What `select` reports for one socket from the kernel's readiness: (readable,
/// writable, except), as Windows does.
///
/// A stream socket that is neither connected (nor was) nor listening (a fresh socket,
/// or a connect under way or failed) is never readable, though Linux reports a fresh
/// one hung up (and a failed one readable); a listener is readable with a connection
/// waiting. Writable: connected (or a datagram socket) with room to send. Except: urgent
/// data not read inline (with `SO_OOBINLINE` it is ordinary data: Linux still reports
/// it as urgent), or a connect that failed.
fn select_picks(rd: &Readiness, s: &Socket) -> (bool, bool, bool) {
    let stream = s.is_stream();
    let connected = !stream || s.peer_addr().is_ok();
    let read = if !stream || s.was_connected() {
        rd.read || rd.hangup || rd.error
    } else {
        rd.read && !rd.hangup && !rd.error
    };
    let write = rd.write && !rd.error && connected;
    let except = (rd.priority && !oob_inline(s)) || (rd.error && !connected);
    (read, write, except)
}

/// How long `select` sleeps between looks while a socket the kernel reports ready is
/// not ready as Windows counts it (a fresh socket is "hung up" on Linux at all times).
const SELECT_SLICE: Duration = Duration::from_millis(20);

/// `int select(int nfds, fd_set *readfds, fd_set *writefds, fd_set *exceptfds, const
/// struct timeval *timeout)` with the Windows `fd_set` (a count and an array of
/// `SOCKET`s, the count may pass `FD_SETSIZE`). Readable: data, a pending connection,
/// end of stream or reset; writable: connected and room to send; except: a failed
/// connect or urgent data. Returns how many sockets were listed in the sets on return
/// (a socket listed twice in a set, or in two sets that are one `fd_set`, counts once);
/// `nfds` is ignored, as on Windows. A socket closed by another thread during the
/// wait is reported readable when it is in the read set; otherwise the call fails with
/// `WSAENOTSOCK` and the sets are emptied (as on Windows).
///
/// Parameters: `nfds` (ignored), three Windows `fd_set`s (each may be NULL), the timeout (NULL: forever).
/// Memory and lifetimes: the sets are rewritten to the ready sockets before return.
///
/// # Safety
/// Each set must be null or a valid `fd_set` (its count and that many entries);
/// `timeout` null or a valid `timeval`.
#[unsafe(export_name = "ws2_select")]
pub unsafe extern "C" fn select(
    _nfds: i32,
    readfds: *mut fd_set,
    writefds: *mut fd_set,
    exceptfds: *mut fd_set,
    timeout: *const timeval,
) -> i32 {
    ws_guard(SOCKET_ERROR, || {
        started()?;
        // SAFETY: the caller's contract.
        let r = unsafe { set_members(readfds) }?;
        // SAFETY: as above.
        let w = unsafe { set_members(writefds) }?;
        // SAFETY: as above.
        let x = unsafe { set_members(exceptfds) }?;
        if r.is_empty() && w.is_empty() && x.is_empty() {
            return Err(err(WsaError::WSAEINVAL));
        }
        let mut all: Vec<SOCKET> = r.iter().chain(&w).chain(&x).copied().collect();
        all.sort_unstable();
        all.dedup();
        let entries: Vec<Arc<SockEntry>> = all
            .iter()
            .map(|&h| handles::socket(h))
            .collect::<Result<_, _>>()?;
        let interest = |h: &SOCKET| Readiness {
            read: r.contains(h),
            write: w.contains(h) || x.contains(h),
            priority: x.contains(h),
            ..Readiness::default()
        };
        let t = if timeout.is_null() {
            None
        } else {
            // SAFETY: non-null and valid (the contract).
            let tv = unsafe { &*timeout };
            let us = tv
                .tv_sec
                .max(0)
                .saturating_mul(1_000_000)
                .saturating_add(tv.tv_usec.max(0));
            Some(Duration::from_micros(us.unsigned_abs()))
        };
        let deadline = t.map(|t| std::time::Instant::now() + t);
        // The kernel's readiness of the sockets at `pick`, waiting up to `wait`.
        let look = |pick: &[bool], wait: Option<Duration>| -> Result<Vec<Readiness>, u32> {
            let mut polls: Vec<PollEntry<'_>> = all
                .iter()
                .zip(&entries)
                .zip(pick)
                .filter(|(_, p)| **p)
                .map(|((h, e), _)| PollEntry {
                    socket: &e.sock,
                    interest: interest(h),
                    ready: Readiness::default(),
                })
                .collect();
            overlapped::poll(&mut polls, wait).map_err(err)?;
            let mut found = polls.into_iter().map(|p| p.ready);
            Ok(pick
                .iter()
                .map(|p| {
                    if *p {
                        found.next().unwrap_or_default()
                    } else {
                        Readiness::default()
                    }
                })
                .collect())
        };
        // Sockets the kernel reports ready that select does not count: left out of the
        // wait (they would end it at once), looked at again after each slice.
        let mut quiet = vec![false; all.len()];
        let (ready, closed) = loop {
            let left = deadline.map(|d| d.saturating_duration_since(std::time::Instant::now()));
            let waiting: Vec<bool> = quiet.iter().map(|q| !q).collect();
            let wait = if quiet.contains(&true) {
                Some(left.map_or(SELECT_SLICE, |l| l.min(SELECT_SLICE)))
            } else {
                left
            };
            let mut ready = look(&waiting, wait)?;
            if quiet.contains(&true) {
                ready = look(&vec![true; all.len()], Some(Duration::ZERO))?;
            }
            // Closed by another thread while we waited (closesocket shuts the
            // connection down, which ends the wait).
            let closed: Vec<bool> = all
                .iter()
                .zip(&entries)
                .map(|(&h, e)| !handles::socket(h).is_ok_and(|now| Arc::ptr_eq(&now, e)))
                .collect();
            let picks: Vec<(bool, bool, bool)> = ready
                .iter()
                .zip(&entries)
                .map(|(rd, e)| select_picks(rd, &e.sock))
                .collect();
            let mut any = false;
            for (i, h) in all.iter().enumerate() {
                let (rd, wr, ex) = picks[i];
                let counted =
                    (rd && r.contains(h)) || (wr && w.contains(h)) || (ex && x.contains(h));
                any |= counted || closed[i];
                let seen = ready[i];
                let kernel = seen.read
                    || seen.write
                    || seen.priority
                    || seen.error
                    || seen.hangup
                    || seen.read_closed;
                quiet[i] = kernel && !counted;
            }
            if any || left == Some(Duration::ZERO) || !quiet.contains(&true) {
                break (picks, closed);
            }
        };
        let mut outs: Vec<SelectOut> = Vec::new();
        let mut slot = |set: *mut fd_set, members: &[SOCKET]| -> Option<usize> {
            if set.is_null() {
                return None;
            }
            if let Some(i) = outs.iter().position(|o| o.set == set) {
                return Some(i);
            }
            outs.push(SelectOut {
                set,
                cap: members.len(),
                members: Vec::new(),
            });
            Some(outs.len() - 1)
        };
        let (ro, wo, xo) = (slot(readfds, &r), slot(writefds, &w), slot(exceptfds, &x));
        let index = |h: &SOCKET| all.binary_search(h).unwrap_or(0);
        if closed.iter().zip(&all).any(|(&c, h)| c && !r.contains(h)) {
            // A socket closed during the wait that only the write or except set names.
            for o in &outs {
                // SAFETY: each set was checked writable for its entries by set_members.
                unsafe {
                    SelectOut {
                        members: Vec::new(),
                        ..*o
                    }
                    .write()
                };
            }
            return Err(err(WsaError::WSAENOTSOCK));
        }
        let mut count = 0;
        let passes: [(Option<usize>, &[SOCKET], usize); 3] =
            [(ro, &r, 0), (wo, &w, 1), (xo, &x, 2)];
        for (out, members, which) in passes {
            let Some(out) = out else { continue };
            for h in members {
                let i = index(h);
                let (rd, wr, ex) = ready[i];
                let yes = match which {
                    0 => rd || closed[i],
                    1 => wr && !closed[i],
                    _ => ex && !closed[i],
                };
                if yes && outs[out].add(*h) {
                    count += 1;
                }
            }
        }
        for o in &outs {
            // SAFETY: each set was checked writable for its `cap` entries by set_members.
            unsafe { o.write() };
        }
        Ok(clamp(count))
    })
}

/// `int __WSAFDIsSet(SOCKET fd, fd_set *set)`: what `FD_ISSET` expands to.
///
/// Parameters: a socket and a set.
/// Returns: nonzero when the socket is in the set.
/// Memory and lifetimes: nothing is kept.
///
/// # Safety
/// `set` must be null or a valid `fd_set`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn __WSAFDIsSet(fd: SOCKET, set: *mut fd_set) -> i32 {
    guard(0, || {
        // SAFETY: the caller's contract.
        let members = unsafe { set_members(set) }?;
        Ok(i32::from(members.contains(&fd)))
    })
}

/// Whether `SO_OOBINLINE` is on.
fn oob_inline(sock: &Socket) -> bool {
    let mut v = [0u8; 4];
    matches!(
        sock.option_bytes(libc::SOL_SOCKET, libc::SO_OOBINLINE, &mut v),
        Ok(4)
    ) && i32::from_ne_bytes(v) != 0
}

/// `int WSAPoll(LPWSAPOLLFD fdArray, ULONG fds, INT timeout)` with Windows `POLL*` bits.
/// A record whose `fd` names no socket reports `POLLNVAL` but is not counted, and the
/// call waits on the others; when no record names a socket it fails with `WSAENOTSOCK`
/// (each record reporting `POLLNVAL`), as Windows does (Wine's tests).
///
/// Parameters: the `WSAPOLLFD` array and its length, the timeout in ms (-1: forever).
/// Returns: how many records with a valid socket have events, or `SOCKET_ERROR` with
/// `WSAEINVAL` (no records), `WSAEFAULT` (NULL array), `WSAENOTSOCK`.
/// Memory and lifetimes: `revents` is written before return.
///
/// # Safety
/// `fds` must point to `nfds` readable and writable `WSAPOLLFD` records.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn WSAPoll(
    fds: *mut crate::types::WSAPOLLFD,
    nfds: u32,
    timeout: i32,
) -> i32 {
    ws_guard(SOCKET_ERROR, || {
        started()?;
        if fds.is_null() && nfds > 0 {
            return Err(err(WsaError::WSAEFAULT));
        }
        if nfds == 0 {
            return Err(err(WsaError::WSAEINVAL));
        }
        // SAFETY: `nfds` valid records (the contract).
        let recs = unsafe { std::slice::from_raw_parts_mut(fds, nfds as usize) };
        let entries: Vec<Option<Arc<SockEntry>>> =
            recs.iter().map(|r| handles::socket(r.fd).ok()).collect();
        // Windows takes only the read and normal-write requests: any other bit (the
        // output-only POLLERR/POLLHUP/POLLNVAL, POLLPRI, POLLWRBAND, undefined bits) fails
        // the whole call with WSAEINVAL and every revents cleared, checked on every entry
        // but those of INVALID_SOCKET, and only when some entry is a socket (with none,
        // the call fails with WSAENOTSOCK, every entry POLLNVAL: below).
        const ALLOWED: i16 = c::POLLRDNORM | c::POLLRDBAND | c::POLLWRNORM;
        if entries.iter().any(Option::is_some)
            && recs
                .iter()
                .any(|r| r.fd != INVALID_SOCKET && r.events & !ALLOWED != 0)
        {
            for r in recs.iter_mut() {
                r.revents = 0;
            }
            return Err(err(WsaError::WSAEINVAL));
        }
        let mut idx = Vec::new();
        let mut polls = Vec::new();
        for (i, (r, e)) in recs.iter().zip(&entries).enumerate() {
            if let Some(e) = e {
                idx.push(i);
                polls.push(PollEntry {
                    socket: &e.sock,
                    interest: Readiness {
                        read: r.events & c::POLLRDNORM != 0,
                        write: r.events & c::POLLWRNORM != 0,
                        // Out-of-band data is POLLRDBAND on Windows, POLLPRI on Linux.
                        priority: r.events & c::POLLRDBAND != 0,
                        ..Readiness::default()
                    },
                    ready: Readiness::default(),
                });
            }
        }
        for (r, e) in recs.iter_mut().zip(&entries) {
            r.revents = if e.is_none() { c::POLLNVAL } else { 0 };
        }
        if polls.is_empty() {
            return Err(err(WsaError::WSAENOTSOCK));
        }
        let t = (timeout >= 0).then(|| Duration::from_millis(timeout.unsigned_abs().into()));
        overlapped::poll(&mut polls, t).map_err(err)?;
        let mut count = 0;
        for (p, &i) in polls.iter().zip(&idx) {
            let want = recs[i].events;
            let mut rev = 0;
            // Linux says "readable" for an end of stream and beside urgent data; Windows
            // reports POLLRDNORM only for data (or a connection) to take, the end of
            // stream as POLLHUP, and the urgent byte as POLLRDBAND alone.
            let mut read = p.ready.read;
            // With SO_OOBINLINE the urgent byte is ordinary data: no POLLRDBAND.
            let priority = p.ready.priority && !oob_inline(p.socket);
            if read && (p.ready.read_closed || p.ready.priority) {
                read = matches!(
                    Ioctl::FionRead.run(p.socket),
                    Ok(IoctlOutput::Value(n)) if n > 0
                );
            }
            if read {
                rev |= c::POLLRDNORM & want;
            }
            if p.ready.write {
                rev |= c::POLLWRNORM & want;
            }
            if priority {
                rev |= c::POLLRDBAND & want;
            }
            // A reset stays an error for WSAPoll on Windows, also once SO_ERROR was read
            // (Linux reports POLLERR only until then).
            if p.ready.error || p.socket.is_reset() {
                rev |= c::POLLERR;
            }
            if p.ready.hangup || p.ready.read_closed {
                rev |= c::POLLHUP;
            }
            // A socket closed by another thread during the wait is POLLNVAL, as on Windows.
            if handles::socket(recs[i].fd).is_err() {
                rev = c::POLLNVAL;
            }
            recs[i].revents = rev;
            if rev != 0 {
                count += 1;
            }
        }
        Ok(clamp(count))
    })
}
