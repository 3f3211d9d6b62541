//! The seed's completion-routine receive server (`routine_recv_server.cpp`), in Rust.
//!
//! Accepts one client, posts a receive that names a completion routine, then enters an
//! alertable wait on an event nobody sets; the routine runs inside that wait, which
//! returns `WaitOutcome::IoCompletion` (`WAIT_IO_COMPLETION`). Prints
//! `received message :Network is Computer! ` from the routine, then
//! `Overlapped I/O Completed!`.

use overlapped::{Event, Overlapped, Recv, Socket, WaitOutcome, wait_any};

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

    let ov = Overlapped::new();
    let status = Recv::new(&conn, vec![0u8; 1024]).post_with_routine(&ov, |c| match c.result {
        Err(_) => error_handling("CompRoutine error"),
        Ok(t) => {
            // The seed prints its buffer with %s: up to the first NUL.
            let text = &c.output[..t.bytes];
            let end = text.iter().position(|&b| b == 0).unwrap_or(text.len());
            println!(
                "received message :{} ",
                String::from_utf8_lossy(&text[..end])
            );
        }
    });
    if let Ok(overlapped::Status::Pending) = status {
        println!("Background data recive");
    }

    let dummy = Event::new_manual();
    match wait_any(&[&dummy], None, true) {
        Ok(WaitOutcome::IoCompletion) => println!("Overlapped I/O Completed!"),
        _ => error_handling("WSARecv error"),
    }
}

fn error_handling(message: &str) -> ! {
    println!("{message}");
    std::process::exit(1);
}
