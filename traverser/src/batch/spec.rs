//! [`Spec`]: what every start of a batch runs, read from a JSON file as a traversal or a
//! shortest-path request whose start (or ends) each start fills in.

use neotrav_wire::{ShortestPathRequest, TraverseRequest};
use serde_json::Value;

use super::BatchError;

/// What every start of a batch runs.
#[derive(Debug, Clone, PartialEq)]
// One spec is read per batch and lent to every start: its size does not matter.
#[allow(clippy::large_enum_variant)]
pub enum Spec {
    /// A traversal; its `start` is replaced by each start in turn.
    Traverse(TraverseRequest),
    /// A shortest-path search; its `from` and `to` are replaced by each pair in turn.
    ShortestPath(ShortestPathRequest),
}

impl Spec {
    /// Reads a spec: a JSON object in the traversal request language (`start` may be left out
    /// and is ignored), or a shortest-path request (`from`/`to` left out and ignored). The kind
    /// is `"kind": "traverse"` or `"kind": "shortestPath"`; without `kind`, an object with a
    /// `from` or `to` key is a shortest path and anything else a traversal.
    pub fn from_json(text: &str) -> Result<Spec, BatchError> {
        let bad = |m: String| BatchError::Spec(m);
        let mut v: Value =
            serde_json::from_str(text).map_err(|e| bad(format!("not valid JSON: {e}")))?;
        let obj = v
            .as_object_mut()
            .ok_or_else(|| bad("must be a JSON object (a traversal request)".to_string()))?;
        let shortest = match obj.remove("kind") {
            None => obj.contains_key("from") || obj.contains_key("to"),
            Some(Value::String(k)) if k == "traverse" => false,
            Some(Value::String(k)) if k == "shortestPath" => true,
            Some(other) => {
                return Err(bad(format!(
                    "kind: {other} is neither \"traverse\" nor \"shortestPath\""
                )));
            }
        };
        if shortest {
            obj.insert("from".into(), Value::from(0));
            obj.insert("to".into(), Value::from(0));
            serde_json::from_value(v)
                .map(Spec::ShortestPath)
                .map_err(|e| bad(format!("not a shortest-path request: {e}")))
        } else {
            obj.insert("start".into(), Value::from(0));
            serde_json::from_value(v)
                .map(Spec::Traverse)
                .map_err(|e| bad(format!("not a traversal request: {e}")))
        }
    }

    /// Whether each start is a pair of nodes.
    pub fn takes_pairs(&self) -> bool {
        matches!(self, Spec::ShortestPath(_))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_say_their_kind() {
        assert!(matches!(
            Spec::from_json(r#"{"maxLevel": 2, "return": "count"}"#).unwrap(),
            Spec::Traverse(_)
        ));
        assert!(matches!(
            Spec::from_json(r#"{"start": 5, "maxLevel": 2}"#).unwrap(),
            Spec::Traverse(_)
        ));
        assert!(
            Spec::from_json(r#"{"kind": "shortestPath", "maxLevel": 4}"#)
                .unwrap()
                .takes_pairs()
        );
        assert!(
            Spec::from_json(r#"{"from": 1, "to": 2}"#)
                .unwrap()
                .takes_pairs()
        );
        let e = Spec::from_json(r#"{"maxLevl": 2}"#)
            .unwrap_err()
            .to_string();
        assert!(e.contains("maxLevl"), "{e}");
        let e = Spec::from_json(r#"{"kind": "bfs"}"#)
            .unwrap_err()
            .to_string();
        assert!(e.contains("kind"), "{e}");
        assert!(Spec::from_json("[1]").is_err());
        assert!(Spec::from_json("{").is_err());
    }
}
