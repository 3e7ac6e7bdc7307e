//! Finds a non-finite number in a document before it is stored. JSON has no
//! infinity or NaN: serde_json writes them as `null`, which does not read
//! back as an `f64`, so one such number would make the whole record
//! unreadable. [`first_non_finite`] walks the value through serde (no text
//! is produced) and names the first one by its path, e.g.
//! `leaderboard[2].score`.

use serde::ser::{self, Serialize};

/// A non-finite number and where it is in the document.
#[derive(Debug, Clone, PartialEq)]
pub struct NonFinite {
    /// `field.list[3].inner`, or `the document` for a bare number.
    pub path: String,
    pub value: f64,
}

/// The first NaN or infinite number in `v`, in serialisation order.
pub fn first_non_finite<T: Serialize + ?Sized>(v: &T) -> Option<NonFinite> {
    let mut path = Vec::new();
    match v.serialize(Walker { path: &mut path }) {
        Err(Stop::Found(found)) => Some(found),
        Ok(()) | Err(Stop::Other(_)) => None,
    }
}

/// Why the walk stopped: a non-finite number, or an error of the value's own
/// `Serialize` (left to serde_json to report when the document is written).
#[derive(Debug)]
enum Stop {
    Found(NonFinite),
    Other(String),
}

impl std::fmt::Display for Stop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Stop::Found(n) => write!(f, "{} is {}", n.path, n.value),
            Stop::Other(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for Stop {}

impl ser::Error for Stop {
    fn custom<T: std::fmt::Display>(msg: T) -> Self {
        Stop::Other(msg.to_string())
    }
}

fn render(path: &[String]) -> String {
    if path.is_empty() {
        return "the document".into();
    }
    let joined = path.concat();
    joined.strip_prefix('.').unwrap_or(&joined).to_owned()
}

struct Walker<'a> {
    path: &'a mut Vec<String>,
}

impl Walker<'_> {
    fn float(self, value: f64) -> Result<(), Stop> {
        if value.is_finite() {
            Ok(())
        } else {
            Err(Stop::Found(NonFinite {
                path: render(self.path),
                value,
            }))
        }
    }

    fn inside<T: Serialize + ?Sized>(&mut self, segment: String, value: &T) -> Result<(), Stop> {
        self.path.push(segment);
        let result = value.serialize(Walker { path: self.path });
        self.path.pop();
        result
    }
}

/// Containers: the position of the next element, and the key of the next map value.
struct Compound<'a> {
    walker: Walker<'a>,
    index: usize,
    key: String,
}

impl<'a> Walker<'a> {
    fn compound(self) -> Compound<'a> {
        Compound {
            walker: self,
            index: 0,
            key: String::new(),
        }
    }
}

impl Compound<'_> {
    fn element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Stop> {
        let segment = format!("[{}]", self.index);
        self.index += 1;
        self.walker.inside(segment, value)
    }

    fn field<T: Serialize + ?Sized>(&mut self, name: &str, value: &T) -> Result<(), Stop> {
        self.walker.inside(format!(".{name}"), value)
    }
}

impl<'a> ser::Serializer for Walker<'a> {
    type Ok = ();
    type Error = Stop;
    type SerializeSeq = Compound<'a>;
    type SerializeTuple = Compound<'a>;
    type SerializeTupleStruct = Compound<'a>;
    type SerializeTupleVariant = Compound<'a>;
    type SerializeMap = Compound<'a>;
    type SerializeStruct = Compound<'a>;
    type SerializeStructVariant = Compound<'a>;

    fn serialize_f32(self, v: f32) -> Result<(), Stop> {
        self.float(f64::from(v))
    }
    fn serialize_f64(self, v: f64) -> Result<(), Stop> {
        self.float(v)
    }
    fn serialize_bool(self, _: bool) -> Result<(), Stop> {
        Ok(())
    }
    fn serialize_i8(self, _: i8) -> Result<(), Stop> {
        Ok(())
    }
    fn serialize_i16(self, _: i16) -> Result<(), Stop> {
        Ok(())
    }
    fn serialize_i32(self, _: i32) -> Result<(), Stop> {
        Ok(())
    }
    fn serialize_i64(self, _: i64) -> Result<(), Stop> {
        Ok(())
    }
    fn serialize_i128(self, _: i128) -> Result<(), Stop> {
        Ok(())
    }
    fn serialize_u8(self, _: u8) -> Result<(), Stop> {
        Ok(())
    }
    fn serialize_u16(self, _: u16) -> Result<(), Stop> {
        Ok(())
    }
    fn serialize_u32(self, _: u32) -> Result<(), Stop> {
        Ok(())
    }
    fn serialize_u64(self, _: u64) -> Result<(), Stop> {
        Ok(())
    }
    fn serialize_u128(self, _: u128) -> Result<(), Stop> {
        Ok(())
    }
    fn serialize_char(self, _: char) -> Result<(), Stop> {
        Ok(())
    }
    fn serialize_str(self, _: &str) -> Result<(), Stop> {
        Ok(())
    }
    fn serialize_bytes(self, _: &[u8]) -> Result<(), Stop> {
        Ok(())
    }
    fn serialize_none(self) -> Result<(), Stop> {
        Ok(())
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), Stop> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<(), Stop> {
        Ok(())
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result<(), Stop> {
        Ok(())
    }
    fn serialize_unit_variant(self, _: &'static str, _: u32, _: &'static str) -> Result<(), Stop> {
        Ok(())
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        value: &T,
    ) -> Result<(), Stop> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        mut self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<(), Stop> {
        self.inside(format!(".{variant}"), value)
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Compound<'a>, Stop> {
        Ok(self.compound())
    }
    fn serialize_tuple(self, _: usize) -> Result<Compound<'a>, Stop> {
        Ok(self.compound())
    }
    fn serialize_tuple_struct(self, _: &'static str, _: usize) -> Result<Compound<'a>, Stop> {
        Ok(self.compound())
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        _: usize,
    ) -> Result<Compound<'a>, Stop> {
        self.path.push(format!(".{variant}"));
        Ok(self.compound())
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Compound<'a>, Stop> {
        Ok(self.compound())
    }
    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Compound<'a>, Stop> {
        Ok(self.compound())
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        _: usize,
    ) -> Result<Compound<'a>, Stop> {
        self.path.push(format!(".{variant}"));
        Ok(self.compound())
    }
}

impl ser::SerializeSeq for Compound<'_> {
    type Ok = ();
    type Error = Stop;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Stop> {
        self.element(value)
    }
    fn end(self) -> Result<(), Stop> {
        Ok(())
    }
}

impl ser::SerializeTuple for Compound<'_> {
    type Ok = ();
    type Error = Stop;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Stop> {
        self.element(value)
    }
    fn end(self) -> Result<(), Stop> {
        Ok(())
    }
}

impl ser::SerializeTupleStruct for Compound<'_> {
    type Ok = ();
    type Error = Stop;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Stop> {
        self.element(value)
    }
    fn end(self) -> Result<(), Stop> {
        Ok(())
    }
}

impl ser::SerializeTupleVariant for Compound<'_> {
    type Ok = ();
    type Error = Stop;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Stop> {
        self.element(value)
    }
    fn end(self) -> Result<(), Stop> {
        self.walker.path.pop();
        Ok(())
    }
}

impl ser::SerializeMap for Compound<'_> {
    type Ok = ();
    type Error = Stop;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), Stop> {
        // Keys name the path; JSON object keys are strings, so a key is not
        // a number to check.
        self.key = serde_json::to_string(key).unwrap_or_else(|_| "?".into());
        Ok(())
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Stop> {
        let segment = format!("[{}]", std::mem::take(&mut self.key));
        self.walker.inside(segment, value)
    }
    fn end(self) -> Result<(), Stop> {
        Ok(())
    }
}

impl ser::SerializeStruct for Compound<'_> {
    type Ok = ();
    type Error = Stop;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        name: &'static str,
        value: &T,
    ) -> Result<(), Stop> {
        self.field(name, value)
    }
    fn end(self) -> Result<(), Stop> {
        Ok(())
    }
}

impl ser::SerializeStructVariant for Compound<'_> {
    type Ok = ();
    type Error = Stop;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        name: &'static str,
        value: &T,
    ) -> Result<(), Stop> {
        self.field(name, value)
    }
    fn end(self) -> Result<(), Stop> {
        self.walker.path.pop();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Serialize)]
    enum Shape {
        Point(f64, f64),
        Circle { radius: f64 },
        Scaled(f32),
    }

    #[derive(serde::Serialize)]
    struct Doc {
        name: String,
        scores: Vec<f64>,
        maybe: Option<f64>,
        pairs: Vec<(f64, Option<f64>)>,
        by_name: std::collections::BTreeMap<String, f64>,
        shape: Shape,
        raw: serde_json::Value,
    }

    fn doc() -> Doc {
        Doc {
            name: "x".into(),
            scores: vec![1.0, -2.5],
            maybe: Some(f64::MAX),
            pairs: vec![(0.0, None), (1.0, Some(f64::MIN_POSITIVE))],
            by_name: [("a".to_owned(), 1.0)].into(),
            shape: Shape::Circle { radius: 2.0 },
            raw: serde_json::json!({ "n": 1.5 }),
        }
    }

    fn found(d: &Doc) -> Option<(String, f64)> {
        first_non_finite(d).map(|n| (n.path, n.value))
    }

    #[test]
    fn finite_documents_pass() {
        assert_eq!(found(&doc()), None);
        assert_eq!(first_non_finite(&1.0), None);
    }

    #[test]
    fn the_first_non_finite_number_is_named_by_its_path() {
        let mut d = doc();
        d.scores[1] = f64::INFINITY;
        d.maybe = Some(f64::NAN);
        assert_eq!(found(&d), Some(("scores[1]".into(), f64::INFINITY)));
        d.scores[1] = 0.0;
        assert_eq!(found(&d).map(|f| f.0), Some("maybe".into()));
        d.maybe = None;
        d.pairs[1].1 = Some(f64::NEG_INFINITY);
        assert_eq!(found(&d), Some(("pairs[1][1]".into(), f64::NEG_INFINITY)));
        d.pairs[1].1 = None;
        d.by_name.insert("b".into(), f64::INFINITY);
        assert_eq!(found(&d).map(|f| f.0), Some("by_name[\"b\"]".into()));
        d.by_name.clear();
        d.shape = Shape::Point(1.0, f64::INFINITY);
        assert_eq!(found(&d).map(|f| f.0), Some("shape.Point[1]".into()));
        d.shape = Shape::Circle {
            radius: f64::INFINITY,
        };
        assert_eq!(found(&d).map(|f| f.0), Some("shape.Circle.radius".into()));
        d.shape = Shape::Scaled(f32::NAN);
        assert_eq!(found(&d).map(|f| f.0), Some("shape.Scaled".into()));
        assert_eq!(
            first_non_finite(&f64::NAN).map(|n| n.path),
            Some("the document".into())
        );
    }

    #[test]
    fn what_serde_json_writes_as_null_is_what_is_found() {
        // The reason for this module: a non-finite f64 becomes `null`, which
        // does not read back.
        let text = serde_json::to_string(&vec![f64::INFINITY]).unwrap();
        assert_eq!(text, "[null]");
        assert!(serde_json::from_str::<Vec<f64>>(&text).is_err());
        assert!(first_non_finite(&vec![f64::INFINITY]).is_some());
    }
}
