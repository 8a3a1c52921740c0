//! Work-arounds for two statements `open-cypher` 0.5 refuses though Neo4j accepts them, tried
//! only after a parse fails and kept only if the rewritten statement parses:
//!
//! - `collect(x)` in a statement that also has a `CASE` ("unexpected token `(`; expected `{`":
//!   the parser takes it for a `COLLECT { }` subquery): the function name is backticked,
//!   `` `collect`(x) ``, which means the same function.
//! - `EXISTS { (a)-->(:L) }` and `COUNT { ... }` whose body is a bare pattern ending in a
//!   labelled node ("unexpected token `label predicate`"): `MATCH ` is inserted, which is the
//!   same subquery.
//!
//! Spans of the rewritten text are mapped back to the statement as written ([`Rewrite::orig`]),
//! so column names, line and column numbers are the user's.

/// A rewritten statement and where text was inserted.
#[derive(Debug, Clone, Default)]
pub(crate) struct Rewrite {
    pub text: String,
    /// `(position in the rewritten text, inserted length)`, ascending.
    inserts: Vec<(usize, usize)>,
}

impl Rewrite {
    /// The identity: no rewriting.
    pub fn none(text: &str) -> Rewrite {
        Rewrite {
            text: text.to_owned(),
            inserts: Vec::new(),
        }
    }

    /// The offset in the original statement of offset `pos` in the rewritten one.
    pub fn orig(&self, pos: usize) -> usize {
        let mut shift = 0;
        for &(at, len) in &self.inserts {
            if pos >= at + len {
                shift += len;
            } else if pos > at {
                shift += pos - at;
            }
        }
        pos - shift
    }
}

/// The statement with both work-arounds applied, or `None` when neither applies.
pub(crate) fn rewrite(text: &str) -> Option<Rewrite> {
    let mut out = String::with_capacity(text.len() + 16);
    let mut inserts = Vec::new();
    let bytes = text.as_bytes();
    let mut i = 0;
    let mut quote: Option<u8> = None;
    while i < bytes.len() {
        let c = bytes[i];
        if let Some(q) = quote {
            out.push(c as char);
            if c == b'\\' && q != b'`' && i + 1 < bytes.len() {
                i += 1;
                push_char(text, &mut i, &mut out);
                continue;
            }
            if c == q {
                quote = None;
            }
            i += 1;
            continue;
        }
        if c == b'\'' || c == b'"' || c == b'`' {
            quote = Some(c);
            out.push(c as char);
            i += 1;
            continue;
        }
        let word_start = i == 0 || !is_ident(bytes[i - 1]);
        if word_start && starts_word(bytes, i, b"collect") {
            let after = skip_ws(bytes, i + 7);
            if bytes.get(after) == Some(&b'(') {
                inserts.push((out.len(), 1));
                out.push('`');
                out.push_str(&text[i..i + 7]);
                inserts.push((out.len(), 1));
                out.push('`');
                i += 7;
                continue;
            }
        }
        if word_start && (starts_word(bytes, i, b"exists") || starts_word(bytes, i, b"count")) {
            let len = if starts_word(bytes, i, b"exists") {
                6
            } else {
                5
            };
            let brace = skip_ws(bytes, i + len);
            if bytes.get(brace) == Some(&b'{') {
                let body = skip_ws(bytes, brace + 1);
                if bytes.get(body) == Some(&b'(') {
                    out.push_str(&text[i..body]);
                    inserts.push((out.len(), 6));
                    out.push_str("MATCH ");
                    i = body;
                    continue;
                }
            }
        }
        push_char(text, &mut i, &mut out);
    }
    (!inserts.is_empty()).then_some(Rewrite { text: out, inserts })
}

fn push_char(text: &str, i: &mut usize, out: &mut String) {
    let ch = text[*i..].chars().next().unwrap_or(' ');
    out.push(ch);
    *i += ch.len_utf8();
}

fn is_ident(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b >= 0x80
}

fn starts_word(bytes: &[u8], i: usize, word: &[u8]) -> bool {
    bytes.len() >= i + word.len()
        && bytes[i..i + word.len()].eq_ignore_ascii_case(word)
        && bytes.get(i + word.len()).is_none_or(|&b| !is_ident(b))
}

fn skip_ws(bytes: &[u8], mut i: usize) -> usize {
    while bytes.get(i).is_some_and(|b| b.is_ascii_whitespace()) {
        i += 1;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_rewrites_map_back_to_the_written_text() {
        let q = "RETURN CASE WHEN true THEN 1 END AS c, collect(1) AS l, 'collect(' AS s";
        let r = rewrite(q).unwrap();
        assert_eq!(
            r.text,
            "RETURN CASE WHEN true THEN 1 END AS c, `collect`(1) AS l, 'collect(' AS s"
        );
        let at = r.text.find('`').unwrap();
        let end = r.text.find(") AS l").unwrap() + 1;
        assert_eq!(&q[r.orig(at)..r.orig(end)], "collect(1)");
        let q = "MATCH (a) WHERE EXISTS { (a)-->(:L) } RETURN a";
        let r = rewrite(q).unwrap();
        assert_eq!(
            r.text,
            "MATCH (a) WHERE EXISTS { MATCH (a)-->(:L) } RETURN a"
        );
        let ret = r.text.find("RETURN").unwrap();
        assert_eq!(r.orig(ret), q.find("RETURN").unwrap());
        assert!(rewrite("MATCH (a) RETURN count(a)").is_none());
    }
}
