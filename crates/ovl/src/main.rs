//! `ovl`: serve, send, bench and probe with the overlapped library.
//!
//! - `ovl serve [--model event|routine|port|async|tokio-async] [ADDR]`: an echo server
//!   (default 127.0.0.1:6000) until Ctrl-C or SIGTERM;
//! - `ovl send ADDR TEXT`: sends TEXT to an echo server and prints the echo;
//! - `ovl bench ADDR` / `ovl bench --compare`: a closed-loop echo load generator, and
//!   the comparison of our servers with others (`ovl bench-server`, hidden, runs those);
//! - `ovl soak ADDR` / `ovl soak --spawn MODEL`: many connections echoing checksummed
//!   messages for a while, every byte checked, the server's memory and descriptors
//!   sampled;
//! - `ovl probe`: the kernel release, the backend in use and its io_uring features.
//!
//! Exit status: 0 on success, 1 when the work fails, 2 for a bad command line.

/// `println!` that does not panic when standard output is closed (`ovl probe | head`).
macro_rules! outln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout().lock(), $($arg)*);
    }};
}

mod args;
mod bench;
mod probe;
mod send;
mod serve;
mod soak;

use std::process::ExitCode;

use args::Command;

fn main() -> ExitCode {
    let cli = match args::parse(std::env::args_os().skip(1)) {
        Ok(cli) => cli,
        Err(e) => {
            eprintln!("ovl: error: {e}");
            eprintln!("Run 'ovl --help' for usage.");
            return ExitCode::from(2);
        }
    };
    if let Some(backend) = cli.backend
        && let Err(e) = overlapped::set_backend(backend)
    {
        eprintln!("ovl: error: cannot use the {backend} backend: {e}");
        return ExitCode::FAILURE;
    }
    let result = match cli.command {
        Command::Help(text) => {
            outln!("{text}");
            Ok(())
        }
        Command::Version => {
            outln!("ovl {}", env!("CARGO_PKG_VERSION"));
            Ok(())
        }
        Command::Probe => probe::run(),
        Command::Send(a) => send::run(&a),
        Command::Serve(a) => serve::run(&a),
        Command::Bench(a) => bench::run(&a, cli.backend),
        Command::BenchServer(a) => bench::run_server(&a),
        Command::Soak(a) => soak::run(&a, cli.backend),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("ovl: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
