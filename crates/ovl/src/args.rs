//! Command-line parsing, by hand: `ovl [--backend B] <command> [options] [args]`.

use std::ffi::OsString;
use std::fmt;
use std::net::{SocketAddr, ToSocketAddrs};
use std::path::PathBuf;
use std::time::Duration;

use overlapped::Backend;

use crate::bench::Server;
use crate::bench::servers::Foreign;

/// The address `serve` listens on when none is given.
pub(crate) const DEFAULT_ADDR: &str = "127.0.0.1:6000";

/// The overall usage text (`ovl --help`).
pub(crate) const USAGE: &str = "\
ovl: serve, send, bench and probe with the overlapped library (Winsock's overlapped I/O
on Linux)

Usage: ovl [--backend auto|uring|poll] <command> [options]

Commands:
  serve [ADDR]        run an echo server (default 127.0.0.1:6000) until Ctrl-C
  send ADDR TEXT      send TEXT to an echo server and print the echo
  bench ADDR          load an echo server: messages/s, latency, CPU per message
  bench --compare     the same against our servers and four others, side by side
  soak ADDR           hold many connections echoing checksummed messages; check every
                      byte and the server's memory and descriptors (or --spawn MODEL)
  probe               print the kernel release, the backend in use and its io_uring features
  help [COMMAND]      print this text, or a command's

Options:
  --backend B         the kernel interface: auto (default), uring or poll; the
                      OVL_BACKEND environment variable says the same
  -h, --help          print help
  -V, --version       print the version

Run 'ovl <command> --help' for a command's options.";

/// `ovl serve --help`.
pub(crate) const SERVE_USAGE: &str = "\
Usage: ovl serve [--model event|routine|port|async|tokio-async] [--threads N] [ADDR]

Runs an echo server on ADDR (default 127.0.0.1:6000; port 0 picks a free port). It
prints one line, 'listening on ADDR (...)', naming the bound address, and serves until
Ctrl-C (SIGINT) or SIGTERM, then closes its sockets and exits with status 0.

Options:
  --model event       (default) event objects: an AcceptEx-style accept on one thread
                      hands each connection to a group thread that waits on up to 63
                      connections' events plus one wake-up event (WSAWaitForMultipleEvents
                      takes at most 64), a new group thread for every 63 connections
  --model routine     completion routines on one thread: a receive's routine posts the
                      echo, whose routine posts the next receive; the thread waits
                      alertably
  --model port        a completion port: worker threads dequeue its packets (any
                      connection on any thread), 16 AcceptEx kept posted on the
                      listener, skip-on-success so immediate completions continue inline
  --model async       the library's futures (Accept, Recv, Send awaited) on its built-in
                      executor: 16 accept tasks keep an AcceptEx posted each, a task per
                      connection
  --model tokio-async the same tasks and futures on tokio's multi-thread runtime,
                      completions reaped by tokio's reactor
  -t, --threads N     worker threads of the port, async and tokio-async models
                      (default 0: one per core)
  -h, --help          print this text";

/// `ovl send --help`.
pub(crate) const SEND_USAGE: &str = "\
Usage: ovl send [--count N] [--timeout SECS] ADDR TEXT

Connects to the echo server at ADDR, sends TEXT with an overlapped send, receives the
echo with overlapped receives and prints it. Fails (status 1) if the connection is
refused, the echo differs from TEXT, or no echo comes within the timeout.

Options:
  -n, --count N       send TEXT N times on the same connection (default 1)
  -t, --timeout SECS  how long to wait for each echo (default 5)
  -h, --help          print this text";

/// `ovl bench --help`.
pub(crate) const BENCH_USAGE: &str = "\
Usage: ovl bench [options] ADDR
       ovl bench --compare [--servers LIST] [options]

A closed-loop echo load generator. Every connection sends a message of SIZE bytes,
waits for the whole echo, checks every byte, and sends the next; the round trips of the
measured window (after a warm-up) go into a latency histogram. Prints a table (or JSON
lines) with messages/s, p50/p99/p99.9/max latency, the server's CPU time per message
and memory (when known), and how busy the client itself was. An echo that differs
from what was sent stops the run with status 1, naming the connection and the offset.

With --compare, each server is started in turn in its own process on 127.0.0.1 and
driven with the same workload: our models event, routine, port, async and tokio-async
(ovl serve, with the global --backend passed on) and tokio-ct, tokio-mt, epoll and
uring-floor. Comma lists
for --connections and --size make a sweep: every combination is measured.

Options:
  -c, --connections N[,N..]  concurrent connections (default 10; with --compare
                             1,10,100,1000)
  -s, --size BYTES[,BYTES..] message size, 1 to 1048576 (default 64; with --compare
                             64,1024,16384)
  -d, --duration SECS        measured time per point and server (default 5)
  -w, --warmup SECS          unmeasured time before it (default 1)
  -t, --client-threads N     client threads, each an epoll loop (default 1)
      --server-pid PID       sample this server's CPU and memory (ADDR only)
      --compare              start the servers here and compare them
      --servers LIST         with --compare: which, a comma list (default all:
                             event,routine,port,async,tokio-async,tokio-ct,
                             tokio-mt,epoll,uring-floor)
      --quick                a short sweep: connections 1,100, sizes 64,1024,
                             warm-up 0.5 s, 2 s per point (under two minutes for all
                             nine servers); explicit options still win
      --pin                  pin the server to the first usable CPU and the client
                             to the second
      --out DIR              also write DIR/bench.md, DIR/bench.svg, DIR/bench.jsonl
      --json                 print one JSON object per point instead of the table
  -h, --help                 print this text";

/// `ovl probe --help`.
pub(crate) const PROBE_USAGE: &str = "\
Usage: ovl probe

Prints the kernel release, the backend the library runs on (and why), and each io_uring
opcode and setup flag the kernel offers, one per line.

Options:
  -h, --help          print this text";

/// A parsed command line.
#[derive(Debug, PartialEq)]
pub(crate) struct Cli {
    /// `--backend`, if given.
    pub(crate) backend: Option<Backend>,
    /// What to do.
    pub(crate) command: Command,
}

/// What to do.
#[derive(Debug, PartialEq)]
pub(crate) enum Command {
    /// `ovl serve`.
    Serve(ServeArgs),
    /// `ovl send`.
    Send(SendArgs),
    /// `ovl probe`.
    Probe,
    /// `ovl bench`.
    Bench(BenchArgs),
    /// `ovl bench-server KIND ADDR` (hidden: started by `ovl bench --compare`).
    BenchServer(BenchServerArgs),
    /// `ovl soak`.
    Soak(crate::soak::SoakArgs),
    /// Print this text to standard output and exit 0.
    Help(&'static str),
    /// `ovl --version`.
    Version,
}

/// How `serve` is notified of completions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Model {
    /// Event objects and multi-event waits, one thread per 63 connections.
    Event,
    /// Completion routines on one thread.
    Routine,
    /// A completion port dequeued by worker threads.
    Port,
    /// The library's futures on its built-in executor, a task per connection.
    Async,
    /// The library's futures on tokio's multi-thread runtime, a task per connection.
    TokioAsync,
}

impl Model {
    /// Its name on the command line.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Model::Event => "event",
            Model::Routine => "routine",
            Model::Port => "port",
            Model::Async => "async",
            Model::TokioAsync => "tokio-async",
        }
    }
}

/// `ovl serve`'s arguments.
#[derive(Debug, PartialEq)]
pub(crate) struct ServeArgs {
    pub(crate) addr: SocketAddr,
    pub(crate) model: Model,
    /// Worker threads of the port, async and tokio-async models (0 = one per core).
    pub(crate) threads: usize,
}

/// `ovl send`'s arguments.
#[derive(Debug, PartialEq)]
pub(crate) struct SendArgs {
    pub(crate) addr: SocketAddr,
    pub(crate) text: String,
    pub(crate) count: u64,
    pub(crate) timeout: Duration,
}

/// `ovl bench`'s arguments, with the defaults of the mode filled in.
#[derive(Debug, PartialEq)]
pub(crate) struct BenchArgs {
    /// The server to load (None with `--compare`).
    pub(crate) addr: Option<SocketAddr>,
    /// `--compare`: start the servers and compare them.
    pub(crate) compare: bool,
    /// The servers to compare.
    pub(crate) servers: Vec<Server>,
    /// Connection counts of the sweep.
    pub(crate) connections: Vec<usize>,
    /// Message sizes of the sweep.
    pub(crate) sizes: Vec<usize>,
    /// Measured window per point.
    pub(crate) duration: Duration,
    /// Warm-up per point.
    pub(crate) warmup: Duration,
    /// Client threads.
    pub(crate) client_threads: usize,
    /// The external server's process, to sample.
    pub(crate) server_pid: Option<u32>,
    /// JSON lines instead of the table.
    pub(crate) json: bool,
    /// Where to write the report.
    pub(crate) out: Option<PathBuf>,
    /// Pin server and client to CPUs of their own.
    pub(crate) pin: bool,
    /// The short sweep.
    pub(crate) quick: bool,
}

/// The largest message `ovl bench` sends.
pub(crate) const MAX_BENCH_SIZE: usize = 1 << 20;

/// The most connections `ovl bench` opens.
pub(crate) const MAX_BENCH_CONNECTIONS: usize = 100_000;

/// `ovl bench-server`'s arguments.
#[derive(Debug, PartialEq)]
pub(crate) struct BenchServerArgs {
    /// Which server.
    pub(crate) kind: Foreign,
    /// Where it listens.
    pub(crate) addr: SocketAddr,
}

/// A bad command line: printed with a hint, exit status 2.
#[derive(Debug, PartialEq)]
pub(crate) struct UsageError(pub(crate) String);

impl fmt::Display for UsageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn usage_err<T>(msg: impl Into<String>) -> Result<T, UsageError> {
    Err(UsageError(msg.into()))
}

/// The arguments left to read, with `--opt=value` split in two.
struct Args {
    items: std::collections::VecDeque<String>,
}

impl Args {
    fn new(args: impl IntoIterator<Item = OsString>) -> Result<Self, UsageError> {
        let mut items = std::collections::VecDeque::new();
        let mut rest_positional = false;
        for a in args {
            let Ok(a) = a.into_string() else {
                return usage_err("arguments must be valid UTF-8");
            };
            if !rest_positional
                && a.starts_with("--")
                && let Some((name, value)) = a.split_once('=')
            {
                items.push_back(name.to_owned());
                items.push_back(value.to_owned());
                continue;
            }
            if a == "--" {
                rest_positional = true;
            }
            items.push_back(a);
        }
        Ok(Self { items })
    }

    fn next(&mut self) -> Option<String> {
        self.items.pop_front()
    }

    fn value(&mut self, option: &str) -> Result<String, UsageError> {
        match self.next() {
            Some(v) => Ok(v),
            None => usage_err(format!("option '{option}' needs a value")),
        }
    }
}

/// Whether `a` looks like an option (but not a lone `-` or a negative number).
fn is_option(a: &str) -> bool {
    a.starts_with('-') && a.len() > 1 && !a[1..].starts_with(|c: char| c.is_ascii_digit())
}

/// Parses the arguments after the program name.
///
/// # Errors
/// A [`UsageError`] naming what is wrong.
pub(crate) fn parse(args: impl IntoIterator<Item = OsString>) -> Result<Cli, UsageError> {
    let mut args = Args::new(args)?;
    let mut backend = None;
    loop {
        let Some(a) = args.next() else {
            return usage_err("no command given (serve, send, bench, soak or probe)");
        };
        let command = match a.as_str() {
            "-h" | "--help" => Command::Help(USAGE),
            "-V" | "--version" => Command::Version,
            "--backend" => {
                let v = args.value("--backend")?;
                match v.parse::<Backend>() {
                    Ok(b) => backend = Some(b),
                    Err(e) => return usage_err(format!("--backend: {e}")),
                }
                continue;
            }
            "serve" => parse_serve(&mut args)?,
            "send" => parse_send(&mut args)?,
            "probe" => parse_probe(&mut args)?,
            "bench" => parse_bench(&mut args)?,
            "bench-server" => parse_bench_server(&mut args)?,
            "soak" => {
                let rest: Vec<OsString> = args.items.drain(..).map(OsString::from).collect();
                match crate::soak::parse(&rest) {
                    Ok(Some(a)) => Command::Soak(a),
                    Ok(None) => Command::Help(crate::soak::USAGE),
                    Err(e) => return usage_err(e),
                }
            }
            "help" => match args.next().as_deref() {
                None => Command::Help(USAGE),
                Some("serve") => Command::Help(SERVE_USAGE),
                Some("send") => Command::Help(SEND_USAGE),
                Some("probe") => Command::Help(PROBE_USAGE),
                Some("bench") => Command::Help(BENCH_USAGE),
                Some("soak") => Command::Help(crate::soak::USAGE),
                Some(other) => return usage_err(format!("unknown command '{other}'")),
            },
            other if is_option(other) => return usage_err(format!("unknown option '{other}'")),
            other => return usage_err(format!("unknown command '{other}'")),
        };
        return Ok(Cli { backend, command });
    }
}

fn parse_serve(args: &mut Args) -> Result<Command, UsageError> {
    let mut model = Model::Event;
    let mut addr = None;
    let mut threads = 0;
    while let Some(a) = args.next() {
        match a.as_str() {
            "-h" | "--help" => return Ok(Command::Help(SERVE_USAGE)),
            "-m" | "--model" => {
                model = match args.value("--model")?.as_str() {
                    "event" | "events" => Model::Event,
                    "routine" | "routines" => Model::Routine,
                    "port" | "iocp" => Model::Port,
                    "async" => Model::Async,
                    "tokio-async" => Model::TokioAsync,
                    other => {
                        return usage_err(format!(
                            "unknown model '{other}' (expected 'event', 'routine', 'port', \
                             'async' or 'tokio-async')"
                        ));
                    }
                }
            }
            "-t" | "--threads" => {
                let v = args.value("--threads")?;
                threads = match v.parse::<usize>() {
                    Ok(n) if n <= 1024 => n,
                    _ => return usage_err(format!("--threads: not a count from 0 to 1024: {v}")),
                };
            }
            "--" => {}
            o if is_option(o) => return usage_err(format!("serve: unknown option '{o}'")),
            _ if addr.is_some() => return usage_err(format!("serve: unexpected argument '{a}'")),
            _ => addr = Some(parse_addr(&a)?),
        }
    }
    let addr = match addr {
        Some(a) => a,
        None => parse_addr(DEFAULT_ADDR)?,
    };
    Ok(Command::Serve(ServeArgs {
        addr,
        model,
        threads,
    }))
}

fn parse_send(args: &mut Args) -> Result<Command, UsageError> {
    let mut count = 1;
    let mut timeout = Duration::from_secs(5);
    let mut positional = Vec::new();
    let mut options_done = false;
    while let Some(a) = args.next() {
        if options_done {
            positional.push(a);
            continue;
        }
        match a.as_str() {
            "-h" | "--help" => return Ok(Command::Help(SEND_USAGE)),
            "-n" | "--count" => {
                let v = args.value("--count")?;
                count = match v.parse::<u64>() {
                    Ok(n) if n > 0 => n,
                    _ => return usage_err(format!("--count: '{v}' is not a positive number")),
                };
            }
            "-t" | "--timeout" => {
                let v = args.value("--timeout")?;
                timeout = match v.parse::<f64>() {
                    Ok(s) if s > 0.0 && s.is_finite() && s < 1e9 => Duration::from_secs_f64(s),
                    _ => return usage_err(format!("--timeout: '{v}' is not a number of seconds")),
                };
            }
            "--" => options_done = true,
            o if is_option(o) => return usage_err(format!("send: unknown option '{o}'")),
            _ => positional.push(a),
        }
    }
    let mut positional = positional.into_iter();
    let (Some(addr), Some(text)) = (positional.next(), positional.next()) else {
        return usage_err("send needs an address and a text: ovl send ADDR TEXT");
    };
    if let Some(extra) = positional.next() {
        return usage_err(format!(
            "send: unexpected argument '{extra}' (quote a TEXT that has spaces)"
        ));
    }
    Ok(Command::Send(SendArgs {
        addr: parse_addr(&addr)?,
        text,
        count,
        timeout,
    }))
}

fn parse_probe(args: &mut Args) -> Result<Command, UsageError> {
    match args.next() {
        None => Ok(Command::Probe),
        Some(a) if a == "-h" || a == "--help" => Ok(Command::Help(PROBE_USAGE)),
        Some(a) => usage_err(format!("probe: unexpected argument '{a}'")),
    }
}

fn parse_bench(args: &mut Args) -> Result<Command, UsageError> {
    let mut addr = None;
    let mut compare = false;
    let mut servers = None;
    let mut connections = None;
    let mut sizes = None;
    let mut duration = None;
    let mut warmup = None;
    let mut client_threads = 1;
    let mut server_pid = None;
    let mut json = false;
    let mut out = None;
    let mut pin = false;
    let mut quick = false;
    let mut options_done = false;
    while let Some(a) = args.next() {
        let positional = options_done || !is_option(&a);
        if positional && a != "--" {
            if addr.is_some() {
                return usage_err(format!("bench: unexpected argument '{a}'"));
            }
            addr = Some(parse_addr(&a)?);
            continue;
        }
        match a.as_str() {
            "-h" | "--help" => return Ok(Command::Help(BENCH_USAGE)),
            "-c" | "--connections" => {
                let v = args.value("--connections")?;
                connections = Some(parse_list(&v, "--connections", 1, MAX_BENCH_CONNECTIONS)?);
            }
            "-s" | "--size" => {
                let v = args.value("--size")?;
                sizes = Some(parse_list(&v, "--size", 1, MAX_BENCH_SIZE)?);
            }
            "-d" | "--duration" => {
                duration = Some(parse_secs(&args.value("--duration")?, "--duration", false)?);
            }
            "-w" | "--warmup" => {
                warmup = Some(parse_secs(&args.value("--warmup")?, "--warmup", true)?);
            }
            "-t" | "--client-threads" => {
                let v = args.value("--client-threads")?;
                client_threads = parse_count(&v, "--client-threads", 1, 256)?;
            }
            "--server-pid" => {
                let v = args.value("--server-pid")?;
                server_pid = match v.parse::<u32>() {
                    Ok(p) if p > 0 => Some(p),
                    _ => return usage_err(format!("--server-pid: '{v}' is not a process id")),
                };
            }
            "--servers" => {
                let v = args.value("--servers")?;
                let mut list: Vec<Server> = Vec::new();
                for name in v.split(',').map(str::trim) {
                    let s = name
                        .parse::<Server>()
                        .map_err(|e| UsageError(format!("--servers: {e}")))?;
                    if !list.contains(&s) {
                        list.push(s);
                    }
                }
                servers = Some(list);
            }
            "--compare" => compare = true,
            "--json" => json = true,
            "--pin" => pin = true,
            "--quick" => quick = true,
            "--out" => out = Some(PathBuf::from(args.value("--out")?)),
            "--" => options_done = true,
            o => return usage_err(format!("bench: unknown option '{o}'")),
        }
    }
    if compare && addr.is_some() {
        return usage_err("bench: give either ADDR or --compare, not both");
    }
    if !compare && addr.is_none() {
        return usage_err("bench needs a server: ovl bench ADDR, or ovl bench --compare");
    }
    if servers.is_some() && !compare {
        return usage_err("bench: --servers goes with --compare");
    }
    if server_pid.is_some() && compare {
        return usage_err("bench: --server-pid goes with ADDR, not --compare");
    }
    let (default_conns, default_sizes, default_warmup, default_duration) = if quick {
        (vec![1, 100], vec![64, 1024], 0.5, 2.0)
    } else if compare {
        (vec![1, 10, 100, 1000], vec![64, 1024, 16384], 1.0, 5.0)
    } else {
        (vec![10], vec![64], 1.0, 5.0)
    };
    Ok(Command::Bench(BenchArgs {
        addr,
        compare,
        servers: servers.unwrap_or_else(Server::all),
        connections: connections.unwrap_or(default_conns),
        sizes: sizes.unwrap_or(default_sizes),
        duration: duration.unwrap_or(Duration::from_secs_f64(default_duration)),
        warmup: warmup.unwrap_or(Duration::from_secs_f64(default_warmup)),
        client_threads,
        server_pid,
        json,
        out,
        pin,
        quick,
    }))
}

fn parse_bench_server(args: &mut Args) -> Result<Command, UsageError> {
    let (Some(kind), Some(addr)) = (args.next(), args.next()) else {
        return usage_err("bench-server needs a kind and an address: ovl bench-server KIND ADDR");
    };
    if let Some(extra) = args.next() {
        return usage_err(format!("bench-server: unexpected argument '{extra}'"));
    }
    let kind = kind
        .parse::<Foreign>()
        .map_err(|e| UsageError(format!("bench-server: {e}")))?;
    Ok(Command::BenchServer(BenchServerArgs {
        kind,
        addr: parse_addr(&addr)?,
    }))
}

/// A whole number from `min` to `max`.
fn parse_count(v: &str, option: &str, min: usize, max: usize) -> Result<usize, UsageError> {
    match v.trim().parse::<usize>() {
        Ok(n) if (min..=max).contains(&n) => Ok(n),
        Ok(_) => usage_err(format!("{option}: {v} is out of range ({min} to {max})")),
        Err(_) => usage_err(format!("{option}: '{v}' is not a number ({min} to {max})")),
    }
}

/// A comma list of whole numbers from `min` to `max`, duplicates dropped.
fn parse_list(v: &str, option: &str, min: usize, max: usize) -> Result<Vec<usize>, UsageError> {
    let mut list = Vec::new();
    for item in v.split(',') {
        let n = parse_count(item, option, min, max)?;
        if !list.contains(&n) {
            list.push(n);
        }
    }
    Ok(list)
}

/// A number of seconds: positive, or also zero when `zero_ok`; at most a day.
fn parse_secs(v: &str, option: &str, zero_ok: bool) -> Result<Duration, UsageError> {
    match v.parse::<f64>() {
        Ok(s) if s.is_finite() && (s > 0.0 || (zero_ok && s == 0.0)) && s <= 86_400.0 => {
            Ok(Duration::from_secs_f64(s))
        }
        _ => usage_err(format!(
            "{option}: '{v}' is not a number of seconds{}",
            if zero_ok { "" } else { " above 0" }
        )),
    }
}

/// `IP:PORT` (`127.0.0.1:6000`, `[::1]:6000`), or `HOST:PORT` resolved by the system.
fn parse_addr(s: &str) -> Result<SocketAddr, UsageError> {
    if let Ok(a) = s.parse() {
        return Ok(a);
    }
    let bad = || {
        UsageError(format!(
            "invalid address '{s}': expected IP:PORT or HOST:PORT, such as {DEFAULT_ADDR}"
        ))
    };
    if !s.contains(':') {
        return Err(bad());
    }
    s.to_socket_addrs()
        .ok()
        .and_then(|mut it| it.next())
        .ok_or_else(bad)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(args: &[&str]) -> Result<Cli, UsageError> {
        parse(args.iter().map(OsString::from))
    }

    fn cmd(args: &[&str]) -> Command {
        p(args).expect("parses").command
    }

    #[test]
    fn serve_defaults_and_options() {
        let Command::Serve(s) = cmd(&["serve"]) else {
            panic!()
        };
        assert_eq!(s.addr, DEFAULT_ADDR.parse().unwrap());
        assert_eq!(s.model, Model::Event);
        let Command::Serve(s) = cmd(&["serve", "--model=routine", "127.0.0.1:0"]) else {
            panic!()
        };
        assert_eq!(s.model, Model::Routine);
        assert_eq!(s.addr.port(), 0);
        let Command::Serve(s) = cmd(&["serve", "[::1]:7", "--model", "event"]) else {
            panic!()
        };
        assert_eq!(s.addr, "[::1]:7".parse().unwrap());
        let Command::Serve(s) = cmd(&["serve", "--model", "port", "--threads", "3"]) else {
            panic!()
        };
        assert_eq!((s.model, s.threads), (Model::Port, 3));
        let Command::Serve(s) = cmd(&["serve", "--model", "async", "-t", "2"]) else {
            panic!()
        };
        assert_eq!((s.model, s.threads), (Model::Async, 2));
        let Command::Serve(s) = cmd(&["serve", "--model=tokio-async"]) else {
            panic!()
        };
        assert_eq!((s.model, s.threads), (Model::TokioAsync, 0));
        for m in [
            Model::Event,
            Model::Routine,
            Model::Port,
            Model::Async,
            Model::TokioAsync,
        ] {
            let Command::Serve(s) = cmd(&["serve", "--model", m.name()]) else {
                panic!()
            };
            assert_eq!(s.model, m);
        }
        let err = p(&["serve", "--model", "fibers"]).unwrap_err().0;
        assert!(err.contains("'tokio-async'"), "{err}");
        assert!(p(&["serve", "--model", "tokio"]).is_err());
        assert!(p(&["serve", "--threads", "-1"]).is_err());
        assert!(p(&["serve", "nonsense"]).is_err());
        assert!(p(&["serve", "1.2.3.4:1", "5.6.7.8:2"]).is_err());
    }

    #[test]
    fn send_arguments() {
        let Command::Send(s) = cmd(&["send", "-n", "3", "127.0.0.1:6000", "hello world"]) else {
            panic!()
        };
        assert_eq!((s.count, s.text.as_str()), (3, "hello world"));
        let Command::Send(s) = cmd(&["send", "127.0.0.1:6000", "--", "-x"]) else {
            panic!()
        };
        assert_eq!(s.text, "-x");
        assert!(p(&["send", "127.0.0.1:6000"]).is_err());
        assert!(p(&["send", "--count", "0", "127.0.0.1:1", "a"]).is_err());
        assert!(p(&["send", "127.0.0.1:1", "a", "b"]).is_err());
    }

    fn bench(args: &[&str]) -> BenchArgs {
        let mut v = vec!["bench"];
        v.extend_from_slice(args);
        match cmd(&v) {
            Command::Bench(b) => b,
            other => panic!("{other:?}"),
        }
    }

    fn bench_err(args: &[&str]) -> String {
        let mut v = vec!["bench"];
        v.extend_from_slice(args);
        p(&v).expect_err("must not parse").0
    }

    #[test]
    fn bench_defaults_per_mode() {
        let b = bench(&["127.0.0.1:6000"]);
        assert_eq!(b.addr, Some("127.0.0.1:6000".parse().unwrap()));
        assert!(!b.compare && !b.json && !b.pin && !b.quick);
        assert_eq!((b.connections, b.sizes), (vec![10], vec![64]));
        assert_eq!(
            (b.warmup, b.duration),
            (Duration::from_secs(1), Duration::from_secs(5))
        );
        assert_eq!(b.client_threads, 1);
        let b = bench(&["--compare"]);
        assert_eq!(b.addr, None);
        assert_eq!(b.connections, vec![1, 10, 100, 1000]);
        assert_eq!(b.sizes, vec![64, 1024, 16384]);
        assert_eq!(b.servers, Server::all());
        assert_eq!(b.servers.len(), 9);
        for name in ["async", "tokio-async", "tokio-mt"] {
            assert!(
                b.servers.iter().any(|s| s.name() == name),
                "{name} is compared by default"
            );
        }
        let b = bench(&["--compare", "--quick"]);
        assert_eq!((b.connections, b.sizes), (vec![1, 100], vec![64, 1024]));
        assert_eq!(b.warmup, Duration::from_millis(500));
        // Explicit options win over --quick.
        let b = bench(&["--quick", "--compare", "-c", "7", "--duration=1.5"]);
        assert_eq!(b.connections, vec![7]);
        assert_eq!(b.duration, Duration::from_millis(1500));
    }

    #[test]
    fn bench_options() {
        let b = bench(&[
            "--compare",
            "--servers",
            "event,epoll,event",
            "--connections=1,10,10",
            "-s",
            "64,16384",
            "-d",
            "0.3",
            "-w",
            "0",
            "-t",
            "2",
            "--pin",
            "--json",
            "--out",
            "/tmp/x",
        ]);
        assert_eq!(
            b.servers,
            vec![Server::Ours(Model::Event), Server::Foreign(Foreign::Epoll)]
        );
        assert_eq!((b.connections, b.sizes), (vec![1, 10], vec![64, 16384]));
        assert_eq!(
            (b.warmup, b.duration),
            (Duration::ZERO, Duration::from_millis(300))
        );
        assert_eq!(b.client_threads, 2);
        assert!(b.pin && b.json);
        assert_eq!(b.out, Some(PathBuf::from("/tmp/x")));
        let b = bench(&["--server-pid", "42", "[::1]:9"]);
        assert_eq!(b.server_pid, Some(42));
        assert_eq!(cmd(&["bench", "-h"]), Command::Help(BENCH_USAGE));
        assert_eq!(cmd(&["help", "bench"]), Command::Help(BENCH_USAGE));
    }

    #[test]
    fn bench_errors_say_what_is_wrong() {
        assert!(bench_err(&["--connections", "0", "127.0.0.1:1"]).contains("--connections"));
        assert!(bench_err(&["--size", "abc", "127.0.0.1:1"]).contains("'abc' is not a number"));
        assert!(bench_err(&["--size", "2000000", "127.0.0.1:1"]).contains("out of range"));
        assert!(bench_err(&["-c", "1,,2", "127.0.0.1:1"]).contains("--connections"));
        assert!(bench_err(&["--duration", "0", "127.0.0.1:1"]).contains("--duration"));
        assert!(bench_err(&["--warmup", "-1", "127.0.0.1:1"]).contains("--warmup"));
        assert!(bench_err(&[]).contains("needs a server"));
        assert!(bench_err(&["--compare", "127.0.0.1:1"]).contains("not both"));
        assert!(bench_err(&["--servers", "event", "127.0.0.1:1"]).contains("--compare"));
        assert!(bench_err(&["--compare", "--servers", "iis"]).contains("unknown server 'iis'"));
        assert!(bench_err(&["--compare", "--server-pid", "1"]).contains("--server-pid"));
        assert!(bench_err(&["--frob", "127.0.0.1:1"]).contains("unknown option"));
        assert!(bench_err(&["127.0.0.1:1", "127.0.0.1:2"]).contains("unexpected argument"));
    }

    #[test]
    fn bench_server_arguments() {
        let Command::BenchServer(s) = cmd(&["bench-server", "epoll", "127.0.0.1:0"]) else {
            panic!()
        };
        assert_eq!(s.kind, Foreign::Epoll);
        assert_eq!(s.addr.port(), 0);
        assert!(p(&["bench-server", "epoll"]).is_err());
        assert!(p(&["bench-server", "nginx", "127.0.0.1:0"]).is_err());
        assert!(p(&["bench-server", "epoll", "127.0.0.1:0", "x"]).is_err());
    }

    #[test]
    fn help_backend_and_errors() {
        assert_eq!(cmd(&["--help"]), Command::Help(USAGE));
        assert_eq!(cmd(&["serve", "--help"]), Command::Help(SERVE_USAGE));
        assert_eq!(cmd(&["help", "send"]), Command::Help(SEND_USAGE));
        assert_eq!(cmd(&["probe", "-h"]), Command::Help(PROBE_USAGE));
        let cli = p(&["--backend=poll", "probe"]).unwrap();
        assert_eq!(cli.backend, Some(Backend::Poll));
        assert!(p(&[]).is_err());
        assert!(p(&["frobnicate"]).is_err());
        assert!(p(&["--frob"]).is_err());
        assert!(p(&["--backend", "iocp", "probe"]).is_err());
    }
}
