//! Windows socket addresses (`AF_INET6` = 23, `sin_addr.S_un.S_addr`) to and from
//! `std::net::SocketAddr`.

use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};

use overlapped::WsaError;

use crate::types::{c, sockaddr_in, sockaddr_in6};

/// Reads a Windows `sockaddr` of `len` bytes.
///
/// # Safety
/// `ptr` must be null or point to `len` readable bytes.
pub(crate) unsafe fn read(ptr: *const u8, len: i32) -> Result<SocketAddr, u32> {
    if ptr.is_null() {
        return Err(WsaError::WSAEFAULT.code());
    }
    let len = usize::try_from(len).map_err(|_| WsaError::WSAEFAULT.code())?;
    if len < 2 {
        return Err(WsaError::WSAEFAULT.code());
    }
    // Only the `sockaddr` itself is read, however long `len` says the buffer is.
    crate::handles::check_in_bytes(ptr, len.min(size_of::<sockaddr_in6>()))?;
    // SAFETY: at least 2 readable bytes (the caller's contract and the check above).
    let family = i32::from(unsafe { ptr.cast::<i16>().read_unaligned() });
    match family {
        c::AF_INET => {
            if len < size_of::<sockaddr_in>() {
                return Err(WsaError::WSAEFAULT.code());
            }
            // SAFETY: `len` covers a sockaddr_in.
            let sin = unsafe { ptr.cast::<sockaddr_in>().read_unaligned() };
            let ip = Ipv4Addr::from(sin.sin_addr.to_ne_bytes());
            Ok(SocketAddr::V4(SocketAddrV4::new(
                ip,
                u16::from_be(sin.sin_port),
            )))
        }
        c::AF_INET6 => {
            if len < size_of::<sockaddr_in6>() {
                return Err(WsaError::WSAEFAULT.code());
            }
            // SAFETY: `len` covers a sockaddr_in6.
            let sin6 = unsafe { ptr.cast::<sockaddr_in6>().read_unaligned() };
            Ok(SocketAddr::V6(SocketAddrV6::new(
                Ipv6Addr::from(sin6.sin6_addr),
                u16::from_be(sin6.sin6_port),
                sin6.sin6_flowinfo,
                sin6.sin6_scope_id,
            )))
        }
        _ => Err(WsaError::WSAEAFNOSUPPORT.code()),
    }
}

/// The Windows bytes of `addr`.
pub(crate) fn encode(addr: &SocketAddr) -> Vec<u8> {
    match addr {
        SocketAddr::V4(a) => {
            let sin = sockaddr_in {
                sin_family: 2, // AF_INET
                sin_port: a.port().to_be(),
                sin_addr: u32::from_ne_bytes(a.ip().octets()),
                sin_zero: [0; 8],
            };
            // SAFETY: sockaddr_in is plain data without padding.
            unsafe {
                std::slice::from_raw_parts((&raw const sin).cast::<u8>(), size_of::<sockaddr_in>())
            }
            .to_vec()
        }
        SocketAddr::V6(a) => {
            let sin6 = sockaddr_in6 {
                sin6_family: 23, // AF_INET6 (Windows)
                sin6_port: a.port().to_be(),
                sin6_flowinfo: a.flowinfo(),
                sin6_addr: a.ip().octets(),
                sin6_scope_id: a.scope_id(),
            };
            // SAFETY: sockaddr_in6 is plain data without padding.
            unsafe {
                std::slice::from_raw_parts(
                    (&raw const sin6).cast::<u8>(),
                    size_of::<sockaddr_in6>(),
                )
            }
            .to_vec()
        }
    }
}

/// Writes `addr` to a caller's `sockaddr` buffer of `*len` bytes, updating `*len`
/// (`getsockname`, `accept`, `recvfrom`). A null `ptr` writes nothing.
///
/// # Safety
/// `ptr` must be null or point to `*len` writable bytes; `len` must be null or valid.
pub(crate) unsafe fn write(addr: &SocketAddr, ptr: *mut u8, len: *mut i32) -> Result<(), u32> {
    if ptr.is_null() {
        return Ok(());
    }
    crate::handles::check_out(len)?;
    let bytes = encode(addr);
    // SAFETY: `len` is valid (checked writable).
    let room = unsafe { len.read_unaligned() };
    if usize::try_from(room).map_or(true, |r| r < bytes.len()) {
        return Err(WsaError::WSAEFAULT.code());
    }
    crate::handles::check_out_bytes(ptr, bytes.len())?;
    // SAFETY: `room >= bytes.len()` writable bytes at `ptr`.
    unsafe { std::ptr::copy_nonoverlapping(bytes.as_ptr(), ptr, bytes.len()) };
    // SAFETY: as above.
    unsafe { *len = i32::try_from(bytes.len()).unwrap_or(i32::MAX) };
    Ok(())
}

/// The size of the Windows `sockaddr` of `family`: what a caller's address buffer must
/// hold (`accept`, `recvfrom`, `WSARecvFrom`), checked before anything is consumed.
pub(crate) fn len_of(family: overlapped::Family) -> i32 {
    match family {
        overlapped::Family::V4 => 16,
        overlapped::Family::V6 => 28,
    }
}

/// Checks, before the call consumes a connection or a datagram, that a caller's
/// `sockaddr` buffer (`ptr`, `*len` bytes; NULL `ptr`: no address wanted) can hold an
/// address of `family`: `WSAEFAULT` otherwise (a NULL `len` with a buffer, a negative or
/// too small `*len`), as Windows does.
///
/// # Safety
/// `len` must be null or point to a readable `int`.
pub(crate) unsafe fn check_room(
    family: overlapped::Family,
    ptr: *const u8,
    len: *const i32,
) -> Result<(), u32> {
    if ptr.is_null() {
        return Ok(());
    }
    crate::handles::check_out(len.cast_mut())?;
    // SAFETY: checked readable (and writable: it is updated later).
    if unsafe { len.read_unaligned() } < len_of(family) {
        return Err(WsaError::WSAEFAULT.code());
    }
    crate::handles::check_out_bytes(ptr.cast_mut(), len_of(family).unsigned_abs() as usize)
}

/// The Windows address family of a Linux one.
pub(crate) fn family_to_linux(af: i32) -> Option<overlapped::Family> {
    match af {
        c::AF_INET => Some(overlapped::Family::V4),
        c::AF_INET6 => Some(overlapped::Family::V6),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_sockaddr_round_trip() {
        for a in ["127.0.0.1:6000", "[::1]:443", "[fe80::1%3]:80"] {
            let a: SocketAddr = a.parse().unwrap();
            let bytes = encode(&a);
            assert_eq!(bytes.len(), if a.is_ipv4() { 16 } else { 28 });
            // Windows family values: AF_INET 2, AF_INET6 23.
            assert_eq!(bytes[0], if a.is_ipv4() { 2 } else { 23 });
            let len = i32::try_from(bytes.len()).unwrap();
            // SAFETY: `bytes` holds `len` readable bytes.
            let back = unsafe { read(bytes.as_ptr(), len) }.unwrap();
            assert_eq!(back, a);
        }
    }

    #[test]
    fn short_or_null_addresses_are_faults() {
        let a: SocketAddr = "10.0.0.1:1".parse().unwrap();
        let bytes = encode(&a);
        // SAFETY: reads at most the 8 bytes given.
        let short = unsafe { read(bytes.as_ptr(), 8) };
        assert_eq!(short, Err(WsaError::WSAEFAULT.code()));
        // SAFETY: a null pointer is rejected before any read.
        let null = unsafe { read(std::ptr::null(), 16) };
        assert_eq!(null, Err(WsaError::WSAEFAULT.code()));
        let mut out = [0u8; 8];
        let mut len = 8;
        // SAFETY: `out` holds `len` writable bytes.
        let r = unsafe { write(&a, out.as_mut_ptr(), &raw mut len) };
        assert_eq!(r, Err(WsaError::WSAEFAULT.code()), "too small a buffer");
    }
}
