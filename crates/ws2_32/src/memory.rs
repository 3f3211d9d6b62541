//! Memory that programs written for Windows allocate through kernel32: the process
//! heap (`GetProcessHeap`, `HeapAlloc`, `HeapReAlloc`, `HeapSize`, `HeapFree`) and the
//! global and local allocators (`GlobalAlloc`/`GlobalFree`/`GlobalSize`,
//! `LocalAlloc`/`LocalFree`), which IOCP servers use for their per-connection records.
//!
//! # The model
//! Every block is a `malloc` block with a 16-byte header before the address the program
//! gets: the size it asked for (so `HeapSize` is exact and `HeapReAlloc` zeroes exactly
//! the new bytes) and a tag. The address stays 16-byte aligned, as Windows' heap
//! guarantees on x64. Blocks of the three families may be freed by any of them (on
//! Windows `GlobalAlloc` and `LocalAlloc` also come from the process heap).
//!
//! # Compatibility
//! - There is one heap: `HeapCreate` is not provided, and a heap handle other than
//!   `GetProcessHeap()`'s is refused with `ERROR_INVALID_HANDLE`.
//! - `GMEM_MOVEABLE`/`LMEM_MOVEABLE` blocks are fixed: the handle is the address
//!   (`GlobalLock` is not provided; programs that allocate moveable memory to lock it
//!   at once work if they use the handle as the address, which is what `GPTR`/`LPTR`
//!   users do).
//! - A pointer that did not come from these functions (or was freed already) is
//!   undefined behaviour, as on Windows; the tag catches most such pointers when the
//!   memory before them is readable and refuses them with `ERROR_INVALID_PARAMETER`.
//! - A block of 1 TiB or more is refused (`ERROR_NOT_ENOUGH_MEMORY`) without asking the
//!   system.

use std::ffi::c_void;

use crate::handles::guard;
use crate::types::{BOOL, DWORD, FALSE, HANDLE, TRUE, win32};

/// `HEAP_NO_SERIALIZE`.
pub const HEAP_NO_SERIALIZE: DWORD = 0x1;
/// `HEAP_GENERATE_EXCEPTIONS` (accepted; failures still return NULL).
pub const HEAP_GENERATE_EXCEPTIONS: DWORD = 0x4;
/// `HEAP_ZERO_MEMORY`.
pub const HEAP_ZERO_MEMORY: DWORD = 0x8;
/// `HEAP_REALLOC_IN_PLACE_ONLY`.
pub const HEAP_REALLOC_IN_PLACE_ONLY: DWORD = 0x10;
/// `GMEM_MOVEABLE` / `LMEM_MOVEABLE`.
pub const GMEM_MOVEABLE: u32 = 0x2;
/// `GMEM_ZEROINIT` / `LMEM_ZEROINIT`.
pub const GMEM_ZEROINIT: u32 = 0x40;

/// The handle `GetProcessHeap` returns: not a handle-table value (those are small
/// multiples of 4 from 0x100), never a valid address.
const PROCESS_HEAP: usize = 0x0005_0000;

/// The header before every block: the size asked for and a tag.
const HEADER: usize = 16;
const TAG: usize = 0x4F56_4C48_4541_5021; // "OVLHEAP!"

/// `HEAP_*` flags this heap accepts.
const HEAP_FLAGS: DWORD =
    HEAP_NO_SERIALIZE | HEAP_GENERATE_EXCEPTIONS | HEAP_ZERO_MEMORY | HEAP_REALLOC_IN_PLACE_ONLY;
/// `GMEM_*`/`LMEM_*` flags accepted (others, such as `GMEM_DISCARDABLE`, are ignored on
/// Windows too).
const GLOBAL_FLAGS: u32 = 0x7F72;

/// The largest block: 1 TiB less the header. Larger requests fail without asking
/// malloc (no machine this runs on has the memory, and AddressSanitizer's allocator
/// aborts on them instead of returning NULL).
const MAX_BLOCK: usize = (1 << 40) - HEADER;

/// Allocates `size` bytes (zeroed if `zero`) with a header; NULL if out of memory.
fn alloc(size: usize, zero: bool) -> *mut c_void {
    if size > MAX_BLOCK {
        return std::ptr::null_mut();
    }
    let total = size + HEADER;
    let base = if zero {
        // SAFETY: a plain allocation call; NULL is handled below.
        unsafe { libc::calloc(1, total) }
    } else {
        // SAFETY: as above.
        unsafe { libc::malloc(total) }
    }
    .cast::<usize>();
    if base.is_null() {
        return std::ptr::null_mut();
    }
    // SAFETY: `base` is a fresh block of at least HEADER bytes, aligned for usize.
    unsafe { base.write(size) };
    // SAFETY: as above, the header's second word.
    unsafe { base.wrapping_add(1).write(TAG) };
    base.cast::<u8>().wrapping_add(HEADER).cast()
}

/// The header of a block the program gives back; Err if it does not carry our tag.
///
/// # Safety
/// `p` is non-null and came from [`alloc`] (the program's contract; see the module's
/// `# Compatibility` for what the tag catches).
unsafe fn header(p: *mut c_void) -> Result<*mut usize, u32> {
    if !(p as usize).is_multiple_of(16) {
        return Err(win32::ERROR_INVALID_PARAMETER);
    }
    let base = p.cast::<u8>().wrapping_sub(HEADER).cast::<usize>();
    // SAFETY: the contract: a block from `alloc` has its header 16 bytes before it; the
    // tag is the header's second word.
    if unsafe { base.wrapping_add(1).read() } != TAG {
        return Err(win32::ERROR_INVALID_PARAMETER);
    }
    Ok(base)
}

/// Frees a block from [`alloc`].
///
/// # Safety
/// As [`header`]; the block is not used again.
unsafe fn free(p: *mut c_void) -> Result<(), u32> {
    // SAFETY: the contract.
    let base = unsafe { header(p) }?;
    // SAFETY: our header: clear the tag (a second free of a block not yet reused is
    // refused)...
    unsafe { base.wrapping_add(1).write(0) };
    // SAFETY: ...then free the whole block, which `alloc` got from malloc or calloc.
    unsafe { libc::free(base.cast()) };
    Ok(())
}

/// The size the program asked for.
///
/// # Safety
/// As [`header`].
unsafe fn size_of_block(p: *mut c_void) -> Result<usize, u32> {
    // SAFETY: the contract.
    let base = unsafe { header(p) }?;
    // SAFETY: our header; the size is its first word.
    Ok(unsafe { base.read() })
}

fn check_heap(heap: HANDLE, flags: DWORD) -> Result<(), u32> {
    if heap as usize != PROCESS_HEAP {
        return Err(win32::ERROR_INVALID_HANDLE);
    }
    if flags & !HEAP_FLAGS != 0 {
        return Err(win32::ERROR_INVALID_PARAMETER);
    }
    Ok(())
}

/// `HANDLE GetProcessHeap(void)`: the process heap.
///
/// Parameters: none.
/// Returns: the heap's handle (never NULL).
/// Memory and lifetimes: the heap lives as long as the process; do not close it.
#[unsafe(no_mangle)]
pub extern "C" fn GetProcessHeap() -> HANDLE {
    PROCESS_HEAP as HANDLE
}

/// `LPVOID HeapAlloc(HANDLE hHeap, DWORD dwFlags, SIZE_T dwBytes)`: a block of
/// `dwBytes` bytes, 16-byte aligned, zeroed with `HEAP_ZERO_MEMORY`.
///
/// Parameters: the process heap, `HEAP_ZERO_MEMORY` / `HEAP_NO_SERIALIZE` /
/// `HEAP_GENERATE_EXCEPTIONS`, the size (0 gives a valid empty block).
/// Returns: the block, or NULL: `ERROR_NOT_ENOUGH_MEMORY`, `ERROR_INVALID_HANDLE` (not
/// the process heap), `ERROR_INVALID_PARAMETER` (unknown flags).
/// Memory and lifetimes: the block is the caller's until `HeapFree`.
///
/// # Safety
/// Always safe to call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn HeapAlloc(heap: HANDLE, flags: DWORD, bytes: usize) -> *mut c_void {
    guard(std::ptr::null_mut(), || {
        check_heap(heap, flags)?;
        let p = alloc(bytes, flags & HEAP_ZERO_MEMORY != 0);
        if p.is_null() {
            return Err(win32::ERROR_NOT_ENOUGH_MEMORY);
        }
        Ok(p)
    })
}

/// `LPVOID HeapReAlloc(HANDLE hHeap, DWORD dwFlags, LPVOID lpMem, SIZE_T dwBytes)`:
/// resizes a block, keeping its contents; with `HEAP_ZERO_MEMORY` the new bytes of a
/// larger block are zero.
///
/// Parameters: the process heap, flags (as `HeapAlloc`, plus
/// `HEAP_REALLOC_IN_PLACE_ONLY`), the block, the new size.
/// Returns: the block (moved unless `HEAP_REALLOC_IN_PLACE_ONLY`), or NULL with the
/// error, the old block untouched: `ERROR_NOT_ENOUGH_MEMORY` (also when the block cannot
/// grow in place), `ERROR_INVALID_HANDLE`, `ERROR_INVALID_PARAMETER` (NULL or foreign
/// block, unknown flags).
/// Memory and lifetimes: the old address is invalid once a new one is returned.
///
/// # Safety
/// `lpMem` must be a live block of this heap.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn HeapReAlloc(
    heap: HANDLE,
    flags: DWORD,
    p: *mut c_void,
    bytes: usize,
) -> *mut c_void {
    guard(std::ptr::null_mut(), || {
        check_heap(heap, flags)?;
        if p.is_null() {
            return Err(win32::ERROR_INVALID_PARAMETER);
        }
        // SAFETY: the contract.
        let old = unsafe { size_of_block(p) }?;
        if flags & HEAP_REALLOC_IN_PLACE_ONLY != 0 {
            if bytes > old {
                return Err(win32::ERROR_NOT_ENOUGH_MEMORY);
            }
            // SAFETY: the contract (checked as ours above).
            let base = unsafe { header(p) }?;
            // SAFETY: our header's size word; shrinking keeps the block.
            unsafe { base.write(bytes) };
            return Ok(p);
        }
        let q = alloc(bytes, false);
        if q.is_null() {
            return Err(win32::ERROR_NOT_ENOUGH_MEMORY);
        }
        // SAFETY: both blocks are live, distinct, and at least min(old, bytes) long.
        unsafe { std::ptr::copy_nonoverlapping(p.cast::<u8>(), q.cast::<u8>(), old.min(bytes)) };
        if bytes > old && flags & HEAP_ZERO_MEMORY != 0 {
            // SAFETY: the new block's bytes from `old` to `bytes` are inside it.
            unsafe { q.cast::<u8>().wrapping_add(old).write_bytes(0, bytes - old) };
        }
        // SAFETY: the old block, checked as ours above, not used again.
        unsafe { free(p) }?;
        Ok(q)
    })
}

/// `SIZE_T HeapSize(HANDLE hHeap, DWORD dwFlags, LPCVOID lpMem)`: the size the block
/// was allocated with.
///
/// Parameters: the process heap, flags (as `HeapAlloc`), the block.
/// Returns: the size, or `(SIZE_T)-1` with `ERROR_INVALID_HANDLE` or
/// `ERROR_INVALID_PARAMETER` (NULL or foreign block).
/// Memory and lifetimes: nothing is kept.
///
/// # Safety
/// `lpMem` must be a live block of this heap.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn HeapSize(heap: HANDLE, flags: DWORD, p: *const c_void) -> usize {
    guard(usize::MAX, || {
        check_heap(heap, flags)?;
        if p.is_null() {
            return Err(win32::ERROR_INVALID_PARAMETER);
        }
        // SAFETY: the contract.
        unsafe { size_of_block(p.cast_mut()) }
    })
}

/// `BOOL HeapFree(HANDLE hHeap, DWORD dwFlags, LPVOID lpMem)`: frees a block.
///
/// Parameters: the process heap, flags, the block (NULL: nothing to free, TRUE).
/// Returns: TRUE, or FALSE with `ERROR_INVALID_HANDLE` or `ERROR_INVALID_PARAMETER`
/// (a block this heap did not give out; nothing is freed).
/// Memory and lifetimes: the block is invalid afterwards.
///
/// # Safety
/// `lpMem` null or a live block of this heap.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn HeapFree(heap: HANDLE, flags: DWORD, p: *mut c_void) -> BOOL {
    guard(FALSE, || {
        check_heap(heap, flags)?;
        if !p.is_null() {
            // SAFETY: the contract.
            unsafe { free(p) }?;
        }
        Ok(TRUE)
    })
}

/// `GlobalAlloc` and `LocalAlloc`.
fn alloc_flags(flags: u32, bytes: usize) -> Result<*mut c_void, u32> {
    if flags & !GLOBAL_FLAGS != 0 {
        return Err(win32::ERROR_INVALID_PARAMETER);
    }
    let p = alloc(bytes, flags & GMEM_ZEROINIT != 0);
    if p.is_null() {
        return Err(win32::ERROR_NOT_ENOUGH_MEMORY);
    }
    Ok(p)
}

/// `HGLOBAL GlobalAlloc(UINT uFlags, SIZE_T dwBytes)`: a block (`GPTR` = fixed and
/// zeroed, the usual IOCP-server use).
///
/// Parameters: `GMEM_FIXED` (0), `GMEM_ZEROINIT`, `GMEM_MOVEABLE` (see the module's
/// `# Compatibility`), `GPTR`, `GHND`; the size.
/// Returns: the block (its handle is its address), or NULL with
/// `ERROR_NOT_ENOUGH_MEMORY` or `ERROR_INVALID_PARAMETER` (unknown flags).
/// Memory and lifetimes: the caller's until `GlobalFree`.
///
/// # Safety
/// Always safe to call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn GlobalAlloc(flags: u32, bytes: usize) -> *mut c_void {
    guard(std::ptr::null_mut(), || alloc_flags(flags, bytes))
}

/// `HGLOBAL GlobalFree(HGLOBAL hMem)`: frees a block.
///
/// Parameters: the block (NULL: nothing to free).
/// Returns: NULL on success; the block itself with `ERROR_INVALID_HANDLE` if it is not
/// one of ours (nothing is freed).
/// Memory and lifetimes: the block is invalid afterwards.
///
/// # Safety
/// `hMem` null or a live block.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn GlobalFree(h: *mut c_void) -> *mut c_void {
    guard(h, || {
        if !h.is_null() {
            // SAFETY: the contract.
            unsafe { free(h) }.map_err(|_| win32::ERROR_INVALID_HANDLE)?;
        }
        Ok(std::ptr::null_mut())
    })
}

/// `SIZE_T GlobalSize(HGLOBAL hMem)`: the size the block was allocated with.
///
/// Parameters: the block.
/// Returns: the size, or 0 with `ERROR_INVALID_HANDLE` (NULL or not ours).
/// Memory and lifetimes: nothing is kept.
///
/// # Safety
/// `hMem` null or a live block.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn GlobalSize(h: *mut c_void) -> usize {
    guard(0, || {
        if h.is_null() {
            return Err(win32::ERROR_INVALID_HANDLE);
        }
        // SAFETY: the contract.
        unsafe { size_of_block(h) }.map_err(|_| win32::ERROR_INVALID_HANDLE)
    })
}

/// `HLOCAL LocalAlloc(UINT uFlags, SIZE_T uBytes)`: as [`GlobalAlloc`] (`LPTR` = fixed
/// and zeroed).
///
/// Parameters: `LMEM_*` flags (the same values as `GMEM_*`), the size.
/// Returns: as `GlobalAlloc`.
/// Memory and lifetimes: the caller's until `LocalFree`.
///
/// # Safety
/// Always safe to call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn LocalAlloc(flags: u32, bytes: usize) -> *mut c_void {
    guard(std::ptr::null_mut(), || alloc_flags(flags, bytes))
}

/// `HLOCAL LocalFree(HLOCAL hMem)`: as [`GlobalFree`] (also frees what
/// `FormatMessage` would allocate, were it provided).
///
/// Parameters: the block (NULL: nothing to free).
/// Returns: NULL on success, else the block with `ERROR_INVALID_HANDLE`.
/// Memory and lifetimes: the block is invalid afterwards.
///
/// # Safety
/// `hMem` null or a live block.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn LocalFree(h: *mut c_void) -> *mut c_void {
    // SAFETY: the same contract.
    unsafe { GlobalFree(h) }
}
