//! A small JSON value tree. The browser edge builds it by walking the value
//! `JSON.parse` returned; native tests get it from serde_json. Either way the
//! parser in [`crate::core::servers`] sees the same input, and no JSON parser
//! (nor serde) is compiled into the wasm.

/// Any JSON value. Objects keep their key order; duplicate keys keep the last.
#[derive(Clone, Debug, PartialEq)]
pub enum Json {
    /// `null` (also `undefined` from JavaScript).
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// Any number, as a double like JavaScript's.
    Number(f64),
    /// A string.
    String(String),
    /// An array.
    Array(Vec<Json>),
    /// An object's members in key order.
    Object(Vec<(String, Json)>),
}

impl Json {
    /// The member `key` of an object; `None` for other values or a missing key.
    /// When a hand-built object repeats a key, the last one wins (as when parsing).
    pub fn get(&self, key: &str) -> Option<&Json> {
        let Json::Object(members) = self else {
            return None;
        };
        let mut at = members.len();
        while at > 0 {
            at -= 1;
            if members[at].0 == key {
                return Some(&members[at].1);
            }
        }
        None
    }

    /// The string, for a `String`.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Json::String(s) => Some(s),
            _ => None,
        }
    }

    /// The number, for a `Number` (not necessarily finite).
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Json::Number(n) => Some(*n),
            _ => None,
        }
    }

    /// The boolean, for a `Bool`.
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Json::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// The elements, for an `Array`.
    pub fn as_array(&self) -> Option<&[Json]> {
        match self {
            Json::Array(items) => Some(items),
            _ => None,
        }
    }
}

/// serde_json → [`Json`], for native builds only (tests, and the reference
/// server that shares this core): the wasm build gets its values from a direct
/// walk of JavaScript objects and carries no serde at all.
#[cfg(not(target_arch = "wasm32"))]
mod from_serde {
    use super::Json;
    use core::fmt;
    use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};

    impl<'de> Deserialize<'de> for Json {
        fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
            deserializer.deserialize_any(JsonVisitor)
        }
    }

    struct JsonVisitor;

    impl<'de> Visitor<'de> for JsonVisitor {
        type Value = Json;

        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a JSON value")
        }

        fn visit_bool<E>(self, v: bool) -> Result<Json, E> {
            Ok(Json::Bool(v))
        }

        fn visit_i64<E>(self, v: i64) -> Result<Json, E> {
            Ok(Json::Number(v as f64))
        }

        fn visit_u64<E>(self, v: u64) -> Result<Json, E> {
            Ok(Json::Number(v as f64))
        }

        fn visit_i128<E>(self, v: i128) -> Result<Json, E> {
            Ok(Json::Number(v as f64))
        }

        fn visit_u128<E>(self, v: u128) -> Result<Json, E> {
            Ok(Json::Number(v as f64))
        }

        fn visit_f64<E>(self, v: f64) -> Result<Json, E> {
            Ok(Json::Number(v))
        }

        fn visit_str<E>(self, v: &str) -> Result<Json, E> {
            Ok(Json::String(v.to_owned()))
        }

        fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Json, E> {
            Ok(Json::String(v.to_owned()))
        }

        fn visit_string<E>(self, v: String) -> Result<Json, E> {
            Ok(Json::String(v))
        }

        fn visit_unit<E>(self) -> Result<Json, E> {
            Ok(Json::Null)
        }

        fn visit_none<E>(self) -> Result<Json, E> {
            Ok(Json::Null)
        }

        fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Json, D::Error> {
            Json::deserialize(d)
        }

        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Json, A::Error> {
            let mut items = Vec::new();
            while let Some(item) = seq.next_element::<Json>()? {
                items.push(item);
            }
            Ok(Json::Array(items))
        }

        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Json, A::Error> {
            let mut members: Vec<(String, Json)> = Vec::new();
            while let Some(key) = map.next_key::<String>()? {
                let value = map.next_value::<Json>()?;
                // A repeated key keeps its first position and takes the last value.
                match members.iter_mut().find(|(k, _)| *k == key) {
                    Some(slot) => slot.1 = value,
                    None => members.push((key, value)),
                }
            }
            Ok(Json::Object(members))
        }
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::Json;

    fn parse(s: &str) -> Json {
        serde_json::from_str::<Json>(s).unwrap()
    }

    fn s(v: &str) -> Json {
        Json::String(v.to_owned())
    }

    #[test]
    fn scalars() {
        assert_eq!(parse("null"), Json::Null);
        assert_eq!(parse("true"), Json::Bool(true));
        assert_eq!(parse("false"), Json::Bool(false));
        assert_eq!(parse("0"), Json::Number(0.0));
        assert_eq!(parse("-12"), Json::Number(-12.0));
        assert_eq!(
            parse("18446744073709551615"),
            Json::Number(18446744073709551615.0)
        );
        assert_eq!(parse("1.5e3"), Json::Number(1500.0));
        assert_eq!(parse("\"a\\u00e9\""), s("aé"));
        assert_eq!(parse("\"\""), s(""));
    }

    #[test]
    fn nested_structure_keeps_order() {
        let v = parse(r#"{"b":[1,{"c":null}],"a":"x"}"#);
        assert_eq!(
            v,
            Json::Object(vec![
                (
                    "b".into(),
                    Json::Array(vec![
                        Json::Number(1.0),
                        Json::Object(vec![("c".into(), Json::Null)])
                    ])
                ),
                ("a".into(), s("x")),
            ])
        );
        assert_eq!(parse("[]"), Json::Array(vec![]));
        assert_eq!(parse("{}"), Json::Object(vec![]));
    }

    #[test]
    fn duplicate_keys_keep_the_last() {
        let v = parse(r#"{"a":1,"b":2,"a":3}"#);
        assert_eq!(
            v,
            Json::Object(vec![
                ("a".into(), Json::Number(3.0)),
                ("b".into(), Json::Number(2.0))
            ])
        );
        assert_eq!(v.get("a"), Some(&Json::Number(3.0)));
    }

    #[test]
    fn get_on_hand_built_duplicates_takes_the_last() {
        let v = Json::Object(vec![("k".into(), s("first")), ("k".into(), s("last"))]);
        assert_eq!(v.get("k"), Some(&s("last")));
    }

    #[test]
    fn accessors() {
        let v = parse(r#"{"s":"x","n":2,"b":true,"a":[1],"z":null}"#);
        assert_eq!(v.get("s").and_then(Json::as_str), Some("x"));
        assert_eq!(v.get("n").and_then(Json::as_f64), Some(2.0));
        assert_eq!(v.get("b").and_then(Json::as_bool), Some(true));
        assert_eq!(
            v.get("a").and_then(Json::as_array),
            Some(&[Json::Number(1.0)][..])
        );
        assert_eq!(v.get("z"), Some(&Json::Null));
        assert_eq!(v.get("missing"), None);
        // Wrong types give None.
        assert_eq!(v.get("s").and_then(Json::as_f64), None);
        assert_eq!(v.get("n").and_then(Json::as_str), None);
        assert_eq!(v.get("n").and_then(Json::as_bool), None);
        assert_eq!(v.get("n").and_then(Json::as_array), None);
        // `get` on a non-object.
        assert_eq!(s("x").get("x"), None);
        assert_eq!(Json::Array(vec![]).get("0"), None);
        assert_eq!(Json::Null.get("a"), None);
    }

    #[test]
    fn invalid_json_is_an_error_not_a_panic() {
        assert!(serde_json::from_str::<Json>("{").is_err());
        assert!(serde_json::from_str::<Json>("").is_err());
        assert!(serde_json::from_str::<Json>("<html>").is_err());
    }

    #[test]
    fn from_serde_json_value() {
        // Another Deserializer (serde_json::Value) drives the same visitor.
        let value = serde_json::json!({"x": [1, "y", null, false, 2.5]});
        let v: Json = serde_json::from_value(value).unwrap();
        assert_eq!(
            v.get("x").and_then(Json::as_array).map(<[Json]>::len),
            Some(5)
        );
    }
}
