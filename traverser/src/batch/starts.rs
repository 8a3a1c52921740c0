//! The starts of a batch: [`Start`] (a node or a pair), [`Entry`] (a start and its line) and
//! [`parse_starts`], which reads a file of ids or id pairs and reports every malformed line
//! ([`BadLine`]).

use super::{BAD_LINES_SHOWN, BatchError};

/// One start: a node for a traversal, a pair for a shortest path (Neo4j ids).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Start {
    /// A start node.
    Node(u64),
    /// The two ends of a shortest path.
    Pair(u64, u64),
}

/// A start and where it came from: its line in a starts file, or its row (from 1) in a label
/// or Cypher source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry {
    /// The start.
    pub start: Start,
    /// Line or row number, from 1.
    pub line: usize,
}

/// A malformed line of a starts file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadLine {
    /// Its number, from 1.
    pub line: usize,
    /// The line (cut to 80 characters).
    pub text: String,
    /// What is wrong.
    pub reason: String,
}

/// Parses a starts file: one Neo4j id (or element id) per line, or for `pairs` two separated by
/// a comma, tab or spaces. Blank lines and lines starting with `#` are skipped. Every malformed
/// line is reported ([`BatchError::BadLines`]), not just the first.
pub fn parse_starts(text: &str, pairs: bool) -> Result<Vec<Entry>, BatchError> {
    let mut out = Vec::new();
    let mut bad = Vec::new();
    let mut count = 0;
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        match parse_line(line, pairs) {
            Ok(start) => out.push(Entry { start, line: i + 1 }),
            Err(reason) => {
                count += 1;
                if bad.len() < BAD_LINES_SHOWN {
                    bad.push(BadLine {
                        line: i + 1,
                        text: line.chars().take(80).collect(),
                        reason,
                    });
                }
            }
        }
    }
    if count > 0 {
        return Err(BatchError::BadLines { count, lines: bad });
    }
    Ok(out)
}

fn parse_id(s: &str) -> Result<u64, String> {
    if let Ok(id) = s.parse::<u64>() {
        return Ok(id);
    }
    neotrav_wire::element_id(s)
        .ok_or_else(|| format!("`{s}` is not a Neo4j id (a whole number from 0)"))
}

fn parse_line(line: &str, pairs: bool) -> Result<Start, String> {
    let parts: Vec<&str> = line
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|p| !p.is_empty())
        .collect();
    match (pairs, parts.as_slice()) {
        (false, [one]) => parse_id(one).map(Start::Node),
        (false, _) => Err(format!(
            "expected one id, found {} fields (a pairs file is for shortest-path specs)",
            parts.len()
        )),
        (true, [a, b]) => Ok(Start::Pair(parse_id(a)?, parse_id(b)?)),
        (true, _) => Err(format!(
            "expected two ids (from, to), found {} field(s)",
            parts.len()
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn start_lines_are_checked_with_line_numbers() {
        let got = parse_starts("# ids\n1\n\n 22 \n4:abc:7\n", false).unwrap();
        assert_eq!(
            got.iter().map(|e| (e.start, e.line)).collect::<Vec<_>>(),
            vec![
                (Start::Node(1), 2),
                (Start::Node(22), 4),
                (Start::Node(7), 5)
            ]
        );
        let pairs = parse_starts("1,2\n3 4\n5\t6\n", true).unwrap();
        assert_eq!(pairs[2].start, Start::Pair(5, 6));
        let BatchError::BadLines { count, lines } =
            parse_starts("1\nx\n3\n-4\n5 6\n", false).unwrap_err()
        else {
            panic!("not bad lines")
        };
        assert_eq!(count, 3);
        assert_eq!(
            lines.iter().map(|b| b.line).collect::<Vec<_>>(),
            vec![2, 4, 5]
        );
        assert!(parse_starts("1\n", true).is_err());
    }
}
