//! The headers and the symbol table: every header name (in the case variants Windows
//! accepts) compiles alone as C and as C++; Winsock mixes with the C and C++ standard
//! libraries in either include order; and the library exports no name the C library
//! exports, so it never interposes `bind`, `accept` and friends for the process.

mod common;

use std::process::Command;
use std::time::Duration;

use common::Proc;

#[test]
fn every_header_compiles_alone_in_c_and_cxx() {
    let dir = common::out_dir("headers");
    let mut names: Vec<String> = std::fs::read_dir(common::include_dir())
        .expect("include dir")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    for must in [
        "winsock2.h",
        "WinSock2.h",
        "ws2tcpip.h",
        "WS2tcpip.h",
        "mswsock.h",
        "MSWSock.h",
        "windows.h",
        "Windows.h",
        "winsock.h",
        "ws2def.h",
        "windef.h",
        "winbase.h",
    ] {
        assert!(names.iter().any(|n| n == must), "missing header {must}");
    }
    // One translation unit per language including every header, and one per header.
    let all: String = names.iter().map(|n| format!("#include <{n}>\n")).collect();
    for (ext, cxx) in [("c", false), ("cpp", true)] {
        let src = dir.join(format!("all.{ext}"));
        std::fs::write(
            &src,
            format!("{all}int main(void) {{ return sizeof(WSAOVERLAPPED) == 32 ? 0 : 1; }}\n"),
        )
        .unwrap();
        let bin = common::compile(
            &src,
            &dir.join(format!("all_{ext}")),
            cxx,
            &["-Wall", "-Werror"],
        );
        let (code, out) = Proc::spawn(&bin, &[]).finish(Duration::from_secs(10));
        assert_eq!(code, 0, "{out}");
        for (i, n) in names.iter().enumerate() {
            let src = dir.join(format!("one{i}.{ext}"));
            std::fs::write(
                &src,
                format!("#include <{n}>\n#include <stdlib.h>\nint main(void) {{ return 0; }}\n"),
            )
            .unwrap();
            let out = Command::new(if cxx { "g++" } else { "cc" })
                .arg("-fsyntax-only")
                .arg("-Wall")
                .arg("-Werror")
                .arg("-I")
                .arg(common::include_dir())
                .arg(&src)
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "<{n}> alone ({ext}):\n{}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
}

#[test]
fn cxx_with_standard_headers_first() {
    let dir = common::out_dir("mixed");
    let bin = common::compile(
        &common::tests_dir().join("c").join("mixed_order.cpp"),
        &dir.join("mixed_order"),
        true,
        &["-Wall", "-Werror"],
    );
    let (code, out) = Proc::spawn(&bin, &[]).finish(Duration::from_secs(10));
    assert_eq!(code, 0, "{out}");
    assert!(out.lines().any(|l| l == "ok"), "{out}");
}

#[test]
fn c_library_functions_are_not_interposed() {
    let dir = common::out_dir("posix");
    let c = common::tests_dir().join("c");
    let bin = dir.join("winsock_side");
    let out = Command::new("cc")
        .arg(c.join("winsock_side.c"))
        .arg(c.join("posix_side.c"))
        .arg("-Wall")
        .arg("-Werror")
        .arg("-I")
        .arg(common::include_dir())
        .arg("-o")
        .arg(&bin)
        .arg("-L")
        .arg(common::lib_dir())
        .arg("-lws2_32")
        .arg(format!("-Wl,-rpath,{}", common::lib_dir().display()))
        .arg("-Wl,--disable-new-dtags")
        .args(common::extra_cflags())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (code, output) = Proc::spawn(&bin, &[]).finish(Duration::from_secs(10));
    assert_eq!(code, 0, "{output}");
    assert!(output.lines().any(|l| l == "ok"), "{output}");
}

/// The dynamic symbols a shared object defines.
fn defined_symbols(path: &std::path::Path) -> Vec<String> {
    let out = Command::new("nm")
        .args(["-D", "--defined-only"])
        .arg(path)
        .output()
        .expect("nm");
    assert!(out.status.success(), "nm {}", path.display());
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_whitespace().nth(2))
        .map(|s| s.split('@').next().unwrap_or(s).to_string())
        .collect()
}

#[test]
fn exports_no_c_library_name() {
    let ours = defined_symbols(&common::lib_dir().join("libws2_32.so"));
    for must in [
        "WSARecv",
        "WSAStartup",
        "AcceptEx",
        "ws2_bind",
        "ws2_select",
        "closesocket",
    ] {
        assert!(ours.iter().any(|s| s == must), "{must} not exported");
    }
    for libc_name in [
        "socket",
        "bind",
        "listen",
        "accept",
        "connect",
        "send",
        "recv",
        "sendto",
        "recvfrom",
        "select",
        "shutdown",
        "setsockopt",
        "getsockopt",
        "getsockname",
        "getpeername",
        "htons",
        "htonl",
        "ntohs",
        "ntohl",
        "inet_addr",
        "inet_ntoa",
        "inet_pton",
        "inet_ntop",
        "getaddrinfo",
        "freeaddrinfo",
        "gethostbyname",
        "gethostname",
        "close",
        "poll",
    ] {
        assert!(
            !ours.iter().any(|s| s == libc_name),
            "libws2_32 exports {libc_name}"
        );
    }
    // And nothing else the C library defines, where its shared object can be found.
    let libc_path = [
        "/lib/x86_64-linux-gnu/libc.so.6",
        "/usr/lib/x86_64-linux-gnu/libc.so.6",
        "/lib64/libc.so.6",
    ]
    .into_iter()
    .map(std::path::Path::new)
    .find(|p| p.exists());
    if let Some(p) = libc_path {
        let theirs: std::collections::HashSet<String> = defined_symbols(p).into_iter().collect();
        let clash: Vec<&String> = ours.iter().filter(|s| theirs.contains(*s)).collect();
        assert!(
            clash.is_empty(),
            "libws2_32 exports C library names: {clash:?}"
        );
    }
}

/// The programs load the library cargo built for this run (not a stale copy that an
/// older `cargo build` left on `LD_LIBRARY_PATH`).
#[test]
fn programs_load_this_runs_library() {
    let dir = common::out_dir("which_lib");
    let bin = common::compile(
        &common::tests_dir().join("c").join("which_lib.c"),
        &dir.join("which_lib"),
        false,
        &["-ldl"],
    );
    let (code, out) = Proc::spawn(&bin, &[]).finish(Duration::from_secs(10));
    assert_eq!(code, 0, "{out}");
    let loaded = std::fs::canonicalize(out.trim()).expect("loaded path");
    let built = std::fs::canonicalize(common::lib_dir().join("libws2_32.so")).unwrap();
    assert_eq!(loaded, built);
}
