//! The request language of neotrav: the JSON request and response types of the traversal
//! API, shared by the engine (in-process), the sidecar (HTTP), the client and batch jobs, so a
//! request means the same everywhere. It owns the types, their JSON form, selectors and the
//! error codes ([`ErrorCode`]); it does not answer anything. With feature `openapi` every type
//! derives `utoipa::ToSchema`.
//!
//! A traversal request is an APOC path-expander config map (`apoc.path.expandConfig`) with the
//! same keys and meaning, plus what APOC lacks: `start`, `expandByLabel`, `where`, `return`,
//! `consistency` and `budget`. `traverser/README.md` gives the semantics and every known
//! difference from APOC.
//!
//! ```
//! use neotrav_wire::{ReturnForm, TraverseRequest, Uniqueness};
//!
//! let request: TraverseRequest = serde_json::from_str(r#"{
//!     "start": 0,
//!     "relationshipFilter": "CHILD_A>|CHILD_B>",
//!     "labelFilter": "+A|+B",
//!     "uniqueness": "NODE_GLOBAL",
//!     "where": [{"label": "B", "key": "flag", "op": "=", "value": true}],
//!     "return": "count"
//! }"#).unwrap();
//! assert_eq!(request.uniqueness, Uniqueness::NodeGlobal);
//! assert_eq!(request.return_form, ReturnForm::Count);
//! ```

mod admin;
pub mod cypher;
mod error;
pub mod fields;
mod request;
mod response;
mod selector;

pub use admin::{
    InvalidateRequest, InvalidateResponse, ReloadFailure, ReloadRequest, SnapshotInfo,
};
pub use error::{ErrorBody, ErrorCode, ErrorDetail};
pub use request::{
    Budget, Consistency, NeighborsRequest, OnExceed, ReturnForm, ShortestPathRequest,
    TraverseRequest, Uniqueness,
};
pub use response::{
    Answer, AnsweredBy, BudgetName, Groups, Path, ShortestPathResponse, Stats, TraverseResponse,
    Watermark,
};
pub use selector::{BadElementId, NodeSelector, OneOrMany, Op, Predicate, Scalar, element_id};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lenient_request_drops_only_the_keys_it_does_not_know() {
        let read = |t: &str| TraverseRequest::from_json(t.as_bytes());
        let r = read(r#"{"start": 1, "pathFilter": {"a": [1]}, "lenient": true, "maxLevel": 2}"#)
            .unwrap();
        assert_eq!((r.max_level, r.lenient), (2, true));
        assert_eq!(r.ignored_keys, ["pathFilter"]);
        // Strict unless `lenient` is the boolean true.
        for t in [
            r#"{"start": 1, "pathFilter": 1}"#,
            r#"{"start": 1, "pathFilter": 1, "lenient": "true"}"#,
            r#"{"start": 1, "pathFilter": 1, "lenient": false}"#,
        ] {
            let e = read(t).unwrap_err().to_string();
            assert!(e.contains("unknown field `pathFilter`"), "{t}: {e}");
        }
        // A known key's error, and a key given twice, stand.
        let e = read(r#"{"start": 1, "x": 1, "lenient": true, "bfs": 3}"#).unwrap_err();
        assert!(e.to_string().contains("invalid type"), "{e}");
        let e = read(r#"{"start": 1, "x": 1, "lenient": true, "bfs": true, "bfs": false}"#);
        assert!(e.unwrap_err().to_string().contains("duplicate field"));
    }

    #[test]
    fn the_issue_example_parses_with_every_key() {
        let r: TraverseRequest = serde_json::from_str(
            r#"{ "start": [123, 456],
              "relationshipFilter": "CHILD_A>|CHILD_B>", "labelFilter": "+A|+B|>B",
              "minLevel": 0, "maxLevel": -1, "uniqueness": "NODE_GLOBAL", "bfs": false, "limit": -1,
              "where": [{"label": "B", "key": "flag", "op": "=", "value": true}],
              "return": "count", "consistency": "snapshot",
              "budget": {"maxVisited": 10000000, "deadlineMs": 2000, "onExceed": "error"} }"#,
        )
        .unwrap();
        assert_eq!(
            r.start.as_slice(),
            &[NodeSelector::Id(123), NodeSelector::Id(456)]
        );
        assert!(!r.bfs);
        assert_eq!(
            r.predicates[0].value,
            Some(OneOrMany::One(Scalar::Bool(true)))
        );
        assert_eq!(r.budget.max_visited, Some(10_000_000));
        let back: TraverseRequest =
            serde_json::from_str(&serde_json::to_string(&r).unwrap()).unwrap();
        assert_eq!(back, r);
    }

    #[test]
    fn an_unknown_uniqueness_is_an_error_that_lists_the_choices() {
        let e = serde_json::from_str::<TraverseRequest>(
            r#"{"start": 1, "uniqueness": "NODE_SOMETIMES"}"#,
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("NODE_SOMETIMES") && e.contains("NODE_GLOBAL"),
            "{e}"
        );
    }

    #[test]
    fn an_unknown_key_is_an_error() {
        let e = serde_json::from_str::<TraverseRequest>(r#"{"start": 1, "maxDepht": 3}"#)
            .unwrap_err()
            .to_string();
        assert!(e.contains("maxDepht"), "{e}");
    }

    #[test]
    fn return_forms_and_answers_have_the_documented_shapes() {
        let g: ReturnForm = serde_json::from_str(r#"{"groupBy": {"key": "year"}}"#).unwrap();
        assert_eq!(
            g,
            ReturnForm::GroupBy {
                key: "year".into(),
                label: None
            }
        );
        let response = TraverseResponse {
            answer: Answer::Groups(Groups(vec![("1999".into(), 3), ("2000".into(), 1)])),
            partial: false,
            stats: Stats::default(),
        };
        let json = serde_json::to_value(&response).unwrap();
        assert_eq!(json["groups"]["1999"], 3);
        let back: TraverseResponse = serde_json::from_value(json).unwrap();
        assert_eq!(back, response);
        let count = serde_json::to_value(TraverseResponse {
            answer: Answer::Count(7),
            partial: true,
            stats: Stats::default(),
        })
        .unwrap();
        assert_eq!(count["count"], 7);
        assert_eq!(count["partial"], true);
    }

    #[test]
    fn start_nodes_may_be_ids_element_ids_or_key_lookups() {
        let s: Vec<NodeSelector> = serde_json::from_str(
            r#"[7, "4:c0a8:7", {"label": "Artist", "key": "name", "value": "Björk"}, {"label": "Root"}]"#,
        )
        .unwrap();
        assert_eq!(s[0], NodeSelector::Id(7));
        assert_eq!(s[1], NodeSelector::ElementId("4:c0a8:7".into()));
        assert!(
            matches!(&s[2], NodeSelector::Key { value: Scalar::String(v), .. } if v == "Björk")
        );
    }
}
