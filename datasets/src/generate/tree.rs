//! `tree`: the traversal demonstrator of the label-cache article.
//!
//! One `Root`; below it a random tree of nodes labelled `A` or `B` (half each). Every edge from a
//! parent to a child is `CHILD_A` or `CHILD_B`, at random and independently of the labels, so a
//! traversal that expands `A` nodes through `CHILD_A` and `B` nodes through `CHILD_B` (the
//! article's PathExpander) must read each node's label to choose what to follow, and reaches
//! only part of the tree. `B` nodes carry a boolean `flag` (true for about a third of them),
//! the property the article's traversal counts. Children per node are uniform in
//! `1..=2 * fanout - 1` (mean `fanout`), breadth first, so depth grows as `log_fanout(nodes)`.

use rand::{RngExt, SeedableRng};
use rand_pcg::Pcg64Mcg;

use super::{
    BadParameters, Dataset, GraphSink, Kind, Node, PropertySpec, Relationship, Schema, SinkError,
    Value,
};

/// The article's tree.
#[derive(Debug, Clone, Copy)]
pub struct Tree {
    nodes: u64,
    fanout: u32,
    seed: u64,
}

/// The size of the article's traversal.
pub const ARTICLE_NODES: u64 = 140_000;

impl Tree {
    /// A tree of `nodes` nodes (the root included) with `fanout` children per node on average.
    pub fn new(nodes: u64, fanout: u32, seed: u64) -> Result<Tree, BadParameters> {
        if nodes < 1 {
            return Err(BadParameters(
                "a tree needs at least one node (its root)".to_string(),
            ));
        }
        if nodes > 1 << 31 {
            return Err(BadParameters(format!(
                "{nodes} nodes is more than the 2^31 a tree may have"
            )));
        }
        if !(1..=1000).contains(&fanout) {
            return Err(BadParameters(format!(
                "fanout {fanout} is not within 1..=1000"
            )));
        }
        Ok(Tree {
            nodes,
            fanout,
            seed,
        })
    }
}

const LABELS_A: &[&str] = &["A"];
const LABELS_B: &[&str] = &["B"];
const LABELS_ROOT: &[&str] = &["Root"];

impl Dataset for Tree {
    fn name(&self) -> &'static str {
        "tree"
    }

    fn describe(&self) -> String {
        format!(
            "tree: {} nodes, fanout {}, seed {}",
            self.nodes, self.fanout, self.seed
        )
    }

    fn schema(&self) -> Schema {
        Schema {
            labels: vec!["Root", "A", "B"],
            relationship_types: vec!["CHILD_A", "CHILD_B"],
            properties: vec![PropertySpec {
                label: "B",
                key: "flag",
                kind: Kind::Bool,
                unique: false,
                indexed: false,
            }],
        }
    }

    fn node_count(&self) -> u64 {
        self.nodes
    }

    fn relationship_count_hint(&self) -> u64 {
        self.nodes - 1
    }

    fn generate(&self, sink: &mut dyn GraphSink) -> Result<(), SinkError> {
        // Nodes: labels and flags from one stream, edges from another, so each phase can be
        // produced without holding the other.
        let mut rng = Pcg64Mcg::seed_from_u64(self.seed);
        sink.node(&Node {
            id: 0,
            labels: LABELS_ROOT,
            properties: &[],
        })?;
        for id in 1..self.nodes {
            if rng.random_bool(0.5) {
                sink.node(&Node {
                    id,
                    labels: LABELS_A,
                    properties: &[],
                })?;
            } else {
                let flag = rng.random_bool(1.0 / 3.0);
                sink.node(&Node {
                    id,
                    labels: LABELS_B,
                    properties: &[("flag", Value::Bool(flag))],
                })?;
            }
        }
        let mut rng = Pcg64Mcg::seed_from_u64(self.seed ^ 0x7265_6c61_7469_6f6e);
        let max_children = 2 * u64::from(self.fanout) - 1;
        let (mut parent, mut next) = (0u64, 1u64);
        while next < self.nodes {
            let children = rng.random_range(1..=max_children).min(self.nodes - next);
            for child in next..next + children {
                let rel_type = if rng.random_bool(0.5) {
                    "CHILD_A"
                } else {
                    "CHILD_B"
                };
                sink.relationship(Relationship {
                    rel_type,
                    start: parent,
                    end: child,
                })?;
            }
            next += children;
            parent += 1;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generate::testing::Collect;

    #[test]
    fn a_tree_is_a_tree() {
        let tree = Tree::new(10_000, 4, 7).unwrap();
        let g = Collect::run(&tree);
        assert_eq!(g.nodes.len(), 10_000);
        assert_eq!(g.rels.len(), 9_999);
        // Every node but the root has exactly one parent, which comes before it.
        let mut parents = vec![0u32; 10_000];
        for r in &g.rels {
            assert!(r.start < r.end, "{r:?}");
            parents[r.end as usize] += 1;
        }
        assert_eq!(parents[0], 0);
        assert!(parents[1..].iter().all(|&p| p == 1));
        let a = g.nodes.iter().filter(|n| n.labels == ["A"]).count();
        let b = g.nodes.iter().filter(|n| n.labels == ["B"]).count();
        assert_eq!(a + b, 9_999);
        assert!((4_500..5_500).contains(&a), "{a} A nodes");
        let flags = g
            .nodes
            .iter()
            .filter(|n| n.properties == [("flag".to_string(), Value::Bool(true))])
            .count();
        assert!((b / 4..b / 2).contains(&flags), "{flags} of {b}");
        let child_a = g.rels.iter().filter(|r| r.rel_type == "CHILD_A").count();
        assert!((4_500..5_500).contains(&child_a));
    }

    #[test]
    fn same_seed_same_tree_other_seed_other_tree() {
        let one = Collect::run(&Tree::new(2_000, 3, 1).unwrap());
        let again = Collect::run(&Tree::new(2_000, 3, 1).unwrap());
        let other = Collect::run(&Tree::new(2_000, 3, 2).unwrap());
        assert_eq!(one, again);
        assert_ne!(one, other);
    }

    #[test]
    fn bad_sizes_are_refused() {
        assert!(Tree::new(0, 4, 1).is_err());
        assert!(Tree::new(10, 0, 1).is_err());
        let single = Collect::run(&Tree::new(1, 4, 1).unwrap());
        assert_eq!((single.nodes.len(), single.rels.len()), (1, 0));
    }
}
