//! Values to and from Bolt: the one place JSON values, request scalars and miss properties
//! become Bolt parameters or come back from rows.

use neo4rs::{BoltList, BoltMap, BoltString, BoltType};
use neotrav_traverser::engine::fresh::OwnedProp;
use neotrav_wire::Scalar;
use serde_json::Value;

/// A JSON value as a Bolt parameter: integers stay integers, other numbers become floats.
///
/// ```
/// use neotrav_neo4j::value::json;
///
/// let p = json(&serde_json::json!({"ids": [1, 2], "name": "x", "ratio": 0.5}));
/// assert!(matches!(p, neo4rs::BoltType::Map(_)));
/// ```
pub fn json(v: &Value) -> BoltType {
    match v {
        Value::Null => BoltType::Null(neo4rs::BoltNull),
        Value::Bool(b) => BoltType::from(*b),
        Value::Number(n) => match n.as_i64() {
            Some(i) => BoltType::from(i),
            None => BoltType::from(n.as_f64().unwrap_or(f64::NAN)),
        },
        Value::String(s) => BoltType::String(BoltString::from(s.as_str())),
        Value::Array(a) => {
            let mut l = BoltList::new();
            for x in a {
                l.push(json(x));
            }
            BoltType::List(l)
        }
        Value::Object(o) => {
            let mut m = BoltMap::new();
            for (k, x) in o {
                m.put(BoltString::from(k.as_str()), json(x));
            }
            BoltType::Map(m)
        }
    }
}

/// A request's scalar as a Bolt parameter.
///
/// ```
/// use neotrav_neo4j::value::scalar;
/// use neotrav_wire::Scalar;
///
/// assert_eq!(scalar(&Scalar::Int(7)), neo4rs::BoltType::from(7_i64));
/// ```
pub fn scalar(s: &Scalar) -> BoltType {
    match s {
        Scalar::Bool(b) => BoltType::from(*b),
        Scalar::Int(i) => BoltType::from(*i),
        Scalar::Float(x) => BoltType::from(*x),
        Scalar::String(s) => BoltType::from(s.as_str()),
    }
}

/// A property read from Neo4j as the engine holds it; `None` for null and for the types a
/// snapshot column cannot hold (lists, maps, temporal and spatial values).
pub fn owned_prop(v: &BoltType) -> Option<OwnedProp> {
    match v {
        BoltType::Integer(i) => Some(OwnedProp::Int(i.value)),
        BoltType::Float(f) => Some(OwnedProp::Float(f.value)),
        BoltType::Boolean(b) => Some(OwnedProp::Bool(b.value)),
        BoltType::String(s) => Some(OwnedProp::Str(s.value.clone())),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_stay_integers_and_other_numbers_become_floats() {
        assert_eq!(json(&serde_json::json!(3)), BoltType::from(3_i64));
        assert_eq!(json(&serde_json::json!(0.5)), BoltType::from(0.5_f64));
        assert_eq!(
            json(&serde_json::json!(u64::MAX)),
            BoltType::from(u64::MAX as f64)
        );
    }

    #[test]
    fn properties_round_trip_through_bolt() {
        for s in [
            Scalar::Int(-4),
            Scalar::Float(1.5),
            Scalar::Bool(true),
            Scalar::String("x".into()),
        ] {
            let back = owned_prop(&scalar(&s)).unwrap();
            let same = match (&s, &back) {
                (Scalar::Int(a), OwnedProp::Int(b)) => a == b,
                (Scalar::Float(a), OwnedProp::Float(b)) => a == b,
                (Scalar::Bool(a), OwnedProp::Bool(b)) => a == b,
                (Scalar::String(a), OwnedProp::Str(b)) => a == b,
                _ => false,
            };
            assert!(same, "{s:?} came back as {back:?}");
        }
    }
}
