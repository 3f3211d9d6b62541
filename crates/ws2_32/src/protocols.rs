//! Winsock calls about the transport itself: `WSASendDisconnect`, `WSARecvDisconnect`
//! and `WSAEnumProtocolsA/W` (the protocol catalog: TCP and UDP over IPv4 and IPv6).

// The records keep their Win32 field names.
#![allow(non_snake_case)]

use overlapped::WsaError;

use crate::handles::{self, started, ws_guard};
use crate::types::{DWORD, SOCKET, SOCKET_ERROR, WSABUF, c};

fn err(e: WsaError) -> u32 {
    e.code()
}

/// # Safety
/// `data` must be NULL or point to a readable `WSABUF`.
unsafe fn disconnect(s: SOCKET, data: *const WSABUF, how: i32) -> Result<i32, u32> {
    started()?;
    handles::socket(s)?;
    // SAFETY: the caller's contract: NULL or a readable WSABUF.
    if let Some(buf) = unsafe { data.as_ref() }
        && buf.len != 0
    {
        // TCP and UDP carry no disconnect data.
        return Err(err(WsaError::WSAENOPROTOOPT));
    }
    // SAFETY: always safe to call.
    match unsafe { crate::sockets::shutdown(s, how) } {
        0 => Ok(0),
        _ => Err(handles::last_error()),
    }
}

/// `int WSASendDisconnect(SOCKET s, LPWSABUF lpOutboundDisconnectData)`: starts the
/// graceful close of a connection (`shutdown(s, SD_SEND)`).
///
/// Parameters: a connected socket; disconnect data (NULL or empty: TCP has none).
/// Returns: 0, or `SOCKET_ERROR` with `WSANOTINITIALISED`, `WSAENOTSOCK`,
/// `WSAENOPROTOOPT` (disconnect data given), `WSAENOTCONN`, as `shutdown`.
/// Memory and lifetimes: nothing is kept. No completion is queued (to a port or event).
///
/// # Safety
/// `lpOutboundDisconnectData` must be NULL or point to a readable `WSABUF`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn WSASendDisconnect(s: SOCKET, data: *const WSABUF) -> i32 {
    // SAFETY: the caller's contract.
    ws_guard(SOCKET_ERROR, || unsafe { disconnect(s, data, c::SD_SEND) })
}

/// `int WSARecvDisconnect(SOCKET s, LPWSABUF lpInboundDisconnectData)`: stops receiving
/// (`shutdown(s, SD_RECEIVE)`).
///
/// Parameters: a socket; where disconnect data would go (NULL or empty: TCP has none).
/// Returns: 0, or `SOCKET_ERROR` with the codes of `WSASendDisconnect`.
/// Memory and lifetimes: nothing is kept or written.
///
/// # Safety
/// `lpInboundDisconnectData` must be NULL or point to a readable `WSABUF`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn WSARecvDisconnect(s: SOCKET, data: *const WSABUF) -> i32 {
    // SAFETY: the caller's contract.
    ws_guard(SOCKET_ERROR, || unsafe {
        disconnect(s, data, c::SD_RECEIVE)
    })
}

/// `WSAPROTOCOLCHAIN`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct WSAPROTOCOLCHAIN {
    /// 1: a base protocol.
    pub ChainLen: i32,
    /// Catalog entry ids of the chain.
    pub ChainEntries: [DWORD; 7],
}

/// `WSAPROTOCOL_INFOA` / `WSAPROTOCOL_INFOW` (the name's character type `C`).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct WSAPROTOCOL_INFO<C: Copy> {
    /// `XP1_*` service flags.
    pub dwServiceFlags1: DWORD,
    /// Reserved.
    pub dwServiceFlags2: DWORD,
    /// Reserved.
    pub dwServiceFlags3: DWORD,
    /// Reserved.
    pub dwServiceFlags4: DWORD,
    /// `PFL_*` flags.
    pub dwProviderFlags: DWORD,
    /// The provider's GUID.
    pub ProviderId: [u8; 16],
    /// This entry's id.
    pub dwCatalogEntryId: DWORD,
    /// The layering.
    pub ProtocolChain: WSAPROTOCOLCHAIN,
    /// 2.
    pub iVersion: i32,
    /// `AF_INET` or `AF_INET6`.
    pub iAddressFamily: i32,
    /// Largest address length.
    pub iMaxSockAddr: i32,
    /// Smallest address length.
    pub iMinSockAddr: i32,
    /// `SOCK_STREAM` or `SOCK_DGRAM`.
    pub iSocketType: i32,
    /// `IPPROTO_TCP` or `IPPROTO_UDP`.
    pub iProtocol: i32,
    /// 0.
    pub iProtocolMaxOffset: i32,
    /// `BIGENDIAN` (0).
    pub iNetworkByteOrder: i32,
    /// `SECURITY_PROTOCOL_NONE`.
    pub iSecurityScheme: i32,
    /// Largest message (0: stream).
    pub dwMessageSize: DWORD,
    /// Reserved.
    pub dwProviderReserved: DWORD,
    /// The name, NUL-terminated.
    pub szProtocol: [C; 256],
}

const _: () = assert!(size_of::<WSAPROTOCOL_INFO<u8>>() == 372);
const _: () = assert!(size_of::<WSAPROTOCOL_INFO<u16>>() == 628);
const _: () = assert!(std::mem::offset_of!(WSAPROTOCOL_INFO<u8>, szProtocol) == 116);

/// MSAFD Tcpip's provider GUID {E70F1AA0-AB8B-11CF-8CA3-00805F48A192}, in memory order.
const MSAFD_TCPIP: [u8; 16] = [
    0xa0, 0x1a, 0x0f, 0xe7, 0x8b, 0xab, 0xcf, 0x11, 0x8c, 0xa3, 0x00, 0x80, 0x5f, 0x48, 0xa1, 0x92,
];
const STREAM_FLAGS: DWORD = 0x0002_0066; // IFS_HANDLES | EXPEDITED | GRACEFUL_CLOSE | ORDER | DELIVERY
const DGRAM_FLAGS: DWORD = 0x0002_0609; // IFS_HANDLES | BROADCAST | MULTIPOINT | MESSAGE | CONNECTIONLESS
const PFL_MATCHES_PROTOCOL_ZERO: DWORD = 8;

/// (family, type, protocol, name, message size, flags, catalog id)
const CATALOG: [(i32, i32, i32, &str, DWORD, DWORD, DWORD); 4] = [
    (
        c::AF_INET,
        1,
        6,
        "MSAFD Tcpip [TCP/IP]",
        0,
        STREAM_FLAGS,
        1001,
    ),
    (
        c::AF_INET,
        2,
        17,
        "MSAFD Tcpip [UDP/IP]",
        0xFFBB,
        DGRAM_FLAGS,
        1002,
    ),
    (
        c::AF_INET6,
        1,
        6,
        "MSAFD Tcpip [TCP/IPv6]",
        0,
        STREAM_FLAGS,
        1004,
    ),
    (
        c::AF_INET6,
        2,
        17,
        "MSAFD Tcpip [UDP/IPv6]",
        0xFFBB,
        DGRAM_FLAGS,
        1005,
    ),
];

fn entry<C: Copy + Default + From<u8>>(i: usize) -> WSAPROTOCOL_INFO<C> {
    let (family, kind, proto, name, msg, flags, id) = CATALOG[i];
    let len = if family == c::AF_INET { 16 } else { 28 };
    let mut sz = [C::default(); 256];
    for (d, b) in sz.iter_mut().zip(name.bytes()) {
        *d = C::from(b);
    }
    WSAPROTOCOL_INFO {
        dwServiceFlags1: flags,
        dwServiceFlags2: 0,
        dwServiceFlags3: 0,
        dwServiceFlags4: 0,
        dwProviderFlags: PFL_MATCHES_PROTOCOL_ZERO,
        ProviderId: MSAFD_TCPIP,
        dwCatalogEntryId: id,
        ProtocolChain: WSAPROTOCOLCHAIN {
            ChainLen: 1,
            ChainEntries: [0; 7],
        },
        iVersion: 2,
        iAddressFamily: family,
        iMaxSockAddr: len,
        iMinSockAddr: len,
        iSocketType: kind,
        iProtocol: proto,
        iProtocolMaxOffset: 0,
        iNetworkByteOrder: 0,
        iSecurityScheme: 0,
        dwMessageSize: msg,
        dwProviderReserved: 0,
        szProtocol: sz,
    }
}

/// # Safety
/// As `WSAEnumProtocolsA`, with `C` the character type of the structure.
unsafe fn enum_protocols<C: Copy + Default + From<u8>>(
    protocols: *const i32,
    buf: *mut WSAPROTOCOL_INFO<C>,
    len: *mut DWORD,
) -> Result<i32, u32> {
    started()?;
    if len.is_null() {
        return Err(err(WsaError::WSAEFAULT));
    }
    let mut wanted = Vec::new();
    if !protocols.is_null() {
        let mut p = protocols;
        // SAFETY: the caller's contract: a list ending with 0.
        while unsafe { *p } != 0 {
            // SAFETY: as above.
            wanted.push(unsafe { *p });
            // SAFETY: not past the terminating 0.
            p = unsafe { p.add(1) };
        }
    }
    let chosen: Vec<usize> = (0..CATALOG.len())
        .filter(|&i| protocols.is_null() || wanted.contains(&CATALOG[i].2))
        .collect();
    let need =
        DWORD::try_from(chosen.len() * size_of::<WSAPROTOCOL_INFO<C>>()).unwrap_or(DWORD::MAX);
    // SAFETY: `len` is non-null and, by the caller's contract, readable and writable.
    let have = unsafe { *len };
    if buf.is_null() || have < need {
        // SAFETY: as above.
        unsafe { *len = need };
        return Err(err(WsaError::WSAENOBUFS));
    }
    for (k, &i) in chosen.iter().enumerate() {
        // SAFETY: `buf` holds `have >= need` bytes, room for `chosen.len()` entries.
        let at = unsafe { buf.add(k) };
        // SAFETY: as above; unaligned writes need no alignment.
        unsafe { at.write_unaligned(entry::<C>(i)) };
    }
    Ok(i32::try_from(chosen.len()).unwrap_or(0))
}

/// `int WSAEnumProtocolsA(LPINT lpiProtocols, LPWSAPROTOCOL_INFOA lpProtocolBuffer,
/// LPDWORD lpdwBufferLength)`: the transport protocols available: TCP and UDP over IPv4
/// and IPv6 ("MSAFD Tcpip [TCP/IP]", ...), as Windows describes them.
///
/// Parameters: NULL (all) or a 0-terminated list of protocols (`IPPROTO_TCP`, ...); a
/// buffer; its size in bytes (in), the size needed (out, on `WSAENOBUFS`).
/// Returns: the number of entries written, or `SOCKET_ERROR` with `WSANOTINITIALISED`,
/// `WSAEFAULT` (NULL length), `WSAENOBUFS` (NULL or too small a buffer; the length
/// needed is stored).
/// Memory and lifetimes: nothing is kept.
///
/// # Safety
/// `lpiProtocols` must be NULL or a 0-terminated array; `lpdwBufferLength` NULL or
/// writable; `lpProtocolBuffer` NULL or `*lpdwBufferLength` writable bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn WSAEnumProtocolsA(
    protocols: *const i32,
    buf: *mut WSAPROTOCOL_INFO<u8>,
    len: *mut DWORD,
) -> i32 {
    // SAFETY: the caller's contract.
    ws_guard(SOCKET_ERROR, || unsafe {
        enum_protocols(protocols, buf, len)
    })
}

/// `int WSAEnumProtocolsW(LPINT, LPWSAPROTOCOL_INFOW, LPDWORD)`: `WSAEnumProtocolsA`
/// with UTF-16 names.
///
/// Parameters, returns, memory: as `WSAEnumProtocolsA`.
///
/// # Safety
/// As `WSAEnumProtocolsA`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn WSAEnumProtocolsW(
    protocols: *const i32,
    buf: *mut WSAPROTOCOL_INFO<u16>,
    len: *mut DWORD,
) -> i32 {
    // SAFETY: the caller's contract.
    ws_guard(SOCKET_ERROR, || unsafe {
        enum_protocols(protocols, buf, len)
    })
}
