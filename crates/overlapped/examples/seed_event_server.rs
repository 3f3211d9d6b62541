//! The seed's event-object receive server (`event_recv_server.cpp`), in Rust.
//!
//! Listens on the address given (default 127.0.0.1:6000), accepts one client, posts one
//! overlapped receive bound to an event, waits for the event, reads the result and
//! prints what the seed prints: `Backgrounnd data receive` when the receive was pending,
//! then `received message : &s` (the seed's `printf` typo, printed literally).

use overlapped::{Event, Overlapped, Recv, Socket, wait_any};

fn main() {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:6000".into());
    let addr = addr
        .parse()
        .unwrap_or_else(|_| error_handling("socket bind error!"));
    let listener =
        Socket::listen_on(addr, 5).unwrap_or_else(|_| error_handling("socket bind error!"));
    let (conn, _) = listener
        .accept()
        .unwrap_or_else(|_| error_handling("socket accept error!"));

    let ev = Event::new_manual();
    let ov = Overlapped::with_event(&ev);
    let posted = Recv::new(&conn, vec![0u8; 1024])
        .post(&ov)
        .unwrap_or_else(|_| error_handling("WSARecv error "));
    if posted.immediate().is_none() {
        println!("Backgrounnd data receive");
        wait_any(&[&ev], None, false).unwrap_or_else(|_| error_handling("wait error"));
        let _ = ov.result(false);
    }
    let (_, _buf) = posted.wait();
    println!("received message : &s");
}

fn error_handling(message: &str) -> ! {
    println!("{message}");
    std::process::exit(1);
}
