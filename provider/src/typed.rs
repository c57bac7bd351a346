//! States as Rust values: one mapping, by serde, between a resource's state
//! struct and the protocol value [`Dyn`]. No resource writes its own.
//!
//! Reading a value, a null or unknown attribute counts as absent, so the
//! struct's `#[serde(default)]` applies: a plan's unknown outputs and an
//! optional input left out both read as their defaults. Null and unknown list
//! items are skipped.
//!
//! A nested block of at most one item is a list of zero or one objects in the
//! protocol; [`one_block`] maps it to an `Option`.

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{self, DeserializeOwned, IntoDeserializer, Visitor};
use serde::ser::{self, Serialize};

use crate::value::Dyn;

/// A value that does not fit the state struct (or a struct that does not fit a value).
#[derive(Debug, Clone, PartialEq)]
pub struct ValueError(pub String);

impl fmt::Display for ValueError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ValueError {}

impl ser::Error for ValueError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        ValueError(msg.to_string())
    }
}

impl de::Error for ValueError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        ValueError(msg.to_string())
    }
}

/// The protocol value of `value`.
pub fn encode<T: Serialize>(value: &T) -> Result<Dyn, ValueError> {
    value.serialize(Encoder)
}

/// `T` from a protocol value.
pub fn decode<T: DeserializeOwned>(value: &Dyn) -> Result<T, ValueError> {
    T::deserialize(value)
}

/// `#[serde(with = "typed::one_block", default)]`: a block of at most one item.
pub mod one_block {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<T: Serialize, S: Serializer>(v: &Option<T>, s: S) -> Result<S::Ok, S::Error> {
        v.as_slice().serialize(s)
    }

    pub fn deserialize<'de, T: Deserialize<'de>, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<T>, D::Error> {
        Ok(Vec::<T>::deserialize(d)?.into_iter().next())
    }
}

fn present(v: &Dyn) -> bool {
    !matches!(v, Dyn::Null | Dyn::Unknown)
}

impl<'de> de::Deserializer<'de> for &'de Dyn {
    type Error = ValueError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ValueError> {
        match self {
            Dyn::Null | Dyn::Unknown => visitor.visit_unit(),
            Dyn::Bool(b) => visitor.visit_bool(*b),
            Dyn::Number(n) => visitor.visit_i64(*n),
            Dyn::Float(f) => visitor.visit_f64(*f),
            Dyn::String(s) => visitor.visit_borrowed_str(s),
            Dyn::List(items) => visitor.visit_seq(de::value::SeqDeserializer::new(
                items.iter().filter(|v| present(v)),
            )),
            Dyn::Map(m) => visitor.visit_map(de::value::MapDeserializer::new(
                m.iter()
                    .filter(|(_, v)| present(v))
                    .map(|(k, v)| (k.as_str(), v)),
            )),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ValueError> {
        if present(self) {
            visitor.visit_some(self)
        } else {
            visitor.visit_none()
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, ValueError> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, ValueError> {
        match self {
            Dyn::String(s) => visitor.visit_enum(s.as_str().into_deserializer()),
            other => Err(de::Error::custom(format!(
                "expected the name of a variant, found {other:?}"
            ))),
        }
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf unit unit_struct seq tuple tuple_struct map struct
        identifier ignored_any
    }
}

impl<'de> IntoDeserializer<'de, ValueError> for &'de Dyn {
    type Deserializer = Self;

    fn into_deserializer(self) -> Self {
        self
    }
}

/// Writes a Rust value as a [`Dyn`].
struct Encoder;

fn whole(f: f64) -> Dyn {
    if f.fract() == 0.0 && f.abs() < 9.0e15 {
        Dyn::Number(f as i64)
    } else {
        Dyn::Float(f)
    }
}

impl ser::Serializer for Encoder {
    type Ok = Dyn;
    type Error = ValueError;
    type SerializeSeq = List;
    type SerializeTuple = List;
    type SerializeTupleStruct = List;
    type SerializeTupleVariant = ser::Impossible<Dyn, ValueError>;
    type SerializeMap = Object;
    type SerializeStruct = Object;
    type SerializeStructVariant = ser::Impossible<Dyn, ValueError>;

    fn serialize_bool(self, v: bool) -> Result<Dyn, ValueError> {
        Ok(Dyn::Bool(v))
    }
    fn serialize_i8(self, v: i8) -> Result<Dyn, ValueError> {
        Ok(Dyn::Number(v.into()))
    }
    fn serialize_i16(self, v: i16) -> Result<Dyn, ValueError> {
        Ok(Dyn::Number(v.into()))
    }
    fn serialize_i32(self, v: i32) -> Result<Dyn, ValueError> {
        Ok(Dyn::Number(v.into()))
    }
    fn serialize_i64(self, v: i64) -> Result<Dyn, ValueError> {
        Ok(Dyn::Number(v))
    }
    fn serialize_u8(self, v: u8) -> Result<Dyn, ValueError> {
        Ok(Dyn::Number(v.into()))
    }
    fn serialize_u16(self, v: u16) -> Result<Dyn, ValueError> {
        Ok(Dyn::Number(v.into()))
    }
    fn serialize_u32(self, v: u32) -> Result<Dyn, ValueError> {
        Ok(Dyn::Number(v.into()))
    }
    fn serialize_u64(self, v: u64) -> Result<Dyn, ValueError> {
        i64::try_from(v)
            .map(Dyn::Number)
            .map_err(|_| ValueError(format!("{v} is larger than a Terraform whole number here")))
    }
    fn serialize_f32(self, v: f32) -> Result<Dyn, ValueError> {
        Ok(whole(v.into()))
    }
    fn serialize_f64(self, v: f64) -> Result<Dyn, ValueError> {
        Ok(whole(v))
    }
    fn serialize_char(self, v: char) -> Result<Dyn, ValueError> {
        Ok(Dyn::String(v.to_string()))
    }
    fn serialize_str(self, v: &str) -> Result<Dyn, ValueError> {
        Ok(Dyn::str(v))
    }
    fn serialize_bytes(self, _v: &[u8]) -> Result<Dyn, ValueError> {
        Err(ValueError("bytes have no Terraform type".into()))
    }
    fn serialize_none(self) -> Result<Dyn, ValueError> {
        Ok(Dyn::Null)
    }
    fn serialize_some<T: ?Sized + Serialize>(self, v: &T) -> Result<Dyn, ValueError> {
        v.serialize(self)
    }
    fn serialize_unit(self) -> Result<Dyn, ValueError> {
        Ok(Dyn::Null)
    }
    fn serialize_unit_struct(self, _name: &'static str) -> Result<Dyn, ValueError> {
        Ok(Dyn::Null)
    }
    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<Dyn, ValueError> {
        Ok(Dyn::str(variant))
    }
    fn serialize_newtype_struct<T: ?Sized + Serialize>(
        self,
        _name: &'static str,
        v: &T,
    ) -> Result<Dyn, ValueError> {
        v.serialize(self)
    }
    fn serialize_newtype_variant<T: ?Sized + Serialize>(
        self,
        name: &'static str,
        _index: u32,
        variant: &'static str,
        _v: &T,
    ) -> Result<Dyn, ValueError> {
        Err(ValueError(format!(
            "{name}::{variant} has no Terraform type"
        )))
    }
    fn serialize_seq(self, len: Option<usize>) -> Result<List, ValueError> {
        Ok(List(Vec::with_capacity(len.unwrap_or(0))))
    }
    fn serialize_tuple(self, len: usize) -> Result<List, ValueError> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_struct(self, _name: &'static str, len: usize) -> Result<List, ValueError> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_variant(
        self,
        name: &'static str,
        _index: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleVariant, ValueError> {
        Err(ValueError(format!(
            "{name}::{variant} has no Terraform type"
        )))
    }
    fn serialize_map(self, _len: Option<usize>) -> Result<Object, ValueError> {
        Ok(Object::default())
    }
    fn serialize_struct(self, _name: &'static str, _len: usize) -> Result<Object, ValueError> {
        Ok(Object::default())
    }
    fn serialize_struct_variant(
        self,
        name: &'static str,
        _index: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStructVariant, ValueError> {
        Err(ValueError(format!(
            "{name}::{variant} has no Terraform type"
        )))
    }
}

struct List(Vec<Dyn>);

impl ser::SerializeSeq for List {
    type Ok = Dyn;
    type Error = ValueError;
    fn serialize_element<T: ?Sized + Serialize>(&mut self, v: &T) -> Result<(), ValueError> {
        self.0.push(v.serialize(Encoder)?);
        Ok(())
    }
    fn end(self) -> Result<Dyn, ValueError> {
        Ok(Dyn::List(self.0))
    }
}

impl ser::SerializeTuple for List {
    type Ok = Dyn;
    type Error = ValueError;
    fn serialize_element<T: ?Sized + Serialize>(&mut self, v: &T) -> Result<(), ValueError> {
        ser::SerializeSeq::serialize_element(self, v)
    }
    fn end(self) -> Result<Dyn, ValueError> {
        ser::SerializeSeq::end(self)
    }
}

impl ser::SerializeTupleStruct for List {
    type Ok = Dyn;
    type Error = ValueError;
    fn serialize_field<T: ?Sized + Serialize>(&mut self, v: &T) -> Result<(), ValueError> {
        ser::SerializeSeq::serialize_element(self, v)
    }
    fn end(self) -> Result<Dyn, ValueError> {
        ser::SerializeSeq::end(self)
    }
}

#[derive(Default)]
struct Object {
    map: BTreeMap<String, Dyn>,
    key: Option<String>,
}

impl ser::SerializeMap for Object {
    type Ok = Dyn;
    type Error = ValueError;
    fn serialize_key<T: ?Sized + Serialize>(&mut self, key: &T) -> Result<(), ValueError> {
        match key.serialize(Encoder)? {
            Dyn::String(k) => {
                self.key = Some(k);
                Ok(())
            }
            other => Err(ValueError(format!(
                "a map key must be a string, not {other:?}"
            ))),
        }
    }
    fn serialize_value<T: ?Sized + Serialize>(&mut self, v: &T) -> Result<(), ValueError> {
        let key = self
            .key
            .take()
            .ok_or_else(|| ValueError("a map value without its key".into()))?;
        self.map.insert(key, v.serialize(Encoder)?);
        Ok(())
    }
    fn end(self) -> Result<Dyn, ValueError> {
        Ok(Dyn::Map(self.map))
    }
}

impl ser::SerializeStruct for Object {
    type Ok = Dyn;
    type Error = ValueError;
    fn serialize_field<T: ?Sized + Serialize>(
        &mut self,
        key: &'static str,
        v: &T,
    ) -> Result<(), ValueError> {
        self.map.insert(key.to_string(), v.serialize(Encoder)?);
        Ok(())
    }
    fn end(self) -> Result<Dyn, ValueError> {
        Ok(Dyn::Map(self.map))
    }
}

#[cfg(test)]
#[path = "typed_tests.rs"]
mod tests;
