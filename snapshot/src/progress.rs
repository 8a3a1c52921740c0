//! How a long build reports how far it has come: the exporter, the loaders and the
//! generators' snapshot writer all take a [`Progress`], and the command line draws it.

/// Told how far an export has come.
pub trait Progress: Send + Sync {
    /// A new phase begins, with `total` units of work if known.
    fn phase(&self, name: &str, total: Option<u64>);
    /// `n` more units are done.
    fn advance(&self, n: u64);
}

/// Progress that goes nowhere.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoProgress;

impl Progress for NoProgress {
    fn phase(&self, _: &str, _: Option<u64>) {}
    fn advance(&self, _: u64) {}
}
