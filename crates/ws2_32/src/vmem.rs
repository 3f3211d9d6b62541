//! Page-granular memory from kernel32: `VirtualAlloc`, `VirtualProtect`, `VirtualFree`,
//! `VirtualQuery`. Socket programs (and Wine's tests of Windows) use them for buffers
//! at a page boundary with an inaccessible page after them, to check that a call does
//! not touch memory it should not.
//!
//! # The model
//! A region is one anonymous `mmap` (reserved pages are `PROT_NONE`); the regions this
//! module made are kept in a table (base, size, each page's protection and state) so
//! that `VirtualFree(MEM_RELEASE)` with a size of 0 and `VirtualProtect`'s old
//! protection are exact, and a pointer that did not come from `VirtualAlloc` is refused
//! (`ERROR_INVALID_ADDRESS`) instead of unmapping memory that is not ours.
//!
//! # Compatibility
//! - The allocation granularity is the page (4 KiB), not Windows' 64 KiB.
//! - `MEM_WRITE_WATCH`, `MEM_PHYSICAL`, `MEM_LARGE_PAGES`, `MEM_RESET*` and the
//!   `PAGE_GUARD`/`PAGE_NOCACHE`/`PAGE_WRITECOMBINE` modifiers are refused with
//!   `ERROR_INVALID_PARAMETER` (no Linux equivalent that keeps Windows' semantics).
//! - `MEM_RESERVE` at a given address is refused unless the address is already ours.

use std::collections::BTreeMap;
use std::ffi::c_void;
use std::sync::Mutex;

use crate::handles::guard;
use crate::types::{BOOL, DWORD, FALSE, TRUE, win32};

/// `MEM_COMMIT`.
pub const MEM_COMMIT: DWORD = 0x1000;
/// `MEM_RESERVE`.
pub const MEM_RESERVE: DWORD = 0x2000;
/// `MEM_DECOMMIT`.
pub const MEM_DECOMMIT: DWORD = 0x4000;
/// `MEM_RELEASE`.
pub const MEM_RELEASE: DWORD = 0x8000;
/// `MEM_FREE` (a state `VirtualQuery` reports; not a valid free type).
pub const MEM_FREE: DWORD = 0x10000;
/// `MEM_PRIVATE` (the type of every region here).
pub const MEM_PRIVATE: DWORD = 0x20000;

/// `PAGE_NOACCESS`.
pub const PAGE_NOACCESS: DWORD = 0x01;
/// `PAGE_READONLY`.
pub const PAGE_READONLY: DWORD = 0x02;
/// `PAGE_READWRITE`.
pub const PAGE_READWRITE: DWORD = 0x04;
/// `PAGE_EXECUTE`.
pub const PAGE_EXECUTE: DWORD = 0x10;
/// `PAGE_EXECUTE_READ`.
pub const PAGE_EXECUTE_READ: DWORD = 0x20;
/// `PAGE_EXECUTE_READWRITE`.
pub const PAGE_EXECUTE_READWRITE: DWORD = 0x40;

/// `ERROR_INVALID_ADDRESS`.
const ERROR_INVALID_ADDRESS: u32 = 487;
/// `ERROR_BAD_LENGTH`.
const ERROR_BAD_LENGTH: u32 = 24;

const PAGE: usize = 4096;
/// The largest region: 1 TiB (as the heap's bound; larger requests fail at once).
const MAX_REGION: usize = 1 << 40;

/// `MEMORY_BASIC_INFORMATION` (x64 layout, 48 bytes).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
#[allow(non_snake_case)]
pub struct MEMORY_BASIC_INFORMATION {
    /// The page the query fell in, rounded down.
    pub BaseAddress: *mut c_void,
    /// The region `VirtualAlloc` returned.
    pub AllocationBase: *mut c_void,
    /// The protection it was allocated with.
    pub AllocationProtect: DWORD,
    /// (x64 padding.)
    pub PartitionId: u16,
    /// Bytes from `BaseAddress` with the same state and protection.
    pub RegionSize: usize,
    /// `MEM_COMMIT`, `MEM_RESERVE` or `MEM_FREE`.
    pub State: DWORD,
    /// The pages' protection (0 unless committed).
    pub Protect: DWORD,
    /// `MEM_PRIVATE` (0 for free memory).
    pub Type: DWORD,
}
const _: () = assert!(size_of::<MEMORY_BASIC_INFORMATION>() == 48);

/// One page's state: 0 = reserved, else its `PAGE_*` protection (committed).
type PageState = DWORD;

struct Region {
    size: usize,
    alloc_protect: DWORD,
    pages: Vec<PageState>,
}

/// The regions `VirtualAlloc` made, by base address.
static REGIONS: Mutex<BTreeMap<usize, Region>> = Mutex::new(BTreeMap::new());

fn regions() -> std::sync::MutexGuard<'static, BTreeMap<usize, Region>> {
    REGIONS
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The `PROT_*` of a `PAGE_*` value; Err for a value or modifier we do not take.
fn prot(protect: DWORD) -> Result<i32, u32> {
    Ok(match protect {
        PAGE_NOACCESS => libc::PROT_NONE,
        PAGE_READONLY => libc::PROT_READ,
        PAGE_READWRITE => libc::PROT_READ | libc::PROT_WRITE,
        PAGE_EXECUTE => libc::PROT_EXEC,
        PAGE_EXECUTE_READ => libc::PROT_READ | libc::PROT_EXEC,
        PAGE_EXECUTE_READWRITE => libc::PROT_READ | libc::PROT_WRITE | libc::PROT_EXEC,
        _ => return Err(win32::ERROR_INVALID_PARAMETER),
    })
}

/// The region holding `addr`: (base, region).
fn find(map: &mut BTreeMap<usize, Region>, addr: usize) -> Option<(usize, &mut Region)> {
    let (&base, region) = map.range_mut(..=addr).next_back()?;
    (addr < base + region.size).then_some((base, region))
}

/// Applies `protection` (0 = back to reserved) to `count` pages from page index `first`.
fn set_pages(
    base: usize,
    region: &mut Region,
    first: usize,
    count: usize,
    protection: DWORD,
) -> Result<(), u32> {
    let p = if protection == 0 {
        libc::PROT_NONE
    } else {
        prot(protection)?
    };
    let start = base + first * PAGE;
    let len = count * PAGE;
    // SAFETY: the range lies inside a mapping this module made and still owns.
    if unsafe { libc::mprotect(start as *mut c_void, len, p) } != 0 {
        return Err(win32::ERROR_NOT_ENOUGH_MEMORY);
    }
    if protection == 0 {
        // Decommitted pages read as zero when committed again, as on Windows.
        // SAFETY: as above; the pages' contents are given up on purpose.
        unsafe { libc::madvise(start as *mut c_void, len, libc::MADV_DONTNEED) };
    }
    region.pages[first..first + count].fill(protection);
    Ok(())
}

/// `LPVOID VirtualAlloc(LPVOID lpAddress, SIZE_T dwSize, DWORD flAllocationType, DWORD flProtect)`.
///
/// Parameters: an address (NULL: anywhere; else inside a region of ours, to commit
/// pages of it), a size, `MEM_RESERVE` and/or `MEM_COMMIT`, a `PAGE_*` protection.
/// Returns: the page-aligned base (zeroed pages), or NULL with `ERROR_INVALID_PARAMETER`,
/// `ERROR_INVALID_ADDRESS` or `ERROR_NOT_ENOUGH_MEMORY`.
/// Memory and lifetimes: the region lives until `VirtualFree(base, 0, MEM_RELEASE)`.
#[unsafe(no_mangle)]
pub extern "C" fn VirtualAlloc(
    addr: *mut c_void,
    size: usize,
    kind: DWORD,
    protect: DWORD,
) -> *mut c_void {
    guard(std::ptr::null_mut(), || {
        if size == 0 || size > MAX_REGION || kind & !(MEM_COMMIT | MEM_RESERVE) != 0 || kind == 0 {
            return Err(win32::ERROR_INVALID_PARAMETER);
        }
        prot(protect)?;
        let mut map = regions();
        if !addr.is_null() {
            // Commit (or re-commit) pages of a region of ours.
            let a = addr as usize & !(PAGE - 1);
            let end = (addr as usize)
                .checked_add(size)
                .ok_or(win32::ERROR_INVALID_PARAMETER)?;
            let (base, region) = find(&mut map, a).ok_or(ERROR_INVALID_ADDRESS)?;
            if end > base + region.size {
                return Err(ERROR_INVALID_ADDRESS);
            }
            if kind & MEM_COMMIT == 0 {
                return Err(ERROR_INVALID_ADDRESS);
            }
            let first = (a - base) / PAGE;
            let count = (end - a).div_ceil(PAGE);
            set_pages(base, region, first, count, protect)?;
            return Ok(a as *mut c_void);
        }
        let len = size.div_ceil(PAGE) * PAGE;
        let committed = kind & MEM_COMMIT != 0;
        let p = if committed {
            prot(protect)?
        } else {
            libc::PROT_NONE
        };
        // SAFETY: a fresh anonymous private mapping; nothing else is affected.
        let base = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                p,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
                -1,
                0,
            )
        };
        if base == libc::MAP_FAILED {
            return Err(win32::ERROR_NOT_ENOUGH_MEMORY);
        }
        map.insert(
            base as usize,
            Region {
                size: len,
                alloc_protect: protect,
                pages: vec![if committed { protect } else { 0 }; len / PAGE],
            },
        );
        Ok(base)
    })
}

/// `BOOL VirtualProtect(LPVOID lpAddress, SIZE_T dwSize, DWORD flNewProtect, PDWORD lpflOldProtect)`.
///
/// Parameters: an address inside a committed range of ours, a size, the new `PAGE_*`
/// protection, where to write the first page's old protection (required).
/// Returns: TRUE, or FALSE with `ERROR_INVALID_PARAMETER` (bad protection, NULL
/// `lpflOldProtect`), `ERROR_INVALID_ADDRESS` (not ours, or a page not committed) or
/// `ERROR_NOACCESS` (`lpflOldProtect` unwritable).
/// Memory and lifetimes: `lpflOldProtect` is written during the call only.
///
/// # Safety
/// `old` must be NULL or point to a `DWORD` (an unwritable one is refused).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn VirtualProtect(
    addr: *mut c_void,
    size: usize,
    protect: DWORD,
    old: *mut DWORD,
) -> BOOL {
    guard(FALSE, || {
        prot(protect)?;
        if old.is_null() {
            return Err(win32::ERROR_INVALID_PARAMETER);
        }
        if !crate::handles::writable(old.cast(), size_of::<DWORD>()) {
            return Err(win32::ERROR_NOACCESS);
        }
        let a = addr as usize & !(PAGE - 1);
        let end = (addr as usize)
            .checked_add(size.max(1))
            .ok_or(win32::ERROR_INVALID_PARAMETER)?;
        let mut map = regions();
        let (base, region) = find(&mut map, a).ok_or(ERROR_INVALID_ADDRESS)?;
        if end > base + region.size {
            return Err(ERROR_INVALID_ADDRESS);
        }
        let first = (a - base) / PAGE;
        let count = (end - a).div_ceil(PAGE);
        if region.pages[first..first + count].contains(&0) {
            return Err(ERROR_INVALID_ADDRESS);
        }
        let previous = region.pages[first];
        set_pages(base, region, first, count, protect)?;
        // SAFETY: non-null and writable (checked above).
        unsafe { old.write_unaligned(previous) };
        Ok(TRUE)
    })
}

/// `BOOL VirtualFree(LPVOID lpAddress, SIZE_T dwSize, DWORD dwFreeType)`.
///
/// Parameters: with `MEM_RELEASE`, a region's base and a size of 0; with
/// `MEM_DECOMMIT`, a range inside a region of ours (size 0: to the region's end).
/// Returns: TRUE, or FALSE with `ERROR_INVALID_PARAMETER` (another free type, a
/// non-zero size with `MEM_RELEASE`) or `ERROR_INVALID_ADDRESS` (not a region of ours,
/// or not its base for `MEM_RELEASE`).
/// Memory and lifetimes: released memory must not be used again.
#[unsafe(no_mangle)]
pub extern "C" fn VirtualFree(addr: *mut c_void, size: usize, kind: DWORD) -> BOOL {
    guard(FALSE, || {
        let mut map = regions();
        match kind {
            MEM_RELEASE => {
                if size != 0 {
                    return Err(win32::ERROR_INVALID_PARAMETER);
                }
                let base = addr as usize;
                let region = map.remove(&base).ok_or(ERROR_INVALID_ADDRESS)?;
                // SAFETY: a whole mapping this module made, now out of the table.
                unsafe { libc::munmap(base as *mut c_void, region.size) };
                Ok(TRUE)
            }
            MEM_DECOMMIT => {
                let a = addr as usize & !(PAGE - 1);
                let (base, region) = find(&mut map, a).ok_or(ERROR_INVALID_ADDRESS)?;
                let end = if size == 0 {
                    base + region.size
                } else {
                    (addr as usize)
                        .checked_add(size)
                        .ok_or(win32::ERROR_INVALID_PARAMETER)?
                };
                if end > base + region.size {
                    return Err(ERROR_INVALID_ADDRESS);
                }
                let first = (a - base) / PAGE;
                set_pages(base, region, first, (end - a).div_ceil(PAGE), 0)?;
                Ok(TRUE)
            }
            _ => Err(win32::ERROR_INVALID_PARAMETER),
        }
    })
}

/// `SIZE_T VirtualQuery(LPCVOID lpAddress, PMEMORY_BASIC_INFORMATION lpBuffer, SIZE_T dwLength)`.
///
/// Parameters: any address, the record to fill, its size.
/// Returns: the bytes written (48), or 0 with `ERROR_BAD_LENGTH` (a short record) or
/// `ERROR_NOACCESS` (an unwritable one). Memory outside our regions reports `MEM_FREE`
/// when nothing is mapped there, else a committed read-write page of another owner.
/// Memory and lifetimes: the record is written during the call only.
///
/// # Safety
/// `info` must point to `len` bytes (an unwritable record is refused).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn VirtualQuery(
    addr: *const c_void,
    info: *mut MEMORY_BASIC_INFORMATION,
    len: usize,
) -> usize {
    guard(0, || {
        if len < size_of::<MEMORY_BASIC_INFORMATION>() {
            return Err(ERROR_BAD_LENGTH);
        }
        if info.is_null()
            || !crate::handles::writable(info.cast(), size_of::<MEMORY_BASIC_INFORMATION>())
        {
            return Err(win32::ERROR_NOACCESS);
        }
        let a = addr as usize & !(PAGE - 1);
        let mut map = regions();
        let out = match find(&mut map, a) {
            Some((base, region)) => {
                let first = (a - base) / PAGE;
                let state = region.pages[first];
                let same = region.pages[first..]
                    .iter()
                    .take_while(|&&p| p == state)
                    .count();
                MEMORY_BASIC_INFORMATION {
                    BaseAddress: a as *mut c_void,
                    AllocationBase: base as *mut c_void,
                    AllocationProtect: region.alloc_protect,
                    PartitionId: 0,
                    RegionSize: same * PAGE,
                    State: if state == 0 { MEM_RESERVE } else { MEM_COMMIT },
                    Protect: state,
                    Type: MEM_PRIVATE,
                }
            }
            None => {
                // Whether anything is mapped there: mincore fails with ENOMEM if not.
                let mut v = 0u8;
                // SAFETY: one page's residency into a local byte; no memory is touched.
                let mapped = unsafe { libc::mincore(a as *mut c_void, PAGE, &raw mut v) } == 0;
                MEMORY_BASIC_INFORMATION {
                    BaseAddress: a as *mut c_void,
                    AllocationBase: if mapped {
                        a as *mut c_void
                    } else {
                        std::ptr::null_mut()
                    },
                    AllocationProtect: if mapped { PAGE_READWRITE } else { 0 },
                    PartitionId: 0,
                    RegionSize: PAGE,
                    State: if mapped { MEM_COMMIT } else { MEM_FREE },
                    Protect: if mapped { PAGE_READWRITE } else { 0 },
                    Type: if mapped { MEM_PRIVATE } else { 0 },
                }
            }
        };
        // SAFETY: writable for the record's size (checked above).
        unsafe { info.write_unaligned(out) };
        Ok(size_of::<MEMORY_BASIC_INFORMATION>())
    })
}
