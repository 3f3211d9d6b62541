//! Timers (`time::sleep`, `time::timeout`), async event waits (`Event::wait_async`),
//! `executor::yield_now` and runtime handles, under the built-in executor and (with
//! `--features tokio`) under tokio.

mod util;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Waker};
use std::time::{Duration, Instant};

use overlapped::executor::{self, Runtime};
use overlapped::time::{self, Elapsed};
use overlapped::{Event, Recv};

/// Upper bound on every wait: a broken library fails instead of hanging.
const LONG: Duration = Duration::from_secs(10);

#[test]
fn sleeps_end_in_deadline_order_and_never_early() {
    let rt = Runtime::new(1).unwrap();
    let order = Arc::new(Mutex::new(Vec::new()));
    let start = Instant::now();
    let handles: Vec<_> = [50u64, 10, 40, 20, 30]
        .into_iter()
        .map(|ms| {
            let order = Arc::clone(&order);
            rt.spawn(async move {
                time::sleep(Duration::from_millis(ms)).await;
                let late = start.elapsed();
                order.lock().unwrap().push(ms);
                assert!(
                    late >= Duration::from_millis(ms),
                    "{ms} ms ended after {late:?}"
                );
            })
        })
        .collect();
    rt.block_on(async {
        for h in handles {
            h.await;
        }
    });
    assert_eq!(*order.lock().unwrap(), vec![10, 20, 30, 40, 50]);
}

#[test]
fn a_deadline_in_the_past_is_ready_at_once() {
    let s = time::sleep_until(Instant::now() - Duration::from_secs(1));
    assert!(s.is_elapsed());
    let mut s = std::pin::pin!(s);
    assert!(
        s.as_mut()
            .poll(&mut Context::from_waker(Waker::noop()))
            .is_ready()
    );
    // "Forever" does not overflow.
    let never = time::sleep(Duration::MAX);
    assert!(never.deadline() > Instant::now() + Duration::from_secs(86_400 * 365));
}

#[test]
fn timeout_passes_a_ready_output_through() {
    assert_eq!(executor::block_on(time::timeout(LONG, async { 7 })), Ok(7));
}

#[test]
fn timeout_cancels_a_pending_receive_and_the_socket_still_works() {
    let (client, server) = util::tcp_pair();
    let start = Instant::now();
    let r = executor::block_on(time::timeout(
        Duration::from_millis(50),
        Recv::new(&server, vec![0u8; 8]),
    ));
    assert_eq!(r.err(), Some(Elapsed));
    assert!(start.elapsed() >= Duration::from_millis(50));
    // The cancelled receive took nothing: the next one gets what is sent now.
    client.send(b"after").unwrap();
    let got = executor::block_on(time::timeout(LONG, Recv::new(&server, vec![0u8; 8])))
        .expect("in time")
        .expect("posted");
    let n = got.result.expect("received").bytes;
    assert_eq!(&got.output[..n], b"after");
}

#[test]
fn an_event_set_from_another_thread_wakes_its_task() {
    let ev = Event::new_manual();
    let e2 = ev.clone();
    let setter = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(20));
        e2.set();
    });
    // Waited for alone (no timer that could poll it again): only the set's wake-up
    // can end it.
    let (tx, rx) = std::sync::mpsc::channel();
    let e3 = ev.clone();
    std::thread::spawn(move || {
        executor::block_on(e3.wait_async());
        let _ = tx.send(());
    });
    assert!(
        rx.recv_timeout(LONG).is_ok(),
        "the set did not wake the wait"
    );
    assert!(ev.is_set(), "a manual-reset event stays set");
    // Already set: ready at once, for any number of waits.
    executor::block_on(ev.wait_async());
    executor::block_on(ev.wait_async());
    setter.join().unwrap();
}

#[test]
fn an_auto_reset_set_releases_one_waiting_task() {
    let rt = Runtime::new(2).unwrap();
    let ev = Event::new_auto();
    let released = Arc::new(AtomicUsize::new(0));
    let tasks: Vec<_> = (0..2)
        .map(|_| {
            let (ev, released) = (ev.clone(), Arc::clone(&released));
            rt.spawn(async move {
                ev.wait_async().await;
                released.fetch_add(1, Ordering::SeqCst);
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(50)); // both tasks wait
    ev.set();
    assert!(util::eventually(LONG, || released.load(Ordering::SeqCst) >= 1));
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(released.load(Ordering::SeqCst), 1, "one set, one release");
    assert!(!ev.is_set(), "the released task took the signal");
    ev.set();
    assert!(util::eventually(LONG, || released.load(Ordering::SeqCst) == 2));
    assert!(!ev.is_set());
    rt.block_on(async {
        for t in tasks {
            t.await;
        }
    });
}

#[test]
fn a_dropped_wait_takes_no_signal() {
    let ev = Event::new_auto();
    {
        let mut w = std::pin::pin!(ev.wait_async());
        assert!(
            w.as_mut()
                .poll(&mut Context::from_waker(Waker::noop()))
                .is_pending()
        );
    }
    ev.set();
    assert!(ev.is_set(), "nobody waits any more: the signal stays");
    assert_eq!(ev.wait(Some(Duration::ZERO)), Ok(true));
}

#[test]
fn yield_now_lets_another_task_run_on_one_worker() {
    let rt = Runtime::new(1).unwrap();
    let flag = Arc::new(AtomicBool::new(false));
    let f2 = Arc::clone(&flag);
    let spinner = rt.spawn(async move {
        // Without a real yield this task would never let the setter run.
        for _ in 0..1_000_000 {
            if f2.load(Ordering::SeqCst) {
                return true;
            }
            executor::yield_now().await;
        }
        false
    });
    let setter = rt.spawn({
        let flag = Arc::clone(&flag);
        async move { flag.store(true, Ordering::SeqCst) }
    });
    let saw = rt.block_on(async move {
        setter.await;
        spinner.await
    });
    assert!(saw, "the spinning task never saw the other task run");
}

#[cfg(feature = "tokio")]
#[tokio::test(flavor = "current_thread")]
async fn timers_and_event_waits_under_tokio() {
    let start = Instant::now();
    time::sleep(Duration::from_millis(20)).await;
    assert!(start.elapsed() >= Duration::from_millis(20));
    let ev = Event::new_auto();
    let e2 = ev.clone();
    std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(20));
        e2.set();
    });
    assert_eq!(time::timeout(LONG, ev.wait_async()).await, Ok(()));
    assert_eq!(
        time::timeout(Duration::from_millis(20), ev.wait_async()).await,
        Err(Elapsed)
    );
}

#[test]
fn an_earlier_deadline_is_not_held_up_by_a_later_one() {
    // A timer an hour away is the earliest the timer thread knows of; a 10 ms sleep
    // registered after it must still end (within LONG, a thousand times its length).
    let mut later = Box::pin(time::sleep(Duration::from_secs(3600)));
    assert!(
        later
            .as_mut()
            .poll(&mut Context::from_waker(Waker::noop()))
            .is_pending()
    );
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        executor::block_on(time::sleep(Duration::from_millis(10)));
        let _ = tx.send(());
    });
    assert!(
        rx.recv_timeout(LONG).is_ok(),
        "the 10 ms sleep waited for the hour-long one"
    );
}

#[test]
fn a_handle_spawns_from_other_threads_and_fails_cleanly_after_shutdown() {
    let rt = Runtime::new(1).unwrap();
    let handle = rt.handle();
    assert!(
        executor::Handle::try_current().is_none(),
        "not on a runtime here"
    );
    // From a plain thread.
    let h2 = handle.clone();
    let out = std::thread::spawn(move || h2.block_on(h2.spawn(async { 40 + 2 })))
        .join()
        .unwrap();
    assert_eq!(out, 42);
    // From inside a task: the current runtime.
    let nested = rt.block_on(rt.spawn(async {
        let here = executor::Handle::try_current().expect("on a worker");
        here.spawn(async { 7 }).await
    }));
    assert_eq!(nested, 7);
    drop(rt);
    // The runtime is gone: the task never runs, and its handle says so.
    let late = handle.spawn(async { 1 });
    let awaited =
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| executor::block_on(late)));
    let msg = awaited.expect_err("a task spawned after shutdown cannot finish");
    let text = msg.downcast_ref::<&str>().copied().unwrap_or_default();
    assert!(text.contains("runtime shut down"), "{text}");
}
