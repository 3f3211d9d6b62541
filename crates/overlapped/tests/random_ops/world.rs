//! The generator and the ledger of the randomized test (see `random_ops.rs`).
//!
//! # Design
//! [`World`] owns everything the run created: the listener, the endpoints (sockets,
//! each with the state of the stream it sends and the stream it receives), and the
//! ledger (one [`Entry`] per post, keyed by op id, accepted or not). Each step the seeded
//! [`Rng`] picks an action among those possible in the current state; the choices are a
//! function of the seed and of which operations have completed (kernel timing is not
//! deterministic, so neither is a whole run, but a failing seed usually fails again).
//!
//! Notifications reach the ledger through one inbox ([`Shared`]): completion routines
//! and callbacks push a [`Note::Done`] (their closures carry a [`Guard`] that pushes
//! [`Note::Unrun`] if the closure is dropped without running), and every buffer is a
//! [`TBuf`] whose drop pushes a [`Note::Part`] with the bytes a receive wrote into it
//! (buffers are filled with [`SENTINEL`], which no stream byte equals, so the received
//! prefix is known even when nobody saw the result). Event-mode operations are observed
//! by the main thread through their events. An entry is retired once it is notified and
//! all its buffers are back; a second notification then finds no entry and fails.
//!
//! Streams: byte `i` of the stream a connection's side sends is [`pattern`]`(key, i)`,
//! where `key` is derived from the connecting side's port and the direction, so the
//! accepting side can check its bytes before anything else is known. A side's sent
//! stream is clean up to `limit`: the offset of the first send that did not complete
//! whole (failed, cancelled, aborted, partial, or its result unobservable); received
//! bytes must match the pattern below the sender's limit, and when the receiver saw a
//! graceful end of stream and the sender's stream is clean, they must be all of it.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::fmt;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use overlapped::{
    Accept, Accepted, BufList, Completion, Connect, Event, IoBuf, IoBufMut, Overlapped, Posted,
    Recv, Send as SendOp, Shutdown, Socket, Status, Transfer, WaitOutcome, WsaError,
    sleep_alertable, wait_any,
};

use crate::util;

/// What receive buffers are filled with; [`pattern`] never produces it.
pub(crate) const SENTINEL: u8 = 0xFF;
/// Most operations pending at once (beyond it, the generator waits and cancels).
const MAX_PENDING: usize = 160;
/// Most live sockets (endpoints) at once, besides the listener.
const MAX_LIVE: usize = 14;
/// Most receives (and, separately, sends) pending per socket.
const MAX_PER_DIR: u32 = 4;
/// Most accepts pending at once.
const MAX_ACCEPTS: usize = 3;
/// A run that makes no progress for this long is aborted (with its seed printed).
const HANG: Duration = Duration::from_secs(60);
/// Bound on the final drain and on the final accounting.
const DRAIN: Duration = Duration::from_secs(20);
/// Retired event-mode events watched for a second signal.
const RETIRED: usize = 128;

/// Byte `i` of stream `key`: never [`SENTINEL`]; a shift by any offset that is not a
/// multiple of 251 * 251 changes it somewhere within a few hundred bytes.
pub(crate) fn pattern(key: u32, i: u64) -> u8 {
    ((i + (i / 251) * 7 + u64::from(key) * 13) % 251) as u8
}

/// splitmix64: small, seedable, good enough for choosing actions.
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new(seed: u64) -> Self {
        Self(seed ^ 0x5DEE_CE66_D1CE_4E5B)
    }
    pub(crate) fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        if n == 0 { 0 } else { self.next() % n }
    }
    /// A uniform-ish index below `n` (`n` fits in u64 on every supported target, and
    /// the result is below `n`, so it fits back in usize).
    pub(crate) fn index(&mut self, n: usize) -> usize {
        let n64 = u64::try_from(n).expect("usize fits in u64");
        usize::try_from(self.below(n64)).expect("below n")
    }
    pub(crate) fn range(&mut self, lo: usize, hi: usize) -> usize {
        lo + self.index(hi - lo + 1)
    }
    pub(crate) fn chance(&mut self, num: u64, den: u64) -> bool {
        self.below(den) < num
    }
    pub(crate) fn pick<T: Copy>(&mut self, v: &[T]) -> Option<T> {
        if v.is_empty() {
            None
        } else {
            Some(v[self.index(v.len())])
        }
    }
}

// ---------------------------------------------------------------------------------------
// The inbox, buffers and closures.

/// A notification or a buffer coming back, as seen by the thread it happened on.
#[derive(Debug)]
pub(crate) enum Note {
    /// A routine or callback ran.
    Done {
        op: u64,
        result: Result<Transfer, WsaError>,
        sum: Summary,
    },
    /// A routine or callback closure was dropped without running.
    Unrun { op: u64 },
    /// A buffer was dropped; `data` is what a receive wrote into it.
    Part { op: u64, idx: usize, data: Vec<u8> },
}

/// The inbox shared with the threads that complete operations.
#[derive(Default)]
pub(crate) struct Shared {
    notes: Mutex<Vec<Note>>,
    /// Buffers alive now.
    live_bufs: AtomicI64,
}

impl Shared {
    fn push(&self, n: Note) {
        self.notes.lock().unwrap_or_else(|e| e.into_inner()).push(n);
    }
    fn take(&self) -> Vec<Note> {
        std::mem::take(&mut *self.notes.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

/// A buffer that reports its drop (and, for receives, what was written into it).
pub(crate) struct TBuf {
    data: Vec<u8>,
    op: u64,
    idx: usize,
    recv: bool,
    shared: Arc<Shared>,
}

impl TBuf {
    fn new(shared: &Arc<Shared>, op: u64, idx: usize, recv: bool, data: Vec<u8>) -> Self {
        shared.live_bufs.fetch_add(1, Ordering::SeqCst);
        Self {
            data,
            op,
            idx,
            recv,
            shared: Arc::clone(shared),
        }
    }
    /// The bytes a receive wrote (the prefix before the first sentinel).
    fn content(&self) -> &[u8] {
        let n = self
            .data
            .iter()
            .position(|&b| b == SENTINEL)
            .unwrap_or(self.data.len());
        &self.data[..n]
    }
}

impl Drop for TBuf {
    fn drop(&mut self) {
        let data = if self.recv {
            self.content().to_vec()
        } else {
            Vec::new()
        };
        self.shared.live_bufs.fetch_sub(1, Ordering::SeqCst);
        self.shared.push(Note::Part {
            op: self.op,
            idx: self.idx,
            data,
        });
    }
}

// SAFETY: the pointer is the Vec's heap buffer, which does not move when the TBuf moves
// and lives until the TBuf is dropped; `len` bytes are initialised.
unsafe impl IoBuf for TBuf {
    fn io_ptr(&self) -> *const u8 {
        self.data.as_ptr()
    }
    fn io_len(&self) -> usize {
        self.data.len()
    }
}

// SAFETY: as above; the bytes are writable through the Vec's unique ownership.
unsafe impl IoBufMut for TBuf {
    fn io_mut_ptr(&mut self) -> *mut u8 {
        self.data.as_mut_ptr()
    }
}

/// What the ledger needs from an operation's output.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Summary {
    /// Bytes a receive (or an accept's first-data block) wrote.
    recv_len: usize,
    /// An accept's remote address.
    remote: Option<SocketAddr>,
}

pub(crate) trait Out: std::marker::Send + 'static {
    fn summary(&self) -> Summary {
        Summary::default()
    }
}

impl Out for BufList<TBuf> {
    fn summary(&self) -> Summary {
        Summary {
            recv_len: self.0.iter().map(|b| b.content().len()).sum(),
            remote: None,
        }
    }
}
impl Out for Accepted<TBuf> {
    fn summary(&self) -> Summary {
        Summary {
            recv_len: self.buf.as_ref().map_or(0, |b| b.content().len()),
            remote: self.remote,
        }
    }
}
impl Out for Accepted<Vec<u8>> {
    fn summary(&self) -> Summary {
        Summary {
            recv_len: 0,
            remote: self.remote,
        }
    }
}
impl Out for Option<BufList<TBuf>> {}
impl Out for Option<&'static [u8]> {}

/// Runs in a routine or callback closure; reports a drop without a run.
struct Guard {
    op: u64,
    shared: Arc<Shared>,
    ran: bool,
}

impl Guard {
    fn fire(mut self, result: Result<Transfer, WsaError>, sum: Summary) {
        self.ran = true;
        self.shared.push(Note::Done {
            op: self.op,
            result,
            sum,
        });
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        if !self.ran {
            self.shared.push(Note::Unrun { op: self.op });
        }
    }
}

/// The posting methods of every builder, under names that do not shadow them.
pub(crate) trait Postable: Sized {
    type O: Out;
    fn go_event(self, ov: &Overlapped) -> Result<Posted<Self::O>, WsaError>;
    fn go_routine(
        self,
        ov: &Overlapped,
        f: impl FnOnce(Completion<Self::O>) + 'static,
    ) -> Result<Status, WsaError>;
    fn go_callback(
        self,
        ov: &Overlapped,
        f: impl FnOnce(Completion<Self::O>) + std::marker::Send + 'static,
    ) -> Result<Status, WsaError>;
}

macro_rules! postable {
    ($t:ty, $o:ty) => {
        impl Postable for $t {
            type O = $o;
            fn go_event(self, ov: &Overlapped) -> Result<Posted<$o>, WsaError> {
                self.post(ov)
            }
            fn go_routine(
                self,
                ov: &Overlapped,
                f: impl FnOnce(Completion<$o>) + 'static,
            ) -> Result<Status, WsaError> {
                self.post_with_routine(ov, f)
            }
            fn go_callback(
                self,
                ov: &Overlapped,
                f: impl FnOnce(Completion<$o>) + std::marker::Send + 'static,
            ) -> Result<Status, WsaError> {
                self.post_with_callback(ov, f)
            }
        }
    };
}
postable!(Recv<BufList<TBuf>>, BufList<TBuf>);
postable!(SendOp<BufList<TBuf>>, BufList<TBuf>);
postable!(Accept<TBuf>, Accepted<TBuf>);
postable!(Accept<Vec<u8>>, Accepted<Vec<u8>>);
postable!(Connect<&'static [u8]>, Option<&'static [u8]>);
postable!(Connect<BufList<TBuf>>, Option<BufList<TBuf>>);

/// An event-mode operation's [`Posted`], type-erased.
pub(crate) trait Handle: std::marker::Send {
    fn try_take(&mut self) -> Option<(Result<Transfer, WsaError>, Summary)>;
    fn wait(self: Box<Self>) -> (Result<Transfer, WsaError>, Summary);
}

struct H<T>(Option<Posted<T>>);

impl<T: Out> Handle for H<T> {
    fn try_take(&mut self) -> Option<(Result<Transfer, WsaError>, Summary)> {
        let p = self.0.take()?;
        match p.try_take() {
            Ok((r, out)) => {
                let s = out.summary();
                drop(out);
                Some((r, s))
            }
            Err(p) => {
                self.0 = Some(p);
                None
            }
        }
    }
    fn wait(self: Box<Self>) -> (Result<Transfer, WsaError>, Summary) {
        let (r, out) = self.0.expect("handle already taken").wait();
        let s = out.summary();
        drop(out);
        (r, s)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    Event,
    Routine,
    Callback,
}

type Submitted = Result<(Option<Box<dyn Handle>>, Status), WsaError>;

fn submit<P: Postable>(
    p: P,
    mode: Mode,
    ov: &Overlapped,
    op: u64,
    shared: &Arc<Shared>,
) -> Submitted {
    match mode {
        Mode::Event => p.go_event(ov).map(|posted| {
            let st = posted.status();
            (Some(Box::new(H(Some(posted))) as Box<dyn Handle>), st)
        }),
        Mode::Routine => {
            let g = Guard {
                op,
                shared: Arc::clone(shared),
                ran: false,
            };
            p.go_routine(ov, move |c: Completion<P::O>| {
                let s = c.output.summary();
                drop(c.output);
                g.fire(c.result, s);
            })
            .map(|st| (None, st))
        }
        Mode::Callback => {
            let g = Guard {
                op,
                shared: Arc::clone(shared),
                ran: false,
            };
            p.go_callback(ov, move |c: Completion<P::O>| {
                let s = c.output.summary();
                drop(c.output);
                g.fire(c.result, s);
            })
            .map(|st| (None, st))
        }
    }
}

// ---------------------------------------------------------------------------------------
// The world.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Connector,
    Acceptor,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum EpState {
    /// Its accept or connect is pending.
    Opening,
    Connected,
    Failed,
}

/// One socket of a connection (or a socket that failed to become one).
struct Ep {
    sock: Option<Socket>,
    role: Role,
    state: EpState,
    /// The stream keys (known once the connecting side's port is).
    key_out: Option<u32>,
    key_in: Option<u32>,
    /// The connecting side's local port.
    port: u16,
    peer: Option<u64>,
    /// The listener generation it connected to (connectors).
    lgen: u64,
    aborted: bool,
    shut_wr: bool,
    /// Closed by us with linger 0 (reset).
    reset: bool,
    /// Sending: next offset, clean-up-to offset, sends pending.
    send_off: u64,
    limit: u64,
    pend_send: u32,
    /// Receiving: next sequence number to give, pending receives, verification state.
    recv_seq: u64,
    pend_recv: u32,
    next_seq: u64,
    held: BTreeMap<u64, (Vec<u8>, bool)>,
    recv_off: u64,
    mismatch: Option<u64>,
    eof: bool,
    recv_dead: bool,
    /// A post on it failed, or an operation completed with a connection error: the
    /// generator picks it rarely from now on.
    broken: bool,
    /// Some operation on it failed with `WSAECONNRESET`.
    saw_reset: bool,
    /// What happened to it lately (for failure reports).
    log: VecDeque<String>,
    /// Its accept or connect op.
    opening: Option<u64>,
}

impl Ep {
    fn new(sock: Socket, role: Role) -> Self {
        Self {
            sock: Some(sock),
            role,
            state: EpState::Opening,
            key_out: None,
            key_in: None,
            port: 0,
            peer: None,
            lgen: 0,
            aborted: false,
            shut_wr: false,
            reset: false,
            send_off: 0,
            limit: u64::MAX,
            pend_send: 0,
            recv_seq: 0,
            pend_recv: 0,
            next_seq: 0,
            held: BTreeMap::new(),
            recv_off: 0,
            mismatch: None,
            eof: false,
            recv_dead: false,
            broken: false,
            saw_reset: false,
            log: VecDeque::new(),
            opening: None,
        }
    }
    fn set_port(&mut self, port: u16) {
        self.port = port;
        let (c2a, a2c) = (u32::from(port) * 2, u32::from(port) * 2 + 1);
        match self.role {
            Role::Connector => {
                self.key_out = Some(c2a);
                self.key_in = Some(a2c);
            }
            Role::Acceptor => {
                self.key_out = Some(a2c);
                self.key_in = Some(c2a);
            }
        }
    }
    fn log(&mut self, step: u64, s: String) {
        if self.log.len() >= 80 {
            self.log.pop_front();
        }
        self.log.push_back(format!("    [{step}] {s}"));
    }
    fn history(&self) -> String {
        self.log.iter().cloned().collect::<Vec<_>>().join("\n")
    }
    fn live(&self) -> bool {
        self.sock.is_some()
    }
    fn quiet(&self) -> bool {
        self.sock.is_none() && self.pend_recv == 0 && self.pend_send == 0 && self.opening.is_none()
    }
}

#[derive(Debug, Clone, Copy)]
enum OpKind {
    Recv { ep: u64 },
    Send { ep: u64, len: u64 },
    Accept { ep: u64 },
    Connect { ep: u64, len: u64 },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SockRef {
    Ep(u64),
    Listener(u64),
}

/// One post, accepted or not, until it is fully accounted for.
struct Entry {
    kind: OpKind,
    mode: Mode,
    on: SockRef,
    ov: Option<Overlapped>,
    ev: Option<Event>,
    handle: Option<Box<dyn Handle>>,
    accepted: bool,
    immediate: Option<Transfer>,
    /// Posted by a short-lived thread (which has exited once `thread_gone`).
    from_thread: bool,
    thread_gone: bool,
    /// Its record was reused by a later post (its event may have been reset by it).
    ov_shared: bool,
    /// Posted on another entry's record.
    borrowed_ov: bool,
    ev_seen: bool,
    done: u32,
    unrun: bool,
    result: Option<Result<Transfer, WsaError>>,
    sum: Option<Summary>,
    nbufs: usize,
    parts: Vec<(usize, Vec<u8>)>,
    /// Receive window (0: only zero-length buffers).
    window: usize,
    /// Stream position: receive sequence number or send offset.
    seq: Option<u64>,
    off: u64,
    step: u64,
}

impl Entry {
    fn describe(&self) -> String {
        format!(
            "op {:?} mode {:?} on {:?} accepted {} imm {:?} from_thread {} gone {} ev_seen {} done {} unrun {} result {:?} parts {}/{} posted at step {} ov {} handle {} ov_shared {} borrowed {}",
            self.kind,
            self.mode,
            self.on,
            self.accepted,
            self.immediate,
            self.from_thread,
            self.thread_gone,
            self.ev_seen,
            self.done,
            self.unrun,
            self.result,
            self.parts.len(),
            self.nbufs,
            self.step,
            self.ov.is_some(),
            self.handle.is_some(),
            self.ov_shared,
            self.borrowed_ov
        )
    }
}

/// What to post.
#[derive(Debug, Clone)]
enum What {
    Recv {
        ep: u64,
        sizes: Vec<usize>,
    },
    Send {
        ep: u64,
        sizes: Vec<usize>,
    },
    Accept {
        first: Option<usize>,
        sndbuf: Option<usize>,
    },
    Connect {
        refused: bool,
        data: Option<usize>,
        sndbuf: Option<usize>,
    },
}

#[derive(Debug, Clone)]
struct Plan {
    what: What,
    mode: Mode,
    with_ev: bool,
    ov_from: Option<u64>,
}

/// Counters reported at the end of a run.
#[derive(Debug, Default, Clone)]
pub(crate) struct Stats {
    pub(crate) seed: u64,
    pub(crate) steps: u64,
    pub(crate) posts: u64,
    pub(crate) accepted: u64,
    pub(crate) immediate: u64,
    pub(crate) failed_at_once: u64,
    pub(crate) by_mode: [u64; 3],
    pub(crate) unrun_after_exit: u64,
    pub(crate) results_err: u64,
    pub(crate) cancels_hit: u64,
    pub(crate) closes: u64,
    pub(crate) resets: u64,
    pub(crate) threads: u64,
    pub(crate) connections: u64,
    pub(crate) bytes_sent: u64,
    pub(crate) bytes_checked: u64,
    pub(crate) streams_whole: u64,
    pub(crate) streams_prefix: u64,
    pub(crate) streams_unpaired: u64,
    pub(crate) secs: f64,
    pub(crate) failures: BTreeMap<String, u64>,
    pub(crate) known_bug_accept_immediate: u64,
    pub(crate) known_bug_reset_eof: u64,
    pub(crate) known_bug_reorder: u64,
    pub(crate) errors: BTreeMap<String, u64>,
}

fn kind_name(k: &OpKind) -> &'static str {
    match k {
        OpKind::Recv { .. } => "recv",
        OpKind::Send { .. } => "send",
        OpKind::Accept { .. } => "accept",
        OpKind::Connect { .. } => "connect",
    }
}

impl fmt::Display for Stats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "random_ops seed {}: {} steps in {:.1}s; posts {} (accepted {}, immediate {}, failed at once {}); notified event/routine/callback {:?}, routines dropped with their thread {}, completed with an error {}; cancels that hit {}; closes {}, resets {}; short-lived threads {}; connections {}; bytes sent {}, received and checked {}; streams checked whole {}, as a prefix {}, unpaired {}",
            self.seed,
            self.steps,
            self.secs,
            self.posts,
            self.accepted,
            self.immediate,
            self.failed_at_once,
            self.by_mode,
            self.unrun_after_exit,
            self.results_err,
            self.cancels_hit,
            self.closes,
            self.resets,
            self.threads,
            self.connections,
            self.bytes_sent,
            self.bytes_checked,
            self.streams_whole,
            self.streams_prefix,
            self.streams_unpaired
        )?;
        write!(
            f,
            "\n  known bug hits: accept immediate Ok(0) but notified an error {}, reset read as a graceful end {}",
            self.known_bug_accept_immediate, self.known_bug_reset_eof
        )?;
        write!(
            f,
            "\n  streams that differed (counted in a non-strict run): {}",
            self.known_bug_reorder
        )?;
        write!(
            f,
            "\n  failed at once: {:?}\n  completed with: {:?}",
            self.failures, self.errors
        )
    }
}

pub(crate) struct World {
    seed: u64,
    /// Count (rather than fail on) a received stream that differs from the sent one
    /// (a non-strict run, for chasing other symptoms past a known one).
    tolerate_reorder: bool,
    step: u64,
    shared: Arc<Shared>,
    eps: BTreeMap<u64, Ep>,
    next_ep: u64,
    listener: Option<Socket>,
    lgen: u64,
    listen_addr: SocketAddr,
    ledger: BTreeMap<u64, Entry>,
    next_op: u64,
    /// Connector local port -> endpoint.
    ports: HashMap<u16, u64>,
    /// Event-mode events of retired entries: must not be signalled again.
    retired: VecDeque<(u64, Event)>,
    stats: Stats,
    /// The last actions, for the failure report.
    trail: VecDeque<String>,
}

macro_rules! bug {
    ($w:expr, $($arg:tt)*) => {{
        let msg = format!($($arg)*);
        panic!(
            "random_ops BUG (seed {} step {}; rerun with OVL_RANDOM_SEED={}): {}\nlast actions:\n{}",
            $w.seed, $w.step, $w.seed, msg,
            $w.trail.iter().cloned().collect::<Vec<_>>().join("\n")
        )
    }};
}

fn sizes_recv(rng: &mut Rng) -> Vec<usize> {
    (0..rng.range(1, 3))
        .map(|_| match rng.below(100) {
            0..15 => 0,
            15..50 => rng.range(1, 64),
            50..85 => rng.range(65, 4096),
            _ => rng.range(4097, 65536),
        })
        .collect()
}

fn sizes_send(rng: &mut Rng) -> Vec<usize> {
    let total = match rng.below(100) {
        0..8 => 0,
        8..45 => rng.range(1, 1024),
        45..85 => rng.range(1025, 16384),
        _ => rng.range(16385, 256 * 1024),
    };
    if total > 1 && rng.chance(1, 3) {
        let a = rng.range(0, total);
        vec![a, total - a]
    } else {
        vec![total]
    }
}

fn mode(rng: &mut Rng) -> Mode {
    match rng.below(3) {
        0 => Mode::Event,
        1 => Mode::Routine,
        _ => Mode::Callback,
    }
}

fn fill_pattern(key: u32, off: u64, n: usize) -> Vec<u8> {
    (0..n as u64).map(|i| pattern(key, off + i)).collect()
}

impl World {
    fn new(seed: u64, strict: bool) -> Self {
        let tolerate_reorder = !strict;
        let listener = Socket::listen_on("127.0.0.1:0".parse().unwrap(), 64).expect("listen");
        let listen_addr = listener.local_addr().unwrap();
        Self {
            seed,
            tolerate_reorder,
            step: 0,
            shared: Arc::new(Shared::default()),
            eps: BTreeMap::new(),
            next_ep: 0,
            listener: Some(listener),
            lgen: 0,
            listen_addr,
            ledger: BTreeMap::new(),
            next_op: 1,
            ports: HashMap::new(),
            retired: VecDeque::new(),
            stats: Stats {
                seed,
                ..Stats::default()
            },
            trail: VecDeque::new(),
        }
    }

    fn note(&mut self, s: String) {
        if self.trail.len() >= 40 {
            self.trail.pop_front();
        }
        let line = format!("  [{}] {s}", self.step);
        *LAST.lock().unwrap_or_else(|e| e.into_inner()) = line.clone();
        self.trail.push_back(line);
    }

    fn sock_of(&self, r: SockRef) -> Option<&Socket> {
        match r {
            SockRef::Ep(e) => self.eps.get(&e).and_then(|e| e.sock.as_ref()),
            SockRef::Listener(g) if g == self.lgen => self.listener.as_ref(),
            SockRef::Listener(_) => None,
        }
    }

    // -----------------------------------------------------------------------------------
    // Posting.

    /// Posts `plan`; returns the op id. Used by the main thread and by short-lived ones.
    fn post(&mut self, plan: Plan, from_thread: bool) -> u64 {
        let op = self.next_op;
        self.next_op += 1;
        self.stats.posts += 1;
        let shared = Arc::clone(&self.shared);
        let ev = (plan.mode == Mode::Event || plan.with_ev).then(Event::new_manual);
        let mut borrowed = plan
            .ov_from
            .and_then(|id| self.ledger.get_mut(&id))
            .and_then(|e| e.ov.take());
        let own = if borrowed.is_some() {
            None
        } else {
            Some(match &ev {
                Some(e) => Overlapped::with_event(e),
                None => Overlapped::new(),
            })
        };
        let ov = borrowed.as_ref().or(own.as_ref()).unwrap();
        let m = plan.mode;
        let (kind, on, nbufs, window, res) = match plan.what.clone() {
            What::Recv { ep, sizes } => {
                let sock = self.eps[&ep].sock.as_ref().expect("live endpoint");
                let bufs = sizes
                    .iter()
                    .enumerate()
                    .map(|(i, &n)| TBuf::new(&shared, op, i, true, vec![SENTINEL; n]))
                    .collect();
                let r = submit(Recv::new(sock, BufList(bufs)), m, ov, op, &shared);
                (
                    OpKind::Recv { ep },
                    SockRef::Ep(ep),
                    sizes.len(),
                    sizes.iter().sum(),
                    r,
                )
            }
            What::Send { ep, sizes } => {
                let e = &self.eps[&ep];
                let key = e.key_out.expect("send on an endpoint with a known stream");
                let mut off = e.send_off;
                let bufs = sizes
                    .iter()
                    .enumerate()
                    .map(|(i, &n)| {
                        let b = TBuf::new(&shared, op, i, false, fill_pattern(key, off, n));
                        off += n as u64;
                        b
                    })
                    .collect();
                let sock = e.sock.as_ref().expect("live endpoint");
                let r = submit(SendOp::new(sock, BufList(bufs)), m, ov, op, &shared);
                let len = sizes.iter().sum::<usize>() as u64;
                (OpKind::Send { ep, len }, SockRef::Ep(ep), sizes.len(), 0, r)
            }
            What::Accept { first, sndbuf } => {
                let sock = Socket::tcp_v4().expect("socket");
                if let Some(n) = sndbuf {
                    let _ = sock.set_send_buffer_size(n);
                    let _ = sock.set_recv_buffer_size(n);
                }
                let l = self.listener.as_ref().expect("listener");
                let r = match first {
                    Some(n) => {
                        let b = TBuf::new(&shared, op, 0, true, vec![SENTINEL; n]);
                        submit(Accept::new(l, &sock).receive(b), m, ov, op, &shared)
                    }
                    None => submit(Accept::new(l, &sock), m, ov, op, &shared),
                };
                let id = self.next_ep;
                self.next_ep += 1;
                let mut e = Ep::new(sock, Role::Acceptor);
                e.lgen = self.lgen;
                e.opening = Some(op);
                self.eps.insert(id, e);
                let n = usize::from(first.is_some());
                (
                    OpKind::Accept { ep: id },
                    SockRef::Listener(self.lgen),
                    n,
                    first.unwrap_or(0),
                    r,
                )
            }
            What::Connect {
                refused,
                data,
                sndbuf,
            } => {
                let sock = Socket::tcp_v4().expect("socket");
                sock.bind("127.0.0.1:0".parse().unwrap()).expect("bind");
                if let Some(n) = sndbuf {
                    let _ = sock.set_send_buffer_size(n);
                    let _ = sock.set_recv_buffer_size(n);
                }
                let port = sock.local_addr().unwrap().port();
                let to = if refused {
                    // A port nobody listens on: bound a moment ago, then closed.
                    let s = Socket::tcp_v4().expect("socket");
                    s.bind("127.0.0.1:0".parse().unwrap()).expect("bind");
                    s.local_addr().unwrap()
                } else {
                    self.listen_addr
                };
                let mut e = Ep::new(sock, Role::Connector);
                e.set_port(port);
                e.lgen = self.lgen;
                e.opening = Some(op);
                let key = e.key_out.unwrap();
                let sock = e.sock.as_ref().unwrap();
                let (r, n) = match data {
                    Some(n) => {
                        let b = TBuf::new(&shared, op, 0, false, fill_pattern(key, 0, n));
                        (
                            submit(
                                Connect::new(sock, to).send(BufList(vec![b])),
                                m,
                                ov,
                                op,
                                &shared,
                            ),
                            n,
                        )
                    }
                    None => (submit(Connect::new(sock, to), m, ov, op, &shared), 0),
                };
                let id = self.next_ep;
                self.next_ep += 1;
                self.eps.insert(id, e);
                self.ports.insert(port, id);
                (
                    OpKind::Connect {
                        ep: id,
                        len: n as u64,
                    },
                    SockRef::Ep(id),
                    usize::from(data.is_some()),
                    0,
                    r,
                )
            }
        };
        let ev_set_now = ev.as_ref().is_some_and(Event::is_set);
        let own_complete = own.as_ref().is_none_or(Overlapped::is_complete);
        if let (Some(id), Some(o)) = (plan.ov_from, borrowed.take()) {
            let e = self.ledger.get_mut(&id).expect("lender entry");
            e.ov = Some(o);
            if res.is_ok() {
                e.ov_shared = true;
            }
        }
        let mut entry = Entry {
            kind,
            mode: m,
            on,
            ov: own,
            ev,
            handle: None,
            accepted: res.is_ok(),
            immediate: None,
            from_thread,
            thread_gone: false,
            ov_shared: false,
            borrowed_ov: plan.ov_from.is_some(),
            ev_seen: false,
            done: 0,
            unrun: false,
            result: None,
            sum: None,
            nbufs,
            parts: Vec::new(),
            window,
            seq: None,
            off: 0,
            step: self.step,
        };
        let res_desc = match &res {
            Ok((_, st)) => format!("{st:?}"),
            Err(e) => format!("{e:?}"),
        };
        match res {
            Ok((handle, status)) => {
                self.stats.accepted += 1;
                entry.handle = handle;
                match kind {
                    OpKind::Recv { ep } => {
                        let e = self.eps.get_mut(&ep).unwrap();
                        entry.seq = Some(e.recv_seq);
                        e.recv_seq += 1;
                        e.pend_recv += 1;
                    }
                    OpKind::Send { ep, len } | OpKind::Connect { ep, len } => {
                        let e = self.eps.get_mut(&ep).unwrap();
                        entry.off = e.send_off;
                        e.send_off += len;
                        self.stats.bytes_sent += len;
                        if matches!(kind, OpKind::Send { .. }) {
                            e.pend_send += 1;
                        }
                    }
                    OpKind::Accept { ep } => {
                        let e = self.eps.get_mut(&ep).unwrap();
                        if nbufs > 0 {
                            entry.seq = Some(e.recv_seq);
                            e.recv_seq += 1;
                        }
                    }
                }
                if let Status::Immediate(t) = status {
                    self.stats.immediate += 1;
                    entry.immediate = Some(t);
                    if m == Mode::Event && !ev_set_now {
                        bug!(
                            self,
                            "op {op} completed immediately ({t:?}) but its event is not set: {}",
                            entry.describe()
                        );
                    }
                }
            }
            Err(e) => {
                self.stats.failed_at_once += 1;
                let k = format!("{:?}:{e:?}", std::mem::discriminant(&kind))
                    .replace("Discriminant", "");
                *self
                    .stats
                    .failures
                    .entry(format!("{} {e:?}", kind_name(&kind)))
                    .or_default() += 1;
                let _ = k;
                if ev_set_now && plan.ov_from.is_none() {
                    bug!(
                        self,
                        "op {op} failed at once ({e:?}) yet signalled its event"
                    );
                }
                if !own_complete {
                    bug!(
                        self,
                        "op {op} failed at once ({e:?}) yet its record shows pending"
                    );
                }
                match kind {
                    OpKind::Accept { ep } | OpKind::Connect { ep, .. } => {
                        let x = self.eps.get_mut(&ep).unwrap();
                        x.state = EpState::Failed;
                        x.opening = None;
                    }
                    OpKind::Recv { ep } | OpKind::Send { ep, .. } => {
                        let x = self.eps.get_mut(&ep).unwrap();
                        if e != WsaError::WSAEINVAL {
                            x.broken = true;
                        }
                        x.saw_reset |= e == WsaError::WSAECONNRESET;
                    }
                }
            }
        }
        let d = format!(
            "post op {op} {:?} -> {}",
            plan,
            if entry.accepted { "accepted" } else { "failed" }
        );
        let step = self.step;
        if let OpKind::Recv { ep }
        | OpKind::Send { ep, .. }
        | OpKind::Accept { ep }
        | OpKind::Connect { ep, .. } = kind
            && let Some(x) = self.eps.get_mut(&ep)
        {
            x.log(
                step,
                format!("{d} {:?} seq {:?} off {}", res_desc, entry.seq, entry.off),
            );
        }
        self.note(d);
        self.ledger.insert(op, entry);
        op
    }

    // -----------------------------------------------------------------------------------
    // Observing notifications.

    /// Takes in the inbox and the events; retires what is fully accounted for.
    fn pump(&mut self) {
        let mut touched = Vec::new();
        for n in self.shared.take() {
            match n {
                Note::Done { op, result, sum } => {
                    let Some(e) = self.ledger.get_mut(&op) else {
                        bug!(
                            self,
                            "op {op} notified ({result:?}) after it was fully accounted for: a second notification"
                        );
                    };
                    if !e.accepted {
                        bug!(
                            self,
                            "op {op} failed at once but its routine/callback ran: {}",
                            e.describe()
                        );
                    }
                    e.done += 1;
                    if e.done > 1 {
                        bug!(self, "op {op} notified twice: {}", e.describe());
                    }
                    e.result = Some(result);
                    e.sum = Some(sum);
                    touched.push(op);
                }
                Note::Unrun { op } => {
                    let Some(e) = self.ledger.get_mut(&op) else {
                        bug!(
                            self,
                            "op {op}: closure dropped after the op was accounted for"
                        );
                    };
                    e.unrun = true;
                    touched.push(op);
                }
                Note::Part { op, idx, data } => {
                    let Some(e) = self.ledger.get_mut(&op) else {
                        bug!(
                            self,
                            "op {op}: a buffer came back after the op was accounted for"
                        );
                    };
                    e.parts.push((idx, data));
                    if e.parts.len() > e.nbufs {
                        bug!(
                            self,
                            "op {op}: more buffers dropped than posted: {}",
                            e.describe()
                        );
                    }
                    touched.push(op);
                }
            }
        }
        // Event-mode operations: the event is the notification.
        let mut problems = Vec::new();
        for (&op, e) in self.ledger.iter_mut() {
            if e.mode != Mode::Event || !e.accepted || e.ev_seen {
                continue;
            }
            if !e.ev.as_ref().unwrap().is_set() {
                continue;
            }
            e.ev_seen = true;
            e.done += 1;
            if let Some(ov) = &e.ov
                && !ov.is_complete()
            {
                problems.push(format!(
                    "op {op}: event set but the record shows pending: {}",
                    e.describe()
                ));
            }
            if let Some(mut h) = e.handle.take() {
                match h.try_take() {
                    Some((r, s)) => {
                        e.result = Some(r);
                        e.sum = Some(s);
                    }
                    None => problems.push(format!(
                        "op {op}: event set but Posted has no output yet: {}",
                        e.describe()
                    )),
                }
            } else if e.result.is_none()
                && let Some(ov) = &e.ov
            {
                e.result = Some(ov.result(false));
            }
            if let (Some(ov), Some(r)) = (&e.ov, &e.result)
                && ov.result(false) != *r
            {
                problems.push(format!(
                    "op {op}: the record says {:?}, the handle {r:?}",
                    ov.result(false)
                ));
            }
            touched.push(op);
        }
        if let Some(p) = problems.first() {
            bug!(self, "{p}");
        }
        touched.sort_unstable();
        touched.dedup();
        for op in touched {
            self.try_finish(op);
        }
    }

    fn try_finish(&mut self, op: u64) {
        let Some(e) = self.ledger.get(&op) else {
            return;
        };
        if e.parts.len() < e.nbufs {
            return;
        }
        let complete = if !e.accepted {
            e.mode == Mode::Event || e.unrun
        } else {
            match e.mode {
                Mode::Event => e.ev_seen,
                _ => e.done == 1 || e.unrun,
            }
        };
        if !complete {
            return;
        }
        let e = self.ledger.remove(&op).unwrap();
        self.finish(op, e);
    }

    /// Checks a fully accounted-for entry and applies its effects on the streams.
    fn finish(&mut self, op: u64, e: Entry) {
        if !e.accepted {
            return;
        }
        if e.unrun {
            if !(e.mode == Mode::Routine && e.thread_gone) {
                bug!(
                    self,
                    "op {op}: its closure was dropped without running: {}",
                    e.describe()
                );
            }
            if e.done > 0 {
                bug!(self, "op {op}: ran and was dropped unrun: {}", e.describe());
            }
            self.stats.unrun_after_exit += 1;
        } else {
            self.stats.by_mode[e.mode as usize] += 1;
        }
        if let Some(ev) = &e.ev {
            match e.mode {
                Mode::Routine if !e.ov_shared && !e.borrowed_ov && ev.is_set() => {
                    bug!(
                        self,
                        "op {op}: a routine-mode completion signalled the record's event: {}",
                        e.describe()
                    )
                }
                Mode::Callback if !e.unrun && !ev.is_set() => {
                    bug!(
                        self,
                        "op {op}: a callback-mode completion did not signal the record's event: {}",
                        e.describe()
                    )
                }
                Mode::Event => {
                    ev.reset();
                    self.retired.push_back((op, ev.clone()));
                    if self.retired.len() > RETIRED {
                        let (old, ev) = self.retired.pop_front().unwrap();
                        if ev.is_set() {
                            bug!(
                                self,
                                "op {old}: its event was signalled again after its completion"
                            );
                        }
                    }
                }
                _ => {}
            }
        }
        if let (Some(t), Some(r)) = (e.immediate, &e.result)
            && *r != Ok(t)
        {
            bug!(
                self,
                "op {op}: completed immediately with {t:?} but notified {r:?}: {}",
                e.describe()
            );
        }
        if let Some(Err(err)) = e.result {
            if err != WsaError::WSA_OPERATION_ABORTED
                && let OpKind::Recv { ep } | OpKind::Send { ep, .. } = e.kind
                && let Some(x) = self.eps.get_mut(&ep)
            {
                x.broken = true;
                x.saw_reset |= err == WsaError::WSAECONNRESET;
            }
            self.stats.results_err += 1;
            *self
                .stats
                .errors
                .entry(format!("{} {err:?}", kind_name(&e.kind)))
                .or_default() += 1;
        }
        let kind_desc = e.describe_kind();
        let mut parts = e.parts;
        parts.sort_by_key(|p| p.0);
        let data: Vec<u8> = parts.into_iter().flat_map(|p| p.1).collect();
        match e.kind {
            OpKind::Recv { ep } | OpKind::Accept { ep } => {
                if let (Some(s), true) = (&e.sum, e.nbufs > 0)
                    && s.recv_len != data.len()
                {
                    bug!(
                        self,
                        "op {op}: output says {} bytes, the buffers hold {}",
                        s.recv_len,
                        data.len()
                    );
                }
                match &e.result {
                    Some(Ok(t)) if e.nbufs > 0 && t.bytes != data.len() => {
                        bug!(
                            self,
                            "op {op}: reported {} bytes but {} were written: {}",
                            t.bytes,
                            data.len(),
                            kind_desc
                        )
                    }
                    Some(Err(err)) if !data.is_empty() => {
                        bug!(
                            self,
                            "op {op}: failed with {err:?} but {} bytes were written into its buffers (lost bytes)",
                            data.len()
                        )
                    }
                    _ => {}
                }
                let eof = e.window > 0 && matches!(e.result, Some(Ok(t)) if t.bytes == 0);
                if let OpKind::Accept { ep } = e.kind {
                    self.accept_done(ep, &e.result, e.sum);
                }
                let step = self.step;
                let x = self.eps.get_mut(&ep).unwrap();
                x.log(
                    step,
                    format!(
                        "done op {op} {:?} {:?} seq {:?} got {} eof {eof} mode {:?} thread {}",
                        e.kind,
                        e.result,
                        e.seq,
                        data.len(),
                        e.mode,
                        e.from_thread
                    ),
                );
                if matches!(e.kind, OpKind::Recv { .. }) {
                    x.pend_recv -= 1;
                    if matches!(e.result, Some(Err(err)) if err != WsaError::WSA_OPERATION_ABORTED)
                    {
                        x.recv_dead = true;
                    }
                }
                if let Some(seq) = e.seq {
                    x.held.insert(seq, (data, eof));
                }
                // Also after an accept: receives that finished before it held their
                // bytes until the stream's key was known.
                self.advance(ep);
            }
            OpKind::Send { ep, len } | OpKind::Connect { ep, len } => {
                let whole = matches!(e.result, Some(Ok(t)) if t.bytes as u64 == len);
                if let OpKind::Connect { .. } = e.kind {
                    self.connect_done(ep, &e.result);
                }
                let step = self.step;
                let x = self.eps.get_mut(&ep).unwrap();
                x.log(
                    step,
                    format!(
                        "done op {op} {:?} off {} {:?} whole {whole} mode {:?} thread {}",
                        e.kind, e.off, e.result, e.mode, e.from_thread
                    ),
                );
                if matches!(e.kind, OpKind::Send { .. }) {
                    x.pend_send -= 1;
                }
                if let Some(Ok(t)) = e.result
                    && t.bytes as u64 > len
                {
                    bug!(self, "op {op}: sent {} bytes of {len}", t.bytes);
                }
                if !whole && len > 0 {
                    x.limit = x.limit.min(e.off);
                }
                if !whole && matches!(e.kind, OpKind::Connect { .. }) {
                    x.limit = x.limit.min(e.off);
                }
            }
        }
    }

    fn accept_done(
        &mut self,
        ep: u64,
        result: &Option<Result<Transfer, WsaError>>,
        sum: Option<Summary>,
    ) {
        let remote = sum.and_then(|s| s.remote);
        let x = self.eps.get_mut(&ep).unwrap();
        x.opening = None;
        let peer = match result {
            Some(Ok(_)) => remote.or_else(|| x.sock.as_ref().and_then(|s| s.peer_addr().ok())),
            // Failed, or nobody saw the result (its routine went with its thread, whose
            // exit cancelled the accept, possibly after the kernel had accepted the
            // connection: the library then shuts it down, as Windows leaves such a
            // socket unusable). Either way the endpoint carries no checked stream.
            Some(Err(_)) | None => None,
        };
        let Some(peer) = peer else {
            x.state = EpState::Failed;
            return;
        };
        if matches!(result, Some(Ok(_))) && sum.is_some() && remote.is_none() {
            bug!(
                self,
                "op on ep {ep}: accept succeeded without a remote address"
            );
        }
        x.state = EpState::Connected;
        x.set_port(peer.port());
        self.stats.connections += 1;
        if let Some(&c) = self.ports.get(&peer.port())
            && self
                .eps
                .get(&c)
                .is_some_and(|c| c.role == Role::Connector && c.peer.is_none())
        {
            self.eps.get_mut(&c).unwrap().peer = Some(ep);
            self.eps.get_mut(&ep).unwrap().peer = Some(c);
        }
    }

    fn connect_done(&mut self, ep: u64, result: &Option<Result<Transfer, WsaError>>) {
        let x = self.eps.get_mut(&ep).unwrap();
        x.opening = None;
        let ok = match result {
            Some(r) => r.is_ok(),
            None => x.sock.as_ref().is_some_and(|s| s.peer_addr().is_ok()),
        };
        x.state = if ok {
            EpState::Connected
        } else {
            EpState::Failed
        };
    }

    /// Verifies the received stream of `ep` as far as it is contiguous.
    fn advance(&mut self, ep: u64) {
        let x = self.eps.get_mut(&ep).unwrap();
        let Some(key) = x.key_in else { return };
        let mut after_eof = None;
        while let Some((data, eof)) = x.held.remove(&x.next_seq) {
            if x.mismatch.is_none()
                && let Some(j) = data
                    .iter()
                    .enumerate()
                    .position(|(j, &b)| b != pattern(key, x.recv_off + j as u64))
            {
                x.mismatch = Some(x.recv_off + j as u64);
            }
            if x.eof && !data.is_empty() {
                after_eof = Some(data.len());
            }
            x.recv_off += data.len() as u64;
            self.stats.bytes_checked += data.len() as u64;
            x.eof |= eof;
            x.next_seq += 1;
        }
        if let Some(n) = after_eof {
            bug!(
                self,
                "ep {ep}: {n} bytes received after the end of the stream"
            );
        }
    }

    /// The stream checks of a receiver against its peer's sent stream.
    fn check_stream(&mut self, rx: u64) {
        let x = &self.eps[&rx];
        if x.state != EpState::Connected {
            return;
        }
        if x.next_seq != x.recv_seq {
            bug!(
                self,
                "ep {rx}: receives {}..{} never accounted for",
                x.next_seq,
                x.recv_seq
            );
        }
        let Some(tx) = x.peer.and_then(|p| self.eps.get(&p)) else {
            self.stats.streams_unpaired += 1;
            return;
        };
        if let Some(m) = x.mismatch
            && m < tx.limit
        {
            if self.tolerate_reorder {
                // Only in a non-strict run (none by default): counted, not failed.
                self.stats.known_bug_reorder += 1;
                return;
            }
            bug!(
                self,
                "ep {rx}: received stream differs from what ep {:?} sent at offset {m} (sender clean up to {}, sent {}, received {})",
                x.peer,
                tx.limit,
                tx.send_off,
                x.recv_off
            );
        }
        if x.recv_off > tx.send_off {
            bug!(
                self,
                "ep {rx}: received {} bytes, more than the {} sent",
                x.recv_off,
                tx.send_off
            );
        }
        if x.eof && tx.limit == u64::MAX {
            if x.recv_off != tx.send_off {
                bug!(
                    self,
                    "ep {rx}: stream ended cleanly after {} bytes but ep {:?} sent {} (lost bytes)\nreceiver:\n{}\nsender:\n{}",
                    x.recv_off,
                    x.peer,
                    tx.send_off,
                    x.history(),
                    tx.history()
                );
            }
            self.stats.streams_whole += 1;
        } else {
            self.stats.streams_prefix += 1;
        }
    }

    /// Forgets endpoints whose streams can no longer change (bounds memory in long runs).
    fn retire(&mut self) {
        let ids: Vec<u64> = self.eps.keys().copied().collect();
        for id in ids {
            let Some(x) = self.eps.get(&id) else { continue };
            if !x.quiet() || !x.held.is_empty() {
                continue;
            }
            match x.peer {
                Some(p) => {
                    let Some(y) = self.eps.get(&p) else { continue };
                    if !y.quiet() || !y.held.is_empty() {
                        continue;
                    }
                    self.check_stream(id);
                    self.check_stream(p);
                    self.forget(id);
                    self.forget(p);
                }
                None => {
                    let orphan = match (x.role, x.state) {
                        (_, EpState::Failed) => true,
                        (Role::Connector, _) => x.lgen != self.lgen,
                        (Role::Acceptor, _) => true,
                    };
                    if orphan {
                        self.check_stream(id);
                        self.forget(id);
                    }
                }
            }
        }
    }

    fn forget(&mut self, id: u64) {
        let x = self.eps.remove(&id).unwrap();
        if x.role == Role::Connector && self.ports.get(&x.port) == Some(&id) {
            self.ports.remove(&x.port);
        }
    }

    // -----------------------------------------------------------------------------------
    // Choosing actions.

    fn live_eps(&self, f: impl Fn(&Ep) -> bool) -> Vec<u64> {
        self.eps
            .iter()
            .filter(|(_, e)| e.live() && f(e))
            .map(|(&i, _)| i)
            .collect()
    }

    /// A live endpoint satisfying `f`, rarely a broken one.
    fn pick_ep(&self, rng: &mut Rng, f: impl Fn(&Ep) -> bool) -> Option<u64> {
        if rng.chance(1, 20) {
            rng.pick(&self.live_eps(f))
        } else {
            rng.pick(&self.live_eps(|e| !e.broken && f(e)))
        }
    }

    fn pending_ops(&self, f: impl Fn(&Entry) -> bool) -> Vec<u64> {
        self.ledger
            .iter()
            .filter(|(_, e)| e.accepted && f(e))
            .map(|(&i, _)| i)
            .collect()
    }

    fn plan_recv(&self, rng: &mut Rng) -> Option<Plan> {
        let ep = if rng.chance(95, 100) {
            self.pick_ep(rng, |e| {
                e.state == EpState::Connected && e.pend_recv < MAX_PER_DIR
            })?
        } else {
            rng.pick(&self.live_eps(|e| e.pend_recv < MAX_PER_DIR))?
        };
        Some(Plan {
            what: What::Recv {
                ep,
                sizes: sizes_recv(rng),
            },
            mode: mode(rng),
            with_ev: rng.chance(1, 2),
            ov_from: None,
        })
    }

    fn plan_send(&self, rng: &mut Rng) -> Option<Plan> {
        let ep = if rng.chance(95, 100) {
            self.pick_ep(rng, |e| {
                e.state == EpState::Connected && !e.shut_wr && e.pend_send < MAX_PER_DIR
            })?
        } else {
            rng.pick(&self.live_eps(|e| {
                e.key_out.is_some() && e.state != EpState::Opening && e.pend_send < MAX_PER_DIR
            }))?
        };
        Some(Plan {
            what: What::Send {
                ep,
                sizes: sizes_send(rng),
            },
            mode: mode(rng),
            with_ev: rng.chance(1, 2),
            ov_from: None,
        })
    }

    fn sndbuf(rng: &mut Rng) -> Option<usize> {
        rng.chance(1, 2).then(|| rng.range(4096, 65536))
    }

    fn plan_accept(&self, rng: &mut Rng) -> Option<Plan> {
        let opening = self
            .eps
            .values()
            .filter(|e| e.live() && e.role == Role::Acceptor && e.state == EpState::Opening)
            .count();
        if self.listener.is_none()
            || opening >= MAX_ACCEPTS
            || self.live_eps(|_| true).len() >= MAX_LIVE
        {
            return None;
        }
        let first = rng.chance(1, 2).then(|| rng.range(1, 2048));
        Some(Plan {
            what: What::Accept {
                first,
                sndbuf: Self::sndbuf(rng),
            },
            mode: mode(rng),
            with_ev: rng.chance(1, 2),
            ov_from: None,
        })
    }

    fn plan_connect(&self, rng: &mut Rng) -> Option<Plan> {
        if self.live_eps(|_| true).len() >= MAX_LIVE {
            return None;
        }
        let refused = rng.chance(1, 8);
        let data = rng.chance(1, 2).then(|| rng.range(1, 8192));
        Some(Plan {
            what: What::Connect {
                refused,
                data,
                sndbuf: Self::sndbuf(rng),
            },
            mode: mode(rng),
            with_ev: rng.chance(1, 2),
            ov_from: None,
        })
    }

    fn plan_any(&self, rng: &mut Rng) -> Option<Plan> {
        match rng.below(10) {
            0..4 => self.plan_recv(rng),
            4..8 => self.plan_send(rng),
            8 => self.plan_accept(rng),
            _ => self.plan_connect(rng),
        }
    }

    /// One random action.
    fn act(&mut self, rng: &mut Rng) {
        let crowded = self.ledger.len() >= MAX_PENDING;
        let roll = rng.below(100);
        match roll {
            0..18 if !crowded => {
                if let Some(p) = self.plan_recv(rng) {
                    self.post(p, false);
                }
            }
            18..32 if !crowded => {
                if let Some(p) = self.plan_send(rng) {
                    self.post(p, false);
                }
            }
            32..36 if !crowded => {
                if let Some(p) = self.plan_accept(rng) {
                    self.post(p, false);
                }
            }
            36..41 if !crowded => {
                if let Some(p) = self.plan_connect(rng) {
                    self.post(p, false);
                }
            }
            41..48 => self.cancel_one(rng),
            48..50 => {
                let mut socks: Vec<SockRef> = self
                    .live_eps(|_| true)
                    .into_iter()
                    .map(SockRef::Ep)
                    .collect();
                socks.push(SockRef::Listener(self.lgen));
                if let Some(r) = rng.pick(&socks)
                    && let Some(s) = self.sock_of(r)
                {
                    let n = if rng.chance(1, 4) {
                        s.cancel_from_this_thread()
                    } else {
                        s.cancel_all()
                    };
                    self.stats.cancels_hit += n as u64;
                    self.note(format!("cancel_all/this_thread on {r:?} -> {n}"));
                }
            }
            50..53 => self.close_one(rng),
            53 if rng.chance(1, 3) => {
                // Close the listener (pending accepts abort) and open a new one.
                self.listener = None;
                let l = Socket::listen_on("127.0.0.1:0".parse().unwrap(), 64).expect("listen");
                self.listen_addr = l.local_addr().unwrap();
                self.listener = Some(l);
                self.lgen += 1;
                self.note("listener closed and reopened".into());
            }
            54 => {
                if let Some(ep) =
                    rng.pick(&self.live_eps(|e| e.state == EpState::Connected && !e.shut_wr))
                {
                    let x = self.eps.get_mut(&ep).unwrap();
                    let _ = x.sock.as_ref().unwrap().shutdown(Shutdown::Send);
                    x.shut_wr = true;
                    let step = self.step;
                    x.log(step, "shutdown(Send)".into());
                    self.note(format!("shutdown(Send) ep {ep}"));
                }
            }
            55..58 => {
                if let Some(op) = rng.pick(&self.pending_ops(|e| e.ov.is_some() && !e.ov_shared)) {
                    self.ledger.get_mut(&op).unwrap().ov = None;
                    self.note(format!("drop the Overlapped of op {op}"));
                }
            }
            58..61 => {
                if let Some(op) = rng.pick(&self.pending_ops(|e| e.handle.is_some())) {
                    self.ledger.get_mut(&op).unwrap().handle = None;
                    self.note(format!("drop the Posted of op {op}"));
                }
            }
            61..64 if !crowded => self.short_thread(rng),
            64..76 => {
                let d = if rng.chance(1, 8) {
                    Duration::from_micros(300)
                } else {
                    Duration::ZERO
                };
                sleep_alertable(Some(d));
            }
            76..84 => self.wait_events(rng),
            84 if !crowded => {
                // Post on a record that is (probably) still busy: WSAEINVAL, nothing notified.
                if let Some(lender) =
                    rng.pick(&self.pending_ops(|e| e.mode == Mode::Routine && e.ov.is_some()))
                    && let Some(mut p) = self.plan_recv(rng)
                {
                    p.mode = Mode::Routine;
                    p.with_ev = false;
                    p.ov_from = Some(lender);
                    self.post(p, false);
                }
            }
            85..88 => {
                // Wait for one operation through its handle or record, when it is certain to end.
                if let Some(op) = rng.pick(&self.pending_ops(|e| {
                    e.mode == Mode::Event && (e.handle.is_some() || e.ov.is_some()) && !e.ov_shared
                })) {
                    let on = self.ledger[&op].on;
                    let cancelled = match self.sock_of(on) {
                        Some(s) => {
                            s.cancel(self.ledger[&op].ov.as_ref().unwrap_or(&Overlapped::new()))
                        }
                        None => true,
                    };
                    if cancelled {
                        self.wait_one(op, rng);
                    }
                }
            }
            _ => {}
        }
    }

    fn wait_one(&mut self, op: u64, rng: &mut Rng) {
        let e = self.ledger.get_mut(&op).unwrap();
        if let Some(h) = e.handle.take()
            && rng.chance(1, 2)
        {
            let d = e.describe();
            self.note(format!("Posted::wait op {op}: {d}"));
            let (r, s) = h.wait();
            self.note(format!("Posted::wait op {op} -> {r:?}"));
            let e = self.ledger.get_mut(&op).unwrap();
            e.result = Some(r);
            e.sum = Some(s);
            return;
        } else if let Some(h) = e.handle.take() {
            e.handle = Some(h);
        }
        let e = self.ledger.get_mut(&op).unwrap();
        if e.ov.is_some() {
            let d = e.describe();
            self.note(format!("Overlapped::result op {op}: {d}"));
        }
        let e = self.ledger.get_mut(&op).unwrap();
        if let Some(ov) = &e.ov {
            let r = ov.result_timeout(Some(Duration::from_secs(10)));
            if r == Err(WsaError::WSA_IO_INCOMPLETE) {
                bug!(
                    self,
                    "op {op}: cancelled or closed, yet not complete after 10 s"
                );
            }
            self.note(format!("Overlapped::result op {op} -> {r:?}"));
        }
    }

    fn cancel_one(&mut self, rng: &mut Rng) {
        let Some(op) = rng.pick(&self.pending_ops(|e| e.ov.is_some())) else {
            return;
        };
        let e = &self.ledger[&op];
        let Some(s) = self.sock_of(e.on) else { return };
        let hit = s.cancel(e.ov.as_ref().unwrap());
        let may_wait = e.mode == Mode::Event && !e.ov_shared;
        if hit {
            self.stats.cancels_hit += 1;
        }
        self.note(format!("cancel op {op} -> {hit}"));
        if hit && may_wait && rng.chance(1, 3) {
            self.wait_one(op, rng);
        }
    }

    fn close_one(&mut self, rng: &mut Rng) {
        let broken = self.live_eps(|e| e.broken);
        let pick = if !broken.is_empty() && rng.chance(1, 2) {
            rng.pick(&broken)
        } else {
            rng.pick(&self.live_eps(|_| true))
        };
        let Some(ep) = pick else { return };
        let how = rng.below(4);
        let x = self.eps.get_mut(&ep).unwrap();
        match how {
            0 => x.sock.take().unwrap().close(),
            1 => drop(x.sock.take()),
            2 => {
                if x.aborted {
                    drop(x.sock.take());
                } else {
                    x.sock.as_ref().unwrap().abort();
                    x.aborted = true;
                }
            }
            _ => {
                let s = x.sock.take().unwrap();
                let _ = s.set_linger(Some(Duration::ZERO));
                drop(s);
                x.reset = true;
                self.stats.resets += 1;
            }
        }
        self.stats.closes += 1;
        let step = self.step;
        self.eps.get_mut(&ep).unwrap().log(
            step,
            format!("close how {how} (0 close, 1 drop, 2 abort, 3 reset)"),
        );
        self.note(format!("close ep {ep} how {how}"));
    }

    fn wait_events(&mut self, rng: &mut Rng) {
        let evs: Vec<Event> = self
            .ledger
            .values()
            .filter(|e| e.accepted && e.mode == Mode::Event && !e.ev_seen)
            .filter_map(|e| e.ev.clone())
            .take(overlapped::MAXIMUM_WAIT_EVENTS)
            .collect();
        if evs.is_empty() {
            return;
        }
        let refs: Vec<&Event> = evs.iter().collect();
        let t = if rng.chance(1, 4) {
            Duration::from_micros(500)
        } else {
            Duration::ZERO
        };
        let alertable = rng.chance(1, 2);
        match wait_any(&refs, Some(t), alertable) {
            Ok(WaitOutcome::Signaled(i)) => {
                if !refs[i].is_set() {
                    bug!(self, "wait_any reported event {i} signalled, but it is not");
                }
            }
            Ok(WaitOutcome::IoCompletion) if !alertable => {
                bug!(self, "a non-alertable wait ran routines")
            }
            Ok(_) => {}
            Err(e) => bug!(self, "wait_any failed: {e:?}"),
        }
    }

    /// Posts from a short-lived thread that then exits.
    fn short_thread(&mut self, rng: &mut Rng) {
        let plans: Vec<Plan> = (0..rng.range(1, 3))
            .filter_map(|_| self.plan_any(rng))
            .collect();
        if plans.is_empty() {
            return;
        }
        let alert = rng.chance(1, 3);
        self.stats.threads += 1;
        self.note(format!("short-lived thread with {} posts", plans.len()));
        let ops = std::thread::scope(|s| {
            s.spawn(|| {
                let ops: Vec<u64> = plans.into_iter().map(|p| self.post(p, true)).collect();
                if alert {
                    sleep_alertable(Some(Duration::ZERO));
                }
                ops
            })
            .join()
            .expect("short-lived thread")
        });
        for op in ops {
            if let Some(e) = self.ledger.get_mut(&op) {
                e.thread_gone = true;
            }
        }
        // Routines dropped with the thread may already be in the inbox.
        let exited: Vec<u64> = self
            .ledger
            .iter()
            .filter(|(_, e)| e.thread_gone)
            .map(|(&i, _)| i)
            .collect();
        for op in exited {
            self.try_finish(op);
        }
    }

    // -----------------------------------------------------------------------------------
    // The end of a run.

    /// Ends every stream gracefully: keeps a receive posted on every connected socket
    /// until its stream ends, shuts sending down once a socket's sends are done.
    fn drain(&mut self, rng: &mut Rng) {
        self.note("drain".into());
        self.listener = None;
        self.lgen += 1;
        // Sockets that never connected hold nothing worth waiting for; aborted ones no
        // longer read, so their peers' sends could never finish.
        let ids: Vec<u64> = self.live_eps(|e| e.state == EpState::Failed || e.aborted);
        for id in ids {
            drop(self.eps.get_mut(&id).unwrap().sock.take());
        }
        let end = Instant::now() + DRAIN;
        loop {
            self.step += 1;
            progress(self.step);
            self.pump();
            let mut busy = false;
            for id in self.live_eps(|_| true) {
                let x = &self.eps[&id];
                match x.state {
                    EpState::Opening => busy = true,
                    EpState::Failed => {
                        drop(self.eps.get_mut(&id).unwrap().sock.take());
                    }
                    EpState::Connected => {
                        if x.aborted {
                            continue;
                        }
                        if !x.eof && !x.recv_dead {
                            busy = true;
                            if x.pend_recv == 0 {
                                let p = Plan {
                                    what: What::Recv {
                                        ep: id,
                                        sizes: vec![65536],
                                    },
                                    mode: mode(rng),
                                    with_ev: false,
                                    ov_from: None,
                                };
                                let op = self.post(p, false);
                                if !self.ledger.get(&op).is_none_or(|e| e.accepted) {
                                    self.eps.get_mut(&id).unwrap().recv_dead = true;
                                }
                            }
                        }
                        let x = self.eps.get_mut(&id).unwrap();
                        if x.pend_send > 0 {
                            busy = true;
                        } else if !x.shut_wr {
                            let _ = x.sock.as_ref().unwrap().shutdown(Shutdown::Send);
                            x.shut_wr = true;
                        }
                    }
                }
            }
            if !busy {
                break;
            }
            if Instant::now() > end {
                let stuck: Vec<String> = self
                    .eps
                    .iter()
                    .filter(|(_, e)| e.live())
                    .map(|(i, e)| {
                        format!(
                            "ep {i} {:?} {:?} eof {} dead {} pend r{} s{} recv_off {} peer {:?}",
                            e.role,
                            e.state,
                            e.eof,
                            e.recv_dead,
                            e.pend_recv,
                            e.pend_send,
                            e.recv_off,
                            e.peer
                        )
                    })
                    .collect();
                let ops: Vec<String> = self.ledger.values().take(20).map(Entry::describe).collect();
                bug!(
                    self,
                    "the final drain did not converge in {DRAIN:?}:\n{}\npending ops:\n{}",
                    stuck.join("\n"),
                    ops.join("\n")
                );
            }
            sleep_alertable(Some(Duration::from_millis(1)));
        }
    }

    /// Closes everything and waits until every op is accounted for.
    fn close_all(&mut self) {
        for x in self.eps.values_mut() {
            drop(x.sock.take());
        }
        self.listener = None;
        let end = Instant::now() + DRAIN;
        while !self.ledger.is_empty() {
            self.step += 1;
            progress(self.step);
            self.pump();
            if self.ledger.is_empty() {
                break;
            }
            if Instant::now() > end {
                let ops: Vec<String> = self
                    .ledger
                    .iter()
                    .map(|(i, e)| format!("  {i}: {}", e.describe()))
                    .collect();
                bug!(
                    self,
                    "{} operations never accounted for (missing notification or leaked buffer) after every socket closed:\n{}",
                    ops.len(),
                    ops.join("\n")
                );
            }
            sleep_alertable(Some(Duration::from_millis(1)));
        }
        for (op, ev) in std::mem::take(&mut self.retired) {
            if ev.is_set() {
                bug!(
                    self,
                    "op {op}: its event was signalled again after its completion"
                );
            }
        }
        let ids: Vec<u64> = self.eps.keys().copied().collect();
        for id in &ids {
            if !self.eps[id].held.is_empty() {
                let key = self.eps[id].key_in;
                if key.is_some() {
                    let x = &self.eps[id];
                    let (held, next, total) = (
                        x.held.keys().copied().collect::<Vec<_>>(),
                        x.next_seq,
                        x.recv_seq,
                    );
                    bug!(
                        self,
                        "ep {id}: received data never verified: receives {held:?} held behind {next} (of {total})\n{}",
                        x.history()
                    );
                }
            }
        }
        for id in ids {
            self.check_stream(id);
        }
    }
}

impl Entry {
    fn describe_kind(&self) -> String {
        format!("{:?}", self.kind)
    }
}

// ---------------------------------------------------------------------------------------
// The watchdog and the run.

static PROGRESS: AtomicU64 = AtomicU64::new(0);
/// The last action noted, for the hang report.
static LAST: Mutex<String> = Mutex::new(String::new());
static RUNNING_SEED: AtomicU64 = AtomicU64::new(0);

fn progress(step: u64) {
    PROGRESS.store(step, Ordering::Relaxed);
}

/// Aborts the process if the run stops making progress for [`HANG`].
fn watchdog(stop: Arc<AtomicBool>) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        let mut last = (PROGRESS.load(Ordering::Relaxed), Instant::now());
        while !stop.load(Ordering::Relaxed) {
            std::thread::sleep(Duration::from_millis(100));
            let now = PROGRESS.load(Ordering::Relaxed);
            if now != last.0 {
                last = (now, Instant::now());
            } else if last.1.elapsed() > HANG {
                let seed = RUNNING_SEED.load(Ordering::Relaxed);
                eprintln!(
                    "random_ops HANG: seed {seed} made no progress for {HANG:?} at step {now}; rerun with OVL_RANDOM_SEED={seed}; last action:\n{}",
                    LAST.lock().unwrap_or_else(|e| e.into_inner())
                );
                std::process::abort();
            }
        }
    })
}

/// Prints the seed if the run panics.
struct SeedOnPanic(u64, u64);

impl Drop for SeedOnPanic {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!(
                "random_ops: failing seed {}; rerun with OVL_RANDOM_SEED={} OVL_RANDOM_OPS={}",
                self.0, self.0, self.1
            );
        }
    }
}

/// Starts the engine (its reaper, its descriptors) so that they are not counted as leaks.
fn warm_up() {
    let (c, s) = util::tcp_pair();
    let ev = Event::new_manual();
    let ov = Overlapped::with_event(&ev);
    let p = Recv::new(&s, vec![0u8; 4]).post(&ov).unwrap();
    c.send(b"warm").unwrap();
    let _ = p.wait();
    let ov2 = Overlapped::new();
    let ran = std::rc::Rc::new(std::cell::Cell::new(false));
    let r2 = std::rc::Rc::clone(&ran);
    Recv::new(&s, vec![0u8; 4])
        .post_with_routine(&ov2, move |_| r2.set(true))
        .unwrap();
    c.send(b"warm").unwrap();
    while !ran.get() {
        sleep_alertable(Some(Duration::from_millis(10)));
    }
    let ov3 = Overlapped::new();
    let (tx, rx) = std::sync::mpsc::channel();
    Recv::new(&s, vec![0u8; 4])
        .post_with_callback(&ov3, move |_| tx.send(()).unwrap())
        .unwrap();
    c.send(b"warm").unwrap();
    rx.recv_timeout(Duration::from_secs(5)).unwrap();
}

/// One seeded run of `ops` random actions, then the drain and the final checks.
pub(crate) fn run(seed: u64, ops: u64, strict: bool) -> Stats {
    let _p = SeedOnPanic(seed, ops);
    eprintln!(
        "random_ops: seed {seed}, {ops} operations (OVL_RANDOM_SEED={seed} OVL_RANDOM_OPS={ops})"
    );
    RUNNING_SEED.store(seed, Ordering::Relaxed);
    let stop = Arc::new(AtomicBool::new(false));
    let dog = watchdog(Arc::clone(&stop));
    let started = Instant::now();
    warm_up();
    std::thread::sleep(Duration::from_millis(50));
    let fds_before = util::open_fds();
    let mut rng = Rng::new(seed);
    let mut w = World::new(seed, strict);
    let shared = Arc::clone(&w.shared);
    for step in 0..ops {
        w.step = step;
        progress(step);
        w.act(&mut rng);
        w.pump();
        if step % 512 == 511 {
            w.retire();
        }
    }
    w.drain(&mut rng);
    w.close_all();
    let mut stats = w.stats.clone();
    stats.steps = ops;
    drop(w);
    let live = shared.live_bufs.load(Ordering::SeqCst);
    assert_eq!(live, 0, "seed {seed}: {live} buffers never freed");
    assert!(
        util::eventually(Duration::from_secs(5), || util::open_fds() <= fds_before),
        "seed {seed}: descriptors leaked: {} open, {fds_before} before",
        util::open_fds()
    );
    stats.secs = started.elapsed().as_secs_f64();
    stop.store(true, Ordering::Relaxed);
    dog.join().unwrap();
    stats
}
