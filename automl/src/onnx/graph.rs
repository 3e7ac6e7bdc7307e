//! A graph under construction: nodes with generated tensor names,
//! constants as initializers, and the column values a recipe and the
//! encoders work on (each a `[N, 1]` tensor).

use super::proto::{Attr, Data, Elem, Node, Tensor};
use crate::data::category_label;

/// The `ai.onnx.ml` domain (label encoders, tree ensembles).
pub(crate) const ML: &str = "ai.onnx.ml";

/// One column of rows as the graph holds it, a `[N, 1]` tensor.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Col {
    /// Doubles; missing is NaN.
    Number(String),
    /// Strings; missing is the empty string.
    Text(String),
    /// Doubles read as category labels (`category_label`), as a number
    /// column cast to a category is: compared with labels by the number
    /// each label reads as.
    Labels(String),
}

impl Col {
    pub(crate) fn tensor(&self) -> &str {
        match self {
            Col::Number(t) | Col::Text(t) | Col::Labels(t) => t,
        }
    }
}

/// The number a label of a number column stands for, when `label` is how
/// [`category_label`] writes it (so that equal labels mean equal numbers).
pub(crate) fn label_number(label: &str) -> Option<f64> {
    let x: f64 = label.parse().ok()?;
    (x.is_finite() && category_label(x) == label).then_some(x)
}

#[derive(Debug, Default)]
pub(crate) struct Graph {
    pub nodes: Vec<Node>,
    pub initializers: Vec<Tensor>,
    count: usize,
}

impl Graph {
    fn fresh(&mut self, hint: &str) -> String {
        self.count += 1;
        format!("{hint}_{}", self.count)
    }

    fn push(
        &mut self,
        op: &'static str,
        domain: &'static str,
        inputs: &[&str],
        attrs: Vec<(&'static str, Attr)>,
    ) -> String {
        let out = self.fresh(&op.to_lowercase());
        self.nodes.push(Node {
            op,
            domain,
            name: format!("node_{}", self.nodes.len()),
            inputs: inputs.iter().map(|s| (*s).to_owned()).collect(),
            outputs: vec![out.clone()],
            attrs,
        });
        out
    }

    /// A node of the default domain with one output.
    pub(crate) fn op(&mut self, op: &'static str, inputs: &[&str]) -> String {
        self.push(op, "", inputs, Vec::new())
    }

    pub(crate) fn op_with(
        &mut self,
        op: &'static str,
        inputs: &[&str],
        attrs: Vec<(&'static str, Attr)>,
    ) -> String {
        self.push(op, "", inputs, attrs)
    }

    /// A node of the default domain with `outputs` outputs, of which the
    /// first is returned (the others are left unused).
    pub(crate) fn op_first(
        &mut self,
        op: &'static str,
        inputs: &[&str],
        attrs: Vec<(&'static str, Attr)>,
        outputs: usize,
    ) -> String {
        let first = self.fresh(&op.to_lowercase());
        let mut names = vec![first.clone()];
        names.extend((1..outputs).map(|_| self.fresh("unused")));
        self.nodes.push(Node {
            op,
            domain: "",
            name: format!("node_{}", self.nodes.len()),
            inputs: inputs.iter().map(|s| (*s).to_owned()).collect(),
            outputs: names,
            attrs,
        });
        first
    }

    /// A node of the `ai.onnx.ml` domain with one output.
    pub(crate) fn ml(
        &mut self,
        op: &'static str,
        inputs: &[&str],
        attrs: Vec<(&'static str, Attr)>,
    ) -> String {
        self.push(op, ML, inputs, attrs)
    }

    /// Renames `from` to the graph output `name` (an `Identity`).
    pub(crate) fn output(&mut self, from: &str, name: &str) {
        self.nodes.push(Node {
            op: "Identity",
            domain: "",
            name: format!("node_{}", self.nodes.len()),
            inputs: vec![from.to_owned()],
            outputs: vec![name.to_owned()],
            attrs: Vec::new(),
        });
    }

    fn constant(&mut self, dims: Vec<i64>, data: Data) -> String {
        let name = self.fresh("const");
        self.initializers.push(Tensor {
            name: name.clone(),
            dims,
            data,
        });
        name
    }

    pub(crate) fn doubles(&mut self, dims: Vec<i64>, v: Vec<f64>) -> String {
        self.constant(dims, Data::Doubles(v))
    }

    pub(crate) fn int64s(&mut self, dims: Vec<i64>, v: Vec<i64>) -> String {
        self.constant(dims, Data::Int64s(v))
    }

    pub(crate) fn strings(&mut self, dims: Vec<i64>, v: Vec<String>) -> String {
        self.constant(dims, Data::Strings(v))
    }

    pub(crate) fn scalar(&mut self, x: f64) -> String {
        self.doubles(Vec::new(), vec![x])
    }

    /// `cond ? a : b`, element-wise with broadcasting.
    pub(crate) fn select(&mut self, cond: &str, a: &str, b: &str) -> String {
        self.op("Where", &[cond, a, b])
    }

    pub(crate) fn cast(&mut self, x: &str, to: Elem) -> String {
        self.op_with("Cast", &[x], vec![("to", Attr::Int(to as i64))])
    }

    pub(crate) fn concat(&mut self, xs: &[String], axis: i64) -> String {
        let refs: Vec<&str> = xs.iter().map(String::as_str).collect();
        self.op_with("Concat", &refs, vec![("axis", Attr::Int(axis))])
    }

    /// `x` with `(x - shift) / scale` applied.
    pub(crate) fn standardise(&mut self, x: &str, shift: f64, scale: f64) -> String {
        let s = self.scalar(shift);
        let centred = self.op("Sub", &[x, &s]);
        let d = self.scalar(scale);
        self.op("Div", &[&centred, &d])
    }

    /// Whether each row of `col` is missing (`[N, 1]` booleans).
    pub(crate) fn missing(&mut self, col: &Col) -> String {
        match col {
            Col::Number(t) | Col::Labels(t) => self.op("IsNaN", &[t]),
            Col::Text(t) => {
                let empty = self.strings(vec![1], vec![String::new()]);
                self.op("Equal", &[t, &empty])
            }
        }
    }

    /// `[N, 1]` booleans, all false, in the shape of `col`.
    pub(crate) fn none(&mut self, col: &Col) -> String {
        let m = self.missing(col);
        let not = self.op("Not", &[&m]);
        self.op("And", &[&m, &not])
    }

    /// Whether each row's label is one of `labels` (`[N, 1]` booleans).
    pub(crate) fn is_in(&mut self, col: &Col, labels: &[String]) -> String {
        match col {
            Col::Text(t) => {
                let keys: Vec<String> = labels.iter().filter(|l| !l.is_empty()).cloned().collect();
                if keys.is_empty() {
                    return self.none(col);
                }
                let keys = self.strings(vec![1, keys.len() as i64], keys);
                let eq = self.op("Equal", &[t, &keys]);
                self.any_of_row(&eq)
            }
            Col::Number(_) | Col::Labels(_) => {
                let keys: Vec<f64> = labels.iter().filter_map(|l| label_number(l)).collect();
                self.is_in_numbers(col, &keys)
            }
        }
    }

    /// Whether each row's number is one of `keys` (`[N, 1]` booleans).
    pub(crate) fn is_in_numbers(&mut self, col: &Col, keys: &[f64]) -> String {
        if keys.is_empty() {
            return self.none(col);
        }
        let keys = self.doubles(vec![1, keys.len() as i64], keys.to_vec());
        let eq = self.op("Equal", &[col.tensor(), &keys]);
        self.any_of_row(&eq)
    }

    /// `[N, K]` booleans to `[N, 1]`: whether any of the row's is true.
    fn any_of_row(&mut self, eq: &str) -> String {
        let as_number = self.cast(eq, Elem::Double);
        let axes = self.int64s(vec![1], vec![1]);
        let any = self.op_with(
            "ReduceMax",
            &[&as_number, &axes],
            vec![("keepdims", Attr::Int(1))],
        );
        let half = self.scalar(0.5);
        self.op("Greater", &[&any, &half])
    }

    /// Each row's label looked up in `levels`: `values[i]` for `levels[i]`,
    /// `default` for missing and other labels (`[N, 1]` doubles).
    pub(crate) fn lookup(
        &mut self,
        col: &Col,
        levels: &[String],
        values: &[f64],
        default: f64,
    ) -> String {
        let (x, keys, kept): (String, Data, Vec<f64>) = match col {
            Col::Text(t) => {
                let pairs: Vec<(String, f64)> = levels
                    .iter()
                    .zip(values)
                    .filter(|(l, _)| !l.is_empty())
                    .map(|(l, v)| (l.clone(), *v))
                    .collect();
                let vals = pairs.iter().map(|p| p.1).collect();
                (
                    t.clone(),
                    Data::Strings(pairs.into_iter().map(|p| p.0).collect()),
                    vals,
                )
            }
            Col::Number(t) | Col::Labels(t) => {
                let pairs: Vec<(f64, f64)> = levels
                    .iter()
                    .zip(values)
                    .filter_map(|(l, v)| label_number(l).map(|k| (k, *v)))
                    .collect();
                (
                    t.clone(),
                    Data::Doubles(pairs.iter().map(|p| p.0).collect()),
                    pairs.iter().map(|p| p.1).collect(),
                )
            }
        };
        if kept.is_empty() {
            let none = self.none(col);
            let zero = self.cast(&none, Elem::Double);
            let d = self.scalar(default);
            return self.op("Add", &[&zero, &d]);
        }
        self.ml(
            "LabelEncoder",
            &[&x],
            vec![
                ("keys_tensor", Attr::tensor(keys)),
                ("values_tensor", Attr::tensor(Data::Doubles(kept))),
                ("default_tensor", Attr::tensor(Data::Doubles(vec![default]))),
            ],
        )
    }
}
