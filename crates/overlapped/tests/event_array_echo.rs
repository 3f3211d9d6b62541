//! The nine-step event-array echo server (`examples/event_array_echo.rs`) serving 60
//! concurrent clients: each sends several distinct payloads and checks every echo byte
//! for byte.

// The example itself, so that the test drives the very code `cargo run --example` runs
// (its `main` is unused here).
#[path = "../examples/event_array_echo.rs"]
#[allow(dead_code, unreachable_pub)]
mod echo;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::Duration;

use overlapped::{Event, Socket};

/// Upper bound on every read and write: a broken server fails the test instead of
/// hanging it.
const LONG: Duration = Duration::from_secs(10);
const CLIENTS: usize = 60;
const ROUNDS: usize = 5;

/// The payload client `c` sends in round `r`: distinct per client and round, of varying
/// length (up to a few kilobytes, so some echoes take more than one receive).
fn payload(c: usize, r: usize) -> Vec<u8> {
    let len = 1 + (c * 131 + r * 977) % 6000;
    (0..len)
        .map(|i| u8::try_from((i * 7 + c * 13 + r * 29) % 251).unwrap())
        .collect()
}

/// One round: sends client `c`'s payload for round `r` and checks the echo.
fn round(s: &mut TcpStream, c: usize, r: usize) -> Result<(), String> {
    let data = payload(c, r);
    s.write_all(&data)
        .map_err(|e| format!("client {c} round {r}: send: {e}"))?;
    let mut back = vec![0u8; data.len()];
    s.read_exact(&mut back)
        .map_err(|e| format!("client {c} round {r}: echo: {e}"))?;
    if back != data {
        return Err(format!("client {c} round {r}: echo differs"));
    }
    Ok(())
}

/// Client `c`: connects, does one round, waits for every other client to be connected
/// too (so the array holds all of them at once), does the other rounds, closes.
fn client(addr: SocketAddr, c: usize, all_connected: &Barrier) -> Result<(), String> {
    let first = TcpStream::connect(addr)
        .map_err(|e| format!("client {c}: connect: {e}"))
        .and_then(|mut s| {
            s.set_read_timeout(Some(LONG)).unwrap();
            s.set_write_timeout(Some(LONG)).unwrap();
            round(&mut s, c, 0).map(|()| s)
        });
    // Wait even after a failure, so that the other clients are not left at the barrier.
    all_connected.wait();
    let mut s = first?;
    for r in 1..ROUNDS {
        round(&mut s, c, r)?;
    }
    // A graceful close: the server sees a 0-byte receive and removes the client.
    s.shutdown(std::net::Shutdown::Write).unwrap();
    let mut rest = Vec::new();
    s.read_to_end(&mut rest)
        .map_err(|e| format!("client {c}: waiting for the server's close: {e}"))?;
    if !rest.is_empty() {
        return Err(format!("client {c}: {} unexpected bytes", rest.len()));
    }
    Ok(())
}

#[test]
fn sixty_clients_get_their_echoes() {
    let listener = Socket::listen_on("127.0.0.1:0".parse().unwrap(), 128).unwrap();
    let addr = listener.local_addr().unwrap();
    let stop = Event::new_manual();
    let server = {
        let stop = stop.clone();
        thread::spawn(move || echo::serve(listener, &stop))
    };

    let barrier = Arc::new(Barrier::new(CLIENTS));
    let clients: Vec<_> = (0..CLIENTS)
        .map(|c| {
            let barrier = Arc::clone(&barrier);
            thread::spawn(move || client(addr, c, &barrier))
        })
        .collect();
    let mut failures = Vec::new();
    for t in clients {
        if let Err(e) = t.join().expect("client thread panicked") {
            failures.push(e);
        }
    }

    stop.set();
    let served = server.join().expect("server thread panicked");
    assert!(failures.is_empty(), "{failures:?}");
    served.expect("serve failed");
}

#[test]
fn a_stopped_server_closes_its_clients() {
    let listener = Socket::listen_on("127.0.0.1:0".parse().unwrap(), 16).unwrap();
    let addr = listener.local_addr().unwrap();
    let stop = Event::new_manual();
    let server = {
        let stop = stop.clone();
        thread::spawn(move || echo::serve(listener, &stop))
    };
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(LONG)).unwrap();
    s.write_all(b"ping").unwrap();
    let mut back = [0u8; 4];
    s.read_exact(&mut back).unwrap();
    assert_eq!(&back, b"ping");

    stop.set();
    server.join().unwrap().unwrap();
    // The server closed the connection: end of stream (or a reset), never a hang.
    let mut rest = Vec::new();
    let _ = s.read_to_end(&mut rest);
    assert!(rest.is_empty());
    assert!(
        TcpStream::connect_timeout(&addr, LONG).is_err(),
        "the listener is closed"
    );
}
