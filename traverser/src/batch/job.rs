//! A whole job: [`run_to`] drives a batch into its output file one chunk at a time and
//! [`resume_point`] tells where a killed job continues; [`Summary`] is what it did.

use std::time::{Duration, Instant};

use super::{Batch, BatchError, Outcome, Task, output};

/// What a whole job did.
#[derive(Debug, Clone, Default)]
pub struct Summary {
    /// Records written by this run.
    pub written: u64,
    /// Records already in the output when it was resumed.
    pub resumed: u64,
    /// Starts skipped because the snapshot does not hold them.
    pub unknown: u64,
    /// Records for starts the engine refused (an error record each).
    pub failed: u64,
    /// Records a budget cut short.
    pub partial: u64,
    /// Time spent running and writing.
    pub elapsed: Duration,
}

/// Where a resumed job continues: how many of `tasks` its output already answers. The last
/// record must be that many tasks in (the same start), or the output belongs to another job
/// (other starts, another snapshot) and is left alone.
pub fn resume_point(
    tasks: &[Task],
    resumed: &output::Resumed,
    path: &std::path::Path,
) -> Result<usize, BatchError> {
    let k = usize::try_from(resumed.records).unwrap_or(usize::MAX);
    let error = |message: String| BatchError::Resume {
        path: path.display().to_string(),
        message,
    };
    if k > tasks.len() {
        return Err(error(format!(
            "it holds {k} records and this job has only {} starts: it was written by another job",
            tasks.len()
        )));
    }
    if k > 0 {
        let want = tasks[k - 1].start;
        if resumed.last != Some(want) {
            return Err(error(format!(
                "its last record ({} of them) is for {:?}, and this job's start number {k} is {want:?} (line {}): it was written by another job",
                k,
                resumed.last,
                tasks[k - 1].line
            )));
        }
    }
    Ok(k)
}

/// Runs `tasks` in chunks of `chunk` starts, appending each chunk's records to `out` in order
/// (one fsync per chunk), so memory stays bounded by one chunk's records whatever the total.
pub fn run_to<D: AsRef<[u8]> + Sync>(
    batch: &Batch<'_, D>,
    tasks: &[Task],
    out: &mut output::Output,
    chunk: usize,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<Summary, BatchError> {
    let started = Instant::now();
    let mut summary = Summary::default();
    let csv_levels = batch.levels;
    let mut text = String::new();
    for slice in tasks.chunks(chunk.max(1)) {
        let records = batch.run(slice, progress);
        text.clear();
        for r in &records {
            match &r.outcome {
                Outcome::Failed(_) => summary.failed += 1,
                Outcome::Traversal { partial: true, .. }
                | Outcome::ShortestPath { partial: true, .. } => summary.partial += 1,
                _ => {}
            }
            match out.format() {
                output::Format::JsonLines => r.write_json(&mut text),
                output::Format::Csv => r.write_csv(&mut text, csv_levels),
            }
        }
        out.append(text.as_bytes(), records.len() as u64)?;
        summary.written += records.len() as u64;
    }
    summary.elapsed = started.elapsed();
    Ok(summary)
}
