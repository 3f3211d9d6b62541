//! The nine-step multi-client overlapped echo server of the seed article
//! (`003_5899eb55b6b6ea1e.txt`, "重叠 I/O 模型的编程步骤"), in Rust.
//!
//! 1. create a socket and listen on the address given (default 127.0.0.1:6000);
//! 2. accept a client: here an `AcceptEx`-style [`Accept`] posted with its own event,
//!    which lives in slot 0 of the event array;
//! 3. give each accepted socket its own overlapped record and event, the event going into
//!    the event array (up to 63 clients plus the listener: `WSA_MAXIMUM_WAIT_EVENTS`);
//! 4. post an overlapped receive on it (usually `WSA_IO_PENDING`);
//! 5. wait on the event array ([`wait_any`], `WSAWaitForMultipleEvents`);
//! 6. reset the signalled event (`WSAResetEvent`) and handle the completed request;
//! 7. read its result ([`Overlapped::result`], `WSAGetOverlappedResult`): the echo is
//!    sent back with an overlapped send on the same record;
//! 8. post the next receive;
//! 9. repeat 5 to 8. A client that closes (a 0-byte receive) or fails is removed, and the
//!    arrays are compacted by shifting the later entries down one place, as the Winsock
//!    samples do.
//!
//! ```sh
//! cargo run --example event_array_echo [ADDR]
//! ```

use std::net::SocketAddr;
use std::time::Duration;

use overlapped::{
    Accept, Accepted, Event, Kind, MAXIMUM_WAIT_EVENTS, Overlapped, Posted, Recv, Send, Socket,
    WaitOutcome, WsaError, wait_any,
};

/// Clients per event array: one slot is the listener's.
pub const MAX_CLIENTS: usize = MAXIMUM_WAIT_EVENTS - 1;

/// The receive buffer of each client.
const BUF_SIZE: usize = 4096;

/// How often the loop looks at the stop event: the 64 slots may all be taken (the
/// listener and 63 clients), so the stop request cannot have a slot of its own.
const STOP_POLL: Duration = Duration::from_millis(50);

/// What a client's overlapped record is bound to now.
enum Op {
    /// A receive (steps 4 and 8).
    Recv(Posted<Vec<u8>>),
    /// The echo of what the last receive brought.
    Send(Posted<Vec<u8>>),
}

/// One connection: its socket, its overlapped record (bound to its event, which sits at
/// the same index + 1 of the event array) and the operation in flight.
struct Client {
    sock: Socket,
    peer: Option<SocketAddr>,
    ov: Overlapped,
    op: Option<Op>,
}

/// The listener's slot: an accept posted into a pre-created socket.
struct Listener {
    sock: Socket,
    /// The socket the posted accept installs the connection into.
    acceptor: Option<Socket>,
    ov: Overlapped,
    posted: Option<Posted<Accepted<Vec<u8>>>>,
}

impl Listener {
    /// Posts the next accept (step 2) into a fresh socket.
    fn post(&mut self) -> Result<(), WsaError> {
        let acceptor = Socket::new(self.sock.family(), Kind::Stream)?;
        self.posted = Some(Accept::new(&self.sock, &acceptor).post(&self.ov)?);
        self.acceptor = Some(acceptor);
        Ok(())
    }
}

/// Serves echo clients on `listener` until `stop` is set, then closes every socket.
///
/// # Errors
/// A failure of the event wait or of posting an accept (creating the next accepting
/// socket); per-client failures only remove that client.
pub fn serve(listener: Socket, stop: &Event) -> Result<(), WsaError> {
    let accept_ev = Event::new_manual();
    let mut lst = Listener {
        sock: listener,
        acceptor: None,
        ov: Overlapped::with_event(&accept_ev),
        posted: None,
    };
    lst.post()?;
    // The event array: slot 0 is the listener's, slot i + 1 is clients[i]'s.
    let mut events: Vec<Event> = vec![accept_ev];
    let mut clients: Vec<Client> = Vec::new();

    while !stop.is_set() {
        // Step 5.
        let first = {
            let refs: Vec<&Event> = events.iter().collect();
            match wait_any(&refs, Some(STOP_POLL), false)? {
                WaitOutcome::Signaled(i) => i,
                WaitOutcome::Timeout | WaitOutcome::IoCompletion => continue,
            }
        };
        // wait_any names the lowest signalled index; take every other signalled one too
        // so that the first clients cannot starve the last. Highest first, so that
        // removing a client does not move the ones still to be handled.
        let mut ready: Vec<usize> = (first + 1..events.len())
            .filter(|&i| events[i].is_set())
            .collect();
        ready.push(first);
        ready.sort_unstable_by(|a, b| b.cmp(a));
        for i in ready {
            // Step 6.
            events[i].reset();
            if i == 0 {
                on_accept(&mut lst, &mut events, &mut clients)?;
            } else if !on_client(&mut clients[i - 1]) {
                let c = clients.remove(i - 1);
                events.remove(i);
                println!("Closing socket {} ({} left)", show(c.peer), clients.len());
                c.sock.close();
                // A slot is free again: accept if the listener had stopped.
                if lst.posted.is_none() {
                    lst.post()?;
                }
            }
        }
    }
    println!("Stopping: closing {} client(s)", clients.len());
    drop(clients);
    Ok(())
}

/// The listener's event fired: install the new client, then accept again while there is
/// room in the array.
fn on_accept(
    lst: &mut Listener,
    events: &mut Vec<Event>,
    clients: &mut Vec<Client>,
) -> Result<(), WsaError> {
    // Step 7 for the accept: a spurious wake-up leaves it pending.
    if lst.ov.result(false) == Err(WsaError::WSA_IO_INCOMPLETE) {
        return Ok(());
    }
    let Some(posted) = lst.posted.take() else {
        return Ok(());
    };
    let (result, accepted) = posted.wait();
    let acceptor = lst.acceptor.take();
    match (result, acceptor) {
        (Ok(_), Some(sock)) => {
            // Step 3: a record and an event of its own, the event into the array.
            let ev = Event::new_manual();
            let mut client = Client {
                sock,
                peer: accepted.remote,
                ov: Overlapped::with_event(&ev),
                op: None,
            };
            // Step 4. Even when it completes at once, the event is signalled: the next
            // wait finds it.
            if post_recv(&mut client, vec![0u8; BUF_SIZE]) {
                events.push(ev);
                clients.push(client);
                println!(
                    "Socket {} connected ({} client(s))",
                    show(accepted.remote),
                    clients.len()
                );
            }
        }
        (Err(e), _) => println!("AcceptEx failed: {e}"),
        (Ok(_), None) => {}
    }
    if clients.len() < MAX_CLIENTS {
        lst.post()?;
    }
    Ok(())
}

/// A client's event fired: read the result and post the next operation. Returns false
/// when the client is done (closed by the peer, or failed).
fn on_client(c: &mut Client) -> bool {
    // Step 7.
    let result = match c.ov.result(false) {
        Err(WsaError::WSA_IO_INCOMPLETE) => return true,
        r => r,
    };
    match c.op.take() {
        Some(Op::Recv(posted)) => {
            let (_, mut buf) = posted.wait();
            match result {
                Ok(t) if t.bytes > 0 => {
                    buf.truncate(t.bytes);
                    match Send::new(&c.sock, buf).post(&c.ov) {
                        Ok(p) => {
                            c.op = Some(Op::Send(p));
                            true
                        }
                        Err(e) => {
                            println!("WSASend failed: {e}");
                            false
                        }
                    }
                }
                Ok(_) => false,
                Err(e) => {
                    println!("WSARecv failed: {e}");
                    false
                }
            }
        }
        Some(Op::Send(posted)) => {
            let (_, mut buf) = posted.wait();
            match result {
                Ok(_) => {
                    // Step 8.
                    buf.resize(BUF_SIZE, 0);
                    post_recv(c, buf)
                }
                Err(e) => {
                    println!("WSASend failed: {e}");
                    false
                }
            }
        }
        None => false,
    }
}

/// Posts a receive bound to the client's record; false if the post failed at once.
fn post_recv(c: &mut Client, buf: Vec<u8>) -> bool {
    match Recv::new(&c.sock, buf).post(&c.ov) {
        Ok(p) => {
            c.op = Some(Op::Recv(p));
            true
        }
        Err(e) => {
            println!("WSARecv failed: {e}");
            false
        }
    }
}

fn show(addr: Option<SocketAddr>) -> String {
    addr.map_or_else(|| "?".to_owned(), |a| a.to_string())
}

fn main() {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:6000".into());
    let Ok(addr) = addr.parse::<SocketAddr>() else {
        println!("bad address: {addr}");
        std::process::exit(2);
    };
    let listener = match Socket::listen_on(addr, 128) {
        Ok(l) => l,
        Err(e) => {
            println!("socket bind error! {e}");
            std::process::exit(1);
        }
    };
    println!(
        "Listening on {} (up to {MAX_CLIENTS} clients)",
        listener.local_addr().map_or(addr, |a| a)
    );
    // Nothing sets it: the server runs until it is killed.
    let stop = Event::new_manual();
    if let Err(e) = serve(listener, &stop) {
        println!("server error: {e}");
        std::process::exit(1);
    }
}
