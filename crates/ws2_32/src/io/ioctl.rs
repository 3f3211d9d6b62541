//! `WSAIoctl`, and the extension-function table behind
//! `SIO_GET_EXTENSION_FUNCTION_POINTER`.

#[allow(clippy::wildcard_imports)]
use super::extensions::*;
#[allow(clippy::wildcard_imports)]
use super::*;

fn extension(guid: &GUID) -> Option<usize> {
    use crate::types::*;
    let f: usize = if *guid == WSAID_ACCEPTEX {
        AcceptEx as *const () as usize
    } else if *guid == WSAID_GETACCEPTEXSOCKADDRS {
        GetAcceptExSockaddrs as *const () as usize
    } else if *guid == WSAID_CONNECTEX {
        ConnectEx as *const () as usize
    } else if *guid == WSAID_DISCONNECTEX {
        DisconnectEx as *const () as usize
    } else if *guid == WSAID_TRANSMITFILE {
        TransmitFile as *const () as usize
    } else if *guid == WSAID_TRANSMITPACKETS {
        transmit_packets as *const () as usize
    } else if *guid == WSAID_WSARECVMSG {
        wsa_recv_msg as *const () as usize
    } else if *guid == WSAID_WSASENDMSG {
        wsa_send_msg as *const () as usize
    } else {
        return None;
    };
    Some(f)
}

/// `int WSAIoctl(SOCKET s, DWORD dwIoControlCode, LPVOID lpvInBuffer, DWORD cbInBuffer,
/// LPVOID lpvOutBuffer, DWORD cbOutBuffer, LPDWORD lpcbBytesReturned, LPWSAOVERLAPPED
/// lpOverlapped, LPWSAOVERLAPPED_COMPLETION_ROUTINE lpCompletionRoutine)`.
///
/// Supported: `SIO_GET_EXTENSION_FUNCTION_POINTER` (AcceptEx, GetAcceptExSockaddrs,
/// ConnectEx, DisconnectEx, WSARecvMsg, WSASendMsg; TransmitFile and TransmitPackets
/// resolve to functions that fail with `WSAEOPNOTSUPP`; an unknown GUID gives
/// `WSAEINVAL`), `FIONBIO`, `FIONREAD`, `SIOCATMARK`, `SIO_KEEPALIVE_VALS`. With an
/// overlapped record a supported request returns 0 and still notifies (0 bytes); an
/// unsupported one pends and completes with `WSAEOPNOTSUPP`; without, it fails at once
/// with `WSAEOPNOTSUPP`. Overlapped with a NULL `lpcbBytesReturned`: `WSAEFAULT`.
///
/// Parameters: the socket, the control code, the input and output buffers with their sizes, where to write the output size, an optional `OVERLAPPED` and routine.
/// Returns: 0 (done; with an `OVERLAPPED` the notification is still delivered, 0 bytes), or `SOCKET_ERROR` with `WSA_IO_PENDING` or the error (`WSAEFAULT`, `WSAEINVAL`, `WSAEOPNOTSUPP`, `WSAENOTSOCK`).
/// Memory and lifetimes: the buffers are used during the call only; `*lpOverlapped` must stay valid until the completion is observed.
///
/// # Safety
/// The buffers must hold their stated sizes; `lpOverlapped` null or valid until the
/// completion is observed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn WSAIoctl(
    s: SOCKET,
    code: DWORD,
    input: *const u8,
    in_len: DWORD,
    output: *mut u8,
    out_len: DWORD,
    returned: *mut DWORD,
    ov: *mut OVERLAPPED,
    routine: Option<CompletionRoutine>,
) -> i32 {
    ws_guard(SOCKET_ERROR, || {
        started()?;
        let e = handles::socket(s)?;
        // A NULL size is WSAEFAULT, overlapped or not (Wine's tests: FIONREAD, SIOCATMARK,
        // SIO_KEEPALIVE_VALS, SIO_ADDRESS_LIST_QUERY, SIO_GET_INTERFACE_LIST).
        if returned.is_null() {
            return Err(err(WsaError::WSAEFAULT));
        }
        handles::check_opt_out(returned)?;
        if !ov.is_null() {
            handles::check_out(ov)?;
        }
        let in_u32 = || -> Result<u32, u32> {
            if in_len < 4 || !handles::readable(input, 4) {
                return Err(err(WsaError::WSAEFAULT));
            }
            // SAFETY: 4 readable bytes (checked; the contract).
            Ok(unsafe { input.cast::<u32>().read_unaligned() })
        };
        let write_out = |bytes: &[u8]| -> Result<(), u32> {
            if (out_len as usize) < bytes.len() || !handles::writable(output, bytes.len()) {
                return Err(err(WsaError::WSAEFAULT));
            }
            // SAFETY: `out_len` writable bytes (checked; the contract).
            unsafe { std::ptr::copy_nonoverlapping(bytes.as_ptr(), output, bytes.len()) };
            // SAFETY: a null or valid count pointer (the contract).
            unsafe { write_count(returned, bytes.len()) };
            Ok(())
        };
        let request = match code {
            c::SIO_GET_EXTENSION_FUNCTION_POINTER => {
                if (in_len as usize) < size_of::<GUID>()
                    || !handles::readable(input, size_of::<GUID>())
                {
                    return Err(err(WsaError::WSAEFAULT));
                }
                // SAFETY: a readable GUID (checked; the contract).
                let guid = unsafe { input.cast::<GUID>().read_unaligned() };
                let f = extension(&guid).ok_or(err(WsaError::WSAEINVAL))?;
                write_out(&f.to_ne_bytes())?;
                Ioctl::Done
            }
            c::FIONBIO => {
                let on = in_u32()? != 0;
                // A socket under WSAEventSelect stays non-blocking (Windows: WSAEINVAL).
                if !on && crate::events::event_select_active(&e) {
                    // SAFETY: a null or valid count pointer (the contract).
                    unsafe { write_count(returned, 0) };
                    return Err(err(WsaError::WSAEINVAL));
                }
                Ioctl::FionBio(on)
            }
            c::FIONREAD => Ioctl::FionRead,
            c::SIOCATMARK => {
                write_out(&crate::ioctls::at_mark(&e).to_ne_bytes())?;
                Ioctl::Done
            }
            crate::ioctls::SIO_ADDRESS_LIST_QUERY => {
                // SAFETY: `returned` non-null and writable, `ov` null or writable (checked above).
                unsafe { crate::ioctls::address_list_query(&e, output, out_len, returned)? }
            }
            crate::ioctls::SIO_GET_INTERFACE_LIST => {
                // SAFETY: `returned` non-null and writable, `ov` null or writable (checked above).
                unsafe { crate::ioctls::interface_list(output, out_len, returned, ov)? }
            }
            crate::ioctls::SIO_ROUTING_INTERFACE_QUERY => {
                // SAFETY: `returned` non-null and writable, `ov` null or writable (checked above).
                unsafe {
                    crate::ioctls::routing_interface_query(
                        input, in_len, output, out_len, returned,
                    )?
                }
            }
            crate::ioctls::SIO_IDEAL_SEND_BACKLOG_QUERY => {
                // SAFETY: `returned` non-null and writable, `ov` null or writable (checked above).
                unsafe { crate::ioctls::ideal_send_backlog(&e, output, out_len, returned)? }
            }
            c::SIO_BASE_HANDLE
            | crate::ioctls::SIO_BSP_HANDLE
            | crate::ioctls::SIO_BSP_HANDLE_SELECT
            | crate::ioctls::SIO_BSP_HANDLE_POLL => {
                // SAFETY: `returned` non-null and writable, `ov` null or writable (checked above).
                unsafe { crate::ioctls::base_handle(code, s, output, out_len, returned, ov)? }
            }
            crate::ioctls::SIO_ENABLE_CIRCULAR_QUEUEING => {
                // SAFETY: a null or valid count pointer (the contract).
                unsafe { write_count(returned, 0) };
                Ioctl::Done
            }
            crate::ioctls::SIO_ADDRESS_LIST_CHANGE => Ioctl::AddressListChange,
            c::SIO_KEEPALIVE_VALS => {
                if (in_len as usize) < size_of::<tcp_keepalive>()
                    || !handles::readable(input, size_of::<tcp_keepalive>())
                {
                    // SAFETY: `returned` non-null and writable, `ov` null or writable.
                    return Err(unsafe { crate::ioctls::keepalive_bad_input(returned, ov) });
                }
                // SAFETY: a readable tcp_keepalive (checked; the contract).
                let k = unsafe { input.cast::<tcp_keepalive>().read_unaligned() };
                Ioctl::KeepAlive {
                    enabled: k.onoff != 0,
                    time: std::time::Duration::from_millis(k.keepalivetime.into()),
                    interval: std::time::Duration::from_millis(k.keepaliveinterval.into()),
                }
            }
            other => Ioctl::Unsupported(other),
        };
        if ov.is_null() {
            if matches!(request, Ioctl::Unsupported(_)) {
                // SAFETY: a null or valid count pointer (the contract).
                unsafe { write_count(returned, 0) };
            }
            let out = request.run(&e.sock).map_err(err)?;
            match out {
                IoctlOutput::Value(v) => write_out(&v.to_ne_bytes())?,
                // SAFETY: a null or valid count pointer (the contract).
                IoctlOutput::None if !matches!(request, Ioctl::Done) => unsafe {
                    write_count(returned, 0)
                },
                IoctlOutput::None => {}
            }
            return Ok(0);
        }
        if let Ioctl::FionRead = request {
            // Run it now so the value is in the caller's buffer before the notification.
            if let IoctlOutput::Value(v) = request.run(&e.sock).map_err(err)? {
                write_out(&v.to_ne_bytes())?;
            }
            // SAFETY: the contract.
            unsafe { notify_done(&e, ov, routine) }?;
            return Ok(0);
        }
        let mode = routine.map_or(Mode::Event, Mode::Routine);
        // SAFETY: the contract.
        let p = unsafe { prepare(&e, ov, mode) }?;
        let res = match routine {
            Some(r) => request
                .on(&e.sock)
                .post_with_routine(&p.ov, routine_adapter(r, ov, |_| {})),
            None => request
                .on(&e.sock)
                .post_with_thread_callback(&p.ov, p.callback(|_| {})),
        };
        match res {
            Ok(Status::Immediate(_)) => {
                p.keep(true);
                // SIO_KEEPALIVE_VALS leaves the size alone unless a routine is given
                // (Wine's test_keepalive_vals).
                let keep_size = matches!(request, Ioctl::KeepAlive { .. }) && routine.is_none();
                if !matches!(request, Ioctl::Done) && !keep_size {
                    // SAFETY: a null or valid count pointer (the contract).
                    unsafe { write_count(returned, 0) };
                }
                Ok(0)
            }
            other => finish(&p, other, std::ptr::null_mut(), std::ptr::null_mut()),
        }
    })
}
