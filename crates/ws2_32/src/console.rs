//! The console: control handlers (`SetConsoleCtrlHandler`, how servers written for
//! Windows learn of Ctrl+C and shut down cleanly), and the standard handles with
//! `WriteConsoleA`, which Microsoft's samples print through.
//!
//! # The model
//! Linux delivers these as signals: `SIGINT` is `CTRL_C_EVENT`, `SIGQUIT` (Ctrl+\\) is
//! `CTRL_BREAK_EVENT`, `SIGHUP` and `SIGTERM` are `CTRL_CLOSE_EVENT`. When the first
//! handler is added, the library installs a signal handler for the four that only
//! writes the signal's number to a pipe (all a signal handler may safely do), and
//! starts one thread, `ovl-console`, that reads the pipe and calls the handlers as
//! Windows does on its control thread: the most recently added first, until one returns
//! TRUE. If none does, the default action follows: the signal's own default (the
//! process ends by that signal, as Windows' default handler ends it). After a
//! `CTRL_CLOSE_EVENT` the process ends even when a handler returned TRUE, as on Windows.
//!
//! # Compatibility
//! - The handlers run on one library thread for every event (Windows starts a thread
//!   per event), one event after another.
//! - The signal dispositions are the library's from the first `SetConsoleCtrlHandler`
//!   call on; a program that also installs its own `SIGINT` handler with `sigaction`
//!   replaces ours.
//! - `CTRL_LOGOFF_EVENT` and `CTRL_SHUTDOWN_EVENT` never occur.

use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::sync::{Mutex, Once};

use crate::handles::guard;
use crate::types::{BOOL, DWORD, FALSE, TRUE, win32};

/// `PHANDLER_ROUTINE`: `BOOL WINAPI HandlerRoutine(DWORD dwCtrlType)`.
pub type HandlerRoutine = unsafe extern "C" fn(DWORD) -> BOOL;

/// `CTRL_C_EVENT`.
pub const CTRL_C_EVENT: DWORD = 0;
/// `CTRL_BREAK_EVENT`.
pub const CTRL_BREAK_EVENT: DWORD = 1;
/// `CTRL_CLOSE_EVENT`.
pub const CTRL_CLOSE_EVENT: DWORD = 2;

/// The signals that stand for console events.
const SIGNALS: [libc::c_int; 4] = [libc::SIGINT, libc::SIGQUIT, libc::SIGHUP, libc::SIGTERM];

/// The handlers, in the order they were added (called last first).
static HANDLERS: Mutex<Vec<HandlerRoutine>> = Mutex::new(Vec::new());
/// `SetConsoleCtrlHandler(NULL, TRUE)`: Ctrl+C is ignored.
static IGNORE_CTRL_C: AtomicBool = AtomicBool::new(false);
/// The pipe's write end, for the signal handler (-1 before the first handler).
static PIPE_WRITE: AtomicI32 = AtomicI32::new(-1);
/// Set up once: the pipe, the dispatching thread, the signal handlers.
static SETUP: Once = Once::new();
/// Whether the setup worked.
static READY: AtomicBool = AtomicBool::new(false);

/// The signal handler: hands the signal's number to the dispatching thread.
extern "C" fn on_signal(sig: libc::c_int) {
    // SAFETY: always safe: the address of the thread's own errno.
    let errno = unsafe { libc::__errno_location() };
    // SAFETY: a valid, thread-local int; restored below so that the interrupted code
    // does not see ours.
    let saved = unsafe { errno.read() };
    let fd = PIPE_WRITE.load(Ordering::Relaxed);
    if fd >= 0 {
        let byte = u8::try_from(sig).unwrap_or(0);
        // SAFETY: write(2) is async-signal-safe; one byte from a local. A full pipe
        // (a flood of signals) drops the byte: the events are alike.
        unsafe { libc::write(fd, (&raw const byte).cast(), 1) };
    }
    // SAFETY: as above.
    unsafe { errno.write(saved) };
}

fn event_of(sig: libc::c_int) -> DWORD {
    match sig {
        libc::SIGINT => CTRL_C_EVENT,
        libc::SIGQUIT => CTRL_BREAK_EVENT,
        _ => CTRL_CLOSE_EVENT,
    }
}

/// Ends the process by `sig` with its default action.
fn die_by(sig: libc::c_int) -> ! {
    // SAFETY: resetting a disposition to the default and raising the signal are plain
    // calls; if the signal is blocked or ignored elsewhere, `_exit` below still ends the
    // process.
    unsafe {
        libc::signal(sig, libc::SIG_DFL);
    }
    // SAFETY: getpid has no preconditions.
    let me = unsafe { libc::getpid() };
    // SAFETY: sends the signal to ourselves.
    unsafe { libc::kill(me, sig) };
    // SAFETY: ends the process at once, as the signal would have.
    unsafe { libc::_exit(128 + sig) }
}

/// Calls the handlers for one signal (the `ovl-console` thread).
fn dispatch(sig: libc::c_int) {
    let event = event_of(sig);
    if event == CTRL_C_EVENT && IGNORE_CTRL_C.load(Ordering::Acquire) {
        return;
    }
    let handlers = HANDLERS
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .clone();
    let mut handled = false;
    for h in handlers.iter().rev() {
        // SAFETY: a handler the program registered, of the documented type.
        if unsafe { h(event) } != FALSE {
            handled = true;
            break;
        }
    }
    if !handled || event == CTRL_CLOSE_EVENT {
        die_by(sig);
    }
}

fn setup() -> Result<(), u32> {
    SETUP.call_once(|| {
        let mut fds = [0; 2];
        // SAFETY: `fds` has room for the two descriptors.
        if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
            return;
        }
        let [read_end, write_end] = fds;
        // SAFETY: our own descriptor; the signal handler must never block.
        unsafe { libc::fcntl(write_end, libc::F_SETFL, libc::O_NONBLOCK) };
        let thread = std::thread::Builder::new()
            .name("ovl-console".into())
            .spawn(move || {
                loop {
                    let mut byte = 0u8;
                    // SAFETY: reads one byte into a local from our pipe.
                    let n = unsafe { libc::read(read_end, (&raw mut byte).cast(), 1) };
                    if n == 1 {
                        dispatch(libc::c_int::from(byte));
                    } else if n < 0
                        && std::io::Error::last_os_error().raw_os_error() == Some(libc::EINTR)
                    {
                        continue;
                    } else {
                        return;
                    }
                }
            });
        if thread.is_err() {
            // SAFETY: our own descriptors, not handed out.
            unsafe {
                libc::close(read_end);
            }
            // SAFETY: as above.
            unsafe { libc::close(write_end) };
            return;
        }
        PIPE_WRITE.store(write_end, Ordering::Release);
        for sig in SIGNALS {
            // SAFETY: a zeroed sigaction is a valid starting point; the handler only
            // writes to a pipe (async-signal-safe).
            let mut act: libc::sigaction = unsafe { std::mem::zeroed() };
            act.sa_sigaction = on_signal as extern "C" fn(libc::c_int) as usize;
            act.sa_flags = libc::SA_RESTART;
            // SAFETY: `act.sa_mask` is a local signal set.
            unsafe { libc::sigemptyset(&raw mut act.sa_mask) };
            // SAFETY: installs our handler for a signal we own from now on.
            unsafe { libc::sigaction(sig, &raw const act, std::ptr::null_mut()) };
        }
        READY.store(true, Ordering::Release);
    });
    if READY.load(Ordering::Acquire) {
        Ok(())
    } else {
        Err(win32::ERROR_NOT_ENOUGH_MEMORY)
    }
}

/// `BOOL SetConsoleCtrlHandler(PHANDLER_ROUTINE HandlerRoutine, BOOL Add)`: adds or
/// removes a console control handler; with a NULL routine, makes the process ignore
/// Ctrl+C (`Add` TRUE) or stop ignoring it (FALSE).
///
/// Parameters: the handler (`BOOL WINAPI Handler(DWORD dwCtrlType)`, called with
/// `CTRL_C_EVENT`, `CTRL_BREAK_EVENT` or `CTRL_CLOSE_EVENT` on the library's
/// `ovl-console` thread; TRUE means handled), `Add`.
/// Returns: TRUE, or FALSE with `ERROR_INVALID_PARAMETER` (removing a handler that was
/// not added) or `ERROR_NOT_ENOUGH_MEMORY` (the pipe or thread could not be created).
/// Memory and lifetimes: the routine must stay callable until removed.
///
/// # Compatibility
/// See the module's docs: signals stand for the events, one thread runs the handlers.
///
/// # Safety
/// `HandlerRoutine` null or a function of that type.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn SetConsoleCtrlHandler(routine: Option<HandlerRoutine>, add: BOOL) -> BOOL {
    guard(FALSE, || {
        let Some(routine) = routine else {
            if add != FALSE {
                // Ignoring Ctrl+C needs our SIGINT handler in place.
                setup()?;
            }
            IGNORE_CTRL_C.store(add != FALSE, Ordering::Release);
            return Ok(TRUE);
        };
        let mut handlers = HANDLERS
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if add != FALSE {
            setup()?;
            handlers.push(routine);
        } else {
            // The most recent registration of that routine goes.
            let at = handlers
                .iter()
                .rposition(|h| std::ptr::fn_addr_eq(*h, routine))
                .ok_or(win32::ERROR_INVALID_PARAMETER)?;
            handlers.remove(at);
        }
        Ok(TRUE)
    })
}

/// `STD_INPUT_HANDLE`, `STD_OUTPUT_HANDLE`, `STD_ERROR_HANDLE` (as `DWORD`s).
const STD_HANDLES: [(DWORD, usize, libc::c_int); 3] = [
    ((-10i32) as DWORD, 0x10, 0),
    ((-11i32) as DWORD, 0x14, 1),
    ((-12i32) as DWORD, 0x18, 2),
];

/// The descriptor behind a standard handle from [`GetStdHandle`].
fn std_fd(h: crate::types::HANDLE) -> Option<libc::c_int> {
    STD_HANDLES
        .iter()
        .find(|(_, v, _)| *v == h as usize)
        .map(|(_, _, fd)| *fd)
}

/// `HANDLE GetStdHandle(DWORD nStdHandle)`: the standard input, output or error
/// handle, for [`WriteConsoleA`].
///
/// Parameters: `STD_INPUT_HANDLE` (-10), `STD_OUTPUT_HANDLE` (-11), `STD_ERROR_HANDLE`
/// (-12).
/// Returns: the handle (fixed values below the handle table's, never closed), or
/// `INVALID_HANDLE_VALUE` with `ERROR_INVALID_HANDLE` for another value.
/// Memory and lifetimes: the handle stays valid for the life of the process.
#[unsafe(no_mangle)]
pub extern "C" fn GetStdHandle(which: DWORD) -> crate::types::HANDLE {
    guard(usize::MAX as crate::types::HANDLE, || {
        STD_HANDLES
            .iter()
            .find(|(n, _, _)| *n == which)
            .map(|(_, v, _)| *v as crate::types::HANDLE)
            .ok_or(win32::ERROR_INVALID_HANDLE)
    })
}

/// `BOOL WriteConsoleA(HANDLE hConsoleOutput, const VOID *lpBuffer, DWORD
/// nNumberOfCharsToWrite, LPDWORD lpNumberOfCharsWritten, LPVOID lpReserved)`: writes
/// the characters to the standard output or error (whatever it is connected to: a
/// terminal, a pipe or a file).
///
/// Parameters: a handle from `GetStdHandle(STD_OUTPUT_HANDLE)` or `STD_ERROR_HANDLE`,
/// the characters and their count, where to write how many were written (may be NULL),
/// reserved.
/// Returns: TRUE once every character is written, or FALSE with `ERROR_INVALID_HANDLE`
/// (not an output handle), `ERROR_NOACCESS` (NULL buffer with a nonzero count), or the
/// Win32 code of the write's failure (`ERROR_BROKEN_PIPE` for a closed pipe); the count
/// written so far is reported either way.
/// Memory and lifetimes: the buffer is read during the call only.
///
/// # Safety
/// `lpBuffer` null or `nNumberOfCharsToWrite` readable bytes; `lpNumberOfCharsWritten`
/// null or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn WriteConsoleA(
    h: crate::types::HANDLE,
    buf: *const u8,
    count: DWORD,
    written: *mut DWORD,
    _reserved: *mut std::ffi::c_void,
) -> BOOL {
    guard(FALSE, || {
        let fd = match std_fd(h) {
            Some(fd @ (1 | 2)) => fd,
            _ => return Err(win32::ERROR_INVALID_HANDLE),
        };
        if buf.is_null() && count > 0 {
            return Err(win32::ERROR_NOACCESS);
        }
        let mut done = 0usize;
        let total = count as usize;
        let mut failure = None;
        while done < total {
            let rest = buf.wrapping_add(done);
            // SAFETY: `buf` has `count` readable bytes (the contract); `done < total`.
            let n = unsafe { libc::write(fd, rest.cast(), total - done) };
            if n < 0 {
                let e = std::io::Error::last_os_error();
                if e.raw_os_error() == Some(libc::EINTR) {
                    continue;
                }
                failure = Some(match e.raw_os_error() {
                    Some(libc::EPIPE) => 109, // ERROR_BROKEN_PIPE
                    _ => 29,                  // ERROR_WRITE_FAULT
                });
                break;
            }
            done += n.unsigned_abs();
        }
        if !written.is_null() {
            // SAFETY: non-null and writable (the contract).
            unsafe { written.write_unaligned(DWORD::try_from(done).unwrap_or(DWORD::MAX)) };
        }
        match failure {
            Some(code) => Err(code),
            None => Ok(TRUE),
        }
    })
}

/// `BOOL GenerateConsoleCtrlEvent(DWORD dwCtrlEvent, DWORD dwProcessGroupId)`: raises
/// Ctrl+C (`SIGINT`) or Ctrl+Break (`SIGQUIT`) in this process, so that its handlers
/// (or the signal's default action) run as for a real one.
///
/// Parameters: `CTRL_C_EVENT` or `CTRL_BREAK_EVENT`, the process group (ignored).
/// Returns: TRUE, or FALSE with `ERROR_INVALID_PARAMETER` (another event).
/// Memory and lifetimes: nothing is kept.
///
/// # Compatibility
/// Windows sends the event to every process of the console's group; there is no such
/// group here, so only the calling process gets it.
#[unsafe(no_mangle)]
pub extern "C" fn GenerateConsoleCtrlEvent(event: DWORD, _group: DWORD) -> BOOL {
    guard(FALSE, || {
        let sig = match event {
            CTRL_C_EVENT => libc::SIGINT,
            CTRL_BREAK_EVENT => libc::SIGQUIT,
            _ => return Err(win32::ERROR_INVALID_PARAMETER),
        };
        // SAFETY: raising a signal in this process; its disposition is the program's
        // (or ours, after SetConsoleCtrlHandler).
        unsafe { libc::raise(sig) };
        Ok(TRUE)
    })
}

/// `int MessageBoxA(HWND hWnd, LPCSTR lpText, LPCSTR lpCaption, UINT uType)` (user32):
/// there is no desktop, so the message goes to standard error as `caption: text` and
/// the box is "answered" with its default button, as if Enter was pressed.
///
/// Parameters: the owner window (ignored), the text and caption (NULL: empty), the
/// `MB_*` style (the button set picks the answer; icons are ignored).
/// Returns: `IDOK` (1) for `MB_OK`/`MB_OKCANCEL`, `IDABORT` (3), `IDYES` (6),
/// `IDRETRY` (4) or `IDCANCEL` (2) for the other button sets (their first button;
/// `MB_DEFBUTTONn` is not honoured), or 0 with `ERROR_INVALID_PARAMETER` for an unknown
/// button set.
/// Memory and lifetimes: the strings are read during the call only.
///
/// # Safety
/// `lpText` and `lpCaption` null or NUL-terminated.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn MessageBoxA(
    _owner: *mut std::ffi::c_void,
    text: *const std::ffi::c_char,
    caption: *const std::ffi::c_char,
    style: u32,
) -> i32 {
    guard(0, || {
        let answer = match style & 0xF {
            0 | 1 => 1,
            2 => 3,
            3 | 4 => 6,
            5 => 4,
            6 => 2,
            _ => return Err(win32::ERROR_INVALID_PARAMETER),
        };
        let read = |p: *const std::ffi::c_char| {
            if p.is_null() {
                String::new()
            } else {
                // SAFETY: non-null and NUL-terminated (the contract).
                unsafe { std::ffi::CStr::from_ptr(p) }
                    .to_string_lossy()
                    .into_owned()
            }
        };
        let line = format!("{}: {}\n", read(caption), read(text));
        // Best effort: a closed stderr still answers the box.
        let _ = std::io::Write::write_all(&mut std::io::stderr(), line.as_bytes());
        Ok(answer)
    })
}
