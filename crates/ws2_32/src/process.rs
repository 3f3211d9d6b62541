//! The process and its threads as kernel32 names them: the pseudo handles
//! (`GetCurrentProcess`, `GetCurrentThread`), `DuplicateHandle`, `QueueUserAPC`, and
//! thread-local storage (`TlsAlloc`, `TlsFree`, `TlsGetValue`, `TlsSetValue`).
//!
//! A user APC is queued on the target thread's routine queue in the `overlapped` library
//! ([`overlapped::ApcTarget`]): it runs in that thread's next alertable wait (`SleepEx`,
//! `WaitForSingleObjectEx`, `WaitForMultipleObjectsEx`, `WSAWaitForMultipleEvents`,
//! `GetQueuedCompletionStatusEx` with `fAlertable`), which then returns
//! `WAIT_IO_COMPLETION`, in FIFO order with the thread's completion routines.

use std::cell::RefCell;
use std::collections::HashMap;
use std::ffi::c_void;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};

use overlapped::ApcTarget;

use crate::handles::{self, Object, guard, set_last_error};
use crate::types::{BOOL, DWORD, FALSE, HANDLE, TRUE, win32};

/// `GetCurrentProcess()`: `(HANDLE)-1`, as on Windows.
const CURRENT_PROCESS: usize = usize::MAX;
/// `GetCurrentThread()`: `(HANDLE)-2`, as on Windows.
const CURRENT_THREAD: usize = usize::MAX - 1;

const ERROR_GEN_FAILURE: u32 = 31;
const DUPLICATE_CLOSE_SOURCE: DWORD = 1;
const DUPLICATE_SAME_ACCESS: DWORD = 2;

/// `HANDLE GetCurrentProcess(void)`: the pseudo handle `(HANDLE)-1` that names the
/// calling process (as `DuplicateHandle`'s process arguments).
///
/// Parameters: none.
/// Returns: `(HANDLE)-1`.
/// Memory and lifetimes: nothing to close (`CloseHandle` on it is harmless on Windows).
///
/// # Safety
/// Always safe to call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn GetCurrentProcess() -> HANDLE {
    CURRENT_PROCESS as HANDLE
}

/// `HANDLE GetCurrentThread(void)`: the pseudo handle `(HANDLE)-2`, which names the
/// calling thread wherever it is used (`QueueUserAPC`).
///
/// Parameters: none.
/// Returns: `(HANDLE)-2`.
/// Memory and lifetimes: nothing to close.
///
/// # Safety
/// Always safe to call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn GetCurrentThread() -> HANDLE {
    CURRENT_THREAD as HANDLE
}

// --- QueueUserAPC -----------------------------------------------------------------------

/// A `PAPCFUNC`.
type ApcFunc = unsafe extern "C" fn(usize);

/// The APC queues of the threads created by `CreateThread`/`_beginthreadex`, by thread
/// id, and the APCs queued to such a thread before it started (it takes them on start).
#[derive(Default)]
struct Targets {
    running: HashMap<DWORD, ApcTarget>,
    early: HashMap<DWORD, Vec<(ApcFunc, usize)>>,
}

static TARGETS: Mutex<Option<Targets>> = Mutex::new(None);

fn targets() -> MutexGuard<'static, Option<Targets>> {
    TARGETS.lock().unwrap_or_else(|e| e.into_inner())
}

fn queue_on(target: &ApcTarget, f: ApcFunc, data: usize) -> bool {
    // SAFETY: `f` is the application's APC function, called with its own argument on the
    // target thread, as QueueUserAPC promises.
    target.queue(move || unsafe { f(data) })
}

/// Called by a new `CreateThread` thread before its routine runs: makes its APC queue
/// reachable through its handle, and queues what was queued to it before it started.
pub(crate) fn register_apc_target(id: DWORD) {
    let target = ApcTarget::current();
    let early = {
        let mut g = targets();
        let t = g.get_or_insert_with(Targets::default);
        t.running.retain(|_, v| v.is_alive());
        t.running.insert(id, target.clone());
        t.early.remove(&id).unwrap_or_default()
    };
    for (f, data) in early {
        queue_on(&target, f, data);
    }
}

/// `DWORD QueueUserAPC(PAPCFUNC pfnAPC, HANDLE hThread, ULONG_PTR dwData)`: queues
/// `pfnAPC(dwData)` to run on the thread `hThread` the next time it waits alertably.
///
/// Parameters: the function; `GetCurrentThread()` or a thread handle from
/// `CreateThread`/`_beginthreadex`; its argument.
/// Returns: nonzero, or 0 with `ERROR_INVALID_PARAMETER` (NULL function),
/// `ERROR_INVALID_HANDLE` (not a thread handle), `ERROR_GEN_FAILURE` (the thread has
/// exited).
/// Memory and lifetimes: `dwData` is passed through; whatever it points to must stay
/// valid until the APC runs. APCs still queued when their thread exits never run.
///
/// # Safety
/// `pfnAPC` must be a function that may be called with `dwData` on the target thread.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn QueueUserAPC(f: Option<ApcFunc>, thread: HANDLE, data: usize) -> DWORD {
    guard(0, || {
        let f = f.ok_or(win32::ERROR_INVALID_PARAMETER)?;
        if thread as usize == CURRENT_THREAD {
            return if queue_on(&ApcTarget::current(), f, data) {
                Ok(1)
            } else {
                Err(ERROR_GEN_FAILURE)
            };
        }
        let Some(Object::Thread(t)) = handles::get(thread as usize) else {
            return Err(win32::ERROR_INVALID_HANDLE);
        };
        if t.exited().is_set() {
            return Err(ERROR_GEN_FAILURE);
        }
        let mut g = targets();
        let all = g.get_or_insert_with(Targets::default);
        match all.running.get(&t.id()) {
            Some(target) => {
                let target = target.clone();
                drop(g);
                if queue_on(&target, f, data) {
                    Ok(1)
                } else {
                    Err(ERROR_GEN_FAILURE)
                }
            }
            None => {
                // Created but not started yet: it takes these when it starts.
                all.early.entry(t.id()).or_default().push((f, data));
                Ok(1)
            }
        }
    })
}

// --- DuplicateHandle ----------------------------------------------------------------

/// `BOOL DuplicateHandle(HANDLE hSourceProcessHandle, HANDLE hSourceHandle, HANDLE
/// hTargetProcessHandle, LPHANDLE lpTargetHandle, DWORD dwDesiredAccess, BOOL
/// bInheritHandle, DWORD dwOptions)`: a second handle to the same event, thread or
/// socket, in this process.
///
/// Parameters: both process handles `GetCurrentProcess()`; an event, thread or socket
/// handle;
/// where to store the new handle (NULL: none is made); access and inheritance are
/// ignored (one process, full access); `DUPLICATE_CLOSE_SOURCE` closes the source
/// handle (even when the duplication fails, as on Windows), `DUPLICATE_SAME_ACCESS`.
/// Returns: TRUE, or FALSE with `ERROR_INVALID_HANDLE` (another process, a handle that
/// names nothing), `ERROR_INVALID_PARAMETER` (unknown options), `ERROR_NOT_SUPPORTED`
/// (a completion port, a pseudo handle).
/// Memory and lifetimes: the new handle is closed with `CloseHandle`; the object lives
/// until its last handle is closed (an event set through one handle is set for both; a
/// socket stays open until `closesocket` of its socket handle and `CloseHandle` of
/// every copy).
///
/// # Compatibility
/// The copy of a socket handle is, as on Windows, a handle to the socket's file object:
/// `CloseHandle` and the waits take it, but Winsock calls do not take it as a socket
/// (`WSAENOTSOCK`; Microsoft documents that Winsock may not recognise it: use
/// `WSADuplicateSocket`). Completion ports are refused, because closing one handle
/// closes the port; pseudo handles, because there is no process object and no handle
/// for threads not created through this library.
///
/// # Safety
/// `lpTargetHandle` must be NULL or point to writable memory for a `HANDLE`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn DuplicateHandle(
    src_process: HANDLE,
    src: HANDLE,
    dst_process: HANDLE,
    dst: *mut HANDLE,
    _access: DWORD,
    _inherit: BOOL,
    options: DWORD,
) -> BOOL {
    guard(FALSE, || {
        if src_process as usize != CURRENT_PROCESS || dst_process as usize != CURRENT_PROCESS {
            return Err(win32::ERROR_INVALID_HANDLE);
        }
        if options & !(DUPLICATE_CLOSE_SOURCE | DUPLICATE_SAME_ACCESS) != 0 {
            return Err(win32::ERROR_INVALID_PARAMETER);
        }
        let copy = match src as usize {
            CURRENT_PROCESS | CURRENT_THREAD => Err(overlapped::win32::ERROR_NOT_SUPPORTED),
            h => match handles::get(h) {
                Some(Object::Event(e)) => Ok(Object::Event(e)),
                Some(Object::Thread(t)) => Ok(Object::Thread(t)),
                // Another handle to the socket's file object: it counts as one of the
                // socket's handles (the last one closes it).
                Some(Object::Socket(s) | Object::SocketFile(s)) => {
                    s.handles.fetch_add(1, Ordering::AcqRel);
                    Ok(Object::SocketFile(s))
                }
                Some(Object::Port(_)) => Err(overlapped::win32::ERROR_NOT_SUPPORTED),
                None => Err(win32::ERROR_INVALID_HANDLE),
            },
        };
        let made = match copy {
            Ok(obj) if !dst.is_null() => {
                let counted = match &obj {
                    Object::SocketFile(s) => Some(std::sync::Arc::clone(s)),
                    _ => None,
                };
                match handles::insert(obj) {
                    Ok(h) => {
                        // SAFETY: `dst` is non-null and, by the caller's contract, writable.
                        unsafe { dst.write(h as HANDLE) };
                        Ok(TRUE)
                    }
                    Err(e) => {
                        if let Some(s) = counted {
                            crate::sockets::release(s);
                        }
                        Err(e)
                    }
                }
            }
            Ok(Object::SocketFile(s)) => {
                crate::sockets::release(s);
                Ok(TRUE)
            }
            Ok(_) => Ok(TRUE),
            Err(e) => Err(e),
        };
        if options & DUPLICATE_CLOSE_SOURCE != 0 {
            let keep = crate::handles::last_error();
            // SAFETY: CloseHandle accepts any value.
            unsafe { crate::events::CloseHandle(src) };
            set_last_error(keep);
        }
        made
    })
}

// --- thread-local storage -----------------------------------------------------------

/// `TLS_MINIMUM_AVAILABLE` (64) plus Windows' 1024 expansion slots.
const TLS_SLOTS: usize = 1088;
const TLS_OUT_OF_INDEXES: DWORD = 0xFFFF_FFFF;

/// Which indexes are allocated.
static TLS_USED: Mutex<Vec<bool>> = Mutex::new(Vec::new());
/// Each index's generation, bumped by `TlsAlloc` and `TlsFree`: a thread's value
/// written under an older generation reads as NULL (Windows clears the slot in every
/// thread when an index is allocated or freed).
static TLS_GEN: [AtomicU64; TLS_SLOTS] = [const { AtomicU64::new(0) }; TLS_SLOTS];

thread_local! {
    /// This thread's values: (generation, value) by index.
    static TLS_VALUES: RefCell<Vec<(u64, usize)>> = const { RefCell::new(Vec::new()) };
}

fn tls_used() -> MutexGuard<'static, Vec<bool>> {
    TLS_USED.lock().unwrap_or_else(|e| e.into_inner())
}

fn tls_index(index: DWORD) -> Result<usize, u32> {
    usize::try_from(index)
        .ok()
        .filter(|&i| i < TLS_SLOTS)
        .ok_or(win32::ERROR_INVALID_PARAMETER)
}

/// `DWORD TlsAlloc(void)`: a thread-local storage index, its value NULL in every thread.
///
/// Parameters: none.
/// Returns: an index (0 to 1087), or `TLS_OUT_OF_INDEXES` with `ERROR_NO_MORE_ITEMS`
/// (259) when all 1088 are in use.
/// Memory and lifetimes: the index stays allocated until `TlsFree`.
///
/// # Safety
/// Always safe to call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn TlsAlloc() -> DWORD {
    guard(TLS_OUT_OF_INDEXES, || {
        let mut used = tls_used();
        if used.is_empty() {
            used.resize(TLS_SLOTS, false);
        }
        let i = used.iter().position(|u| !u).ok_or(259u32)?;
        used[i] = true;
        TLS_GEN[i].fetch_add(1, Ordering::AcqRel);
        Ok(DWORD::try_from(i).unwrap_or(TLS_OUT_OF_INDEXES))
    })
}

/// `BOOL TlsFree(DWORD dwTlsIndex)`: frees an index; its value is gone in every thread.
///
/// Parameters: an index from `TlsAlloc`.
/// Returns: TRUE, or FALSE with `ERROR_INVALID_PARAMETER` (out of range or not
/// allocated).
/// Memory and lifetimes: what the values pointed to is the application's to free.
///
/// # Safety
/// Always safe to call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn TlsFree(index: DWORD) -> BOOL {
    guard(FALSE, || {
        let i = tls_index(index)?;
        let mut used = tls_used();
        if !used.get(i).copied().unwrap_or(false) {
            return Err(win32::ERROR_INVALID_PARAMETER);
        }
        used[i] = false;
        TLS_GEN[i].fetch_add(1, Ordering::AcqRel);
        Ok(TRUE)
    })
}

/// `LPVOID TlsGetValue(DWORD dwTlsIndex)`: the calling thread's value at the index.
///
/// Parameters: an index below 1088.
/// Returns: the value (NULL if never set in this thread), with the last error set to
/// `ERROR_SUCCESS` (so a NULL value can be told from a failure, as on Windows), or
/// NULL with `ERROR_INVALID_PARAMETER` (out of range).
/// Memory and lifetimes: nothing is kept.
///
/// # Safety
/// Always safe to call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn TlsGetValue(index: DWORD) -> *mut c_void {
    guard(std::ptr::null_mut(), || {
        let i = tls_index(index)?;
        let gen_now = TLS_GEN[i].load(Ordering::Acquire);
        let v = TLS_VALUES
            .try_with(|v| match v.borrow().get(i) {
                Some(&(g, value)) if g == gen_now => value,
                _ => 0,
            })
            .unwrap_or(0);
        set_last_error(0);
        Ok(v as *mut c_void)
    })
}

/// `BOOL TlsSetValue(DWORD dwTlsIndex, LPVOID lpTlsValue)`: sets the calling thread's
/// value at the index.
///
/// Parameters: an index below 1088; any value.
/// Returns: TRUE, or FALSE with `ERROR_INVALID_PARAMETER` (out of range).
/// Memory and lifetimes: the value is stored as is; nothing frees it when the thread exits.
///
/// # Safety
/// Always safe to call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn TlsSetValue(index: DWORD, value: *mut c_void) -> BOOL {
    guard(FALSE, || {
        let i = tls_index(index)?;
        let gen_now = TLS_GEN[i].load(Ordering::Acquire);
        TLS_VALUES
            .try_with(|v| {
                let mut v = v.borrow_mut();
                if v.len() <= i {
                    v.resize(i + 1, (0, 0));
                }
                v[i] = (gen_now, value as usize);
            })
            .map_err(|_| win32::ERROR_INVALID_PARAMETER)?;
        Ok(TRUE)
    })
}
