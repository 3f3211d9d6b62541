//! The C ABI's behaviour, one C program per rule of `winsock-semantics.md` (in
//! `tests/c/`), each compiled against `include/` and the library, and run here: it
//! prints `ok` and exits 0, or names the first check that failed.

mod common;

/// Immediate success still notifies (event set, routine queued); pending leaves the
/// count and `InternalHigh` alone with `Internal` = `STATUS_PENDING`; immediate failure
/// notifies nothing; a NULL `hEvent` signals the socket handle.
#[test]
fn immediate_vs_pending() {
    common::run_c_test("immediate_pending");
}

/// Routines run only in alertable waits, on the issuing thread, in order; non-alertable
/// waits never run them; alertable waits report `WAIT_IO_COMPLETION`.
#[test]
fn routines_only_in_alertable_waits() {
    common::run_c_test("alertable");
}

/// `WSA_IO_INCOMPLETE` from `WSAGetOverlappedResult(fWait=FALSE)`;
/// `HasOverlappedIoCompleted` on `Internal` sees a completion with no wait call;
/// `fWait=TRUE` blocks; a pending record reused takes a second request, as on
/// Windows; `CancelIoEx`.
#[test]
fn io_incomplete_and_internal() {
    common::run_c_test("io_incomplete");
}

/// 64 events at most (65 and 0 are `WSA_INVALID_PARAMETER`), lowest index wins,
/// `fWaitAll`, a bad handle in the array, auto-reset events.
#[test]
fn sixty_four_event_limit() {
    common::run_c_test("event_limit");
}

/// Extension functions by GUID, AcceptEx's output buffer and `GetAcceptExSockaddrs`,
/// ConnectEx with first data, DisconnectEx.
#[test]
fn acceptex_and_extensions() {
    common::run_c_test("acceptex");
}

/// `closesocket` (and `WSACleanup`) with operations pending complete them aborted
/// through their own notification.
#[test]
fn close_with_pending() {
    common::run_c_test("close_pending");
}

/// NULL pointers, bad handles, bad counts, and calls before `WSAStartup`.
#[test]
fn bad_inputs() {
    common::run_c_test("bad_inputs");
}

/// `inet_*`, byte order, `getaddrinfo` (Windows layout), `gethostbyname`, macros, IPv6.
#[test]
fn names_and_addresses() {
    common::run_c_test("names");
}

/// Datagrams: `WSARecvFrom`'s sender written before the event fires, gather
/// `WSASendTo`, truncation, `select`/`WSAPoll`, `WSASendMsg`/`WSARecvMsg`.
#[test]
fn datagrams() {
    common::run_c_test("datagram");
}

/// `WSAEventSelect` / `WSAEnumNetworkEvents`: `FD_READ`, `FD_CLOSE`, `FD_CONNECT`,
/// `FD_WRITE`, a refused connect's error code, the event reset.
#[test]
fn event_select() {
    common::run_c_test("event_select");
}

/// Completion ports and threads: packets for immediate success (none with
/// skip-on-success, a low-bit `hEvent` or an immediate failure), hand posts,
/// `GetQueuedCompletionStatusEx` (alertable too), timeouts, `CloseHandle(port)` waking a
/// waiter, a routine on an associated socket, AcceptEx to the listener's key, failed
/// operations, thread handles, ids, exit codes and the thread-exit rule.
#[test]
fn completion_ports_and_threads() {
    common::run_c_test("iocp");
}

/// kernel32 beside sockets: critical sections (recursion, contention, refusal of a
/// non-owner's leave), SRW locks (shared, exclusive, wrong-mode release), condition
/// variables with both (a producer/consumer queue, timeouts, re-entry at the old
/// depth), the heap and global/local memory (zeroing, sizes, foreign blocks refused),
/// the performance counter and `GetTickCount64`.
#[test]
fn win32_sync_memory_and_clocks() {
    common::run_c_test("win32_sync");
}

/// `SetConsoleCtrlHandler`: Ctrl+C and Ctrl+Break (SIGINT, SIGQUIT) reach the handlers
/// on another thread, most recent first, until one returns TRUE; removal; ignoring
/// Ctrl+C with a NULL handler. Then, in child processes: an unhandled SIGINT ends the
/// process by SIGINT, and a close event (SIGTERM) ends it by SIGTERM after the handler
/// returned TRUE.
#[test]
fn console_control_handlers() {
    use std::os::unix::process::ExitStatusExt;

    common::run_c_test("console");
    let bin = common::out_dir("console").join("console");
    for (mode, signal, printed) in [
        ("die", libc::SIGINT, None),
        ("close", libc::SIGTERM, Some("handler 2")),
    ] {
        let mut child = std::process::Command::new(&bin)
            .arg(mode)
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("spawning console");
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        let status = loop {
            if let Some(st) = child.try_wait().expect("try_wait") {
                break st;
            }
            if std::time::Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!("console {mode} did not end");
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        };
        let mut out = String::new();
        std::io::Read::read_to_string(&mut child.stdout.take().unwrap(), &mut out).unwrap();
        assert_eq!(
            status.signal(),
            Some(signal),
            "console {mode}: {status:?}, output:\n{out}"
        );
        assert!(!out.contains("survived"), "{out}");
        if let Some(p) = printed {
            assert!(
                out.contains(p),
                "console {mode} did not print {p:?}:\n{out}"
            );
        }
    }
}

/// What Microsoft's samples use besides the overlapped calls: `WSAAccept` with a
/// condition function (accept, reject, defer: the client sees the reset),
/// `getnameinfo` and `WSAAddressToString` (exact text, exact room), `GetStdHandle` and
/// `WriteConsole` (the line must reach stdout), `lstr*`, `min`/`max`, `MAX_PATH`,
/// `SUCCEEDED`/`FAILED`, and the C headers `<windows.h>` brings in.
#[test]
fn sample_program_apis() {
    let src = common::tests_dir().join("c").join("sample_apis.c");
    let out = common::out_dir("sample_apis").join("sample_apis");
    common::compile(
        &src,
        &out,
        false,
        &["-Wall", "-Wextra", "-Werror", "-std=gnu11"],
    );
    let (code, output) = common::Proc::spawn(&out, &[]).finish(std::time::Duration::from_secs(30));
    assert_eq!(code, 0, "sample_apis failed:\n{output}");
    assert!(output.lines().any(|l| l == "ok"), "{output}");
    assert!(
        output.lines().any(|l| l == "console line 42"),
        "WriteConsole's line did not reach stdout:\n{output}"
    );
    assert!(
        output
            .lines()
            .any(|l| l == "sample_apis: a message box line"),
        "MessageBox's text did not reach stderr:\n{output}"
    );
}

/// `<strsafe.h>`: every `StringCch*`/`StringCb*` function (A forms and the generic
/// names): exact fit, truncation with `STRSAFE_E_INSUFFICIENT_BUFFER` and a NUL, bad
/// sizes and NULL arguments refused without writing, N variants, Cat, Length, Printf.
#[test]
fn strsafe_string_functions() {
    common::run_c_test("strsafe");
}

/// What Wine's tests show Windows doing with socket state: a successful socket call
/// clears the last error (kernel32 calls do not); listen before bind is `WSAEINVAL`;
/// one address bound twice is `WSAEADDRINUSE`/`WSAEACCES`; accept on a socket that
/// does not listen fails at once; `CF_DEFER` keeps the connection for the next accept.
#[test]
fn socket_state() {
    common::run_c_test("socket_state");
}

/// kernel32 and ntdll pieces Wine's socket tests use: `QueueUserAPC` (APCs run in the
/// target thread's alertable waits only, in order, nested inside an alertable APC, and
/// reach a thread queued before it started), thread-local storage, `DuplicateHandle` of
/// events and threads (`DUPLICATE_CLOSE_SOURCE`), `GetModuleHandle`/`LoadLibrary`/
/// `GetProcAddress` (ws2_32's exports by their Windows names, ntdll's `NtClose`),
/// `WSASendDisconnect`/`WSARecvDisconnect`, `WSAEnumProtocols`, UTF-8 code pages.
#[test]
fn process_apis() {
    common::run_c_test("process_apis");
}

/// Socket options the way Wine's tests show Windows handling them: levels
/// (`WSAEINVAL`) and names (`WSAENOPROTOOPT`), option sizes (one-byte `BOOLEAN`s, 0-byte
/// `SOL_SOCKET` `BOOL`s, small IP integers, 4-byte receive flags), `SO_RCVBUF` as set,
/// `SO_REUSEADDR` vs `SO_EXCLUSIVEADDRUSE`, `SO_DEBUG`, `SO_ERROR`, `SO_LINGER`'s
/// `l_onoff`, `SO_MAX_MSG_SIZE`, `SO_PROTOCOL_INFOA`, `IPV6_V6ONLY` on by default,
/// `IP_DONTFRAGMENT`, `SO_OPENTYPE` on any handle.
#[test]
fn socket_options() {
    common::run_c_test("sockopt");
}

/// `VirtualAlloc`/`VirtualProtect`/`VirtualQuery`/`VirtualFree`: pages reserved and
/// committed, protections with their old values, a send from an inaccessible page is
/// `WSAEFAULT`, release by base only.
#[test]
fn virtual_memory() {
    common::run_c_test("vmem");
}

/// AcceptEx's address lengths as Windows (remote 0: WSAEFAULT; local 0: no local address;
/// too small: pends, completes with STATUS_BUFFER_TOO_SMALL, connection left queued) and
/// CancelIo freeing the record and the acceptor at once (Wine's test_AcceptEx).
#[test]
fn acceptex_address_lengths() {
    common::run_c_test("acceptex_lengths");
}

/// WSAIoctl's host and socket queries as Windows (Wine's ioctl tests): address list and
/// interface list size rules and overlapped forms, routing interface, send backlog, base
/// handle, address-list change parked until closesocket, SIOCATMARK with urgent data.
#[test]
fn ioctl_queries() {
    common::run_c_test("ioctls");
}

/// Synchronous calls and event-select as Wine's sock.c shows Windows: a `recv` withdraws
/// an `FD_READ` recorded and not yet reported; a connection ended on both sides still
/// reports `FD_READ`/`FD_CLOSE` (not `FD_ACCEPT`); `recvfrom` on a connected stream
/// socket leaves `from`/`fromlen` alone; `getpeername` of an unconnected socket is
/// `WSAENOTCONN` before any pointer check.
#[test]
fn sync_calls() {
    common::run_c_test("sync_calls");
}

/// `WSADuplicateSocketA`/`W` and `WSASocket` with the record: a second handle to the same
/// socket, which outlives the source; a record is good once.
#[test]
fn duplicate_socket() {
    common::run_c_test("duplicate");
}

/// A handle's low two bits are ignored: `hEvent | 1` is still the event for waits.
#[test]
fn handle_tag_bits() {
    common::run_c_test("handle_tag_bits");
}

/// Datagram sockets and their peer (Wine's test_connect_udp): `send` without a peer is
/// `WSAENOTCONN`, `recv` on an unbound socket `WSAEINVAL` at once, `connect` to an
/// `AF_UNSPEC` address dissolves the peer.
#[test]
fn udp_connect() {
    common::run_c_test("udp_connect");
}

/// The OVERLAPPED bookkeeping (Wine's test_WSAGetOverlappedResult and test_AcceptEx):
/// `Internal` is a 32-bit NTSTATUS (sign-extended negative values included) reported
/// through Windows' NTSTATUS -> WSA table, warnings as failures; an AcceptEx refused
/// because its OVERLAPPED is still pending leaves `Internal` = `STATUS_PENDING`.
#[test]
fn overlapped_status() {
    common::run_c_test("overlapped_status");
}

/// The connection life cycle (Wine's test_shutdown, test_DisconnectEx,
/// test_shutdown_completion_port, test_connect, test_connecting_socket, test_tcp_reset):
/// the peer outlives the connection, shutdown of an unconnected datagram socket succeeds,
/// DisconnectEx ends sending only and pends, connect on a listener is WSAEINVAL,
/// ConnectEx takes its data at the call, a connect under way makes recv/send
/// WSAENOTCONN, a reset stays POLLERR.
#[test]
fn conn_lifecycle() {
    common::run_c_test("conn_lifecycle");
}

/// Winsock's blocking calls wait alertably (Wine's test_select/test_WSARecv): an APC
/// queued to a thread blocked in `recv`, `WSARecv` or `select` runs during the call,
/// which goes on waiting; a call ready at once runs nothing.
#[test]
fn blocking_apc() {
    common::run_c_test("blocking_apc");
}

/// `socket`/`WSASocket` infer the type from the protocol and `AF_INET` from `AF_UNSPEC`,
/// with Windows' error codes and their order; raw sockets are `WSAEACCES`.
#[test]
fn socket_inference() {
    common::run_c_test("socket_inference");
}

/// WSARecvMsg's control data (Wine's test_ip_pktinfo, test_ipv4_cmsg, test_ipv6_cmsg):
/// WSACMSGHDR layout and Windows numbering, a short control buffer is WSAEMSGSIZE with
/// MSG_CTRUNC (WSAGetOverlappedResult leaves the flags; a routine post says
/// WSA_IO_PENDING); a failed WSASendMsg still binds (Wine's test_WSASendMsg).
#[test]
fn recvmsg_control() {
    common::run_c_test("recvmsg_control");
}

/// Windows' bind conflict table (Wine's test_reuseaddr, test_ipv6only): an exclusive
/// wildcard refuses specific addresses of its port with `WSAEACCES` (a dual-stack IPv6
/// one also IPv4's); a specific address under a plain wildcard binds, exclusive or not.
#[test]
fn bind_rules() {
    common::run_c_test("bind_rules");
}

/// A duplicate (`WSADuplicateSocket` + `WSASocket`) is another handle to the source's
/// socket (Wine's test_completion_port): AcceptEx on a listener's duplicate pends, its
/// packet reaches the source's completion port, and only the last close aborts it.
#[test]
fn duplicate_shared() {
    common::run_c_test("duplicate_shared");
}

/// A socket under `WSAEventSelect` cannot be made blocking (`WSAEINVAL`), and `SO_TYPE`
/// cannot be set (`WSAENOPROTOOPT` on a stream socket, `WSAEINVAL` on a datagram one).
#[test]
fn fixed_mode() {
    common::run_c_test("fixed_mode");
}

/// An accepted socket takes its listener's options (`SO_REUSEADDR`, the buffer sizes as
/// set, the timeouts, linger) through `accept` and `WSAAccept`, and through `AcceptEx`
/// once `SO_UPDATE_ACCEPT_CONTEXT` names the listener (Wine's test_accept_inheritance).
#[test]
fn accept_inherit() {
    common::run_c_test("accept_inherit");
}

/// A `WSAOVERLAPPED` reused while its first request is pending is accepted, as on Windows
/// (Wine's test_WSARecv): both requests complete and the completion is reported.
#[test]
fn overlapped_reuse() {
    common::run_c_test("overlapped_reuse");
}

/// `DuplicateHandle` of a socket makes a handle to its file object (Wine's
/// test_WSAGetOverlappedResult): Winsock calls refuse it (`WSAENOTSOCK`), `CloseHandle`
/// takes it, and the socket stays open until its last handle is closed.
#[test]
fn duplicate_handle() {
    common::run_c_test("duplicate_handle");
}

/// `select` as Windows does it: a fresh socket is in no set; a socket is reported once
/// per set (listed twice, or read and write set one `fd_set`); sets past `FD_SETSIZE`
/// and sets at the end of their memory; `SO_OOBINLINE` data is not an exception; a
/// socket closed during the wait is readable, or `WSAENOTSOCK` from the except set.
#[test]
fn select_sets() {
    common::run_c_test("select_sets");
}

/// A non-blocking stream `send` takes all of its data once any fits (the rest leaves in
/// the background, in order); the next send meanwhile is `WSAEWOULDBLOCK`; `shutdown`
/// and `closesocket` right after still deliver every byte before the end of stream.
#[test]
fn nonblocking_send_takes_all() {
    common::run_c_test("nonblocking_send");
}
