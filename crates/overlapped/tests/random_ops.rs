//! Randomized operation sequences (issue 8): a seeded generator drives random
//! interleavings of posts, cancels, closes, drops and peer behaviour over several TCP
//! connections and a listener, in all three notification modes, and checks the
//! guarantees that no single behaviour test can cover in combination:
//! - every accepted post is notified **exactly once** through its own mode (event set,
//!   routine run on the issuing thread, callback run), an immediate failure never; a
//!   routine is dropped unrun only when its issuing thread has exited;
//! - the bytes each connection receives are the bytes its peer sent, in order (byte `i`
//!   of a stream is a function of the stream and `i`): all of them when the stream ended
//!   cleanly, a prefix up to the first send that did not complete whole otherwise;
//! - no descriptor and no buffer outlives the run.
//!
//! The generator is in `random_ops/world.rs`; the checks are made as completions arrive
//! and once more after a final drain. Everything is bounded in time: a progress watchdog
//! aborts the process, printing the seed, if a run stops making progress for 60 s.
//!
//! # Running
//! - CI (bounded, a few seconds per backend): `cargo test --release -p overlapped --test
//!   random_ops` (run once per backend with `OVL_BACKEND=uring|poll`).
//! - One seed: `OVL_RANDOM_SEED=1234 cargo test --release -p overlapped --test random_ops
//!   -- --nocapture` (the seed of a failing run is printed with the failure).
//! - The long run (>= 1,000,000 operations): `OVL_RANDOM_SEED=7 OVL_RANDOM_OPS=1000000
//!   cargo test --release -p overlapped --test random_ops -- --nocapture`.

mod util;

#[path = "random_ops/world.rs"]
mod world;

use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use overlapped::{Accept, Event, Overlapped, Socket, Status, WaitOutcome, wait_any};

/// Seeds of the bounded CI run (each with [`CI_OPS`] operations).
const CI_SEEDS: [u64; 8] = [1, 2, 3, 4, 5, 6, 7, 8];
/// Operations per seed in the bounded CI run.
const CI_OPS: u64 = 20_000;

/// Descriptor counts are process-wide: runs in this file go one at a time.
fn serial() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

fn env_u64(name: &str) -> Option<u64> {
    let v = std::env::var(name).ok()?;
    Some(
        v.trim()
            .parse()
            .unwrap_or_else(|_| panic!("{name}={v:?} is not a number")),
    )
}

#[test]
fn random_operation_sequences() {
    let _g = serial();
    let ops = env_u64("OVL_RANDOM_OPS").unwrap_or(CI_OPS);
    let seeds: Vec<u64> = match env_u64("OVL_RANDOM_SEED") {
        Some(s) => vec![s],
        None => CI_SEEDS.to_vec(),
    };
    for seed in seeds {
        // Strict: the bugs this generator found are fixed (see the tests below), so
        // their symptoms fail the run like any other.
        let stats = world::run(seed, ops, true);
        println!("{stats}");
    }
}

/// The seed that first showed the AcceptEx bug below, run a few times.
#[test]
fn random_operation_sequences_strict_seed_3() {
    let _g = serial();
    for _ in 0..5 {
        println!("{}", world::run(3, 4_000, true));
    }
}

/// Minimal reproduction: a connection that is reset while it waits in the listener's
/// backlog; an AcceptEx with a first-data buffer accepts it during the post, its receive
/// fails with `ECONNRESET`, and the post returns `Status::Immediate` (0 bytes: "peer
/// closed gracefully") while the notification says `WSAECONNRESET`. An immediate
/// completion must notify the result the post returned (and an immediate failure must
/// notify nothing).
#[test]
fn accept_with_first_data_reports_immediate_success_then_notifies_an_error() {
    let _g = serial();
    let l = util::listener();
    let c = Socket::connect_to(l.local_addr().unwrap()).expect("connect");
    util::close_with_rst(c);
    std::thread::sleep(Duration::from_millis(50));
    let a = Socket::tcp_v4().unwrap();
    let ev = Event::new_manual();
    let ov = Overlapped::with_event(&ev);
    match Accept::new(&l, &a).receive(vec![0u8; 64]).post(&ov) {
        Err(e) => assert!(!ev.is_set(), "failed at once ({e:?}) yet signalled"),
        Ok(p) => {
            let status = p.status();
            assert_eq!(
                wait_any(&[&ev], Some(Duration::from_secs(5)), false).unwrap(),
                WaitOutcome::Signaled(0)
            );
            let (r, _) = p.wait();
            if let Status::Immediate(t) = status {
                assert_eq!(r, Ok(t), "the post said {status:?}, the notification {r:?}");
            }
        }
    }
}

/// An AcceptEx with a first-data buffer that has accepted its connection and waits for
/// the first data belongs to the listener (semantics 1.7: `closesocket(listener)` gives
/// `ERROR_OPERATION_ABORTED`; the crate docs of `Accept` say the same), but neither
/// closing the listener nor cancelling it on the listener completes it: it stays pending
/// until data arrives or the acceptor is closed.
#[test]
fn closing_the_listener_aborts_an_accept_waiting_for_first_data() {
    let _g = serial();
    for close in [true, false] {
        let l = util::listener();
        let a = Socket::tcp_v4().unwrap();
        let ev = Event::new_manual();
        let ov = Overlapped::with_event(&ev);
        let p = Accept::new(&l, &a)
            .receive(vec![0u8; 64])
            .post(&ov)
            .unwrap();
        let _c = Socket::connect_to(l.local_addr().unwrap()).expect("connect");
        // The connection is accepted; the accept now waits for the first data.
        assert_eq!(
            wait_any(&[&ev], Some(Duration::from_millis(200)), false).unwrap(),
            WaitOutcome::Timeout
        );
        if close {
            drop(l);
        } else {
            assert!(
                l.cancel(&ov),
                "the listener's cancel did not find its AcceptEx"
            );
        }
        assert_eq!(
            wait_any(&[&ev], Some(Duration::from_secs(5)), false).unwrap(),
            WaitOutcome::Signaled(0),
            "the AcceptEx was not completed by the listener's {}",
            if close { "close" } else { "cancel" }
        );
        assert_eq!(p.wait().0, Err(overlapped::WsaError::WSA_OPERATION_ABORTED));
    }
}

/// A receive pending when the peer resets the connection, while a send on the same
/// socket meets the reset first: Linux reports the reset (`ECONNRESET`) to one syscall
/// only, the receive's `recvmsg` then returns 0, and the receive completes with success
/// and 0 bytes, a graceful end of stream, although the connection was reset and data
/// was lost (Windows fails it with `WSAECONNRESET`; the socket's `reset` flag is set by
/// the send but not consulted when a receive's result is 0). Found by the random test
/// as "stream ended cleanly ... (lost bytes)" (seed 7, 1,000,000 operations, both
/// backends). Racy: tries up to 300 times.
#[test]
fn a_reset_connection_never_looks_like_a_graceful_close() {
    let _g = serial();
    let mut graceful = 0;
    for _ in 0..300 {
        let (c, s) = util::tcp_pair();
        let ev = Event::new_manual();
        let ov = Overlapped::with_event(&ev);
        let p = overlapped::Recv::new(&s, vec![0u8; 64]).post(&ov).unwrap();
        util::close_with_rst(c);
        let ov2 = Overlapped::new();
        let _ = overlapped::Send::new(&s, vec![1u8; 16]).post(&ov2);
        assert_eq!(
            wait_any(&[&ev], Some(Duration::from_secs(5)), false).unwrap(),
            WaitOutcome::Signaled(0)
        );
        if p.wait().0 == Ok(overlapped::Transfer { bytes: 0, flags: 0 }) {
            graceful += 1;
        }
    }
    assert_eq!(
        graceful, 0,
        "{graceful} of 300 receives on a reset connection reported a graceful close"
    );
}
