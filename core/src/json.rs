//! Reading JSON objects by hand, field by field, out of one parsed [`Value`].
//!
//! A derived `Deserialize` compiles serde_json's whole struct reader once per type (1 to 4 KB of
//! Wasm each, and the SFU's Connection API alone has twenty types); these few functions and the
//! `Value` parser the crate needs anyway do the same work once for all of them. Each reader
//! says `None` for anything a derived one refuses: a missing required field, a field of the
//! wrong type, an unknown field where the type is strict ([`only`]), and a key given twice
//! ([`parse`]).

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

/// A JSON object.
pub type Object = Map<String, Value>;

/// A type read from JSON by hand.
pub trait FromJson: Sized {
    fn from_value(value: &Value) -> Option<Self>;

    /// Parses `text` ([`parse`]) and reads it.
    fn from_json(text: &str) -> Option<Self> {
        Self::from_value(&parse(text)?)
    }
}

/// A `Deserialize` for a [`FromJson`] type, for callers that read it with serde: through the
/// `Value` reader the crate has anyway rather than a struct reader of its own.
pub fn deserialize<'de, D: Deserializer<'de>, T: FromJson>(deserializer: D) -> Result<T, D::Error> {
    let value = Value::deserialize(deserializer)?;
    T::from_value(&value).ok_or_else(|| de::Error::custom("unexpected JSON"))
}

/// Parses JSON text, refusing an object that names a key twice, at any depth, as derived
/// deserializers do (`serde_json::Value` would keep the last silently).
pub fn parse(text: &str) -> Option<Value> {
    serde_json::from_str::<Unique>(text).ok().map(|u| u.0)
}

/// A [`Value`] whose objects have no repeated key.
struct Unique(Value);

impl<'de> Deserialize<'de> for Unique {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(UniqueVisitor)
    }
}

struct UniqueVisitor;

impl<'de> Visitor<'de> for UniqueVisitor {
    type Value = Unique;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("JSON")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Unique, E> {
        Ok(Unique(Value::Bool(v)))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Unique, E> {
        Ok(Unique(Value::Number(v.into())))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Unique, E> {
        Ok(Unique(Value::Number(v.into())))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Unique, E> {
        Ok(Unique(
            Number::from_f64(v).map_or(Value::Null, Value::Number),
        ))
    }

    fn visit_str<E>(self, v: &str) -> Result<Unique, E> {
        Ok(Unique(Value::String(v.to_owned())))
    }

    fn visit_string<E>(self, v: String) -> Result<Unique, E> {
        Ok(Unique(Value::String(v)))
    }

    fn visit_unit<E>(self) -> Result<Unique, E> {
        Ok(Unique(Value::Null))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Unique, A::Error> {
        let mut items = Vec::new();
        while let Some(Unique(item)) = seq.next_element()? {
            items.push(item);
        }
        Ok(Unique(Value::Array(items)))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Unique, A::Error> {
        let mut object = Object::new();
        while let Some(key) = map.next_key::<String>()? {
            let Unique(value) = map.next_value()?;
            if object.insert(key, value).is_some() {
                return Err(de::Error::custom("a key is repeated"));
            }
        }
        Ok(Unique(Value::Object(object)))
    }
}

/// `value` as an object.
pub fn object(value: &Value) -> Option<&Object> {
    value.as_object()
}

/// `Some` when every key of `object` is one of `known`: strict types refuse the others.
pub fn only(object: &Object, known: &[&str]) -> Option<()> {
    object
        .keys()
        .all(|k| known.contains(&k.as_str()))
        .then_some(())
}

/// An optional field: `Some(None)` when absent or `null`, `None` when `read` refuses it.
pub fn optional<T>(
    object: &Object,
    key: &str,
    read: impl FnOnce(&Value) -> Option<T>,
) -> Option<Option<T>> {
    match object.get(key) {
        None | Some(Value::Null) => Some(None),
        Some(value) => read(value).map(Some),
    }
}

/// A required field (`null` is not a value of a required field).
pub fn required<T>(
    object: &Object,
    key: &str,
    read: impl FnOnce(&Value) -> Option<T>,
) -> Option<T> {
    object.get(key).and_then(read)
}

/// A string.
pub fn string(value: &Value) -> Option<String> {
    value.as_str().map(str::to_owned)
}

/// A boolean.
pub fn boolean(value: &Value) -> Option<bool> {
    value.as_bool()
}

/// A non-negative integer.
pub fn unsigned(value: &Value) -> Option<u64> {
    value.as_u64()
}

/// An array whose every item `read` accepts.
pub fn list<T>(value: &Value, read: impl Fn(&Value) -> Option<T>) -> Option<Vec<T>> {
    value.as_array()?.iter().map(read).collect()
}

/// The variant a string names, from `(name, variant)` rows.
pub fn variant<T: Copy>(value: &Value, table: &[(&str, T)]) -> Option<T> {
    let name = value.as_str()?;
    table.iter().find(|(n, _)| *n == name).map(|(_, v)| *v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_repeated_key_is_refused_at_any_depth() {
        assert!(parse(r#"{"a":1,"b":{"c":[1,{"d":2}]}}"#).is_some());
        assert!(parse(r#"{"a":1,"a":1}"#).is_none());
        assert!(parse(r#"{"b":[{"c":1,"c":2}]}"#).is_none());
        assert!(parse(r#"{"a":1"#).is_none());
    }

    #[test]
    fn values_read_as_serde_json_reads_them() {
        let text = r#"{"s":"x\u00e9","n":-3,"u":18446744073709551615,"f":1.5,"t":true,"z":null,"l":[1,"a"]}"#;
        assert_eq!(
            parse(text).unwrap(),
            serde_json::from_str::<Value>(text).unwrap()
        );
    }

    #[test]
    fn fields_are_optional_required_or_unknown() {
        let v = parse(r#"{"a":"x","n":null,"b":true,"k":["l","m"],"u":7}"#).unwrap();
        let o = object(&v).unwrap();
        assert_eq!(optional(o, "a", string), Some(Some("x".into())));
        assert_eq!(optional(o, "n", string), Some(None));
        assert_eq!(optional(o, "missing", string), Some(None));
        assert_eq!(optional(o, "b", string), None);
        assert_eq!(required(o, "n", string), None);
        assert_eq!(required(o, "b", boolean), Some(true));
        assert_eq!(required(o, "u", unsigned), Some(7));
        assert_eq!(
            required(o, "k", |v| list(v, string)),
            Some(vec!["l".into(), "m".into()])
        );
        assert_eq!(required(o, "k", |v| list(v, boolean)), None);
        assert_eq!(only(o, &["a", "n", "b", "k", "u"]), Some(()));
        assert_eq!(only(o, &["a", "n", "b", "k"]), None);
        let table = [("one", 1), ("two", 2)];
        assert_eq!(variant(&Value::from("two"), &table), Some(2));
        assert_eq!(variant(&Value::from("three"), &table), None);
    }
}
