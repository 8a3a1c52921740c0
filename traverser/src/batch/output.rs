//! A batch's result file: records appended one chunk at a time, each chunk written whole and
//! fsynced before the next starts, so that a killed job leaves complete records followed by at
//! most one half-written line.
//!
//! [`Output::create`] starts a file (refusing to replace one); [`Output::resume`] reopens a file
//! a killed job left, cuts a half-written last line, and says how many complete records it holds
//! and what the last one is, so the job continues with the next start. Records are one line each
//! (JSON lines, or CSV rows under one header line), in input order, so the number of complete
//! lines says exactly where to continue.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use super::{BatchError, Start};

/// The file format, from the file name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// One JSON object per line (`.jsonl`, `.ndjson`).
    JsonLines,
    /// A header line, then one row per start (`.csv`).
    Csv,
}

impl Format {
    /// The format a file name asks for: `.jsonl`/`.ndjson` or `.csv`.
    pub fn of_path(path: &Path) -> Option<Format> {
        match path.extension()?.to_str()? {
            "jsonl" | "ndjson" => Some(Format::JsonLines),
            "csv" => Some(Format::Csv),
            _ => None,
        }
    }
}

/// An open result file.
#[derive(Debug)]
pub struct Output {
    file: File,
    path: PathBuf,
    format: Format,
    records: u64,
}

/// What [`Output::resume`] found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Resumed {
    /// Complete records in the file.
    pub records: u64,
    /// Bytes of a half-written last line that were cut (0: none).
    pub dropped: u64,
    /// The last complete record's start, when there is one.
    pub last: Option<Start>,
}

fn io<'a>(what: &'static str, path: &'a Path) -> impl FnOnce(std::io::Error) -> BatchError + 'a {
    move |source| BatchError::Io {
        what,
        path: path.display().to_string(),
        source,
    }
}

const BLOCK: usize = 1 << 20;

impl Output {
    /// Creates the file (it must not exist: a job's output is only ever continued, with
    /// [`Output::resume`]) and writes the CSV header.
    pub fn create(path: &Path, format: Format, csv_header: &str) -> Result<Output, BatchError> {
        let file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(path)
            .map_err(|e| {
                if e.kind() == std::io::ErrorKind::AlreadyExists {
                    BatchError::Option(format!(
                        "{} already exists: --resume continues it; delete it to start over",
                        path.display()
                    ))
                } else {
                    io("cannot create", path)(e)
                }
            })?;
        let mut out = Output {
            file,
            path: path.to_path_buf(),
            format,
            records: 0,
        };
        if format == Format::Csv {
            out.write(format!("{csv_header}\n").as_bytes())?;
        }
        Ok(out)
    }

    /// Reopens a file a job left to continue it (creating it when absent): a half-written last
    /// line is cut, a CSV header must be `csv_header` (the same job's), and the complete records
    /// are counted. `pairs`: records start with two ids.
    pub fn resume(
        path: &Path,
        format: Format,
        csv_header: &str,
        pairs: bool,
    ) -> Result<(Output, Resumed), BatchError> {
        if !path.exists() {
            return Ok((
                Output::create(path, format, csv_header)?,
                Resumed::default(),
            ));
        }
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .open(path)
            .map_err(io("cannot open", path))?;
        // Count complete lines and find where the last one ends.
        let mut lines = 0u64;
        let mut end = 0u64;
        let mut pos = 0u64;
        let mut buf = vec![0u8; BLOCK];
        loop {
            let n = file.read(&mut buf).map_err(io("cannot read", path))?;
            if n == 0 {
                break;
            }
            for (i, &b) in buf[..n].iter().enumerate() {
                if b == b'\n' {
                    lines += 1;
                    end = pos + i as u64 + 1;
                }
            }
            pos += n as u64;
        }
        let dropped = pos - end;
        if dropped > 0 {
            file.set_len(end)
                .map_err(io("cannot cut the last line of", path))?;
            file.sync_all().map_err(io("cannot sync", path))?;
        }
        let first = read_line_at(&mut file, 0, end).map_err(io("cannot read", path))?;
        let last = last_line(&mut file, end).map_err(io("cannot read", path))?;
        file.seek(SeekFrom::Start(end))
            .map_err(io("cannot seek in", path))?;
        let mut out = Output {
            file,
            path: path.to_path_buf(),
            format,
            records: 0,
        };
        let resume_error = |message: String| BatchError::Resume {
            path: path.display().to_string(),
            message,
        };
        let records = match format {
            Format::JsonLines => lines,
            Format::Csv if lines == 0 => {
                out.write(format!("{csv_header}\n").as_bytes())?;
                0
            }
            Format::Csv => {
                if first.as_deref() != Some(csv_header) {
                    return Err(resume_error(format!(
                        "its header {:?} is not this job's ({csv_header:?}): it was written by another spec",
                        first.unwrap_or_default()
                    )));
                }
                lines - 1
            }
        };
        let last = match (&last, records) {
            (_, 0) | (None, _) => None,
            (Some(line), _) => Some(record_start(format, line, pairs).ok_or_else(|| {
                resume_error(format!(
                    "its last line is not a record of this job: {line:?}"
                ))
            })?),
        };
        out.records = records;
        Ok((
            out,
            Resumed {
                records,
                dropped,
                last,
            },
        ))
    }

    /// The format.
    pub fn format(&self) -> Format {
        self.format
    }

    /// The complete records in the file.
    pub fn records(&self) -> u64 {
        self.records
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends `records` complete records (whole lines) and syncs them to disk.
    pub fn append(&mut self, bytes: &[u8], records: u64) -> Result<(), BatchError> {
        self.write(bytes)?;
        self.records += records;
        Ok(())
    }

    fn write(&mut self, bytes: &[u8]) -> Result<(), BatchError> {
        self.file
            .write_all(bytes)
            .map_err(io("cannot write", &self.path))?;
        self.file.sync_data().map_err(io("cannot sync", &self.path))
    }
}

/// The line starting at `at` (before `end`), without its newline.
fn read_line_at(file: &mut File, at: u64, end: u64) -> std::io::Result<Option<String>> {
    if at >= end {
        return Ok(None);
    }
    file.seek(SeekFrom::Start(at))?;
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    let mut pos = at;
    while pos < end {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        let take = &buf[..n.min((end - pos) as usize)];
        if let Some(i) = take.iter().position(|&b| b == b'\n') {
            out.extend_from_slice(&take[..i]);
            return Ok(Some(String::from_utf8_lossy(&out).into_owned()));
        }
        out.extend_from_slice(take);
        pos += n as u64;
    }
    Ok(Some(String::from_utf8_lossy(&out).into_owned()))
}

/// The last complete line of the first `end` bytes (which end with a newline).
fn last_line(file: &mut File, end: u64) -> std::io::Result<Option<String>> {
    if end == 0 {
        return Ok(None);
    }
    // Read backwards in growing windows until the line's start is in view.
    let mut window = 4096u64;
    loop {
        let from = end.saturating_sub(window);
        file.seek(SeekFrom::Start(from))?;
        let mut buf = vec![0u8; (end - from) as usize];
        file.read_exact(&mut buf)?;
        let body = &buf[..buf.len() - 1];
        match body.iter().rposition(|&b| b == b'\n') {
            Some(i) => return Ok(Some(String::from_utf8_lossy(&body[i + 1..]).into_owned())),
            None if from == 0 => return Ok(Some(String::from_utf8_lossy(body).into_owned())),
            None => window *= 4,
        }
    }
}

/// The start a record line names: `"start"` or `"from"`/`"to"` in a JSON line, the first one
/// or two fields of a CSV row.
pub fn record_start(format: Format, line: &str, pairs: bool) -> Option<Start> {
    match format {
        Format::JsonLines => {
            let v: serde_json::Value = serde_json::from_str(line).ok()?;
            if pairs {
                Some(Start::Pair(
                    v.get("from")?.as_u64()?,
                    v.get("to")?.as_u64()?,
                ))
            } else {
                Some(Start::Node(v.get("start")?.as_u64()?))
            }
        }
        Format::Csv => {
            let mut fields = line.split(',');
            let a = fields.next()?.parse().ok()?;
            if pairs {
                Some(Start::Pair(a, fields.next()?.parse().ok()?))
            } else {
                Some(Start::Node(a))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_half_line_is_cut_and_complete_records_counted() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("o.jsonl");
        std::fs::write(
            &p,
            "{\"start\":1,\"count\":2}\n{\"start\":5,\"count\":3}\n{\"sta",
        )
        .unwrap();
        let (mut out, r) = Output::resume(&p, Format::JsonLines, "", false).unwrap();
        assert_eq!(
            r,
            Resumed {
                records: 2,
                dropped: 5,
                last: Some(Start::Node(5))
            }
        );
        out.append(b"{\"start\":9,\"count\":1}\n", 1).unwrap();
        assert_eq!(out.records(), 3);
        let text = std::fs::read_to_string(&p).unwrap();
        assert!(
            text.ends_with("\"count\":3}\n{\"start\":9,\"count\":1}\n"),
            "{text}"
        );
    }

    #[test]
    fn csv_headers_must_match_and_long_lines_are_found() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("o.csv");
        let long = "7,".to_string() + &"x".repeat(20_000);
        std::fs::write(&p, format!("start,count,partial,error\n{long}\n")).unwrap();
        let (_, r) = Output::resume(&p, Format::Csv, "start,count,partial,error", false).unwrap();
        assert_eq!((r.records, r.last), (1, Some(Start::Node(7))));
        let e = Output::resume(&p, Format::Csv, "start,nodes,partial,error", false).unwrap_err();
        assert!(e.to_string().contains("header"), "{e}");
        // A new file gets its header; an existing one is never replaced by create.
        let q = dir.path().join("n.csv");
        let (_, r) = Output::resume(&q, Format::Csv, "h", false).unwrap();
        assert_eq!(r.records, 0);
        assert_eq!(std::fs::read_to_string(&q).unwrap(), "h\n");
        assert!(Output::create(&q, Format::Csv, "h").is_err());
    }
}
