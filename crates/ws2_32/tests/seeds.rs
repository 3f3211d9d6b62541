//! The three seed programs (`tests/seeds/`, verbatim copies of
//! `../shared/seeds/programs/`), ported at test time by exactly the two documented
//! edits (`sed`), compiled with `g++ -fpermissive` against the headers and the library,
//! and run as server/client pairs on 127.0.0.1:6000, their output checked against the
//! seeds' README.
//!
//! They share the fixed port, so one test function runs the pairs one after the other.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use common::Proc;

/// Ports a seed with the two documented edits and compiles it.
fn port(name: &str) -> PathBuf {
    let src = common::tests_dir()
        .join("seeds")
        .join(format!("{name}.cpp"));
    // The checked-in copies must not drift from the shared seeds, where those exist.
    let shared = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/seeds/programs")
        .join(format!("{name}.cpp"));
    if let Ok(original) = std::fs::read(&shared) {
        assert_eq!(
            std::fs::read(&src).expect("seed copy"),
            original,
            "tests/seeds/{name}.cpp differs from {}",
            shared.display()
        );
    }
    let dir = common::out_dir("seeds");
    let ported = dir.join(format!("{name}.cpp"));
    let out = Command::new("sed")
        .args([
            "-e",
            "/#include \"stdafx.h\"/d",
            "-e",
            "s/^void main()/int main()/",
        ])
        .arg(&src)
        .output()
        .expect("sed");
    assert!(out.status.success(), "sed failed");
    std::fs::write(&ported, &out.stdout).expect("write ported seed");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!text.contains("stdafx.h") && text.contains("int main()"));
    common::compile(&ported, &dir.join(name), true, &["-fpermissive"])
}

/// Whether process `pid` owns a TCP socket listening on port 6000.
fn listening_on_6000(pid: u32) -> bool {
    let mut inodes = Vec::new();
    for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
        let Ok(text) = std::fs::read_to_string(table) else {
            continue;
        };
        for line in text.lines().skip(1) {
            let f: Vec<&str> = line.split_whitespace().collect();
            if f.len() > 9 && f[1].ends_with(":1770") && f[3] == "0A" {
                inodes.push(format!("socket:[{}]", f[9]));
            }
        }
    }
    let Ok(fds) = std::fs::read_dir(format!("/proc/{pid}/fd")) else {
        return false;
    };
    fds.flatten().any(|fd| {
        std::fs::read_link(fd.path())
            .is_ok_and(|l| inodes.iter().any(|i| l.to_string_lossy() == *i))
    })
}

/// Runs `server` then `client`; returns both outputs. Retries while the port is taken by
/// someone else: another program listening, or a TIME_WAIT connection of a program that
/// bound 6000 without `SO_REUSEADDR` (Linux keeps those for 60 s; this library binds
/// with it, see `bind`'s `# Compatibility`).
fn run_pair(server: &Path, client: &Path) -> (String, String) {
    let give_up = Instant::now() + Duration::from_secs(75);
    for attempt in 0.. {
        if Instant::now() > give_up {
            break;
        }
        let mut srv = Proc::spawn(server, &[]);
        let deadline = Instant::now() + Duration::from_secs(10);
        while !listening_on_6000(srv.id()) && !srv.exited() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        if !listening_on_6000(srv.id()) {
            let (code, out) = srv.finish(Duration::from_secs(5));
            assert!(
                out.contains("bind error"),
                "server did not listen on 6000 (exit {code}):\n{out}"
            );
            eprintln!("port 6000 busy (attempt {attempt}); retrying");
            std::thread::sleep(Duration::from_secs(1));
            continue;
        }
        let cli = Proc::spawn(client, &[]);
        let (ccode, cout) = cli.finish(Duration::from_secs(20));
        let (scode, sout) = srv.finish(Duration::from_secs(20));
        assert_eq!(ccode, 0, "client failed:\n{cout}");
        // The seed servers end `main` with a bare `return;`: once `void main()` is `int
        // main()` (the documented edit, built with -fpermissive) the exit value is whatever
        // is in the return register, so only a normal exit is required of them, and no
        // sanitizer report when the sanitizer run builds them with one.
        assert!(scode >= 0, "server killed or timed out:\n{sout}");
        assert!(!sout.contains("Sanitizer"), "server failed:\n{sout}");
        return (sout, cout);
    }
    panic!("port 6000 stayed busy");
}

fn check_client(out: &str) {
    let lines: Vec<&str> = out.lines().collect();
    let body: Vec<&str> = lines
        .iter()
        .copied()
        .filter(|l| *l != "Background data send")
        .collect();
    assert_eq!(body, ["send data size: 21 "], "client output:\n{out}");
}

#[test]
fn seed_programs() {
    let event_server = port("event_recv_server");
    let routine_server = port("routine_recv_server");
    let client = port("event_send_client");

    // The event server: `received message : &s` (the seed's typo, printed literally),
    // after `Backgrounnd data receive` when the receive was pending.
    let (sout, cout) = run_pair(&event_server, &client);
    check_client(&cout);
    let body: Vec<&str> = sout
        .lines()
        .filter(|l| *l != "Backgrounnd data receive")
        .collect();
    assert_eq!(
        body,
        ["received message : &s"],
        "event server output:\n{sout}"
    );

    // The routine server: the routine prints the message, then the alertable wait
    // returns WAIT_IO_COMPLETION.
    let (sout, cout) = run_pair(&routine_server, &client);
    check_client(&cout);
    let body: Vec<&str> = sout
        .lines()
        .filter(|l| *l != "Background data recive")
        .collect();
    assert_eq!(
        body,
        [
            "received message :Network is Computer! ",
            "Overlapped I/O Completed!"
        ],
        "routine server output:\n{sout}"
    );
}
