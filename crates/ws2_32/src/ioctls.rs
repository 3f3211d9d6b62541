//! `WSAIoctl` control codes that query the host or the socket: the address and interface
//! lists, the routing interface, the send backlog, the base handle, the urgent-data mark.
//! `io.rs`'s `WSAIoctl` dispatches here; each function writes the caller's output and
//! size as Windows does (the rules come from Wine's conformance tests, which record
//! Windows' behaviour) and returns the request to run or post.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use overlapped::{Ioctl, NtStatus, WsaError};

use crate::handles::{self, SockEntry};
use crate::types::{DWORD, OVERLAPPED, SOCKET};

/// `SIO_ADDRESS_LIST_QUERY`.
pub(crate) const SIO_ADDRESS_LIST_QUERY: u32 = 0x4800_0016;
/// `SIO_ADDRESS_LIST_CHANGE`.
pub(crate) const SIO_ADDRESS_LIST_CHANGE: u32 = 0x2800_0017;
/// `SIO_ROUTING_INTERFACE_QUERY`.
pub(crate) const SIO_ROUTING_INTERFACE_QUERY: u32 = 0xC800_0014;
/// `SIO_ENABLE_CIRCULAR_QUEUEING`.
pub(crate) const SIO_ENABLE_CIRCULAR_QUEUEING: u32 = 0x2800_0002;
/// `SIO_GET_INTERFACE_LIST`.
pub(crate) const SIO_GET_INTERFACE_LIST: u32 = 0x4004_747F;
/// `SIO_IDEAL_SEND_BACKLOG_QUERY`.
pub(crate) const SIO_IDEAL_SEND_BACKLOG_QUERY: u32 = 0x4004_747B;
/// `SIO_BSP_HANDLE`, `SIO_BSP_HANDLE_SELECT`, `SIO_BSP_HANDLE_POLL`.
pub(crate) const SIO_BSP_HANDLE: u32 = 0x4800_001B;
pub(crate) const SIO_BSP_HANDLE_SELECT: u32 = 0x4800_001C;
pub(crate) const SIO_BSP_HANDLE_POLL: u32 = 0x4800_001D;

/// `FIELD_OFFSET(SOCKET_ADDRESS_LIST, Address[0])`: the count, padded to a pointer.
const LIST_HEADER: usize = 8;
/// `sizeof(SOCKET_ADDRESS)`: `{LPSOCKADDR lpSockaddr; INT iSockaddrLength;}`.
const SOCKET_ADDRESS_SIZE: usize = 16;
/// `sizeof(INTERFACE_INFO)`: flags and three 24-byte `sockaddr_gen`.
const INTERFACE_INFO_SIZE: usize = 76;
/// Windows' `IFF_*` flags of `INTERFACE_INFO`.
const WIN_IFF_UP: u32 = 1;
const WIN_IFF_BROADCAST: u32 = 2;
const WIN_IFF_LOOPBACK: u32 = 4;
const WIN_IFF_POINTTOPOINT: u32 = 8;
const WIN_IFF_MULTICAST: u32 = 0x10;

fn err(e: WsaError) -> u32 {
    e.code()
}

/// Writes `n` to a non-null count pointer.
///
/// # Safety
/// `returned` must be valid for a `DWORD` write (`WSAIoctl` checked it).
unsafe fn set_size(returned: *mut DWORD, n: usize) {
    // SAFETY: the contract.
    unsafe { returned.write_unaligned(DWORD::try_from(n).unwrap_or(DWORD::MAX)) };
}

/// One interface address from `getifaddrs`.
struct IfAddr {
    flags: u32,
    addr: IpAddr,
    netmask: Option<IpAddr>,
    broadcast: Option<IpAddr>,
}

fn ip_of(sa: *const libc::sockaddr) -> Option<IpAddr> {
    if sa.is_null() {
        return None;
    }
    // SAFETY: a non-null sockaddr from getifaddrs; its family says its size.
    let family = i32::from(unsafe { (*sa).sa_family });
    match family {
        libc::AF_INET => {
            // SAFETY: an AF_INET sockaddr is a sockaddr_in.
            let sin = unsafe { sa.cast::<libc::sockaddr_in>().read_unaligned() };
            Some(IpAddr::V4(Ipv4Addr::from(u32::from_be(
                sin.sin_addr.s_addr,
            ))))
        }
        libc::AF_INET6 => {
            // SAFETY: an AF_INET6 sockaddr is a sockaddr_in6.
            let sin6 = unsafe { sa.cast::<libc::sockaddr_in6>().read_unaligned() };
            Some(IpAddr::V6(sin6.sin6_addr.s6_addr.into()))
        }
        _ => None,
    }
}

/// The host's interface addresses (up interfaces only).
fn interfaces() -> Vec<IfAddr> {
    let mut head: *mut libc::ifaddrs = std::ptr::null_mut();
    // SAFETY: getifaddrs writes a list head to a valid pointer.
    if unsafe { libc::getifaddrs(&raw mut head) } != 0 {
        return Vec::new();
    }
    let mut out = Vec::new();
    let mut p = head;
    while !p.is_null() {
        // SAFETY: a node of the list getifaddrs returned, not yet freed.
        let ifa = unsafe { &*p };
        p = ifa.ifa_next;
        if ifa.ifa_flags & libc::IFF_UP as u32 == 0 {
            continue;
        }
        let Some(addr) = ip_of(ifa.ifa_addr) else {
            continue;
        };
        let broadcast = if ifa.ifa_flags & libc::IFF_BROADCAST as u32 != 0 {
            ip_of(ifa.ifa_ifu)
        } else {
            None
        };
        out.push(IfAddr {
            flags: ifa.ifa_flags,
            addr,
            netmask: ip_of(ifa.ifa_netmask),
            broadcast,
        });
    }
    // SAFETY: the list getifaddrs returned, freed once.
    unsafe { libc::freeifaddrs(head) };
    out
}

/// `SIO_ADDRESS_LIST_QUERY`: a `SOCKET_ADDRESS_LIST` of the host's addresses of the
/// socket's family (loopback excluded, as Windows lists the adapters' addresses).
/// Without room for the list: `WSAEFAULT` with the size needed (`WSAEINVAL` and size 0
/// when the buffer cannot even hold the count); the buffer is untouched then.
///
/// # Safety
/// `returned` non-null and writable (checked by `WSAIoctl`).
pub(crate) unsafe fn address_list_query(
    e: &SockEntry,
    output: *mut u8,
    out_len: DWORD,
    returned: *mut DWORD,
) -> Result<Ioctl, u32> {
    let v6 = matches!(e.sock.family(), overlapped::Family::V6);
    let addrs: Vec<Vec<u8>> = interfaces()
        .into_iter()
        .filter(|i| i.flags & libc::IFF_LOOPBACK as u32 == 0 && i.addr.is_ipv6() == v6)
        .map(|i| crate::addr::encode(&SocketAddr::new(i.addr, 0)))
        .collect();
    let table = LIST_HEADER + addrs.len() * SOCKET_ADDRESS_SIZE;
    let need = table + addrs.iter().map(Vec::len).sum::<usize>();
    let len = out_len as usize;
    if output.is_null() || len == 0 {
        // SAFETY: the contract.
        unsafe { set_size(returned, need) };
        return Err(err(WsaError::WSAEFAULT));
    }
    if len < LIST_HEADER {
        // SAFETY: the contract.
        unsafe { set_size(returned, 0) };
        return Err(err(WsaError::WSAEINVAL));
    }
    if len < need || !handles::writable(output, need) {
        // SAFETY: the contract.
        unsafe { set_size(returned, need) };
        return Err(err(WsaError::WSAEFAULT));
    }
    let mut buf = vec![0u8; need];
    let count = i32::try_from(addrs.len()).unwrap_or(i32::MAX);
    buf[..4].copy_from_slice(&count.to_ne_bytes());
    let mut at = table;
    for (i, a) in addrs.iter().enumerate() {
        let entry = LIST_HEADER + i * SOCKET_ADDRESS_SIZE;
        // The pointers name the caller's buffer, where the addresses are copied.
        let ptr = (output as usize) + at;
        buf[entry..entry + 8].copy_from_slice(&ptr.to_ne_bytes());
        let alen = i32::try_from(a.len()).unwrap_or(i32::MAX);
        buf[entry + 8..entry + 12].copy_from_slice(&alen.to_ne_bytes());
        buf[at..at + a.len()].copy_from_slice(a);
        at += a.len();
    }
    // SAFETY: `need` writable bytes (checked above).
    unsafe { std::ptr::copy_nonoverlapping(buf.as_ptr(), output, need) };
    // SAFETY: the contract.
    unsafe { set_size(returned, need) };
    Ok(Ioctl::Done)
}

fn put_sockaddr_in(out: &mut [u8], ip: Option<IpAddr>) {
    if let Some(IpAddr::V4(v4)) = ip {
        out[0..2].copy_from_slice(&2u16.to_ne_bytes());
        out[4..8].copy_from_slice(&v4.octets());
    }
}

/// `SIO_GET_INTERFACE_LIST`: an `INTERFACE_INFO` per IPv4 address (loopback included),
/// with Windows' `IFF_*` flags, the netmask and, where the interface broadcasts, the
/// broadcast address. Without room for the whole list: `WSAEFAULT` and size 0, or,
/// overlapped, a pending request that completes with `STATUS_BUFFER_TOO_SMALL`; a
/// successful overlapped request, too, pends and completes with the list's size.
///
/// # Safety
/// `returned` non-null and writable (checked by `WSAIoctl`).
pub(crate) unsafe fn interface_list(
    output: *mut u8,
    out_len: DWORD,
    returned: *mut DWORD,
    ov: *mut OVERLAPPED,
) -> Result<Ioctl, u32> {
    let list: Vec<IfAddr> = interfaces()
        .into_iter()
        .filter(|i| i.addr.is_ipv4())
        .collect();
    let need = list.len() * INTERFACE_INFO_SIZE;
    if (out_len as usize) < need || !handles::writable(output, need) {
        if !ov.is_null() {
            return Ok(Ioctl::Later {
                status: NtStatus::BUFFER_TOO_SMALL,
                bytes: 0,
            });
        }
        // SAFETY: the contract.
        unsafe { set_size(returned, 0) };
        return Err(err(WsaError::WSAEFAULT));
    }
    let mut buf = vec![0u8; need];
    for (i, ifa) in list.iter().enumerate() {
        let rec = &mut buf[i * INTERFACE_INFO_SIZE..(i + 1) * INTERFACE_INFO_SIZE];
        let f = ifa.flags;
        let mut flags = 0;
        for (linux, win) in [
            (libc::IFF_UP, WIN_IFF_UP),
            (libc::IFF_BROADCAST, WIN_IFF_BROADCAST),
            (libc::IFF_LOOPBACK, WIN_IFF_LOOPBACK),
            (libc::IFF_POINTOPOINT, WIN_IFF_POINTTOPOINT),
            (libc::IFF_MULTICAST, WIN_IFF_MULTICAST),
        ] {
            if f & linux as u32 != 0 {
                flags |= win;
            }
        }
        rec[0..4].copy_from_slice(&flags.to_ne_bytes());
        put_sockaddr_in(&mut rec[4..28], Some(ifa.addr));
        let bcast = if flags & WIN_IFF_BROADCAST != 0 {
            ifa.broadcast
        } else {
            None
        };
        put_sockaddr_in(&mut rec[28..52], bcast);
        put_sockaddr_in(&mut rec[52..76], ifa.netmask);
    }
    // SAFETY: `need` writable bytes (checked above).
    unsafe { std::ptr::copy_nonoverlapping(buf.as_ptr(), output, need) };
    if !ov.is_null() {
        return Ok(Ioctl::Later {
            status: NtStatus::SUCCESS,
            bytes: need,
        });
    }
    // SAFETY: the contract.
    unsafe { set_size(returned, need) };
    Ok(Ioctl::Done)
}

/// `SIO_ROUTING_INTERFACE_QUERY`: the local address the kernel would use to reach the
/// destination (a scratch UDP socket connected to it, then `getsockname`), port 0.
///
/// # Safety
/// `returned` non-null and writable (checked by `WSAIoctl`).
pub(crate) unsafe fn routing_interface_query(
    input: *const u8,
    in_len: DWORD,
    output: *mut u8,
    out_len: DWORD,
    returned: *mut DWORD,
) -> Result<Ioctl, u32> {
    // Shorter than a sockaddr_in, or no input: WSAEINVAL (before the family is read).
    if input.is_null() || (in_len as usize) < 16 || !handles::readable(input, 2) {
        return Err(err(WsaError::WSAEINVAL));
    }
    let len = i32::try_from(in_len).unwrap_or(i32::MAX);
    // SAFETY: non-null with `in_len` bytes (the contract); `read` probes them.
    let dest = match unsafe { crate::addr::read(input, len) } {
        Ok(a) => a,
        Err(e) if e == WsaError::WSAEAFNOSUPPORT.code() => return Err(e),
        Err(_) => return Err(err(WsaError::WSAEINVAL)),
    };
    if dest.ip().is_unspecified() {
        return Err(err(WsaError::WSAEINVAL));
    }
    let local: SocketAddr = if dest.is_ipv4() {
        (Ipv4Addr::UNSPECIFIED, 0).into()
    } else {
        (std::net::Ipv6Addr::UNSPECIFIED, 0).into()
    };
    let mut to = dest;
    if to.port() == 0 {
        to.set_port(9);
    }
    let scratch = std::net::UdpSocket::bind(local).map_err(|_| err(WsaError::WSAENETDOWN))?;
    scratch
        .connect(to)
        .map_err(|_| err(WsaError::WSAENETUNREACH))?;
    let mut src = scratch
        .local_addr()
        .map_err(|_| err(WsaError::WSAENETUNREACH))?;
    src.set_port(0);
    let bytes = crate::addr::encode(&src);
    if output.is_null() {
        return Err(err(WsaError::WSAEFAULT));
    }
    if (out_len as usize) < bytes.len() || !handles::writable(output, bytes.len()) {
        // SAFETY: the contract.
        unsafe { set_size(returned, bytes.len()) };
        return Err(err(WsaError::WSAEFAULT));
    }
    // SAFETY: `bytes.len()` writable bytes (checked above).
    unsafe { std::ptr::copy_nonoverlapping(bytes.as_ptr(), output, bytes.len()) };
    // SAFETY: the contract.
    unsafe { set_size(returned, bytes.len()) };
    Ok(Ioctl::Done)
}

/// Writes a value of `bytes` to the caller's output buffer and the size.
///
/// # Safety
/// `returned` non-null and writable (checked by `WSAIoctl`).
unsafe fn write_value(
    bytes: &[u8],
    output: *mut u8,
    out_len: DWORD,
    returned: *mut DWORD,
) -> Result<Ioctl, u32> {
    if (out_len as usize) < bytes.len() || !handles::writable(output, bytes.len()) {
        return Err(err(WsaError::WSAEFAULT));
    }
    // SAFETY: `bytes.len()` writable bytes (checked above).
    unsafe { std::ptr::copy_nonoverlapping(bytes.as_ptr(), output, bytes.len()) };
    // SAFETY: the contract.
    unsafe { set_size(returned, bytes.len()) };
    Ok(Ioctl::Done)
}

/// `SIO_IDEAL_SEND_BACKLOG_QUERY`: 64 KiB for a connected stream socket (the value
/// Windows reports on loopback); `WSAENOTCONN` unconnected, `WSAEOPNOTSUPP` for
/// datagram sockets.
///
/// # Safety
/// `returned` non-null and writable (checked by `WSAIoctl`).
pub(crate) unsafe fn ideal_send_backlog(
    e: &SockEntry,
    output: *mut u8,
    out_len: DWORD,
    returned: *mut DWORD,
) -> Result<Ioctl, u32> {
    if !e.sock.is_stream() {
        return Err(err(WsaError::WSAEOPNOTSUPP));
    }
    if e.sock.peer_addr().is_err() {
        return Err(err(WsaError::WSAENOTCONN));
    }
    // SAFETY: the contract.
    unsafe { write_value(&0x1_0000u32.to_ne_bytes(), output, out_len, returned) }
}

/// `SIO_BASE_HANDLE` and `SIO_BSP_HANDLE*`: the socket itself (there are no layered
/// providers). Windows does not support the overlapped form: it pends and completes
/// with `STATUS_NOT_SUPPORTED`.
///
/// # Safety
/// `returned` non-null and writable (checked by `WSAIoctl`).
pub(crate) unsafe fn base_handle(
    code: u32,
    s: SOCKET,
    output: *mut u8,
    out_len: DWORD,
    returned: *mut DWORD,
    ov: *mut OVERLAPPED,
) -> Result<Ioctl, u32> {
    if !ov.is_null() {
        return Ok(Ioctl::Unsupported(code));
    }
    // SAFETY: the contract.
    unsafe { write_value(&s.to_ne_bytes(), output, out_len, returned) }
}

/// `SIOCATMARK` as Windows reports it: TRUE unless urgent data is waiting to be read
/// with `MSG_OOB`; with `SO_OOBINLINE`, always TRUE.
pub(crate) fn at_mark(e: &SockEntry) -> u32 {
    let fd = e.sock.as_raw_fd();
    let mut inline: libc::c_int = 0;
    let mut len = libc::socklen_t::try_from(size_of::<libc::c_int>()).unwrap_or(0);
    // SAFETY: a valid int and its length for getsockopt to fill.
    let r = unsafe {
        libc::getsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_OOBINLINE,
            (&raw mut inline).cast(),
            &raw mut len,
        )
    };
    if r == 0 && inline != 0 {
        return 1;
    }
    let mut pfd = libc::pollfd {
        fd,
        events: libc::POLLPRI,
        revents: 0,
    };
    // SAFETY: one valid pollfd, no waiting.
    let n = unsafe { libc::poll(&raw mut pfd, 1, 0) };
    u32::from(!(n > 0 && pfd.revents & libc::POLLPRI != 0))
}

/// `SIO_KEEPALIVE_VALS` without a readable `tcp_keepalive`: `WSAEFAULT`; the size is set
/// to 0, or, overlapped, left alone while the record reads `STATUS_PENDING`.
///
/// # Safety
/// `returned` non-null and writable, `ov` null or writable (checked by `WSAIoctl`).
pub(crate) unsafe fn keepalive_bad_input(returned: *mut DWORD, ov: *mut OVERLAPPED) -> u32 {
    if ov.is_null() {
        // SAFETY: the contract.
        unsafe { set_size(returned, 0) };
    } else {
        // `Internal` is the first field (offset 0).
        const _: () = assert!(std::mem::offset_of!(OVERLAPPED, Internal) == 0);
        // SAFETY: a writable OVERLAPPED (the contract), whose first field is `Internal`.
        unsafe {
            ov.cast::<usize>()
                .write_unaligned(NtStatus::PENDING.0 as usize)
        };
    }
    err(WsaError::WSAEFAULT)
}
