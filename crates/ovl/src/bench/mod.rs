//! `ovl bench`: a closed-loop echo load generator, and `ovl bench --compare`, which
//! runs it against our five servers (`ovl serve`'s models) and four others, each in its
//! own process.
//!
//! A *point* is one (connections, size) pair of the sweep. For each point, each server
//! is started afresh (`ovl serve --model M 127.0.0.1:0`, or the hidden
//! `ovl bench-server KIND 127.0.0.1:0`), loaded by [`client`] for a warm-up and a
//! measured window, sampled at both ends of the window (CPU time from `/proc/PID/stat`,
//! memory from `/proc/PID/status`), and stopped with SIGTERM. Servers take turns within
//! a point, so a drift of the machine over the run does not favour one of them.
//!
//! The numbers are only as honest as the client is idle: every point reports the client's
//! own CPU time over the window (`getrusage`), as a share of one core and of all cores.

mod client;
mod report;
pub(crate) mod servers;
mod svg;
mod system;

use std::fmt;
use std::io::{IsTerminal as _, Write as _};
use std::path::Path;
use std::str::FromStr;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use overlapped::Backend;

use crate::args::{BenchArgs, BenchServerArgs, Model};
use client::{Load, Watcher};
use report::Row;
use servers::Foreign;
use system::{Machine, ServerProcess};

/// Time allowed per server per point beyond warm-up and window (start, connect, stop),
/// for the estimate printed at the start.
const OVERHEAD_PER_RUN: Duration = Duration::from_millis(300);

/// A server the comparison can start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Server {
    /// `ovl serve --model M`.
    Ours(Model),
    /// `ovl bench-server KIND`.
    Foreign(Foreign),
}

impl Server {
    /// Every server, in the order of the tables.
    pub(crate) fn all() -> Vec<Server> {
        let mut all = vec![
            Server::Ours(Model::Event),
            Server::Ours(Model::Routine),
            Server::Ours(Model::Port),
            Server::Ours(Model::Async),
            Server::Ours(Model::TokioAsync),
        ];
        all.extend(Foreign::ALL.into_iter().map(Server::Foreign));
        all
    }

    /// Its name on the command line and in the tables.
    pub(crate) fn name(self) -> String {
        match self {
            Server::Ours(m) => m.name().to_owned(),
            Server::Foreign(f) => f.name().to_owned(),
        }
    }

    /// One line on what it is.
    pub(crate) fn describe(self) -> String {
        match self {
            Server::Ours(Model::Event) => {
                "ovl serve --model event: overlapped I/O, event objects, a thread per 63 \
                 connections"
                    .to_owned()
            }
            Server::Ours(Model::Routine) => {
                "ovl serve --model routine: overlapped I/O, completion routines on one thread"
                    .to_owned()
            }
            Server::Ours(Model::Port) => {
                "ovl serve --model port: overlapped I/O, a completion port, one worker per core"
                    .to_owned()
            }
            Server::Ours(Model::Async) => {
                "ovl serve --model async: overlapped I/O as futures (Accept, Recv, Send \
                 awaited) on the library's executor, a task per connection, one worker per core"
                    .to_owned()
            }
            Server::Ours(Model::TokioAsync) => {
                "ovl serve --model tokio-async: the same futures and tasks on tokio's \
                 multi-thread runtime (a worker per core), the engine reaped by tokio's \
                 reactor"
                    .to_owned()
            }
            Server::Foreign(f) => f.describe().to_owned(),
        }
    }
}

impl fmt::Display for Server {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name())
    }
}

impl FromStr for Server {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "event" => Ok(Server::Ours(Model::Event)),
            "routine" => Ok(Server::Ours(Model::Routine)),
            "port" => Ok(Server::Ours(Model::Port)),
            "async" => Ok(Server::Ours(Model::Async)),
            "tokio-async" => Ok(Server::Ours(Model::TokioAsync)),
            other => other.parse::<Foreign>().map(Server::Foreign).map_err(|_| {
                let names: Vec<String> = Server::all().into_iter().map(Server::name).collect();
                format!("unknown server '{other}' (expected {})", names.join(", "))
            }),
        }
    }
}

/// `ovl bench-server KIND ADDR`: runs a comparison server in this process.
///
/// # Errors
/// Whatever the server reports.
pub(crate) fn run_server(a: &BenchServerArgs) -> anyhow::Result<()> {
    crate::serve::raise_nofile();
    servers::serve(a.kind, a.addr)
}

/// Where the server and the client run.
#[derive(Debug, Clone, Copy)]
struct Placement {
    /// The server's CPU and the client's, when pinned.
    pinned: Option<(usize, usize)>,
}

impl fmt::Display for Placement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.pinned {
            Some((s, c)) => write!(f, "pinned: server cpu{s}, client cpu{c}"),
            None => f.write_str("unpinned"),
        }
    }
}

/// `ovl bench`.
///
/// # Errors
/// When a server cannot be started or stopped, a connection fails, or an echo differs
/// from what was sent (exit status 1).
pub(crate) fn run(a: &BenchArgs, backend: Option<Backend>) -> anyhow::Result<()> {
    crate::serve::raise_nofile();
    let machine = Machine::probe();
    let placement = place(a.pin)?;
    let points: Vec<(usize, usize)> = a
        .sizes
        .iter()
        .flat_map(|&s| a.connections.iter().map(move |&c| (c, s)))
        .collect();
    let targets = if a.compare { a.servers.len() } else { 1 };
    let runs = u32::try_from(points.len() * targets).unwrap_or(u32::MAX);
    let estimate = (a.warmup + a.duration + OVERHEAD_PER_RUN) * runs;
    eprintln!(
        "bench: {} point(s) x {} server(s), warm-up {} s + {} s each, {placement}, {} client \
         thread(s); about {} s in all",
        points.len(),
        targets,
        secs(a.warmup),
        secs(a.duration),
        a.client_threads,
        estimate.as_secs().max(1)
    );
    if let Some(dir) = &a.out {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }

    let began = Instant::now();
    let mut rows = Vec::new();
    for &(connections, size) in &points {
        if a.compare {
            for &server in &a.servers {
                let row = run_spawned(a, server, backend, placement, &machine, (connections, size))
                    .with_context(|| format!("{server}, {connections} connection(s), {size} B"))?;
                emit(a, &row);
                rows.push(row);
            }
        } else if let Some(addr) = a.addr {
            let load = load(a, addr, connections, size);
            let row = measure(
                &load,
                &addr.to_string(),
                None,
                None,
                a.server_pid,
                placement,
                &machine,
            )?;
            emit(a, &row);
            rows.push(row);
        }
    }

    if !a.json {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(
            out,
            "{}",
            report::text_table(&rows, &placement.to_string(), &machine)
        );
    }
    if let Some(dir) = &a.out {
        write_outputs(dir, a, &rows, &placement.to_string(), &machine)?;
        eprintln!(
            "bench: wrote {0}/bench.md, {0}/bench.svg and {0}/bench.jsonl",
            dir.display()
        );
    }
    eprintln!("bench: done in {:.0} s", began.elapsed().as_secs_f64());
    Ok(())
}

/// Starts `server`, measures one point against it, stops it.
fn run_spawned(
    a: &BenchArgs,
    server: Server,
    backend: Option<Backend>,
    placement: Placement,
    machine: &Machine,
    (connections, size): (usize, usize),
) -> anyhow::Result<Row> {
    let mut proc = ServerProcess::start(server, backend, placement.pinned.map(|p| p.0))?;
    let load = load(a, proc.addr, connections, size);
    let model = match server {
        Server::Ours(m) => Some(m.name()),
        Server::Foreign(_) => None,
    };
    let row = measure(
        &load,
        &server.name(),
        model,
        proc.backend.clone(),
        Some(proc.pid()),
        placement,
        machine,
    );
    match row {
        Ok(row) => {
            // The point is measured; a server that stops badly is worth a word, not the
            // rest of the sweep.
            if let Err(e) = proc.stop() {
                eprintln!("bench: warning: {e:#}");
            }
            Ok(row)
        }
        Err(e) => Err(match proc.exited() {
            Some(status) => e.context(format!("the server exited ({status})")),
            None => e,
        }),
    }
}

/// The workload of one point.
fn load(a: &BenchArgs, addr: std::net::SocketAddr, connections: usize, size: usize) -> Load {
    Load {
        addr,
        connections,
        size,
        threads: a.client_threads,
        warmup: a.warmup,
        duration: a.duration,
    }
}

/// Pins this process's client side if asked; the placement to report.
fn place(pin: bool) -> anyhow::Result<Placement> {
    if !pin {
        return Ok(Placement { pinned: None });
    }
    let cpus = system::allowed_cpus();
    let [server, client, ..] = cpus[..] else {
        bail!("--pin needs two CPUs; this process may use {}", cpus.len());
    };
    system::pin_self(client)?;
    Ok(Placement {
        pinned: Some((server, client)),
    })
}

/// Samples taken at the ends of the measured window.
#[derive(Debug, Default)]
struct Samples {
    /// The server to sample, if known.
    pid: Option<u32>,
    /// The server at the window's start and end.
    server: [Option<system::ProcSample>; 2],
    /// This process's CPU time at the window's start and end.
    client_cpu: [Duration; 2],
    /// The whole machine at the window's start and end.
    host: [Option<system::HostSample>; 2],
    /// When the window opened and closed, as seen here.
    at: [Option<Instant>; 2],
    /// The progress bar, if drawn.
    bar: Option<Bar>,
}

/// A progress bar on a terminal.
#[derive(Debug)]
struct Bar {
    /// What is being measured.
    label: String,
    /// Warm-up plus window.
    total: Duration,
}

impl Samples {
    fn take(&mut self, i: usize) {
        self.at[i] = Some(Instant::now());
        self.client_cpu[i] = system::self_cpu();
        self.host[i] = system::HostSample::take();
        self.server[i] = self.pid.and_then(|p| system::sample(p).ok());
    }
}

impl Watcher for Samples {
    fn window_start(&mut self) {
        self.take(0);
    }

    fn window_end(&mut self) {
        self.take(1);
    }

    fn tick(&mut self, elapsed: Duration, measured: u64) {
        let Some(bar) = &self.bar else { return };
        let total = bar.total.as_millis().max(1);
        let filled = usize::try_from(elapsed.as_millis().min(total) * 30 / total).unwrap_or(0);
        let rate = match self.at[0] {
            Some(t) if t.elapsed() > Duration::from_millis(50) => {
                format!(
                    "{} msg/s",
                    report::thousands(measured as f64 / t.elapsed().as_secs_f64())
                )
            }
            _ => "warming up".to_owned(),
        };
        eprint!(
            "\r\x1b[2K{} [{}{}] {:.1}/{:.1} s  {rate}",
            bar.label,
            "#".repeat(filled),
            ".".repeat(30 - filled.min(30)),
            elapsed.as_secs_f64(),
            bar.total.as_secs_f64()
        );
    }

    fn tick_every(&self) -> Option<Duration> {
        self.bar.as_ref().map(|_| Duration::from_millis(200))
    }
}

/// Runs one point and turns what was measured into a row.
fn measure(
    load: &Load,
    server: &str,
    model: Option<&'static str>,
    backend: Option<String>,
    pid: Option<u32>,
    placement: Placement,
    machine: &Machine,
) -> anyhow::Result<Row> {
    let label = format!(
        "{server} c={} s={}",
        load.connections,
        report::bytes(load.size)
    );
    let tty = std::io::stderr().is_terminal();
    let mut samples = Samples {
        pid,
        bar: tty.then(|| Bar {
            label: label.clone(),
            total: load.warmup + load.duration,
        }),
        ..Samples::default()
    };
    let outcome = client::run(load, &mut samples);
    if tty {
        eprint!("\r\x1b[2K");
    }
    let outcome = outcome?;
    let wall = match samples.at {
        [Some(a), Some(b)] => b - a,
        _ => outcome.window,
    };
    let wall_s = wall.as_secs_f64().max(1e-9);
    let client_cpu = samples.client_cpu[1].saturating_sub(samples.client_cpu[0]);
    let client_pct = 100.0 * client_cpu.as_secs_f64() / wall_s;
    let (cpu_us_per_msg, server_pct, rss, hwm) = match samples.server {
        [Some(a), Some(b)] => {
            let cpu = b.cpu_us.saturating_sub(a.cpu_us) as f64;
            let per = (outcome.messages > 0).then(|| cpu / outcome.messages as f64);
            (
                per,
                Some(cpu / 1e4 / wall_s),
                Some(b.rss_kib),
                Some(b.hwm_kib),
            )
        }
        _ => (None, None, None, None),
    };
    let (host_busy, host_steal) = match samples.host {
        [Some(a), Some(b)] => a
            .busy_and_steal(b)
            .map_or((None, None), |(b, s)| (Some(b), Some(s))),
        _ => (None, None),
    };
    let us = |q: f64| outcome.latency.value_at_quantile(q) as f64 / 1000.0;
    let row = Row {
        server: server.to_owned(),
        model,
        backend,
        connections: load.connections,
        size: load.size,
        client_threads: load.threads.clamp(1, load.connections),
        warmup_s: load.warmup.as_secs_f64(),
        duration_s: outcome.window.as_secs_f64(),
        messages: outcome.messages,
        msgs_per_sec: outcome.messages as f64 / outcome.window.as_secs_f64(),
        p50_us: us(0.5),
        p99_us: us(0.99),
        p999_us: us(0.999),
        max_us: outcome.latency.max() as f64 / 1000.0,
        mean_us: outcome.latency.mean() / 1000.0,
        server_cpu_us_per_msg: cpu_us_per_msg,
        server_cpu_pct: server_pct,
        server_rss_kib: rss,
        server_hwm_kib: hwm,
        client_cpu_pct: client_pct,
        client_cpu_pct_all: client_pct / machine.allowed as f64,
        host_busy_pct: host_busy,
        host_steal_pct: host_steal,
        cores: machine.allowed,
        pinned: placement.pinned.is_some(),
    };
    if !tty {
        eprintln!(
            "bench: {label}: {} msg/s, p99 {:.1} us",
            report::thousands(row.msgs_per_sec),
            row.p99_us
        );
    }
    if row.client_cpu_pct / row.client_threads as f64 > 90.0 {
        let hint = if placement.pinned.is_some() {
            "this point measures the client as much as the server"
        } else {
            "try --client-threads or --pin"
        };
        eprintln!(
            "bench: warning: the client was {:.0}% busy ({} thread(s)) on {label}: it may \
             be the bottleneck; {hint}",
            row.client_cpu_pct, row.client_threads
        );
    }
    Ok(row)
}

/// Prints a row as JSON when asked to.
fn emit(a: &BenchArgs, row: &Row) {
    if a.json {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{}", row.to_json());
        let _ = out.flush();
    }
}

/// Writes `bench.md`, `bench.svg` and `bench.jsonl` into `dir`.
fn write_outputs(
    dir: &Path,
    a: &BenchArgs,
    rows: &[Row],
    placement: &str,
    machine: &Machine,
) -> anyhow::Result<()> {
    let command = std::env::args()
        .map(|s| report::shell_quote(&s))
        .collect::<Vec<_>>()
        .join(" ");
    let descriptions: Vec<(String, String)> = if a.compare {
        a.servers.iter().map(|s| (s.name(), s.describe())).collect()
    } else {
        Vec::new()
    };
    let settings = report::Settings {
        command,
        placement: placement.to_owned(),
        warmup_s: a.warmup.as_secs_f64(),
        duration_s: a.duration.as_secs_f64(),
        client_threads: a.client_threads,
        descriptions,
    };
    let md = report::markdown(rows, &settings, machine);
    let title = format!(
        "Echo throughput and server CPU per message ({placement}, {} x {})",
        machine.allowed, machine.cpu
    );
    let chart = svg::chart(rows, &title);
    let jsonl: String = rows.iter().map(|r| format!("{}\n", r.to_json())).collect();
    for (name, body) in [
        ("bench.md", md),
        ("bench.svg", chart),
        ("bench.jsonl", jsonl),
    ] {
        let path = dir.join(name);
        std::fs::write(&path, body).with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(())
}

/// Seconds, briefly: `0.5`, `2`.
fn secs(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s.fract() == 0.0 {
        format!("{s:.0}")
    } else {
        format!("{s}")
    }
}
