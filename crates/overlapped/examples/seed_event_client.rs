//! The seed's event-object send client (`event_send_client.cpp`), in Rust.
//!
//! Connects to the address given (default 127.0.0.1:6000), posts one overlapped send of
//! `"Network is Computer!"` with its NUL (21 bytes) bound to an event, and prints
//! `send data size: 21` (after `Background data send` if the send was pending).

use overlapped::{Event, Overlapped, Send, Socket, wait_any};

fn main() {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:6000".into());
    let addr = addr
        .parse()
        .unwrap_or_else(|_| error_handling("socket connect error!"));
    let sock = Socket::connect_to(addr).unwrap_or_else(|_| error_handling("socket connect error!"));

    let ev = Event::new_manual();
    let ov = Overlapped::with_event(&ev);
    let msg: &'static [u8] = b"Network is Computer!\0";
    let posted = Send::new(&sock, msg)
        .post(&ov)
        .unwrap_or_else(|_| error_handling("WSASend error!"));
    let sent = match posted.immediate() {
        Some(t) => t.bytes,
        None => {
            println!("Background data send");
            wait_any(&[&ev], None, false).unwrap_or_else(|_| error_handling("wait error"));
            ov.result(false).map(|t| t.bytes).unwrap_or(0)
        }
    };
    println!("send data size: {sent} ");
}

fn error_handling(message: &str) -> ! {
    println!("{message}");
    std::process::exit(1);
}
