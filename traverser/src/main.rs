//! `neotrav`: the one user-facing binary. Everything lives in [`neotrav_traverser::cli`].

use std::process::ExitCode;

fn main() -> ExitCode {
    neotrav_traverser::cli::main()
}
