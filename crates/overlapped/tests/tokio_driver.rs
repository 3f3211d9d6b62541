//! The engine driven by tokio's reactor (`--features tokio`): one test, in its own
//! process, because which runtime drives the engine is process-wide state.
#![cfg(feature = "tokio")]

mod util;

use std::future::IntoFuture as _;
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use overlapped::{Accept, Event, Overlapped, Recv, Send, Socket, tokio_driver};

const LONG: Duration = Duration::from_secs(20);

/// A peer thread that sends `rounds` messages and reads each echo back.
fn peer(addr: std::net::SocketAddr, rounds: usize) -> thread::JoinHandle<()> {
    thread::spawn(move || {
        let sock = Socket::connect_to(addr).expect("connect");
        for r in 0..rounds {
            // A pause, so that the server's receive is pending (not completed at once).
            thread::sleep(Duration::from_millis(2));
            let msg = vec![u8::try_from(r % 251).unwrap(); 100 + r];
            let mut off = 0;
            while off < msg.len() {
                off += sock.send(&msg[off..]).unwrap();
            }
            let mut back = vec![0u8; msg.len()];
            let mut got = 0;
            while got < back.len() {
                let n = sock.recv(&mut back[got..]).unwrap();
                assert!(n > 0, "server closed early");
                got += n;
            }
            assert_eq!(back, msg, "echo of round {r}");
        }
    })
}

/// Accepts one connection and echoes `rounds` messages, tracing who woke its futures.
async fn serve_one(rounds: usize, seen: &util::Wakers) {
    let l = util::listener();
    let client = peer(l.local_addr().unwrap(), rounds);
    let conn = Socket::tcp_v4().unwrap();
    util::traced(Accept::new(&l, &conn).into_future(), seen)
        .await
        .expect("accept posted")
        .result
        .expect("accept");
    let mut buf = vec![0u8; 4096];
    let mut echoed = 0;
    while echoed < rounds {
        let got = util::traced(Recv::new(&conn, buf).into_future(), seen)
            .await
            .expect("recv posted");
        let n = got.result.expect("recv").bytes;
        assert!(n > 0, "peer closed early");
        let sent = util::traced(
            Send::new(&conn, got.output[..n].to_vec()).into_future(),
            seen,
        )
        .await
        .expect("send posted");
        assert_eq!(sent.result.expect("send").bytes, n);
        buf = got.output;
        echoed += 1;
    }
    tokio::task::spawn_blocking(move || client.join().unwrap())
        .await
        .unwrap();
}

/// While a runtime is registered, the futures' wakers are called by its reactor's task,
/// never by the background reaper; when it shuts down, the reaper delivers again, and
/// the next runtime whose futures wait registers itself.
#[test]
fn the_reactor_of_a_tokio_runtime_drives_the_engine() {
    let (_, hung) = util::with_watchdog(
        LONG * 3,
        || {
            eprintln!("the_reactor_of_a_tokio_runtime_drives_the_engine: hung");
            std::process::exit(101);
        },
        run,
    );
    assert!(!hung);
}

fn run() {
    assert!(!tokio_driver::is_registered(), "nothing registered yet");

    // Outside a runtime, registration is refused with a clear error.
    assert!(tokio_driver::register().is_err());

    // A runtime without its I/O driver cannot drive the engine: refused, not half done.
    let no_io = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let r = no_io.block_on(async { tokio_driver::register() });
    assert!(r.is_err(), "a runtime without I/O is refused: {r:?}");
    assert!(!tokio_driver::is_registered());
    drop(no_io);

    // 1. A current-thread runtime, registered explicitly, then given a turn so that its
    //    driving task has run (and turned the reaper's notifications off).
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let seen: util::Wakers = Arc::default();
    let before = tokio_driver::reaped();
    rt.block_on(async {
        assert!(tokio_driver::register().unwrap(), "this call registers");
        assert!(!tokio_driver::register().unwrap(), "once per process");
        tokio::task::yield_now().await;
        serve_one(200, &seen).await;
    });
    assert!(tokio_driver::is_registered());
    let woken = seen.lock().unwrap().clone();
    assert!(!woken.is_empty(), "some operations waited");
    assert!(
        woken.iter().all(|t| t != "ovl-reaper"),
        "the background reaper woke a future while tokio drove: {woken:?}"
    );
    let by_tokio = tokio_driver::reaped() - before;
    assert!(
        by_tokio >= woken.len() as u64,
        "tokio reaped {by_tokio} results for {} wake-ups",
        woken.len()
    );

    // 2. The runtime shuts down: the background reaper delivers again. Nobody waits in
    //    the library here, so only the reaper can set this event.
    drop(rt);
    assert!(!tokio_driver::is_registered());
    let (a, b) = util::tcp_pair();
    let ev = Event::new_manual();
    let ov = Overlapped::with_event(&ev);
    let posted = Recv::new(&a, vec![0u8; 16]).post(&ov).expect("posted");
    assert!(!ev.is_set());
    b.send(b"after").unwrap();
    assert!(
        util::eventually(LONG, || ev.is_set()),
        "the background reaper did not take over after the runtime shut down"
    );
    assert_eq!(posted.wait().0.expect("recv").bytes, 5);

    // 3. A multi-thread runtime registers itself the first time a future waits in it.
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let seen: util::Wakers = Arc::default();
    let before = tokio_driver::reaped();
    rt.block_on(async {
        tokio::spawn(async move {
            serve_one(200, &seen).await;
        })
        .await
        .unwrap();
    });
    assert!(
        tokio_driver::is_registered(),
        "registered by a waiting future"
    );
    assert!(tokio_driver::reaped() > before, "tokio reaped results");
    drop(rt);
    assert!(!tokio_driver::is_registered());
}
