//! Winsock error codes, the NTSTATUS values an overlapped record carries, and the one
//! table that maps Linux `errno` values onto them.
//!
//! Windows reports an overlapped operation's outcome in two families
//! (`winsock-semantics.md` 1.3): `WSAGetOverlappedResult` and completion routines give a
//! **WSA** code ([`WsaError`]), while `GetOverlappedResult` and completion ports give a
//! **Win32** code. Both are derived from one NTSTATUS stored in the record
//! ([`NtStatus`]), exactly as Windows derives them from `OVERLAPPED::Internal`, so the two
//! families can never disagree.

use std::fmt;
use std::io;

/// A Winsock error code, as `WSAGetLastError` would return it.
///
/// The Rust API returns these as typed errors; the names are the Winsock constants, so
/// Microsoft's documentation can be searched directly.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct WsaError(u32);

macro_rules! wsa_codes {
    ($($name:ident = $value:expr, $text:expr;)*) => {
        impl WsaError {
            $(
                #[doc = $text]
                pub const $name: WsaError = WsaError($value);
            )*

            /// The Winsock constant's name, e.g. `"WSAECONNRESET"`, or `None` for an unnamed code.
            pub fn name(self) -> Option<&'static str> {
                match self.0 {
                    $($value => Some(stringify!($name)),)*
                    _ => None,
                }
            }

            fn text(self) -> &'static str {
                self.description().unwrap_or("unknown error")
            }

            /// A one-sentence description of a known code (what `FormatMessage`
            /// gives for it through the C ABI), or `None` for an unnamed code.
            pub fn description(self) -> Option<&'static str> {
                match self.0 {
                    $($value => Some($text),)*
                    _ => None,
                }
            }
        }
    };
}

wsa_codes! {
    WSA_INVALID_HANDLE = 6, "The handle is not a valid event or object.";
    WSA_NOT_ENOUGH_MEMORY = 8, "Not enough memory.";
    WSA_INVALID_PARAMETER = 87, "A parameter is invalid.";
    WSA_OPERATION_ABORTED = 995, "The overlapped operation was aborted (cancelled or socket closed).";
    WSA_IO_INCOMPLETE = 996, "The overlapped operation has not completed yet.";
    WSA_IO_PENDING = 997, "The overlapped operation will complete later.";
    WSAEINTR = 10004, "A blocking call was interrupted.";
    WSAEBADF = 10009, "The file handle is not valid.";
    WSAEACCES = 10013, "Permission denied.";
    WSAEFAULT = 10014, "A pointer or buffer argument is invalid or too small.";
    WSAEINVAL = 10022, "An argument is invalid for the socket's state.";
    WSAEMFILE = 10024, "Too many open sockets.";
    WSAEWOULDBLOCK = 10035, "The operation would block on a non-blocking socket.";
    WSAEINPROGRESS = 10036, "A blocking operation is in progress.";
    WSAEALREADY = 10037, "An operation is already in progress on this socket.";
    WSAENOTSOCK = 10038, "The handle is not a socket.";
    WSAEDESTADDRREQ = 10039, "A destination address is required.";
    WSAEMSGSIZE = 10040, "The message was larger than the buffer and was truncated.";
    WSAEPROTOTYPE = 10041, "Wrong protocol type for the socket.";
    WSAENOPROTOOPT = 10042, "Unknown or unsupported socket option.";
    WSAEPROTONOSUPPORT = 10043, "The protocol is not supported.";
    WSAESOCKTNOSUPPORT = 10044, "The socket type is not supported.";
    WSAEOPNOTSUPP = 10045, "The operation is not supported on this socket.";
    WSAEPFNOSUPPORT = 10046, "The protocol family is not supported.";
    WSAEAFNOSUPPORT = 10047, "The address family is not supported.";
    WSAEADDRINUSE = 10048, "The address is already in use.";
    WSAEADDRNOTAVAIL = 10049, "The address is not available on this machine.";
    WSAENETDOWN = 10050, "The network is down.";
    WSAENETUNREACH = 10051, "The network is unreachable.";
    WSAENETRESET = 10052, "The connection was reset by the network.";
    WSAECONNABORTED = 10053, "The connection was aborted locally.";
    WSAECONNRESET = 10054, "The connection was reset by the peer.";
    WSAENOBUFS = 10055, "No buffer space is available.";
    WSAEISCONN = 10056, "The socket is already connected.";
    WSAENOTCONN = 10057, "The socket is not connected.";
    WSAESHUTDOWN = 10058, "The socket has been shut down in that direction.";
    WSAETOOMANYREFS = 10059, "Too many references.";
    WSAETIMEDOUT = 10060, "The operation timed out.";
    WSAECONNREFUSED = 10061, "The connection was refused.";
    WSAELOOP = 10062, "Too many levels of symbolic links.";
    WSAENAMETOOLONG = 10063, "The name is too long.";
    WSAEHOSTDOWN = 10064, "The host is down.";
    WSAEHOSTUNREACH = 10065, "The host is unreachable.";
    WSASYSNOTREADY = 10091, "The network subsystem is not ready.";
    WSAVERNOTSUPPORTED = 10092, "The requested Winsock version is not supported.";
    WSANOTINITIALISED = 10093, "WSAStartup has not been called.";
    WSAEDISCON = 10101, "The peer closed the message stream gracefully.";
}

impl WsaError {
    /// Wraps a raw Winsock (or Win32) code.
    pub const fn from_code(code: u32) -> Self {
        Self(code)
    }

    /// The numeric code.
    pub const fn code(self) -> u32 {
        self.0
    }

    /// Maps a Linux `errno` value onto the Winsock code Windows reports for the same
    /// condition. This is the crate's one errno table.
    pub fn from_errno(errno: i32) -> Self {
        match errno {
            libc::EINTR => Self::WSAEINTR,
            libc::EBADF | libc::ENOTSOCK => Self::WSAENOTSOCK,
            libc::EACCES | libc::EPERM => Self::WSAEACCES,
            libc::EFAULT => Self::WSAEFAULT,
            libc::EINVAL => Self::WSAEINVAL,
            libc::EMFILE | libc::ENFILE => Self::WSAEMFILE,
            // A non-blocking connect that has started is WSAEWOULDBLOCK on Windows.
            libc::EAGAIN | libc::EINPROGRESS => Self::WSAEWOULDBLOCK,
            libc::EALREADY => Self::WSAEALREADY,
            libc::EDESTADDRREQ => Self::WSAEDESTADDRREQ,
            libc::EMSGSIZE => Self::WSAEMSGSIZE,
            libc::EPROTOTYPE => Self::WSAEPROTOTYPE,
            libc::ENOPROTOOPT => Self::WSAENOPROTOOPT,
            libc::EPROTONOSUPPORT => Self::WSAEPROTONOSUPPORT,
            libc::ESOCKTNOSUPPORT => Self::WSAESOCKTNOSUPPORT,
            libc::EOPNOTSUPP => Self::WSAEOPNOTSUPP,
            libc::EPFNOSUPPORT => Self::WSAEPFNOSUPPORT,
            libc::EAFNOSUPPORT => Self::WSAEAFNOSUPPORT,
            libc::EADDRINUSE => Self::WSAEADDRINUSE,
            libc::EADDRNOTAVAIL => Self::WSAEADDRNOTAVAIL,
            libc::ENETDOWN => Self::WSAENETDOWN,
            libc::ENETUNREACH => Self::WSAENETUNREACH,
            libc::ENETRESET => Self::WSAENETRESET,
            libc::ECONNABORTED => Self::WSAECONNABORTED,
            // Linux reports EPIPE for a send after the peer reset the connection.
            libc::ECONNRESET | libc::EPIPE => Self::WSAECONNRESET,
            libc::ENOBUFS | libc::ENOMEM => Self::WSAENOBUFS,
            libc::EISCONN => Self::WSAEISCONN,
            libc::ENOTCONN => Self::WSAENOTCONN,
            libc::ESHUTDOWN => Self::WSAESHUTDOWN,
            libc::ETOOMANYREFS => Self::WSAETOOMANYREFS,
            libc::ETIMEDOUT => Self::WSAETIMEDOUT,
            libc::ECONNREFUSED => Self::WSAECONNREFUSED,
            libc::ELOOP => Self::WSAELOOP,
            libc::ENAMETOOLONG => Self::WSAENAMETOOLONG,
            libc::EHOSTDOWN => Self::WSAEHOSTDOWN,
            libc::EHOSTUNREACH => Self::WSAEHOSTUNREACH,
            libc::ECANCELED => Self::WSA_OPERATION_ABORTED,
            _ => Self::WSAEINVAL,
        }
    }
}

impl fmt::Debug for WsaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => write!(f, "{name}({})", self.0),
            None => write!(f, "WsaError({})", self.0),
        }
    }
}

impl fmt::Display for WsaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => write!(f, "{} ({name}, {})", self.text(), self.0),
            None => write!(f, "Winsock error {}", self.0),
        }
    }
}

impl std::error::Error for WsaError {}

impl From<io::Error> for WsaError {
    fn from(e: io::Error) -> Self {
        Self::from_errno(e.raw_os_error().unwrap_or(libc::EINVAL))
    }
}

impl From<WsaError> for io::Error {
    fn from(e: WsaError) -> Self {
        io::Error::other(e)
    }
}

/// Win32 error codes that the Win32 family (`GetOverlappedResult`, completion ports)
/// reports where it differs from the WSA family.
pub mod win32 {
    /// `ERROR_INVALID_PARAMETER`.
    pub const ERROR_INVALID_PARAMETER: u32 = 87;
    /// `ERROR_NETNAME_DELETED`: a pending operation's connection was reset.
    pub const ERROR_NETNAME_DELETED: u32 = 64;
    /// `ERROR_NOT_SUPPORTED`.
    pub const ERROR_NOT_SUPPORTED: u32 = 50;
    /// `ERROR_INSUFFICIENT_BUFFER`.
    pub const ERROR_INSUFFICIENT_BUFFER: u32 = 122;
    /// `ERROR_SEM_TIMEOUT`.
    pub const ERROR_SEM_TIMEOUT: u32 = 121;
    /// `ERROR_PIPE_NOT_CONNECTED`.
    pub const ERROR_PIPE_NOT_CONNECTED: u32 = 233;
    /// `ERROR_MORE_DATA`.
    pub const ERROR_MORE_DATA: u32 = 234;
    /// `ERROR_OPERATION_ABORTED`.
    pub const ERROR_OPERATION_ABORTED: u32 = 995;
    /// `ERROR_IO_INCOMPLETE`.
    pub const ERROR_IO_INCOMPLETE: u32 = 996;
    /// `ERROR_IO_PENDING`.
    pub const ERROR_IO_PENDING: u32 = 997;
    /// `ERROR_NOT_FOUND`.
    pub const ERROR_NOT_FOUND: u32 = 1168;
    /// `ERROR_CONNECTION_REFUSED`.
    pub const ERROR_CONNECTION_REFUSED: u32 = 1225;
    /// `ERROR_CONNECTION_INVALID`.
    pub const ERROR_CONNECTION_INVALID: u32 = 1229;
    /// `ERROR_NETWORK_UNREACHABLE`.
    pub const ERROR_NETWORK_UNREACHABLE: u32 = 1231;
    /// `ERROR_HOST_UNREACHABLE`.
    pub const ERROR_HOST_UNREACHABLE: u32 = 1232;
    /// `ERROR_CONNECTION_ABORTED`.
    pub const ERROR_CONNECTION_ABORTED: u32 = 1236;
}

/// An NTSTATUS, as Windows stores it in `OVERLAPPED::Internal`.
///
/// Completed operations record one of these; [`NtStatus::to_wsa`] and
/// [`NtStatus::to_win32`] derive the two reporting families from it. An errno with no
/// NTSTATUS of its own is carried as a private "customer" status (bit 29 set) that holds
/// its WSA code, so no information is lost.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct NtStatus(pub u32);

impl NtStatus {
    /// `STATUS_SUCCESS`.
    pub const SUCCESS: NtStatus = NtStatus(0);
    /// `STATUS_PENDING`: the value `Internal` holds while an operation is in flight.
    pub const PENDING: NtStatus = NtStatus(0x103);
    /// `STATUS_BUFFER_OVERFLOW`: a datagram was truncated (a warning: bytes are valid).
    pub const BUFFER_OVERFLOW: NtStatus = NtStatus(0x8000_0005);
    /// `STATUS_INVALID_PARAMETER`.
    pub const INVALID_PARAMETER: NtStatus = NtStatus(0xC000_000D);
    /// `STATUS_BUFFER_TOO_SMALL`.
    pub const BUFFER_TOO_SMALL: NtStatus = NtStatus(0xC000_0023);
    /// `STATUS_PIPE_DISCONNECTED`: the socket was shut down for that direction.
    pub const PIPE_DISCONNECTED: NtStatus = NtStatus(0xC000_00B0);
    /// `STATUS_IO_TIMEOUT`.
    pub const IO_TIMEOUT: NtStatus = NtStatus(0xC000_00B5);
    /// `STATUS_NOT_SUPPORTED`.
    pub const NOT_SUPPORTED: NtStatus = NtStatus(0xC000_00BB);
    /// `STATUS_CANCELLED`: cancelled (`CancelIo`) or aborted by closing.
    pub const CANCELLED: NtStatus = NtStatus(0xC000_0120);
    /// `STATUS_LOCAL_DISCONNECT`.
    pub const LOCAL_DISCONNECT: NtStatus = NtStatus(0xC000_013B);
    /// `STATUS_CONNECTION_RESET`: the peer reset the connection.
    pub const CONNECTION_RESET: NtStatus = NtStatus(0xC000_020D);
    /// `STATUS_CONNECTION_REFUSED`.
    pub const CONNECTION_REFUSED: NtStatus = NtStatus(0xC000_0236);
    /// `STATUS_NETWORK_UNREACHABLE`.
    pub const NETWORK_UNREACHABLE: NtStatus = NtStatus(0xC000_023C);
    /// `STATUS_HOST_UNREACHABLE`.
    pub const HOST_UNREACHABLE: NtStatus = NtStatus(0xC000_023D);
    /// `STATUS_CONNECTION_ABORTED`: a pending receive or send whose socket was closed.
    pub const CONNECTION_ABORTED: NtStatus = NtStatus(0xC000_0241);
    /// `STATUS_INVALID_CONNECTION`.
    pub const INVALID_CONNECTION: NtStatus = NtStatus(0xC000_0140);

    const CUSTOMER: u32 = 0xE000_0000;

    /// True for success and warning statuses (`NT_SUCCESS` is false only for errors);
    /// `STATUS_PENDING` counts as not done and is never "success" here.
    pub fn is_success(self) -> bool {
        self != Self::PENDING && self.0 < 0xC000_0000
    }

    /// The status Windows would store for a failed Linux operation.
    pub fn from_errno(errno: i32) -> Self {
        match errno {
            libc::ECONNRESET | libc::EPIPE => Self::CONNECTION_RESET,
            libc::ECANCELED => Self::CANCELLED,
            libc::ECONNREFUSED => Self::CONNECTION_REFUSED,
            libc::ECONNABORTED => Self::CONNECTION_ABORTED,
            libc::ETIMEDOUT => Self::IO_TIMEOUT,
            libc::ENETUNREACH => Self::NETWORK_UNREACHABLE,
            libc::EHOSTUNREACH => Self::HOST_UNREACHABLE,
            libc::ENOTCONN => Self::INVALID_CONNECTION,
            libc::EMSGSIZE => Self::BUFFER_OVERFLOW,
            libc::EOPNOTSUPP => Self::NOT_SUPPORTED,
            other => Self::from_wsa(WsaError::from_errno(other)),
        }
    }

    /// Carries a WSA code that has no NTSTATUS of its own.
    pub fn from_wsa(e: WsaError) -> Self {
        match e {
            WsaError::WSA_OPERATION_ABORTED => Self::CANCELLED,
            WsaError::WSAECONNRESET => Self::CONNECTION_RESET,
            WsaError::WSAECONNABORTED => Self::CONNECTION_ABORTED,
            WsaError::WSAECONNREFUSED => Self::CONNECTION_REFUSED,
            WsaError::WSAEINVAL => Self::INVALID_PARAMETER,
            WsaError::WSAESHUTDOWN => Self::PIPE_DISCONNECTED,
            WsaError::WSAEOPNOTSUPP => Self::NOT_SUPPORTED,
            WsaError::WSAEFAULT => Self::BUFFER_TOO_SMALL,
            other => Self(Self::CUSTOMER | other.code()),
        }
    }

    /// The WSA-family code (`WSAGetOverlappedResult`, completion routines); `None` for
    /// success. `STATUS_PENDING` maps to `WSA_IO_INCOMPLETE`.
    pub fn to_wsa(self) -> Option<WsaError> {
        if self.0 & 0xF000_0000 == Self::CUSTOMER {
            return Some(WsaError(self.0 & !Self::CUSTOMER));
        }
        if self == Self::SUCCESS {
            return None;
        }
        if self == Self::PENDING {
            return Some(WsaError::WSA_IO_INCOMPLETE);
        }
        if let Some(&(_, e)) = WSA_OF_STATUS.iter().find(|(s, _)| *s == self.0) {
            return Some(e);
        }
        // `NT_SUCCESS` (the sign bit clear) is success; any other status (warnings
        // included) without an entry of its own is `WSAEINVAL`, as Windows reports it.
        if self.0 < 0x8000_0000 {
            None
        } else {
            Some(WsaError::WSAEINVAL)
        }
    }

    /// The Win32-family code (`GetOverlappedResult`, `GetQueuedCompletionStatus`), as
    /// `RtlNtStatusToDosError` gives it; 0 for success.
    pub fn to_win32(self) -> u32 {
        use win32::*;
        if self.0 & 0xF000_0000 == Self::CUSTOMER {
            return self.0 & !Self::CUSTOMER;
        }
        match self {
            Self::SUCCESS => 0,
            Self::PENDING => ERROR_IO_PENDING,
            Self::BUFFER_OVERFLOW => ERROR_MORE_DATA,
            Self::INVALID_PARAMETER => ERROR_INVALID_PARAMETER,
            Self::BUFFER_TOO_SMALL => ERROR_INSUFFICIENT_BUFFER,
            Self::PIPE_DISCONNECTED => ERROR_PIPE_NOT_CONNECTED,
            Self::IO_TIMEOUT => ERROR_SEM_TIMEOUT,
            Self::NOT_SUPPORTED => ERROR_NOT_SUPPORTED,
            Self::CANCELLED => ERROR_OPERATION_ABORTED,
            Self::LOCAL_DISCONNECT | Self::CONNECTION_RESET => ERROR_NETNAME_DELETED,
            Self::CONNECTION_ABORTED => ERROR_CONNECTION_ABORTED,
            Self::CONNECTION_REFUSED => ERROR_CONNECTION_REFUSED,
            Self::NETWORK_UNREACHABLE => ERROR_NETWORK_UNREACHABLE,
            Self::HOST_UNREACHABLE => ERROR_HOST_UNREACHABLE,
            Self::INVALID_CONNECTION => ERROR_CONNECTION_INVALID,
            s if s.0 < 0xC000_0000 => 0,
            _ => ERROR_INVALID_PARAMETER,
        }
    }
}

/// Windows' NTSTATUS -> WSA error table (what `WSAGetOverlappedResult` and a completion
/// routine's `dwError` report; Wine's tests of Windows record it, `map_status` in
/// `dlls/ws2_32/tests/sock.c`). Statuses not listed: success for `NT_SUCCESS` ones,
/// `WSAEINVAL` for the rest.
const WSA_OF_STATUS: &[(u32, WsaError)] = &[
    (0x8000_0005, WsaError::WSAEMSGSIZE),     // BUFFER_OVERFLOW
    (0xC000_0002, WsaError::WSAEOPNOTSUPP),   // NOT_IMPLEMENTED
    (0xC000_0005, WsaError::WSAEFAULT),       // ACCESS_VIOLATION
    (0xC000_0007, WsaError::WSAENOBUFS),      // PAGEFILE_QUOTA
    (0xC000_0008, WsaError::WSAENOTSOCK),     // INVALID_HANDLE
    (0xC000_000D, WsaError::WSAEINVAL),       // INVALID_PARAMETER
    (0xC000_000E, WsaError::WSAENETDOWN),     // NO_SUCH_DEVICE
    (0xC000_000F, WsaError::WSAENETDOWN),     // NO_SUCH_FILE
    (0xC000_0017, WsaError::WSAENOBUFS),      // NO_MEMORY
    (0xC000_0018, WsaError::WSAENOBUFS),      // CONFLICTING_ADDRESSES
    (0xC000_0022, WsaError::WSAEACCES),       // ACCESS_DENIED
    (0xC000_0023, WsaError::WSAEFAULT),       // BUFFER_TOO_SMALL
    (0xC000_0024, WsaError::WSAENOTSOCK),     // OBJECT_TYPE_MISMATCH
    (0xC000_0034, WsaError::WSAENETDOWN),     // OBJECT_NAME_NOT_FOUND
    (0xC000_003A, WsaError::WSAENETDOWN),     // OBJECT_PATH_NOT_FOUND
    (0xC000_0043, WsaError::WSAEADDRINUSE),   // SHARING_VIOLATION
    (0xC000_0044, WsaError::WSAENOBUFS),      // QUOTA_EXCEEDED
    (0xC000_0097, WsaError::WSAENOBUFS),      // TOO_MANY_PAGING_FILES
    (0xC000_009A, WsaError::WSAENOBUFS),      // INSUFFICIENT_RESOURCES
    (0xC000_00A1, WsaError::WSAENOBUFS),      // WORKING_SET_QUOTA
    (0xC000_00A3, WsaError::WSAEWOULDBLOCK),  // DEVICE_NOT_READY
    (0xC000_00B0, WsaError::WSAESHUTDOWN),    // PIPE_DISCONNECTED
    (0xC000_00B5, WsaError::WSAETIMEDOUT),    // IO_TIMEOUT
    (0xC000_00BB, WsaError::WSAEOPNOTSUPP),   // NOT_SUPPORTED
    (0xC000_00BC, WsaError::WSAECONNREFUSED), // REMOTE_NOT_LISTENING
    (0xC000_00BE, WsaError::WSAENETUNREACH),  // BAD_NETWORK_PATH
    (0xC000_00BF, WsaError::WSAENETDOWN),     // NETWORK_BUSY
    (0xC000_00C3, WsaError::WSAENETDOWN),     // INVALID_NETWORK_RESPONSE
    (0xC000_00C4, WsaError::WSAENETDOWN),     // UNEXPECTED_NETWORK_ERROR
    (0xC000_00D0, WsaError::WSAEWOULDBLOCK),  // REQUEST_NOT_ACCEPTED
    (0xC000_0120, WsaError::WSA_OPERATION_ABORTED), // CANCELLED
    (0xC000_012D, WsaError::WSAENOBUFS),      // COMMITMENT_LIMIT
    (0xC000_013B, WsaError::WSAECONNABORTED), // LOCAL_DISCONNECT
    (0xC000_013C, WsaError::WSAECONNRESET),   // REMOTE_DISCONNECT
    (0xC000_013D, WsaError::WSAENOBUFS),      // REMOTE_RESOURCES
    (0xC000_013E, WsaError::WSAECONNRESET),   // LINK_FAILED
    (0xC000_013F, WsaError::WSAETIMEDOUT),    // LINK_TIMEOUT
    (0xC000_0140, WsaError::WSAENOTCONN),     // INVALID_CONNECTION
    (0xC000_0141, WsaError::WSAEADDRNOTAVAIL), // INVALID_ADDRESS
    (0xC000_0206, WsaError::WSAEMSGSIZE),     // INVALID_BUFFER_SIZE
    (0xC000_0207, WsaError::WSAEADDRNOTAVAIL), // INVALID_ADDRESS_COMPONENT
    (0xC000_0209, WsaError::WSAENOBUFS),      // TOO_MANY_ADDRESSES
    (0xC000_020A, WsaError::WSAEADDRINUSE),   // ADDRESS_ALREADY_EXISTS
    (0xC000_020C, WsaError::WSAECONNRESET),   // CONNECTION_DISCONNECTED
    (0xC000_020D, WsaError::WSAECONNRESET),   // CONNECTION_RESET
    (0xC000_020F, WsaError::WSAECONNABORTED), // TRANSACTION_ABORTED
    (0xC000_0236, WsaError::WSAECONNREFUSED), // CONNECTION_REFUSED
    (0xC000_0237, WsaError::WSAEDISCON),      // GRACEFUL_DISCONNECT
    (0xC000_023B, WsaError::WSAEISCONN),      // CONNECTION_ACTIVE
    (0xC000_023C, WsaError::WSAENETUNREACH),  // NETWORK_UNREACHABLE
    (0xC000_023D, WsaError::WSAEHOSTUNREACH), // HOST_UNREACHABLE
    (0xC000_023E, WsaError::WSAENETUNREACH),  // PROTOCOL_UNREACHABLE
    (0xC000_023F, WsaError::WSAECONNRESET),   // PORT_UNREACHABLE
    (0xC000_0240, WsaError::WSAEINTR),        // REQUEST_ABORTED
    (0xC000_0241, WsaError::WSAECONNABORTED), // CONNECTION_ABORTED
    (0xC000_02C5, WsaError::WSAEFAULT),       // DATATYPE_MISALIGNMENT_ERROR
    (0xC000_0350, WsaError::WSAEHOSTDOWN),    // HOST_DOWN
    // A Win32 code wrapped as a status (FACILITY_WIN32 and the like).
    (0x8007_03E4, WsaError::WSA_IO_INCOMPLETE),
    (0xC001_03E4, WsaError::WSA_IO_INCOMPLETE),
    (0xC007_03E4, WsaError::WSA_IO_INCOMPLETE),
];

/// Turns a libc return value of `-1` into the thread's `errno` as an [`io::Error`]: the
/// crate's one path from a syscall to an error.
pub(crate) fn cvt(ret: libc::c_int) -> io::Result<libc::c_int> {
    if ret == -1 {
        Err(io::Error::last_os_error())
    } else {
        Ok(ret)
    }
}

/// [`cvt`] for `ssize_t` results.
pub(crate) fn cvt_size(ret: libc::ssize_t) -> io::Result<usize> {
    if ret < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(ret.unsigned_abs())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn families_derive_from_one_status() {
        let s = NtStatus::from_errno(libc::ECONNRESET);
        assert_eq!(s.to_wsa(), Some(WsaError::WSAECONNRESET));
        assert_eq!(s.to_win32(), win32::ERROR_NETNAME_DELETED);
        let c = NtStatus::CANCELLED;
        assert_eq!(c.to_wsa(), Some(WsaError::WSA_OPERATION_ABORTED));
        assert_eq!(c.to_win32(), win32::ERROR_OPERATION_ABORTED);
        let r = NtStatus::from_errno(libc::ECONNREFUSED);
        assert_eq!(r.to_win32(), win32::ERROR_CONNECTION_REFUSED);
        assert_eq!(
            NtStatus::PENDING.to_wsa(),
            Some(WsaError::WSA_IO_INCOMPLETE)
        );
        assert_eq!(NtStatus::SUCCESS.to_wsa(), None);
    }

    #[test]
    fn errno_without_status_round_trips() {
        let s = NtStatus::from_errno(libc::EADDRINUSE);
        assert_eq!(s.to_wsa(), Some(WsaError::WSAEADDRINUSE));
        assert_eq!(s.to_win32(), WsaError::WSAEADDRINUSE.code());
        assert!(!s.is_success());
    }

    #[test]
    fn display_names_the_constant() {
        let text = WsaError::WSAECONNRESET.to_string();
        assert!(
            text.contains("WSAECONNRESET") && text.contains("10054"),
            "{text}"
        );
    }
}
