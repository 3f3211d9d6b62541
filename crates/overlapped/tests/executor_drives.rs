//! The built-in executor's idle workers drive the engine: a completion that arrives
//! while the worker waits is reaped by the worker itself, which then runs the woken
//! task, rather than by the background reaper (a thread hop). One test, in its own
//! process, because which thread drives is process-wide.

mod util;

use std::future::{Future, IntoFuture as _};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};
use std::thread;
use std::time::Duration;

use overlapped::Recv;
use overlapped::executor::Runtime;

/// The names of the threads that woke a future.
type Wakers = Arc<Mutex<Vec<String>>>;

/// A waker that notes the thread it is called on, then wakes the task's own waker.
struct Noting {
    inner: Waker,
    seen: Wakers,
}

impl Wake for Noting {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }
    fn wake_by_ref(self: &Arc<Self>) {
        let name = thread::current().name().unwrap_or("<unnamed>").to_owned();
        self.seen.lock().unwrap().push(name);
        self.inner.wake_by_ref();
    }
}

/// Polls `fut` with a [`Noting`] waker.
struct Traced<F> {
    fut: Pin<Box<F>>,
    seen: Wakers,
}

impl<F: Future> Future for Traced<F> {
    type Output = F::Output;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let waker = Waker::from(Arc::new(Noting {
            inner: cx.waker().clone(),
            seen: Arc::clone(&self.seen),
        }));
        self.fut.as_mut().poll(&mut Context::from_waker(&waker))
    }
}

#[test]
fn an_idle_worker_reaps_the_completion_of_its_task() {
    const ROUNDS: usize = 50;
    let rt = Runtime::builder()
        .threads(1)
        .thread_name("worker")
        .build()
        .unwrap();
    let (a, b) = util::tcp_pair();
    let seen: Wakers = Arc::default();
    let s2 = Arc::clone(&seen);
    // The result comes back on a plain channel: this thread must not wait through the
    // library (it would drive the engine itself).
    let (tx, rx) = std::sync::mpsc::channel();
    let _task = rt.spawn(async move {
        let mut got = 0;
        while got < ROUNDS {
            let fut = Recv::new(&a, vec![0u8; 16]).into_future();
            let done = Traced {
                fut: Box::pin(fut),
                seen: Arc::clone(&s2),
            }
            .await
            .expect("posted");
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
