//! The results: one [`Row`] per server per point, printed as a text table, as JSON
//! lines, and as the Markdown report of `--out`.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use serde_json::json;

use super::system::Machine;

/// One server at one point of the sweep.
#[derive(Debug, Clone)]
pub(crate) struct Row {
    /// The server's name (or address, for `ovl bench ADDR`).
    pub(crate) server: String,
    /// Our notification model (`event`, `routine`), for our servers.
    pub(crate) model: Option<&'static str>,
    /// The backend our server reported (`uring`, `poll`).
    pub(crate) backend: Option<String>,
    /// Concurrent connections.
    pub(crate) connections: usize,
    /// Message size, bytes.
    pub(crate) size: usize,
    /// Client threads used.
    pub(crate) client_threads: usize,
    /// Warm-up, seconds.
    pub(crate) warmup_s: f64,
    /// Measured window, seconds.
    pub(crate) duration_s: f64,
    /// Messages echoed in the window.
    pub(crate) messages: u64,
    /// Messages echoed per second.
    pub(crate) msgs_per_sec: f64,
    /// Median round trip, µs.
    pub(crate) p50_us: f64,
    /// 99th percentile round trip, µs.
    pub(crate) p99_us: f64,
    /// 99.9th percentile round trip, µs.
    pub(crate) p999_us: f64,
    /// Longest round trip, µs.
    pub(crate) max_us: f64,
    /// Mean round trip, µs.
    pub(crate) mean_us: f64,
    /// Server CPU time (user + system) per message, µs; None when the server is unknown.
    pub(crate) server_cpu_us_per_msg: Option<f64>,
    /// Server CPU time over the window, % of one core.
    pub(crate) server_cpu_pct: Option<f64>,
    /// Server resident set at the window's end, KiB.
    pub(crate) server_rss_kib: Option<u64>,
    /// Server peak resident set, KiB.
    pub(crate) server_hwm_kib: Option<u64>,
    /// Client CPU time over the window, % of one core.
    pub(crate) client_cpu_pct: f64,
    /// The same, % of all the CPUs this process may use.
    pub(crate) client_cpu_pct_all: f64,
    /// The whole machine over the window: % of all CPUs not idle.
    pub(crate) host_busy_pct: Option<f64>,
    /// The whole machine over the window: % of all CPUs stolen by the hypervisor.
    pub(crate) host_steal_pct: Option<f64>,
    /// CPUs this process may use.
    pub(crate) cores: usize,
    /// Whether server and client were pinned to CPUs of their own.
    pub(crate) pinned: bool,
}

impl Row {
    /// One JSON object (a line of `bench.jsonl`).
    pub(crate) fn to_json(&self) -> serde_json::Value {
        let r2 = |v: f64| (v * 100.0).round() / 100.0;
        json!({
            "server": self.server,
            "model": self.model,
            "backend": self.backend,
            "connections": self.connections,
            "size": self.size,
            "client_threads": self.client_threads,
            "warmup_s": self.warmup_s,
            "duration_s": self.duration_s,
            "messages": self.messages,
            "msgs_per_sec": r2(self.msgs_per_sec),
            "p50_us": r2(self.p50_us),
            "p99_us": r2(self.p99_us),
            "p999_us": r2(self.p999_us),
            "max_us": r2(self.max_us),
            "mean_us": r2(self.mean_us),
            "server_cpu_us_per_msg": self.server_cpu_us_per_msg.map(|v| (v * 1000.0).round() / 1000.0),
            "server_cpu_pct": self.server_cpu_pct.map(r2),
            "server_rss_kib": self.server_rss_kib,
            "server_hwm_kib": self.server_hwm_kib,
            "client_cpu_pct": r2(self.client_cpu_pct),
            "client_cpu_pct_all": r2(self.client_cpu_pct_all),
            "host_busy_pct": self.host_busy_pct.map(r2),
            "host_steal_pct": self.host_steal_pct.map(r2),
            "cores": self.cores,
            "pinned": self.pinned,
        })
    }

    /// The client's business: `48% (24% of 2)`.
    fn client_busy(&self) -> String {
        format!(
            "{:.0}% ({:.0}% of {})",
            self.client_cpu_pct, self.client_cpu_pct_all, self.cores
        )
    }

    /// The machine's business: `97%`, or `97% (12% steal)`.
    fn host_busy(&self) -> String {
        match (self.host_busy_pct, self.host_steal_pct) {
            (Some(b), Some(s)) if s >= 1.0 => format!("{b:.0}% ({s:.0}% steal)"),
            (Some(b), _) => format!("{b:.0}%"),
            _ => "-".to_owned(),
        }
    }

    /// The table's cells, in [`COLUMNS`] order.
    fn cells(&self) -> Vec<String> {
        vec![
            self.server.clone(),
            self.connections.to_string(),
            bytes(self.size),
            thousands(self.msgs_per_sec),
            format!("{:.1}", self.p50_us),
            format!("{:.1}", self.p99_us),
            format!("{:.1}", self.p999_us),
            format!("{:.0}", self.max_us),
            self.server_cpu_us_per_msg
                .map_or_else(|| "-".to_owned(), |v| format!("{v:.2}")),
            self.server_cpu_pct
                .map_or_else(|| "-".to_owned(), |v| format!("{v:.0}%")),
            self.server_rss_kib
                .map_or_else(|| "-".to_owned(), |v| thousands(v as f64)),
            self.client_busy(),
            self.host_busy(),
        ]
    }
}

/// The table's header.
const COLUMNS: [&str; 13] = [
    "server",
    "conns",
    "size",
    "msgs/s",
    "p50 µs",
    "p99 µs",
    "p99.9 µs",
    "max µs",
    "srv CPU µs/msg",
    "srv CPU",
    "srv RSS KiB",
    "client busy",
    "host busy",
];

/// The summary printed at the end of a run.
pub(crate) fn text_table(rows: &[Row], placement: &str, machine: &Machine) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{placement}; {} CPU(s) ({}), Linux {}; client busy: % of one core (% of all {}); \
         host busy: all CPUs, everything",
        machine.allowed, machine.cpu, machine.kernel, machine.allowed
    );
    let cells: Vec<Vec<String>> = rows.iter().map(Row::cells).collect();
    let widths: Vec<usize> = (0..COLUMNS.len())
        .map(|i| {
            cells
                .iter()
                .map(|r| r[i].chars().count())
                .chain([COLUMNS[i].chars().count()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let line = |cols: &[String]| {
        let mut l = String::new();
        for (i, c) in cols.iter().enumerate() {
            if i == 0 {
                let _ = write!(l, "{c:<w$}", w = widths[i]);
            } else {
                let _ = write!(l, "  {c:>w$}", w = widths[i]);
            }
        }
        l.trim_end().to_owned()
    };
    let header: Vec<String> = COLUMNS.iter().map(|s| (*s).to_owned()).collect();
    let _ = writeln!(out, "{}", line(&header));
    let mut last = None;
    for (row, c) in rows.iter().zip(&cells) {
        let point = (row.connections, row.size);
        if last.is_some_and(|p| p != point) && rows.len() > 1 {
            out.push('\n');
        }
        last = Some(point);
        let _ = writeln!(out, "{}", line(c));
    }
    out.trim_end().to_owned()
}

/// What the Markdown report says about the run, besides the rows.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    /// The command line, quoted for a shell.
    pub(crate) command: String,
    /// Where server and client ran.
    pub(crate) placement: String,
    /// Warm-up per point, seconds.
    pub(crate) warmup_s: f64,
    /// Window per point, seconds.
    pub(crate) duration_s: f64,
    /// Client threads asked for.
    pub(crate) client_threads: usize,
    /// Each server's name and what it is.
    pub(crate) descriptions: Vec<(String, String)>,
}

/// `bench.md`: the machine, the method, and one table per message size.
pub(crate) fn markdown(rows: &[Row], s: &Settings, machine: &Machine) -> String {
    let mut md = String::new();
    let _ = writeln!(md, "# ovl bench\n");
    let _ = writeln!(md, "| | |\n|---|---|");
    let _ = writeln!(md, "| date | {} |", machine.date);
    let _ = writeln!(md, "| kernel | Linux {} |", machine.kernel);
    let _ = writeln!(md, "| CPU | {} |", machine.cpu);
    let _ = writeln!(
        md,
        "| cores | {} online, {} usable by the benchmark |",
        machine.online, machine.allowed
    );
    let _ = writeln!(md, "| placement | {} |", s.placement);
    let _ = writeln!(md, "| client threads | {} |", s.client_threads);
    let _ = writeln!(
        md,
        "| per point | warm-up {} s, measured {} s |",
        s.warmup_s, s.duration_s
    );
    let _ = writeln!(md, "| ovl | {} |", env!("CARGO_PKG_VERSION"));
    let _ = writeln!(md, "| command | `{}` |", s.command.replace('|', "\\|"));
    let backends: BTreeSet<&str> = rows.iter().filter_map(|r| r.backend.as_deref()).collect();
    if !backends.is_empty() {
        let list: Vec<&str> = backends.into_iter().collect();
        let _ = writeln!(md, "| our backend | {} |", list.join(", "));
    }
    md.push('\n');

    if !s.descriptions.is_empty() {
        let _ = writeln!(md, "Servers, each in its own process on 127.0.0.1:\n");
        for (name, what) in &s.descriptions {
            let _ = writeln!(md, "- `{name}`: {what}");
        }
        md.push('\n');
    }

    let _ = writeln!(
        md,
        "Method: closed loop: every connection sends a message, waits for the whole echo, \
         checks every byte, and sends the next; msgs/s counts the echoes completed in the \
         measured window. Latency is from the first byte sent to the last byte received \
         (HDR histogram, 3 significant digits). Server CPU is user + system time of the \
         whole server process (all threads, io_uring workers included) from \
         `/proc/PID/stat` over the window, in units of 1/{} s, divided by the messages; \
         RSS is `VmRSS` at the window's end (peak `VmHWM` in bench.jsonl). Client busy is \
         the load generator's own CPU time over the window (getrusage), as % of one core \
         and of all {} usable cores: a client near 100% of its threads is the bottleneck, \
         not the server. Host busy is the whole machine over the window (`/proc/stat`, \
         all CPUs, not idle), with the share stolen by the hypervisor when it is 1% or \
         more: near 100%, server and client are competing for the CPUs; well under it \
         at many connections, the time goes to waiting (latency), not to work.\n",
        super::system::clock_ticks_per_sec(),
        machine.allowed
    );

    let sizes: BTreeSet<usize> = rows.iter().map(|r| r.size).collect();
    for size in sizes {
        let _ = writeln!(md, "## {} messages\n", bytes(size));
        let _ = writeln!(
            md,
            "| conns | server | msgs/s | vs best | p50 µs | p99 µs | p99.9 µs | max µs | \
             srv CPU µs/msg | srv CPU | srv RSS KiB | client busy | host busy |"
        );
        let _ = writeln!(
            md,
            "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
        );
        let conns: BTreeSet<usize> = rows
            .iter()
            .filter(|r| r.size == size)
            .map(|r| r.connections)
            .collect();
        for c in conns {
            let group: Vec<&Row> = rows
                .iter()
                .filter(|r| r.size == size && r.connections == c)
                .collect();
            let best = group.iter().map(|r| r.msgs_per_sec).fold(0.0_f64, f64::max);
            for r in group {
                let cells = r.cells();
                let rel = if best > 0.0 {
                    format!("{:.0}%", 100.0 * r.msgs_per_sec / best)
                } else {
                    "-".to_owned()
                };
                let _ = writeln!(
                    md,
                    "| {} | {} | {} | {rel} | {} |",
                    cells[1],
                    cells[0],
                    cells[3],
                    cells[4..].join(" | ")
                );
            }
        }
        md.push('\n');
    }
    let _ = writeln!(
        md,
        "The chart: `bench.svg`; every number: `bench.jsonl` (one JSON object per row)."
    );
    md
}

/// `1234567.8` as `1,234,568`.
pub(crate) fn thousands(v: f64) -> String {
    let digits = format!("{:.0}", v.max(0.0));
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

/// A size in bytes, briefly: `64 B`, `16 KiB`.
pub(crate) fn bytes(n: usize) -> String {
    if n >= 1024 && n.is_multiple_of(1024) {
        if n >= 1 << 20 && n.is_multiple_of(1 << 20) {
            format!("{} MiB", n >> 20)
        } else {
            format!("{} KiB", n >> 10)
        }
    } else {
        format!("{n} B")
    }
}

/// `s` quoted for a POSIX shell when it needs to be.
pub(crate) fn shell_quote(s: &str) -> String {
    let plain = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:,@+%".contains(c));
    if plain {
        s.to_owned()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formatting() {
        assert_eq!(thousands(0.4), "0");
        assert_eq!(thousands(999.0), "999");
        assert_eq!(thousands(1234567.8), "1,234,568");
        assert_eq!(bytes(64), "64 B");
        assert_eq!(bytes(16384), "16 KiB");
        assert_eq!(bytes(1000), "1000 B");
        assert_eq!(bytes(1 << 20), "1 MiB");
        assert_eq!(shell_quote("--size=64,1024"), "--size=64,1024");
        assert_eq!(shell_quote("a b"), "'a b'");
        assert_eq!(shell_quote("it's"), "'it'\\''s'");
    }
}
