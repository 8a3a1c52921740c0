//! The wire types of the neotrav sidecar's HTTP API and a typed async client for it.
//!
//! Nothing is implemented yet: the sidecar does not exist. `../shared/DESIGN.md` is the plan.

#![forbid(unsafe_code)]
