//! What the benchmark asks of the system: server processes (start, sample, stop), CPU
//! time and memory from `/proc`, CPU affinity, and a description of the machine.

use std::fmt::Write as _;
use std::io::{self, BufRead, BufReader};
use std::mem::size_of;
use std::net::SocketAddr;
use std::os::unix::process::{CommandExt as _, ExitStatusExt as _};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context as _, anyhow, bail};
use overlapped::Backend;

use super::Server;

/// How long a server may take to print its listening line.
const START_TIMEOUT: Duration = Duration::from_secs(10);

/// How long a server may take to exit after SIGTERM before it is killed.
const STOP_TIMEOUT: Duration = Duration::from_secs(2);

/// A server process started for the comparison, killed if still running when dropped.
#[derive(Debug)]
pub(crate) struct ServerProcess {
    /// The child.
    child: Child,
    /// What it is, for messages.
    name: String,
    /// Where it listens.
    pub(crate) addr: SocketAddr,
    /// The backend it reported (ours only).
    pub(crate) backend: Option<String>,
}

impl ServerProcess {
    /// Starts `server` on an ephemeral loopback port as a child of this executable
    /// (pinned to `cpu` if given) and waits for its listening line.
    ///
    /// # Errors
    /// When it cannot be started, or exits or stays silent instead of listening.
    pub(crate) fn start(
        server: Server,
        backend: Option<Backend>,
        cpu: Option<usize>,
    ) -> anyhow::Result<Self> {
        let exe = std::env::current_exe().context("cannot find this executable")?;
        let mut cmd = Command::new(exe);
        cmd.env_remove("OVL_BACKEND");
        match server {
            Server::Ours(model) => {
                if let Some(b) = backend {
                    cmd.arg("--backend").arg(b.to_string());
                }
                cmd.args(["serve", "--model", model.name(), "127.0.0.1:0"]);
            }
            Server::Foreign(kind) => {
                cmd.args(["bench-server", kind.name(), "127.0.0.1:0"]);
            }
        }
        cmd.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if let Some(cpu) = cpu {
            let set = cpu_set(cpu)?;
            let hook = move || {
                // SAFETY: `set` is a valid cpu_set_t of the size given.
                let r = unsafe {
                    libc::sched_setaffinity(0, size_of::<libc::cpu_set_t>(), &raw const set)
                };
                if r == 0 {
                    Ok(())
                } else {
                    Err(io::Error::last_os_error())
                }
            };
            // SAFETY: the hook runs in the child between fork and exec, where only
            // async-signal-safe calls are allowed: it makes one raw syscall on a cpu_set_t
            // built before the fork, and allocates nothing.
            unsafe { cmd.pre_exec(hook) };
        }
        let name = server.name();
        let mut child = cmd
            .spawn()
            .with_context(|| format!("cannot start the {name} server"))?;
        let stdout = child.stdout.take();
        let stderr = child.stderr.take();
        let mut me = Self {
            child,
            name: name.clone(),
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            backend: None,
        };
        if let Some(stderr) = stderr {
            forward_stderr(stderr, &name);
        }
        let Some(stdout) = stdout else {
            bail!("the {name} server has no standard output");
        };
        let first = first_line(stdout)
            .recv_timeout(START_TIMEOUT)
            .map_err(|_| anyhow!("the {name} server did not say where it listens"));
        let first = match first {
            Ok(line) => line,
            Err(e) => {
                let status = me.child.try_wait().ok().flatten();
                return Err(match status {
                    Some(s) => e.context(format!("it exited ({s})")),
                    None => e,
                });
            }
        };
        let Some(addr) = first
            .strip_prefix("listening on ")
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|a| a.trim_end_matches([',', ';']).parse().ok())
        else {
            bail!("the {name} server printed {first:?} instead of 'listening on ADDR'");
        };
        me.addr = addr;
        me.backend = first
            .split_once("backend ")
            .and_then(|(_, rest)| rest.split([')', ',', ';', ' ']).next())
            .map(str::to_owned);
        Ok(me)
    }

    /// The process id.
    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }

    /// How it exited, if it has.
    pub(crate) fn exited(&mut self) -> Option<String> {
        self.child.try_wait().ok().flatten().map(|s| s.to_string())
    }

    /// Stops it with SIGTERM, killing it after [`STOP_TIMEOUT`].
    ///
    /// # Errors
    /// When it had to be killed, or exited with a failure status.
    pub(crate) fn stop(mut self) -> anyhow::Result<()> {
        if let Some(status) = self.child.try_wait()? {
            bail!("the {} server had exited ({status})", self.name);
        }
        let pid = libc::pid_t::try_from(self.child.id()).context("pid out of range")?;
        // SAFETY: plain syscall; `pid` is our child, not yet reaped, so it names it.
        unsafe { libc::kill(pid, libc::SIGTERM) };
        let end = Instant::now() + STOP_TIMEOUT;
        loop {
            if let Some(status) = self.child.try_wait()? {
                // A server without a handler dies of the signal itself: that is a stop too.
                if status.success() || status.signal() == Some(libc::SIGTERM) {
                    return Ok(());
                }
                bail!("the {} server exited with {status} on SIGTERM", self.name);
            }
            if Instant::now() >= end {
                let _ = self.child.kill();
                let _ = self.child.wait();
                bail!(
                    "the {} server did not stop within {} s of SIGTERM; killed",
                    self.name,
                    STOP_TIMEOUT.as_secs()
                );
            }
            thread::sleep(Duration::from_millis(5));
        }
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Reads `stdout` on a thread: its first line goes to the receiver, the rest is drained
/// (a server that prints more must not block on a full pipe).
fn first_line(stdout: ChildStdout) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let mut lines = BufReader::new(stdout).lines();
        if let Some(Ok(line)) = lines.next() {
            let _ = tx.send(line);
        }
        for _ in lines.by_ref() {}
    });
    rx
}

/// Copies a server's standard error to ours, each line prefixed with its name.
fn forward_stderr(stderr: std::process::ChildStderr, name: &str) {
    let name = name.to_owned();
    thread::spawn(move || {
        for line in BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            eprintln!("[{name}] {line}");
        }
    });
}

/// A process's CPU time (user + system, all its threads, live and exited), and its
/// resident memory.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct ProcSample {
    /// User + system time, in microseconds (counted in clock ticks by the kernel).
    pub(crate) cpu_us: u64,
    /// Resident set now (`VmRSS`), KiB.
    pub(crate) rss_kib: u64,
    /// Peak resident set (`VmHWM`), KiB.
    pub(crate) hwm_kib: u64,
}

/// Samples process `pid` from `/proc/PID/stat` and `/proc/PID/status`.
///
/// # Errors
/// When the process is gone or the files cannot be read.
pub(crate) fn sample(pid: u32) -> anyhow::Result<ProcSample> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .with_context(|| format!("cannot read /proc/{pid}/stat"))?;
    // The command name, in parentheses, may hold spaces: the fields start after its
    // last ')'. Field 3 (state) is the first; utime and stime are fields 14 and 15.
    let rest = stat
        .rsplit_once(')')
        .map(|(_, r)| r)
        .ok_or_else(|| anyhow!("unexpected /proc/{pid}/stat"))?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| -> anyhow::Result<u64> {
        fields
            .get(i)
            .and_then(|f| f.parse::<u64>().ok())
            .ok_or_else(|| anyhow!("unexpected /proc/{pid}/stat"))
    };
    let ticks = ticks(11)? + ticks(12)?;
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .with_context(|| format!("cannot read /proc/{pid}/status"))?;
    let kib = |key: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(key))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            .unwrap_or(0)
    };
    Ok(ProcSample {
        cpu_us: ticks.saturating_mul(1_000_000) / clock_ticks_per_sec(),
        rss_kib: kib("VmRSS:"),
        hwm_kib: kib("VmHWM:"),
    })
}

/// The whole machine's CPU time so far, from the first line of `/proc/stat`, in clock
/// ticks summed over all CPUs.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct HostSample {
    /// Every state (user, nice, system, idle, iowait, irq, softirq, steal).
    pub(crate) total: u64,
    /// Idle and iowait.
    pub(crate) idle: u64,
    /// Taken by the hypervisor for other guests.
    pub(crate) steal: u64,
}

impl HostSample {
    /// Reads `/proc/stat` (None if it cannot).
    pub(crate) fn take() -> Option<Self> {
        let stat = std::fs::read_to_string("/proc/stat").ok()?;
        let line = stat.lines().find(|l| l.starts_with("cpu "))?;
        let v: Vec<u64> = line
            .split_whitespace()
            .skip(1)
            .take(8)
            .map(|f| f.parse().unwrap_or(0))
            .collect();
        let at = |i: usize| v.get(i).copied().unwrap_or(0);
        Some(Self {
            total: v.iter().sum(),
            idle: at(3) + at(4),
            steal: at(7),
        })
    }

    /// The share of all CPUs busy (not idle) and the share stolen, in %, from `self`
    /// to `later`.
    pub(crate) fn busy_and_steal(self, later: Self) -> Option<(f64, f64)> {
        let total = later.total.checked_sub(self.total).filter(|&t| t > 0)? as f64;
        let idle = later.idle.saturating_sub(self.idle) as f64;
        let steal = later.steal.saturating_sub(self.steal) as f64;
        Some((100.0 * (total - idle) / total, 100.0 * steal / total))
    }
}

/// `sysconf(_SC_CLK_TCK)`: the unit of `/proc/PID/stat`'s times (100 almost everywhere).
pub(crate) fn clock_ticks_per_sec() -> u64 {
    // SAFETY: plain libc call with no pointer arguments.
    let t = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    u64::try_from(t).ok().filter(|&t| t > 0).unwrap_or(100)
}

/// This process's CPU time so far (user + system, all threads), from `getrusage`.
pub(crate) fn self_cpu() -> Duration {
    // SAFETY: rusage is plain old data; all zeroes is a valid value.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `ru` is valid and writable for the duration of the call.
    if unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut ru) } != 0 {
        return Duration::ZERO;
    }
    let tv = |t: libc::timeval| {
        Duration::from_secs(u64::try_from(t.tv_sec).unwrap_or(0))
            + Duration::from_micros(u64::try_from(t.tv_usec).unwrap_or(0))
    };
    tv(ru.ru_utime) + tv(ru.ru_stime)
}

/// The CPUs this thread may run on.
pub(crate) fn allowed_cpus() -> Vec<usize> {
    // SAFETY: cpu_set_t is plain old data; all zeroes is the empty set.
    let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    // SAFETY: `set` is valid and writable, of the size given.
    let r = unsafe { libc::sched_getaffinity(0, size_of::<libc::cpu_set_t>(), &mut set) };
    if r != 0 {
        return Vec::new();
    }
    (0..usize::try_from(libc::CPU_SETSIZE).unwrap_or(1024))
        // SAFETY: `cpu` is below CPU_SETSIZE, so CPU_ISSET reads inside `set`.
        .filter(|&cpu| unsafe { libc::CPU_ISSET(cpu, &set) })
        .collect()
}

/// The set holding only `cpu`.
fn cpu_set(cpu: usize) -> anyhow::Result<libc::cpu_set_t> {
    if cpu >= usize::try_from(libc::CPU_SETSIZE).unwrap_or(1024) {
        bail!("CPU {cpu} is out of range");
    }
    // SAFETY: cpu_set_t is plain old data; all zeroes is the empty set.
    let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    // SAFETY: `cpu` is below CPU_SETSIZE (checked above), so CPU_SET writes inside `set`.
    unsafe { libc::CPU_SET(cpu, &mut set) };
    Ok(set)
}

/// Pins the calling thread (and the threads it starts afterwards) to `cpu`.
///
/// # Errors
/// When the kernel refuses.
pub(crate) fn pin_self(cpu: usize) -> anyhow::Result<()> {
    let set = cpu_set(cpu)?;
    // SAFETY: `set` is a valid cpu_set_t of the size given.
    let r = unsafe { libc::sched_setaffinity(0, size_of::<libc::cpu_set_t>(), &set) };
    if r != 0 {
        return Err(io::Error::last_os_error()).with_context(|| format!("cannot pin to CPU {cpu}"));
    }
    Ok(())
}

/// The machine, for the report's header.
#[derive(Debug, Clone)]
pub(crate) struct Machine {
    /// Kernel release.
    pub(crate) kernel: String,
    /// CPU model name.
    pub(crate) cpu: String,
    /// CPUs online.
    pub(crate) online: usize,
    /// CPUs this process may use.
    pub(crate) allowed: usize,
    /// When the run began (UTC).
    pub(crate) date: String,
}

impl Machine {
    /// Describes this machine.
    pub(crate) fn probe() -> Self {
        let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
            .map_or_else(|_| "?".to_owned(), |s| s.trim().to_owned());
        let cpu = std::fs::read_to_string("/proc/cpuinfo")
            .ok()
            .and_then(|s| {
                s.lines()
                    .find(|l| l.starts_with("model name"))
                    .and_then(|l| l.split_once(':'))
                    .map(|(_, v)| v.trim().to_owned())
            })
            .unwrap_or_else(|| "?".to_owned());
        // SAFETY: plain libc call with no pointer arguments.
        let online = unsafe { libc::sysconf(libc::_SC_NPROCESSORS_ONLN) };
        let allowed = allowed_cpus().len();
        Self {
            kernel,
            cpu,
            online: usize::try_from(online).unwrap_or(allowed),
            allowed: allowed.max(1),
            date: utc_now(),
        }
    }
}

/// The current time, UTC, as `YYYY-MM-DD HH:MM UTC`.
fn utc_now() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let days = i64::try_from(secs / 86_400).unwrap_or(0);
    let (y, m, d) = civil_from_days(days);
    let mut s = String::new();
    let _ = write!(
        s,
        "{y:04}-{m:02}-{d:02} {:02}:{:02} UTC",
        secs % 86_400 / 3600,
        secs % 3600 / 60
    );
    s
}

/// Year, month, day of the day `days` after 1970-01-01 (Howard Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (
        y,
        u32::try_from(m).unwrap_or(1),
        u32::try_from(d).unwrap_or(1),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
        assert_eq!(civil_from_days(20_416), (2025, 11, 24));
    }

    #[test]
    fn samples_this_process() {
        let s = sample(std::process::id()).unwrap();
        assert!(s.rss_kib > 0 && s.hwm_kib >= s.rss_kib);
        assert!(!allowed_cpus().is_empty());
    }
}
