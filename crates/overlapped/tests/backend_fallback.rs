//! Backend selection: `OVL_BACKEND=auto|uring|poll`, `set_backend`, and `auto` falling
//! back to the poll backend in a process that cannot use io_uring.
//!
//! The backend is chosen once per process, so each scenario runs in a child: the test
//! re-executes this test binary on that one test, with `OVL_FALLBACK_CHILD` set (and,
//! where io_uring must be unavailable, a seccomp filter installed between fork and exec
//! that makes `io_uring_setup`, `io_uring_enter` and `io_uring_register` fail; installing
//! one needs no privileges, only `PR_SET_NO_NEW_PRIVS`). The parent checks the child's
//! exit status and what it printed.

use std::io::Write;
use std::os::unix::process::CommandExt;
use std::process::{Command, Output};
use std::rc::Rc;
use std::time::Duration;

use overlapped::ops::flags;
use overlapped::{
    Backend, Event, Overlapped, Readiness, Recv, Send, SleepOutcome, Socket, Status, WaitOutcome,
    WaitReady, WsaError, sleep_alertable, wait_any,
};

/// Set in a child to the name of the test whose scenario it runs.
const CHILD: &str = "OVL_FALLBACK_CHILD";

/// Upper bound on every wait: a broken library fails instead of hanging.
const LONG: Duration = Duration::from_secs(5);

/// Whether this process is the child of `test`.
fn is_child(test: &str) -> bool {
    std::env::var(CHILD).is_ok_and(|v| v == test)
}

/// How a child process sees io_uring.
#[derive(Clone, Copy)]
enum Uring {
    /// As the parent does.
    Inherit,
    /// Its syscalls fail with this errno (seccomp).
    Refused(i32),
}

/// Runs `test` alone in a child process with `OVL_BACKEND=backend` (unset if `None`).
fn run_child(test: &str, backend: Option<&str>, uring: Uring) -> Option<Output> {
    let exe = std::env::current_exe().expect("own test binary");
    let mut cmd = Command::new(exe);
    cmd.args([test, "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD, test);
    match backend {
        Some(b) => cmd.env("OVL_BACKEND", b),
        None => cmd.env_remove("OVL_BACKEND"),
    };
    if let Uring::Refused(errno) = uring {
        let filter = seccomp::deny_io_uring(errno);
        // SAFETY: the hook only makes two syscalls (prctl, seccomp) on memory built
        // before the fork; it allocates nothing and takes no lock.
        unsafe {
            cmd.pre_exec(move || seccomp::install(&filter));
        }
    }
    let out = match cmd.output() {
        Ok(out) => out,
        // Only the seccomp hook can make the spawn fail (a sandbox that forbids filters).
        Err(e) if matches!(uring, Uring::Refused(_)) => {
            println!("skipped: cannot install a seccomp filter here ({e})");
            return None;
        }
        Err(e) => panic!("run the child test process: {e}"),
    };
    println!(
        "--- child {test} ({}) stdout:\n{}--- stderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    Some(out)
}

fn stderr_of(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Whether io_uring can be set up in this process (probed directly, not through the
/// library, which would fix the backend).
fn io_uring_available() -> bool {
    let mut params = [0u8; 120]; // struct io_uring_params
    // SAFETY: io_uring_setup(entries, params) with a zeroed params block of its size.
    let fd = unsafe { libc::syscall(seccomp::SYS_IO_URING_SETUP, 2, params.as_mut_ptr()) };
    if fd < 0 {
        return false;
    }
    // SAFETY: a descriptor we just got and own.
    unsafe { libc::close(i32::try_from(fd).unwrap_or(-1)) };
    true
}

/// The seeds' scenario: a client's message received by an event-notified overlapped
/// receive, then another by a routine-notified one.
fn seed_scenario() {
    let listener = Socket::listen_on("127.0.0.1:0".parse().unwrap(), 5).expect("listen");
    let addr = listener.local_addr().unwrap();
    let client = std::thread::spawn(move || {
        let mut c = std::net::TcpStream::connect(addr).expect("client connect");
        std::thread::sleep(Duration::from_millis(50));
        c.write_all(b"hello, event").unwrap();
        std::thread::sleep(Duration::from_millis(50));
        c.write_all(b"hello, routine").unwrap();
        std::thread::sleep(Duration::from_millis(50));
    });
    let (conn, _) = listener.accept().expect("accept");

    // Event notification (event_recv_server).
    let ev = Event::new_manual();
    let ov = Overlapped::with_event(&ev);
    let posted = Recv::new(&conn, vec![0u8; 1024]).post(&ov).expect("post");
    assert!(posted.immediate().is_none(), "the client has not sent yet");
    assert_eq!(
        wait_any(&[&ev], Some(LONG), false),
        Ok(WaitOutcome::Signaled(0))
    );
    let (result, buf) = posted.wait();
    let n = result.expect("receive").bytes;
    assert_eq!(&buf[..n], b"hello, event");

    // Completion routine (routine_recv_server).
    let got = Rc::new(std::cell::RefCell::new(None));
    let g = Rc::clone(&got);
    let ov = Overlapped::new();
    Recv::new(&conn, vec![0u8; 1024])
        .post_with_routine(&ov, move |c| {
            let n = c.result.map_or(0, |t| t.bytes);
            *g.borrow_mut() = Some(c.output[..n].to_vec());
        })
        .expect("post with routine");
    assert_eq!(sleep_alertable(Some(LONG)), SleepOutcome::IoCompletion);
    assert_eq!(got.borrow().as_deref(), Some(&b"hello, routine"[..]));
    client.join().unwrap();
}

/// Child side: io_uring must really be refused, `auto` must pick poll and say why, and
/// the seed scenario must work.
fn fallback_child(errno: i32) {
    assert!(!io_uring_available(), "the seccomp filter refuses io_uring");
    let info = overlapped::probe().expect("auto starts without io_uring");
    assert_eq!(info.backend, Backend::Poll);
    assert_eq!(info.name, "poll");
    assert_eq!(info.requested, Backend::Auto);
    assert!(
        info.reason.contains("io_uring is unavailable"),
        "reason: {}",
        info.reason
    );
    let cause = std::io::Error::from_raw_os_error(errno).to_string();
    assert!(
        info.reason.contains(&cause),
        "reason names {cause:?}: {}",
        info.reason
    );
    seed_scenario();
    println!("child ok: backend {} ({})", info.name, info.reason);
}

/// Parent side: the child passed, and the fallback was logged exactly once.
fn check_fallback(out: &Output) {
    let err = stderr_of(out);
    assert!(out.status.success(), "child failed: {err}");
    assert_eq!(
        err.matches("io_uring is unavailable").count(),
        1,
        "the fallback is logged once: {err}"
    );
    assert!(err.contains("using the poll backend"), "{err}");
}

#[test]
fn auto_falls_back_to_poll_when_io_uring_is_refused_eperm() {
    const NAME: &str = "auto_falls_back_to_poll_when_io_uring_is_refused_eperm";
    if is_child(NAME) {
        return fallback_child(libc::EPERM);
    }
    if !seccomp::SUPPORTED {
        println!("skipped: no seccomp filter for this architecture");
        return;
    }
    if let Some(out) = run_child(NAME, None, Uring::Refused(libc::EPERM)) {
        check_fallback(&out);
    }
}

#[test]
fn auto_falls_back_to_poll_when_io_uring_is_missing_enosys() {
    const NAME: &str = "auto_falls_back_to_poll_when_io_uring_is_missing_enosys";
    if is_child(NAME) {
        return fallback_child(libc::ENOSYS);
    }
    if !seccomp::SUPPORTED {
        println!("skipped: no seccomp filter for this architecture");
        return;
    }
    if let Some(out) = run_child(NAME, Some("auto"), Uring::Refused(libc::ENOSYS)) {
        check_fallback(&out);
    }
}

#[test]
fn env_poll_selects_poll() {
    const NAME: &str = "env_poll_selects_poll";
    if is_child(NAME) {
        let info = overlapped::probe().expect("probe");
        assert_eq!((info.backend, info.name), (Backend::Poll, "poll"));
        assert_eq!(info.requested, Backend::Poll);
        assert!(info.reason.contains("OVL_BACKEND=poll"), "{}", info.reason);
        assert!(info.features.opcodes.is_empty());
        assert!(info.ring_fd >= 0);
        seed_scenario();
        return;
    }
    let out = run_child(NAME, Some("poll"), Uring::Inherit).expect("child");
    assert!(out.status.success(), "child failed: {}", stderr_of(&out));
    assert!(
        !stderr_of(&out).contains("overlapped:"),
        "nothing to report"
    );
}

#[test]
fn env_uring_selects_uring() {
    const NAME: &str = "env_uring_selects_uring";
    if is_child(NAME) {
        if !io_uring_available() {
            println!("skipped: io_uring is unavailable here");
            return;
        }
        let info = overlapped::probe().expect("probe");
        assert_eq!((info.backend, info.name), (Backend::Uring, "uring"));
        assert_eq!(info.requested, Backend::Uring);
        assert!(!info.features.opcodes.is_empty());
        seed_scenario();
        return;
    }
    let out = run_child(NAME, Some("uring"), Uring::Inherit).expect("child");
    assert!(out.status.success(), "child failed: {}", stderr_of(&out));
}

#[test]
fn env_uring_without_io_uring_fails_clearly() {
    const NAME: &str = "env_uring_without_io_uring_fails_clearly";
    if is_child(NAME) {
        assert_eq!(Socket::tcp_v4().err(), Some(WsaError::WSASYSNOTREADY));
        assert_eq!(overlapped::probe().err(), Some(WsaError::WSASYSNOTREADY));
        return;
    }
    if !seccomp::SUPPORTED {
        println!("skipped: no seccomp filter for this architecture");
        return;
    }
    let Some(out) = run_child(NAME, Some("uring"), Uring::Refused(libc::EPERM)) else {
        return;
    };
    let err = stderr_of(&out);
    assert!(out.status.success(), "child failed: {err}");
    assert!(
        err.contains("asks for io_uring, which is unavailable"),
        "{err}"
    );
}

#[test]
fn invalid_env_value_is_a_clear_error() {
    const NAME: &str = "invalid_env_value_is_a_clear_error";
    if is_child(NAME) {
        assert_eq!(Socket::tcp_v4().err(), Some(WsaError::WSAEINVAL));
        assert_eq!(overlapped::probe().err(), Some(WsaError::WSAEINVAL));
        return;
    }
    let out = run_child(NAME, Some("iouring-please"), Uring::Inherit).expect("child");
    let err = stderr_of(&out);
    assert!(out.status.success(), "child failed: {err}");
    assert!(
        err.contains("OVL_BACKEND") && err.contains("\"iouring-please\""),
        "{err}"
    );
    assert!(err.contains("auto, uring, poll"), "{err}");
    assert_eq!(err.matches("OVL_BACKEND").count(), 1, "said once: {err}");
}

#[test]
fn set_backend_overrides_env_and_is_fixed_after_start() {
    const NAME: &str = "set_backend_overrides_env_and_is_fixed_after_start";
    if is_child(NAME) {
        overlapped::set_backend(Backend::Poll).expect("before first use");
        let sock = Socket::tcp_v4().expect("socket");
        let info = overlapped::probe().unwrap();
        assert_eq!(
            (info.backend, info.requested),
            (Backend::Poll, Backend::Poll)
        );
        assert!(info.reason.contains("set_backend"), "{}", info.reason);
        assert_eq!(overlapped::set_backend(Backend::Poll), Ok(()));
        assert_eq!(overlapped::set_backend(Backend::Auto), Ok(()));
        assert_eq!(
            overlapped::set_backend(Backend::Uring),
            Err(WsaError::WSAEALREADY)
        );
        drop(sock);
        seed_scenario();
        return;
    }
    let out = run_child(NAME, Some("uring"), Uring::Inherit).expect("child");
    assert!(out.status.success(), "child failed: {}", stderr_of(&out));
}

#[test]
fn backend_names_parse() {
    assert_eq!("auto".parse::<Backend>(), Ok(Backend::Auto));
    assert_eq!(" Uring ".parse::<Backend>(), Ok(Backend::Uring));
    assert_eq!("io_uring".parse::<Backend>(), Ok(Backend::Uring));
    assert_eq!("poll".parse::<Backend>(), Ok(Backend::Poll));
    assert_eq!("epoll".parse::<Backend>(), Ok(Backend::Poll));
    let e = "kqueue".parse::<Backend>().unwrap_err();
    assert_eq!(
        e.to_string(),
        "invalid backend \"kqueue\": expected one of auto, uring, poll"
    );
    for b in [Backend::Auto, Backend::Uring, Backend::Poll] {
        assert_eq!(b.to_string().parse::<Backend>(), Ok(b));
    }
}

/// The suite runs once per backend: this process really runs on the one
/// `OVL_BACKEND` names (so a CI line cannot silently test the same backend twice).
#[test]
fn this_process_runs_on_the_backend_ovl_backend_names() {
    let info = overlapped::probe().expect("probe");
    println!("backend: {} ({})", info.name, info.reason);
    match std::env::var("OVL_BACKEND")
        .ok()
        .map(|v| v.parse::<Backend>())
    {
        Some(Ok(Backend::Poll)) => assert_eq!(info.backend, Backend::Poll),
        Some(Ok(Backend::Uring)) => assert_eq!(info.backend, Backend::Uring),
        _ => assert!(matches!(info.backend, Backend::Uring | Backend::Poll)),
    }
    assert_eq!(info.name, info.backend.name());
}

// What the poll backend emulates, checked on whichever backend this process runs (the
// suite runs once per backend).

/// A listening overlapped socket and a std client connected to it: (client, server side).
fn std_pair() -> (std::net::TcpStream, Socket) {
    let listener = Socket::listen_on("127.0.0.1:0".parse().unwrap(), 8).expect("listen");
    let c = std::net::TcpStream::connect(listener.local_addr().unwrap()).expect("connect");
    let (s, _) = listener.accept().expect("accept");
    (c, s)
}

#[test]
fn waitall_receive_completes_only_when_full_or_at_end() {
    let (mut c, s) = std_pair();
    let ov = Overlapped::new();
    let posted = Recv::new(&s, vec![0u8; 10])
        .flags(flags::MSG_WAITALL)
        .post(&ov)
        .expect("post");
    assert_eq!(posted.status(), Status::Pending);
    c.write_all(b"0123").unwrap();
    std::thread::sleep(Duration::from_millis(100));
    assert!(!posted.is_complete(), "4 of 10 bytes do not complete it");
    c.write_all(b"456789xyz").unwrap();
    let (r, buf) = posted.wait();
    assert_eq!(r.expect("receive").bytes, 10);
    assert_eq!(&buf, b"0123456789");

    // End of stream completes it with what arrived.
    let posted = Recv::new(&s, vec![0u8; 10])
        .flags(flags::MSG_WAITALL)
        .post(&ov)
        .expect("post");
    // "xyz" is already there: the attempt during the post takes it.
    let (r, buf) = posted.wait();
    assert_eq!(&buf[..r.expect("receive").bytes], b"xyz");
    let posted = Recv::new(&s, vec![0u8; 10])
        .flags(flags::MSG_WAITALL)
        .post(&ov)
        .expect("post");
    c.write_all(b"ab").unwrap();
    std::thread::sleep(Duration::from_millis(50));
    c.shutdown(std::net::Shutdown::Write).unwrap();
    let (r, buf) = posted.wait();
    assert_eq!(&buf[..r.expect("receive").bytes], b"ab");
}

#[test]
fn receive_send_and_readiness_armed_on_one_socket() {
    let (mut c, s) = std_pair();
    s.set_send_buffer_size(4096).unwrap();
    let ov_r = Overlapped::new();
    let recv = Recv::new(&s, vec![0u8; 10]).post(&ov_r).expect("recv");
    assert_eq!(recv.status(), Status::Pending);
    // Fill the send direction until a send stays pending.
    let mut sends = Vec::new();
    let mut sent = 0usize;
    for _ in 0..4096 {
        let ov = Overlapped::new();
        let p = Send::new(&s, vec![7u8; 65536]).post(&ov).expect("send");
        sent += 65536;
        let pending = p.status() == Status::Pending;
        sends.push((ov, p));
        if pending {
            break;
        }
    }
    assert_eq!(
        sends.last().unwrap().1.status(),
        Status::Pending,
        "send buffer full"
    );
    let ov_w = Overlapped::new();
    let ready = WaitReady::new(
        &s,
        Readiness {
            read: true,
            ..Readiness::default()
        },
    )
    .post(&ov_w)
    .expect("wait ready");
    assert_eq!(ready.status(), Status::Pending);

    // 100 bytes: the receive takes 10, the rest keeps the socket readable.
    c.write_all(&[1u8; 100]).unwrap();
    let (r, buf) = recv.wait();
    assert_eq!(r.expect("recv").bytes, 10);
    assert_eq!(buf, vec![1u8; 10]);
    let (r, found) = ready.wait();
    r.expect("readiness");
    assert!(found.read);

    // Reading everything completes every send, in order.
    let reader = std::thread::spawn(move || {
        let mut left = sent;
        let mut buf = vec![0u8; 65536];
        while left > 0 {
            let n = std::io::Read::read(&mut c, &mut buf).unwrap();
            assert!(n > 0);
            left -= n;
        }
    });
    for (_ov, p) in sends {
        let (r, _) = p.wait();
        assert_eq!(r.expect("send").bytes, 65536);
    }
    reader.join().unwrap();
}

#[test]
fn closing_with_armed_operations_never_misdelivers_to_a_reused_descriptor() {
    for round in 0..20 {
        let (mut old_c, old_s) = std_pair();
        let fd = old_s.as_raw_fd();
        let ev = Event::new_manual();
        let ov = Overlapped::with_event(&ev);
        let old = Recv::new(&old_s, vec![0u8; 16]).post(&ov).expect("post");
        let ready_ov = Overlapped::new();
        let old_ready = WaitReady::new(
            &old_s,
            Readiness {
                read: true,
                ..Readiness::default()
            },
        )
        .post(&ready_ov)
        .expect("wait ready");
        drop(old_s);
        assert!(old.wait().0.is_err(), "aborted by close");
        assert!(old_ready.wait().0.is_err(), "aborted by close");

        // Likely the same descriptor number again.
        let (mut c, s) = std_pair();
        let reused = s.as_raw_fd() == fd;
        let ov = Overlapped::new();
        let new = Recv::new(&s, vec![0u8; 16]).post(&ov).expect("post");
        let _ = old_c.write_all(b"stale");
        std::thread::sleep(Duration::from_millis(5));
        assert!(
            !new.is_complete(),
            "round {round}: nothing was sent to the new socket"
        );
        c.write_all(b"fresh").unwrap();
        let (r, buf) = new.wait();
        assert_eq!(
            &buf[..r.expect("receive").bytes],
            b"fresh",
            "round {round}, reused {reused}"
        );
    }
}

/// Guarantee 1: a completion is delivered (the event set, the record complete) while
/// no application thread waits, by the background reaper; a cancel too.
#[test]
fn completions_and_cancels_are_delivered_while_nobody_waits() {
    let (mut c, s) = std_pair();
    let ev = Event::new_manual();
    let ov = Overlapped::with_event(&ev);
    let posted = Recv::new(&s, vec![0u8; 16]).post(&ov).expect("post");
    assert_eq!(posted.status(), Status::Pending);
    c.write_all(b"while computing").unwrap();
    let end = std::time::Instant::now() + LONG;
    while !(ev.is_set() && ov.is_complete()) {
        assert!(std::time::Instant::now() < end, "delivered without a wait");
        std::hint::spin_loop();
    }
    let (r, buf) = posted.wait();
    assert_eq!(&buf[..r.unwrap().bytes], b"while computing");

    let ov = Overlapped::new();
    let posted = Recv::new(&s, vec![0u8; 16]).post(&ov).expect("post");
    assert_eq!(s.cancel_all(), 1);
    let end = std::time::Instant::now() + LONG;
    while !ov.is_complete() {
        assert!(
            std::time::Instant::now() < end,
            "cancel delivered without a wait"
        );
        std::thread::sleep(Duration::from_millis(1));
    }
    assert_eq!(posted.wait().0.err(), Some(WsaError::WSA_OPERATION_ABORTED));
}

/// The background reaper's voluntary context switches (how often it slept), if found.
fn reaper_sleeps() -> Option<u64> {
    for task in std::fs::read_dir("/proc/self/task").ok()? {
        let dir = task.ok()?.path();
        let comm = std::fs::read_to_string(dir.join("comm")).unwrap_or_default();
        if comm.trim() != "ovl-reaper" {
            continue;
        }
        let status = std::fs::read_to_string(dir.join("status")).ok()?;
        return status
            .lines()
            .find_map(|l| l.strip_prefix("voluntary_ctxt_switches:"))
            .and_then(|v| v.trim().parse().ok());
    }
    None
}

/// Guarantee 4: while an application thread waits (and so drives), completions are
/// reaped by that thread; the background reaper is not woken for them.
#[test]
fn a_waiting_thread_reaps_itself_without_waking_the_reaper() {
    const ROUNDS: u64 = 200;
    let (c, s) = std_pair();
    let peer = std::thread::spawn(move || {
        let mut c = c;
        let mut byte = [0u8; 1];
        for _ in 0..ROUNDS {
            std::io::Read::read_exact(&mut c, &mut byte).unwrap();
            // Reply once the other side is (almost surely) in its wait.
            std::thread::sleep(Duration::from_micros(300));
            c.write_all(&byte).unwrap();
        }
    });
    let ev = Event::new_manual();
    let ov = Overlapped::with_event(&ev);
    let _ = overlapped::probe().expect("engine");
    // The reaper names itself once it runs.
    let mut before = None;
    for _ in 0..500 {
        before = reaper_sleeps();
        if before.is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    for i in 0..ROUNDS {
        let posted = Recv::new(&s, vec![0u8; 1]).post(&ov).expect("post");
        s.send(&[u8::try_from(i % 251).unwrap()]).expect("ping");
        if posted.immediate().is_none() {
            assert_eq!(
                wait_any(&[&ev], Some(LONG), false),
                Ok(WaitOutcome::Signaled(0))
            );
        }
        let (r, _) = posted.wait();
        assert_eq!(r.unwrap().bytes, 1);
    }
    peer.join().unwrap();
    let (Some(before), Some(after)) = (before, reaper_sleeps()) else {
        println!("skipped: the reaper thread was not found in /proc");
        return;
    };
    println!("reaper slept {} times in {ROUNDS} rounds", after - before);
    // A reply that lands between the post and the wait wakes the reaper legitimately;
    // most land while this thread drives.
    assert!(
        after - before < ROUNDS / 2,
        "reaper woken {} times",
        after - before
    );
}

/// A seccomp filter that refuses io_uring's three syscalls.
mod seccomp {
    /// `io_uring_setup`, `io_uring_enter`, `io_uring_register`: the same numbers in
    /// every architecture's table that has them (x86_64, aarch64, riscv64, ...).
    pub(crate) const SYS_IO_URING_SETUP: libc::c_long = 425;
    const SYS_IO_URING_ENTER: u32 = 426;
    const SYS_IO_URING_REGISTER: u32 = 427;

    #[cfg(target_arch = "x86_64")]
    const AUDIT_ARCH: Option<u32> = Some(0xC000_003E);
    #[cfg(target_arch = "aarch64")]
    const AUDIT_ARCH: Option<u32> = Some(0xC000_00B7);
    #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
    const AUDIT_ARCH: Option<u32> = None;

    pub(crate) const SUPPORTED: bool = AUDIT_ARCH.is_some();

    #[repr(C)]
    #[derive(Clone, Copy)]
    pub(crate) struct SockFilter {
        code: u16,
        jt: u8,
        jf: u8,
        k: u32,
    }

    #[repr(C)]
    struct SockFprog {
        len: u16,
        filter: *const SockFilter,
    }

    const BPF_LD_W_ABS: u16 = 0x20; // BPF_LD | BPF_W | BPF_ABS
    const BPF_JEQ_K: u16 = 0x15; // BPF_JMP | BPF_JEQ | BPF_K
    const BPF_RET_K: u16 = 0x06; // BPF_RET | BPF_K
    const RET_ALLOW: u32 = 0x7fff_0000;
    const RET_ERRNO: u32 = 0x0005_0000;

    const fn op(code: u16, jt: u8, jf: u8, k: u32) -> SockFilter {
        SockFilter { code, jt, jf, k }
    }

    /// The program: other architectures and other syscalls pass; io_uring's fail with
    /// `errno`.
    pub(crate) fn deny_io_uring(errno: i32) -> Vec<SockFilter> {
        let setup = u32::try_from(SYS_IO_URING_SETUP).unwrap_or(0);
        vec![
            op(BPF_LD_W_ABS, 0, 0, 4), // seccomp_data.arch
            op(BPF_JEQ_K, 0, 4, AUDIT_ARCH.unwrap_or(0)),
            op(BPF_LD_W_ABS, 0, 0, 0), // seccomp_data.nr
            op(BPF_JEQ_K, 3, 0, setup),
            op(BPF_JEQ_K, 2, 0, SYS_IO_URING_ENTER),
            op(BPF_JEQ_K, 1, 0, SYS_IO_URING_REGISTER),
            op(BPF_RET_K, 0, 0, RET_ALLOW),
            op(BPF_RET_K, 0, 0, RET_ERRNO | (errno.unsigned_abs() & 0xFFFF)),
        ]
    }

    /// Installs `filter` on the calling thread (in a `pre_exec` hook: the whole child).
    pub(crate) fn install(filter: &[SockFilter]) -> std::io::Result<()> {
        let prog = SockFprog {
            len: u16::try_from(filter.len()).unwrap_or(0),
            filter: filter.as_ptr(),
        };
        // SAFETY: plain prctl with integer arguments.
        if unsafe { libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) } != 0 {
            return Err(std::io::Error::last_os_error());
        }
        // SAFETY: `prog` points to `filter`, alive for the call; the kernel copies it.
        let r = unsafe {
            libc::syscall(
                libc::SYS_seccomp,
                1, // SECCOMP_SET_MODE_FILTER
                0,
                &raw const prog,
            )
        };
        if r != 0 {
            return Err(std::io::Error::last_os_error());
        }
        Ok(())
    }
}
