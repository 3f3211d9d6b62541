//! Faults a socket library must survive (issue 8, item 5): a peer that never reads
//! (pending sends stay pending, memory stays bounded, cancel and close still complete
//! them), a peer reset in the middle of a transfer (a prefix of the stream arrives
//! intact, then the reset code), and `SIGPIPE`, which must never kill the process even
//! when the program restored its default action. Descriptor exhaustion is in
//! `crates/ovl/tests/faults.rs` (it needs a server process under a low limit).

mod util;

use std::process::Command;
use std::time::Duration;

use overlapped::{Event, Overlapped, Posted, Recv, Send, Status, WsaError, wait_all};

/// Upper bound on every wait: a broken library fails instead of hanging.
const LONG: Duration = Duration::from_secs(10);

/// The environment variable naming the test a re-executed child runs.
const CHILD: &str = "OVL_FAULTS_CHILD";

/// Taken by every test of this file: the memory check measures the whole process.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Resident memory of this process, in KiB.
fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .expect("VmRSS")
}

/// Byte `i` of the test stream.
fn pattern(i: usize) -> u8 {
    u8::try_from((i * 7 + i / 251) % 251).unwrap()
}

#[test]
fn sends_to_a_peer_that_never_reads_stay_pending_until_cancelled_or_closed() {
    const SENDS: usize = 40;
    const SIZE: usize = 256 * 1024;
    let _serial = serial();
    let (client, _server) = util::tcp_pair();
    util::fill_send_buffer(&client);
    let before = rss_kib();
    let mut posted: Vec<(Event, Overlapped, Posted<Vec<u8>>)> = Vec::new();
    for i in 0..SENDS {
        let ev = Event::new_manual();
        let ov = Overlapped::with_event(&ev);
        let p = Send::new(&client, vec![u8::try_from(i).unwrap(); SIZE])
            .post(&ov)
            .unwrap();
        assert_eq!(p.status(), Status::Pending, "send {i} did not pend");
        posted.push((ev, ov, p));
    }
    std::thread::sleep(Duration::from_millis(200));
    assert!(
        posted.iter().all(|(ev, _, _)| !ev.is_set()),
        "a send completed although the peer reads nothing"
    );
    // Memory: the buffers we handed over (10 MiB), and not a copy per send or a queue
    // that grows on its own.
    let grown = rss_kib().saturating_sub(before);
    let handed = u64::try_from(SENDS * SIZE / 1024).unwrap();
    assert!(
        grown < handed + 8 * 1024,
        "RSS grew by {grown} KiB for {handed} KiB of pending sends"
    );
    // Cancel the first half by record, then all the rest at once. (Loopback may still
    // take a send now and then as buffers drain into the peer's queue: such a send
    // completed whole before its cancel, which then finds nothing.)
    for (ev, ov, _) in &posted[..SENDS / 2] {
        assert!(client.cancel(ov) || ev.is_set(), "nothing to cancel");
    }
    client.cancel_all();
    let events: Vec<&Event> = posted.iter().map(|(ev, _, _)| ev).collect();
    for chunk in events.chunks(64) {
        wait_all(chunk, Some(LONG), false).unwrap();
    }
    let mut aborted = 0;
    for (i, (_, _, p)) in posted.into_iter().enumerate() {
        let (r, buf) = p.wait();
        match r {
            Ok(t) => assert_eq!(t.bytes, SIZE, "send {i} was reported partial"),
            Err(e) => {
                assert_eq!(e, WsaError::WSA_OPERATION_ABORTED, "send {i}");
                aborted += 1;
            }
        }
        assert_eq!(buf.len(), SIZE, "the buffer came back whole");
    }
    assert!(
        aborted >= SENDS / 2,
        "only {aborted} of {SENDS} pending sends were cancelled"
    );
    // Pending again, then closed: each completes once, aborted by the close.
    let mut again = Vec::new();
    for _ in 0..8 {
        let ev = Event::new_manual();
        let ov = Overlapped::with_event(&ev);
        let p = Send::new(&client, vec![1u8; SIZE]).post(&ov).unwrap();
        again.push((ev, ov, p));
    }
    client.close();
    // Each completes once: aborted by the close, or (the first ones, as the peer's
    // receive window keeps growing on loopback) sent just before it.
    let mut aborted = 0;
    for (ev, _ov, p) in again {
        assert!(ev.wait(Some(LONG)).unwrap(), "close left a send pending");
        match p.wait().0 {
            Ok(t) => assert_eq!(t.bytes, SIZE, "a partial send was reported"),
            Err(e) => {
                assert!(
                    e == WsaError::WSAECONNABORTED || e == WsaError::WSA_OPERATION_ABORTED,
                    "a send pending at close completed with {e:?}"
                );
                aborted += 1;
            }
        }
    }
    assert!(aborted > 0, "no send was pending at close");
}

#[test]
fn a_peer_reset_mid_transfer_delivers_an_intact_prefix_then_the_reset() {
    const TOTAL: usize = 4 * 1024 * 1024;
    let _serial = serial();
    let (client, server) = util::tcp_pair();
    let data: Vec<u8> = (0..TOTAL).map(pattern).collect();
    let sender = std::thread::spawn(move || {
        // Send a good part of the stream, then reset the connection mid-transfer.
        let mut sent = 0;
        while sent < TOTAL / 4 {
            sent += client.send(&data[sent..(sent + 65536).min(TOTAL)]).unwrap();
        }
        util::close_with_rst(client);
        sent
    });
    let mut received = 0;
    let error = loop {
        let ov = Overlapped::new();
        let (r, buf) = match Recv::new(&server, vec![0u8; 32 * 1024]).post(&ov) {
            Ok(p) => p.wait(),
            Err(e) => break Some(e),
        };
        match r {
            Ok(t) if t.bytes == 0 => break None,
            Ok(t) => {
                for (k, b) in buf[..t.bytes].iter().enumerate() {
                    assert_eq!(
                        *b,
                        pattern(received + k),
                        "corrupt byte at {}",
                        received + k
                    );
                }
                received += t.bytes;
            }
            Err(e) => break Some(e),
        }
    };
    let sent = sender.join().unwrap();
    assert!(received <= sent, "received {received} of {sent} bytes sent");
    assert_eq!(
        error,
        Some(WsaError::WSAECONNRESET),
        "the receive after the reset (after {received} bytes)"
    );
    // And the next receive fails at once with the same code.
    let ov = Overlapped::new();
    match Recv::new(&server, vec![0u8; 16]).post(&ov) {
        Err(e) => assert_eq!(e, WsaError::WSAECONNRESET),
        Ok(p) => assert_eq!(p.wait().0.unwrap_err(), WsaError::WSAECONNRESET),
    }
}

/// In a child process with `SIGPIPE` back at its default action (which kills), sends to
/// a reset peer, overlapped and synchronous, must fail with an error, not kill.
#[test]
fn sigpipe_never_kills_a_sender_to_a_reset_peer() {
    let me = "sigpipe_never_kills_a_sender_to_a_reset_peer";
    if std::env::var(CHILD).is_ok_and(|v| v == me) {
        // SAFETY: restoring the default disposition of SIGPIPE has no memory effects.
        unsafe { libc::signal(libc::SIGPIPE, libc::SIG_DFL) };
        let (client, server) = util::tcp_pair();
        util::close_with_rst(server);
        std::thread::sleep(Duration::from_millis(50));
        let mut codes = Vec::new();
        for _ in 0..4 {
            let ov = Overlapped::new();
            let r = match Send::new(&client, vec![7u8; 65536]).post(&ov) {
                Err(e) => Err(e),
                Ok(p) => p.wait().0.map(|t| t.bytes),
            };
            codes.push(format!("{r:?}"));
            let r = client.send(&[7u8; 1024]);
            codes.push(format!("{r:?}"));
        }
        println!("survived: {}", codes.join(", "));
        return;
    }
    let _serial = serial();
    let out = Command::new(std::env::current_exe().unwrap())
        .args([me, "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD, me)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "child died ({}): {stdout}{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let line = stdout
        .lines()
        .find_map(|l| l.split_once("survived: ").map(|(_, codes)| codes))
        .unwrap_or_else(|| panic!("child printed no result: {stdout}"));
    assert!(line.contains("WSAECONNRESET"), "{line}");
    assert!(
        !line.contains("Ok("),
        "a send to a reset peer succeeded: {line}"
    );
}
