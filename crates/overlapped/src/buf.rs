//! Buffers that an operation owns while the kernel may use them.
//!
//! Every posted operation takes its buffers **by value** and hands them back with the
//! result ([`crate::Posted::wait`], or the completion routine's argument), so safe code can
//! never free or touch memory the kernel may still write. A buffer's receive window is its
//! whole length, like a `WSABUF`: `vec![0u8; 1024]` lets a receive fill up to 1024 bytes,
//! and the completion's byte count says how many it did; the length itself never changes.

/// Memory that can be handed to the kernel for reading.
///
/// # Safety
/// `io_ptr` must point to `io_len` readable bytes, and the pointer must stay valid and
/// unchanged while `self` is moved, until `self` is dropped or mutably borrowed.
pub unsafe trait IoBuf: Send + 'static {
    /// Start of the bytes.
    fn io_ptr(&self) -> *const u8;
    /// Number of bytes.
    fn io_len(&self) -> usize;
    /// The bytes as a slice.
    fn as_io_slice(&self) -> &[u8] {
        // SAFETY: the trait's contract: `io_ptr` is valid for `io_len` readable bytes.
        unsafe { std::slice::from_raw_parts(self.io_ptr(), self.io_len()) }
    }
}

/// Memory that can be handed to the kernel for writing.
///
/// # Safety
/// As for [`IoBuf`], and `io_mut_ptr` must point to `io_len` writable bytes.
pub unsafe trait IoBufMut: IoBuf {
    /// Start of the writable bytes.
    fn io_mut_ptr(&mut self) -> *mut u8;
}

// SAFETY: a Vec's heap pointer does not change when the Vec is moved.
unsafe impl IoBuf for Vec<u8> {
    fn io_ptr(&self) -> *const u8 {
        self.as_ptr()
    }
    fn io_len(&self) -> usize {
        self.len()
    }
}
// SAFETY: as above; `len` initialized bytes are writable.
unsafe impl IoBufMut for Vec<u8> {
    fn io_mut_ptr(&mut self) -> *mut u8 {
        self.as_mut_ptr()
    }
}
// SAFETY: a boxed slice's heap pointer does not change when the box is moved.
unsafe impl IoBuf for Box<[u8]> {
    fn io_ptr(&self) -> *const u8 {
        self.as_ptr()
    }
    fn io_len(&self) -> usize {
        self.len()
    }
}
// SAFETY: as above.
unsafe impl IoBufMut for Box<[u8]> {
    fn io_mut_ptr(&mut self) -> *mut u8 {
        self.as_mut_ptr()
    }
}
// SAFETY: static memory never moves and is never freed.
unsafe impl IoBuf for &'static [u8] {
    fn io_ptr(&self) -> *const u8 {
        self.as_ptr()
    }
    fn io_len(&self) -> usize {
        self.len()
    }
}
// SAFETY: static memory never moves and is never freed.
unsafe impl IoBuf for &'static str {
    fn io_ptr(&self) -> *const u8 {
        self.as_ptr()
    }
    fn io_len(&self) -> usize {
        self.len()
    }
}
// SAFETY: a String's heap pointer does not change when the String is moved.
unsafe impl IoBuf for String {
    fn io_ptr(&self) -> *const u8 {
        self.as_ptr()
    }
    fn io_len(&self) -> usize {
        self.len()
    }
}

/// A buffer given by raw pointer and length, for callers (such as the C ABI) whose memory
/// is owned outside Rust.
#[derive(Debug)]
pub struct RawBuf {
    ptr: *mut u8,
    len: usize,
}

impl RawBuf {
    /// Wraps `len` bytes at `ptr`.
    ///
    /// # Safety
    /// The memory must be valid for reads and writes of `len` bytes, and must stay valid
    /// and unused by anything else **until the operation's completion has been observed**
    /// (its event signalled, its routine run, or its result read), not merely until the
    /// posting call returns.
    pub unsafe fn new(ptr: *mut u8, len: usize) -> Self {
        Self { ptr, len }
    }
}

// SAFETY: the creator of a RawBuf promised (in `RawBuf::new`) that the memory stays valid
// and exclusively lent to the operation, from whichever thread the engine touches it.
unsafe impl Send for RawBuf {}

// SAFETY: validity for `len` bytes until completion is `RawBuf::new`'s contract.
unsafe impl IoBuf for RawBuf {
    fn io_ptr(&self) -> *const u8 {
        self.ptr
    }
    fn io_len(&self) -> usize {
        self.len
    }
}
// SAFETY: as above, writable by the same contract.
unsafe impl IoBufMut for RawBuf {
    fn io_mut_ptr(&mut self) -> *mut u8 {
        self.ptr
    }
}

/// A sub-range of a buffer, lent to an operation in place of the whole buffer: send the
/// first `n` bytes that a receive filled, or receive into the free tail of a buffer,
/// without copying, resizing or zeroing it. [`Slice::into_inner`] gives the whole buffer
/// back.
///
/// ```
/// use overlapped::Slice;
/// let buf = vec![7u8; 16 * 1024];
/// let head = Slice::new(buf, ..64); // an operation sees 64 bytes
/// assert_eq!(head.len(), 64);
/// assert_eq!(head.into_inner().len(), 16 * 1024);
/// ```
#[derive(Debug)]
pub struct Slice<T> {
    buf: T,
    begin: usize,
    end: usize,
}

impl<T: IoBuf> Slice<T> {
    /// Lends `range` of `buf`.
    ///
    /// # Panics
    /// When `range` is not within `buf` (as slice indexing does).
    pub fn new(buf: T, range: impl std::ops::RangeBounds<usize>) -> Self {
        use std::ops::Bound;
        let len = buf.io_len();
        let begin = match range.start_bound() {
            Bound::Included(&b) => b,
            Bound::Excluded(&b) => b.checked_add(1).expect("range start overflows"),
            Bound::Unbounded => 0,
        };
        let end = match range.end_bound() {
            Bound::Included(&e) => e.checked_add(1).expect("range end overflows"),
            Bound::Excluded(&e) => e,
            Bound::Unbounded => len,
        };
        assert!(
            begin <= end && end <= len,
            "slice range {begin}..{end} out of a buffer of {len} bytes"
        );
        Self { buf, begin, end }
    }

    /// The whole buffer.
    pub fn into_inner(self) -> T {
        self.buf
    }

    /// The whole buffer, borrowed.
    pub fn get_ref(&self) -> &T {
        &self.buf
    }

    /// Where the range starts in the buffer.
    pub fn begin(&self) -> usize {
        self.begin
    }

    /// Where the range ends in the buffer (exclusive).
    pub fn end(&self) -> usize {
        self.end
    }

    /// The length of the range.
    pub fn len(&self) -> usize {
        self.end - self.begin
    }

    /// Whether the range is empty.
    pub fn is_empty(&self) -> bool {
        self.begin == self.end
    }
}

// SAFETY: `begin..end` lies within the inner buffer (checked in `new`, and the inner
// buffer's length never changes while the slice owns it: only `&T` is ever lent out), so
// the offset pointer is valid for `end - begin` bytes by the inner buffer's contract, and
// it is as stable under moves as the inner pointer.
unsafe impl<T: IoBuf> IoBuf for Slice<T> {
    fn io_ptr(&self) -> *const u8 {
        self.buf.io_ptr().wrapping_add(self.begin)
    }
    fn io_len(&self) -> usize {
        self.end - self.begin
    }
}
// SAFETY: as above, writable by the inner buffer's `IoBufMut` contract.
unsafe impl<T: IoBufMut> IoBufMut for Slice<T> {
    fn io_mut_ptr(&mut self) -> *mut u8 {
        self.buf.io_mut_ptr().wrapping_add(self.begin)
    }
}

/// One or several buffers that an operation fills in order (scatter).
///
/// # Safety
/// Every `(ptr, len)` pushed by `iovecs_mut` must satisfy [`IoBufMut`]'s contract.
pub unsafe trait IoBufsMut: Send + 'static {
    /// Appends the buffers' (pointer, length) pairs, in fill order.
    fn iovecs_mut(&mut self, out: &mut Vec<libc::iovec>);
}

/// One or several buffers that an operation sends in order (gather).
///
/// # Safety
/// Every `(ptr, len)` pushed by `iovecs` must satisfy [`IoBuf`]'s contract.
pub unsafe trait IoBufs: Send + 'static {
    /// Appends the buffers' (pointer, length) pairs, in send order.
    fn iovecs(&self, out: &mut Vec<libc::iovec>);
}

// SAFETY: forwards one buffer's own contract.
unsafe impl<T: IoBufMut> IoBufsMut for T {
    fn iovecs_mut(&mut self, out: &mut Vec<libc::iovec>) {
        out.push(libc::iovec {
            iov_base: self.io_mut_ptr().cast(),
            iov_len: self.io_len(),
        });
    }
}

// SAFETY: forwards one buffer's own contract.
unsafe impl<T: IoBuf> IoBufs for T {
    fn iovecs(&self, out: &mut Vec<libc::iovec>) {
        out.push(libc::iovec {
            iov_base: self.io_ptr().cast_mut().cast(),
            iov_len: self.io_len(),
        });
    }
}

/// Several buffers filled (or sent) in order, as one scatter/gather operation: the Rust
/// form of an array of `WSABUF`s.
#[derive(Debug, Default)]
pub struct BufList<T>(pub Vec<T>);

// SAFETY: each element satisfies the single-buffer contract.
unsafe impl<T: IoBufMut> IoBufsMut for BufList<T> {
    fn iovecs_mut(&mut self, out: &mut Vec<libc::iovec>) {
        for b in &mut self.0 {
            out.push(libc::iovec {
                iov_base: b.io_mut_ptr().cast(),
                iov_len: b.io_len(),
            });
        }
    }
}

// SAFETY: each element satisfies the single-buffer contract.
unsafe impl<T: IoBuf> IoBufs for BufList<T> {
    fn iovecs(&self, out: &mut Vec<libc::iovec>) {
        for b in &self.0 {
            out.push(libc::iovec {
                iov_base: b.io_ptr().cast_mut().cast(),
                iov_len: b.io_len(),
            });
        }
    }
}
