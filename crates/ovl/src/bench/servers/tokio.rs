//! `tokio-ct` and `tokio-mt`: the echo server as tokio's documentation teaches it. An accept
//! loop spawns a task per connection; the task reads up to 16 KiB and writes it all back
//! until the peer closes or an error ends it. The runtime is current-thread or multi-thread
//! (one worker per core, tokio's default); nothing else differs.
//!
//! The stop eventfd is watched through `AsyncFd`, raced against the accept loop; dropping the
//! runtime then drops every connection task, closing its socket.

use std::net::TcpListener as StdListener;

use tokio::io::unix::AsyncFd;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _, Interest};
use tokio::net::{TcpListener, TcpStream};
use tokio::runtime::Builder;

use super::Stop;

/// Runs the server on `listener` until `stop`; `ready` is called once the runtime is up and
/// the listener registered.
pub(super) fn run(
    listener: StdListener,
    multi_thread: bool,
    stop: &Stop,
    ready: impl FnOnce(),
) -> anyhow::Result<()> {
    let runtime = if multi_thread {
        Builder::new_multi_thread()
    } else {
        Builder::new_current_thread()
    }
    .enable_all()
    .build()?;
    listener.set_nonblocking(true)?;
    let result = runtime.block_on(async {
        let listener = TcpListener::from_std(listener)?;
        // SAFETY: the borrowed eventfd stays open for as long as the `AsyncFd`, which lives
        // in this block; `Stop` owns it and outlives the call.
        let stop = unsafe { AsyncFd::register_with_interest(stop.fd(), Interest::READABLE) }?;
        ready();
        tokio::select! {
            () = accept_loop(&listener) => unreachable!("the accept loop never ends"),
            readable = stop.readable() => readable.map(drop),
        }
    });
    // Dropping the runtime drops every connection task and so closes its socket.
    drop(runtime);
    Ok(result?)
}

/// Accepts forever, a task per connection.
async fn accept_loop(listener: &TcpListener) {
    loop {
        match listener.accept().await {
            Ok((stream, _)) => {
                // A failure here means the peer is gone; the first read will say so.
                let _ = stream.set_nodelay(true);
                tokio::spawn(echo(stream));
            }
            // Blocks the worker for 10 ms on a resource error only (no `time` feature, and
            // the condition is rare and fatal to the measurement anyway).
            Err(e) => super::accept_failed(&e),
        }
    }
}

/// Echoes one connection until the peer closes it or an error occurs.
async fn echo(mut stream: TcpStream) {
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let n = match stream.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        if stream.write_all(&buf[..n]).await.is_err() {
            return;
        }
    }
}
