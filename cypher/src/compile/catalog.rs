//! The snapshot's names, and whether a key was exported for a node's labels.

use hashbrown::HashMap;
use neotrav_snapshot::Snapshot;
use open_cypher::Span;

use super::{Compiler, Kind, R, Scope};

/// The snapshot's names, looked up once.
pub(super) struct Catalog {
    pub(super) labels: HashMap<String, u32>,
    pub(super) types: HashMap<String, u32>,
    /// key -> label codes it was exported for.
    pub(super) keys: HashMap<String, Vec<u32>>,
}

impl Catalog {
    pub(super) fn of<D: AsRef<[u8]>>(s: &Snapshot<D>) -> Catalog {
        let h = s.header();
        // The snapshot's own answer per key (opening checks that all of a key's kind-columns
        // cover the same labels).
        let mut keys: HashMap<String, Vec<u32>> = HashMap::new();
        for c in &h.columns {
            if !keys.contains_key(&c.key)
                && let Some(p) = s.property(&c.key)
            {
                keys.insert(c.key.clone(), p.labels().collect());
            }
        }
        Catalog {
            labels: h
                .labels
                .iter()
                .enumerate()
                .map(|(i, l)| (l.clone(), i as u32))
                .collect(),
            types: h
                .relationship_types
                .iter()
                .enumerate()
                .map(|(i, t)| (t.clone(), i as u32))
                .collect(),
            keys,
        }
    }
}

impl Compiler<'_> {
    pub(super) fn check_prop_known(
        &self,
        slot: usize,
        prop: usize,
        scope: &Scope,
        span: Span,
    ) -> R<()> {
        let key = &self.props[prop];
        let labels = scope
            .values()
            .find(|v| v.slot == slot)
            .and_then(|v| match &v.kind {
                Kind::Node(l) => Some(l.clone()),
                _ => None,
            });
        if let Some(labels) = labels
            && !labels.is_empty()
            && !self.key_covers(key, &labels)
        {
            return Err(self.forward(
                span,
                key,
                format!("property `{key}` was not exported for these labels"),
            ));
        }
        Ok(())
    }

    pub(super) fn key_covers(&self, key: &str, labels: &[u32]) -> bool {
        self.snap
            .keys
            .get(key)
            .is_some_and(|ls| labels.iter().any(|l| ls.contains(l)))
    }
}
