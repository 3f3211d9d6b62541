//! `Slice`: an operation sees only a sub-range of its buffer (the filled head for the
//! echo, the free tail for the next receive), and the whole buffer comes back unchanged
//! outside that range.

mod util;

use std::time::Duration;

use overlapped::{Event, Overlapped, Recv, Send, Slice};

/// Upper bound on every wait: a broken library fails instead of hanging.
const LONG: Duration = Duration::from_secs(5);

#[test]
fn a_send_of_a_slice_sends_only_that_range() {
    let (client, server) = util::tcp_pair();
    let ov = Overlapped::new();
    let buf = b"0123456789".to_vec();
    let posted = Send::new(&client, Slice::new(buf, 2..6)).post(&ov).unwrap();
    let (r, slice) = posted.wait();
    assert_eq!(r.unwrap().bytes, 4);
    assert_eq!(
        slice.into_inner(),
        b"0123456789",
        "the whole buffer comes back"
    );
    let mut got = [0u8; 16];
    assert!(util::eventually(LONG, || server
        .peek(&mut got)
        .unwrap_or(0)
        == 4));
    assert_eq!(&got[..4], b"2345");
}

#[test]
fn a_receive_into_a_slice_fills_only_that_range() {
    let (client, server) = util::tcp_pair();
    let ev = Event::new_manual();
    let ov = Overlapped::with_event(&ev);
    let buf = vec![b'.'; 8];
    let posted = Recv::new(&server, Slice::new(buf, 3..)).post(&ov).unwrap();
    client.send(b"abcdefgh").unwrap();
    assert!(ev.wait(Some(LONG)).unwrap());
    let (r, slice) = posted.wait();
    assert_eq!(r.unwrap().bytes, 5, "the range is 5 bytes long");
    assert_eq!(slice.into_inner(), b"...abcde");
}

#[test]
fn an_empty_slice_receive_completes_with_zero_bytes() {
    let (client, server) = util::tcp_pair();
    client.send(b"x").unwrap();
    let ov = Overlapped::new();
    let posted = Recv::new(&server, Slice::new(vec![0u8; 4], 4..))
        .post(&ov)
        .unwrap();
    let (r, _) = posted.wait();
    assert_eq!(r.unwrap().bytes, 0);
}

#[test]
#[should_panic(expected = "out of a buffer of 4 bytes")]
fn a_range_past_the_end_panics_like_slice_indexing() {
    let _ = Slice::new(vec![0u8; 4], 2..5);
}
