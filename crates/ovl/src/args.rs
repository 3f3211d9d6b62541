//! Command-line parsing, by hand: `ovl [--backend B] <command> [options] [args]`.

use std::ffi::OsString;
use std::fmt;
use std::net::{SocketAddr, ToSocketAddrs};
use std::time::Duration;

use overlapped::Backend;

/// The address `serve` listens on when none is given.
pub(crate) const DEFAULT_ADDR: &str = "127.0.0.1:6000";

/// The overall usage text (`ovl --help`).
pub(crate) const USAGE: &str = "\
ovl: serve, send and probe with the overlapped library (Winsock's overlapped I/O on Linux)

Usage: ovl [--backend auto|uring|poll] <command> [options]

Commands:
  serve [ADDR]        run an echo server (default 127.0.0.1:6000) until Ctrl-C
  send ADDR TEXT      send TEXT to an echo server and print the echo
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
Usage: ovl serve [--model event|routine] [ADDR]

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
}

/// `ovl serve`'s arguments.
#[derive(Debug, PartialEq)]
pub(crate) struct ServeArgs {
    pub(crate) addr: SocketAddr,
    pub(crate) model: Model,
}

/// `ovl send`'s arguments.
#[derive(Debug, PartialEq)]
pub(crate) struct SendArgs {
    pub(crate) addr: SocketAddr,
    pub(crate) text: String,
    pub(crate) count: u64,
    pub(crate) timeout: Duration,
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
            return usage_err("no command given (serve, send or probe)");
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
            "help" => match args.next().as_deref() {
                None => Command::Help(USAGE),
                Some("serve") => Command::Help(SERVE_USAGE),
                Some("send") => Command::Help(SEND_USAGE),
                Some("probe") => Command::Help(PROBE_USAGE),
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
    while let Some(a) = args.next() {
        match a.as_str() {
            "-h" | "--help" => return Ok(Command::Help(SERVE_USAGE)),
            "-m" | "--model" => {
                model = match args.value("--model")?.as_str() {
                    "event" | "events" => Model::Event,
                    "routine" | "routines" => Model::Routine,
                    other => {
                        return usage_err(format!(
                            "unknown model '{other}' (expected 'event' or 'routine')"
                        ));
                    }
                }
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
    Ok(Command::Serve(ServeArgs { addr, model }))
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
        assert!(p(&["serve", "--model", "iocp"]).is_err());
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
