//! The snapshot file format: a versioned, checksummed, memory-mapped image of a Neo4j graph's
//! topology (id map, label bitmasks, adjacency per relationship type, key-property columns and a
//! bloom filter of ids), its builder and its zero-copy reader.
//!
//! Nothing is implemented yet; `../shared/DESIGN.md` ("The snapshot contract") is the plan.

#![forbid(unsafe_code)]
