//! The typed columns of a record (a `Sample`, a playback session, a request), read off the
//! record's own `Deserialize` implementation: the struct is the one place a column is declared,
//! so a field added to it becomes a Parquet column with no list to update here.
//!
//! Types: integers → the narrowest signed type that holds every value of the field (signed, which
//! every engine reads: `u8`/`i16` → Int16, `u16`/`i32` → Int32, wider → Int64), floats → Float64,
//! text and enums (by their serde names) → Utf8, `bool` → Boolean, text fields named `*_at`
//! (RFC 3339 by the probe's convention) → Timestamp(µs, UTC), nullable (an empty time is null)
//! except `started_at`; `Option<T>` → nullable, an empty cell is null.

use serde::de::{self, DeserializeOwned, Deserializer, IntoDeserializer, Visitor};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Text,
    Timestamp,
    Int16,
    Int32,
    Int64,
    Float,
    Boolean,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    pub name: String,
    pub kind: Kind,
    pub nullable: bool,
}

impl Column {
    /// A column that is always filled in.
    pub fn new(name: &str, kind: Kind) -> Column {
        Column {
            name: name.to_owned(),
            kind,
            nullable: false,
        }
    }
}

/// The columns of `T`, in field order (the CSV's column order).
pub fn columns_of<T: DeserializeOwned>() -> Vec<Column> {
    let mut columns = Vec::new();
    T::deserialize(Record {
        columns: &mut columns,
    })
    .expect("a record is a struct of plain fields: text, numbers, enums, options");
    columns
}

type Error = de::value::Error;

/// Deserializes a struct, tracing each field's type instead of reading a value.
struct Record<'c> {
    columns: &'c mut Vec<Column>,
}

impl<'de> Deserializer<'de> for Record<'_> {
    type Error = Error;

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        visitor.visit_map(Fields {
            fields,
            next: 0,
            columns: self.columns,
        })
    }

    fn deserialize_any<V: Visitor<'de>>(self, _visitor: V) -> Result<V::Value, Error> {
        Err(de::Error::custom("a record must be a struct"))
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map enum identifier
        ignored_any
    }
}

struct Fields<'c> {
    fields: &'static [&'static str],
    next: usize,
    columns: &'c mut Vec<Column>,
}

impl<'de> de::MapAccess<'de> for Fields<'_> {
    type Error = Error;

    fn next_key_seed<K: de::DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Error> {
        let Some(name) = self.fields.get(self.next) else {
            return Ok(None);
        };
        seed.deserialize((*name).into_deserializer()).map(Some)
    }

    fn next_value_seed<V: de::DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Error> {
        let name = self.fields[self.next];
        self.next += 1;
        seed.deserialize(Field {
            name,
            nullable: false,
            columns: self.columns,
        })
    }
}

/// One field: records its column, then hands the visitor a placeholder value of that type.
struct Field<'c> {
    name: &'static str,
    nullable: bool,
    columns: &'c mut Vec<Column>,
}

impl Field<'_> {
    fn record(self, kind: Kind) {
        self.columns.push(Column {
            name: self.name.to_owned(),
            kind,
            nullable: self.nullable,
        });
    }
}

macro_rules! traced {
    ($($method:ident => $kind:expr, $visit:ident($value:expr);)*) => {
        $(fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
            self.record($kind);
            visitor.$visit($value)
        })*
    };
}

impl<'de> Deserializer<'de> for Field<'_> {
    type Error = Error;

    traced! {
        deserialize_bool => Kind::Boolean, visit_bool(false);
        deserialize_i8 => Kind::Int16, visit_i8(0);
        deserialize_i16 => Kind::Int16, visit_i16(0);
        deserialize_i32 => Kind::Int32, visit_i32(0);
        deserialize_i64 => Kind::Int64, visit_i64(0);
        deserialize_u8 => Kind::Int16, visit_u8(0);
        deserialize_u16 => Kind::Int32, visit_u16(0);
        deserialize_u32 => Kind::Int64, visit_u32(0);
        deserialize_u64 => Kind::Int64, visit_u64(0);
        deserialize_f32 => Kind::Float, visit_f32(0.0);
        deserialize_f64 => Kind::Float, visit_f64(0.0);
    }

    fn deserialize_str<V: Visitor<'de>>(mut self, visitor: V) -> Result<V::Value, Error> {
        let kind = if self.name.ends_with("_at") {
            // A text time may be empty (`cert_expires_at` over plain HTTP), and a timestamp
            // column can only say that with null; `started_at` is always set.
            self.nullable |= self.name != "started_at";
            Kind::Timestamp
        } else {
            Kind::Text
        };
        self.record(kind);
        visitor.visit_str("")
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_str(visitor)
    }

    fn deserialize_option<V: Visitor<'de>>(mut self, visitor: V) -> Result<V::Value, Error> {
        self.nullable = true;
        visitor.visit_some(self)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.record(Kind::Text);
        let first = variants
            .first()
            .ok_or_else(|| de::Error::custom("an enum without variants"))?;
        visitor.visit_enum((*first).into_deserializer())
    }

    fn deserialize_any<V: Visitor<'de>>(self, _visitor: V) -> Result<V::Value, Error> {
        Err(de::Error::custom(format!(
            "field {}: only text, numbers, booleans, unit enums and options become columns",
            self.name
        )))
    }

    serde::forward_to_deserialize_any! {
        i128 u128 char bytes byte_buf unit unit_struct newtype_struct seq tuple tuple_struct
        map struct identifier ignored_any
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sample::{COLUMNS, Sample};

    #[test]
    fn the_sample_s_columns_are_the_csv_s_in_order_with_types() {
        let columns = columns_of::<Sample>();
        let names: Vec<&str> = columns.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, COLUMNS);
        let of = |name: &str| columns.iter().find(|c| c.name == name).unwrap().clone();
        assert_eq!(
            (of("started_at").kind, of("started_at").nullable),
            (Kind::Timestamp, false)
        );
        assert_eq!(
            (of("sample").kind, of("sample").nullable),
            (Kind::Int64, false)
        );
        assert_eq!(
            (of("status").kind, of("status").nullable),
            (Kind::Int32, true)
        );
        assert_eq!(
            (of("ttfb_ms").kind, of("ttfb_ms").nullable),
            (Kind::Float, true)
        );
        assert_eq!(
            (of("cache").kind, of("cache").nullable),
            (Kind::Text, false)
        );
        assert_eq!((of("error").kind, of("error").nullable), (Kind::Text, true));
        assert_eq!(
            (of("cert_expires_at").kind, of("cert_expires_at").nullable),
            (Kind::Timestamp, true)
        );
    }
}
