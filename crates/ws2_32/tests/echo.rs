//! Two Winsock-book style echo servers written in C (`tests/c/routine_echo_server.c`:
//! completion routines; `tests/c/event_echo_server.c`: an event array), each driven by
//! 50 concurrent clients (Rust `std::net`) whose payloads are checked byte for byte.
//! Each server listens on an ephemeral port, which it prints, and exits once all 50
//! connections are served; everything is bounded in time.

mod common;

use std::io::{Read, Write};
use std::net::{Shutdown, TcpStream};
use std::time::Duration;

use common::Proc;

const CLIENTS: usize = 50;
const MESSAGES: usize = 6;

fn payload(client: usize, msg: usize) -> Vec<u8> {
    let len = (client * 37 + msg * 101) % 1500 + 1;
    (0..len)
        .map(|k| u8::try_from((client * 31 + msg * 7 + k) % 251).unwrap_or(0))
        .collect()
}

/// One client: sends its messages one at a time, checks each echo, then closes and
/// expects the server to close too. Returns the bytes echoed.
fn client(port: u16, id: usize) -> usize {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    s.set_write_timeout(Some(Duration::from_secs(20))).unwrap();
    let mut total = 0;
    for m in 0..MESSAGES {
        let p = payload(id, m);
        s.write_all(&p).expect("send");
        let mut back = vec![0u8; p.len()];
        s.read_exact(&mut back).expect("echo");
        assert_eq!(back, p, "client {id} message {m}: wrong echo");
        total += p.len();
    }
    s.shutdown(Shutdown::Write).unwrap();
    let mut rest = Vec::new();
    s.read_to_end(&mut rest).expect("server close");
    assert!(rest.is_empty(), "client {id}: unexpected bytes after close");
    total
}

fn drive(server: &str) {
    let src = common::tests_dir().join("c").join(format!("{server}.c"));
    let bin = common::out_dir(server).join(server);
    common::compile(&src, &bin, false, &["-Wall", "-Werror", "-std=gnu11"]);
    let mut srv = Proc::spawn(&bin, &[&CLIENTS.to_string()]);
    let line = srv
        .wait_line("port ", Duration::from_secs(10))
        .unwrap_or_else(|| panic!("{server} printed no port: {:?}", srv.output));
    let port: u16 = line["port ".len()..].trim().parse().expect("port number");
    let handles: Vec<_> = (0..CLIENTS)
        .map(|id| std::thread::spawn(move || client(port, id)))
        .collect();
    let mut expected = 0;
    let mut failures = Vec::new();
    for h in handles {
        match h.join() {
            Ok(n) => expected += n,
            Err(e) => failures.push(
                e.downcast_ref::<String>()
                    .cloned()
                    .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default(),
            ),
        }
    }
    let (code, out) = srv.finish(Duration::from_secs(30));
    assert!(
        failures.is_empty(),
        "client failures: {failures:?}\nserver:\n{out}"
    );
    assert_eq!(code, 0, "{server} failed:\n{out}");
    let want = format!("served {CLIENTS} bytes {expected}");
    assert!(
        out.lines().any(|l| l == want),
        "{server}: expected `{want}` in:\n{out}"
    );
}

#[test]
fn completion_routine_echo_server_50_clients() {
    drive("routine_echo_server");
}

#[test]
fn event_array_echo_server_50_clients() {
    drive("event_echo_server");
}
