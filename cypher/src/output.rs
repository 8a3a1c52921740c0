//! Rows to answers: snapshot values in the Query API's value model.

use neotrav_wire::cypher::{Node, Path, Relationship, Value};

use crate::exec::Ctx;
use crate::value::{Rel, Val};

impl Ctx<'_> {
    /// A value as the answer carries it: nodes with their labels and exported properties,
    /// relationships with their ends and type.
    pub fn output(&self, v: &Val) -> Value {
        match v {
            Val::Null => Value::Null,
            Val::Bool(b) => Value::Bool(*b),
            Val::Int(i) => Value::Int(*i),
            Val::Float(f) => Value::Float(*f),
            Val::Str(s) => Value::String(s.to_string()),
            Val::List(l) => Value::List(l.iter().map(|x| self.output(x)).collect()),
            Val::Map(m) => Value::Map(
                m.iter()
                    .map(|(k, x)| (k.to_string(), self.output(x)))
                    .collect(),
            ),
            Val::Node(n) => Value::Node(self.node(*n)),
            Val::Rel(r) => Value::Relationship(self.relationship(r)),
            Val::Path(p) => Value::Path(Path {
                nodes: p.nodes.iter().map(|&n| self.node(n)).collect(),
                relationships: p.rels.iter().map(|r| self.relationship(r)).collect(),
            }),
        }
    }

    fn node(&self, n: u32) -> Node {
        Node {
            element_id: self.node_element_id(n),
            labels: self.labels_of(n).into_iter().map(str::to_owned).collect(),
            properties: self
                .node_properties(n)
                .into_iter()
                .map(|(k, v)| (k, self.output(&v)))
                .collect(),
        }
    }

    fn relationship(&self, r: &Rel) -> Relationship {
        Relationship {
            element_id: self.rel_element_id(r.idx),
            start_node_element_id: self.node_element_id(r.start),
            end_node_element_id: self.node_element_id(r.end),
            rel_type: self.rel_type(r.idx).to_owned(),
            properties: Vec::new(),
        }
    }
}
