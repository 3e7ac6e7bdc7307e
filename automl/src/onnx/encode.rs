//! The model's encoders as ONNX operators: the tree matrix (numbers as they
//! are, categories as their frequency rank) and the linear encoding
//! (imputation, log, scaling, missing indicators, one-hot, mapped levels),
//! each computed once per graph.

use super::graph::{Col, Graph, label_number};
use super::proto::Elem;
use crate::encode::{FeatureKind, FeatureStats, LinearColumn, LinearEncoder};
use crate::error::{Error, Result};

/// The model's features in the graph, one column each, in schema order.
pub(crate) struct Features<'a> {
    pub stats: &'a [FeatureStats],
    pub cols: Vec<Col>,
    tree: Option<String>,
}

impl<'a> Features<'a> {
    /// The features `stats` found among `cols` by name, checked against the
    /// kind the model was trained on.
    pub(crate) fn new(stats: &'a [FeatureStats], cols: &[(String, Col)]) -> Result<Features<'a>> {
        let found = stats
            .iter()
            .map(|f| {
                let Some((_, col)) = cols.iter().find(|(n, _)| *n == f.name) else {
                    return Err(Error::Onnx(format!(
                        "the feature `{}` is not made by the recipe's exported steps",
                        f.name
                    )));
                };
                match (f.kind, col) {
                    (FeatureKind::Numeric, Col::Number(_))
                    | (FeatureKind::Categorical, Col::Text(_) | Col::Labels(_)) => Ok(col.clone()),
                    (FeatureKind::Numeric, _) => Err(Error::Onnx(format!(
                        "the feature `{}` is a number the model reads from text, which ONNX cannot read as Kiln does",
                        f.name
                    ))),
                    (FeatureKind::Categorical, Col::Number(x)) => Ok(Col::Labels(x.clone())),
                }
            })
            .collect::<Result<Vec<Col>>>()?;
        Ok(Features {
            stats,
            cols: found,
            tree: None,
        })
    }

    /// `[N, 1]` zeros (for a model that reads no feature).
    pub(crate) fn zeros(&self, g: &mut Graph) -> String {
        let none = g.none(&self.cols[0]);
        g.cast(&none, Elem::Double)
    }

    /// The tree matrix `[N, features]`: numbers, and categories as their
    /// rank among the training levels (missing and other labels NaN).
    pub(crate) fn tree_matrix(&mut self, g: &mut Graph) -> String {
        if let Some(t) = &self.tree {
            return t.clone();
        }
        let columns: Vec<String> = self
            .stats
            .iter()
            .zip(&self.cols)
            .map(|(f, col)| match f.kind {
                FeatureKind::Numeric => col.tensor().to_owned(),
                FeatureKind::Categorical => {
                    let ranks: Vec<f64> = (0..f.levels.len()).map(|i| i as f64).collect();
                    g.lookup(col, &f.levels, &ranks, f64::NAN)
                }
            })
            .collect();
        let t = g.concat(&columns, 1);
        self.tree = Some(t.clone());
        t
    }

    /// The linear encoding `[N, encoder.width()]`.
    pub(crate) fn linear(&self, g: &mut Graph, encoder: &LinearEncoder) -> String {
        let mut blocks = Vec::new();
        for c in &encoder.columns {
            let col = &self.cols[c.feature()];
            match c {
                LinearColumn::Numeric {
                    fill,
                    mean,
                    scale,
                    indicator,
                    log,
                    ..
                } => {
                    let x = col.tensor().to_owned();
                    let v = if *log { signed_log(g, &x) } else { x };
                    let miss = g.missing(col);
                    let f = g.scalar(*fill);
                    let filled = g.select(&miss, &f, &v);
                    blocks.push(g.standardise(&filled, *mean, *scale));
                    if *indicator {
                        blocks.push(g.cast(&miss, Elem::Double));
                    }
                }
                LinearColumn::OneHot { levels, .. } => {
                    if !levels.is_empty() {
                        blocks.push(one_hot(g, col, levels));
                    }
                }
                LinearColumn::Mapped {
                    levels,
                    values,
                    default,
                    shift,
                    scale,
                    ..
                } => {
                    let v = g.lookup(col, levels, values, *default);
                    blocks.push(g.standardise(&v, *shift, *scale));
                }
            }
        }
        g.concat(&blocks, 1)
    }
}

/// `sign(x) · ln(1 + |x|)`.
pub(crate) fn signed_log(g: &mut Graph, x: &str) -> String {
    let sign = g.op("Sign", &[x]);
    let abs = g.op("Abs", &[x]);
    let one = g.scalar(1.0);
    let shifted = g.op("Add", &[&abs, &one]);
    let log = g.op("Log", &[&shifted]);
    g.op("Mul", &[&sign, &log])
}

/// One 0/1 column per label of `levels` (`[N, levels]` doubles); missing
/// and other labels are all zeros.
pub(crate) fn one_hot(g: &mut Graph, col: &Col, levels: &[String]) -> String {
    let n = levels.len() as i64;
    let keys = match col {
        Col::Text(_) => g.strings(
            vec![1, n],
            levels
                .iter()
                // No label is empty; should one be, it must not match missing.
                .map(|l| {
                    if l.is_empty() {
                        "\u{0}".into()
                    } else {
                        l.clone()
                    }
                })
                .collect(),
        ),
        Col::Number(_) | Col::Labels(_) => g.doubles(
            vec![1, n],
            levels
                .iter()
                .map(|l| label_number(l).unwrap_or(f64::NAN))
                .collect(),
        ),
    };
    let eq = g.op("Equal", &[col.tensor(), &keys]);
    g.cast(&eq, Elem::Double)
}
