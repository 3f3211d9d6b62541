//! Drop safety (STYLE habit 6): dropping the `Overlapped`, the `Posted` handle or the
//! `Socket` while an operation is pending neither crashes nor leaks, and the buffer the
//! kernel may write is freed only after the operation has completed.

mod util;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use overlapped::{
    Event, IoBuf, IoBufMut, Overlapped, Recv, Send, Socket, Status, WaitOutcome, WsaError, wait_any,
};

/// Upper bound on every wait: a broken library fails instead of hanging.
const LONG: Duration = Duration::from_secs(5);

/// The descriptor count is process-wide: tests in this file run one at a time.
fn serial() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

/// What a [`Tracked`] buffer's drop saw.
#[derive(Default)]
struct Probe {
    dropped: AtomicBool,
    /// The record's event was already signalled when the buffer was freed.
    completed_first: AtomicBool,
    /// The buffer's bytes at the moment it was freed.
    contents: Mutex<Vec<u8>>,
}

/// Buffers alive right now, across the tests of this file.
static LIVE: AtomicUsize = AtomicUsize::new(0);

/// A receive buffer that records when, and in which state, it is freed.
struct Tracked {
    data: Vec<u8>,
    /// The event of the record the buffer's operation is bound to.
    event: Event,
    probe: Arc<Probe>,
}

impl Tracked {
    fn new(len: usize, event: &Event) -> (Self, Arc<Probe>) {
        let probe = Arc::new(Probe::default());
        LIVE.fetch_add(1, Ordering::SeqCst);
        let t = Self {
            data: vec![0u8; len],
            event: event.clone(),
            probe: Arc::clone(&probe),
        };
        (t, probe)
    }
}

impl Drop for Tracked {
    fn drop(&mut self) {
        self.probe
            .completed_first
            .store(self.event.is_set(), Ordering::SeqCst);
        *self.probe.contents.lock().unwrap() = self.data.clone();
        self.probe.dropped.store(true, Ordering::SeqCst);
        LIVE.fetch_sub(1, Ordering::SeqCst);
    }
}

// SAFETY: the pointer is the Vec's heap buffer, which does not move when `Tracked` moves
// and lives until `Tracked` is dropped; `len` bytes are initialised.
unsafe impl IoBuf for Tracked {
    fn io_ptr(&self) -> *const u8 {
        self.data.as_ptr()
    }
    fn io_len(&self) -> usize {
        self.data.len()
    }
}

// SAFETY: as above; the bytes are writable through the Vec's unique ownership.
unsafe impl IoBufMut for Tracked {
    fn io_mut_ptr(&mut self) -> *mut u8 {
        self.data.as_mut_ptr()
    }
}

fn wait_dropped(probe: &Probe) {
    assert!(
        util::eventually(LONG, || probe.dropped.load(Ordering::SeqCst)),
        "the buffer was never freed (leak)"
    );
}

/// Starts the engine, so that its own descriptors are not counted as a leak.
fn warm_up() {
    drop(Socket::tcp_v4().unwrap());
}

#[test]
fn dropping_the_overlapped_while_a_receive_is_pending() {
    let _g = serial();
    let (client, server) = util::tcp_pair();
    let ev = Event::new_manual();
    let ov = Overlapped::with_event(&ev);
    let (buf, probe) = Tracked::new(16, &ev);
    let posted = Recv::new(&server, buf).post(&ov).unwrap();
    assert_eq!(posted.status(), Status::Pending);
    drop(ov);
    client.send(b"after ov drop").unwrap();
    assert_eq!(
        wait_any(&[&ev], Some(LONG), false).unwrap(),
        WaitOutcome::Signaled(0),
        "the event is still signalled"
    );
    let (r, buf) = posted.wait();
    let n = r.unwrap().bytes;
    assert_eq!(&buf.data[..n], b"after ov drop");
    assert!(!probe.dropped.load(Ordering::SeqCst));
    drop(buf);
    assert!(probe.dropped.load(Ordering::SeqCst));
}

#[test]
fn dropping_the_posted_handle_frees_the_buffer_only_after_completion() {
    let _g = serial();
    let (client, server) = util::tcp_pair();
    let ev = Event::new_manual();
    let ov = Overlapped::with_event(&ev);
    let (buf, probe) = Tracked::new(16, &ev);
    let posted = Recv::new(&server, buf).post(&ov).unwrap();
    assert_eq!(posted.status(), Status::Pending);
    drop(posted);
    // Still pending: the engine keeps the buffer for the kernel.
    assert_eq!(
        wait_any(&[&ev], Some(Duration::from_millis(100)), false).unwrap(),
        WaitOutcome::Timeout
    );
    assert!(!probe.dropped.load(Ordering::SeqCst), "freed while pending");

    client.send(b"into a dropped handle").unwrap();
    assert_eq!(ov.result_timeout(Some(LONG)).unwrap().bytes, 16);
    wait_dropped(&probe);
    assert!(probe.completed_first.load(Ordering::SeqCst));
    assert_eq!(*probe.contents.lock().unwrap(), b"into a dropped h");
}

#[test]
fn dropping_the_overlapped_and_the_handle_then_completing() {
    let _g = serial();
    let (client, server) = util::tcp_pair();
    let ev = Event::new_manual();
    let ov = Overlapped::with_event(&ev);
    let (buf, probe) = Tracked::new(8, &ev);
    let posted = Recv::new(&server, buf).post(&ov).unwrap();
    drop(posted);
    drop(ov);
    assert_eq!(
        wait_any(&[&ev], Some(Duration::from_millis(100)), false).unwrap(),
        WaitOutcome::Timeout
    );
    assert!(!probe.dropped.load(Ordering::SeqCst), "freed while pending");
    client.send(b"orphan").unwrap();
    wait_dropped(&probe);
    assert!(
        probe.completed_first.load(Ordering::SeqCst),
        "freed before its completion"
    );
    assert_eq!(&probe.contents.lock().unwrap()[..6], b"orphan");
    // The socket still works for the next receive.
    client.send(b"next").unwrap();
    let ev2 = Event::new_manual();
    let p2 = Recv::new(&server, vec![0u8; 8])
        .post(&Overlapped::with_event(&ev2))
        .unwrap();
    let (r, b) = p2.wait();
    assert_eq!(&b[..r.unwrap().bytes], b"next");
}

#[test]
fn dropping_the_socket_while_a_receive_is_pending() {
    let _g = serial();
    warm_up();
    let before = util::open_fds();
    let (client, server) = util::tcp_pair();
    let ev = Event::new_manual();
    let ov = Overlapped::with_event(&ev);
    let (buf, probe) = Tracked::new(8, &ev);
    let posted = Recv::new(&server, buf).post(&ov).unwrap();
    drop(server);
    assert_eq!(
        wait_any(&[&ev], Some(LONG), false).unwrap(),
        WaitOutcome::Signaled(0)
    );
    let (r, buf) = posted.wait();
    assert_eq!(r, Err(WsaError::WSAECONNABORTED));
    assert!(!probe.dropped.load(Ordering::SeqCst));
    drop(buf);
    // Data sent by the peer now goes nowhere, harmlessly.
    let _ = client.send(b"too late");
    drop(client);
    assert!(
        util::eventually(LONG, || util::open_fds() == before),
        "descriptors leaked: {} open, {before} before",
        util::open_fds()
    );
}

#[test]
fn dropping_everything_while_a_receive_is_pending() {
    let _g = serial();
    warm_up();
    let before = util::open_fds();
    let (client, server) = util::tcp_pair();
    let ev = Event::new_manual();
    let ov = Overlapped::with_event(&ev);
    let (buf, probe) = Tracked::new(8, &ev);
    let posted = Recv::new(&server, buf).post(&ov).unwrap();
    drop(posted);
    drop(ov);
    drop(server);
    wait_dropped(&probe);
    assert!(
        probe.completed_first.load(Ordering::SeqCst),
        "freed before its completion"
    );
    drop(client);
    assert!(
        util::eventually(LONG, || util::open_fds() == before),
        "descriptors leaked: {} open, {before} before",
        util::open_fds()
    );
}

#[test]
fn dropping_handles_of_pending_sends() {
    let _g = serial();
    warm_up();
    let before = util::open_fds();
    for round in 0..10 {
        let (client, server) = util::tcp_pair();
        util::fill_send_buffer(&server);
        let ev = Event::new_manual();
        let ov = Overlapped::with_event(&ev);
        let (buf, probe) = Tracked::new(256 * 1024, &ev);
        let posted = Send::new(&server, buf).post(&ov).unwrap();
        assert_eq!(posted.status(), Status::Pending);
        drop(posted);
        drop(ov);
        if round % 2 == 0 {
            drop(server);
            drop(client);
        } else {
            util::close_with_rst(client);
            drop(server);
        }
        wait_dropped(&probe);
        assert!(
            probe.completed_first.load(Ordering::SeqCst),
            "round {round}"
        );
    }
    assert!(
        util::eventually(LONG, || util::open_fds() == before),
        "descriptors leaked: {} open, {before} before",
        util::open_fds()
    );
}

#[test]
fn many_drop_cycles_leak_no_descriptors_or_buffers() {
    let _g = serial();
    warm_up();
    let before = util::open_fds();
    let live_before = LIVE.load(Ordering::SeqCst);
    let mut probes = Vec::new();
    for i in 0..200 {
        let (client, server) = util::tcp_pair();
        let ev = Event::new_manual();
        let ov = Overlapped::with_event(&ev);
        let (buf, probe) = Tracked::new(32, &ev);
        probes.push(probe);
        let posted = Recv::new(&server, buf).post(&ov).unwrap();
        match i % 4 {
            0 => {
                // Handle first, then data, then the rest.
                drop(posted);
                client.send(b"data").unwrap();
                drop(server);
                drop(ov);
            }
            1 => {
                // Record first, then the socket, keeping the handle for a while.
                drop(ov);
                drop(server);
                assert_eq!(posted.wait().0, Err(WsaError::WSAECONNABORTED));
            }
            2 => {
                // Socket first.
                drop(server);
                drop(posted);
                drop(ov);
            }
            _ => {
                // Everything, then the peer resets the connection.
                drop(posted);
                drop(ov);
                drop(server);
                util::close_with_rst(client);
                continue;
            }
        }
        drop(client);
    }
    assert!(
        util::eventually(LONG, || LIVE.load(Ordering::SeqCst) == live_before),
        "{} buffers never freed",
        LIVE.load(Ordering::SeqCst) - live_before
    );
    for (i, p) in probes.iter().enumerate() {
        assert!(p.dropped.load(Ordering::SeqCst), "cycle {i}: buffer leaked");
        assert!(
            p.completed_first.load(Ordering::SeqCst),
            "cycle {i}: buffer freed before its completion"
        );
    }
    assert!(
        util::eventually(LONG, || util::open_fds() == before),
        "descriptors leaked: {} open, {before} before",
        util::open_fds()
    );
}

#[test]
fn the_buffers_come_back_only_once_the_record_shows_completion() {
    let _g = serial();
    let (client, server) = util::tcp_pair();
    for round in 0..300 {
        let ev = Event::new_manual();
        let ov = Overlapped::with_event(&ev);
        let mut posted = Recv::new(&server, vec![0u8; 4]).post(&ov).unwrap();
        assert_eq!(posted.status(), Status::Pending);
        std::thread::scope(|s| {
            s.spawn(|| client.send(b"abcd").unwrap());
            // Poll for the buffers as eagerly as possible (bounded).
            let deadline = std::time::Instant::now() + LONG;
            let (r, buf) = loop {
                match posted.try_take() {
                    Ok(done) => break done,
                    Err(p) => posted = p,
                }
                assert!(
                    std::time::Instant::now() < deadline,
                    "round {round}: never completed"
                );
                std::hint::spin_loop();
            };
            // The buffers are back: the record must say so too.
            assert!(
                ov.is_complete(),
                "round {round}: buffers back, record still pending"
            );
            assert!(
                ev.is_set(),
                "round {round}: buffers back, event not signalled"
            );
            assert_eq!(ov.result(false).unwrap().bytes, 4);
            assert_eq!(&buf[..r.unwrap().bytes], b"abcd");
        });
    }
}
