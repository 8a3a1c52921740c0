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
//! - [`neotrav`]: the one way a test runs the `neotrav` binary; [`run`] runs it to its end
//!   and collects its output, [`run_on`] with the test kit's Neo4j in its environment, and
//!   [`text`] reads that output.
//!
//! ```no_run
//! let out = neotrav_testkit::run(["--version"]);
//! assert!(out.status.success(), "{}", neotrav_testkit::text(&out.stderr));
//! ```

#![forbid(unsafe_code)]
// Test support: helpers panic on failure (the test fails there) and are documented where not
// obvious; `Rng::next` is a generator step, not an iterator.
#![allow(missing_docs, clippy::should_implement_trait)]

use std::ffi::OsStr;
use std::path::PathBuf;
use std::process::{Command, Output};

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

/// Runs `neotrav ARGS` to its end and collects its exit status, stdout and stderr.
///
/// # Panics
///
/// When the binary cannot be started.
pub fn run<I, S>(args: I) -> Output
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    output(neotrav().args(args))
}

/// [`neotrav`] with `server`'s Bolt URI, user and password in its environment (`NEO4J_URI`,
/// `NEO4J_USERNAME`, `NEO4J_PASSWORD`).
pub fn neotrav_on(server: &neo4j::TestNeo4j) -> Command {
    let mut command = neotrav();
    command
        .env("NEO4J_URI", &server.uri)
        .env("NEO4J_USERNAME", &server.user)
        .env("NEO4J_PASSWORD", server.password.expose());
    command
}

/// [`run`] with `server` in the environment, as [`neotrav_on`] puts it.
///
/// # Panics
///
/// When the binary cannot be started.
pub fn run_on<I, S>(server: &neo4j::TestNeo4j, args: I) -> Output
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    output(neotrav_on(server).args(args))
}

fn output(command: &mut Command) -> Output {
    command.output().expect("the neotrav binary runs")
}

/// A process's stdout or stderr as text (invalid UTF-8 replaced), for messages and `contains`.
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}
