//! Batch path analytics: one traversal or shortest-path spec run from many starts, in parallel,
//! with results streamed in input order to a resumable file.
//!
//! The types, in the order a job uses them:
//!
//! - [`Spec`]: what every start runs, a [`TraverseRequest`] without `start` or a
//!   [`ShortestPathRequest`] without `from`/`to` ([`Spec::from_json`] says how a file tells them
//!   apart).
//! - [`Entry`] / [`Start`]: the starts, with the line they came from ([`parse_starts`] reads a
//!   file of ids or id pairs and reports every malformed line).
//! - [`Batch`]: the spec compiled once against an [`Engine`] (every spec error surfaces here,
//!   before any work); [`Batch::resolve`] splits starts into runnable [`Task`]s and unknown ids;
//!   [`Batch::run`] answers a slice of tasks on the rayon pool, in order.
//! - [`Record`]: one start's answer, written as a JSON line or a CSV row.
//! - [`output::Output`]: the result file, appended one fsynced chunk at a time;
//!   [`output::Output::resume`] finds where a killed job stopped. [`run_to`] drives the whole.
//!
//! Specs that are plain breadth-first `NODE_GLOBAL` counts (no label filter, node lists,
//! `where`, `expandByLabel` or deadline) are answered by [`msbfs::MultiBfs`], 64 starts per
//! pass, with the same counts a one-at-a-time traversal gives ([`Batch::bit_parallel_refusal`]
//! says why a spec does not qualify).
//!
//! [`TraverseRequest`]: neotrav_wire::TraverseRequest
//! [`ShortestPathRequest`]: neotrav_wire::ShortestPathRequest
//! [`Engine`]: crate::engine::Engine

pub mod msbfs;
pub mod output;

mod error;
mod job;
mod record;
mod runner;
mod spec;
mod starts;

pub use error::{BAD_LINES_SHOWN, BatchError};
pub use job::{Summary, resume_point, run_to};
pub use record::{Outcome, Record};
pub use runner::{Batch, BitParallel, Options, Resolution, Task};
pub use spec::Spec;
pub use starts::{BadLine, Entry, Start, parse_starts};
