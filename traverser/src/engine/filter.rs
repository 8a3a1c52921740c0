//! Parsers for APOC's filter mini-languages: `relationshipFilter`, `labelFilter` and `sequence`.
//!
//! They produce names, not codes; [`super::plan`] resolves names against a snapshot. Syntax
//! errors name the filter, the offending entry and what was expected.

use std::fmt;

/// A direction in a relationship filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dir {
    /// `TYPE>`
    Out,
    /// `<TYPE`
    In,
    /// `TYPE`
    Both,
}

/// One entry of a relationship filter step: a type (or any type) in a direction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RelEntry {
    /// The type name; `None` for a bare `>`, `<` or `*`: any type.
    pub name: Option<String>,
    /// The direction.
    pub dir: Dir,
}

/// A relationship filter: a sequence of steps, each a set of alternatives. One step (no `,`)
/// applies at every depth; several repeat, step `i` applying to the `i`-th hop modulo their
/// number. An empty step means every type in both directions.
pub type RelFilter = Vec<Vec<RelEntry>>;

/// A set of labels a node must all have (`A:B`), or `*` (any node).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Compound {
    /// Every node (APOC's `*`).
    Any,
    /// Nodes with all of these labels.
    All(Vec<String>),
}

/// One step of a label filter: its four lists.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LabelStep {
    /// `+L` (or a bare `L`): allowed.
    pub allow: Vec<Compound>,
    /// `-L`: denied.
    pub deny: Vec<Compound>,
    /// `/L`: terminator nodes.
    pub terminator: Vec<Compound>,
    /// `>L`: end nodes.
    pub end: Vec<Compound>,
}

/// A syntax error in a filter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilterError {
    /// Which request key held the filter.
    pub field: &'static str,
    /// What was wrong.
    pub message: String,
}

impl fmt::Display for FilterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

impl std::error::Error for FilterError {}

/// Splits `s` on `sep` outside backticks.
fn split_outside_backticks(s: &str, sep: char) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut quoted = false;
    let mut start = 0;
    for (i, c) in s.char_indices() {
        if c == '`' {
            quoted = !quoted;
        } else if c == sep && !quoted {
            parts.push(&s[start..i]);
            start = i + c.len_utf8();
        }
    }
    parts.push(&s[start..]);
    parts
}

/// Reads a name, backticked (with ``` `` ``` for a backtick) or bare, and returns it with the
/// rest of the input.
fn name<'a>(field: &'static str, s: &'a str) -> Result<(String, &'a str), FilterError> {
    let err = |message: String| FilterError { field, message };
    if let Some(rest) = s.strip_prefix('`') {
        let mut out = String::new();
        let mut chars = rest.char_indices().peekable();
        while let Some((i, c)) = chars.next() {
            if c == '`' {
                if let Some((_, '`')) = chars.peek() {
                    out.push('`');
                    chars.next();
                    continue;
                }
                if out.is_empty() {
                    return Err(err("an empty quoted name ``".into()));
                }
                return Ok((out, &rest[i + 1..]));
            }
            out.push(c);
        }
        Err(err(format!("unclosed backtick in `{s}")))
    } else {
        // As APOC reads a label: `\:` is a `:` of the name, not a separator of a compound.
        let mut out = String::new();
        let mut end = s.len();
        let mut chars = s.char_indices().peekable();
        while let Some((i, c)) = chars.next() {
            match c {
                '\\' if matches!(chars.peek(), Some((_, ':'))) => {
                    out.push(':');
                    chars.next();
                }
                '<' | '>' | ':' | '`' => {
                    end = i;
                    break;
                }
                c => out.push(c),
            }
        }
        let n = out.trim();
        if n.chars().any(char::is_whitespace) {
            return Err(err(format!(
                "`{n}` has a space: quote names like that with backticks"
            )));
        }
        Ok((n.to_string(), &s[end..]))
    }
}

/// Parses a `relationshipFilter` (or a relationship step of a `sequence`).
pub fn relationship_filter(field: &'static str, s: &str) -> Result<RelFilter, FilterError> {
    split_outside_backticks(s, ',')
        .into_iter()
        .map(|step| relationship_step(field, step))
        .collect()
}

pub(crate) fn relationship_step(
    field: &'static str,
    step: &str,
) -> Result<Vec<RelEntry>, FilterError> {
    let mut entries = Vec::new();
    let mut alternatives = split_outside_backticks(step, '|');
    // As in APOC (Java's split): a trailing empty alternative is dropped, and an inner or
    // leading one means every relationship in both directions.
    while alternatives.len() > 1 && alternatives.last().is_some_and(|a| a.trim().is_empty()) {
        alternatives.pop();
    }
    let many = alternatives.len() > 1;
    for raw in alternatives {
        let e = raw.trim();
        if e.is_empty() {
            if many {
                entries.push(RelEntry {
                    name: None,
                    dir: Dir::Both,
                });
            }
            continue;
        }
        let (incoming, rest) = match e.strip_prefix('<') {
            Some(r) => (true, r.trim_start()),
            None => (false, e),
        };
        let (n, rest) = if rest.starts_with('>') || rest.is_empty() {
            (String::new(), rest)
        } else {
            name(field, rest)?
        };
        let rest = rest.trim();
        let outgoing = match rest {
            "" => false,
            ">" => true,
            _ => {
                return Err(FilterError {
                    field,
                    message: format!(
                        "cannot read `{e}`: expected TYPE>, <TYPE, TYPE, > or < between the `|`s"
                    ),
                });
            }
        };
        let dir = match (incoming, outgoing) {
            (true, false) => Dir::In,
            (false, true) => Dir::Out,
            (false, false) => Dir::Both,
            (true, true) => {
                return Err(FilterError {
                    field,
                    message: format!(
                        "`{e}` points both ways: write the type with no arrow for both directions"
                    ),
                });
            }
        };
        let name = match n.as_str() {
            "" | "*" => None,
            _ => Some(n),
        };
        if name.is_none() && dir == Dir::Both && e != "*" {
            return Err(FilterError {
                field,
                message: format!("`{e}` names no type"),
            });
        }
        entries.push(RelEntry { name, dir });
    }
    Ok(entries)
}

/// Parses a `labelFilter` (or a label step of a `sequence`).
pub fn label_filter(field: &'static str, s: &str) -> Result<Vec<LabelStep>, FilterError> {
    split_outside_backticks(s, ',')
        .into_iter()
        .map(|step| label_step(field, step))
        .collect()
}

pub(crate) fn label_step(field: &'static str, step: &str) -> Result<LabelStep, FilterError> {
    let mut out = LabelStep::default();
    for raw in split_outside_backticks(step, '|') {
        let e = raw.trim();
        if e.is_empty() {
            continue;
        }
        let (list, body) = match e.as_bytes()[0] {
            b'+' => (&mut out.allow, &e[1..]),
            b'-' => (&mut out.deny, &e[1..]),
            b'/' => (&mut out.terminator, &e[1..]),
            b'>' => (&mut out.end, &e[1..]),
            _ => (&mut out.allow, e),
        };
        list.push(compound(field, body.trim(), e)?);
    }
    Ok(out)
}

fn compound(field: &'static str, body: &str, entry: &str) -> Result<Compound, FilterError> {
    if body == "*" {
        return Ok(Compound::Any);
    }
    let mut labels = Vec::new();
    // APOC takes `:Person` for `Person`.
    let mut rest = body.strip_prefix(':').unwrap_or(body);
    loop {
        let (n, r) = name(field, rest.trim_start())?;
        if n.is_empty() {
            return Err(FilterError {
                field,
                message: format!("`{entry}` names no label"),
            });
        }
        labels.push(n);
        let r = r.trim_start();
        match r.strip_prefix(':') {
            Some(r) => rest = r,
            None if r.is_empty() => break,
            None => {
                return Err(FilterError {
                    field,
                    message: format!("cannot read `{entry}`: unexpected `{r}`"),
                });
            }
        }
    }
    Ok(Compound::All(labels))
}

/// A `sequence`: alternating label and relationship steps, starting with labels
/// (`"A,FOO>,B,<BAR"`), or with a relationship step when the sequence does not begin at the
/// start node (`"H>,A,FOO>,B,<BAR"`).
pub fn sequence(s: &str, begin_at_start: bool) -> Result<(Vec<LabelStep>, RelFilter), FilterError> {
    let field = "sequence";
    let parts = split_outside_backticks(s, ',');
    let mut labels = Vec::new();
    let mut rels = Vec::new();
    for (i, part) in parts.into_iter().enumerate() {
        if (i % 2 == 0) == begin_at_start {
            labels.push(label_step(field, part)?);
        } else {
            rels.push(relationship_step(field, part)?);
        }
    }
    if rels.is_empty() {
        return Err(FilterError {
            field,
            message: "a sequence needs at least one relationship step: `Label,TYPE>,...`".into(),
        });
    }
    if labels.is_empty() {
        labels.push(LabelStep::default());
    }
    Ok((labels, rels))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(name: Option<&str>, dir: Dir) -> RelEntry {
        RelEntry {
            name: name.map(str::to_string),
            dir,
        }
    }

    #[test]
    fn relationship_filters_parse_apoc_syntax() {
        let f = relationship_filter("relationshipFilter", "CHILD_A>|<CHILD_B| LEAF ,>|<").unwrap();
        assert_eq!(
            f,
            vec![
                vec![
                    e(Some("CHILD_A"), Dir::Out),
                    e(Some("CHILD_B"), Dir::In),
                    e(Some("LEAF"), Dir::Both)
                ],
                vec![e(None, Dir::Out), e(None, Dir::In)],
            ]
        );
        assert_eq!(relationship_filter("r", "").unwrap(), vec![vec![]]);
        assert_eq!(
            relationship_filter("r", "`odd, type|x`>|`a``b`").unwrap(),
            vec![vec![
                e(Some("odd, type|x"), Dir::Out),
                e(Some("a`b"), Dir::Both)
            ]]
        );
    }

    #[test]
    fn bad_relationship_filters_name_the_entry() {
        for bad in ["<T>", "T>>", "`open>", "A B>", "T>x"] {
            let err = relationship_filter("relationshipFilter", bad).unwrap_err();
            assert_eq!(err.field, "relationshipFilter");
            assert!(!err.message.is_empty(), "{bad}");
        }
    }

    #[test]
    fn label_filters_parse_all_four_lists_and_compounds() {
        let f = label_filter("labelFilter", "+A|-B:C|/D|>E|F,*").unwrap();
        let all = |l: &[&str]| Compound::All(l.iter().map(|s| s.to_string()).collect());
        assert_eq!(f[0].allow, vec![all(&["A"]), all(&["F"])]);
        assert_eq!(f[0].deny, vec![all(&["B", "C"])]);
        assert_eq!(f[0].terminator, vec![all(&["D"])]);
        assert_eq!(f[0].end, vec![all(&["E"])]);
        assert_eq!(f[1].allow, vec![Compound::Any]);
        assert!(label_filter("labelFilter", "+A:").is_err());
        assert!(label_filter("labelFilter", "+").is_err());
    }

    #[test]
    fn escaped_colons_are_part_of_a_label_as_in_apoc() {
        let all = |l: &[&str]| Compound::All(l.iter().map(|s| s.to_string()).collect());
        let f = label_filter("labelFilter", r"/http\://www.w3.org/2002/07/owl#Class").unwrap();
        assert_eq!(
            f[0].terminator,
            vec![all(&["http://www.w3.org/2002/07/owl#Class"])]
        );
        let f = label_filter("labelFilter", r"+foo\:bar|-foo\:bar:Baz|>:Person").unwrap();
        assert_eq!(f[0].allow, vec![all(&["foo:bar"])]);
        assert_eq!(f[0].deny, vec![all(&["foo:bar", "Baz"])]);
        assert_eq!(f[0].end, vec![all(&["Person"])]);
        // A backslash before anything else stays.
        let f = label_filter("labelFilter", r"+a\b").unwrap();
        assert_eq!(f[0].allow, vec![all(&[r"a\b"])]);
    }

    #[test]
    fn sequences_alternate_labels_and_relationships() {
        let (labels, rels) = sequence("A,FOO>,B,<BAR", true).unwrap();
        assert_eq!(labels.len(), 2);
        assert_eq!(
            rels,
            vec![
                vec![e(Some("FOO"), Dir::Out)],
                vec![e(Some("BAR"), Dir::In)]
            ]
        );
        let (labels, rels) = sequence("H>,A,FOO>,B,<BAR", false).unwrap();
        assert_eq!(labels.len(), 2);
        assert_eq!(rels.len(), 3);
        assert_eq!(rels[0], vec![e(Some("H"), Dir::Out)]);
        assert!(sequence("A", true).is_err());
    }

    #[test]
    fn empty_alternatives_follow_apoc() {
        assert_eq!(
            relationship_filter("r", "|K>").unwrap(),
            vec![vec![e(None, Dir::Both), e(Some("K"), Dir::Out)]]
        );
        assert_eq!(
            relationship_filter("r", "K>|").unwrap(),
            vec![vec![e(Some("K"), Dir::Out)]]
        );
    }
}
