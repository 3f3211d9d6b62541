//! Modules: `GetModuleHandleA/W`, `LoadLibraryA/W`, `FreeLibrary`, `GetProcAddress`,
//! and the two ntdll functions programs look up that way (`NtClose`,
//! `RtlNtStatusToDosError`).
//!
//! The Windows DLLs this library implements are modules here: `ws2_32.dll`,
//! `mswsock.dll`, `kernel32.dll`, `kernelbase.dll` and `ntdll.dll`, always loaded (as
//! they are in a Winsock program on Windows). A module handle is the address of the
//! module's record in this library. `GetProcAddress` finds a module's exports by their
//! Windows names: `GetProcAddress(GetModuleHandleA("ws2_32.dll"), "WSAPoll")`, and
//! `"bind"` gives the library's `ws2_bind`. Any other DLL name is
//! `ERROR_MOD_NOT_FOUND`: this process cannot load Windows DLLs.

use std::ffi::{CStr, c_char, c_void};

use crate::handles::{guard, last_error, set_last_error};
use crate::types::{BOOL, HANDLE, TRUE, win32};

const ERROR_MOD_NOT_FOUND: u32 = 126;
const ERROR_PROC_NOT_FOUND: u32 = 127;

/// Which DLL a module record stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Dll {
    Ws2_32,
    Mswsock,
    Kernel32,
    KernelBase,
    Ntdll,
    /// The program itself (`GetModuleHandle(NULL)`).
    Exe,
}

/// One module; its address is its `HMODULE`.
#[derive(Debug)]
struct Module {
    dll: Dll,
    name: &'static str,
}

static MODULES: [Module; 6] = [
    Module {
        dll: Dll::Ws2_32,
        name: "ws2_32",
    },
    Module {
        dll: Dll::Mswsock,
        name: "mswsock",
    },
    Module {
        dll: Dll::Kernel32,
        name: "kernel32",
    },
    Module {
        dll: Dll::KernelBase,
        name: "kernelbase",
    },
    Module {
        dll: Dll::Ntdll,
        name: "ntdll",
    },
    Module {
        dll: Dll::Exe,
        name: "",
    },
];

fn handle_of(m: &'static Module) -> HANDLE {
    std::ptr::from_ref(m).cast_mut().cast()
}

fn module_of(h: HANDLE) -> Option<&'static Module> {
    MODULES.iter().find(|m| handle_of(m) == h)
}

/// The module a DLL name names: the file name after any directory, case-insensitive,
/// with or without ".dll" (Windows' default extension).
fn find(name: &str) -> Option<&'static Module> {
    let base = name
        .rsplit(['\\', '/'])
        .next()
        .unwrap_or(name)
        .to_ascii_lowercase();
    let stem = base.strip_suffix(".dll").unwrap_or(&base);
    if stem.is_empty() {
        return None;
    }
    MODULES.iter().find(|m| m.dll != Dll::Exe && m.name == stem)
}

/// Names the C library also defines: exported as `ws2_<name>` (see lib.rs).
const RENAMED: &[&str] = &[
    "socket",
    "bind",
    "listen",
    "accept",
    "connect",
    "send",
    "recv",
    "sendto",
    "recvfrom",
    "select",
    "shutdown",
    "setsockopt",
    "getsockopt",
    "getsockname",
    "getpeername",
    "htons",
    "htonl",
    "ntohs",
    "ntohl",
    "inet_addr",
    "inet_ntoa",
    "inet_pton",
    "inet_ntop",
    "getaddrinfo",
    "freeaddrinfo",
    "getnameinfo",
    "gethostbyname",
    "gethostname",
];

/// Exported by mswsock.dll (and forwarded there by ws2_32 on Windows).
const MSWSOCK: &[&str] = &["AcceptEx", "GetAcceptExSockaddrs", "TransmitFile"];

/// Which DLL exports `name` on Windows (of the functions this library has).
fn dll_of(name: &str) -> Dll {
    if name.starts_with("Nt") || name.starts_with("Rtl") {
        Dll::Ntdll
    } else if MSWSOCK.contains(&name) {
        Dll::Mswsock
    } else if name.starts_with("WSA")
        || name.starts_with("__WSA")
        || RENAMED.contains(&name)
        || matches!(name, "closesocket" | "ioctlsocket")
    {
        Dll::Ws2_32
    } else {
        Dll::Kernel32
    }
}

/// Finds `symbol` among this library's own dynamic exports (not another object's).
fn lookup_own(symbol: &str) -> Option<*mut c_void> {
    let c = std::ffi::CString::new(symbol).ok()?;
    // SAFETY: `c` is a NUL-terminated string; RTLD_DEFAULT searches the loaded objects.
    let p = unsafe { libc::dlsym(libc::RTLD_DEFAULT, c.as_ptr()) };
    if p.is_null() {
        return None;
    }
    let mut own = std::mem::MaybeUninit::<libc::Dl_info>::zeroed();
    let mut found = std::mem::MaybeUninit::<libc::Dl_info>::zeroed();
    let me = lookup_own as *const c_void;
    // SAFETY: dladdr only reads the addresses and fills the structures it is given.
    let ok = unsafe { libc::dladdr(me, own.as_mut_ptr()) != 0 };
    // SAFETY: as above.
    let ok2 = unsafe { libc::dladdr(p, found.as_mut_ptr()) != 0 };
    if !ok || !ok2 {
        return None;
    }
    // SAFETY: dladdr succeeded, so the structure is initialised.
    let own = unsafe { own.assume_init() };
    // SAFETY: as above.
    let found = unsafe { found.assume_init() };
    (own.dli_fbase == found.dli_fbase).then_some(p)
}

/// # Safety
/// `name` must be NULL or a NUL-terminated string.
unsafe fn str_arg<'a>(name: *const c_char) -> Option<&'a str> {
    if name.is_null() {
        return None;
    }
    // SAFETY: non-null and, by the caller's contract, NUL-terminated.
    unsafe { CStr::from_ptr(name) }.to_str().ok()
}

/// # Safety
/// `name` must be NULL or a NUL-terminated UTF-16 string.
unsafe fn wide_arg(name: *const u16) -> Option<String> {
    if name.is_null() {
        return None;
    }
    let mut len = 0;
    loop {
        // SAFETY: the string is NUL-terminated: not past the NUL.
        let at = unsafe { name.add(len) };
        // SAFETY: as above, readable.
        if unsafe { *at } == 0 {
            break;
        }
        len += 1;
    }
    // SAFETY: `len` units were just read.
    let units = unsafe { std::slice::from_raw_parts(name, len) };
    String::from_utf16(units).ok()
}

fn get_module(name: Option<&str>, null: bool) -> Result<HANDLE, u32> {
    if null {
        return Ok(handle_of(&MODULES[5]));
    }
    name.and_then(find)
        .map(handle_of)
        .ok_or(ERROR_MOD_NOT_FOUND)
}

/// `HMODULE GetModuleHandleA(LPCSTR lpModuleName)`: the handle of a loaded module.
///
/// Parameters: a DLL name (`"ws2_32.dll"`, `"WS2_32"`, `"C:\\Windows\\System32\\ntdll.dll"`),
/// or NULL for the program itself.
/// Returns: the handle, or NULL with `ERROR_MOD_NOT_FOUND`.
/// Memory and lifetimes: the handle stays valid for the life of the process.
///
/// # Safety
/// `lpModuleName` must be NULL or a NUL-terminated string.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn GetModuleHandleA(name: *const c_char) -> HANDLE {
    guard(std::ptr::null_mut(), || {
        // SAFETY: the caller's contract.
        get_module(unsafe { str_arg(name) }, name.is_null())
    })
}

/// `HMODULE GetModuleHandleW(LPCWSTR lpModuleName)`: `GetModuleHandleA` with a UTF-16 name.
///
/// Parameters, returns, memory: as `GetModuleHandleA`.
///
/// # Safety
/// `lpModuleName` must be NULL or a NUL-terminated UTF-16 string.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn GetModuleHandleW(name: *const u16) -> HANDLE {
    guard(std::ptr::null_mut(), || {
        // SAFETY: the caller's contract.
        let s = unsafe { wide_arg(name) };
        get_module(s.as_deref(), name.is_null())
    })
}

/// `HMODULE LoadLibraryA(LPCSTR lpLibFileName)`: a module this library implements (it is
/// always loaded).
///
/// Parameters: a DLL name, as `GetModuleHandleA`.
/// Returns: the module handle, or NULL with `ERROR_MOD_NOT_FOUND` (any other DLL: Windows
/// DLLs cannot be loaded here), `ERROR_INVALID_PARAMETER` (NULL).
/// Memory and lifetimes: `FreeLibrary` is accepted and the module stays loaded.
///
/// # Safety
/// `lpLibFileName` must be NULL or a NUL-terminated string.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn LoadLibraryA(name: *const c_char) -> HANDLE {
    guard(std::ptr::null_mut(), || {
        if name.is_null() {
            return Err(win32::ERROR_INVALID_PARAMETER);
        }
        // SAFETY: the caller's contract.
        get_module(unsafe { str_arg(name) }, false)
    })
}

/// `HMODULE LoadLibraryW(LPCWSTR lpLibFileName)`: `LoadLibraryA` with a UTF-16 name.
///
/// Parameters, returns, memory: as `LoadLibraryA`.
///
/// # Safety
/// `lpLibFileName` must be NULL or a NUL-terminated UTF-16 string.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn LoadLibraryW(name: *const u16) -> HANDLE {
    guard(std::ptr::null_mut(), || {
        if name.is_null() {
            return Err(win32::ERROR_INVALID_PARAMETER);
        }
        // SAFETY: the caller's contract.
        let s = unsafe { wide_arg(name) };
        get_module(s.as_deref(), false)
    })
}

/// `BOOL FreeLibrary(HMODULE hLibModule)`: releases a `LoadLibrary` reference (these
/// modules are never unloaded).
///
/// Parameters: a module handle.
/// Returns: TRUE, or FALSE with `ERROR_MOD_NOT_FOUND` (not a module handle).
/// Memory and lifetimes: the handle stays valid.
///
/// # Safety
/// Always safe to call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn FreeLibrary(module: HANDLE) -> BOOL {
    guard(0, || {
        module_of(module).ok_or(ERROR_MOD_NOT_FOUND)?;
        Ok(TRUE)
    })
}

/// `FARPROC GetProcAddress(HMODULE hModule, LPCSTR lpProcName)`: the address of a
/// function the module exports, by its Windows name.
///
/// Parameters: a module handle; a function name (ordinals are not supported).
/// Returns: the function, or NULL with `ERROR_PROC_NOT_FOUND` (not exported by that
/// module, an ordinal, or the program's own module), `ERROR_MOD_NOT_FOUND` (not a module
/// handle).
/// Memory and lifetimes: the address stays valid for the life of the process.
///
/// # Compatibility
/// Which DLL exports a name follows Windows for the functions this library has (`Nt*`
/// and `Rtl*` from ntdll; `WSA*` and the socket functions from ws2_32; `AcceptEx`,
/// `GetAcceptExSockaddrs`, `TransmitFile` from mswsock; the rest from kernel32 and
/// kernelbase). Found only when the library's symbols are in the global scope (a
/// normal link; a static link needs `-rdynamic`).
///
/// # Safety
/// `lpProcName` must be a NUL-terminated string or a value below 0x10000 (an ordinal).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn GetProcAddress(module: HANDLE, name: *const c_char) -> *mut c_void {
    guard(std::ptr::null_mut(), || {
        let m = module_of(module).ok_or(ERROR_MOD_NOT_FOUND)?;
        if (name as usize) < 0x10000 || m.dll == Dll::Exe {
            return Err(ERROR_PROC_NOT_FOUND);
        }
        // SAFETY: not an ordinal, so by the caller's contract a NUL-terminated string.
        let name = unsafe { str_arg(name) }.ok_or(ERROR_PROC_NOT_FOUND)?;
        let wanted = match dll_of(name) {
            Dll::Kernel32 => matches!(m.dll, Dll::Kernel32 | Dll::KernelBase),
            d => d == m.dll,
        };
        if !wanted || name.starts_with("ws2_") || name.is_empty() {
            return Err(ERROR_PROC_NOT_FOUND);
        }
        let symbol = if RENAMED.contains(&name) {
            format!("ws2_{name}")
        } else {
            name.to_owned()
        };
        lookup_own(&symbol).ok_or(ERROR_PROC_NOT_FOUND)
    })
}

/// `NTSTATUS NtClose(HANDLE Handle)`: closes any handle, as `CloseHandle`.
///
/// Parameters: a socket, event, completion port or thread handle.
/// Returns: `STATUS_SUCCESS` (0), or `STATUS_INVALID_HANDLE` (0xC0000008).
/// Memory and lifetimes: as `CloseHandle`. The thread's last error is left alone.
///
/// # Safety
/// Always safe to call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn NtClose(h: HANDLE) -> i32 {
    const STATUS_INVALID_HANDLE: u32 = 0xC000_0008;
    let keep = last_error();
    // SAFETY: CloseHandle accepts any value.
    let ok = unsafe { crate::events::CloseHandle(h) };
    set_last_error(keep);
    if ok != 0 {
        0
    } else {
        STATUS_INVALID_HANDLE.cast_signed()
    }
}

/// The Win32 error code of an NTSTATUS.
fn status_to_dos(status: u32) -> u32 {
    const ERROR_MR_MID_NOT_FOUND: u32 = 317;
    // FACILITY_NTWIN32: a Win32 code carried in an NTSTATUS.
    if matches!(status & 0xFFFF_0000, 0x8007_0000 | 0xC007_0000) {
        return status & 0xFFFF;
    }
    let mapped = overlapped::NtStatus(status).to_win32();
    match (status, mapped) {
        (0, _) => 0,
        // to_win32 answers 0 or ERROR_INVALID_PARAMETER for codes it does not know.
        (s, 0) if s != 0 => ERROR_MR_MID_NOT_FOUND,
        (s, win32::ERROR_INVALID_PARAMETER) if s != 0xC000_000D => ERROR_MR_MID_NOT_FOUND,
        (_, m) => m,
    }
}

/// `ULONG RtlNtStatusToDosError(NTSTATUS Status)`: the Win32 error code of a status
/// (`ERROR_MR_MID_NOT_FOUND`, 317, for one with none).
///
/// Parameters: any value.
/// Returns: the code.
/// Memory and lifetimes: nothing is kept.
///
/// # Safety
/// Always safe to call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn RtlNtStatusToDosError(status: i32) -> u32 {
    guard(0, || Ok(status_to_dos(status.cast_unsigned())))
}

/// `ULONG RtlNtStatusToDosErrorNoTeb(NTSTATUS Status)`: as `RtlNtStatusToDosError`.
///
/// Parameters, returns, memory: as `RtlNtStatusToDosError`.
///
/// # Safety
/// Always safe to call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn RtlNtStatusToDosErrorNoTeb(status: i32) -> u32 {
    guard(0, || Ok(status_to_dos(status.cast_unsigned())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dll_names_match_like_windows() {
        assert_eq!(find("ws2_32.dll").map(|m| m.dll), Some(Dll::Ws2_32));
        assert_eq!(find("WS2_32").map(|m| m.dll), Some(Dll::Ws2_32));
        assert_eq!(
            find("C:\\Windows\\System32\\NTDLL.DLL").map(|m| m.dll),
            Some(Dll::Ntdll)
        );
        assert!(find("user32.dll").is_none());
        assert!(find("ws2_32.exe").is_none());
        assert!(find("").is_none());
    }

    #[test]
    fn exports_belong_to_their_dll() {
        assert_eq!(dll_of("WSAPoll"), Dll::Ws2_32);
        assert_eq!(dll_of("bind"), Dll::Ws2_32);
        assert_eq!(dll_of("NtClose"), Dll::Ntdll);
        assert_eq!(dll_of("AcceptEx"), Dll::Mswsock);
        assert_eq!(dll_of("CreateEventA"), Dll::Kernel32);
    }

    #[test]
    fn statuses_map_to_win32_codes() {
        assert_eq!(status_to_dos(0), 0);
        assert_eq!(status_to_dos(0x103), 997);
        assert_eq!(status_to_dos(0xC000_0120), 995);
        assert_eq!(status_to_dos(0x8007_03E5), 997);
        assert_eq!(status_to_dos(0xC000_000D), 87);
    }
}
