//! Winsock echo servers written in C, each driven by concurrent clients (Rust
//! `std::net`) whose payloads are checked byte for byte:
//! - two Winsock-book style single-threaded servers, 50 clients each:
//!   `tests/c/routine_echo_server.c` (completion routines) and
//!   `tests/c/event_echo_server.c` (an event array);
//! - a multi-threaded I/O completion port server written for Windows,
//!   `tests/c/iocp_echo_server.c` (worker threads from `_beginthreadex`, AcceptEx,
//!   `CONTAINING_RECORD`, shutdown by `PostQueuedCompletionStatus` and
//!   `WaitForMultipleObjects` on the thread handles), 200 clients with payloads of 1 byte
//!   to 64 KiB.
//!
//! Each server listens on an ephemeral port of 127.0.0.1, which it prints, serves the
//! given number of connections and must then stop cleanly and exit 0; everything is
//! bounded in time.

mod common;

use std::io::{Read, Write};
use std::net::{Shutdown, TcpStream};
use std::time::Duration;

use common::Proc;

/// The work given to a server.
#[derive(Clone, Copy)]
struct Load {
    clients: usize,
    messages: usize,
    /// Message `m` of client `c`; every byte depends on both and on its offset.
    payload: fn(usize, usize) -> Vec<u8>,
    /// How long the clients' reads and writes, and the server's exit, may take.
    limit: Duration,
}

fn book_payload(client: usize, msg: usize) -> Vec<u8> {
    let len = (client * 37 + msg * 101) % 1500 + 1;
    (0..len)
        .map(|k| u8::try_from((client * 31 + msg * 7 + k) % 251).unwrap_or(0))
        .collect()
}

const BOOK: Load = Load {
    clients: 50,
    messages: 6,
    payload: book_payload,
    limit: Duration::from_secs(30),
};

const SIZES: [usize; 6] = [1, 100, 1460, 4097, 16_384, 65_536];

fn iocp_payload(client: usize, msg: usize) -> Vec<u8> {
    let len = SIZES[(client + msg) % SIZES.len()] + (client % 7);
    (0..len)
        .map(|k| u8::try_from((client * 131 + msg * 17 + k * 7 + k / 251) % 256).unwrap_or(0))
        .collect()
}

const IOCP: Load = Load {
    clients: 200,
    messages: SIZES.len(),
    payload: iocp_payload,
    limit: Duration::from_secs(60),
};

/// One client: sends its messages one at a time, checks each echo, then closes and
/// expects the server to close too. Returns the bytes echoed.
fn client(port: u16, id: usize, load: Load) -> usize {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    s.set_read_timeout(Some(load.limit)).unwrap();
    s.set_write_timeout(Some(load.limit)).unwrap();
    let mut total = 0;
    for m in 0..load.messages {
        let p = (load.payload)(id, m);
        s.write_all(&p).expect("send");
        let mut back = vec![0u8; p.len()];
        s.read_exact(&mut back).expect("echo");
        if let Some(at) = back.iter().zip(&p).position(|(a, b)| a != b) {
            panic!(
                "client {id} message {m} ({} bytes): first wrong byte at {at}",
                p.len()
            );
        }
        total += p.len();
    }
    s.shutdown(Shutdown::Write).unwrap();
    let mut rest = Vec::new();
    s.read_to_end(&mut rest).expect("server close");
    assert!(rest.is_empty(), "client {id}: unexpected bytes after close");
    total
}

fn drive(server: &str, load: Load) {
    let src = common::tests_dir().join("c").join(format!("{server}.c"));
    let bin = common::out_dir(server).join(server);
    common::compile(&src, &bin, false, &["-Wall", "-Werror", "-std=gnu11"]);
    let mut srv = Proc::spawn(&bin, &[&load.clients.to_string()]);
    let line = srv
        .wait_line("port ", Duration::from_secs(10))
        .unwrap_or_else(|| panic!("{server} printed no port: {:?}", srv.output));
    let port: u16 = line["port ".len()..].trim().parse().expect("port number");
    let handles: Vec<_> = (0..load.clients)
        .map(|id| {
            std::thread::Builder::new()
                .stack_size(256 * 1024)
                .spawn(move || client(port, id, load))
                .expect("client thread")
        })
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
    let (code, out) = srv.finish(load.limit);
    assert!(
        failures.is_empty(),
        "client failures: {failures:?}\nserver:\n{out}"
    );
    assert_eq!(code, 0, "{server} failed:\n{out}");
    let want = format!("served {} bytes {expected}", load.clients);
    assert!(
        out.lines().any(|l| l == want),
        "{server}: expected `{want}` in:\n{out}"
    );
}

#[test]
fn completion_routine_echo_server_50_clients() {
    drive("routine_echo_server", BOOK);
}

#[test]
fn event_array_echo_server_50_clients() {
    drive("event_echo_server", BOOK);
}

#[test]
fn iocp_echo_server_200_clients() {
    drive("iocp_echo_server", IOCP);
}
