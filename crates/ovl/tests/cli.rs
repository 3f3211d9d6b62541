//! The `ovl` binary, run for real: `serve` in every model (on both backends) with `send`
//! and with 100 concurrent clients, stopping by SIGINT and SIGTERM, `send`'s failures,
//! `probe`, and the command line's errors. Every child is killed when its test ends,
//! pass or fail.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

/// Upper bound on every wait: a broken binary fails the test instead of hanging it.
const LONG: Duration = Duration::from_secs(15);

/// A child process that is killed (and reaped) when the guard goes.
struct Guard(Child);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Guard {
    /// Waits for the child to exit within `limit`.
    fn wait_for(&mut self, limit: Duration) -> ExitStatus {
        let end = Instant::now() + limit;
        loop {
            if let Some(status) = self.0.try_wait().expect("try_wait") {
                return status;
            }
            assert!(Instant::now() < end, "ovl did not exit within {limit:?}");
            thread::sleep(Duration::from_millis(10));
        }
    }

    /// Sends `signal` (`INT`, `TERM`) to the child.
    fn signal(&self, signal: &str) {
        let ok = Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(self.0.id().to_string())
            .status()
            .expect("run kill")
            .success();
        assert!(ok, "kill -{signal} failed");
    }
}

fn ovl() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_ovl"));
    c.env_remove("OVL_BACKEND");
    c
}

/// Runs `ovl args...` to completion (bounded), capturing its output.
fn run(args: &[&str]) -> Output {
    let child = ovl()
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn ovl");
    let mut guard = Guard(child);
    // Read both pipes on threads so a chatty child cannot block on a full pipe.
    let mut out = guard.0.stdout.take().unwrap();
    let mut err = guard.0.stderr.take().unwrap();
    let out = thread::spawn(move || {
        let mut v = Vec::new();
        let _ = out.read_to_end(&mut v);
        v
    });
    let err = thread::spawn(move || {
        let mut v = Vec::new();
        let _ = err.read_to_end(&mut v);
        v
    });
    let status = guard.wait_for(LONG);
    Output {
        status,
        stdout: out.join().unwrap(),
        stderr: err.join().unwrap(),
    }
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// A running `ovl serve` on an ephemeral loopback port.
struct Server {
    guard: Guard,
    addr: SocketAddr,
    /// The rest of its standard output, line by line.
    lines: mpsc::Receiver<String>,
}

/// Starts `ovl [--backend B] serve --model MODEL 127.0.0.1:0` and reads the bound address
/// from its listening line.
fn serve(model: &str, backend: Option<&str>) -> Server {
    serve_with(model, backend, &[])
}

/// [`serve`] with more options for `serve` (`--threads N`).
fn serve_with(model: &str, backend: Option<&str>, options: &[&str]) -> Server {
    let mut cmd = ovl();
    if let Some(b) = backend {
        cmd.args(["--backend", b]);
    }
    let child = cmd
        .args(["serve", "--model", model])
        .args(options)
        .arg("127.0.0.1:0")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn ovl serve");
    let mut guard = Guard(child);
    let stdout = guard.0.stdout.take().unwrap();
    let (tx, lines) = mpsc::channel();
    thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let first = lines
        .recv_timeout(LONG)
        .expect("ovl serve printed no listening line");
    let addr = first
        .strip_prefix("listening on ")
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|a| a.parse().ok())
        .unwrap_or_else(|| panic!("unexpected first line: {first:?}"));
    Server { guard, addr, lines }
}

/// Connects with timeouts set.
fn connect(addr: SocketAddr) -> TcpStream {
    let s = TcpStream::connect_timeout(&addr, LONG).expect("connect");
    s.set_read_timeout(Some(LONG)).unwrap();
    s.set_write_timeout(Some(LONG)).unwrap();
    s
}

/// Sends `data` and checks that exactly it comes back.
fn echo(s: &mut TcpStream, data: &[u8]) -> Result<(), String> {
    s.write_all(data).map_err(|e| format!("send: {e}"))?;
    let mut back = vec![0u8; data.len()];
    s.read_exact(&mut back).map_err(|e| format!("echo: {e}"))?;
    if back == data {
        Ok(())
    } else {
        Err("echo differs".into())
    }
}

/// The payload of client `c` in round `r`: distinct, of varying length.
fn payload(c: usize, r: usize) -> Vec<u8> {
    let len = 1 + (c * 389 + r * 1013) % 20_000;
    (0..len)
        .map(|i| u8::try_from((i * 31 + c * 7 + r * 3) % 256).unwrap())
        .collect()
}

/// Connects `n` clients, all kept open at once, then has each do several checked echo
/// rounds concurrently.
fn many_clients(addr: SocketAddr, n: usize) {
    let streams: Vec<TcpStream> = (0..n).map(|_| connect(addr)).collect();
    let workers: Vec<_> = streams
        .into_iter()
        .enumerate()
        .map(|(c, mut s)| {
            thread::spawn(move || {
                for r in 0..4 {
                    echo(&mut s, &payload(c, r))
                        .map_err(|e| format!("client {c} round {r}: {e}"))?;
                }
                Ok::<TcpStream, String>(s)
            })
        })
        .collect();
    let mut failures = Vec::new();
    let mut open = Vec::new();
    for w in workers {
        match w.join().expect("client thread panicked") {
            Ok(s) => open.push(s),
            Err(e) => failures.push(e),
        }
    }
    assert!(
        failures.is_empty(),
        "{} failed: {failures:?}",
        failures.len()
    );
    // Every connection is still open and still served after all the others.
    for (c, s) in open.iter_mut().enumerate() {
        echo(s, format!("last {c}").as_bytes()).unwrap();
    }
}

#[test]
fn event_model_send_gets_its_echo() {
    let server = serve("event", None);
    let out = run(&["send", &server.addr.to_string(), "hello overlapped"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "hello overlapped\n");
    let out = run(&["send", "--count", "3", &server.addr.to_string(), "again"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "again\nagain\nagain\n");
}

#[test]
fn routine_model_send_gets_its_echo() {
    let server = serve("routine", None);
    let out = run(&["send", &server.addr.to_string(), "Network is Computer!"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "Network is Computer!\n");
}

#[test]
fn async_models_send_gets_its_echo() {
    for model in ["async", "tokio-async"] {
        let server = serve(model, None);
        let out = run(&["send", &server.addr.to_string(), "awaited echo"]);
        assert!(out.status.success(), "{model}: {}", text(&out.stderr));
        assert_eq!(text(&out.stdout), "awaited echo\n", "{model}");
        let out = run(&["send", "-n", "3", &server.addr.to_string(), "again"]);
        assert!(out.status.success(), "{model}: {}", text(&out.stderr));
        assert_eq!(text(&out.stdout), "again\nagain\nagain\n", "{model}");
    }
}

#[test]
fn event_model_serves_100_concurrent_clients() {
    let server = serve("event", None);
    many_clients(server.addr, 100);
    // 100 connections need two groups of 63 (each group thread waits on 64 events).
    let mut lines = Vec::new();
    while lines
        .iter()
        .filter(|l: &&String| l.starts_with("group thread"))
        .count()
        < 2
    {
        match server.lines.recv_timeout(LONG) {
            Ok(l) => lines.push(l),
            Err(_) => panic!("fewer than two group threads: {lines:?}"),
        }
    }
    assert!(
        lines.iter().all(|l| !l.starts_with("group thread 3")),
        "{lines:?}"
    );
}

#[test]
fn routine_model_serves_100_concurrent_clients() {
    let server = serve("routine", None);
    many_clients(server.addr, 100);
}

#[test]
fn port_model_serves_100_concurrent_clients() {
    let server = serve("port", None);
    many_clients(server.addr, 100);
}

#[test]
fn async_model_serves_100_concurrent_clients() {
    let server = serve("async", None);
    many_clients(server.addr, 100);
}

#[test]
fn tokio_async_model_serves_100_concurrent_clients() {
    let server = serve("tokio-async", None);
    many_clients(server.addr, 100);
}

/// One worker thread: every connection task and all 16 accept tasks share it.
#[test]
fn async_models_serve_100_clients_on_one_worker() {
    for model in ["async", "tokio-async"] {
        let server = serve_with(model, None, &["--threads", "1"]);
        let line = server.lines.recv_timeout(LONG).expect("the model's line");
        assert!(
            line.starts_with(&format!("{model} model: 1 worker thread(s)")),
            "{line}"
        );
        many_clients(server.addr, 100);
    }
}

#[test]
fn every_model_serves_100_clients_on_the_poll_backend() {
    for model in ["event", "routine", "port", "async", "tokio-async"] {
        let server = serve(model, Some("poll"));
        many_clients(server.addr, 100);
    }
}

/// Stops a server that has an idle client and a busy one with `signal`: it must exit 0,
/// promptly, having closed the connections.
fn stops_cleanly(model: &str, signal: &str) {
    let mut server = serve(model, None);
    let mut idle = connect(server.addr);
    let mut busy = connect(server.addr);
    echo(&mut busy, b"before the signal").unwrap();
    // One echo proves this connection is served; then it idles with a receive pending.
    echo(&mut idle, b"x").unwrap();

    server.guard.signal(signal);
    let status = server.guard.wait_for(Duration::from_secs(5));
    assert!(status.success(), "ovl serve exited with {status}");
    let rest: Vec<String> = server.lines.iter().collect();
    assert!(
        rest.last().is_some_and(|l| l.starts_with("stopped after")),
        "output after the listening line: {rest:?}"
    );
    for s in [&mut idle, &mut busy] {
        let mut rest = Vec::new();
        // End of stream (or a reset): the server closed its side.
        let _ = s.read_to_end(&mut rest);
        assert!(rest.is_empty());
    }
    assert!(
        TcpStream::connect_timeout(&server.addr, LONG).is_err(),
        "the listener is closed"
    );
}

#[test]
fn sigint_stops_the_event_server() {
    stops_cleanly("event", "INT");
}

#[test]
fn sigint_stops_the_routine_server() {
    stops_cleanly("routine", "INT");
}

#[test]
fn sigint_stops_the_port_server() {
    stops_cleanly("port", "INT");
}

#[test]
fn sigint_stops_the_async_server() {
    stops_cleanly("async", "INT");
}

#[test]
fn sigint_stops_the_tokio_async_server() {
    stops_cleanly("tokio-async", "INT");
}

#[test]
fn sigterm_stops_every_server() {
    for model in ["event", "routine", "port", "async", "tokio-async"] {
        stops_cleanly(model, "TERM");
    }
}

#[test]
fn send_to_a_closed_port_fails() {
    let addr = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let out = run(&["send", &addr.to_string(), "anyone?"]);
    assert!(!out.status.success());
    assert_ne!(out.status.code(), Some(2), "not a usage error");
    let err = text(&out.stderr);
    assert!(err.contains("cannot connect"), "{err}");
    assert!(err.contains("WSAECONNREFUSED"), "{err}");
    assert!(out.stdout.is_empty());
}

#[test]
fn send_detects_a_wrong_echo() {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    // A server that answers with different bytes of the same length.
    let liar = thread::spawn(move || {
        let (mut s, _) = l.accept().unwrap();
        s.set_read_timeout(Some(LONG)).unwrap();
        let mut buf = [0u8; 5];
        s.read_exact(&mut buf).unwrap();
        s.write_all(b"HELLO").unwrap();
        s.shutdown(Shutdown::Write).unwrap();
        let _ = s.read_to_end(&mut Vec::new());
    });
    let out = run(&["send", &addr.to_string(), "hello"]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(err.contains("differs"), "{err}");
    liar.join().unwrap();
}

#[test]
fn send_times_out_without_an_echo() {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    let out = run(&["send", "--timeout", "0.3", &addr.to_string(), "silence"]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(err.contains("no complete echo"), "{err}");
    drop(l);
}

#[test]
fn probe_names_the_backend() {
    let out = run(&["probe"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let s = text(&out.stdout);
    assert!(s.starts_with("kernel: Linux "), "{s}");
    assert!(
        s.contains("backend: uring") || s.contains("backend: poll"),
        "{s}"
    );
    let out = run(&["--backend", "poll", "probe"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("backend: poll"));
}

#[test]
fn bad_command_lines_exit_2() {
    for args in [
        &["frobnicate"][..],
        &[],
        &["serve", "not-an-address"],
        &["serve", "--model", "fibers"],
        &["send", "127.0.0.1:6000"],
        &["send", "nowhere", "text"],
        &["--backend", "iocp", "probe"],
    ] {
        let out = run(args);
        assert_eq!(out.status.code(), Some(2), "ovl {args:?}");
        let err = text(&out.stderr);
        assert!(err.starts_with("ovl: error: "), "ovl {args:?}: {err}");
        assert!(out.stdout.is_empty(), "ovl {args:?}");
    }
}

#[test]
fn help_is_printed() {
    let out = run(&["--help"]);
    assert!(out.status.success());
    let s = text(&out.stdout);
    for cmd in ["serve", "send", "probe"] {
        assert!(s.contains(cmd), "{s}");
    }
    for cmd in ["serve", "send", "probe"] {
        let out = run(&[cmd, "--help"]);
        assert!(out.status.success());
        assert!(
            text(&out.stdout).starts_with(&format!("Usage: ovl {cmd}")),
            "{}",
            text(&out.stdout)
        );
    }
}
