//! §1.3 receive order: a scatter receive fills its buffers in order without holes, and
//! receives pending on one socket fill in the order they were posted.

mod util;

use std::time::Duration;

use overlapped::{BufList, Event, Overlapped, Posted, Recv, Status, wait_all, wait_any};

/// Upper bound on every wait: a broken library fails instead of hanging.
const LONG: Duration = Duration::from_secs(5);

#[test]
fn scatter_fills_buffers_in_order_without_holes() {
    let (client, server) = util::tcp_pair();
    let ev = Event::new_manual();
    let ov = Overlapped::with_event(&ev);
    let bufs = BufList(vec![vec![0u8; 3], vec![0u8; 5], vec![0u8; 4]]);
    let posted = Recv::new(&server, bufs).post(&ov).unwrap();
    assert_eq!(posted.status(), Status::Pending);
    client.send(b"abcdefghij").unwrap();
    assert!(ev.wait(Some(LONG)).unwrap());
    let (r, BufList(bufs)) = posted.wait();
    assert_eq!(r.unwrap().bytes, 10);
    assert_eq!(bufs[0], b"abc");
    assert_eq!(bufs[1], b"defgh");
    assert_eq!(&bufs[2][..2], b"ij");
    assert_eq!(&bufs[2][2..], &[0, 0], "bytes written past the data");
}

#[test]
fn scatter_fills_buffers_in_order_when_immediate() {
    let (client, server) = util::tcp_pair();
    client.send(b"0123456789AB").unwrap();
    assert!(util::eventually(LONG, || {
        let mut b = [0u8; 16];
        server.peek(&mut b).unwrap_or(0) == 12
    }));
    let ov = Overlapped::new();
    let bufs = BufList(vec![vec![0u8; 4], vec![0u8; 4], vec![0u8; 4]]);
    let posted = Recv::new(&server, bufs).post(&ov).unwrap();
    assert!(matches!(posted.status(), Status::Immediate(t) if t.bytes == 12));
    let (r, BufList(bufs)) = posted.wait();
    assert_eq!(r.unwrap().bytes, 12);
    assert_eq!(bufs.concat(), b"0123456789AB");
}

/// Posts `n` pending receives of `len` bytes each on `sock`, each with its own event.
fn post_many(
    sock: &overlapped::Socket,
    n: usize,
    len: usize,
) -> (Vec<Event>, Vec<Overlapped>, Vec<Posted<Vec<u8>>>) {
    let events: Vec<Event> = (0..n).map(|_| Event::new_manual()).collect();
    let ovs: Vec<Overlapped> = events.iter().map(Overlapped::with_event).collect();
    let posted: Vec<_> = ovs
        .iter()
        .map(|ov| {
            let p = Recv::new(sock, vec![0u8; len]).post(ov).unwrap();
            assert_eq!(p.status(), Status::Pending, "no data yet: must pend");
            p
        })
        .collect();
    (events, ovs, posted)
}

#[test]
fn two_pending_receives_fill_in_posting_order() {
    let (client, server) = util::tcp_pair();
    let (events, _ovs, posted) = post_many(&server, 2, 16);
    let data: Vec<u8> = (0u8..32).collect();
    client.send(&data).unwrap();
    let refs: Vec<&Event> = events.iter().collect();
    assert_eq!(
        wait_all(&refs, Some(LONG), false).unwrap(),
        overlapped::WaitOutcome::Signaled(0)
    );
    let mut got = Vec::new();
    for p in posted {
        let (r, buf) = p.wait();
        assert_eq!(r.unwrap().bytes, 16);
        got.push(buf);
    }
    assert_eq!(got[0], &data[..16], "first receive must get bytes 0-15");
    assert_eq!(got[1], &data[16..], "second receive must get bytes 16-31");
}

#[test]
fn fifty_pending_receives_fill_in_posting_order() {
    let (client, server) = util::tcp_pair();
    let n = 50;
    let (events, _ovs, posted) = post_many(&server, n, 16);
    let data: Vec<u8> = (0..n * 16)
        .map(|i| u8::try_from(i % 256).unwrap())
        .collect();
    // In several writes, so completions interleave with arrivals.
    for chunk in data.chunks(100) {
        client.send(chunk).unwrap();
    }
    for (i, ev) in events.iter().enumerate() {
        assert!(ev.wait(Some(LONG)).unwrap(), "receive {i} never completed");
    }
    let mut got = Vec::new();
    for (i, p) in posted.into_iter().enumerate() {
        let (r, buf) = p.wait();
        let n = r.unwrap().bytes;
        assert!(n > 0, "receive {i} got nothing");
        got.extend_from_slice(&buf[..n]);
    }
    // Each receive takes what is there when it runs, up to its 16 bytes (a stream
    // receive may complete short, at a write boundary), and none takes anything before
    // the previous one is done: the concatenation in posting order is the start of the
    // stream, in order.
    assert!(got.len() >= n, "only {} bytes in {n} receives", got.len());
    assert_eq!(
        got,
        data[..got.len()],
        "receives filled out of posting order"
    );
}

#[test]
fn receives_posted_behind_a_pending_one_never_jump_the_queue() {
    let (client, server) = util::tcp_pair();
    let ev1 = Event::new_manual();
    let ov1 = Overlapped::with_event(&ev1);
    let first = Recv::new(&server, vec![0u8; 4]).post(&ov1).unwrap();
    assert_eq!(first.status(), Status::Pending);
    let ev2 = Event::new_manual();
    let ov2 = Overlapped::with_event(&ev2);
    let second = Recv::new(&server, vec![0u8; 4]).post(&ov2).unwrap();
    assert_eq!(second.status(), Status::Pending);

    client.send(b"AB").unwrap();
    assert_eq!(
        wait_any(&[&ev1, &ev2], Some(LONG), false).unwrap(),
        overlapped::WaitOutcome::Signaled(0),
        "the first posted receive must take the first data"
    );
    let (r, buf) = first.wait();
    assert_eq!(r.unwrap().bytes, 2);
    assert_eq!(&buf[..2], b"AB");
    assert!(!ev2.is_set(), "the second receive must still be pending");
    client.send(b"CD").unwrap();
    assert!(ev2.wait(Some(LONG)).unwrap());
    let (r, buf) = second.wait();
    assert_eq!(r.unwrap().bytes, 2);
    assert_eq!(&buf[..2], b"CD");
}
