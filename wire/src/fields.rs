//! The keys a derived `Deserialize` of a struct accepts, read from the derive itself (it
//! passes them to `deserialize_struct`), so that a list of them is never written by hand.

use serde::de::{self, Deserialize, Deserializer, Visitor};

/// The JSON keys `T` (a struct with a derived `Deserialize`) accepts; empty for other types.
pub fn of<'de, T: Deserialize<'de>>() -> &'static [&'static str] {
    let mut fields: &'static [&'static str] = &[];
    let _ = T::deserialize(Fields(&mut fields));
    fields
}

/// A deserializer that records the fields it is asked for and deserializes nothing.
struct Fields<'f>(&'f mut &'static [&'static str]);

#[derive(Debug)]
struct Stop;

impl std::fmt::Display for Stop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("fields recorded")
    }
}

impl std::error::Error for Stop {}

impl de::Error for Stop {
    fn custom<M: std::fmt::Display>(_: M) -> Stop {
        Stop
    }
}

impl<'de> Deserializer<'de> for Fields<'_> {
    type Error = Stop;

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        _visitor: V,
    ) -> Result<V::Value, Stop> {
        *self.0 = fields;
        Err(Stop)
    }

    fn deserialize_any<V: Visitor<'de>>(self, _visitor: V) -> Result<V::Value, Stop> {
        Err(Stop)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map enum identifier
        ignored_any
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_fields_of_a_request_are_its_json_keys() {
        let keys = super::of::<crate::TraverseRequest>();
        for k in [
            "start",
            "relationshipFilter",
            "where",
            "return",
            "budget",
            "lenient",
        ] {
            assert!(keys.contains(&k), "{k} in {keys:?}");
        }
        assert!(!keys.contains(&"ignoredKeys"), "{keys:?}");
        assert!(super::of::<u32>().is_empty());
    }
}
