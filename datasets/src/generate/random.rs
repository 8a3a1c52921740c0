//! `random`: random graphs for differential tests.
//!
//! Nodes carry one to three of `labels` labels (`L0`, `L1`, ...); relationships pick a type from
//! `types` types (`T0`, `T1`, ...) and random endpoints, with a share of self-loops and of
//! parallel relationships (a copy of an earlier relationship's endpoints and type) so that the
//! awkward cases of uniqueness and direction are always present. Every label carries the same
//! typed properties, each missing (null) on about a fifth of the nodes: `key` (an int, unique
//! over all nodes), `score` (int), `weight` (float), `flag` (bool) and `name` (string).

use rand::{RngExt, SeedableRng};
use rand_pcg::Pcg64Mcg;

use super::{
    BadParameters, Dataset, GraphSink, Kind, Node, PropertySpec, Relationship, Schema, SinkError,
    Value,
};

/// A random multigraph.
#[derive(Debug, Clone, Copy)]
pub struct Random {
    nodes: u64,
    degree: f64,
    labels: u32,
    types: u32,
    seed: u64,
}

/// Label names, so that schemas can hold `&'static str`.
const LABELS: [&str; 8] = ["L0", "L1", "L2", "L3", "L4", "L5", "L6", "L7"];
/// Relationship type names.
const TYPES: [&str; 8] = ["T0", "T1", "T2", "T3", "T4", "T5", "T6", "T7"];
/// Share of relationships that are self-loops.
const SELF_LOOPS: f64 = 0.03;
/// Share of relationships that repeat an earlier one's endpoints and type.
const PARALLEL: f64 = 0.05;
/// Share of nodes missing each property.
const NULLS: f64 = 0.2;

impl Random {
    /// `nodes` nodes with `degree` outgoing relationships each on average, `labels` labels
    /// (1..=8) and `types` relationship types (1..=8).
    pub fn new(
        nodes: u64,
        degree: f64,
        labels: u32,
        types: u32,
        seed: u64,
    ) -> Result<Random, BadParameters> {
        if !(1..=1 << 31).contains(&nodes) {
            return Err(BadParameters(format!(
                "{nodes} nodes is not within 1..=2^31"
            )));
        }
        if !degree.is_finite() || !(0.0..=1000.0).contains(&degree) {
            return Err(BadParameters(format!(
                "degree {degree} is not within 0..=1000"
            )));
        }
        if !(1..=8).contains(&labels) || !(1..=8).contains(&types) {
            return Err(BadParameters(format!(
                "{labels} labels and {types} types: each must be within 1..=8"
            )));
        }
        Ok(Random {
            nodes,
            degree,
            labels,
            types,
            seed,
        })
    }

    fn relationships(&self) -> u64 {
        (self.nodes as f64 * self.degree).round() as u64
    }
}

impl Dataset for Random {
    fn name(&self) -> &'static str {
        "random"
    }

    fn describe(&self) -> String {
        format!(
            "random: {} nodes, degree {}, {} labels, {} types, seed {}",
            self.nodes, self.degree, self.labels, self.types, self.seed
        )
    }

    fn schema(&self) -> Schema {
        let labels: Vec<&'static str> = LABELS[..self.labels as usize].to_vec();
        let mut properties = Vec::new();
        for &label in &labels {
            for (key, kind) in [
                ("key", Kind::Int),
                ("score", Kind::Int),
                ("weight", Kind::Float),
                ("flag", Kind::Bool),
                ("name", Kind::Str),
            ] {
                properties.push(PropertySpec {
                    label,
                    key,
                    kind,
                    unique: false,
                    indexed: key == "key",
                });
            }
        }
        Schema {
            labels,
            relationship_types: TYPES[..self.types as usize].to_vec(),
            properties,
        }
    }

    fn node_count(&self) -> u64 {
        self.nodes
    }

    fn relationship_count_hint(&self) -> u64 {
        self.relationships()
    }

    fn generate(&self, sink: &mut dyn GraphSink) -> Result<(), SinkError> {
        let mut rng = Pcg64Mcg::seed_from_u64(self.seed);
        let k = self.labels as usize;
        let mut labels: Vec<&'static str> = Vec::with_capacity(3);
        let mut props: Vec<(&'static str, Value)> = Vec::with_capacity(5);
        for id in 0..self.nodes {
            labels.clear();
            let wanted = rng.random_range(1..=3usize.min(k));
            while labels.len() < wanted {
                let label = LABELS[rng.random_range(0..k)];
                if !labels.contains(&label) {
                    labels.push(label);
                }
            }
            labels.sort_unstable();
            props.clear();
            if !rng.random_bool(NULLS) {
                props.push(("key", Value::Int(id as i64)));
            }
            if !rng.random_bool(NULLS) {
                props.push(("score", Value::Int(rng.random_range(-50..=50))));
            }
            if !rng.random_bool(NULLS) {
                // Multiples of 1/8 round-trip exactly through any text or binary form.
                props.push((
                    "weight",
                    Value::Float(f64::from(rng.random_range(0..800u32)) / 8.0),
                ));
            }
            if !rng.random_bool(NULLS) {
                props.push(("flag", Value::Bool(rng.random_bool(0.5))));
            }
            if !rng.random_bool(NULLS) {
                props.push((
                    "name",
                    Value::Str(format!("n{}", rng.random_range(0..1000u32))),
                ));
            }
            sink.node(&Node {
                id,
                labels: &labels,
                properties: &props,
            })?;
        }
        let mut previous: Option<Relationship> = None;
        for _ in 0..self.relationships() {
            let rel = match previous {
                Some(p) if rng.random_bool(PARALLEL) => p,
                _ => {
                    let start = rng.random_range(0..self.nodes);
                    let end = if rng.random_bool(SELF_LOOPS) {
                        start
                    } else {
                        rng.random_range(0..self.nodes)
                    };
                    Relationship {
                        rel_type: TYPES[rng.random_range(0..self.types as usize)],
                        start,
                        end,
                    }
                }
            };
            sink.relationship(rel)?;
            previous = Some(rel);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generate::testing::Collect;

    #[test]
    fn holds_the_awkward_cases() {
        let g = Collect::run(&Random::new(2_000, 4.0, 4, 3, 11).unwrap());
        assert_eq!(g.nodes.len(), 2_000);
        assert_eq!(g.rels.len(), 8_000);
        let loops = g.rels.iter().filter(|r| r.start == r.end).count();
        assert!(loops >= 100, "{loops} self-loops");
        let mut pairs: Vec<_> = g
            .rels
            .iter()
            .map(|r| (r.start, r.end, r.rel_type))
            .collect();
        pairs.sort();
        let parallel = pairs.windows(2).filter(|w| w[0] == w[1]).count();
        assert!(parallel >= 200, "{parallel} parallel relationships");
        let multi = g.nodes.iter().filter(|n| n.labels.len() > 1).count();
        assert!(multi > 500, "{multi} nodes with several labels");
        let missing_key = g
            .nodes
            .iter()
            .filter(|n| !n.properties.iter().any(|(k, _)| k == "key"))
            .count();
        assert!((200..600).contains(&missing_key), "{missing_key}");
        for n in &g.nodes {
            let mut sorted = n.labels.clone();
            sorted.sort();
            sorted.dedup();
            assert_eq!(sorted, n.labels);
        }
    }

    #[test]
    fn same_seed_same_graph() {
        let a = Collect::run(&Random::new(500, 2.5, 3, 2, 5).unwrap());
        let b = Collect::run(&Random::new(500, 2.5, 3, 2, 5).unwrap());
        let c = Collect::run(&Random::new(500, 2.5, 3, 2, 6).unwrap());
        assert_eq!(a, b);
        assert_ne!(a, c);
    }

    #[test]
    fn bad_parameters_are_refused() {
        assert!(Random::new(0, 1.0, 1, 1, 0).is_err());
        assert!(Random::new(10, f64::NAN, 1, 1, 0).is_err());
        assert!(Random::new(10, 1.0, 9, 1, 0).is_err());
        assert!(Random::new(10, 1.0, 1, 0, 0).is_err());
    }
}
