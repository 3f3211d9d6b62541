//! The overlapped record: the target an operation notifies, and where its result is read
//! (`WSAOVERLAPPED`, `WSAGetOverlappedResult`, `HasOverlappedIoCompleted`).

use std::time::Duration;

use crate::error::{NtStatus, WsaError};
use crate::event::{Event, wait_impl};
use crate::sync::{Arc, AtomicBool, AtomicU32, AtomicU64, Ordering};

/// The result of a completed transfer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Transfer {
    /// Bytes transferred (`cbTransferred`, `InternalHigh`).
    pub bytes: usize,
    /// Receive flags (`MSG_PARTIAL`-style bits, see [`crate::ops::flags`]); 0 for sends.
    pub flags: u32,
}

/// An overlapped record: binds one operation at a time to its notification.
///
/// Create it with an [`Event`] to be signalled on completion (`hEvent`), or without one;
/// an operation posted with a completion routine ignores the event, as Windows does.
/// A record may be reused for the next operation once the previous one has completed.
///
/// # Cancellation
/// Dropping an `Overlapped` while its operation is pending is safe: the engine holds its
/// own reference to the record's state until the operation completes.
///
/// # Examples
/// ```
/// use overlapped::{Event, Overlapped, WsaError};
/// let ov = Overlapped::with_event(&Event::new_manual());
/// assert!(ov.is_complete(), "a fresh record has nothing pending");
/// ```
#[derive(Debug)]
pub struct Overlapped {
    pub(crate) state: Arc<OvState>,
}

/// The shared part of an [`Overlapped`]: written by the engine, read by the owner.
#[derive(Debug)]
pub(crate) struct OvState {
    /// NTSTATUS (`Internal`): `STATUS_PENDING` while in flight; written last (release).
    status: AtomicU32,
    /// Bytes transferred (`InternalHigh`).
    bytes: AtomicU64,
    /// Receive flags of the completed operation.
    flags: AtomicU32,
    /// Bound to an operation that has not completed yet.
    busy: AtomicBool,
    /// The user's event, if any.
    pub(crate) event: Option<Event>,
    /// Set on every completion: what a wait for the result blocks on (the role the
    /// socket handle plays on Windows when `hEvent` is NULL).
    done: Event,
    /// A C-side `WSAOVERLAPPED` to mirror the status into (set by the C ABI).
    mirror: AtomicU64,
    /// Completions never go to a completion port (the low bit of `hEvent`).
    pub(crate) no_port: bool,
}

impl Default for Overlapped {
    fn default() -> Self {
        Self::new()
    }
}

impl Overlapped {
    /// A record with no event: completion is observed through [`Overlapped::result`]
    /// (with `wait = true`), a routine, or [`crate::Posted::wait`].
    pub fn new() -> Self {
        Self::build(None)
    }

    /// A record whose `event` is signalled when its operation completes (`hEvent`).
    /// Posting an operation resets the event first, as Windows does.
    pub fn with_event(event: &Event) -> Self {
        Self::build(Some(event.clone()))
    }

    /// A record whose `event` is signalled on completion but whose completions are
    /// **not** queued to the socket's [completion port](crate::CompletionPort): Windows'
    /// `hEvent` with the low bit set.
    pub fn with_event_no_port(event: &Event) -> Self {
        let mut ov = Self::build(Some(event.clone()));
        if let Some(state) = Arc::get_mut(&mut ov.state) {
            state.no_port = true;
        }
        ov
    }

    /// Whether completions of this record skip the completion port
    /// ([`Overlapped::with_event_no_port`]).
    pub fn skips_port(&self) -> bool {
        self.state.no_port
    }

    /// Whether `self` and `other` are handles to the same record (a
    /// [`Packet`](crate::Packet) carries a second handle to the record of its operation).
    pub fn same_record(&self, other: &Overlapped) -> bool {
        Arc::ptr_eq(&self.state, &other.state)
    }

    /// A number identifying the record while it lives (for maps from a dequeued
    /// packet's record back to the application's context).
    pub fn id(&self) -> usize {
        Arc::as_ptr(&self.state) as usize
    }

    fn build(event: Option<Event>) -> Self {
        Self {
            state: Arc::new(OvState {
                status: AtomicU32::new(NtStatus::SUCCESS.0),
                bytes: AtomicU64::new(0),
                flags: AtomicU32::new(0),
                busy: AtomicBool::new(false),
                event,
                done: Event::new_manual(),
                mirror: AtomicU64::new(0),
                no_port: false,
            }),
        }
    }

    /// The record's event, if it has one.
    pub fn event(&self) -> Option<&Event> {
        self.state.event.as_ref()
    }

    /// `HasOverlappedIoCompleted`: false exactly while an operation is pending.
    pub fn is_complete(&self) -> bool {
        self.status() != NtStatus::PENDING
    }

    /// The raw status (`Internal`): `STATUS_PENDING` while in flight.
    pub fn status(&self) -> NtStatus {
        self.state.status()
    }

    /// The result of the last operation (`WSAGetOverlappedResult`).
    ///
    /// With `wait = false` a pending operation gives `WSA_IO_INCOMPLETE`; with `wait =
    /// true` the call blocks (non-alertably) until it completes. Success is the byte count
    /// and receive flags; failure is the WSA-family code (peer reset:
    /// `WSAECONNRESET`; cancelled or closed: `WSA_OPERATION_ABORTED` or
    /// `WSAECONNABORTED`).
    ///
    /// # Errors
    /// `WSA_IO_INCOMPLETE` while pending (with `wait = false`), or the operation's error.
    ///
    /// # Compatibility
    /// Windows' `fWait` waits on `hEvent` and so returns early if the application set the
    /// event by hand; here the wait is on the completion itself.
    pub fn result(&self, wait: bool) -> Result<Transfer, WsaError> {
        self.state.result(wait, None)
    }

    /// As [`Overlapped::result`] with a bound on the wait (`None` = forever).
    ///
    /// # Errors
    /// As [`Overlapped::result`]; `WSA_IO_INCOMPLETE` if the timeout passes.
    pub fn result_timeout(&self, timeout: Option<Duration>) -> Result<Transfer, WsaError> {
        self.state.result(true, timeout)
    }

    /// Mirrors this record's status and byte count into a C `WSAOVERLAPPED`'s `Internal`
    /// and `InternalHigh` on every completion (release ordering).
    ///
    /// # Safety
    /// `ptr` must point to two writable, 8-byte aligned `usize` words that stay valid
    /// until every operation posted with this record has completed.
    pub unsafe fn set_mirror(&self, ptr: *mut usize) {
        self.state.mirror.store(ptr as u64, Ordering::Release);
    }
}

impl OvState {
    /// The raw status (`Internal`): `STATUS_PENDING` while in flight.
    pub(crate) fn status(&self) -> NtStatus {
        NtStatus(self.status.load(Ordering::Acquire))
    }

    /// Binds the record to a new operation: checks it is free, resets the events and
    /// marks it pending. Returns the status to restore if the post fails at once.
    pub(crate) fn begin(&self) -> Result<u32, WsaError> {
        if self.busy.swap(true, Ordering::AcqRel) {
            return Err(WsaError::WSAEINVAL);
        }
        if let Some(e) = &self.event {
            e.reset();
        }
        self.done.reset();
        let previous = self.status.swap(NtStatus::PENDING.0, Ordering::AcqRel);
        self.write_mirror(NtStatus::PENDING, None);
        Ok(previous)
    }

    /// Undoes [`OvState::begin`] for an operation that failed at once (no notification).
    pub(crate) fn abandon(&self, previous: u32) {
        self.status.store(previous, Ordering::Release);
        self.write_mirror(NtStatus(previous), None);
        self.busy.store(false, Ordering::Release);
    }

    /// Records the outcome: from here the record shows the operation complete (a poller
    /// sees it), but nobody waiting on the record or its event is released yet and the
    /// record is not free for a new post until [`OvState::signal`].
    pub(crate) fn publish(&self, status: NtStatus, bytes: usize, flags: u32) {
        self.bytes.store(bytes as u64, Ordering::Relaxed);
        self.flags.store(flags, Ordering::Relaxed);
        self.write_mirror(status, Some(bytes));
        self.status.store(status.0, Ordering::Release);
    }

    /// Frees the record and signals its completion to waiters; also signals the user's
    /// event when `signal_event` (not for routine-mode operations). After
    /// [`OvState::publish`], and after whatever else a released waiter must find done.
    pub(crate) fn signal(&self, signal_event: bool) {
        self.busy.store(false, Ordering::Release);
        self.done.set();
        if signal_event && let Some(e) = &self.event {
            e.set();
        }
    }

    fn write_mirror(&self, status: NtStatus, bytes: Option<usize>) {
        let ptr = self.mirror.load(Ordering::Acquire) as *mut usize;
        if ptr.is_null() {
            return;
        }
        use std::sync::atomic::{AtomicUsize, Ordering as O};
        // SAFETY: `set_mirror`'s contract: two aligned, writable words that outlive every
        // operation posted with this record. They are accessed as atomics so that C code
        // polling `Internal` (HasOverlappedIoCompleted) sees the byte count first.
        let internal = unsafe { AtomicUsize::from_ptr(ptr) };
        // SAFETY: as above; the second word is `InternalHigh`.
        let high = unsafe { AtomicUsize::from_ptr(ptr.wrapping_add(1)) };
        if let Some(b) = bytes {
            high.store(b, O::Relaxed);
        }
        internal.store(status.0 as usize, O::Release);
    }

    /// Waits up to `timeout` for the record's completion signal (non-alertably).
    pub(crate) fn wait_done(&self, timeout: std::time::Duration) {
        let _ = wait_impl(&[&self.done], Some(timeout), false, false);
    }

    /// The result now, without waiting.
    pub(crate) fn result_now(&self) -> Result<Transfer, WsaError> {
        let status = NtStatus(self.status.load(Ordering::Acquire));
        if status == NtStatus::PENDING {
            return Err(WsaError::WSA_IO_INCOMPLETE);
        }
        match status.to_wsa() {
            None => Ok(Transfer {
                bytes: usize::try_from(self.bytes.load(Ordering::Relaxed)).unwrap_or(usize::MAX),
                flags: self.flags.load(Ordering::Relaxed),
            }),
            Some(e) => Err(e),
        }
    }

    pub(crate) fn result(
        &self,
        wait: bool,
        timeout: Option<Duration>,
    ) -> Result<Transfer, WsaError> {
        let deadline = timeout.map(|t| std::time::Instant::now() + t);
        loop {
            match self.result_now() {
                Err(WsaError::WSA_IO_INCOMPLETE) if wait => {}
                other => return other,
            }
            let left = match deadline {
                None => None,
                Some(d) => match d.checked_duration_since(std::time::Instant::now()) {
                    Some(left) => Some(left),
                    None => return Err(WsaError::WSA_IO_INCOMPLETE),
                },
            };
            wait_impl(&[&self.done], left, false, false)?;
        }
    }
}
