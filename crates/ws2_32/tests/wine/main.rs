//! Wine's Winsock conformance tests as a suite of ours.
//!
//! Wine's `dlls/ws2_32/tests/sock.c` records what real Windows does with sockets: every
//! `ok()` in it passes on Windows. This runner takes that file from Debian's `wine` source
//! package (Wine 8.0; `fetch.sh` downloads it into a cache under the target directory,
//! never into the project), builds the test functions that apply to this project against
//! our headers and `libws2_32`, with our own `wine/test.h` (`include/wine/test.h`:
//! `todo_wine` changes nothing, since we aim at Windows, not at Wine), and runs each test
//! function in its own process with a time limit, on both backends (or only on the one
//! `OVL_BACKEND` names).
//!
//! `expectations.txt` beside this file says which functions do not apply (with the
//! reason) and which checks still fail (each with its reason). The run fails on any
//! failing check that is not listed there, on any crash, any timeout, and on a listed
//! function that does not build. It prints a table per function, and lists checks that
//! are listed as failing but passed (to be taken out of the file).
//!
//! Run it alone: `cargo test --release -p ws2_32 --test wine`. Environment:
//! `OVL_WINE_SOCK_C=PATH` uses that sock.c instead of fetching; `OVL_WINE_ONLY=f1,f2`
//! runs only those functions; `OVL_WINE_TIMEOUT=SECS` (default 60) is the per-function
//! limit; `OVL_WINE_CFLAGS` adds compiler arguments.

#[path = "../common/mod.rs"]
mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

const BACKENDS: [&str; 2] = ["uring", "poll"];

/// What `expectations.txt` says.
#[derive(Default)]
struct Expectations {
    /// Test functions left out, with the reason.
    excluded: BTreeMap<String, String>,
    /// Top-level helper definitions of sock.c removed with them (only used by excluded
    /// functions, and not buildable here), with the reason.
    removed_helpers: BTreeMap<String, String>,
    /// (function, line) -> (backends it applies to, empty = both; reason).
    failing: BTreeMap<(String, u32), (Vec<String>, String)>,
    /// Per-function time limits that differ from the default.
    timeouts: BTreeMap<String, u64>,
}

fn parse_expectations(text: &str) -> Expectations {
    let mut e = Expectations::default();
    for (n, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (head, reason) = match line.split_once(':') {
            Some((h, r)) => (h.trim(), r.trim().to_owned()),
            None => (line, String::new()),
        };
        let words: Vec<&str> = head.split_whitespace().collect();
        let bad = || -> ! { panic!("expectations.txt:{}: cannot read `{raw}`", n + 1) };
        match words.as_slice() {
            ["exclude", func] => {
                assert!(!reason.is_empty(), "expectations.txt:{}: no reason", n + 1);
                e.excluded.insert((*func).to_owned(), reason);
            }
            ["helper", func] => {
                e.removed_helpers.insert((*func).to_owned(), reason);
            }
            ["timeout", func, secs] => {
                e.timeouts
                    .insert((*func).to_owned(), secs.parse().unwrap_or_else(|_| bad()));
            }
            ["fail", func, lineno, backends @ ..] => {
                assert!(!reason.is_empty(), "expectations.txt:{}: no reason", n + 1);
                for b in backends {
                    assert!(
                        BACKENDS.contains(b),
                        "expectations.txt:{}: backend {b}",
                        n + 1
                    );
                }
                let key = (
                    (*func).to_owned(),
                    lineno.parse::<u32>().unwrap_or_else(|_| bad()),
                );
                let backends = backends.iter().map(|b| (*b).to_owned()).collect();
                assert!(
                    e.failing.insert(key, (backends, reason)).is_none(),
                    "expectations.txt:{}: listed twice",
                    n + 1
                );
            }
            _ => bad(),
        }
    }
    e
}

/// A top-level function definition in sock.c: byte range and name.
struct Definition {
    start: usize,
    end: usize,
    name: String,
}

/// The top-level function definitions of a C file, found by brace matching outside
/// comments, strings and preprocessor lines (enough for sock.c, which is plain C).
fn definitions(src: &str) -> Vec<Definition> {
    let b = src.as_bytes();
    let (mut i, mut depth, mut last_end, mut header) = (0, 0usize, 0, 0..0);
    let mut out = Vec::new();
    while i < b.len() {
        match b[i] {
            b'/' if b.get(i + 1) == Some(&b'*') => {
                i = src[i + 2..].find("*/").map_or(b.len(), |j| i + 2 + j + 2);
                continue;
            }
            b'/' if b.get(i + 1) == Some(&b'/') => {
                i = src[i..].find('\n').map_or(b.len(), |j| i + j);
                continue;
            }
            q @ (b'"' | b'\'') => {
                i += 1;
                while i < b.len() && b[i] != q {
                    i += if b[i] == b'\\' { 2 } else { 1 };
                }
            }
            b'#' if depth == 0 && (i == 0 || b[i - 1] == b'\n') => {
                // A preprocessor line, with its continuations.
                let mut j = i;
                while let Some(k) = src[j..].find('\n').map(|k| j + k) {
                    j = k + 1;
                    if b[k - 1] != b'\\' {
                        break;
                    }
                }
                i = j;
                last_end = i;
                continue;
            }
            b'{' => {
                if depth == 0 {
                    header = last_end..i;
                }
                depth += 1;
            }
            b'}' => {
                depth -= 1;
                if depth == 0 {
                    let h = &src[header.clone()];
                    if let Some(name) = function_name(h).filter(|_| !h.contains('=')) {
                        out.push(Definition {
                            start: header.start,
                            end: i + 1,
                            name,
                        });
                    }
                    last_end = i + 1;
                }
            }
            b';' if depth == 0 => last_end = i + 1,
            _ => {}
        }
        i += 1;
    }
    out
}

/// The identifier before the first `(` of a definition's header.
fn function_name(header: &str) -> Option<String> {
    let open = header.find('(')?;
    let name: String = header[..open]
        .trim_end()
        .chars()
        .rev()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    (!name.is_empty()).then_some(name)
}

/// Blanks `range` of `src`, keeping its newlines so that line numbers stay Wine's.
fn blank(src: &mut String, start: usize, end: usize) {
    let lines = src[start..end].matches('\n').count();
    src.replace_range(start..end, &"\n".repeat(lines));
}

/// The test entries of sock.c, in START_TEST's order: every function it calls (but
/// `Init` and `Exit`), and `tests[N]` for each entry of its table of client/server
/// pairs (which START_TEST runs through `do_test`).
fn test_entries(src: &str) -> Vec<String> {
    let start = src.find("START_TEST( sock )").expect("sock.c: START_TEST");
    let mut names = Vec::new();
    for line in src[start..].lines() {
        let line = line.trim();
        if let Some(name) = line.strip_suffix("();").filter(|name| {
            name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                && !matches!(*name, "Init" | "Exit")
        }) {
            names.push(name.to_owned());
        }
        if line.starts_with("do_test(") {
            let table = src
                .find("static test_setup tests [] =")
                .expect("sock.c: the tests[] table");
            let body = &src[table..table + src[table..].find("\n};").expect("end of tests[]")];
            let count = body.matches("/* Test ").count();
            names.extend((0..count).map(|i| format!("tests[{i}]")));
        }
    }
    names
}

/// Writes the preprocessed sock.c and the driver; returns the entries built.
fn prepare(sock_c: &str, exp: &Expectations, dir: &Path) -> Vec<String> {
    let mut src = sock_c.to_owned();
    let entries = test_entries(&src);
    // START_TEST's body calls every function: the driver calls them one at a time.
    let start = src.find("START_TEST( sock )").expect("sock.c: START_TEST");
    let end = src.len();
    blank(&mut src, start, end);
    let defs = definitions(&src);
    let known: BTreeSet<&str> = defs.iter().map(|d| d.name.as_str()).collect();
    for name in exp.excluded.keys().chain(exp.removed_helpers.keys()) {
        assert!(
            known.contains(name.as_str()) || entries.contains(name),
            "expectations.txt names {name}, which sock.c does not define"
        );
    }
    for d in defs.iter().rev() {
        if exp.excluded.contains_key(&d.name) || exp.removed_helpers.contains_key(&d.name) {
            blank(&mut src, d.start, d.end);
        }
    }
    // With every entry of tests[] left out, the table goes too (its servers and clients
    // are then helpers nobody calls).
    if entries
        .iter()
        .filter(|e| e.starts_with("tests["))
        .all(|e| exp.excluded.contains_key(e))
    {
        let start = src.find("static test_setup tests [] =").expect("tests[]");
        let end = start + src[start..].find("\n};").expect("end of tests[]") + 3;
        blank(&mut src, start, end);
    }
    std::fs::write(dir.join("sock.c"), &src).expect("write sock.c");

    let run: Vec<String> = entries
        .into_iter()
        .filter(|e| !exp.excluded.contains_key(e))
        .collect();
    let mut driver = String::from(
        "/* Generated by crates/ws2_32/tests/wine/main.rs: Wine's sock.c, one entry per test. */\n\
         #include \"sock.c\"\n\
         void wine_init(void) { Init(); }\n\
         void wine_exit(void) { Exit(); }\n",
    );
    let mut table = String::new();
    for (i, e) in run.iter().enumerate() {
        let call = match e.strip_prefix("tests[") {
            Some(n) => format!("do_test(&tests[{n})"),
            None => format!("{e}()"),
        };
        writeln!(driver, "static void entry_{i}(void) {{ {call}; }}").unwrap();
        // The WSAStartup tests run before Init(), as START_TEST runs them.
        let init = !matches!(e.as_str(), "test_WithoutWSAStartup" | "test_WithWSAStartup");
        writeln!(table, "    {{ \"{e}\", entry_{i}, {} }},", i32::from(init)).unwrap();
    }
    writeln!(
        driver,
        "struct wine_test {{ const char *name; void (*func)(void); int needs_init; }};\n\
         const struct wine_test wine_tests[] = {{\n{table}    {{ 0, 0, 0 }}\n}};"
    )
    .unwrap();
    std::fs::write(dir.join("driver.c"), driver).expect("write driver.c");
    run
}

/// sock.c: `OVL_WINE_SOCK_C`, or the cache (fetched there by `fetch.sh` when missing).
fn sock_c() -> PathBuf {
    if let Some(p) = std::env::var_os("OVL_WINE_SOCK_C") {
        return PathBuf::from(p);
    }
    // target/<profile>/deps -> target/wine-8.0
    let cache = common::lib_dir().join("../../wine-8.0");
    let fetch = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/wine/fetch.sh");
    let status = Command::new("bash")
        .arg(&fetch)
        .arg(&cache)
        .status()
        .expect("running fetch.sh");
    assert!(
        status.success(),
        "could not fetch Wine's sock.c (fetch.sh: {status}); set OVL_WINE_SOCK_C to a copy of \
         dlls/ws2_32/tests/sock.c from Wine 8.0"
    );
    cache.join("sock.c")
}

/// One entry's run on one backend.
#[derive(Clone, Debug)]
enum Outcome {
    /// Ran to the end: checks, and the lines of failing checks (with how often each failed).
    Done {
        checks: u64,
        failed: BTreeMap<u32, u32>,
    },
    Crashed(String),
    TimedOut,
}

fn run_entry(program: &Path, entry: &str, backend: &str, timeout: Duration) -> (Outcome, String) {
    // The child's stdout and stderr go to one file (a pipe could fill while we wait).
    let out = program.with_file_name(format!("{}.{backend}.log", entry.replace(['[', ']'], "_")));
    let file = std::fs::File::create(&out).expect("log file");
    let mut child = Command::new(program)
        .arg(entry)
        .env("OVL_BACKEND", backend)
        .stdin(std::process::Stdio::null())
        .stdout(file.try_clone().expect("dup"))
        .stderr(file)
        .spawn()
        .expect("running the test program");
    let deadline = Instant::now() + timeout;
    let status = loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            break Some(status);
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let log = String::from_utf8_lossy(&std::fs::read(&out).unwrap_or_default()).into_owned();
    let mut failed = BTreeMap::new();
    let mut done = None;
    for l in log.lines() {
        let line = l
            .strip_prefix("sock.c:")
            .and_then(|rest| rest.split_once(": Test failed:"))
            .and_then(|(n, _)| n.parse::<u32>().ok());
        if let Some(n) = line {
            *failed.entry(n).or_insert(0) += 1;
        }
        if let Some(rest) = l.strip_prefix("wine-test: done ") {
            done = rest
                .split_whitespace()
                .next()
                .and_then(|n| n.parse::<u64>().ok());
        }
    }
    let outcome = match (status, done) {
        (None, _) => Outcome::TimedOut,
        (Some(st), Some(checks)) if st.success() => Outcome::Done { checks, failed },
        (Some(st), _) => Outcome::Crashed(st.to_string()),
    };
    (outcome, log)
}

fn main() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/wine");
    let exp_text = std::fs::read_to_string(dir.join("expectations.txt")).expect("expectations.txt");
    let exp = parse_expectations(&exp_text);
    let sock = std::fs::read_to_string(sock_c()).expect("read sock.c");

    let out = common::out_dir("wine");
    let entries = prepare(&sock, &exp, &out);
    let program = out.join("sock");
    let winetest = dir.join("winetest.c");
    let shim = dir.join("include");
    let extra = std::env::var("OVL_WINE_CFLAGS").unwrap_or_default();
    let mut flags = vec![
        "-I",
        shim.to_str().expect("utf-8 path"),
        winetest.to_str().expect("utf-8 path"),
        "-std=gnu11",
        "-O1",
        "-g",
        // Wine's code, not ours: its warnings (printf formats of DWORD, ...) are noise.
        "-w",
        // Under AddressSanitizer (the CI's sanitizer run), no redzones around sock.c's
        // own stack variables: test_reuseaddr passes accept() a 16-byte `struct
        // sockaddr` with the IPv6 length (28), a bug of the test that Windows would
        // overflow too. The library and the heap stay fully checked.
        "--param=asan-stack=0",
        "-fno-strict-aliasing",
    ];
    flags.extend(extra.split_whitespace());
    common::compile(&out.join("driver.c"), &program, false, &flags);

    let only: Option<BTreeSet<String>> = std::env::var("OVL_WINE_ONLY")
        .ok()
        .map(|s| s.split(',').map(str::to_owned).collect());
    let backends: Vec<&str> = match std::env::var("OVL_BACKEND").ok().as_deref() {
        Some("uring") => vec!["uring"],
        Some("poll") => vec!["poll"],
        _ => BACKENDS.to_vec(),
    };
    let default_timeout: u64 = std::env::var("OVL_WINE_TIMEOUT")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(60);

    let mut problems = Vec::new();
    let mut passing_listed = Vec::new();
    let mut suggested = Vec::new();
    let mut clean = BTreeMap::<&str, usize>::new();
    let mut rows = Vec::new();
    let mut ran = 0;
    let (mut runs_ok, mut runs_bad) = (0, 0);
    for entry in &entries {
        if only.as_ref().is_some_and(|o| !o.contains(entry)) {
            continue;
        }
        ran += 1;
        let timeout = Duration::from_secs(*exp.timeouts.get(entry).unwrap_or(&default_timeout));
        let mut cells = Vec::new();
        for backend in &backends {
            let before = problems.len();
            let (outcome, log) = run_entry(&program, entry, backend, timeout);
            let listed = |line: u32| {
                exp.failing
                    .get(&(entry.clone(), line))
                    .is_some_and(|(b, _)| b.is_empty() || b.iter().any(|b| b == backend))
            };
            let cell = match &outcome {
                Outcome::Done { checks, failed } => {
                    let new: Vec<u32> = failed.keys().copied().filter(|l| !listed(*l)).collect();
                    for l in &new {
                        let msg = log
                            .lines()
                            .find_map(|x| x.strip_prefix(&format!("sock.c:{l}: Test failed: ")))
                            .unwrap_or("");
                        suggested.push(format!("fail {entry} {l} {backend}: {msg}"));
                        problems.push(format!(
                            "{entry} ({backend}): new failure at sock.c:{l}: {}",
                            log.lines()
                                .find(|x| x.starts_with(&format!("sock.c:{l}: Test failed")))
                                .unwrap_or("")
                        ));
                    }
                    for ((f, l), (b, _)) in exp.failing.range((entry.clone(), 0)..) {
                        if f != entry {
                            break;
                        }
                        if (b.is_empty() || b.iter().any(|b| b == backend))
                            && !failed.contains_key(l)
                        {
                            passing_listed.push(format!("{entry} {l} ({backend})"));
                        }
                    }
                    let n: u32 = failed.values().sum();
                    if failed.is_empty() {
                        *clean.entry(backend).or_default() += 1;
                        format!("clean ({checks})")
                    } else if new.is_empty() {
                        format!("{n}/{checks} listed")
                    } else {
                        format!("{n}/{checks} NEW")
                    }
                }
                Outcome::Crashed(why) => {
                    problems.push(format!(
                        "{entry} ({backend}): crashed ({why}); output:\n{}",
                        tail(&log)
                    ));
                    "CRASH".to_owned()
                }
                Outcome::TimedOut => {
                    problems.push(format!(
                        "{entry} ({backend}): no end within {timeout:?}; output:\n{}",
                        tail(&log)
                    ));
                    "TIMEOUT".to_owned()
                }
            };
            if problems.len() == before {
                runs_ok += 1;
            } else {
                runs_bad += 1;
            }
            cells.push(cell);
        }
        let row = format!("| {entry:<34} | {} |", cells.join(" | "));
        println!("{row}");
        rows.push(row);
    }

    println!(
        "\nWine 8.0 dlls/ws2_32/tests/sock.c: {} test entries",
        entries.len() + exp.excluded.len()
    );
    println!(
        "  not applicable here: {} (reasons in expectations.txt)",
        exp.excluded.len()
    );
    println!("  built and run: {ran}");
    for b in &backends {
        let c = clean.get(b).copied().unwrap_or(0);
        println!(
            "  clean on {b}: {c} of {ran} ({:.0}%)",
            100.0 * c as f64 / ran.max(1) as f64
        );
    }
    if !passing_listed.is_empty() {
        println!(
            "\nListed as failing but passed (take them out of expectations.txt if they keep passing):"
        );
        for p in &passing_listed {
            println!("  {p}");
        }
    }
    if problems.is_empty() {
        println!("\nwine: {runs_ok} passed, 0 failed");
    } else {
        if !suggested.is_empty() {
            let path = out.join("new-failures.txt");
            std::fs::write(&path, suggested.join("\n") + "\n").expect("write new-failures.txt");
            println!(
                "\nThe new failures in expectations.txt's form (each needs its reason): {}",
                path.display()
            );
        }
        println!("\nProblems:");
        for p in &problems {
            println!("- {p}");
        }
        println!("\nwine: {runs_ok} passed, {runs_bad} failed");
        std::process::exit(1);
    }
}

/// The last lines of a log.
fn tail(log: &str) -> String {
    let lines: Vec<&str> = log.lines().collect();
    lines[lines.len().saturating_sub(15)..].join("\n")
}
