//! `ovl probe`: the kernel release, the backend in use and the io_uring features found.

use anyhow::Context as _;

/// Prints the report, one fact per line.
///
/// # Errors
/// When the library cannot start any backend.
pub(crate) fn run() -> anyhow::Result<()> {
    let release = std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map_or_else(|e| format!("unknown ({e})"), |s| s.trim().to_owned());
    outln!("kernel: Linux {release}");
    let info = overlapped::probe().context("the library could not start a backend")?;
    outln!("backend: {}", info.name);
    outln!("requested: {}", info.requested);
    if !info.reason.is_empty() {
        outln!("reason: {}", info.reason);
    }
    let f = &info.features;
    if f.opcodes.is_empty() && f.flags.is_empty() {
        outln!("io_uring features: none in use (the {} backend)", info.name);
        return Ok(());
    }
    let width = f
        .opcodes
        .iter()
        .chain(&f.flags)
        .map(|(name, _)| name.len())
        .max()
        .unwrap_or(0);
    outln!("io_uring opcodes:");
    for (name, ok) in &f.opcodes {
        outln!("  {name:<width$}  {}", yes_no(*ok));
    }
    outln!("io_uring setup and feature flags:");
    for (name, ok) in &f.flags {
        outln!("  {name:<width$}  {}", yes_no(*ok));
    }
    Ok(())
}

fn yes_no(b: bool) -> &'static str {
    if b { "yes" } else { "no" }
}
