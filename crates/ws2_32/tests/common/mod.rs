//! Shared harness of the C ABI tests: compiles C/C++ programs against `include/` and the
//! library cargo built for this test run, and runs them with a time bound.
//!
//! Which library: `cargo test` builds the crate's lib target, with all its crate types
//! (`cdylib`, `staticlib`, `rlib`), into `target/<profile>/deps/` before it builds a
//! test that depends on it, and the test executable lives in that same directory. So
//! the programs link `deps/libws2_32.so` next to `current_exe()`: always the one just
//! built for this profile (`cargo test` and `cargo test --release` alike, from a fresh
//! clone too), never a stale `target/release/libws2_32.so` from an older
//! `cargo build`. The rpath points there, so nothing needs `LD_LIBRARY_PATH`.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// The directory holding the library built for this test run.
pub(crate) fn lib_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("current_exe");
    let dir = exe.parent().expect("deps dir").to_path_buf();
    assert!(
        dir.join("libws2_32.so").exists(),
        "libws2_32.so not found next to the test executable in {}",
        dir.display()
    );
    dir
}

/// `crates/ws2_32/include`.
pub(crate) fn include_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("include")
}

/// `crates/ws2_32/tests`.
pub(crate) fn tests_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests")
}

/// A scratch directory for one test's binaries, under the target directory (per
/// process, so that two concurrent runs never overwrite each other's programs).
pub(crate) fn out_dir(test: &str) -> PathBuf {
    let root = lib_dir().join("..").join("ws2_32-ctests");
    static SWEEP: std::sync::Once = std::sync::Once::new();
    SWEEP.call_once(|| {
        // Remove the directories of earlier runs whose process is gone.
        for entry in std::fs::read_dir(&root).into_iter().flatten().flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.parse::<u32>().is_ok() && !Path::new("/proc").join(&name).exists() {
                let _ = std::fs::remove_dir_all(entry.path());
            }
        }
    });
    let dir = root.join(std::process::id().to_string()).join(test);
    std::fs::create_dir_all(&dir).expect("create out dir");
    dir
}

/// Extra compiler flags for every program, from `WS2_TEST_CFLAGS`: e.g.
/// `-fsanitize=address` when the library itself is built with `-Zsanitizer=address` (the
/// sanitizer run of the suite), so the programs bring the sanitizer runtime it needs.
pub(crate) fn extra_cflags() -> Vec<String> {
    std::env::var("WS2_TEST_CFLAGS")
        .map(|f| f.split_whitespace().map(str::to_owned).collect())
        .unwrap_or_default()
}

/// Compiles `src` (C, or C++ when `cxx`) against the headers and the library, with the
/// flags of `WS2_TEST_CFLAGS` added; panics with the compiler's output on failure.
pub(crate) fn compile(src: &Path, out: &Path, cxx: bool, extra: &[&str]) -> PathBuf {
    let lib = lib_dir();
    let compiler = if cxx { "g++" } else { "cc" };
    let mut cmd = Command::new(compiler);
    cmd.arg(src)
        .arg("-I")
        .arg(include_dir())
        .arg("-o")
        .arg(out)
        .args(extra)
        .arg("-L")
        .arg(&lib)
        .arg("-lws2_32")
        .arg(format!("-Wl,-rpath,{}", lib.display()))
        // DT_RPATH, not DT_RUNPATH: it wins over LD_LIBRARY_PATH (see `Proc::spawn`).
        .arg("-Wl,--disable-new-dtags")
        .arg("-pthread");
    cmd.args(extra_cflags());
    let output = cmd
        .output()
        .unwrap_or_else(|e| panic!("running {compiler}: {e}"));
    assert!(
        output.status.success(),
        "{compiler} {} failed:\n{}{}",
        src.display(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    out.to_path_buf()
}

/// A child process killed on drop (so a failing test leaves nothing running).
pub(crate) struct Proc {
    child: Option<Child>,
    name: String,
    lines: mpsc::Receiver<String>,
    /// Everything read so far (stdout and stderr, in arrival order per stream).
    pub(crate) output: Vec<String>,
}

impl Proc {
    /// Starts `program` with `args`, reading its stdout and stderr line by line.
    pub(crate) fn spawn(program: &Path, args: &[&str]) -> Proc {
        // `cargo test` puts `target/<profile>` on LD_LIBRARY_PATH, where an older
        // `cargo build` may have left a stale libws2_32.so: this run's library first.
        let mut path = lib_dir().into_os_string();
        if let Some(old) = std::env::var_os("LD_LIBRARY_PATH") {
            path.push(":");
            path.push(old);
        }
        let mut child = Command::new(program)
            .args(args)
            .env("LD_LIBRARY_PATH", path)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("spawning {}: {e}", program.display()));
        let (tx, rx) = mpsc::channel();
        for stream in [
            Box::new(child.stdout.take().expect("stdout")) as Box<dyn Read + Send>,
            Box::new(child.stderr.take().expect("stderr")),
        ] {
            let tx = tx.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines() {
                    let Ok(line) = line else { break };
                    if tx.send(line).is_err() {
                        break;
                    }
                }
            });
        }
        Proc {
            child: Some(child),
            name: program.display().to_string(),
            lines: rx,
            output: Vec::new(),
        }
    }

    /// The process id.
    pub(crate) fn id(&self) -> u32 {
        self.child.as_ref().map_or(0, Child::id)
    }

    /// Waits up to `timeout` for a line containing `needle`; returns it.
    pub(crate) fn wait_line(&mut self, needle: &str, timeout: Duration) -> Option<String> {
        let deadline = Instant::now() + timeout;
        if let Some(l) = self.output.iter().find(|l| l.contains(needle)) {
            return Some(l.clone());
        }
        loop {
            let left = deadline.checked_duration_since(Instant::now())?;
            match self.lines.recv_timeout(left) {
                Ok(l) => {
                    let hit = l.contains(needle);
                    self.output.push(l.clone());
                    if hit {
                        return Some(l);
                    }
                }
                Err(_) => return None,
            }
        }
    }

    /// Whether the process has exited (without waiting).
    pub(crate) fn exited(&mut self) -> bool {
        self.child
            .as_mut()
            .is_some_and(|c| matches!(c.try_wait(), Ok(Some(_))))
    }

    /// Waits up to `timeout` for the exit; kills it and panics if it does not exit in
    /// time. Returns the exit code and all output.
    pub(crate) fn finish(mut self, timeout: Duration) -> (i32, String) {
        let deadline = Instant::now() + timeout;
        let mut child = self.child.take().expect("child");
        let status = loop {
            if let Some(st) = child.try_wait().expect("try_wait") {
                break st;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                while let Ok(l) = self.lines.recv_timeout(Duration::from_millis(200)) {
                    self.output.push(l);
                }
                panic!(
                    "{} did not exit within {timeout:?}; output:\n{}",
                    self.name,
                    self.output.join("\n")
                );
            }
            std::thread::sleep(Duration::from_millis(10));
        };
        // The readers end when the pipes close.
        while let Ok(l) = self.lines.recv_timeout(Duration::from_millis(500)) {
            self.output.push(l);
        }
        (status.code().unwrap_or(-1), self.output.join("\n"))
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// Compiles `tests/c/<name>.c` and runs it; asserts it exits 0 and prints `ok`.
pub(crate) fn run_c_test(name: &str) {
    let src = tests_dir().join("c").join(format!("{name}.c"));
    let out = out_dir(name).join(name);
    compile(
        &src,
        &out,
        false,
        &["-Wall", "-Wextra", "-Werror", "-std=gnu11"],
    );
    let p = Proc::spawn(&out, &[]);
    let (code, output) = p.finish(Duration::from_secs(30));
    assert_eq!(code, 0, "{name} failed:\n{output}");
    assert!(
        output.lines().any(|l| l == "ok"),
        "{name} did not print ok:\n{output}"
    );
}
