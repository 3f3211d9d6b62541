//! `ovl send ADDR TEXT`: one overlapped send, overlapped receives until the echo is
//! complete, and a byte-for-byte check.

use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use overlapped::{Event, Overlapped, Recv, Send, Socket, WsaError};

use crate::args::SendArgs;

/// Sends the text `count` times, printing each echo.
///
/// # Errors
/// Connection refused or reset, an echo that differs from the text, or no echo within
/// the timeout.
pub(crate) fn run(a: &SendArgs) -> anyhow::Result<()> {
    let sock =
        Socket::connect_to(a.addr).with_context(|| format!("cannot connect to {}", a.addr))?;
    let ev = Event::new_manual();
    let ov = Overlapped::with_event(&ev);
    let want = a.text.as_bytes();
    for _ in 0..a.count {
        let posted = Send::new(&sock, want.to_vec())
            .post(&ov)
            .context("send failed")?;
        wait(&sock, &ov, &ev, a.timeout).context("send did not complete")?;
        posted.wait().0.context("send failed")?;

        let got = receive(&sock, &ov, &ev, want.len(), a.timeout)?;
        if got != want {
            bail!(
                "the echo differs from what was sent: sent {} bytes {:?}, received {} bytes {:?}",
                want.len(),
                a.text,
                got.len(),
                String::from_utf8_lossy(&got)
            );
        }
        outln!("{}", String::from_utf8_lossy(&got));
    }
    Ok(())
}

/// Receives exactly `len` bytes (an echo may arrive in pieces) within `timeout`.
fn receive(
    sock: &Socket,
    ov: &Overlapped,
    ev: &Event,
    len: usize,
    timeout: Duration,
) -> anyhow::Result<Vec<u8>> {
    let deadline = Instant::now() + timeout;
    let mut got = Vec::with_capacity(len);
    while got.len() < len {
        let posted = Recv::new(sock, vec![0u8; len - got.len()])
            .post(ov)
            .context("receive failed")?;
        let left = deadline.saturating_duration_since(Instant::now());
        wait(sock, ov, ev, left).with_context(|| {
            format!(
                "no complete echo within {:.1} s ({} of {len} bytes)",
                timeout.as_secs_f64(),
                got.len()
            )
        })?;
        let (result, buf) = posted.wait();
        let n = result.context("receive failed")?.bytes;
        if n == 0 {
            bail!(
                "the server closed the connection after {} of {len} echoed bytes",
                got.len()
            );
        }
        got.extend_from_slice(&buf[..n]);
    }
    Ok(got)
}

/// Waits for the operation bound to `ov`; cancels it if `timeout` passes first.
fn wait(sock: &Socket, ov: &Overlapped, ev: &Event, timeout: Duration) -> Result<(), WsaError> {
    if ev.wait(Some(timeout))? {
        return Ok(());
    }
    sock.cancel(ov);
    Err(WsaError::WSAETIMEDOUT)
}
