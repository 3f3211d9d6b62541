//! The extension functions that `WSAIoctl(SIO_GET_EXTENSION_FUNCTION_POINTER)` hands
//! out: `AcceptEx`, `GetAcceptExSockaddrs`, `ConnectEx`, `DisconnectEx`, `TransmitFile`.

#[allow(clippy::wildcard_imports)]
use super::*;

/// Writes one AcceptEx address block: `[i32 length][Windows sockaddr]`.
///
/// # Safety
/// `at` must be the address of `room` writable bytes.
pub(super) unsafe fn write_block(at: usize, room: usize, a: Option<SocketAddr>) {
    let Some(a) = a else { return };
    let bytes = addr::encode(&a);
    if room < bytes.len() + 4 {
        return;
    }
    let len = i32::try_from(bytes.len()).unwrap_or(0).to_ne_bytes();
    // SAFETY: the AcceptEx contract: the output buffer holds `room` writable bytes at
    // `at` until the completion is observed (checked to fit above).
    let block = unsafe { std::slice::from_raw_parts_mut(at as *mut u8, 4 + bytes.len()) };
    block[..4].copy_from_slice(&len);
    block[4..].copy_from_slice(&bytes);
}

/// `BOOL AcceptEx(SOCKET sListenSocket, SOCKET sAcceptSocket, PVOID lpOutputBuffer,
/// DWORD dwReceiveDataLength, DWORD dwLocalAddressLength, DWORD dwRemoteAddressLength,
/// LPDWORD lpdwBytesReceived, LPOVERLAPPED lpOverlapped)`.
///
/// Accepts into `sAcceptSocket`. The output buffer receives the first
/// `dwReceiveDataLength` bytes of data (the operation then completes only when data
/// arrives, or with 0 bytes if the peer closes first), then the local and the remote
/// address blocks; read them with [`GetAcceptExSockaddrs`]. Each address length should be
/// at least the address size + 16 (a local length of 0 asks for no local address); a
/// smaller one still pends, then completes with `STATUS_BUFFER_TOO_SMALL`
/// (`ERROR_INSUFFICIENT_BUFFER`) and leaves the connection queued, as Windows does. Returns TRUE on immediate completion (writing
/// `*lpdwBytesReceived`), else FALSE with `ERROR_IO_PENDING` or an error:
/// `WSAENOTSOCK`, `WSA_INVALID_PARAMETER` (NULL `lpOverlapped`), `WSAEFAULT` (NULL
/// buffer, remote address length 0), `WSAEINVAL` (not listening, acceptor bound,
/// connected or already the target of a pending AcceptEx). `Internal` is set to
/// `STATUS_PENDING` at entry, even on immediate failure, as Windows does.
///
/// Parameters: the listening socket, an unbound unconnected acceptor socket, the output buffer and the three lengths, where to write the count, the `OVERLAPPED` (required).
/// Memory and lifetimes: the output buffer and `*lpOverlapped` must stay valid until the completion is observed; the addresses are written before the notification.
///
/// # Safety
/// The output buffer must hold `dwReceiveDataLength + dwLocalAddressLength +
/// dwRemoteAddressLength` writable bytes and, with `*lpOverlapped`, stay valid until the
/// completion is observed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn AcceptEx(
    listen: SOCKET,
    accept: SOCKET,
    out: *mut u8,
    recv_len: DWORD,
    local_len: DWORD,
    remote_len: DWORD,
    received: *mut DWORD,
    ov: *mut OVERLAPPED,
) -> BOOL {
    ws_guard(FALSE, || {
        started()?;
        // SAFETY: `ov` comes from the caller, under the function's contract.
        unsafe { mark_pending_at_entry(ov) }?;
        let fail = |code: u32| -> Result<BOOL, u32> { Err(code) };
        let l = handles::socket(listen)?;
        let a = handles::socket(accept)?;
        if out.is_null() {
            return fail(err(WsaError::WSAEFAULT));
        }
        let need = if a.sock.family() == overlapped::Family::V6 {
            28 + 16
        } else {
            16 + 16
        };
        // Windows: no room at all for the remote address fails at once; a local length
        // of 0 asks for no local address; any other length below the address size + 16
        // pends and completes with STATUS_BUFFER_TOO_SMALL, the connection left queued.
        if remote_len == 0 {
            return fail(err(WsaError::WSAEFAULT));
        }
        let too_small = remote_len < need || (local_len != 0 && local_len < need);
        // SAFETY: the contract: `ov` valid until completion.
        let p = unsafe { prepare(&l, ov, Mode::Event) }?;
        let base = out as usize + recv_len as usize;
        let (ll, rl) = (local_len as usize, remote_len as usize);
        let mut op = Accept::new(&l.sock, &a.sock).on_addresses(move |local, remote| {
            // SAFETY: inside the AcceptEx output buffer, valid until completion (the contract).
            unsafe { write_block(base, ll, local) };
            // SAFETY: inside the AcceptEx output buffer, valid until completion (the contract).
            unsafe { write_block(base + ll, rl, remote) };
        });
        if too_small {
            op = op.too_small_for_addresses();
        }
        let res = if recv_len > 0 {
            // SAFETY: the contract: `recv_len` writable bytes until completion.
            let buf = unsafe { RawBuf::new(out, recv_len as usize) };
            op.receive(buf)
                .post_with_thread_callback(&p.ov, p.callback(|_| {}))
        } else {
            op.post_with_thread_callback(&p.ov, p.callback(|_| {}))
        };
        // SAFETY: `received` is null or a valid count pointer (the contract).
        unsafe { finish_ex(&p, res, received, Some(c::STATUS_PENDING)) }
    })
}

/// `void GetAcceptExSockaddrs(PVOID lpOutputBuffer, DWORD dwReceiveDataLength, DWORD
/// dwLocalAddressLength, DWORD dwRemoteAddressLength, struct sockaddr
/// **LocalSockaddr, LPINT LocalSockaddrLength, struct sockaddr **RemoteSockaddr, LPINT
/// RemoteSockaddrLength)`: points into the buffer that a completed [`AcceptEx`] filled.
/// Pointers stay untouched where a block holds no address.
///
/// Parameters: the AcceptEx output buffer and the same three lengths, where to write the two address pointers and sizes.
/// Returns: nothing; the pointers point into the output buffer.
/// Memory and lifetimes: the returned pointers are valid as long as the output buffer is.
///
/// # Safety
/// The buffer must be the one given to a completed AcceptEx with the same lengths; the
/// out pointers must be valid.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn GetAcceptExSockaddrs(
    out: *mut u8,
    recv_len: DWORD,
    local_len: DWORD,
    remote_len: DWORD,
    local: *mut *mut u8,
    local_size: *mut i32,
    remote: *mut *mut u8,
    remote_size: *mut i32,
) {
    guard((), || {
        if out.is_null() {
            return Ok(());
        }
        let read = |at: *mut u8, room: DWORD, p: *mut *mut u8, n: *mut i32| {
            if room < 4 {
                return;
            }
            // SAFETY: the block lies inside the caller's buffer (the contract).
            let len = unsafe { at.cast::<i32>().read_unaligned() };
            if len <= 0 || len as u64 + 4 > u64::from(room) {
                return;
            }
            if !p.is_null() {
                // SAFETY: valid out pointer (the contract); the address follows the length.
                unsafe { p.write(at.wrapping_add(4)) };
            }
            if !n.is_null() {
                // SAFETY: valid out pointer (the contract).
                unsafe { n.write(len) };
            }
        };
        // SAFETY: offsets within the caller's buffer (the contract).
        let (l, r) = (
            out.wrapping_add(recv_len as usize),
            out.wrapping_add(recv_len as usize + local_len as usize),
        );
        read(l, local_len, local, local_size);
        read(r, remote_len, remote, remote_size);
        Ok(())
    })
}

/// `BOOL ConnectEx(SOCKET s, const struct sockaddr *name, int namelen, PVOID
/// lpSendBuffer, DWORD dwSendDataLength, LPDWORD lpdwBytesSent, LPOVERLAPPED
/// lpOverlapped)`, obtained through `SIO_GET_EXTENSION_FUNCTION_POINTER`. The socket must
/// be bound. Refused: completes with `ERROR_CONNECTION_REFUSED` (Win32) /
/// `WSAECONNREFUSED` (WSA). Errors at once: `WSA_INVALID_PARAMETER` (NULL overlapped),
/// `WSAENOTSOCK`, `WSAEINVAL` (unbound, listening, connect under way), `WSAEISCONN`.
///
/// Parameters: a bound stream socket, the destination, an optional first-data buffer, where to write the count, the `OVERLAPPED` (required).
/// Returns: TRUE on completion during the call, else FALSE with `ERROR_IO_PENDING` or the error.
/// Memory and lifetimes: the destination and the send buffer are read during the call; `*lpOverlapped` must stay valid until the completion is observed.
///
/// # Safety
/// `name` must point to `namelen` bytes, the send buffer to `dwSendDataLength` bytes;
/// `*lpOverlapped` must stay valid until the completion is observed.
// Exported as `ws2_ConnectEx`, not under its Windows name: Windows declares no such function
// (programs get it through SIO_GET_EXTENSION_FUNCTION_POINTER), so programs often name
// their own pointer variable `ConnectEx`, which would clash with an exported symbol.
#[unsafe(export_name = "ws2_ConnectEx")]
#[allow(non_snake_case)] // the Winsock name, kept for the docs and the GUID table
pub unsafe extern "C" fn ConnectEx(
    s: SOCKET,
    name: *const u8,
    namelen: i32,
    send_buf: *mut u8,
    send_len: DWORD,
    sent: *mut DWORD,
    ov: *mut OVERLAPPED,
) -> BOOL {
    ws_guard(FALSE, || {
        started()?;
        // SAFETY: `ov` comes from the caller, under the function's contract.
        unsafe { mark_pending_at_entry(ov) }?;
        let e = handles::socket(s)?;
        // SAFETY: the contract.
        let to = unsafe { addr::read(name, namelen) }?;
        if send_buf.is_null() && send_len > 0 {
            return Err(err(WsaError::WSAEFAULT));
        }
        // SAFETY: the contract.
        let p = unsafe { prepare(&e, ov, Mode::Event) }?;
        let res = if send_len > 0 {
            if !handles::readable(send_buf, send_len as usize) {
                return Err(err(WsaError::WSAEFAULT));
            }
            // Taken at the call, as Windows does: the caller may reuse the buffer as soon
            // as ConnectEx returns (Wine's test_connect clears it before the connect ends).
            // SAFETY: `send_len` readable bytes (checked above).
            let data =
                unsafe { std::slice::from_raw_parts(send_buf.cast_const(), send_len as usize) }
                    .to_vec();
            Connect::new(&e.sock, to)
                .send(data)
                .post_with_thread_callback(&p.ov, p.callback(|_| {}))
        } else {
            Connect::new(&e.sock, to).post_with_thread_callback(&p.ov, p.callback(|_| {}))
        };
        // SAFETY: `sent` is null or a valid count pointer (the contract).
        unsafe { finish_ex(&p, res, sent, Some(c::STATUS_PENDING)) }
    })
}

/// Posts an already-done request so that its notification is delivered (event set,
/// routine queued) as Windows does for a synchronous success with an overlapped record.
///
/// # Safety
/// `ov` must be valid until the completion is observed.
pub(super) unsafe fn notify_done(
    entry: &SockEntry,
    ov: *mut OVERLAPPED,
    routine: Option<CompletionRoutine>,
) -> Result<(), u32> {
    let mode = routine.map_or(Mode::Event, Mode::Routine);
    // SAFETY: the contract.
    let p = unsafe { prepare(entry, ov, mode) }?;
    let res = match routine {
        Some(r) => Ioctl::Done
            .on(&entry.sock)
            .post_with_routine(&p.ov, routine_adapter(r, ov, |_| {})),
        None => Ioctl::Done
            .on(&entry.sock)
            .post_with_thread_callback(&p.ov, p.callback(|_| {})),
    };
    match res {
        Ok(st) => {
            p.keep(matches!(st, Status::Immediate(_)));
            Ok(())
        }
        Err(e) => {
            p.failed(None);
            Err(err(e))
        }
    }
}

/// `BOOL DisconnectEx(SOCKET s, LPOVERLAPPED lpOverlapped, DWORD dwFlags, DWORD
/// dwReserved)`: shuts the sending side down (the socket still receives, as on
/// Windows); without a record it completes at once, with one it reports
/// `ERROR_IO_PENDING` and completes through the record's notification (event, port
/// packet). `WSAENOTCONN` if not connected. `TF_REUSE_SOCKET` is accepted but the
/// socket cannot be reused for AcceptEx/ConnectEx afterwards (see the crate's
/// `# Compatibility`).
///
/// Parameters: a connected socket, an optional `OVERLAPPED`, flags (`TF_REUSE_SOCKET` accepted), reserved.
/// Returns: TRUE (no record), or FALSE with `ERROR_IO_PENDING`, `WSAENOTCONN`, `WSAENOTSOCK`.
/// Memory and lifetimes: `*lpOverlapped` must stay valid until the completion is observed.
///
/// # Safety
/// `lpOverlapped` null or valid until the completion is observed.
// Exported as `ws2_DisconnectEx`, not under its Windows name: Windows declares no such function
// (programs get it through SIO_GET_EXTENSION_FUNCTION_POINTER), so programs often name
// their own pointer variable `DisconnectEx`, which would clash with an exported symbol.
#[unsafe(export_name = "ws2_DisconnectEx")]
#[allow(non_snake_case)] // the Winsock name, kept for the docs and the GUID table
pub unsafe extern "C" fn DisconnectEx(
    s: SOCKET,
    ov: *mut OVERLAPPED,
    _flags: DWORD,
    _reserved: DWORD,
) -> BOOL {
    ws_guard(FALSE, || {
        started()?;
        let e = handles::socket(s)?;
        // Windows ends the sending side only: the socket still receives what the peer
        // sends (Wine's test_DisconnectEx).
        e.sock.shutdown(Shutdown::Send).map_err(err)?;
        if ov.is_null() {
            return Ok(TRUE);
        }
        // With a record, Windows reports it pending and then completes it (its packet
        // is queued even with FILE_SKIP_COMPLETION_PORT_ON_SUCCESS).
        // SAFETY: the contract.
        let p = unsafe { prepare(&e, ov, Mode::Event) }?;
        let later = Ioctl::Later {
            status: NtStatus::SUCCESS,
            bytes: 0,
        };
        let res = later
            .on(&e.sock)
            .post_with_thread_callback(&p.ov, p.callback(|_| {}));
        // SAFETY: no count pointer.
        unsafe { finish_ex(&p, res, std::ptr::null_mut(), None) }
    })
}

/// `TRANSMIT_FILE_BUFFERS`: data sent before and after the file.
#[repr(C)]
#[derive(Debug)]
pub struct TRANSMIT_FILE_BUFFERS {
    /// `Head`.
    pub head: *mut u8,
    /// `HeadLength`.
    pub head_len: DWORD,
    /// `Tail`.
    pub tail: *mut u8,
    /// `TailLength`.
    pub tail_len: DWORD,
}
const _: () = assert!(size_of::<TRANSMIT_FILE_BUFFERS>() == 32);

/// `BOOL TransmitFile(SOCKET hSocket, HANDLE hFile, DWORD nNumberOfBytesToWrite, DWORD
/// nNumberOfBytesPerSend, LPOVERLAPPED lpOverlapped, LPTRANSMIT_FILE_BUFFERS
/// lpTransmitBuffers, DWORD dwReserved)`, also reachable through
/// `SIO_GET_EXTENSION_FUNCTION_POINTER`: with `hFile` NULL, sends the head and tail
/// buffers as one gathered `WSASend` (overlapped when `lpOverlapped` is given, completing
/// through its event). `TF_DISCONNECT` shuts the sending side down after a synchronous
/// send.
///
/// Returns TRUE on completion during the call, FALSE with `ERROR_IO_PENDING`, or FALSE
/// with `WSAEOPNOTSUPP` for a non-NULL `hFile` (this ABI has no file handles), or the
/// `WSASend` errors.
/// Memory and lifetimes: the buffers and `*lpOverlapped` must stay valid until the
/// completion is observed.
///
/// Parameters: a connected socket, `hFile` (must be NULL), byte counts (ignored), an optional `OVERLAPPED`, the head/tail buffers, `TF_DISCONNECT`.
///
/// # Safety
/// `lpTransmitBuffers` null or valid; its buffers readable for their lengths.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn TransmitFile(
    s: SOCKET,
    file: HANDLE,
    _n: DWORD,
    _per_send: DWORD,
    ov: *mut OVERLAPPED,
    buffers: *mut TRANSMIT_FILE_BUFFERS,
    flags: DWORD,
) -> BOOL {
    ws_guard(FALSE, || {
        started()?;
        let e = handles::socket(s)?;
        if !file.is_null() {
            return Err(err(WsaError::WSAEOPNOTSUPP));
        }
        let mut bufs = Vec::with_capacity(2);
        // SAFETY: null or valid (the contract).
        if let Some(tb) = unsafe { buffers.as_ref() } {
            if tb.head_len > 0 {
                bufs.push(WSABUF {
                    len: tb.head_len,
                    buf: tb.head,
                });
            }
            if tb.tail_len > 0 {
                bufs.push(WSABUF {
                    len: tb.tail_len,
                    buf: tb.tail,
                });
            }
        }
        if bufs.is_empty() {
            bufs.push(WSABUF {
                len: 0,
                buf: std::ptr::null_mut(),
            });
        }
        let count = u32::try_from(bufs.len()).unwrap_or(1);
        let mut sent: DWORD = 0;
        // SAFETY: the WSABUF array is captured before `transfer` returns; the buffers
        // and `ov` are the caller's, under the same contract as WSASend's.
        let r = unsafe {
            transfer(
                s,
                bufs.as_ptr(),
                count,
                &raw mut sent,
                0,
                std::ptr::null_mut(),
                ov,
                None,
                Op::Send,
            )
        };
        match r {
            Ok(_) => {
                if flags & 0x01 != 0 {
                    let _ = e.sock.shutdown(Shutdown::Send);
                }
                Ok(TRUE)
            }
            Err(code) if code == err(WsaError::WSA_IO_PENDING) => Err(win32::ERROR_IO_PENDING),
            Err(code) => Err(code),
        }
    })
}

/// `TransmitPackets`: not supported; fails with `WSAEOPNOTSUPP`.
///
/// # Safety
/// Reads nothing.
pub(super) unsafe extern "C" fn transmit_packets(
    _s: SOCKET,
    _packets: *mut libc::c_void,
    _count: DWORD,
    _per_send: DWORD,
    _ov: *mut OVERLAPPED,
    _flags: DWORD,
) -> BOOL {
    set_last_error(err(WsaError::WSAEOPNOTSUPP));
    FALSE
}

/// `WSARecvMsg` (extension function): a WSARecvFrom into the message's buffers and
/// name that also gives the control data (`IP_PKTINFO`, `IP_TTL`, `IP_TOS`,
/// `IPV6_PKTINFO`, `IPV6_HOPLIMIT`, `IPV6_TCLASS`, in `WSACMSGHDR` layout) in
/// `Control`, and the message flags (`MSG_TRUNC`, `MSG_CTRUNC`) in `dwFlags`. Control
/// data that does not fit: `WSAEMSGSIZE` (`STATUS_BUFFER_OVERFLOW`) with `MSG_CTRUNC`,
/// the datagram received whole and counted. The message's outputs are written at
/// completion, before the notification; `*lpMsg` must stay valid until then.
///
/// # Safety
/// As [`WSARecvFrom`] for the message's members.
pub(super) unsafe extern "C" fn wsa_recv_msg(
    s: SOCKET,
    msg: *mut WSAMSG,
    received: *mut DWORD,
    ov: *mut OVERLAPPED,
    routine: Option<CompletionRoutine>,
) -> i32 {
    // As on Windows: WSANOTINITIALISED, then WSAENOTSOCK, then the parameters.
    if let Err(code) = started().and_then(|()| handles::socket(s).map(drop)) {
        set_last_error(code);
        return SOCKET_ERROR;
    }
    ws_guard(SOCKET_ERROR, || {
        let e = handles::socket(s)?;
        if msg.is_null() {
            return Err(err(WsaError::WSAEFAULT));
        }
        handles::check_out(msg)?;
        // SAFETY: checked readable and writable; valid until completion (the contract).
        let m = unsafe { &*msg };
        let (name, bufs, count, flags) = (m.name, m.buffers, m.count, m.flags);
        // Too small a name buffer fails now, not after the datagram was taken.
        // SAFETY: as above; `name` null or valid for `namelen` bytes.
        unsafe { addr::check_room(e.sock.family(), name, &raw const m.namelen) }?;
        let op = Op::RecvMsg(msg as usize);
        // SAFETY: the contract; the message's outputs (name, `Control.len`, `dwFlags`)
        // are written at completion, before the notification.
        ret(unsafe {
            transfer(
                s,
                bufs,
                count,
                received,
                flags,
                std::ptr::null_mut(),
                ov,
                routine,
                op,
            )
        })
    })
}

/// `WSASendMsg` (extension function): a WSASendTo of the message's buffers (control
/// data is ignored).
///
/// # Safety
/// As [`WSASendTo`] for the message's members.
pub(super) unsafe extern "C" fn wsa_send_msg(
    s: SOCKET,
    msg: *mut WSAMSG,
    flags: DWORD,
    sent: *mut DWORD,
    ov: *mut OVERLAPPED,
    routine: Option<CompletionRoutine>,
) -> i32 {
    // As on Windows: WSANOTINITIALISED, then WSAENOTSOCK, then the parameters.
    if let Err(code) = started().and_then(|()| handles::socket(s).map(drop)) {
        set_last_error(code);
        return SOCKET_ERROR;
    }
    if msg.is_null() {
        set_last_error(err(WsaError::WSAEFAULT));
        return SOCKET_ERROR;
    }
    if handles::socket(s).is_ok_and(|e| e.sock.is_stream()) {
        // Windows: WSASendMsg is for datagram sockets only (Wine's tests).
        set_last_error(err(WsaError::WSAEINVAL));
        return SOCKET_ERROR;
    }
    if let Ok(e) = handles::socket(s) {
        // Windows binds an unbound datagram socket (wildcard address, a free port) as
        // soon as WSASendMsg has a message, before the other parameters are checked: a
        // call that then fails leaves it bound too.
        bind_if_unbound(&e.sock);
    }
    // SAFETY: non-null and valid (the contract).
    let m = unsafe { &*msg };
    if m.name.is_null() {
        // SAFETY: forwarded contract.
        return unsafe { WSASend(s, m.buffers, m.count, sent, flags, ov, routine) };
    }
    // SAFETY: forwarded contract.
    unsafe {
        WSASendTo(
            s, m.buffers, m.count, sent, flags, m.name, m.namelen, ov, routine,
        )
    }
}

/// Binds `sock` to the wildcard address and a free port if it has no local address yet.
pub(super) fn bind_if_unbound(sock: &overlapped::Socket) {
    if let Ok(a) = sock.local_addr()
        && a.port() == 0
        && a.ip().is_unspecified()
    {
        // A failure leaves it unbound; the send then reports what Linux says.
        let _ = sock.bind(SocketAddr::new(a.ip(), 0));
    }
}

/// The `BOOL` convention of the extension functions (`AcceptEx`, `ConnectEx`,
/// `DisconnectEx`): TRUE with the count written when the post completed at once, else
/// FALSE with `ERROR_IO_PENDING` or the error; on an immediate failure `Internal`
/// becomes `internal_on_failure` (the value it had when `None`).
///
/// # Safety
/// `count` must be null or a valid `DWORD` pointer.
unsafe fn finish_ex(
    p: &Prepared,
    r: Result<Status, WsaError>,
    count: *mut DWORD,
    internal_on_failure: Option<usize>,
) -> Result<BOOL, u32> {
    match r {
        Ok(Status::Immediate(t)) => {
            p.keep(true);
            // SAFETY: a null or valid count pointer (the contract).
            unsafe { write_count(count, t.bytes) };
            Ok(TRUE)
        }
        Ok(Status::Pending) => {
            p.keep(false);
            Err(win32::ERROR_IO_PENDING)
        }
        Err(e) => {
            p.failed(internal_on_failure);
            Err(err(e))
        }
    }
}
