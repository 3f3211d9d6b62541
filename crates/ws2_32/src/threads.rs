//! Threads: `CreateThread`, `_beginthreadex`, `ResumeThread`, `GetCurrentThreadId`,
//! `GetExitCodeThread`, `ExitThread`, `_endthreadex` (waits on thread handles are in
//! `events`; `CloseHandle` too).
//!
//! # The model
//! A thread is a real, detached POSIX thread. Its handle is a table entry holding a
//! manual-reset event that is set when the thread has exited, and its exit code. The
//! event is set by a thread-local destructor registered before the start routine runs,
//! so it runs after every destructor registered later (glibc runs them last-in,
//! first-out), the library's thread-exit rules among them: operations the thread posted
//! are cancelled by then unless their socket is on a completion port (semantics 1.4).
//!
//! `ExitThread` ends the thread with `pthread_exit`, whose forced unwind passes only
//! through C frames and the start trampoline, which owns nothing that needs dropping.

use std::cell::{Cell, RefCell};
use std::ffi::c_void;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};

use overlapped::Event;

use crate::handles::{self, Object, guard};
use crate::types::{BOOL, DWORD, FALSE, HANDLE, TRUE, win32};

/// `LPTHREAD_START_ROUTINE`: `DWORD WINAPI ThreadProc(LPVOID)`. "C-unwind": `ExitThread`
/// unwinds out of it.
pub type ThreadProc = unsafe extern "C-unwind" fn(*mut c_void) -> DWORD;

/// `CREATE_SUSPENDED`.
pub const CREATE_SUSPENDED: DWORD = 0x4;
/// `STACK_SIZE_PARAM_IS_A_RESERVATION`.
pub const STACK_SIZE_PARAM_IS_A_RESERVATION: DWORD = 0x1_0000;

/// A thread handle's object.
#[derive(Debug)]
pub struct ThreadObj {
    /// Set when the thread has exited.
    exited: Event,
    /// Set by `ResumeThread` for a thread created suspended.
    resume: Event,
    /// Created with `CREATE_SUSPENDED` and not resumed yet.
    suspended: AtomicBool,
    /// The exit code (meaningful once `exited` is set).
    code: AtomicU32,
    /// `GetCurrentThreadId` of the thread.
    id: DWORD,
}

impl ThreadObj {
    /// The event set when the thread has exited (what a wait on the handle waits for).
    pub(crate) fn exited(&self) -> &Event {
        &self.exited
    }

    /// `GetCurrentThreadId` of the thread.
    pub(crate) fn id(&self) -> DWORD {
        self.id
    }
}

/// Signals the thread's handle when the thread's thread-locals are destroyed.
struct ExitGuard(RefCell<Option<Arc<ThreadObj>>>);

impl Drop for ExitGuard {
    fn drop(&mut self) {
        if let Some(t) = self.0.borrow_mut().take() {
            t.exited.set();
        }
    }
}

thread_local! {
    /// The object of a thread created here (None for other threads).
    static CURRENT: ExitGuard = const { ExitGuard(RefCell::new(None)) };
    /// `GetCurrentThreadId`, given out on first use (or by `CreateThread`).
    static ID: Cell<DWORD> = const { Cell::new(0) };
}

/// Thread ids: nonzero multiples of 4, as on Windows.
static NEXT_ID: AtomicU32 = AtomicU32::new(0x1000);

fn next_id() -> DWORD {
    loop {
        let id = NEXT_ID.fetch_add(4, Ordering::Relaxed);
        if id != 0 {
            return id;
        }
    }
}

/// What the trampoline hands to the new thread.
struct Start {
    routine: ThreadProc,
    param: usize,
    obj: Arc<ThreadObj>,
}

unsafe extern "C" {
    /// `pthread_create`, declared with a start routine that may be unwound by
    /// `pthread_exit`.
    #[link_name = "pthread_create"]
    fn pthread_create_unwind(
        native: *mut libc::pthread_t,
        attr: *const libc::pthread_attr_t,
        f: extern "C-unwind" fn(*mut c_void) -> *mut c_void,
        value: *mut c_void,
    ) -> libc::c_int;
}

unsafe extern "C-unwind" {
    /// `pthread_exit`: ends the thread by a forced unwind.
    #[link_name = "pthread_exit"]
    fn pthread_exit_unwind(value: *mut c_void) -> !;
}

/// Sets the new thread up: its id, its exit guard (registered before anything else the
/// thread does), and waits while it is suspended. Returns the routine and its argument.
fn begin(arg: *mut c_void) -> Option<(ThreadProc, usize)> {
    catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: `arg` is the `Box<Start>` leaked by `spawn` for this thread only.
        let start = unsafe { Box::from_raw(arg.cast::<Start>()) };
        ID.with(|c| c.set(start.obj.id));
        crate::process::register_apc_target(start.obj.id);
        CURRENT.with(|g| *g.0.borrow_mut() = Some(Arc::clone(&start.obj)));
        while start.obj.suspended.load(Ordering::Acquire) {
            let _ = start.obj.resume.wait(None);
        }
        (start.routine, start.param)
    }))
    .ok()
}

/// Records the exit code of a thread created here.
fn set_exit_code(code: DWORD) {
    let _ = CURRENT.try_with(|g| {
        if let Ok(g) = g.0.try_borrow()
            && let Some(t) = g.as_ref()
        {
            t.code.store(code, Ordering::Release);
        }
    });
}

/// The thread's first frame. It owns nothing that needs dropping while the C routine
/// runs, so `ExitThread`'s forced unwind may pass through it.
extern "C-unwind" fn trampoline(arg: *mut c_void) -> *mut c_void {
    let Some((routine, param)) = begin(arg) else {
        return std::ptr::null_mut();
    };
    // SAFETY: the start routine and argument the application gave `CreateThread`.
    let code = unsafe { routine(param as *mut c_void) };
    set_exit_code(code);
    std::ptr::null_mut()
}

/// Creates a thread; returns its handle and id.
fn spawn(
    stack: usize,
    routine: Option<ThreadProc>,
    param: *mut c_void,
    flags: DWORD,
) -> Result<(usize, DWORD), u32> {
    let routine = routine.ok_or(win32::ERROR_INVALID_PARAMETER)?;
    if flags & !(CREATE_SUSPENDED | STACK_SIZE_PARAM_IS_A_RESERVATION) != 0 {
        return Err(win32::ERROR_INVALID_PARAMETER);
    }
    let obj = Arc::new(ThreadObj {
        exited: Event::new_manual(),
        resume: Event::new_manual(),
        suspended: AtomicBool::new(flags & CREATE_SUSPENDED != 0),
        code: AtomicU32::new(0),
        id: next_id(),
    });
    let h = handles::insert(Object::Thread(Arc::clone(&obj)))?;
    let arg = Box::into_raw(Box::new(Start {
        routine,
        param: param as usize,
        obj: Arc::clone(&obj),
    }));
    // SAFETY: a zeroed attribute object is only a placeholder for pthread_attr_init.
    let mut attr: libc::pthread_attr_t = unsafe { std::mem::zeroed() };
    let mut native: libc::pthread_t = 0;
    // SAFETY: `attr` is a local attribute object, initialised here.
    unsafe { libc::pthread_attr_init(&mut attr) };
    // SAFETY: an initialised attribute object.
    unsafe { libc::pthread_attr_setdetachstate(&mut attr, libc::PTHREAD_CREATE_DETACHED) };
    if stack > 0 {
        let size = stack.max(256 * 1024).next_multiple_of(65536);
        // SAFETY: an initialised attribute object.
        unsafe { libc::pthread_attr_setstacksize(&mut attr, size) };
    }
    // SAFETY: `attr` is initialised; `arg` is handed to the new thread, which takes
    // ownership of it (or we take it back below if no thread was created).
    let rc = unsafe { pthread_create_unwind(&mut native, &attr, trampoline, arg.cast()) };
    // SAFETY: an initialised attribute object, no longer used.
    unsafe { libc::pthread_attr_destroy(&mut attr) };
    if rc != 0 {
        // SAFETY: the thread was not created, so `arg` is still ours.
        drop(unsafe { Box::from_raw(arg) });
        handles::remove(h);
        return Err(win32::ERROR_NOT_ENOUGH_MEMORY);
    }
    Ok((h, obj.id))
}

/// `HANDLE CreateThread(LPSECURITY_ATTRIBUTES lpThreadAttributes, SIZE_T dwStackSize,
/// LPTHREAD_START_ROUTINE lpStartAddress, LPVOID lpParameter, DWORD dwCreationFlags,
/// LPDWORD lpThreadId)`: starts a real OS thread running `lpStartAddress(lpParameter)`;
/// its return value is the exit code. The handle is signalled once the thread has
/// exited.
///
/// Parameters: security attributes (ignored), the stack size (0: the default; at least
/// 256 KiB), the routine, its argument, `CREATE_SUSPENDED` /
/// `STACK_SIZE_PARAM_IS_A_RESERVATION`, where to write the thread id (or NULL).
/// Returns: the handle, or NULL with `ERROR_INVALID_PARAMETER` (NULL routine, unknown
/// flags) or `ERROR_NOT_ENOUGH_MEMORY` (the thread could not be created).
/// Memory and lifetimes: the handle lives until `CloseHandle`, which does not stop the
/// thread.
///
/// # Compatibility
/// Windows creates a thread for a NULL routine (which then faults); here it fails.
///
/// # Safety
/// `lpStartAddress` must be a function of that type; `lpThreadId` null or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn CreateThread(
    _sa: *mut c_void,
    stack: usize,
    routine: Option<ThreadProc>,
    param: *mut c_void,
    flags: DWORD,
    tid: *mut DWORD,
) -> HANDLE {
    guard(std::ptr::null_mut(), || {
        let (h, id) = spawn(stack, routine, param, flags)?;
        if !tid.is_null() {
            // SAFETY: non-null and writable (the contract).
            unsafe { tid.write(id) };
        }
        Ok(h as HANDLE)
    })
}

/// `uintptr_t _beginthreadex(void *security, unsigned stack_size, unsigned (__stdcall
/// *start_address)(void *), void *arglist, unsigned initflag, unsigned *thrdaddr)`
/// (`<process.h>`): as [`CreateThread`].
///
/// Parameters: as `CreateThread`.
/// Returns: the thread handle, or 0 with `errno` = `EINVAL` (NULL routine, bad flags) or
/// `EAGAIN`, and the Win32 code as the last error.
/// Memory and lifetimes: as `CreateThread`; close the handle with `CloseHandle`.
///
/// # Safety
/// As [`CreateThread`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn _beginthreadex(
    _security: *mut c_void,
    stack: u32,
    routine: Option<ThreadProc>,
    arg: *mut c_void,
    flags: u32,
    tid: *mut u32,
) -> usize {
    guard(0, || match spawn(stack as usize, routine, arg, flags) {
        Ok((h, id)) => {
            if !tid.is_null() {
                // SAFETY: non-null and writable (the contract).
                unsafe { tid.write(id) };
            }
            Ok(h)
        }
        Err(code) => {
            let errno = if code == win32::ERROR_INVALID_PARAMETER {
                libc::EINVAL
            } else {
                libc::EAGAIN
            };
            // SAFETY: always safe: the calling thread's errno slot.
            let slot = unsafe { libc::__errno_location() };
            // SAFETY: a valid, thread-local int.
            unsafe { *slot = errno };
            Err(code)
        }
    })
}

/// `DWORD ResumeThread(HANDLE hThread)`: starts a thread created with
/// `CREATE_SUSPENDED`.
///
/// Parameters: a thread handle.
/// Returns: the previous suspend count (1 if it was suspended, else 0), or
/// `(DWORD)-1` with `ERROR_INVALID_HANDLE`.
/// Memory and lifetimes: nothing is kept.
///
/// # Safety
/// Always safe to call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ResumeThread(h: HANDLE) -> DWORD {
    guard(DWORD::MAX, || {
        let t = thread(h)?;
        let was = t.suspended.swap(false, Ordering::AcqRel);
        t.resume.set();
        Ok(DWORD::from(was))
    })
}

fn thread(h: HANDLE) -> Result<Arc<ThreadObj>, u32> {
    match handles::get(h as usize) {
        Some(Object::Thread(t)) => Ok(t),
        _ => Err(win32::ERROR_INVALID_HANDLE),
    }
}

/// `DWORD GetCurrentThreadId(void)`: a nonzero id, distinct for every thread of the
/// process (a multiple of 4, as on Windows); a `CreateThread` thread has the id its
/// creator was given.
///
/// Parameters: none.
/// Returns: the id.
/// Memory and lifetimes: nothing is kept.
///
/// # Safety
/// Always safe to call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn GetCurrentThreadId() -> DWORD {
    guard(0, || Ok(current_id()))
}

/// The calling thread's id (0 only while its thread-locals are being destroyed).
pub(crate) fn current_id() -> DWORD {
    ID.try_with(|c| {
        if c.get() == 0 {
            c.set(next_id());
        }
        c.get()
    })
    .unwrap_or(0)
}

/// `BOOL GetExitCodeThread(HANDLE hThread, LPDWORD lpExitCode)`: `STILL_ACTIVE` (259)
/// while the thread runs, then its exit code.
///
/// Parameters: a thread handle, where to write the code.
/// Returns: TRUE, or FALSE with `ERROR_INVALID_HANDLE` or `ERROR_INVALID_PARAMETER`
/// (NULL `lpExitCode`; Windows faults).
/// Memory and lifetimes: `lpExitCode` is written before return.
///
/// # Safety
/// `lpExitCode` null or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn GetExitCodeThread(h: HANDLE, code: *mut DWORD) -> BOOL {
    guard(FALSE, || {
        let t = thread(h)?;
        if code.is_null() {
            return Err(win32::ERROR_INVALID_PARAMETER);
        }
        let v = if t.exited.is_set() {
            t.code.load(Ordering::Acquire)
        } else {
            win32::STILL_ACTIVE
        };
        // SAFETY: non-null and writable (the contract).
        unsafe { code.write(v) };
        Ok(TRUE)
    })
}

/// `void ExitThread(DWORD dwExitCode)`: ends the calling thread with that exit code
/// (through `pthread_exit`).
///
/// Parameters: the exit code.
/// Returns: never.
/// Memory and lifetimes: the thread's thread-locals are destroyed; its handle is
/// signalled.
///
/// # Compatibility
/// Call it from C frames of the thread (its start routine or functions it calls), not
/// from a completion routine: the forced unwind must not pass through the library's
/// own frames.
///
/// # Safety
/// See `# Compatibility`.
#[unsafe(no_mangle)]
pub unsafe extern "C-unwind" fn ExitThread(code: DWORD) -> ! {
    set_exit_code(code);
    // SAFETY: ends this thread; the frames it unwinds are the application's C frames and
    // the trampoline (see `# Compatibility`).
    unsafe { pthread_exit_unwind(std::ptr::null_mut()) }
}

/// `void _endthreadex(unsigned retval)` (`<process.h>`): as [`ExitThread`].
///
/// Parameters: the exit code.
/// Returns: never.
/// Memory and lifetimes: as `ExitThread`.
///
/// # Safety
/// As [`ExitThread`].
#[unsafe(no_mangle)]
pub unsafe extern "C-unwind" fn _endthreadex(code: u32) -> ! {
    // SAFETY: the same contract.
    unsafe { ExitThread(code) }
}

const _: () = assert!(TRUE == 1);
