//! The built-in executor's idle workers drive the engine: a completion that arrives
//! while the worker waits is reaped by the worker itself, which then runs the woken
//! task, rather than by the background reaper (a thread hop). One test, in its own
//! process, because which thread drives is process-wide.

mod util;

use std::future::IntoFuture as _;
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use overlapped::Recv;
use overlapped::executor::Runtime;

#[test]
fn an_idle_worker_reaps_the_completion_of_its_task() {
    const ROUNDS: usize = 50;
    let rt = Runtime::builder()
        .threads(1)
        .thread_name("worker")
        .build()
        .unwrap();
    let (a, b) = util::tcp_pair();
    let seen: util::Wakers = Arc::default();
    let s2 = Arc::clone(&seen);
    // The result comes back on a plain channel: this thread must not wait through the
    // library (it would drive the engine itself).
    let (tx, rx) = std::sync::mpsc::channel();
    let _task = rt.spawn(async move {
        let mut got = 0;
        while got < ROUNDS {
            let fut = Recv::new(&a, vec![0u8; 16]).into_future();
            let done = util::traced(fut, &s2).await.expect("posted");
            let n = done.result.expect("recv").bytes;
            assert!(n > 0, "peer closed early");
            got += n;
        }
        let _ = tx.send(got);
    });
    let sender = thread::spawn(move || {
        for _ in 0..ROUNDS {
            // The worker is idle (waiting) when each byte arrives.
            thread::sleep(Duration::from_millis(3));
            b.send(b"x").unwrap();
        }
        b
    });
    let got = rx
        .recv_timeout(Duration::from_secs(20))
        .expect("the task finished");
    assert_eq!(got, ROUNDS);
    drop(sender.join().unwrap());
    let woken = seen.lock().unwrap().clone();
    assert!(!woken.is_empty(), "the receives waited");
    assert!(
        woken.iter().all(|t| t.starts_with("worker")),
        "a completion was reaped off the worker: {woken:?}"
    );
}
