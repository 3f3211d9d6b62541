//! `WSADuplicateSocketA`/`W`, and the other half: `WSASocketA`/`W` given the
//! `WSAPROTOCOL_INFO` they filled.
//!
//! # The model
//! `WSADuplicateSocket` parks the source's socket (its `SockEntry`: the kernel socket and
//! the Winsock state, listening, completion-port association, event-select) under a
//! token; the token goes in the record's `dwProviderReserved`, the rest of the record is
//! the socket's catalog entry (what `SO_PROTOCOL_INFO` reports). `WSASocket` with that
//! record takes it out and gives it a handle of its own: the two handles name one
//! socket, as Windows' handles name one kernel object, so an `AcceptEx` on the duplicate
//! of a listener works and its packet reaches the source's completion port; closing one
//! handle leaves the other open, and the last close closes the socket (aborting what is
//! pending). A record is good for one `WSASocket`, as on Windows.
//!
//! # Compatibility
//! - Only the calling process can be the target (`dwProcessId` = `GetCurrentProcessId()`):
//!   another process id fails with `WSAEINVAL`. Handing a socket to another process
//!   would need the receiving process to take the descriptor (`pidfd_getfd`), which a
//!   program written for Windows does not know to allow.
//! - The duplicate is the source's socket itself, so Winsock state that Windows records
//!   per handle when `WSADuplicateSocket` is called (for instance that the source was
//!   not yet bound) is not kept apart: a duplicate of an unbound UDP socket receives
//!   what the source, bound later, receives (Windows fails that `recvfrom` with
//!   `WSAEINVAL`).
//! - A record that is never used keeps its socket open until the process ends (on
//!   Windows, until the target process ends).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};

use overlapped::WsaError;

use crate::handles::{self, SockEntry, started, ws_guard};
use crate::protocols::WSAPROTOCOL_INFO;
use crate::types::{DWORD, SOCKET, SOCKET_ERROR};

/// Duplicates waiting for their `WSASocket`, by token.
static PARKED: Mutex<Option<HashMap<DWORD, Arc<SockEntry>>>> = Mutex::new(None);
/// The next token (never 0: a record from `WSAEnumProtocols` has 0 there).
static NEXT: AtomicU32 = AtomicU32::new(1);

const RESERVED_AT: usize = std::mem::offset_of!(WSAPROTOCOL_INFO<u8>, dwProviderReserved);
const _: () =
    assert!(RESERVED_AT == std::mem::offset_of!(WSAPROTOCOL_INFO<u16>, dwProviderReserved));

fn parked() -> std::sync::MutexGuard<'static, Option<HashMap<DWORD, Arc<SockEntry>>>> {
    PARKED
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The shared body of `WSADuplicateSocketA`/`W`.
///
/// # Safety
/// `info` null or pointing to a writable record of the character set's size (an
/// unwritable one is refused).
unsafe fn duplicate(s: SOCKET, pid: DWORD, info: *mut u8, wide: bool) -> Result<i32, u32> {
    started()?;
    let e = handles::socket(s)?;
    if pid != std::process::id() {
        return Err(WsaError::WSAEINVAL.code());
    }
    if info.is_null() {
        return Err(WsaError::WSAEFAULT.code());
    }
    let size = if wide {
        size_of::<WSAPROTOCOL_INFO<u16>>()
    } else {
        size_of::<WSAPROTOCOL_INFO<u8>>()
    };
    handles::check_out_bytes(info, size)?;
    let mut len = i32::try_from(size).unwrap_or(i32::MAX);
    // SAFETY: `info` has `size` writable bytes (checked above); `len` is a local.
    unsafe { crate::sockopt::protocol_info(&e.sock, wide, info, &raw mut len) }?;
    // The record holds a handle to the socket from now on, as Windows makes the
    // target's handle at this call.
    e.handles.fetch_add(1, Ordering::AcqRel);
    let token = NEXT.fetch_add(1, Ordering::Relaxed).max(1);
    parked().get_or_insert_with(HashMap::new).insert(token, e);
    // SAFETY: inside the record (RESERVED_AT + 4 <= size), writable (checked above).
    unsafe {
        info.wrapping_add(RESERVED_AT)
            .cast::<DWORD>()
            .write_unaligned(token)
    };
    Ok(0)
}

/// The duplicate a `WSAPROTOCOL_INFO` from [`WSADuplicateSocketA`] names, taken out
/// (`None` for any other record: a catalog entry, or one used already).
///
/// # Safety
/// `info` must point to a readable `WSAPROTOCOL_INFOA` or `W` (the caller checked it).
pub(crate) unsafe fn take(info: *const u8) -> Option<Arc<SockEntry>> {
    // SAFETY: the record is readable (the contract); the field is inside it.
    let token = unsafe {
        info.wrapping_add(RESERVED_AT)
            .cast::<DWORD>()
            .read_unaligned()
    };
    if token == 0 {
        return None;
    }
    parked().as_mut()?.remove(&token)
}

/// `int WSADuplicateSocketA(SOCKET s, DWORD dwProcessId, LPWSAPROTOCOL_INFOA lpProtocolInfo)`.
///
/// Parameters: a socket, the target process (this one), the record to fill.
/// Returns: 0, or `SOCKET_ERROR` with `WSAENOTSOCK`, `WSAEINVAL` (another process, or
/// none), `WSAEFAULT` (a NULL or unwritable record), `WSAEMFILE`.
/// Memory and lifetimes: the record is written during the call; it can be given to
/// `WSASocketA` once.
///
/// # Safety
/// `info` must be NULL or point to a `WSAPROTOCOL_INFOA` (an unwritable one is refused).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn WSADuplicateSocketA(
    s: SOCKET,
    pid: DWORD,
    info: *mut WSAPROTOCOL_INFO<u8>,
) -> i32 {
    // SAFETY: the contract.
    ws_guard(SOCKET_ERROR, || unsafe {
        duplicate(s, pid, info.cast(), false)
    })
}

/// `int WSADuplicateSocketW(SOCKET s, DWORD dwProcessId, LPWSAPROTOCOL_INFOW lpProtocolInfo)`:
/// as [`WSADuplicateSocketA`], with the wide record.
///
/// Parameters: as `WSADuplicateSocketA`.
/// Returns: as `WSADuplicateSocketA`.
/// Memory and lifetimes: as `WSADuplicateSocketA`.
///
/// # Safety
/// `info` must be NULL or point to a `WSAPROTOCOL_INFOW` (an unwritable one is refused).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn WSADuplicateSocketW(
    s: SOCKET,
    pid: DWORD,
    info: *mut WSAPROTOCOL_INFO<u16>,
) -> i32 {
    // SAFETY: the contract.
    ws_guard(SOCKET_ERROR, || unsafe {
        duplicate(s, pid, info.cast(), true)
    })
}
