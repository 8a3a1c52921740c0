//! [`Record`]: one start's answer ([`Outcome`]), written as a JSON line or a CSV row.

use std::fmt::Write as _;

use neotrav_wire::{Answer, Path};

use super::Start;
use super::msbfs::Levels;

/// One start's answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    /// The start.
    pub start: Start,
    /// The answer.
    pub outcome: Outcome,
}

/// What one start gave.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// A traversal's answer.
    Traversal {
        /// The answer (as [`Engine::traverse`](crate::engine::Engine::traverse) gives it).
        answer: Answer,
        /// Whether a budget cut it short.
        partial: bool,
        /// Nodes at each distance, when asked for.
        levels: Option<Levels>,
    },
    /// A shortest path.
    ShortestPath {
        /// Its length, `None` when there is none within `maxLevel`.
        length: Option<u32>,
        /// The path(s).
        paths: Vec<Path>,
        /// Whether a budget cut the search short.
        partial: bool,
    },
    /// The engine refused this start (a budget with `"onExceed": "error"`).
    Failed(String),
}

impl Record {
    /// The record as one JSON line (with its newline): `{"start": id, <answer>, "partial": b}`
    /// (the answer keyed `count`, `nodes`, `paths` or `groups` as in a traversal response,
    /// plus `levels` when asked for); `{"from", "to", "length", "paths", "partial"}` for a
    /// shortest path; `{"start" (or "from", "to"), "error"}` for a start the engine refused.
    pub fn write_json(&self, out: &mut String) {
        match self.start {
            Start::Node(id) => {
                let _ = write!(out, "{{\"start\":{id}");
            }
            Start::Pair(a, b) => {
                let _ = write!(out, "{{\"from\":{a},\"to\":{b}");
            }
        }
        match &self.outcome {
            Outcome::Traversal {
                answer,
                partial,
                levels,
            } => {
                match answer {
                    Answer::Count(n) => {
                        let _ = write!(out, ",\"count\":{n}");
                    }
                    Answer::Nodes(n) => {
                        let _ = write!(out, ",\"nodes\":{}", n.to_json());
                    }
                    Answer::Paths(p) => {
                        let _ = write!(out, ",\"paths\":{}", p.to_json());
                    }
                    Answer::Groups(g) => {
                        let _ = write!(out, ",\"groups\":{}", g.to_json());
                    }
                }
                let _ = write!(out, ",\"partial\":{partial}");
                if let Some(l) = levels {
                    let _ = write!(out, ",\"levels\":{}", l.to_json());
                }
            }
            Outcome::ShortestPath {
                length,
                paths,
                partial,
            } => {
                let _ = write!(
                    out,
                    ",\"length\":{},\"paths\":{},\"partial\":{partial}",
                    length.to_json(),
                    paths.to_json()
                );
            }
            Outcome::Failed(e) => {
                let _ = write!(out, ",\"error\":{}", e.to_json());
            }
        }
        out.push_str("}\n");
    }

    /// The record as one CSV row (with its newline), columns as [`Batch::csv_header`] names
    /// them: ids and counts bare, node lists `;`-separated, paths, groups and levels as quoted
    /// JSON, an error as quoted text.
    ///
    /// [`Batch::csv_header`]: super::Batch::csv_header
    pub fn write_csv(&self, out: &mut String, levels: bool) {
        match self.start {
            Start::Node(id) => {
                let _ = write!(out, "{id},");
            }
            Start::Pair(a, b) => {
                let _ = write!(out, "{a},{b},");
            }
        }
        let quoted = |s: &str| format!("\"{}\"", s.replace('"', "\"\""));
        match &self.outcome {
            Outcome::Traversal {
                answer,
                partial,
                levels: l,
            } => {
                match answer {
                    Answer::Count(n) => {
                        let _ = write!(out, "{n}");
                        if levels {
                            let text = l.as_ref().map_or(String::new(), |l| {
                                l.iter().map(u64::to_string).collect::<Vec<_>>().join(";")
                            });
                            let _ = write!(out, ",{text}");
                        }
                    }
                    Answer::Nodes(n) => {
                        let text: Vec<String> = n.iter().map(u64::to_string).collect();
                        out.push_str(&text.join(";"));
                    }
                    Answer::Paths(p) => out.push_str(&quoted(&p.to_json())),
                    Answer::Groups(g) => out.push_str(&quoted(&g.to_json())),
                }
                let _ = writeln!(out, ",{partial},");
            }
            Outcome::ShortestPath {
                length,
                paths,
                partial,
            } => {
                let length = length.map_or(String::new(), |l| l.to_string());
                let _ = writeln!(out, "{length},{},{partial},", quoted(&paths.to_json()));
            }
            Outcome::Failed(e) => {
                let empty = match self.start {
                    Start::Node(_) if levels => ",,,",
                    Start::Node(_) => ",,",
                    Start::Pair(..) => ",,,",
                };
                let _ = writeln!(out, "{empty}{}", quoted(&e.replace(['\n', '\r'], " ")));
            }
        }
    }
}

/// Compact JSON of plain data.
mod json_text {
    /// A value that serialises to JSON.
    pub trait Ser {
        /// Compact JSON (`null` if it cannot be serialised, which plain data always can).
        fn to_json(&self) -> String;
    }

    impl<T: serde::Serialize> Ser for T {
        fn to_json(&self) -> String {
            serde_json::to_string(self).unwrap_or_else(|_| "null".to_string())
        }
    }
}

use json_text::Ser as _;

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    #[test]
    fn records_are_one_line_each() {
        let r = Record {
            start: Start::Node(3),
            outcome: Outcome::Traversal {
                answer: Answer::Count(7),
                partial: false,
                levels: Some(vec![1, 2, 4]),
            },
        };
        let mut s = String::new();
        r.write_json(&mut s);
        assert_eq!(
            s,
            "{\"start\":3,\"count\":7,\"partial\":false,\"levels\":[1,2,4]}\n"
        );
        s.clear();
        r.write_csv(&mut s, true);
        assert_eq!(s, "3,7,1;2;4,false,\n");
        let failed = Record {
            start: Start::Pair(1, 2),
            outcome: Outcome::Failed("a \"quoted\"\nthing".into()),
        };
        s.clear();
        failed.write_json(&mut s);
        assert_eq!(s.matches('\n').count(), 1);
        let v: Value = serde_json::from_str(&s).unwrap();
        assert_eq!(v["from"], 1);
        assert_eq!(v["error"], "a \"quoted\"\nthing");
    }
}
