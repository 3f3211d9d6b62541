//! `ovl`: serve, send and probe with the overlapped library.
fn main() {}
