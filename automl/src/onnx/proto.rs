//! The part of ONNX's protobuf schema (`onnx.proto`, IR version 10) that an
//! exported model uses, written by hand: a model is a handful of nested
//! messages, so a few dozen lines of wire format replace a code generator
//! and its build-time `protoc`. Field numbers are those of `onnx.proto`;
//! `data/tests/onnx.rs` checks the bytes with onnxruntime.

/// Element types (`TensorProto.DataType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Elem {
    Uint8 = 2,
    Int64 = 7,
    String = 8,
    Double = 11,
}

/// A constant tensor (an initializer or an attribute).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Tensor {
    pub name: String,
    pub dims: Vec<i64>,
    pub data: Data,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Data {
    Doubles(Vec<f64>),
    Int64s(Vec<i64>),
    Strings(Vec<String>),
    Uint8s(Vec<u8>),
}

impl Data {
    fn len(&self) -> usize {
        match self {
            Data::Doubles(v) => v.len(),
            Data::Int64s(v) => v.len(),
            Data::Strings(v) => v.len(),
            Data::Uint8s(v) => v.len(),
        }
    }

    pub(crate) fn elem(&self) -> Elem {
        match self {
            Data::Doubles(_) => Elem::Double,
            Data::Int64s(_) => Elem::Int64,
            Data::Strings(_) => Elem::String,
            Data::Uint8s(_) => Elem::Uint8,
        }
    }
}

/// An attribute value of a node.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Attr {
    Int(i64),
    Ints(Vec<i64>),
    Tensor(Tensor),
}

impl Attr {
    /// A one-dimensional tensor attribute holding `data`.
    pub(crate) fn tensor(data: Data) -> Attr {
        Attr::Tensor(Tensor {
            name: String::new(),
            dims: vec![data.len() as i64],
            data,
        })
    }
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Node {
    pub op: &'static str,
    pub domain: &'static str,
    pub name: String,
    pub inputs: Vec<String>,
    pub outputs: Vec<String>,
    pub attrs: Vec<(&'static str, Attr)>,
}

/// A graph input or output: its name, element type and shape (`None` is
/// the batch dimension `N`).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ValueInfo {
    pub name: String,
    pub elem: Elem,
    pub dims: Vec<Option<i64>>,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Model {
    pub producer_version: String,
    pub doc: String,
    pub graph_name: String,
    pub nodes: Vec<Node>,
    pub initializers: Vec<Tensor>,
    pub inputs: Vec<ValueInfo>,
    pub outputs: Vec<ValueInfo>,
    /// Operator sets: `("", 21)`, `("ai.onnx.ml", 5)`.
    pub opsets: Vec<(&'static str, i64)>,
    pub metadata: Vec<(String, String)>,
}

/// IR version 10 (onnx 1.16 and later).
const IR_VERSION: u64 = 10;

impl Model {
    /// The model as `ModelProto` bytes.
    pub(crate) fn encode(&self) -> Vec<u8> {
        let mut w = Writer::default();
        w.uint(1, IR_VERSION);
        w.string(2, "kiln");
        w.string(3, &self.producer_version);
        w.string(6, &self.doc);
        w.message(7, |g| {
            for n in &self.nodes {
                g.message(1, |m| node(m, n));
            }
            g.string(2, &self.graph_name);
            for t in &self.initializers {
                g.message(5, |m| tensor(m, t));
            }
            for v in &self.inputs {
                g.message(11, |m| value_info(m, v));
            }
            for v in &self.outputs {
                g.message(12, |m| value_info(m, v));
            }
        });
        for (domain, version) in &self.opsets {
            w.message(8, |m| {
                m.string(1, domain);
                m.uint(2, *version as u64);
            });
        }
        for (key, value) in &self.metadata {
            w.message(14, |m| {
                m.string(1, key);
                m.string(2, value);
            });
        }
        w.0
    }
}

fn node(w: &mut Writer, n: &Node) {
    for i in &n.inputs {
        w.string(1, i);
    }
    for o in &n.outputs {
        w.string(2, o);
    }
    w.string(3, &n.name);
    w.string(4, n.op);
    for (name, a) in &n.attrs {
        w.message(5, |m| attribute(m, name, a));
    }
    if !n.domain.is_empty() {
        w.string(7, n.domain);
    }
}

/// `AttributeProto`: its name, its type (field 20) and the value's field.
fn attribute(w: &mut Writer, name: &str, a: &Attr) {
    w.string(1, name);
    match a {
        Attr::Int(i) => {
            w.uint(3, *i as u64);
            w.uint(20, 2);
        }
        Attr::Tensor(t) => {
            w.message(5, |m| tensor(m, t));
            w.uint(20, 4);
        }
        Attr::Ints(v) => {
            w.packed(8, v);
            w.uint(20, 7);
        }
    }
}

/// `TensorProto`: numbers as little-endian `raw_data`, strings one by one.
fn tensor(w: &mut Writer, t: &Tensor) {
    w.packed(1, &t.dims);
    w.uint(2, t.data.elem() as u64);
    match &t.data {
        Data::Strings(v) => {
            for s in v {
                w.string(6, s);
            }
        }
        Data::Doubles(v) => w.bytes(
            9,
            &v.iter().flat_map(|x| x.to_le_bytes()).collect::<Vec<_>>(),
        ),
        Data::Int64s(v) => w.bytes(
            9,
            &v.iter().flat_map(|x| x.to_le_bytes()).collect::<Vec<_>>(),
        ),
        Data::Uint8s(v) => w.bytes(9, v),
    }
    w.string(8, &t.name);
}

/// `ValueInfoProto` with a `TypeProto.Tensor` type.
fn value_info(w: &mut Writer, v: &ValueInfo) {
    w.string(1, &v.name);
    w.message(2, |ty| {
        ty.message(1, |t| {
            t.uint(1, v.elem as u64);
            t.message(2, |shape| {
                for d in &v.dims {
                    shape.message(1, |dim| match d {
                        Some(n) => dim.uint(1, *n as u64),
                        None => dim.string(2, "N"),
                    });
                }
            });
        });
    });
}

/// Protobuf wire format: varints, length-delimited fields, packed repeats.
#[derive(Default)]
struct Writer(Vec<u8>);

impl Writer {
    fn varint(&mut self, mut v: u64) {
        while v >= 0x80 {
            self.0.push((v as u8) | 0x80);
            v >>= 7;
        }
        self.0.push(v as u8);
    }

    fn key(&mut self, field: u32, wire: u8) {
        self.varint(u64::from(field) << 3 | u64::from(wire));
    }

    /// A varint field (negative `int64`s as their two's complement).
    fn uint(&mut self, field: u32, v: u64) {
        self.key(field, 0);
        self.varint(v);
    }

    fn bytes(&mut self, field: u32, b: &[u8]) {
        self.key(field, 2);
        self.varint(b.len() as u64);
        self.0.extend_from_slice(b);
    }

    fn string(&mut self, field: u32, s: &str) {
        self.bytes(field, s.as_bytes());
    }

    fn packed(&mut self, field: u32, v: &[i64]) {
        let mut inner = Writer::default();
        for &x in v {
            inner.varint(x as u64);
        }
        self.bytes(field, &inner.0);
    }

    fn message(&mut self, field: u32, fill: impl FnOnce(&mut Writer)) {
        let mut inner = Writer::default();
        fill(&mut inner);
        self.bytes(field, &inner.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_and_fields_are_protobuf_wire_format() {
        let mut w = Writer::default();
        w.uint(1, 150);
        assert_eq!(w.0, [0x08, 0x96, 0x01]);
        let mut w = Writer::default();
        w.uint(3, (-1i64) as u64);
        assert_eq!(w.0.len(), 1 + 10);
        let mut w = Writer::default();
        w.string(2, "testing");
        assert_eq!(w.0, [0x12, 0x07, b't', b'e', b's', b't', b'i', b'n', b'g']);
        let mut w = Writer::default();
        w.packed(4, &[3, 270]);
        assert_eq!(w.0, [0x22, 0x03, 0x03, 0x8e, 0x02]);
    }
}
