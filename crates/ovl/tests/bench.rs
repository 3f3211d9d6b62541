//! `ovl bench`, run for real on loopback: against `ovl serve` (JSON fields), against a
//! server that corrupts an echo (status 1, naming the mismatch), `--compare` writing its
//! report, and the command line's errors (status 2). Every child is killed when its test
//! ends, pass or fail, and every wait is bounded.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

/// Upper bound on every wait: a broken binary fails the test instead of hanging it.
const LONG: Duration = Duration::from_secs(25);

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

/// Starts `ovl serve --model MODEL 127.0.0.1:0`; the guard and the bound address.
fn serve(model: &str) -> (Guard, SocketAddr) {
    let child = ovl()
        .args(["serve", "--model", model, "127.0.0.1:0"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn ovl serve");
    let mut guard = Guard(child);
    let stdout = guard.0.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let first = rx.recv_timeout(LONG).expect("no listening line");
    let addr = first
        .strip_prefix("listening on ")
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|a| a.parse().ok())
        .unwrap_or_else(|| panic!("unexpected first line: {first:?}"));
    (guard, addr)
}

/// A fresh, empty directory under the system's temporary directory.
fn temp_dir(tag: &str) -> PathBuf {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let dir = std::env::temp_dir().join(format!("ovl-bench-{tag}-{}-{nanos}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The JSON objects of `out`'s standard output, one per line.
fn json_lines(out: &[u8]) -> Vec<serde_json::Value> {
    text(out)
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad JSON {l:?}: {e}")))
        .collect()
}

/// The fields every point has.
fn check_point(v: &serde_json::Value) {
    for key in [
        "server",
        "connections",
        "size",
        "msgs_per_sec",
        "p50_us",
        "p99_us",
        "p999_us",
        "max_us",
        "server_cpu_us_per_msg",
        "server_rss_kib",
        "client_cpu_pct",
        "backend",
        "model",
    ] {
        assert!(v.get(key).is_some(), "no '{key}' in {v}");
    }
    assert!(v["msgs_per_sec"].as_f64().unwrap() > 0.0, "{v}");
    assert!(v["p50_us"].as_f64().unwrap() > 0.0, "{v}");
    assert!(
        v["p99_us"].as_f64().unwrap() >= v["p50_us"].as_f64().unwrap(),
        "{v}"
    );
    assert!(v["client_cpu_pct"].as_f64().unwrap() >= 0.0, "{v}");
}

#[test]
fn bench_against_ovl_serve() {
    let (server, addr) = serve("event");
    let pid = server.0.id().to_string();
    let addr = addr.to_string();
    let out = run(&[
        "bench",
        "--connections",
        "4",
        "--duration",
        "0.5",
        "--warmup",
        "0.1",
        "--json",
        "--server-pid",
        &pid,
        &addr,
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let points = json_lines(&out.stdout);
    assert_eq!(points.len(), 1, "{}", text(&out.stdout));
    let p = &points[0];
    check_point(p);
    assert_eq!(p["connections"], 4);
    assert_eq!(p["size"], 64);
    assert_eq!(p["server"], addr.as_str());
    // The server's process was named, so its figures are known.
    assert!(p["server_cpu_us_per_msg"].as_f64().is_some(), "{p}");
    assert!(p["server_rss_kib"].as_u64().unwrap() > 0, "{p}");

    // Without --server-pid the server's figures are unknown: "-" in the table.
    let out = run(&["bench", "-c", "2", "-d", "0.3", "-w", "0", &addr]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let table = text(&out.stdout);
    assert!(
        table.contains("msgs/s") && table.contains("client busy"),
        "{table}"
    );
    let row = table.lines().find(|l| l.starts_with(&addr)).expect("a row");
    assert!(row.contains(" - "), "{row}");
}

/// Echoes messages of `size` bytes on every connection, but flips a byte of the 10th.
fn corrupting_server(size: usize) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { return };
            thread::spawn(move || {
                let mut buf = vec![0u8; size];
                for n in 1.. {
                    if conn.read_exact(&mut buf).is_err() {
                        return;
                    }
                    if n == 10 {
                        buf[5] ^= 0x40;
                    }
                    if conn.write_all(&buf).is_err() {
                        return;
                    }
                }
            });
        }
    });
    addr
}

#[test]
fn a_corrupted_echo_fails_the_run() {
    let addr = corrupting_server(64).to_string();
    let out = run(&[
        "bench", "-c", "1", "-s", "64", "-d", "5", "-w", "0", "--json", &addr,
    ]);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("mismatch") && err.contains("connection 0") && err.contains("message 9"),
        "{err}"
    );
    assert!(err.contains("offset 5"), "{err}");
    assert!(json_lines(&out.stdout).is_empty());
}

#[test]
fn a_refused_connection_fails_the_run() {
    let addr = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().to_string()
    };
    let out = run(&["bench", "-c", "1", "-d", "0.2", "-w", "0", &addr]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("cannot connect"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn compare_writes_the_report() {
    let dir = temp_dir("compare");
    let dir_s = dir.to_str().unwrap();
    let out = run(&[
        "bench",
        "--compare",
        "--servers",
        "event,epoll",
        "--connections",
        "2",
        "--size",
        "64",
        "--duration",
        "0.3",
        "--warmup",
        "0.1",
        "--out",
        dir_s,
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let table = text(&out.stdout);
    assert!(
        table.contains("event") && table.contains("epoll"),
        "{table}"
    );
    assert!(table.contains("unpinned"), "{table}");

    let md = std::fs::read_to_string(dir.join("bench.md")).unwrap();
    for needle in [
        "kernel",
        "CPU",
        "unpinned",
        "--compare",
        "| event |",
        "| epoll |",
    ] {
        assert!(md.contains(needle), "bench.md lacks {needle:?}:\n{md}");
    }
    let svg = std::fs::read_to_string(dir.join("bench.svg")).unwrap();
    assert!(svg.starts_with("<svg"), "{svg}");
    assert!(svg.trim_end().ends_with("</svg>"), "{svg}");
    assert!(svg.contains("event") && svg.contains("epoll"));
    let jsonl = std::fs::read(dir.join("bench.jsonl")).unwrap();
    let points = json_lines(&jsonl);
    assert_eq!(points.len(), 2);
    for p in &points {
        check_point(p);
        // Started here, so the server's figures are known.
        assert!(p["server_cpu_us_per_msg"].as_f64().is_some(), "{p}");
        assert!(p["server_rss_kib"].as_u64().unwrap() > 0, "{p}");
    }
    assert_eq!(points[0]["server"], "event");
    assert_eq!(points[0]["model"], "event");
    assert_eq!(points[1]["server"], "epoll");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bad_arguments_exit_2() {
    for (args, needle) in [
        (
            &["bench", "--connections", "0", "127.0.0.1:1"][..],
            "--connections",
        ),
        (
            &["bench", "--size", "abc", "127.0.0.1:1"][..],
            "--size: 'abc'",
        ),
        (&["bench"][..], "needs a server"),
        (
            &["bench", "--compare", "--servers", "iis"][..],
            "unknown server",
        ),
    ] {
        let out = run(args);
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(needle), "{args:?}: {err}");
    }
}
