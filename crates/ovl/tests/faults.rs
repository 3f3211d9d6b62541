//! Faults an echo server must survive: running out of descriptors. `ovl serve` runs with
//! a low `RLIMIT_NOFILE`; once it is out of descriptors, accepting fails with
//! `WSAEMFILE`, the server keeps serving the connections it has, and it accepts again
//! (the waiting client included) when connections close. Every model, both backends.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::os::unix::process::CommandExt as _;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

/// The server's descriptor limit: room for its own few and a couple of dozen connections.
const NOFILE: u64 = 40;

/// A child process that is killed (and reaped) when the guard goes.
struct Guard(Child);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Lowers this process's descriptor limit to [`NOFILE`] (run in the child before exec).
fn set_nofile() -> std::io::Result<()> {
    let lim = libc::rlimit {
        rlim_cur: NOFILE,
        rlim_max: NOFILE,
    };
    // SAFETY: `lim` is a valid rlimit for the duration of the call.
    if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &lim) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}

/// Starts `ovl serve` with the low descriptor limit; returns it, its address and its
/// stderr lines.
fn start(backend: &str, model: &str) -> (Guard, SocketAddr, mpsc::Receiver<String>) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ovl"));
    cmd.env_remove("OVL_BACKEND")
        .args([
            "--backend",
            backend,
            "serve",
            "--model",
            model,
            "127.0.0.1:0",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    // SAFETY: the closure runs in the forked child before exec and only calls
    // `set_nofile`, which is async-signal-safe and touches no memory shared with the
    // parent.
    unsafe {
        cmd.pre_exec(set_nofile);
    }
    let mut child = Guard(cmd.spawn().expect("spawn ovl"));
    let mut out = BufReader::new(child.0.stdout.take().unwrap());
    let mut line = String::new();
    out.read_line(&mut line).expect("read the listening line");
    let addr: SocketAddr = line
        .strip_prefix("listening on ")
        .and_then(|r| r.split_whitespace().next())
        .unwrap_or_else(|| panic!("unexpected first line: {line:?}"))
        .parse()
        .expect("address");
    // Keep draining stdout (group-thread lines) so the server never blocks on it.
    thread::spawn(move || {
        let mut sink = Vec::new();
        let _ = out.read_to_end(&mut sink);
    });
    let err = BufReader::new(child.0.stderr.take().unwrap());
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        for l in err.lines().map_while(Result::ok) {
            if tx.send(l).is_err() {
                break;
            }
        }
    });
    (child, addr, rx)
}

/// Sends `msg` and reads its echo, within `limit`; false on timeout.
fn echo(c: &mut TcpStream, msg: &[u8], limit: Duration) -> bool {
    c.set_read_timeout(Some(limit)).unwrap();
    c.write_all(msg).unwrap();
    read_echo(c, msg)
}

/// Reads the echo of `msg` (already sent); false on timeout, panics on a wrong echo.
fn read_echo(c: &mut TcpStream, msg: &[u8]) -> bool {
    let mut got = vec![0u8; msg.len()];
    match c.read_exact(&mut got) {
        Ok(()) => {
            assert_eq!(got, msg, "wrong echo");
            true
        }
        Err(e)
            if matches!(
                e.kind(),
                std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
            ) =>
        {
            false
        }
        Err(e) => panic!("echo failed: {e}"),
    }
}

/// Waits up to `limit` for a stderr line containing `needle`; returns the lines seen.
fn expect_line(rx: &mpsc::Receiver<String>, needle: &str, limit: Duration) -> Vec<String> {
    let end = Instant::now() + limit;
    let mut seen = Vec::new();
    while let Some(left) = end.checked_duration_since(Instant::now()) {
        match rx.recv_timeout(left) {
            Ok(l) => {
                let hit = l.contains(needle);
                seen.push(l);
                if hit {
                    return seen;
                }
            }
            Err(_) => break,
        }
    }
    panic!("no stderr line with {needle:?} within {limit:?}; saw {seen:?}");
}

fn descriptor_exhaustion(backend: &str, model: &str) {
    let (mut server, addr, errs) = start(backend, model);
    // Connect until one is not served: the server is out of descriptors.
    let mut served: Vec<TcpStream> = Vec::new();
    let mut waiting = None;
    for i in 0..NOFILE * 2 {
        let mut c = TcpStream::connect_timeout(&addr, Duration::from_secs(5)).expect("connect");
        c.set_nodelay(true).unwrap();
        let msg = format!("client {i}");
        if echo(&mut c, msg.as_bytes(), Duration::from_secs(1)) {
            served.push(c);
        } else {
            waiting = Some((c, msg));
            break;
        }
    }
    let (mut waiting, msg) = waiting.expect("the descriptor limit was never reached");
    assert!(
        served.len() >= 5 && served.len() < usize::try_from(NOFILE).unwrap(),
        "served {} connections under a limit of {NOFILE} descriptors",
        served.len()
    );
    expect_line(&errs, "WSAEMFILE", Duration::from_secs(5));
    // Every connection it has is still served.
    for (i, c) in served.iter_mut().enumerate() {
        assert!(
            echo(c, format!("again {i}").as_bytes(), Duration::from_secs(5)),
            "connection {i} no longer served while out of descriptors"
        );
    }
    // Free some descriptors: the waiting client is accepted and gets its echo.
    served.drain(..3);
    waiting
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    assert!(
        read_echo(&mut waiting, msg.as_bytes()),
        "the waiting client was not served after descriptors were freed"
    );
    expect_line(&errs, "accepting again", Duration::from_secs(5));
    let mut late = TcpStream::connect_timeout(&addr, Duration::from_secs(5)).expect("connect");
    assert!(
        echo(&mut late, b"late", Duration::from_secs(10)),
        "a new client was not served"
    );
    // And it still stops cleanly.
    let ok = Command::new("kill")
        .args(["-TERM", &server.0.id().to_string()])
        .status()
        .unwrap()
        .success();
    assert!(ok);
    let end = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(s) = server.0.try_wait().unwrap() {
            break s;
        }
        assert!(Instant::now() < end, "the server did not stop");
        thread::sleep(Duration::from_millis(10));
    };
    assert!(status.success(), "exit status {status}");
}

#[test]
fn event_model_survives_descriptor_exhaustion_on_uring() {
    descriptor_exhaustion("uring", "event");
}

#[test]
fn event_model_survives_descriptor_exhaustion_on_poll() {
    descriptor_exhaustion("poll", "event");
}

#[test]
fn routine_model_survives_descriptor_exhaustion_on_uring() {
    descriptor_exhaustion("uring", "routine");
}

#[test]
fn routine_model_survives_descriptor_exhaustion_on_poll() {
    descriptor_exhaustion("poll", "routine");
}

#[test]
fn port_model_survives_descriptor_exhaustion_on_uring() {
    descriptor_exhaustion("uring", "port");
}

#[test]
fn port_model_survives_descriptor_exhaustion_on_poll() {
    descriptor_exhaustion("poll", "port");
}

#[test]
fn async_model_survives_descriptor_exhaustion_on_uring() {
    descriptor_exhaustion("uring", "async");
}

#[test]
fn async_model_survives_descriptor_exhaustion_on_poll() {
    descriptor_exhaustion("poll", "async");
}

#[test]
fn tokio_async_model_survives_descriptor_exhaustion_on_uring() {
    descriptor_exhaustion("uring", "tokio-async");
}

#[test]
fn tokio_async_model_survives_descriptor_exhaustion_on_poll() {
    descriptor_exhaustion("poll", "tokio-async");
}
