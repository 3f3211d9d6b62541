//! Code-page conversion: `WideCharToMultiByte` and `MultiByteToWideChar`, between UTF-16
//! and the process's narrow encoding, which is UTF-8 here (`CP_ACP`, `CP_OEMCP`,
//! `CP_THREAD_ACP` and `CP_UTF8` are all UTF-8, the Linux locale's encoding).

use std::ffi::c_char;

use crate::handles::guard;
use crate::types::{BOOL, DWORD, win32};

const ERROR_NO_UNICODE_TRANSLATION: u32 = 1113;
const ERROR_INVALID_FLAGS: u32 = 1004;
const MB_ERR_INVALID_CHARS: DWORD = 0x8;
const WC_ERR_INVALID_CHARS: DWORD = 0x80;

fn utf8_page(cp: u32) -> Result<(), u32> {
    match cp {
        0 | 1 | 3 | 65001 => Ok(()),
        _ => Err(win32::ERROR_INVALID_PARAMETER),
    }
}

/// The input: `len` units, or up to and including the NUL when `len` is -1.
///
/// # Safety
/// `p` must point to `len` readable units, or to a NUL-terminated string when `len` is -1.
unsafe fn input<'a, T: Copy + Default + PartialEq>(p: *const T, len: i32) -> Result<&'a [T], u32> {
    if p.is_null() || len == 0 || len < -1 {
        return Err(win32::ERROR_INVALID_PARAMETER);
    }
    let n = if len == -1 {
        let mut n = 0;
        loop {
            // SAFETY: NUL-terminated by the caller's contract: not past the NUL.
            let at = unsafe { p.add(n) };
            // SAFETY: as above, readable.
            if unsafe { *at } == T::default() {
                break;
            }
            n += 1;
        }
        n + 1
    } else {
        usize::try_from(len).map_err(|_| win32::ERROR_INVALID_PARAMETER)?
    };
    // SAFETY: `n` readable units, by the caller's contract.
    Ok(unsafe { std::slice::from_raw_parts(p, n) })
}

/// Writes `out` to `dst` (capacity `cap`), or only measures when `cap` is 0.
///
/// # Safety
/// `dst` must point to `cap` writable units when `cap` is nonzero.
unsafe fn output<T: Copy>(out: &[T], dst: *mut T, cap: i32) -> Result<i32, u32> {
    let n = i32::try_from(out.len()).map_err(|_| overlapped::win32::ERROR_INSUFFICIENT_BUFFER)?;
    if cap == 0 {
        return Ok(n);
    }
    if cap < 0 || dst.is_null() {
        return Err(win32::ERROR_INVALID_PARAMETER);
    }
    if n > cap {
        return Err(overlapped::win32::ERROR_INSUFFICIENT_BUFFER);
    }
    // SAFETY: `dst` has room for `cap >= n` units.
    unsafe { std::ptr::copy_nonoverlapping(out.as_ptr(), dst, out.len()) };
    Ok(n)
}

/// `int WideCharToMultiByte(UINT CodePage, DWORD dwFlags, LPCWSTR lpWideCharStr, int
/// cchWideChar, LPSTR lpMultiByteStr, int cbMultiByte, LPCSTR lpDefaultChar, LPBOOL
/// lpUsedDefaultChar)`: UTF-16 to UTF-8.
///
/// Parameters: `CP_ACP`, `CP_OEMCP`, `CP_THREAD_ACP` or `CP_UTF8`; 0 or
/// `WC_ERR_INVALID_CHARS`; the string and its length in units (-1: NUL-terminated, the
/// NUL is converted too); the output and its size in bytes (0: only measure);
/// `lpDefaultChar`/`lpUsedDefaultChar` must be NULL (as for `CP_UTF8` on Windows).
/// Returns: the bytes written (or needed), or 0 with `ERROR_INVALID_PARAMETER`,
/// `ERROR_INVALID_FLAGS`, `ERROR_INSUFFICIENT_BUFFER`, `ERROR_NO_UNICODE_TRANSLATION`
/// (an unpaired surrogate with `WC_ERR_INVALID_CHARS`; otherwise it becomes U+FFFD).
/// Memory and lifetimes: nothing is kept; no NUL is added beyond the input's.
///
/// # Safety
/// The pointers must be valid for the lengths given.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn WideCharToMultiByte(
    cp: u32,
    flags: DWORD,
    src: *const u16,
    src_len: i32,
    dst: *mut c_char,
    dst_len: i32,
    default_char: *const c_char,
    used_default: *mut BOOL,
) -> i32 {
    guard(0, || {
        utf8_page(cp)?;
        if flags & !WC_ERR_INVALID_CHARS != 0 {
            return Err(ERROR_INVALID_FLAGS);
        }
        if !default_char.is_null() || !used_default.is_null() {
            return Err(win32::ERROR_INVALID_PARAMETER);
        }
        // SAFETY: the caller's contract.
        let units = unsafe { input(src, src_len) }?;
        let mut out = String::with_capacity(units.len());
        for ch in char::decode_utf16(units.iter().copied()) {
            match ch {
                Ok(c) => out.push(c),
                Err(_) if flags & WC_ERR_INVALID_CHARS != 0 => {
                    return Err(ERROR_NO_UNICODE_TRANSLATION);
                }
                Err(_) => out.push(char::REPLACEMENT_CHARACTER),
            }
        }
        // SAFETY: the caller's contract for `dst`.
        unsafe { output(out.as_bytes(), dst.cast::<u8>(), dst_len) }
    })
}

/// `int MultiByteToWideChar(UINT CodePage, DWORD dwFlags, LPCSTR lpMultiByteStr, int
/// cbMultiByte, LPWSTR lpWideCharStr, int cchWideChar)`: UTF-8 to UTF-16.
///
/// Parameters: the code pages of `WideCharToMultiByte`; 0 or `MB_ERR_INVALID_CHARS`; the
/// string and its length in bytes (-1: NUL-terminated, the NUL is converted too); the
/// output and its size in units (0: only measure).
/// Returns: the units written (or needed), or 0 with `ERROR_INVALID_PARAMETER`,
/// `ERROR_INVALID_FLAGS`, `ERROR_INSUFFICIENT_BUFFER`, `ERROR_NO_UNICODE_TRANSLATION`
/// (invalid UTF-8 with `MB_ERR_INVALID_CHARS`; otherwise it becomes U+FFFD).
/// Memory and lifetimes: nothing is kept.
///
/// # Safety
/// The pointers must be valid for the lengths given.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn MultiByteToWideChar(
    cp: u32,
    flags: DWORD,
    src: *const c_char,
    src_len: i32,
    dst: *mut u16,
    dst_len: i32,
) -> i32 {
    guard(0, || {
        utf8_page(cp)?;
        if flags & !MB_ERR_INVALID_CHARS != 0 {
            return Err(ERROR_INVALID_FLAGS);
        }
        // SAFETY: the caller's contract.
        let bytes = unsafe { input(src.cast::<u8>(), src_len) }?;
        let text = match std::str::from_utf8(bytes) {
            Ok(t) => std::borrow::Cow::Borrowed(t),
            Err(_) if flags & MB_ERR_INVALID_CHARS != 0 => {
                return Err(ERROR_NO_UNICODE_TRANSLATION);
            }
            Err(_) => String::from_utf8_lossy(bytes),
        };
        let out: Vec<u16> = text.encode_utf16().collect();
        // SAFETY: the caller's contract for `dst`.
        unsafe { output(&out, dst, dst_len) }
    })
}
