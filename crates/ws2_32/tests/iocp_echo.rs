//! A multi-threaded I/O completion port echo server written for Windows
//! (`tests/c/iocp_echo_server.c`: worker threads from `_beginthreadex`, AcceptEx,
//! `CONTAINING_RECORD`, shutdown by `PostQueuedCompletionStatus` and
//! `WaitForMultipleObjects` on the thread handles), driven by 200 concurrent clients
//! whose pattern payloads of several sizes (1 byte to 64 KiB) are checked byte for byte.
//! The server listens on 127.0.0.1 only and must stop cleanly and exit 0; everything is
//! bounded in time.

mod common;

use std::io::{Read, Write};
use std::net::{Shutdown, TcpStream};
use std::time::Duration;

use common::Proc;

const CLIENTS: usize = 200;
const SIZES: [usize; 6] = [1, 100, 1460, 4097, 16_384, 65_536];

/// A payload whose every byte depends on the client, the message and the offset.
fn payload(client: usize, msg: usize) -> Vec<u8> {
    let len = SIZES[(client + msg) % SIZES.len()] + (client % 7);
    (0..len)
        .map(|k| u8::try_from((client * 131 + msg * 17 + k * 7 + k / 251) % 256).unwrap_or(0))
        .collect()
}

/// One client: sends each message, reads back exactly as many bytes and compares them,
/// then closes and expects the server to close too. Returns the bytes echoed.
fn client(port: u16, id: usize) -> usize {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    s.set_write_timeout(Some(Duration::from_secs(30))).unwrap();
    let mut total = 0;
    for m in 0..SIZES.len() {
        let p = payload(id, m);
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

#[test]
fn iocp_echo_server_200_clients() {
    let name = "iocp_echo_server";
    let src = common::tests_dir().join("c").join(format!("{name}.c"));
    let bin = common::out_dir(name).join(name);
    common::compile(&src, &bin, false, &["-Wall", "-Werror", "-std=gnu11"]);
    let mut srv = Proc::spawn(&bin, &[&CLIENTS.to_string()]);
    let line = srv
        .wait_line("port ", Duration::from_secs(10))
        .unwrap_or_else(|| panic!("{name} printed no port: {:?}", srv.output));
    let port: u16 = line["port ".len()..].trim().parse().expect("port number");
    let handles: Vec<_> = (0..CLIENTS)
        .map(|id| {
            std::thread::Builder::new()
                .stack_size(256 * 1024)
                .spawn(move || client(port, id))
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
    let (code, out) = srv.finish(Duration::from_secs(60));
    assert!(
        failures.is_empty(),
        "client failures: {failures:?}\nserver:\n{out}"
    );
    assert_eq!(code, 0, "{name} failed:\n{out}");
    let want = format!("served {CLIENTS} bytes {expected}");
    assert!(
        out.lines().any(|l| l == want),
        "{name}: expected `{want}` in:\n{out}"
    );
}
