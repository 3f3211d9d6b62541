//! Hostile input through the C ABI (`tests/c/hostile.c`): every exported function with
//! NULL pointers, bad and wrong-kind handles, bad lengths and counts, a reused pending
//! `WSAOVERLAPPED`, double closes, and calls outside `WSAStartup`/`WSACleanup`. Each
//! call must fail with the documented Winsock error and nothing may crash (the program
//! also runs under AddressSanitizer: see `common::extra_cflags`).

mod common;

use std::process::Command;

/// Every function the library exports, by its Winsock name (`ws2_bind` is `bind`).
fn exported_names() -> Vec<String> {
    let lib = common::lib_dir().join("libws2_32.so");
    let out = Command::new("nm")
        .args(["-D", "--defined-only"])
        .arg(&lib)
        .output()
        .expect("running nm");
    assert!(out.status.success(), "nm {} failed", lib.display());
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| {
            let mut f = l.split_whitespace();
            let (kind, name) = (f.nth(1)?, f.next()?);
            (kind == "T").then(|| name.strip_prefix("ws2_").unwrap_or(name).to_owned())
        })
        .collect()
}

/// The program calls every exported function (a new export must be added to it).
#[test]
fn hostile_program_covers_every_export() {
    let src = std::fs::read_to_string(common::tests_dir().join("c").join("hostile.c"))
        .expect("reading hostile.c");
    let is_ident = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let called = |name: &str| {
        src.match_indices(name).any(|(i, _)| {
            let before = src.as_bytes().get(i.wrapping_sub(1)).copied();
            let after = src.as_bytes().get(i + name.len()).copied();
            !before.is_some_and(is_ident) && !after.is_some_and(is_ident)
        })
    };
    let names = exported_names();
    assert!(names.len() > 60, "too few exports found: {names:?}");
    let missing: Vec<&String> = names.iter().filter(|n| !called(n)).collect();
    assert!(missing.is_empty(), "hostile.c does not call: {missing:?}");
}

/// NULL pointers, bad handles, lengths, counts, reuse, double closes, startup state.
#[test]
fn hostile_inputs() {
    common::run_c_test("hostile");
}
