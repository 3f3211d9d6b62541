//! Sockets: TCP and UDP over IPv4 and IPv6 loopback: create, bind, listen, blocking
//! accept and connect, options round-trip, addresses, shutdown, close; posted
//! receive-from and send-to on UDP report the sender.

mod util;

use std::net::SocketAddr;
use std::time::Duration;

use overlapped::{
    Event, Family, Kind, Overlapped, RecvFrom, SendTo, Shutdown, Socket, Status, WsaError,
};

/// Upper bound on every wait: a broken library fails instead of hanging.
const LONG: Duration = Duration::from_secs(5);

fn any_port(ip: &str) -> SocketAddr {
    SocketAddr::new(ip.parse().unwrap(), 0)
}

/// A listener on `addr`, or None (printing why) when that loopback is unavailable.
fn listener_on(addr: SocketAddr) -> Option<Socket> {
    match Socket::listen_on(addr, 8) {
        Ok(l) => Some(l),
        Err(e) => {
            println!("skipped: loopback {addr} unavailable ({e})");
            None
        }
    }
}

/// Create, bind, listen, blocking accept on one thread and blocking connect on
/// another, addresses, a round trip, shutdown and close.
fn tcp_lifecycle(family: Family, ip: &str) {
    let l = Socket::new(family, Kind::Stream).unwrap();
    assert!(l.is_stream());
    assert_eq!(l.family(), family);
    l.set_reuse_address(true).unwrap();
    if let Err(e) = l.bind(any_port(ip)) {
        println!("skipped: cannot bind {ip} ({e})");
        return;
    }
    l.listen(8).unwrap();
    let laddr = l.local_addr().unwrap();
    assert_eq!(laddr.ip().to_string(), ip);
    assert_ne!(laddr.port(), 0, "bind to port 0 picks a port");

    let (accepted, client) = std::thread::scope(|s| {
        // The accept blocks until the connect below arrives.
        let acc = s.spawn(|| l.accept());
        let c = Socket::new(family, Kind::Stream).unwrap();
        c.connect(laddr).unwrap();
        (acc.join().unwrap().unwrap(), c)
    });
    let (server, from) = accepted;
    assert_eq!(client.peer_addr().unwrap(), laddr);
    assert_eq!(server.local_addr().unwrap(), laddr);
    assert_eq!(from, client.local_addr().unwrap());
    assert_eq!(server.peer_addr().unwrap(), client.local_addr().unwrap());
    assert_eq!(server.family(), family);

    server.set_read_timeout(Some(LONG));
    client.set_read_timeout(Some(LONG));
    assert_eq!(client.send(b"ping").unwrap(), 4);
    let mut b = [0u8; 8];
    assert_eq!(server.recv(&mut b).unwrap(), 4);
    assert_eq!(&b[..4], b"ping");
    assert_eq!(server.send(b"pong!").unwrap(), 5);
    assert_eq!(client.recv(&mut b).unwrap(), 5);
    assert_eq!(&b[..5], b"pong!");

    // shutdown(Send): the peer sees end of stream; our sends are refused.
    client.shutdown(Shutdown::Send).unwrap();
    assert_eq!(server.recv(&mut b).unwrap(), 0);
    assert_eq!(client.send(b"no"), Err(WsaError::WSAESHUTDOWN));
    // The other direction still works.
    assert_eq!(server.send(b"more").unwrap(), 4);
    assert_eq!(client.recv(&mut b).unwrap(), 4);
    // shutdown(Receive): our receives are refused.
    client.shutdown(Shutdown::Receive).unwrap();
    assert_eq!(client.recv(&mut b), Err(WsaError::WSAESHUTDOWN));

    // Close: the peer sees end of stream.
    client.close();
    assert_eq!(server.recv(&mut b).unwrap(), 0);
}

#[test]
fn tcp_v4_lifecycle() {
    tcp_lifecycle(Family::V4, "127.0.0.1");
}

#[test]
fn tcp_v6_lifecycle() {
    tcp_lifecycle(Family::V6, "::1");
}

#[test]
fn tcp_v6_pair_helper_works() {
    let Some((c, s)) = util::tcp_pair_v6() else {
        return;
    };
    assert_eq!(c.family(), Family::V6);
    assert!(c.peer_addr().unwrap().is_ipv6());
    assert_eq!(c.peer_addr().unwrap(), s.local_addr().unwrap());
}

/// Posted receive-from and send-to between two UDP sockets of `family` on `ip`.
fn udp_posted(family: Family, ip: &str) {
    let a = Socket::new(family, Kind::Datagram).unwrap();
    assert!(!a.is_stream());
    if let Err(e) = a.bind(any_port(ip)) {
        println!("skipped: cannot bind UDP {ip} ({e})");
        return;
    }
    let b = Socket::new(family, Kind::Datagram).unwrap();
    b.bind(any_port(ip)).unwrap();
    let (a_addr, b_addr) = (a.local_addr().unwrap(), b.local_addr().unwrap());

    let ev = Event::new_manual();
    let ov = Overlapped::with_event(&ev);
    let posted = RecvFrom::new(&a, vec![0u8; 32]).post(&ov).unwrap();
    assert_eq!(posted.status(), Status::Pending);

    let sov = Overlapped::new();
    let sent = SendTo::new(&b, b"datagram".to_vec(), a_addr)
        .post(&sov)
        .unwrap();
    assert_eq!(sent.wait().0.unwrap().bytes, 8);

    assert!(ev.wait(Some(LONG)).unwrap());
    let (r, out) = posted.wait();
    assert_eq!(r.unwrap().bytes, 8);
    assert_eq!(&out.bufs[..8], b"datagram");
    assert_eq!(out.from, Some(b_addr), "recv_from must report the sender");

    // Immediate completion reports the sender too.
    b.send_to(b"second", a_addr).unwrap();
    assert!(util::eventually(LONG, || {
        let mut x = [0u8; 16];
        a.peek(&mut x).unwrap_or(0) == 6
    }));
    let posted = RecvFrom::new(&a, vec![0u8; 32]).post(&ov).unwrap();
    assert!(matches!(posted.status(), Status::Immediate(t) if t.bytes == 6));
    let (r, out) = posted.wait();
    assert_eq!(r.unwrap().bytes, 6);
    assert_eq!(out.from, Some(b_addr));

    // The synchronous calls as well.
    a.send_to(b"back", b_addr).unwrap();
    b.set_read_timeout(Some(LONG));
    let mut x = [0u8; 16];
    let (n, from) = b.recv_from(&mut x).unwrap();
    assert_eq!((n, from), (4, a_addr));
    assert_eq!(&x[..4], b"back");
}

#[test]
fn udp_v4_recv_from_and_send_to_report_the_sender() {
    udp_posted(Family::V4, "127.0.0.1");
}

#[test]
fn udp_v6_recv_from_and_send_to_report_the_sender() {
    udp_posted(Family::V6, "::1");
}

#[test]
fn socket_options_round_trip() {
    for ip in ["127.0.0.1", "::1"] {
        let Some(l) = listener_on(any_port(ip)) else {
            continue;
        };
        let addr = l.local_addr().unwrap();
        let c = Socket::connect_to(addr).unwrap();
        let (s, _) = l.accept().unwrap();

        assert!(l.reuse_address().unwrap(), "listen_on sets SO_REUSEADDR");
        c.set_reuse_address(true).unwrap();
        assert!(c.reuse_address().unwrap());
        c.set_reuse_address(false).unwrap();
        assert!(!c.reuse_address().unwrap());

        c.set_nodelay(true).unwrap();
        assert!(c.nodelay().unwrap());
        c.set_nodelay(false).unwrap();
        assert!(!c.nodelay().unwrap());

        assert_eq!(c.linger().unwrap(), None);
        c.set_linger(Some(Duration::from_secs(7))).unwrap();
        assert_eq!(c.linger().unwrap(), Some(Duration::from_secs(7)));
        c.set_linger(Some(Duration::ZERO)).unwrap();
        assert_eq!(c.linger().unwrap(), Some(Duration::ZERO));
        c.set_linger(None).unwrap();
        assert_eq!(c.linger().unwrap(), None);

        // Linux reports double what was set (its bookkeeping), never less.
        s.set_recv_buffer_size(32 * 1024).unwrap();
        let r = s.recv_buffer_size().unwrap();
        assert!(r >= 32 * 1024, "SO_RCVBUF {r}");
        s.set_recv_buffer_size(64 * 1024).unwrap();
        assert!(s.recv_buffer_size().unwrap() > r, "SO_RCVBUF did not grow");
        s.set_send_buffer_size(32 * 1024).unwrap();
        let w = s.send_buffer_size().unwrap();
        assert!(w >= 32 * 1024, "SO_SNDBUF {w}");
        s.set_send_buffer_size(128 * 1024).unwrap();
        assert!(s.send_buffer_size().unwrap() > w, "SO_SNDBUF did not grow");

        s.set_keepalive(true).unwrap();
        assert_eq!(s.take_error().unwrap(), None);

        assert_eq!(s.read_timeout(), None);
        s.set_read_timeout(Some(Duration::from_millis(250)));
        assert_eq!(s.read_timeout(), Some(Duration::from_millis(250)));
        s.set_write_timeout(Some(Duration::from_secs(2)));
        assert_eq!(s.write_timeout(), Some(Duration::from_secs(2)));
        s.set_read_timeout(None);
        assert_eq!(s.read_timeout(), None);

        assert!(!s.is_nonblocking());
        s.set_nonblocking(true);
        assert!(s.is_nonblocking());
        let mut b = [0u8; 4];
        assert_eq!(s.recv(&mut b), Err(WsaError::WSAEWOULDBLOCK));
    }
}

#[test]
fn nodelay_is_a_tcp_option() {
    let (u, _) = util::udp();
    assert_eq!(u.set_nodelay(true), Err(WsaError::WSAENOPROTOOPT));
}

#[test]
fn address_and_state_errors() {
    let s = Socket::tcp_v4().unwrap();
    // Not connected.
    assert_eq!(s.peer_addr(), Err(WsaError::WSAENOTCONN));
    assert_eq!(s.shutdown(Shutdown::Send), Err(WsaError::WSAENOTCONN));
    // Not listening.
    assert_eq!(s.accept().map(|_| ()), Err(WsaError::WSAEINVAL));
    // Wrong family.
    assert_eq!(s.bind(any_port("::1")), Err(WsaError::WSAEFAULT));
    // Address in use.
    let l = util::listener();
    let taken = l.local_addr().unwrap();
    assert_eq!(s.bind(taken), Err(WsaError::WSAEADDRINUSE));
    // Bound twice.
    s.bind(any_port("127.0.0.1")).unwrap();
    assert_eq!(s.bind(any_port("127.0.0.1")), Err(WsaError::WSAEINVAL));
}

#[test]
fn connect_to_a_closed_port_is_refused_and_can_retry() {
    // A bound but not listening socket: connections to its port are refused.
    let holder = Socket::tcp_v4().unwrap();
    holder.bind(any_port("127.0.0.1")).unwrap();
    let addr = holder.local_addr().unwrap();
    let c = Socket::tcp_v4().unwrap();
    assert_eq!(c.connect(addr), Err(WsaError::WSAECONNREFUSED));
    // The same socket can connect once someone listens.
    holder.listen(1).unwrap();
    c.connect(addr).unwrap();
    assert_eq!(c.peer_addr().unwrap(), addr);
}

#[test]
fn nonblocking_accept_would_block() {
    let l = util::listener();
    l.set_nonblocking(true);
    assert_eq!(l.accept().map(|_| ()), Err(WsaError::WSAEWOULDBLOCK));
}

#[test]
fn closing_a_listener_releases_its_port() {
    let l = Socket::tcp_v4().unwrap();
    l.bind(any_port("127.0.0.1")).unwrap();
    l.listen(1).unwrap();
    let addr = l.local_addr().unwrap();
    let other = Socket::tcp_v4().unwrap();
    assert_eq!(other.bind(addr), Err(WsaError::WSAEADDRINUSE));
    l.close();
    // The port is free again (no SO_REUSEADDR needed for a listener that never
    // accepted anything).
    let again = Socket::tcp_v4().unwrap();
    again.bind(addr).expect("close must release the port");
    again.listen(1).unwrap();
    let c = Socket::connect_to(addr).unwrap();
    assert_eq!(c.peer_addr().unwrap(), addr);
}

/// `Socket::try_clone` names the same kernel socket: what is sent to the original's
/// address is read from the clone, and the clone outlives the original's close.
#[test]
fn a_clone_shares_the_socket_and_outlives_the_original() {
    let a = Socket::udp_v4().unwrap();
    a.bind(any_port("127.0.0.1")).unwrap();
    let addr = a.local_addr().unwrap();
    let b = a.try_clone().unwrap();
    assert_eq!(b.local_addr().unwrap(), addr);
    b.set_read_timeout(Some(LONG));
    let peer = Socket::udp_v4().unwrap();
    assert_eq!(peer.send_to(b"one", addr).unwrap(), 3);
    let mut buf = [0u8; 8];
    assert_eq!(b.recv(&mut buf).unwrap(), 3);
    assert_eq!(&buf[..3], b"one");
    a.close();
    assert_eq!(peer.send_to(b"two", addr).unwrap(), 3);
    assert_eq!(b.recv(&mut buf).unwrap(), 3);
    assert_eq!(&buf[..3], b"two");
}
