//! Deterministic random graphs for micro-benchmarks: same parameters, same file, on every
//! machine. Not a dataset of the mission (those are the tree and Discogs-shaped generators);
//! just enough structure to measure reads: three labels, an int key property on one of them,
//! four relationship types, and skewed degrees (a tenth of the edges end at 1% of the nodes).
//! [`cached`] keeps them in `target/bench-data`, and [`generated`] the snapshots of the
//! mission's generators that the micro-benchmarks read.

use std::path::Path;

use std::path::PathBuf;

use neotrav_datasets::generate::Dataset;
use neotrav_snapshot::{
    BuildError, NoProgress, PropertyKind, Snapshot, SnapshotBuilder, Value, WriteSummary,
};

/// A small, fast pseudo-random generator (xorshift64*), so graphs do not depend on a crate's
/// stream staying the same across versions.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator from a seed (any value; zero is remapped).
    pub fn new(seed: u64) -> Rng {
        Rng(seed.max(1))
    }

    /// The next value.
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A value in `0..n`.
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }
}

/// Writes a synthetic graph of `nodes` nodes and `relationships` relationships to `path`.
pub fn write_graph(
    path: &Path,
    nodes: u64,
    relationships: u64,
    seed: u64,
) -> Result<WriteSummary, BuildError> {
    let mut rng = Rng::new(seed);
    let mut b = SnapshotBuilder::new();
    b.column("A", "rank", PropertyKind::Int)?;
    const LABELS: [&str; 3] = ["A", "B", "C"];
    const TYPES: [&str; 4] = ["KNOWS", "OWNS", "LIKES", "PART_OF"];
    for id in 0..nodes {
        let label = LABELS[rng.below(3) as usize];
        let props = (label == "A").then(|| ("rank", Value::Int(rng.below(1000) as i64)));
        b.add_node(id, [label], props)?;
    }
    let hubs = (nodes / 100).max(1);
    for id in 0..relationships {
        let start = rng.below(nodes);
        let end = if rng.below(10) == 0 {
            rng.below(hubs)
        } else {
            rng.below(nodes)
        };
        b.add_relationship(id, TYPES[rng.below(4) as usize], start, end)?;
    }
    b.write(path)
}

/// The synthetic graph `synthetic-{name}.snap` in `target/bench-data`, written with seed 7 the
/// first time it is asked for (or when the cached file does not open or is of an older format
/// version), then reused by every benchmark that names it.
///
/// # Panics
///
/// When the folder or the file cannot be written: a benchmark cannot run without its graph.
pub fn cached(name: &str, nodes: u64, relationships: u64) -> PathBuf {
    let path = bench_data().join(format!("synthetic-{name}.snap"));
    let current = Snapshot::open(&path)
        .is_ok_and(|s| s.format_version() == neotrav_snapshot::format::FORMAT_VERSION);
    if !current {
        eprintln!("generating {}", path.display());
        write_graph(&path, nodes, relationships, 7).expect("write the benchmark graph");
    }
    path
}

/// The snapshot of a generated `dataset` (the tree, the Discogs-shaped graph) at
/// `target/bench-data/{file}`, generated the first time (or when the file there does not open,
/// or was made from another description), then reused by every benchmark that names it.
///
/// # Panics
///
/// When the folder or the file cannot be written: a benchmark cannot run without its graph.
pub fn generated(file: &str, dataset: &dyn Dataset) -> PathBuf {
    let path = bench_data().join(file);
    let fresh =
        Snapshot::open(&path).is_ok_and(|s| s.header().source.description == dataset.describe());
    if !fresh {
        eprintln!("generating {} ({})", path.display(), dataset.describe());
        neotrav_datasets::to_snapshot::write(dataset, &path, &NoProgress)
            .expect("write the benchmark snapshot");
    }
    path
}

/// `target/bench-data`, made if missing.
fn bench_data() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/bench-data");
    std::fs::create_dir_all(&dir).expect("create target/bench-data");
    dir
}
