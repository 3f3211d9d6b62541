//! Windows' non-blocking `send` on a stream socket: once any of the data fits, all of it
//! is taken. Windows copies what the send buffer cannot hold into its own buffers and
//! sends it in the background; Linux takes what fits and returns a partial count, which
//! programs written for Windows do not expect (Wine's tests of Windows loop on it).
//!
//! # The model
//! When the kernel takes part of a non-blocking stream `send`, the rest is copied and
//! posted as one overlapped send of the library (it leaves in order: sends on a socket
//! go out in the order they were posted), and the call reports the whole length. Until
//! that tail has gone:
//! - the next `send` fails with `WSAEWOULDBLOCK` (and `FD_WRITE` is reported again once
//!   there is room, as for any send that would block), so nothing overtakes the tail;
//! - `shutdown` of the sending side is done when the tail has gone (a FIN before it
//!   would cut the stream);
//! - `closesocket` returns at once and the socket is closed (gracefully) when the tail
//!   has gone, as Windows' graceful close sends what it holds in the background.
//!
//! A tail that fails (the peer reset the connection) reports its error to the next
//! `send`.
//!
//! # Compatibility
//! Only `send` takes part in this: a `sendto`, `WSASend` or `WSASendTo` issued while a
//! tail is in flight is not held back by it.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use overlapped::{Overlapped, Shutdown, WsaError};

use crate::handles::SockEntry;

/// A socket's background tail (one of `SockEntry`'s fields).
#[derive(Debug, Default)]
pub(crate) struct SendTail {
    state: Arc<Mutex<TailState>>,
}

#[derive(Debug, Default)]
struct TailState {
    /// A tail is in flight.
    pending: bool,
    /// How the last tail failed, for the next `send`.
    error: Option<WsaError>,
    /// The record the last tail was bound to (kept until the next tail or the end of
    /// the socket).
    ov: Option<Overlapped>,
    /// A `shutdown` to do once the tail has gone, with the socket to do it on.
    shutdown: Option<(Arc<SockEntry>, Shutdown)>,
    /// The last handle's reference, given up by `closesocket` while the tail was in
    /// flight: dropped (closing the socket) once the tail has gone.
    close: Option<Arc<SockEntry>>,
}

impl SendTail {
    fn lock(&self) -> MutexGuard<'_, TailState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// `closesocket`'s last handle: kept until the tail has gone (`None`), or given back
    /// to be closed now.
    pub(crate) fn defer_close(&self, entry: Arc<SockEntry>) -> Option<Arc<SockEntry>> {
        let mut st = self.lock();
        if st.pending {
            st.close = Some(entry);
            None
        } else {
            Some(entry)
        }
    }

    /// A `shutdown` of the sending side: done when the tail has gone (true), or to be
    /// done now (false).
    pub(crate) fn defer_shutdown(&self, entry: &Arc<SockEntry>, how: Shutdown) -> bool {
        if matches!(how, Shutdown::Receive) {
            return false;
        }
        let mut st = self.lock();
        if st.pending {
            st.shutdown = Some((Arc::clone(entry), how));
            true
        } else {
            false
        }
    }
}

/// `send` on a socket: as the library's send with Winsock flags, and on a non-blocking
/// stream socket, the part the kernel did not take leaves as a background tail (see the
/// module docs).
pub(crate) fn send(e: &Arc<SockEntry>, data: &[u8], flags: u32) -> Result<usize, WsaError> {
    {
        let mut st = e.send_tail.lock();
        if st.pending {
            return Err(WsaError::WSAEWOULDBLOCK);
        }
        if let Some(x) = st.error.take() {
            return Err(x);
        }
    }
    let n = e.sock.send_with_flags(data, flags)?;
    if n == data.len()
        || n == 0
        || !e.sock.is_stream()
        || !e.sock.is_nonblocking()
        || flags & overlapped::ops::flags::MSG_OOB != 0
    {
        return Ok(n);
    }
    let ov = Overlapped::new();
    let shared = Arc::clone(&e.send_tail.state);
    e.send_tail.lock().pending = true;
    let posted = overlapped::Send::new(&e.sock, data[n..].to_vec())
        .post_with_callback(&ov, move |c| finish(&shared, c.result.err()));
    if posted.is_err() {
        // Nothing was posted (the socket is closing): report what the kernel took.
        finish(&e.send_tail.state, None);
        return Ok(n);
    }
    e.send_tail.lock().ov = Some(ov);
    Ok(data.len())
}

/// The tail has gone (or failed with `error`): record it, and do the deferred shutdown
/// and close. Those run on a thread of their own: this runs on the thread that reaps
/// completions, which must not close sockets from inside a completion.
fn finish(state: &Mutex<TailState>, error: Option<WsaError>) {
    let (shutdown, close) = {
        let mut st = state.lock().unwrap_or_else(PoisonError::into_inner);
        st.pending = false;
        if error.is_some() {
            st.error = error;
        }
        (st.shutdown.take(), st.close.take())
    };
    if shutdown.is_none() && close.is_none() {
        return;
    }
    // The references go to a holder that the thread empties; if no thread can be had,
    // the holder is leaked rather than emptied here (the socket then stays open until
    // the process ends).
    let holder = Arc::new(Mutex::new(Some((shutdown, close))));
    let theirs = Arc::clone(&holder);
    let work = move || {
        let taken = theirs.lock().unwrap_or_else(PoisonError::into_inner).take();
        if let Some((shutdown, close)) = taken {
            if let Some((entry, how)) = shutdown {
                let _ = entry.sock.shutdown(how);
            }
            drop(close);
        }
    };
    if std::thread::Builder::new()
        .name("ws2-send-tail".into())
        .spawn(work)
        .is_err()
    {
        std::mem::forget(holder);
    }
}
