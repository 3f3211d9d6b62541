//! The Winsock C ABI over the `overlapped` library: `libws2_32.so` and `libws2_32.a`,
//! with the headers in `include/` (`winsock2.h`, `ws2tcpip.h`, `mswsock.h`,
//! `windows.h`, ...), so that Winsock overlapped programs build and run on Linux
//! unchanged:
//!
//! ```sh
//! cargo build --release -p ws2_32
//! cc prog.c -I crates/ws2_32/include -L target/release -lws2_32 -Wl,-rpath,$PWD/target/release
//! ```
//!
//! # The boundary
//! The crate is thin: every I/O path is the library's public API. Each exported
//! function
//! - goes through one checked boundary (`handles::guard`): panics are caught and become
//!   `WSASYSCALLFAILURE`, never unwinding into C; errors set the thread's last error
//!   (`WSAGetLastError`/`GetLastError`, one slot as on Windows) and return the
//!   function's failure value;
//! - checks pointers before use (`WSAEFAULT`), handles (`WSAENOTSOCK` for sockets,
//!   `WSA_INVALID_HANDLE` for events), counts (`WSA_INVALID_PARAMETER`), and that
//!   `WSAStartup` was called (`WSANOTINITIALISED`);
//! - documents Parameters, Returns, and Memory and lifetimes.
//!
//! Sockets, events, completion ports and threads share one handle table (small values, multiples of 4, below 2^32
//! because book programs cast a `SOCKET` to `DWORD`).
//!
//! # Symbol names
//! Functions whose names the C library also exports (`socket`, `bind`, `accept`,
//! `connect`, `send`, `recv`, `select`, `getaddrinfo`, `htons`, `inet_pton`, ...) are
//! exported as `ws2_<name>`; the headers bind the Winsock names to them with asm labels
//! (`int bind(SOCKET, const struct sockaddr *, int) __asm__("ws2_bind");`), which GCC
//! and Clang honour in C and C++. No macro renames a common identifier, and the rest of
//! the process (glibc, the Rust standard library, other libraries) keeps the C
//! library's `bind` and friends.
//!
//! # Compatibility
//! Where this differs from Windows, and why, is listed in `crates/ws2_32/README.md`
//! and in each function's docs.

pub mod codepage;
pub mod console;
pub mod duplicate;
pub mod events;
pub mod io;
pub mod iocp;
mod ioctls;
pub mod locks;
pub mod memory;
pub mod messages;
pub mod modules;
pub mod netdb;
pub mod process;
pub mod protocols;
pub mod select;
mod sendtail;
pub mod sockets;
pub mod sockopt;
pub mod startup;
pub mod threads;
pub mod types;
pub mod vmem;

mod addr;
mod handles;
