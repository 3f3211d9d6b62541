//! Addresses and names: `inet_addr`, `inet_ntoa`, `inet_pton`, `inet_ntop`, the byte-order
//! functions, `getaddrinfo`/`freeaddrinfo`, `gethostname`, `gethostbyname`, and two
//! kernel32 odds and ends book programs use (`GetTickCount`, `GetSystemInfo`).
//!
//! The names glibc also exports are exported as `ws2_<name>` (see `sockets.rs`): the
//! Windows versions differ in layout (`addrinfo`, `hostent`) or constants
//! (`AF_INET6` = 23), so the process's own resolver calls must keep glibc's.

use std::cell::RefCell;
use std::ffi::{CStr, CString, c_char};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use overlapped::WsaError;

use crate::addr;
use crate::handles::{guard, set_last_error, started};
use crate::types::{BOOL, DWORD, FALSE, SYSTEM_INFO, TRUE, addrinfo, c, hostent, win32};

/// `WSAHOST_NOT_FOUND`: the name does not resolve.
const WSAHOST_NOT_FOUND: u32 = 11001;
/// `WSATRY_AGAIN`: temporary resolver failure.
const WSATRY_AGAIN: u32 = 11002;
/// `WSANO_RECOVERY`: non-recoverable resolver failure.
const WSANO_RECOVERY: u32 = 11003;
/// `WSATYPE_NOT_FOUND`: the service is unknown.
const WSATYPE_NOT_FOUND: u32 = 10109;
/// `INADDR_NONE`.
const INADDR_NONE: u32 = 0xFFFF_FFFF;

/// Windows `struct in_addr` passed by value (4 bytes, network order).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct in_addr {
    /// `S_un.S_addr`.
    pub s_addr: u32,
}

/// Reads a C string, or `None` for NULL / invalid UTF-8.
///
/// # Safety
/// `p` must be null or a NUL-terminated string.
unsafe fn text<'a>(p: *const c_char) -> Option<&'a str> {
    if p.is_null() {
        return None;
    }
    // SAFETY: the caller's contract.
    unsafe { CStr::from_ptr(p) }.to_str().ok()
}

/// `unsigned long inet_addr(const char *cp)`: the dotted IPv4 address in network order,
/// or `INADDR_NONE`.
///
/// Parameters: `cp`, a NUL-terminated string. Returns the address (network byte order)
/// or `INADDR_NONE` (0xFFFFFFFF) for NULL or a malformed string.
/// Memory and lifetimes: nothing is kept.
///
/// # Safety
/// `cp` must be null or a NUL-terminated string.
#[unsafe(export_name = "ws2_inet_addr")]
pub unsafe extern "C" fn inet_addr(cp: *const c_char) -> u32 {
    guard(INADDR_NONE, || {
        // SAFETY: the caller's contract.
        let s = unsafe { text(cp) };
        Ok(s.and_then(|s| s.trim().parse::<Ipv4Addr>().ok())
            .map_or(INADDR_NONE, |ip| u32::from_ne_bytes(ip.octets())))
    })
}

thread_local! {
    /// `inet_ntoa`'s per-thread result buffer (Windows: valid until the thread's next
    /// Winsock call).
    static NTOA: RefCell<[u8; 16]> = const { RefCell::new([0; 16]) };
    /// `gethostbyname`'s per-thread result.
    static HOST: RefCell<Option<HostStore>> = const { RefCell::new(None) };
}

/// `char *inet_ntoa(struct in_addr in)`: dotted text of an IPv4 address.
///
/// Returns a pointer to a per-thread buffer. Memory and lifetimes: the string stays
/// valid until this thread's next `inet_ntoa` call; never free it.
///
/// Parameters: an IPv4 address (network order).
///
/// # Safety
/// Always safe to call.
#[unsafe(export_name = "ws2_inet_ntoa")]
pub unsafe extern "C" fn inet_ntoa(a: in_addr) -> *mut c_char {
    guard(std::ptr::null_mut(), || {
        let text = Ipv4Addr::from(a.s_addr.to_ne_bytes()).to_string();
        Ok(NTOA.with(|b| {
            let mut b = b.borrow_mut();
            b.fill(0);
            b[..text.len()].copy_from_slice(text.as_bytes());
            b.as_mut_ptr().cast::<c_char>()
        }))
    })
}

/// `INT inet_pton(INT Family, PCSTR pszAddrString, PVOID pAddrBuf)`.
///
/// Parameters: `AF_INET` (2) writes 4 bytes, `AF_INET6` (23) writes 16. Returns 1, 0 for
/// a malformed string, or -1 with `WSAEAFNOSUPPORT` (other family) / `WSAEFAULT` (NULL
/// pointer). Memory and lifetimes: nothing is kept.
///
/// # Safety
/// `src` must be null or a NUL-terminated string; `dst` null or 4 / 16 writable bytes.
#[unsafe(export_name = "ws2_inet_pton")]
pub unsafe extern "C" fn inet_pton(family: i32, src: *const c_char, dst: *mut u8) -> i32 {
    guard(-1, || {
        if src.is_null() || dst.is_null() {
            return Err(WsaError::WSAEFAULT.code());
        }
        // SAFETY: the caller's contract.
        let s = unsafe { text(src) }.unwrap_or("");
        let bytes: Vec<u8> = match family {
            c::AF_INET => match s.parse::<Ipv4Addr>() {
                Ok(ip) => ip.octets().to_vec(),
                Err(_) => return Ok(0),
            },
            c::AF_INET6 => match s.parse::<Ipv6Addr>() {
                Ok(ip) => ip.octets().to_vec(),
                Err(_) => return Ok(0),
            },
            _ => return Err(WsaError::WSAEAFNOSUPPORT.code()),
        };
        // SAFETY: `dst` holds 4 (AF_INET) or 16 (AF_INET6) writable bytes (the contract).
        unsafe { std::ptr::copy_nonoverlapping(bytes.as_ptr(), dst, bytes.len()) };
        Ok(1)
    })
}

/// `PCSTR inet_ntop(INT Family, const VOID *pAddr, PSTR pStringBuf, size_t StringBufSize)`.
///
/// Returns `pStringBuf`, or NULL with `WSAEAFNOSUPPORT`, `WSA_INVALID_PARAMETER`
/// (= `ERROR_INVALID_PARAMETER`: a NULL `pStringBuf`, or a buffer too small, as Microsoft's
/// reference says) or `WSAEFAULT` (a NULL `pAddr`). Memory and lifetimes: nothing is kept.
///
/// Parameters: `AF_INET`/`AF_INET6` (23), the address, the output buffer and its size.
///
/// # Safety
/// `src` must be null or 4 / 16 readable bytes; `dst` null or `size` writable bytes.
#[unsafe(export_name = "ws2_inet_ntop")]
pub unsafe extern "C" fn inet_ntop(
    family: i32,
    src: *const u8,
    dst: *mut c_char,
    size: usize,
) -> *const c_char {
    guard(std::ptr::null(), || {
        if dst.is_null() {
            return Err(WsaError::WSA_INVALID_PARAMETER.code());
        }
        if src.is_null() {
            return Err(WsaError::WSAEFAULT.code());
        }
        let s = match family {
            c::AF_INET => {
                // SAFETY: 4 readable bytes (the contract).
                Ipv4Addr::from(unsafe { src.cast::<[u8; 4]>().read_unaligned() }).to_string()
            }
            c::AF_INET6 => {
                // SAFETY: 16 readable bytes (the contract).
                Ipv6Addr::from(unsafe { src.cast::<[u8; 16]>().read_unaligned() }).to_string()
            }
            _ => return Err(WsaError::WSAEAFNOSUPPORT.code()),
        };
        if s.len() + 1 > size {
            return Err(WsaError::WSA_INVALID_PARAMETER.code());
        }
        // SAFETY: `size > s.len()` writable bytes at `dst` (the contract, checked).
        let out = unsafe { std::slice::from_raw_parts_mut(dst.cast::<u8>(), s.len() + 1) };
        out[..s.len()].copy_from_slice(s.as_bytes());
        out[s.len()] = 0;
        Ok(dst.cast_const())
    })
}

/// `u_short htons(u_short)`: host to network byte order.
///
/// Parameters: a 16-bit value.
/// Returns: it in network byte order.
/// Memory and lifetimes: nothing is kept.
#[unsafe(export_name = "ws2_htons")]
pub extern "C" fn htons(v: u16) -> u16 {
    v.to_be()
}

/// `u_short ntohs(u_short)`: network to host byte order.
///
/// Parameters: a 16-bit value in network order.
/// Returns: it in host byte order.
/// Memory and lifetimes: nothing is kept.
#[unsafe(export_name = "ws2_ntohs")]
pub extern "C" fn ntohs(v: u16) -> u16 {
    u16::from_be(v)
}

/// `u_long htonl(u_long)` (32-bit `u_long`): host to network byte order.
///
/// Parameters: a 32-bit value.
/// Returns: it in network byte order.
/// Memory and lifetimes: nothing is kept.
#[unsafe(export_name = "ws2_htonl")]
pub extern "C" fn htonl(v: u32) -> u32 {
    v.to_be()
}

/// `u_long ntohl(u_long)` (32-bit `u_long`): network to host byte order.
///
/// Parameters: a 32-bit value in network order.
/// Returns: it in host byte order.
/// Memory and lifetimes: nothing is kept.
#[unsafe(export_name = "ws2_ntohl")]
pub extern "C" fn ntohl(v: u32) -> u32 {
    u32::from_be(v)
}

/// One `addrinfo` node with its address and canonical name, freed as a unit.
#[repr(C)]
struct AiNode {
    /// First, so a `*mut addrinfo` is a `*mut AiNode`.
    ai: addrinfo,
    /// The Windows `sockaddr` `ai.ai_addr` points to.
    addr: [u8; 28],
    /// What `ai.ai_canonname` points to.
    canon: Option<CString>,
}

fn resolver_error(code: i32) -> u32 {
    match code {
        libc::EAI_AGAIN => WSATRY_AGAIN,
        libc::EAI_FAIL => WSANO_RECOVERY,
        libc::EAI_FAMILY => WsaError::WSAEAFNOSUPPORT.code(),
        libc::EAI_MEMORY => WsaError::WSA_NOT_ENOUGH_MEMORY.code(),
        libc::EAI_SERVICE => WSATYPE_NOT_FOUND,
        libc::EAI_SOCKTYPE => WsaError::WSAESOCKTNOSUPPORT.code(),
        libc::EAI_BADFLAGS => WsaError::WSAEINVAL.code(),
        _ => WSAHOST_NOT_FOUND,
    }
}

/// One resolved address: socket type, protocol, address, canonical name.
type Resolved = (i32, i32, SocketAddr, Option<CString>);

/// Resolves with glibc's `getaddrinfo` (Linux constants) and returns the addresses.
fn resolve(
    node: *const c_char,
    service: *const c_char,
    hints: Option<&addrinfo>,
) -> Result<Vec<Resolved>, u32> {
    // SAFETY: an all-zero libc::addrinfo is a valid "no hints" value.
    let mut h: libc::addrinfo = unsafe { std::mem::zeroed() };
    if let Some(w) = hints {
        h.ai_flags = w.ai_flags;
        h.ai_family = match w.ai_family {
            c::AF_UNSPEC => libc::AF_UNSPEC,
            c::AF_INET => libc::AF_INET,
            c::AF_INET6 => libc::AF_INET6,
            _ => return Err(WsaError::WSAEAFNOSUPPORT.code()),
        };
        h.ai_socktype = w.ai_socktype;
        h.ai_protocol = w.ai_protocol;
    }
    let mut res: *mut libc::addrinfo = std::ptr::null_mut();
    // SAFETY: `node`/`service` are null or NUL-terminated (the callers' contracts), `h`
    // is initialised and `res` is a valid out pointer.
    let rc = unsafe { libc::getaddrinfo(node, service, &raw const h, &raw mut res) };
    if rc != 0 {
        return Err(resolver_error(rc));
    }
    let mut out = Vec::new();
    let mut p = res;
    while !p.is_null() {
        // SAFETY: a node of the list glibc returned, not freed yet.
        let ai = unsafe { &*p };
        let sa = match ai.ai_family {
            libc::AF_INET => {
                // SAFETY: glibc's AF_INET nodes carry a sockaddr_in.
                let sin = unsafe { &*ai.ai_addr.cast::<libc::sockaddr_in>() };
                Some(SocketAddr::new(
                    IpAddr::V4(Ipv4Addr::from(sin.sin_addr.s_addr.to_ne_bytes())),
                    u16::from_be(sin.sin_port),
                ))
            }
            libc::AF_INET6 => {
                // SAFETY: glibc's AF_INET6 nodes carry a sockaddr_in6.
                let sin6 = unsafe { &*ai.ai_addr.cast::<libc::sockaddr_in6>() };
                Some(SocketAddr::V6(std::net::SocketAddrV6::new(
                    Ipv6Addr::from(sin6.sin6_addr.s6_addr),
                    u16::from_be(sin6.sin6_port),
                    sin6.sin6_flowinfo,
                    sin6.sin6_scope_id,
                )))
            }
            _ => None,
        };
        let canon = if ai.ai_canonname.is_null() {
            None
        } else {
            // SAFETY: glibc's canonical name is NUL-terminated.
            Some(unsafe { CStr::from_ptr(ai.ai_canonname) }.to_owned())
        };
        if let Some(sa) = sa {
            out.push((ai.ai_socktype, ai.ai_protocol, sa, canon));
        }
        p = ai.ai_next;
    }
    // SAFETY: the list glibc returned, freed once.
    unsafe { libc::freeaddrinfo(res) };
    Ok(out)
}

/// `INT getaddrinfo(PCSTR pNodeName, PCSTR pServiceName, const ADDRINFOA *pHints,
/// PADDRINFOA *ppResult)` with the Windows `addrinfo` layout and constants.
///
/// Returns 0, or a Winsock error code (`WSANOTINITIALISED`, `WSAHOST_NOT_FOUND`,
/// `WSATYPE_NOT_FOUND`, `WSAEAFNOSUPPORT`, `WSAEINVAL`, `WSAEFAULT` for a NULL
/// `ppResult`, ...), which is also the thread's last error.
/// Memory and lifetimes: the list belongs to the caller until [`freeaddrinfo`].
///
/// Parameters: a host name or numeric address and/or a service, optional hints (Windows `AF_*`), where to write the list.
///
/// # Safety
/// The names must be null or NUL-terminated, `pHints` null or a valid `addrinfo`,
/// `ppResult` a valid out pointer.
#[unsafe(export_name = "ws2_getaddrinfo")]
pub unsafe extern "C" fn getaddrinfo(
    node: *const c_char,
    service: *const c_char,
    hints: *const addrinfo,
    res: *mut *mut addrinfo,
) -> i32 {
    guard(WSAHOST_NOT_FOUND as i32, || {
        if let Err(code) = started() {
            set_last_error(code);
            return Ok(code as i32);
        }
        if res.is_null() || (node.is_null() && service.is_null()) {
            let code = if res.is_null() {
                WsaError::WSAEFAULT.code()
            } else {
                WSAHOST_NOT_FOUND
            };
            set_last_error(code);
            return Ok(code as i32);
        }
        // SAFETY: null or valid (the contract).
        let hints = unsafe { hints.as_ref() };
        let list = match resolve(node, service, hints) {
            Ok(l) => l,
            Err(code) => {
                set_last_error(code);
                return Ok(code as i32);
            }
        };
        let mut head: *mut addrinfo = std::ptr::null_mut();
        for (socktype, protocol, sa, canon) in list.into_iter().rev() {
            let bytes = addr::encode(&sa);
            let mut node = Box::new(AiNode {
                ai: addrinfo {
                    ai_flags: 0,
                    ai_family: if sa.is_ipv4() {
                        c::AF_INET
                    } else {
                        c::AF_INET6
                    },
                    ai_socktype: socktype,
                    ai_protocol: protocol,
                    ai_addrlen: bytes.len(),
                    ai_canonname: std::ptr::null_mut(),
                    ai_addr: std::ptr::null_mut(),
                    ai_next: head,
                },
                addr: [0; 28],
                canon,
            });
            node.addr[..bytes.len()].copy_from_slice(&bytes);
            node.ai.ai_addr = node.addr.as_mut_ptr();
            if let Some(cn) = &node.canon {
                node.ai.ai_canonname = cn.as_ptr().cast_mut();
            }
            head = Box::into_raw(node).cast::<addrinfo>();
        }
        // SAFETY: a valid out pointer (checked non-null; the contract).
        unsafe { res.write(head) };
        Ok(0)
    })
}

/// Windows `NI_*` flags and their Linux values.
const NI_FLAGS: [(i32, i32); 5] = [
    (0x01, libc::NI_NOFQDN),
    (0x02, libc::NI_NUMERICHOST),
    (0x04, libc::NI_NAMEREQD),
    (0x08, libc::NI_NUMERICSERV),
    (0x10, libc::NI_DGRAM),
];

/// A Linux `sockaddr_storage` holding `sa`, and its length.
fn linux_sockaddr(sa: &SocketAddr) -> (libc::sockaddr_storage, libc::socklen_t) {
    // SAFETY: all-zero is a valid sockaddr_storage.
    let mut ss: libc::sockaddr_storage = unsafe { std::mem::zeroed() };
    let len = match sa {
        SocketAddr::V4(v4) => {
            // SAFETY: sockaddr_storage is large and aligned enough for a sockaddr_in.
            let sin = unsafe { &mut *(&raw mut ss).cast::<libc::sockaddr_in>() };
            sin.sin_family = libc::sa_family_t::try_from(libc::AF_INET).unwrap_or_default();
            sin.sin_port = v4.port().to_be();
            sin.sin_addr.s_addr = u32::from_ne_bytes(v4.ip().octets());
            size_of::<libc::sockaddr_in>()
        }
        SocketAddr::V6(v6) => {
            // SAFETY: as above, for a sockaddr_in6.
            let sin6 = unsafe { &mut *(&raw mut ss).cast::<libc::sockaddr_in6>() };
            sin6.sin6_family = libc::sa_family_t::try_from(libc::AF_INET6).unwrap_or_default();
            sin6.sin6_port = v6.port().to_be();
            sin6.sin6_flowinfo = v6.flowinfo();
            sin6.sin6_addr.s6_addr = v6.ip().octets();
            sin6.sin6_scope_id = v6.scope_id();
            size_of::<libc::sockaddr_in6>()
        }
    };
    (ss, libc::socklen_t::try_from(len).unwrap_or(0))
}

/// `INT getnameinfo(const SOCKADDR *pSockaddr, socklen_t SockaddrLength, PCHAR
/// pNodeBuffer, DWORD NodeBufferSize, PCHAR pServiceBuffer, DWORD ServiceBufferSize, INT
/// Flags)`: the host and service names of an address (Windows `sockaddr` and `NI_*`
/// flags), through glibc's resolver.
///
/// Parameters: the address and its length, the host buffer and its size (NULL / 0: not
/// wanted), the service buffer and its size (likewise), `NI_NOFQDN`, `NI_NUMERICHOST`,
/// `NI_NAMEREQD`, `NI_NUMERICSERV`, `NI_DGRAM`.
/// Returns: 0, or a Winsock error code that is also the thread's last error:
/// `WSANOTINITIALISED`, `WSAEFAULT` (NULL or short address, a buffer too small),
/// `WSAEAFNOSUPPORT`, `WSAEINVAL` (unknown flags), `WSAHOST_NOT_FOUND` (no name with
/// `NI_NAMEREQD`, or neither buffer asked for), `WSATRY_AGAIN`, `WSANO_RECOVERY`.
/// Memory and lifetimes: the buffers are written before return; nothing is kept.
///
/// # Safety
/// `pSockaddr` null or `SockaddrLength` readable bytes; each buffer null or its size in
/// writable bytes.
#[unsafe(export_name = "ws2_getnameinfo")]
pub unsafe extern "C" fn getnameinfo(
    sa: *const u8,
    salen: i32,
    host: *mut c_char,
    hostlen: DWORD,
    serv: *mut c_char,
    servlen: DWORD,
    flags: i32,
) -> i32 {
    let lookup = || -> Result<(), u32> {
        started()?;
        // SAFETY: null or `salen` readable bytes (the contract); `read` checks both.
        let addr = unsafe { addr::read(sa, salen) }?;
        if flags & !0x1F != 0 {
            return Err(WsaError::WSAEINVAL.code());
        }
        let lflags = NI_FLAGS
            .iter()
            .filter(|(w, _)| flags & w != 0)
            .fold(0, |acc, (_, l)| acc | l);
        let (host, hostlen) = if host.is_null() || hostlen == 0 {
            (std::ptr::null_mut(), 0)
        } else {
            (host, hostlen)
        };
        let (serv, servlen) = if serv.is_null() || servlen == 0 {
            (std::ptr::null_mut(), 0)
        } else {
            (serv, servlen)
        };
        if host.is_null() && serv.is_null() {
            return Err(WSAHOST_NOT_FOUND);
        }
        let (ss, len) = linux_sockaddr(&addr);
        // SAFETY: a valid Linux sockaddr of `len` bytes; the buffers are null or their
        // sizes in writable bytes (the contract).
        let rc = unsafe {
            libc::getnameinfo(
                (&raw const ss).cast(),
                len,
                host,
                hostlen,
                serv,
                servlen,
                lflags,
            )
        };
        match rc {
            0 => Ok(()),
            libc::EAI_OVERFLOW => Err(WsaError::WSAEFAULT.code()),
            libc::EAI_NONAME => Err(WSAHOST_NOT_FOUND),
            libc::EAI_SYSTEM => Err(WSANO_RECOVERY),
            other => Err(resolver_error(other)),
        }
    };
    // The error code is the return value (and the last error), as getaddrinfo's.
    guard(WSANO_RECOVERY as i32, || match lookup() {
        Ok(()) => Ok(0),
        Err(code) => {
            set_last_error(code);
            Ok(code as i32)
        }
    })
}

/// `INT WSAAddressToStringA(LPSOCKADDR lpsaAddress, DWORD dwAddressLength,
/// LPWSAPROTOCOL_INFOA lpProtocolInfo, LPSTR lpszAddressString, LPDWORD
/// lpdwAddressStringLength)`: an address as text, with its port when nonzero
/// (`127.0.0.1:80`, `[::1]:80`; IPv6 scope ids as `%N`).
///
/// Parameters: the address (Windows `sockaddr`) and its length, protocol info
/// (ignored), the output buffer, and its size in characters (in: the room; out: the
/// length written, with the NUL, or the length needed).
/// Returns: 0, or `SOCKET_ERROR` with `WSAEFAULT` (the buffer is too small: the needed
/// size is written back; or a NULL or short address, or a NULL length),
/// `WSAEINVAL` (not an IPv4 or IPv6 address), `WSANOTINITIALISED`.
/// Memory and lifetimes: the buffer is written before return.
///
/// # Safety
/// `lpsaAddress` null or `dwAddressLength` readable bytes; `lpdwAddressStringLength`
/// null or valid; `lpszAddressString` null or that many writable bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn WSAAddressToStringA(
    sa: *const u8,
    salen: DWORD,
    _info: *mut libc::c_void,
    out: *mut c_char,
    outlen: *mut DWORD,
) -> i32 {
    guard(-1, || {
        started()?;
        if outlen.is_null() {
            return Err(WsaError::WSAEFAULT.code());
        }
        let salen = i32::try_from(salen).map_err(|_| WsaError::WSAEFAULT.code())?;
        // SAFETY: null or `salen` readable bytes (the contract); `read` checks both.
        let addr = unsafe { addr::read(sa, salen) }.map_err(|e| {
            if e == WsaError::WSAEAFNOSUPPORT.code() {
                WsaError::WSAEINVAL.code()
            } else {
                e
            }
        })?;
        let text = match (addr, addr.port()) {
            (SocketAddr::V4(a), 0) => a.ip().to_string(),
            (SocketAddr::V6(a), 0) if a.scope_id() != 0 => format!("{}%{}", a.ip(), a.scope_id()),
            (SocketAddr::V6(a), 0) => a.ip().to_string(),
            (a, _) => a.to_string(),
        };
        let need = text.len() + 1;
        // SAFETY: non-null and valid (the contract).
        let room = unsafe { outlen.read_unaligned() } as usize;
        let need_dw = DWORD::try_from(need).unwrap_or(DWORD::MAX);
        if out.is_null() || room < need {
            // SAFETY: as above.
            unsafe { outlen.write_unaligned(need_dw) };
            return Err(WsaError::WSAEFAULT.code());
        }
        // SAFETY: `room >= need` writable bytes at `out` (the contract, checked).
        let dst = unsafe { std::slice::from_raw_parts_mut(out.cast::<u8>(), need) };
        dst[..text.len()].copy_from_slice(text.as_bytes());
        dst[text.len()] = 0;
        // SAFETY: as above.
        unsafe { outlen.write_unaligned(need_dw) };
        Ok(0)
    })
}

/// `VOID freeaddrinfo(PADDRINFOA pAddrInfo)`: frees a list from [`getaddrinfo`].
///
/// Parameters: a list from `getaddrinfo`, or NULL.
/// Returns: nothing.
/// Memory and lifetimes: every node is freed; the pointers into it are invalid afterwards.
///
/// # Safety
/// `ai` must be null or a list returned by [`getaddrinfo`] and not freed yet.
#[unsafe(export_name = "ws2_freeaddrinfo")]
pub unsafe extern "C" fn freeaddrinfo(ai: *mut addrinfo) {
    guard((), || {
        let mut p = ai;
        while !p.is_null() {
            // SAFETY: every node of the list is a boxed AiNode whose first field is the
            // addrinfo (the contract); each is freed once.
            let node = unsafe { Box::from_raw(p.cast::<AiNode>()) };
            p = node.ai.ai_next;
        }
        Ok(())
    })
}

/// `int gethostname(char *name, int namelen)`.
///
/// Returns 0, or `SOCKET_ERROR` with `WSANOTINITIALISED` or `WSAEFAULT` (NULL or too
/// short a buffer).
///
/// Parameters: the buffer and its size.
/// Memory and lifetimes: nothing is kept.
///
/// # Safety
/// `name` must be null or point to `namelen` writable bytes.
#[unsafe(export_name = "ws2_gethostname")]
pub unsafe extern "C" fn gethostname(name: *mut c_char, len: i32) -> i32 {
    guard(-1, || {
        started()?;
        let n = usize::try_from(len).map_err(|_| WsaError::WSAEFAULT.code())?;
        if name.is_null() || n == 0 {
            return Err(WsaError::WSAEFAULT.code());
        }
        // SAFETY: `n` writable bytes (the contract).
        if unsafe { libc::gethostname(name, n) } != 0 {
            return Err(WsaError::WSAEFAULT.code());
        }
        Ok(0)
    })
}

/// The storage behind `gethostbyname`'s per-thread `hostent`.
struct HostStore {
    ent: hostent,
    _name: CString,
    _addrs: Vec<[u8; 4]>,
    _list: Vec<*mut c_char>,
    _aliases: Vec<*mut c_char>,
}

/// `struct hostent *gethostbyname(const char *name)`: IPv4 addresses of `name`.
///
/// Returns a per-thread `hostent` (Windows layout: 16-bit `h_addrtype`/`h_length`), or
/// NULL with `WSANOTINITIALISED` or `WSAHOST_NOT_FOUND`. Memory and lifetimes: valid until
/// this thread's next `gethostbyname`; never free it.
///
/// Parameters: a host name or dotted address; NULL or an empty string names the local
/// host (the name `gethostname` gives), as on Windows.
///
/// # Safety
/// `name` must be null or a NUL-terminated string.
#[unsafe(export_name = "ws2_gethostbyname")]
pub unsafe extern "C" fn gethostbyname(name: *const c_char) -> *mut hostent {
    guard(std::ptr::null_mut(), || {
        started()?;
        let mut local = [0u8; 256];
        // SAFETY: `name` is non-null (short-circuit) and NUL-terminated (the contract).
        let name = if name.is_null() || unsafe { *name } == 0 {
            // SAFETY: `local` holds 255 writable bytes; the last stays NUL.
            if unsafe { libc::gethostname(local.as_mut_ptr().cast(), local.len() - 1) } != 0 {
                return Err(WSAHOST_NOT_FOUND);
            }
            local.as_ptr().cast::<c_char>()
        } else {
            name
        };
        let hints = addrinfo {
            ai_flags: 0,
            ai_family: c::AF_INET,
            ai_socktype: c::SOCK_STREAM,
            ai_protocol: 0,
            ai_addrlen: 0,
            ai_canonname: std::ptr::null_mut(),
            ai_addr: std::ptr::null_mut(),
            ai_next: std::ptr::null_mut(),
        };
        let list = resolve(name, std::ptr::null(), Some(&hints))?;
        let mut addrs: Vec<[u8; 4]> = Vec::new();
        for (_, _, sa, _) in &list {
            if let IpAddr::V4(ip) = sa.ip()
                && !addrs.contains(&ip.octets())
            {
                addrs.push(ip.octets());
            }
        }
        if addrs.is_empty() {
            return Err(WSAHOST_NOT_FOUND);
        }
        // SAFETY: the caller's contract.
        let cname = CString::from(unsafe { CStr::from_ptr(name) });
        let mut store = HostStore {
            ent: hostent {
                h_name: std::ptr::null_mut(),
                h_aliases: std::ptr::null_mut(),
                h_addrtype: 2, // AF_INET
                h_length: 4,
                h_addr_list: std::ptr::null_mut(),
            },
            _name: cname,
            _addrs: addrs,
            _list: Vec::new(),
            _aliases: vec![std::ptr::null_mut()],
        };
        store._list = store
            ._addrs
            .iter_mut()
            .map(|a| a.as_mut_ptr().cast::<c_char>())
            .collect();
        store._list.push(std::ptr::null_mut());
        store.ent.h_name = store._name.as_ptr().cast_mut();
        store.ent.h_aliases = store._aliases.as_mut_ptr();
        store.ent.h_addr_list = store._list.as_mut_ptr();
        Ok(HOST.with(|h| {
            let mut h = h.borrow_mut();
            let s = h.insert(store);
            &raw mut s.ent
        }))
    })
}

/// `DWORD GetTickCount(void)`: milliseconds since boot (wraps after 49.7 days).
///
/// Parameters: none.
/// Returns: milliseconds of a monotonic clock, modulo 2^32.
/// Memory and lifetimes: nothing is kept.
#[unsafe(no_mangle)]
pub extern "C" fn GetTickCount() -> DWORD {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: a valid out pointer; CLOCK_MONOTONIC always exists on Linux.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &raw mut ts) };
    let ms = (ts.tv_sec as u64)
        .wrapping_mul(1000)
        .wrapping_add(ts.tv_nsec as u64 / 1_000_000);
    // Wraps like Windows' 32-bit tick count.
    (ms & 0xFFFF_FFFF) as DWORD
}

/// Nanoseconds of the monotonic clock.
fn monotonic_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: a valid out pointer; CLOCK_MONOTONIC always exists on Linux.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &raw mut ts) };
    (ts.tv_sec as u64)
        .wrapping_mul(1_000_000_000)
        .wrapping_add(ts.tv_nsec as u64)
}

/// `ULONGLONG GetTickCount64(void)`: milliseconds since boot, without the wrap.
///
/// Parameters: none.
/// Returns: milliseconds of the same clock as `GetTickCount`.
/// Memory and lifetimes: nothing is kept.
#[unsafe(no_mangle)]
pub extern "C" fn GetTickCount64() -> u64 {
    monotonic_ns() / 1_000_000
}

/// The performance counter's frequency: 10 MHz, what Windows 10 and later report.
const PERFORMANCE_FREQUENCY: i64 = 10_000_000;

/// `BOOL QueryPerformanceCounter(LARGE_INTEGER *lpPerformanceCount)`: a monotonic
/// count of ticks of [`QueryPerformanceFrequency`] (100 ns).
///
/// Parameters: where to write the count.
/// Returns: TRUE, or FALSE with `ERROR_NOACCESS` for NULL (Windows faults).
/// Memory and lifetimes: written before return.
///
/// # Safety
/// `lpPerformanceCount` null or a writable 8-byte `LARGE_INTEGER`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn QueryPerformanceCounter(count: *mut i64) -> BOOL {
    guard(FALSE, || {
        if count.is_null() {
            return Err(win32::ERROR_NOACCESS);
        }
        let ticks = monotonic_ns() / (1_000_000_000 / PERFORMANCE_FREQUENCY as u64);
        // SAFETY: non-null and writable (the contract; `LARGE_INTEGER` may be only
        // 4-aligned in packed structures).
        unsafe { count.write_unaligned(ticks as i64) };
        Ok(TRUE)
    })
}

/// `BOOL QueryPerformanceFrequency(LARGE_INTEGER *lpFrequency)`: ticks per second of
/// [`QueryPerformanceCounter`] (10,000,000).
///
/// Parameters: where to write it.
/// Returns: TRUE, or FALSE with `ERROR_NOACCESS` for NULL.
/// Memory and lifetimes: written before return.
///
/// # Safety
/// `lpFrequency` null or a writable 8-byte `LARGE_INTEGER`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn QueryPerformanceFrequency(freq: *mut i64) -> BOOL {
    guard(FALSE, || {
        if freq.is_null() {
            return Err(win32::ERROR_NOACCESS);
        }
        // SAFETY: as in `QueryPerformanceCounter`.
        unsafe { freq.write_unaligned(PERFORMANCE_FREQUENCY) };
        Ok(TRUE)
    })
}

/// `DWORD GetCurrentProcessId(void)`: the process id (Linux's pid).
///
/// Parameters: none.
/// Returns: the id.
/// Memory and lifetimes: nothing is kept.
#[unsafe(no_mangle)]
pub extern "C" fn GetCurrentProcessId() -> DWORD {
    // SAFETY: getpid has no preconditions.
    let pid = unsafe { libc::getpid() };
    pid as DWORD
}

/// `void GetSystemInfo(LPSYSTEM_INFO lpSystemInfo)`: the processor count and page size
/// (what IOCP book programs read to size their thread pools).
///
/// Parameters: the record to fill.
/// Returns: nothing.
/// Memory and lifetimes: written before return; nothing is kept.
///
/// # Safety
/// `info` must be null or point to a writable `SYSTEM_INFO`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn GetSystemInfo(info: *mut SYSTEM_INFO) {
    guard((), || {
        if info.is_null() {
            return Ok(());
        }
        let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
        let si = SYSTEM_INFO {
            wProcessorArchitecture: 9, // PROCESSOR_ARCHITECTURE_AMD64
            wReserved: 0,
            dwPageSize: 4096,
            lpMinimumApplicationAddress: 0x10000 as *mut libc::c_void,
            lpMaximumApplicationAddress: 0x7FFF_FFFE_FFFF as *mut libc::c_void,
            dwActiveProcessorMask: if cpus >= 64 {
                usize::MAX
            } else {
                (1usize << cpus) - 1
            },
            dwNumberOfProcessors: u32::try_from(cpus).unwrap_or(u32::MAX),
            dwProcessorType: 8664,
            dwAllocationGranularity: 65536,
            wProcessorLevel: 6,
            wProcessorRevision: 0,
        };
        // SAFETY: non-null and writable (the contract).
        unsafe { info.write(si) };
        Ok(())
    })
}
