//! The Windows types of the C ABI, with the Windows (LLP64) layout on 64-bit Linux, and
//! the Windows constants the headers in `include/` define.
//!
//! Every record is `#[repr(C)]` and its size and field offsets are checked at compile
//! time against the Win64 layout (the same values `include/check-headers.sh` asserts on
//! the C side).

#![allow(non_camel_case_types, non_snake_case, missing_docs, dead_code)]

use std::mem::{offset_of, size_of};

pub type BOOL = i32;
pub type DWORD = u32;
pub type WORD = u16;
pub type ULONG = u32;
pub type LONG = i32;
pub type INT = i32;
pub type ULONG_PTR = usize;
pub type HANDLE = *mut libc::c_void;
pub type SOCKET = usize;

pub const TRUE: BOOL = 1;
pub const FALSE: BOOL = 0;
pub const INVALID_SOCKET: SOCKET = !0;
pub const SOCKET_ERROR: i32 = -1;

/// `WSAOVERLAPPED` / `OVERLAPPED`.
#[repr(C)]
#[derive(Debug)]
pub struct OVERLAPPED {
    pub Internal: ULONG_PTR,
    pub InternalHigh: ULONG_PTR,
    pub Offset: DWORD,
    pub OffsetHigh: DWORD,
    pub hEvent: HANDLE,
}
const _: () = assert!(size_of::<OVERLAPPED>() == 32);
const _: () = assert!(offset_of!(OVERLAPPED, InternalHigh) == 8);
const _: () = assert!(offset_of!(OVERLAPPED, hEvent) == 24);

/// `OVERLAPPED_ENTRY`: one packet of `GetQueuedCompletionStatusEx`.
#[repr(C)]
#[derive(Debug)]
pub struct OVERLAPPED_ENTRY {
    pub lpCompletionKey: ULONG_PTR,
    pub lpOverlapped: *mut OVERLAPPED,
    pub Internal: ULONG_PTR,
    pub dwNumberOfBytesTransferred: DWORD,
}
const _: () = assert!(size_of::<OVERLAPPED_ENTRY>() == 32);
const _: () = assert!(offset_of!(OVERLAPPED_ENTRY, lpOverlapped) == 8);
const _: () = assert!(offset_of!(OVERLAPPED_ENTRY, dwNumberOfBytesTransferred) == 24);

/// `WSABUF`: length first.
#[repr(C)]
#[derive(Debug)]
pub struct WSABUF {
    pub len: ULONG,
    pub buf: *mut u8,
}
const _: () = assert!(size_of::<WSABUF>() == 16);
const _: () = assert!(offset_of!(WSABUF, buf) == 8);

/// `WSADATA`, 64-bit layout.
#[repr(C)]
#[derive(Debug)]
pub struct WSADATA {
    pub wVersion: WORD,
    pub wHighVersion: WORD,
    pub iMaxSockets: u16,
    pub iMaxUdpDg: u16,
    pub lpVendorInfo: *mut u8,
    pub szDescription: [u8; 257],
    pub szSystemStatus: [u8; 129],
}
const _: () = assert!(size_of::<WSADATA>() == 408);

/// `GUID`.
#[repr(C)]
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct GUID {
    pub Data1: u32,
    pub Data2: u16,
    pub Data3: u16,
    pub Data4: [u8; 8],
}
const _: () = assert!(size_of::<GUID>() == 16);

pub const WSAID_ACCEPTEX: GUID = GUID {
    Data1: 0xb536_7df1,
    Data2: 0xcbac,
    Data3: 0x11cf,
    Data4: [0x95, 0xca, 0x00, 0x80, 0x5f, 0x48, 0xa1, 0x92],
};
pub const WSAID_GETACCEPTEXSOCKADDRS: GUID = GUID {
    Data1: 0xb536_7df2,
    Data2: 0xcbac,
    Data3: 0x11cf,
    Data4: [0x95, 0xca, 0x00, 0x80, 0x5f, 0x48, 0xa1, 0x92],
};
pub const WSAID_TRANSMITFILE: GUID = GUID {
    Data1: 0xb536_7df0,
    Data2: 0xcbac,
    Data3: 0x11cf,
    Data4: [0x95, 0xca, 0x00, 0x80, 0x5f, 0x48, 0xa1, 0x92],
};
pub const WSAID_CONNECTEX: GUID = GUID {
    Data1: 0x25a2_07b9,
    Data2: 0xddf3,
    Data3: 0x4660,
    Data4: [0x8e, 0xe9, 0x76, 0xe5, 0x8c, 0x74, 0x06, 0x3e],
};
pub const WSAID_DISCONNECTEX: GUID = GUID {
    Data1: 0x7fda_2e11,
    Data2: 0x8630,
    Data3: 0x436f,
    Data4: [0xa0, 0x31, 0xf5, 0x36, 0xa6, 0xee, 0xc1, 0x57],
};
pub const WSAID_WSARECVMSG: GUID = GUID {
    Data1: 0xf689_d7c8,
    Data2: 0x6f1f,
    Data3: 0x436b,
    Data4: [0x8a, 0x53, 0xe5, 0x4f, 0xe3, 0x51, 0xc3, 0x22],
};
pub const WSAID_WSASENDMSG: GUID = GUID {
    Data1: 0xa441_e712,
    Data2: 0x754f,
    Data3: 0x43ca,
    Data4: [0x84, 0xa7, 0x0d, 0xee, 0x44, 0xcf, 0x60, 0x6d],
};
pub const WSAID_TRANSMITPACKETS: GUID = GUID {
    Data1: 0xd968_9da0,
    Data2: 0x1f90,
    Data3: 0x11d3,
    Data4: [0x99, 0x71, 0x00, 0xc0, 0x4f, 0x68, 0xc8, 0x76],
};

/// Windows `sockaddr_in` (16 bytes; `sin_addr.S_un.S_addr` in network order).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct sockaddr_in {
    pub sin_family: i16,
    pub sin_port: u16,
    pub sin_addr: u32,
    pub sin_zero: [u8; 8],
}
const _: () = assert!(size_of::<sockaddr_in>() == 16);

/// Windows `sockaddr_in6` (28 bytes).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct sockaddr_in6 {
    pub sin6_family: i16,
    pub sin6_port: u16,
    pub sin6_flowinfo: u32,
    pub sin6_addr: [u8; 16],
    pub sin6_scope_id: u32,
}
const _: () = assert!(size_of::<sockaddr_in6>() == 28);

/// Windows `SOCKADDR_STORAGE` size.
pub const SOCKADDR_STORAGE_SIZE: usize = 128;

/// Windows `fd_set`.
pub const FD_SETSIZE: usize = 64;
#[repr(C)]
#[derive(Debug)]
pub struct fd_set {
    pub fd_count: u32,
    pub fd_array: [SOCKET; FD_SETSIZE],
}
const _: () = assert!(size_of::<fd_set>() == 8 + 64 * 8);
const _: () = assert!(offset_of!(fd_set, fd_array) == 8);

/// `struct timeval` as the headers declare it: the C library's (64-bit fields), so that
/// programs that also include `<sys/time.h>` see one definition (Windows' has 32-bit
/// fields; only the values matter to `select`).
pub type timeval = libc::timeval;

/// Windows `linger` (16-bit fields).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct linger {
    pub l_onoff: u16,
    pub l_linger: u16,
}

/// `tcp_keepalive` (`SIO_KEEPALIVE_VALS` input).
#[repr(C)]
#[derive(Debug)]
pub struct tcp_keepalive {
    pub onoff: ULONG,
    pub keepalivetime: ULONG,
    pub keepaliveinterval: ULONG,
}

/// `WSANETWORKEVENTS`.
#[repr(C)]
#[derive(Debug)]
pub struct WSANETWORKEVENTS {
    pub lNetworkEvents: LONG,
    pub iErrorCode: [i32; 10],
}

/// Windows `addrinfo` (note: `ai_canonname` before `ai_addr`, unlike glibc).
#[repr(C)]
#[derive(Debug)]
pub struct addrinfo {
    pub ai_flags: i32,
    pub ai_family: i32,
    pub ai_socktype: i32,
    pub ai_protocol: i32,
    pub ai_addrlen: usize,
    pub ai_canonname: *mut libc::c_char,
    pub ai_addr: *mut u8,
    pub ai_next: *mut addrinfo,
}
const _: () = assert!(size_of::<addrinfo>() == 48);

/// Windows `hostent` (16-bit type and length).
#[repr(C)]
#[derive(Debug)]
pub struct hostent {
    pub h_name: *mut libc::c_char,
    pub h_aliases: *mut *mut libc::c_char,
    pub h_addrtype: i16,
    pub h_length: i16,
    pub h_addr_list: *mut *mut libc::c_char,
}

/// `WSAPOLLFD`.
#[repr(C)]
#[derive(Debug)]
pub struct WSAPOLLFD {
    pub fd: SOCKET,
    pub events: i16,
    pub revents: i16,
}

/// `SYSTEM_INFO` (64-bit layout; 48 bytes).
#[repr(C)]
#[derive(Debug)]
pub struct SYSTEM_INFO {
    pub wProcessorArchitecture: u16,
    pub wReserved: u16,
    pub dwPageSize: DWORD,
    pub lpMinimumApplicationAddress: *mut libc::c_void,
    pub lpMaximumApplicationAddress: *mut libc::c_void,
    pub dwActiveProcessorMask: usize,
    pub dwNumberOfProcessors: DWORD,
    pub dwProcessorType: DWORD,
    pub dwAllocationGranularity: DWORD,
    pub wProcessorLevel: u16,
    pub wProcessorRevision: u16,
}
const _: () = assert!(size_of::<SYSTEM_INFO>() == 48);
const _: () = assert!(offset_of!(OVERLAPPED, Offset) == 16);
const _: () = assert!(offset_of!(WSADATA, lpVendorInfo) == 8);
const _: () = assert!(offset_of!(WSADATA, szDescription) == 16);
const _: () = assert!(offset_of!(sockaddr_in, sin_addr) == 4);
const _: () = assert!(offset_of!(sockaddr_in6, sin6_addr) == 8);
const _: () = assert!(offset_of!(sockaddr_in6, sin6_scope_id) == 24);
const _: () = assert!(size_of::<linger>() == 4);
const _: () = assert!(size_of::<WSANETWORKEVENTS>() == 44);
const _: () = assert!(size_of::<WSAPOLLFD>() == 16);
const _: () = assert!(offset_of!(addrinfo, ai_canonname) == 24);
const _: () = assert!(offset_of!(addrinfo, ai_addr) == 32);
const _: () = assert!(size_of::<tcp_keepalive>() == 12);

/// Windows constants (values as in the Windows SDK).
pub mod c {
    pub const AF_UNSPEC: i32 = 0;
    pub const AF_INET: i32 = 2;
    pub const AF_INET6: i32 = 23;
    pub const SOCK_STREAM: i32 = 1;
    pub const SOCK_DGRAM: i32 = 2;
    pub const IPPROTO_IP: i32 = 0;
    pub const IPPROTO_TCP: i32 = 6;
    pub const IPPROTO_UDP: i32 = 17;
    pub const IPPROTO_IPV6: i32 = 41;
    pub const SOL_SOCKET: i32 = 0xffff;
    pub const SO_DEBUG: i32 = 1;
    pub const SO_ACCEPTCONN: i32 = 2;
    pub const SO_REUSEADDR: i32 = 4;
    pub const SO_KEEPALIVE: i32 = 8;
    pub const SO_DONTROUTE: i32 = 0x10;
    pub const SO_BROADCAST: i32 = 0x20;
    pub const SO_LINGER: i32 = 0x80;
    pub const SO_OOBINLINE: i32 = 0x100;
    pub const SO_DONTLINGER: i32 = !SO_LINGER;
    pub const SO_EXCLUSIVEADDRUSE: i32 = !SO_REUSEADDR;
    pub const SO_SNDBUF: i32 = 0x1001;
    pub const SO_RCVBUF: i32 = 0x1002;
    pub const SO_SNDLOWAT: i32 = 0x1003;
    pub const SO_RCVLOWAT: i32 = 0x1004;
    pub const SO_SNDTIMEO: i32 = 0x1005;
    pub const SO_RCVTIMEO: i32 = 0x1006;
    pub const SO_ERROR: i32 = 0x1007;
    pub const SO_TYPE: i32 = 0x1008;
    pub const SO_UPDATE_ACCEPT_CONTEXT: i32 = 0x700B;
    pub const SO_CONNECT_TIME: i32 = 0x700C;
    pub const SO_UPDATE_CONNECT_CONTEXT: i32 = 0x7010;
    pub const TCP_NODELAY: i32 = 1;
    pub const IPV6_V6ONLY: i32 = 27;
    pub const IP_TTL: i32 = 4;
    pub const WSA_FLAG_OVERLAPPED: u32 = 0x01;
    pub const FIONREAD: u32 = 0x4004_667F;
    pub const FIONBIO: u32 = 0x8004_667E;
    pub const SIOCATMARK: u32 = 0x4004_7307;
    pub const SIO_KEEPALIVE_VALS: u32 = 0x9800_0004;
    pub const SIO_GET_EXTENSION_FUNCTION_POINTER: u32 = 0xC800_0006;
    pub const SIO_BASE_HANDLE: u32 = 0x4800_0022;
    pub const MSG_OOB: i32 = 1;
    pub const MSG_PEEK: i32 = 2;
    pub const MSG_DONTROUTE: i32 = 4;
    pub const MSG_WAITALL: i32 = 8;
    pub const MSG_PARTIAL: u32 = 0x8000;
    pub const SD_RECEIVE: i32 = 0;
    pub const SD_SEND: i32 = 1;
    pub const SD_BOTH: i32 = 2;
    pub const FD_READ: i32 = 1;
    pub const FD_WRITE: i32 = 2;
    pub const FD_OOB: i32 = 4;
    pub const FD_ACCEPT: i32 = 8;
    pub const FD_CONNECT: i32 = 16;
    pub const FD_CLOSE: i32 = 32;
    pub const WAIT_OBJECT_0: u32 = 0;
    pub const WAIT_IO_COMPLETION: u32 = 0xC0;
    pub const WAIT_TIMEOUT: u32 = 258;
    pub const WAIT_FAILED: u32 = 0xFFFF_FFFF;
    pub const INFINITE: u32 = 0xFFFF_FFFF;
    pub const STATUS_PENDING: usize = 0x103;
    pub const POLLRDNORM: i16 = 0x0100;
    pub const POLLRDBAND: i16 = 0x0200;
    pub const POLLIN: i16 = POLLRDNORM | POLLRDBAND;
    pub const POLLPRI: i16 = 0x0400;
    pub const POLLWRNORM: i16 = 0x0010;
    pub const POLLOUT: i16 = POLLWRNORM;
    pub const POLLWRBAND: i16 = 0x0020;
    pub const POLLERR: i16 = 0x0001;
    pub const POLLHUP: i16 = 0x0002;
    pub const POLLNVAL: i16 = 0x0004;
}

/// `RTL_CRITICAL_SECTION`, Windows' x64 layout.
#[repr(C)]
#[derive(Debug)]
pub struct CRITICAL_SECTION {
    /// `DebugInfo` (always NULL here).
    pub debug_info: *mut libc::c_void,
    /// `LockCount`: the lock word.
    pub lock_count: i32,
    /// `RecursionCount`.
    pub recursion_count: i32,
    /// `OwningThread`: the owner's thread id (0 when free).
    pub owning_thread: usize,
    /// `LockSemaphore` (unused).
    pub lock_semaphore: usize,
    /// `SpinCount`.
    pub spin_count: usize,
}

/// `SRWLOCK` / `CONDITION_VARIABLE`: one pointer, zero when free (`SRWLOCK_INIT`,
/// `CONDITION_VARIABLE_INIT`).
#[repr(C)]
#[derive(Debug)]
pub struct SRWLOCK {
    /// `Ptr`.
    pub ptr: *mut libc::c_void,
}

/// `CONDITION_VARIABLE`.
pub type CONDITION_VARIABLE = SRWLOCK;

const _: () = assert!(std::mem::size_of::<CRITICAL_SECTION>() == 40);
const _: () = assert!(std::mem::size_of::<SRWLOCK>() == 8);

/// Win32 error codes used at the boundary.
pub mod win32 {
    pub const ERROR_INVALID_HANDLE: u32 = 6;
    pub const ERROR_NOT_ENOUGH_MEMORY: u32 = 8;
    pub const ERROR_ABANDONED_WAIT_0: u32 = 735;
    pub const STILL_ACTIVE: u32 = 259;
    pub const ERROR_INVALID_PARAMETER: u32 = 87;
    pub const ERROR_IO_PENDING: u32 = 997;
    pub const ERROR_NOT_FOUND: u32 = 1168;
    pub const ERROR_NOT_OWNER: u32 = 288;
    pub const ERROR_NOACCESS: u32 = 998;
    pub const ERROR_TIMEOUT: u32 = 1460;
}
