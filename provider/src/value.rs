//! The provider's own dynamic value: what Terraform sends and receives, without
//! any protocol type. `tf.rs` converts it to and from the wire.

use std::collections::BTreeMap;

/// A Terraform value: known, null or not yet known (unknown at plan time).
#[derive(Clone, Debug, PartialEq, Default)]
pub enum Dyn {
    #[default]
    Null,
    Unknown,
    Bool(bool),
    Number(i64),
    /// A number with a fraction (Terraform numbers are arbitrary; whole ones are `Number`).
    Float(f64),
    String(String),
    List(Vec<Dyn>),
    Map(BTreeMap<String, Dyn>),
}

impl Dyn {
    pub fn str(s: impl Into<String>) -> Self {
        Dyn::String(s.into())
    }

    pub fn obj() -> Self {
        Dyn::Map(BTreeMap::new())
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Dyn::Null)
    }

    pub fn is_unknown(&self) -> bool {
        matches!(self, Dyn::Unknown)
    }

    /// True when this value or anything inside it is unknown.
    pub fn has_unknown(&self) -> bool {
        match self {
            Dyn::Unknown => true,
            Dyn::List(items) => items.iter().any(Dyn::has_unknown),
            Dyn::Map(m) => m.values().any(Dyn::has_unknown),
            _ => false,
        }
    }

    /// Attribute of an object; `Null` when absent or when `self` is not an object.
    pub fn get(&self, key: &str) -> &Dyn {
        static NULL: Dyn = Dyn::Null;
        match self {
            Dyn::Map(m) => m.get(key).unwrap_or(&NULL),
            _ => &NULL,
        }
    }

    /// Sets an attribute; turns a null value into an object first.
    pub fn set(&mut self, key: &str, value: Dyn) {
        if !matches!(self, Dyn::Map(_)) {
            *self = Dyn::obj();
        }
        if let Dyn::Map(m) = self {
            m.insert(key.to_string(), value);
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Dyn::String(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Dyn::Number(n) => Some(*n),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Dyn::Bool(b) => Some(*b),
            _ => None,
        }
    }

    pub fn as_list(&self) -> Option<&[Dyn]> {
        match self {
            Dyn::List(items) => Some(items),
            _ => None,
        }
    }

    pub fn as_map(&self) -> Option<&BTreeMap<String, Dyn>> {
        match self {
            Dyn::Map(m) => Some(m),
            _ => None,
        }
    }

    /// A list of known strings (unknown or non-string items are skipped).
    pub fn string_list(&self) -> Vec<String> {
        self.as_list()
            .unwrap_or_default()
            .iter()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect()
    }

    /// A map of known strings (unknown or non-string values are skipped).
    pub fn string_map(&self) -> BTreeMap<String, String> {
        self.as_map()
            .map(|m| {
                m.iter()
                    .filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_string())))
                    .collect()
            })
            .unwrap_or_default()
    }

    pub fn from_strings<I, S>(items: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Dyn::List(items.into_iter().map(|s| Dyn::String(s.into())).collect())
    }

    pub fn from_string_map<'a, I>(items: I) -> Self
    where
        I: IntoIterator<Item = (&'a String, &'a String)>,
    {
        Dyn::Map(
            items
                .into_iter()
                .map(|(k, v)| (k.clone(), Dyn::String(v.clone())))
                .collect(),
        )
    }
}

impl From<&str> for Dyn {
    fn from(s: &str) -> Self {
        Dyn::String(s.to_string())
    }
}

impl From<String> for Dyn {
    fn from(s: String) -> Self {
        Dyn::String(s)
    }
}

impl From<Option<String>> for Dyn {
    fn from(s: Option<String>) -> Self {
        s.map_or(Dyn::Null, Dyn::String)
    }
}

impl From<bool> for Dyn {
    fn from(b: bool) -> Self {
        Dyn::Bool(b)
    }
}

impl From<i64> for Dyn {
    fn from(n: i64) -> Self {
        Dyn::Number(n)
    }
}

impl Dyn {
    /// The value with every unknown turned to null: what an apply may return
    /// after a failure, when some outputs were never made.
    pub fn known_or_null(self) -> Dyn {
        match self {
            Dyn::Unknown => Dyn::Null,
            Dyn::List(items) => Dyn::List(items.into_iter().map(Dyn::known_or_null).collect()),
            Dyn::Map(m) => Dyn::Map(m.into_iter().map(|(k, v)| (k, v.known_or_null())).collect()),
            other => other,
        }
    }
}
