//! What neotrav's integration tests share, in one place (a development-only crate: nothing
//! here ships in the binary).
//!
//! - [`neo4j`]: the test process's bundled Neo4j and a clean graph per test (re-exported from
//!   `neotrav-neo4j`'s `testkit` feature);
//! - [`small`]: a small hand-built snapshot the engine and sidecar tests read;
//! - [`files`]: snapshot files as the reload tests lay them out (a snapshot directory, a copy
//!   only verify finds corrupt, a write in place);
//! - [`served`]: `neotrav serve` as a process or in-process, and a small live graph exported
//!   from the test kit's Neo4j;
//! - [`router`]: the sidecar's router called in-process, without a socket;
//! - [`differential`]: the random graphs, random requests and APOC comparisons the differential
//!   suites share;
//! - [`neotrav`]: the one way a test runs the `neotrav` binary.
//!
//! ```no_run
//! let out = neotrav_testkit::neotrav().arg("--version").output().unwrap();
//! assert!(out.status.success());
//! ```

#![forbid(unsafe_code)]
// Test support: helpers panic on failure (the test fails there) and are documented where not
// obvious; `Rng::next` is a generator step, not an iterator.
#![allow(missing_docs, clippy::should_implement_trait)]

use std::path::PathBuf;
use std::process::Command;

pub mod differential;
pub mod files;
pub mod router;
pub mod served;
pub mod small;

pub use neotrav_neo4j::testkit as neo4j;

/// The `neotrav` binary of this build: `NEOTRAV_BIN` if set, else the one Cargo built next to
/// the running test (`target/<profile>/neotrav`; Cargo builds it for the tests of `neotrav-cli`).
///
/// # Panics
///
/// When there is no such file: the message says how to build it.
pub fn neotrav_path() -> PathBuf {
    if let Some(path) = std::env::var_os("NEOTRAV_BIN") {
        return PathBuf::from(path);
    }
    let exe = std::env::current_exe().expect("the test's own path");
    // target/<profile>/deps/<test> -> target/<profile>/neotrav
    let dir = exe
        .parent()
        .and_then(|d| d.parent())
        .expect("target/<profile>");
    let bin = dir.join(format!("neotrav{}", std::env::consts::EXE_SUFFIX));
    assert!(
        bin.is_file(),
        "{} does not exist: run the tests of neotrav-cli (cargo test -p neotrav-cli), which \
         build it, or set NEOTRAV_BIN",
        bin.display()
    );
    bin
}

/// A [`Command`] for the `neotrav` binary ([`neotrav_path`]).
pub fn neotrav() -> Command {
    Command::new(neotrav_path())
}
