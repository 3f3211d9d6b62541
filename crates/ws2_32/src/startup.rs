//! `WSAStartup`, `WSACleanup` and the last-error functions.

use overlapped::WsaError;

use crate::handles::{self, guard};
use crate::types::{DWORD, WSADATA};

/// `int WSAStartup(WORD wVersionRequested, LPWSADATA lpWSAData)`.
///
/// Parameters: the requested version (`MAKEWORD(2, 2)`); a `WSADATA` to fill.
/// Returns 0, or `WSAVERNOTSUPPORTED` (version below 1.1) / `WSAEFAULT` (null
/// `lpWSAData`) directly (not through `WSAGetLastError`, as on Windows).
/// Memory and lifetimes: `lpWSAData` is written before return; nothing is kept.
///
/// # Safety
/// `lpWSAData` must be null or point to a writable `WSADATA`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn WSAStartup(version: u16, data: *mut WSADATA) -> i32 {
    guard(WsaError::WSAEFAULT.code() as i32, || {
        let (major, minor) = (version & 0xff, version >> 8);
        if major < 1 || (major == 1 && minor < 1) {
            return Ok(WsaError::WSAVERNOTSUPPORTED.code() as i32);
        }
        if handles::check_out(data).is_err() {
            return Ok(WsaError::WSAEFAULT.code() as i32);
        }
        let mut d = WSADATA {
            wVersion: if major > 2 || (major == 2 && minor > 2) {
                0x0202
            } else {
                version
            },
            wHighVersion: 0x0202,
            iMaxSockets: 0,
            iMaxUdpDg: 0,
            lpVendorInfo: std::ptr::null_mut(),
            szDescription: [0; 257],
            szSystemStatus: [0; 129],
        };
        let desc = b"overlapped ws2_32 for Linux (io_uring)";
        d.szDescription[..desc.len()].copy_from_slice(desc);
        d.szSystemStatus[..7].copy_from_slice(b"Running");
        // SAFETY: `data` is non-null and points to a writable WSADATA (the contract).
        unsafe { data.write(d) };
        handles::startup();
        Ok(0)
    })
}

/// `int WSACleanup(void)`.
///
/// Returns 0, or `SOCKET_ERROR` with `WSANOTINITIALISED`. When the last `WSAStartup` is
/// undone, every socket is closed; their pending overlapped operations complete aborted.
///
/// Parameters: none.
/// Memory and lifetimes: when the last `WSAStartup` is undone, every socket handle becomes invalid.
///
/// # Safety
/// Always safe to call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn WSACleanup() -> i32 {
    guard(-1, || {
        if handles::cleanup()? {
            for s in handles::remove_all_sockets() {
                s.sock.abort();
            }
        }
        Ok(0)
    })
}

/// `int WSAGetLastError(void)`: the calling thread's last error.
///
/// Parameters: none.
/// Returns: the code.
/// Memory and lifetimes: per thread, like Windows; the same slot as `GetLastError`.
///
/// # Safety
/// Always safe to call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn WSAGetLastError() -> i32 {
    handles::last_error() as i32
}

/// `void WSASetLastError(int iError)`.
///
/// Parameters: the code.
/// Returns: nothing.
/// Memory and lifetimes: per thread.
///
/// # Safety
/// Always safe to call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn WSASetLastError(error: i32) {
    handles::set_last_error(error as u32);
}

/// `DWORD GetLastError(void)`: the same slot as `WSAGetLastError`, as on Windows.
///
/// Parameters: none.
/// Returns: the code.
/// Memory and lifetimes: per thread.
///
/// # Safety
/// Always safe to call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn GetLastError() -> DWORD {
    handles::last_error()
}

/// `void SetLastError(DWORD dwErrCode)`.
///
/// Parameters: the code.
/// Returns: nothing.
/// Memory and lifetimes: per thread.
///
/// # Safety
/// Always safe to call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn SetLastError(code: DWORD) {
    handles::set_last_error(code);
}
