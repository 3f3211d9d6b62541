//! `ovl soak`, run for real: against each model it checks every echoed byte and that the
//! server's descriptors come back; against a server that corrupts one byte, or one that
//! drops a connection, it fails with status 1 and says so.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::process::{Command, Output, Stdio};
use std::thread;
use std::time::{Duration, Instant};

fn ovl(args: &[&str]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_ovl"))
        .env_remove("OVL_BACKEND")
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn ovl");
    let end = Instant::now() + Duration::from_secs(60);
    while child.try_wait().expect("try_wait").is_none() {
        if Instant::now() > end {
            let _ = child.kill();
            panic!("ovl soak did not finish within 60 s");
        }
        thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().expect("output")
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn soak_spawned(backend: &str, model: &str) {
    let out = ovl(&[
        "--backend",
        backend,
        "soak",
        "--spawn",
        model,
        "-c",
        "300",
        "-d",
        "2",
        "-r",
        "5",
    ]);
    let t = text(&out);
    assert!(out.status.success(), "{t}");
    let summary = t
        .lines()
        .find(|l| l.starts_with("summary: "))
        .unwrap_or_else(|| panic!("no summary: {t}"));
    // 300 connections x 5 msg/s x 2 s, give or take the ones due as the run ends.
    let msgs: u64 = summary["summary: ".len()..]
        .split_whitespace()
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!(msgs >= 2_700, "only {msgs} messages checked: {summary}");
    assert!(
        summary.contains("corrupt bytes 0, missing bytes 0"),
        "{summary}"
    );
    assert!(summary.contains("failed connections 0"), "{summary}");
    assert!(
        t.contains(&format!("backend {backend}")),
        "the server ran elsewhere: {t}"
    );
}

#[test]
fn soak_event_model_on_uring() {
    soak_spawned("uring", "event");
}

#[test]
fn soak_event_model_on_poll() {
    soak_spawned("poll", "event");
}

#[test]
fn soak_routine_model_on_uring() {
    soak_spawned("uring", "routine");
}

#[test]
fn soak_routine_model_on_poll() {
    soak_spawned("poll", "routine");
}

#[test]
fn soak_port_model_on_uring() {
    soak_spawned("uring", "port");
}

#[test]
fn soak_port_model_on_poll() {
    soak_spawned("poll", "port");
}

#[test]
fn soak_async_model_on_uring() {
    soak_spawned("uring", "async");
}

#[test]
fn soak_async_model_on_poll() {
    soak_spawned("poll", "async");
}

#[test]
fn soak_tokio_async_model_on_uring() {
    soak_spawned("uring", "tokio-async");
}

#[test]
fn soak_tokio_async_model_on_poll() {
    soak_spawned("poll", "tokio-async");
}

/// An echo server that flips one byte of its 3rd echo on each connection.
fn corrupting_server() -> std::net::SocketAddr {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    thread::spawn(move || {
        for c in l.incoming() {
            let Ok(mut c) = c else { break };
            thread::spawn(move || {
                let mut buf = [0u8; 64];
                let mut seen = 0usize;
                loop {
                    let n = match c.read(&mut buf) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => n,
                    };
                    for (i, b) in buf[..n].iter_mut().enumerate() {
                        if (seen + i) / 64 == 2 && (seen + i) % 64 == 40 {
                            *b ^= 0x55;
                        }
                    }
                    seen += n;
                    if c.write_all(&buf[..n]).is_err() {
                        break;
                    }
                }
            });
        }
    });
    addr
}

#[test]
fn a_corrupted_echo_fails_the_soak() {
    let addr = corrupting_server().to_string();
    let out = ovl(&["soak", &addr, "-c", "3", "-d", "1", "-r", "10", "-s", "64"]);
    let t = text(&out);
    assert_eq!(out.status.code(), Some(1), "{t}");
    assert!(
        t.contains("corrupt bytes 3,") || t.contains("corrupt bytes 3 "),
        "{t}"
    );
}

#[test]
fn a_server_that_drops_connections_fails_the_soak() {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap().to_string();
    thread::spawn(move || {
        // Accept and close at once.
        for c in l.incoming() {
            drop(c);
        }
    });
    let out = ovl(&["soak", &addr, "-c", "4", "-d", "1"]);
    let t = text(&out);
    assert_eq!(out.status.code(), Some(1), "{t}");
    // Each connection is lost either way: its read sees the close, or its write the
    // reset that follows it.
    let number_after = |label: &str| -> u64 {
        let at = t
            .find(label)
            .unwrap_or_else(|| panic!("no {label:?} in {t}"))
            + label.len();
        t[at..]
            .split(|c: char| !c.is_ascii_digit())
            .find(|w| !w.is_empty())
            .and_then(|w| w.parse().ok())
            .unwrap_or_else(|| panic!("no number after {label:?} in {t}"))
    };
    let lost = number_after("failed connections ") + number_after("closed by the server ");
    assert_eq!(lost, 4, "{t}");
}
