//! `FormatMessageA`: the text of Winsock and Win32 error codes, which programs written
//! for Windows print next to `WSAGetLastError()`.
//!
//! # Compatibility
//! Only `FORMAT_MESSAGE_FROM_SYSTEM` is supported (with `ALLOCATE_BUFFER`,
//! `IGNORE_INSERTS` and the width mask); the texts are the library's one-sentence
//! descriptions in English, not Windows' localised message table, and every language id
//! gets them.

use std::ffi::c_void;

use overlapped::WsaError;

use crate::handles::guard;
use crate::types::{DWORD, win32};

/// `FORMAT_MESSAGE_*` flags.
const ALLOCATE_BUFFER: DWORD = 0x100;
const IGNORE_INSERTS: DWORD = 0x200;
const FROM_STRING: DWORD = 0x400;
const FROM_HMODULE: DWORD = 0x800;
const FROM_SYSTEM: DWORD = 0x1000;
const ARGUMENT_ARRAY: DWORD = 0x2000;
const MAX_WIDTH_MASK: DWORD = 0xFF;

/// `ERROR_INSUFFICIENT_BUFFER`, `ERROR_MR_MID_NOT_FOUND`.
const ERROR_INSUFFICIENT_BUFFER: u32 = 122;
const ERROR_MR_MID_NOT_FOUND: u32 = 317;

/// Win32 codes that are not Winsock's, with their texts.
const WIN32_TEXTS: [(u32, &str); 14] = [
    (0, "The operation completed successfully."),
    (2, "The system cannot find the file specified."),
    (5, "Access is denied."),
    (29, "The system cannot write to the specified device."),
    (64, "The specified network name is no longer available."),
    (109, "The pipe has been ended."),
    (122, "The data area passed to a system call is too small."),
    (258, "The wait operation timed out."),
    (
        288,
        "The caller does not own the object it tried to release.",
    ),
    (
        735,
        "A wait returned because the object it waited on was closed.",
    ),
    (998, "Invalid access to memory location."),
    (1168, "Element not found."),
    (
        1460,
        "The operation returned because the timeout period expired.",
    ),
    (
        1236,
        "The network connection was aborted by the local system.",
    ),
];

/// The text of `code`, if known.
fn text_of(code: u32) -> Option<&'static str> {
    WIN32_TEXTS
        .iter()
        .find(|(c, _)| *c == code)
        .map(|(_, t)| *t)
        .or_else(|| WsaError::from_code(code).description())
}

/// `DWORD FormatMessageA(DWORD dwFlags, LPCVOID lpSource, DWORD dwMessageId, DWORD
/// dwLanguageId, LPSTR lpBuffer, DWORD nSize, va_list *Arguments)`: the text of a
/// Winsock or Win32 error code.
///
/// Parameters: `FORMAT_MESSAGE_FROM_SYSTEM`, optionally with
/// `FORMAT_MESSAGE_ALLOCATE_BUFFER` (then `lpBuffer` is an `LPSTR *` that receives a
/// block to free with `LocalFree`, and `nSize` is a minimum), `IGNORE_INSERTS`, and a
/// maximum width (`FORMAT_MESSAGE_MAX_WIDTH_MASK`: no line break at the end; other
/// widths are not applied); the source (ignored), the code, the language (ignored), the
/// buffer and its size in characters, the arguments (ignored: the texts have no
/// inserts).
/// Returns: the number of characters written, without the NUL; the text ends with
/// "\r\n" unless the width mask is given. 0 with `ERROR_MR_MID_NOT_FOUND` (unknown code),
/// `ERROR_INSUFFICIENT_BUFFER` (the buffer is too small; nothing written),
/// `ERROR_INVALID_PARAMETER` (a source other than the system, or a NULL buffer),
/// `ERROR_NOT_ENOUGH_MEMORY`.
/// Memory and lifetimes: with `ALLOCATE_BUFFER` the block is the caller's until
/// `LocalFree`; else the buffer is written before return.
///
/// # Safety
/// `lpBuffer` null, or `nSize` writable bytes, or (with `ALLOCATE_BUFFER`) a writable
/// `LPSTR`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn FormatMessageA(
    flags: DWORD,
    _source: *const c_void,
    id: DWORD,
    _language: DWORD,
    buffer: *mut u8,
    size: DWORD,
    _args: *mut c_void,
) -> DWORD {
    guard(0, || {
        if flags & (FROM_STRING | FROM_HMODULE) != 0 || flags & FROM_SYSTEM == 0 {
            return Err(win32::ERROR_INVALID_PARAMETER);
        }
        if buffer.is_null() {
            return Err(win32::ERROR_INVALID_PARAMETER);
        }
        let _ = flags & (IGNORE_INSERTS | ARGUMENT_ARRAY);
        let text = text_of(id).ok_or(ERROR_MR_MID_NOT_FOUND)?;
        let mut msg = String::from(text);
        if flags & MAX_WIDTH_MASK != MAX_WIDTH_MASK {
            msg.push_str("\r\n");
        }
        let n = msg.len();
        let written = DWORD::try_from(n).unwrap_or(DWORD::MAX);
        if flags & ALLOCATE_BUFFER != 0 {
            let room = n.max(size as usize) + 1;
            // SAFETY: LocalAlloc is always safe to call.
            let block = unsafe { crate::memory::LocalAlloc(crate::memory::GMEM_ZEROINIT, room) };
            if block.is_null() {
                return Err(win32::ERROR_NOT_ENOUGH_MEMORY);
            }
            // SAFETY: a fresh block of `room > n` bytes.
            unsafe { std::ptr::copy_nonoverlapping(msg.as_ptr(), block.cast::<u8>(), n) };
            // SAFETY: `buffer` is a writable `LPSTR` (the contract with ALLOCATE_BUFFER).
            unsafe { buffer.cast::<*mut c_void>().write_unaligned(block) };
            return Ok(written);
        }
        if (size as usize) < n + 1 {
            return Err(ERROR_INSUFFICIENT_BUFFER);
        }
        // SAFETY: `size > n` writable bytes at `buffer` (the contract, checked).
        unsafe { std::ptr::copy_nonoverlapping(msg.as_ptr(), buffer, n) };
        // SAFETY: as above; the NUL.
        unsafe { buffer.wrapping_add(n).write(0) };
        Ok(written)
    })
}
