//! The recipe's row-wise steps as ONNX operators, on the columns by name.
//! A step ONNX cannot express as Kiln computes it (reading numbers or
//! dates written as text, writing numbers as labels) is refused, naming the
//! step and the column, rather than exported to score differently.

use super::encode::{one_hot, signed_log};
use super::graph::{Col, Graph, label_number};
use super::proto::{Attr, Elem};
use crate::data::category_label;
use crate::error::{Error, Result};
use crate::recipe::{Fill, FittedStep, Recipe, one_hot_name};
use crate::segments::{Input, Segments};
use crate::values::parse_number;

/// Columns by name, in order.
pub(crate) type Columns = Vec<(String, Col)>;

/// Applies every step of `recipe` to `cols`.
pub(crate) fn apply(g: &mut Graph, recipe: &Recipe, cols: &mut Columns) -> Result<()> {
    for step in &recipe.steps {
        apply_step(g, step, cols)?;
    }
    Ok(())
}

/// The step's name as the recipe editor shows it.
fn op_name(step: &FittedStep) -> &'static str {
    match step {
        FittedStep::Drop { .. } => "drop columns",
        FittedStep::SetMissing { .. } => "read values as missing",
        FittedStep::Impute { .. } => "fill missing values",
        FittedStep::Clip { .. } => "clip outliers",
        FittedStep::ToNumber { .. } => "cast to number",
        FittedStep::ToCategory { .. } => "cast to category",
        FittedStep::Log { .. } => "log",
        FittedStep::Bin { .. } => "bin",
        FittedStep::OneHot { .. } => "one-hot",
        FittedStep::DateParts { .. } => "date parts",
        FittedStep::Rename { .. } => "rename",
        FittedStep::Segments { .. } => "add segments",
        FittedStep::GroupRare { .. } => "group rare categories",
    }
}

fn apply_step(g: &mut Graph, step: &FittedStep, cols: &mut Columns) -> Result<()> {
    let on = match step {
        FittedStep::Segments { name, .. } => format!(" making `{name}`"),
        FittedStep::Drop { .. } => String::new(),
        other => format!(" on `{}`", other.column().unwrap_or_default()),
    };
    let refuse = |why: String| {
        Error::Onnx(format!(
            "the recipe's `{}` step{on} cannot be exported: {why}",
            op_name(step)
        ))
    };
    match step {
        FittedStep::Drop { columns } => {
            cols.retain(|(name, _)| !columns.contains(name));
            return Ok(());
        }
        FittedStep::Segments { name, segments } => {
            // A step on columns the model does not take feeds no feature.
            if segments
                .encoding
                .inputs
                .iter()
                .any(|i| !cols.iter().any(|(c, _)| c == i.column()))
            {
                return Ok(());
            }
            let label = segments_graph(g, segments, cols).map_err(refuse)?;
            cols.push((name.clone(), Col::Text(label)));
            return Ok(());
        }
        _ => {}
    }
    let name = step.column().unwrap_or_default().to_owned();
    // A step on a column the model does not take (the model's inputs are
    // the columns its features come from) feeds no feature.
    let Some(at) = cols.iter().position(|(c, _)| *c == name) else {
        return Ok(());
    };
    let (_, col) = cols.remove(at);
    let kind = |c: &Col| match c {
        Col::Number(_) => "numbers",
        Col::Text(_) => "text",
        Col::Labels(_) => "numbers read as categories",
    };
    let wrong = |c: &Col| refuse(format!("`{name}` holds {}", kind(c)));
    let made: Columns = match step {
        FittedStep::Drop { .. } | FittedStep::Segments { .. } => unreachable!("handled above"),
        FittedStep::SetMissing { values, .. } => {
            let out = match &col {
                Col::Number(x) => {
                    let targets: Vec<f64> = values
                        .iter()
                        .map(|s| parse_number(s))
                        .filter(|x| !x.is_nan())
                        .collect();
                    let hit = g.is_in_numbers(&col, &targets);
                    let nan = g.scalar(f64::NAN);
                    Col::Number(g.select(&hit, &nan, x))
                }
                Col::Labels(x) => {
                    let hit = g.is_in(&col, values);
                    let nan = g.scalar(f64::NAN);
                    Col::Labels(g.select(&hit, &nan, x))
                }
                Col::Text(x) => {
                    let hit = g.is_in(&col, values);
                    let empty = g.strings(vec![1], vec![String::new()]);
                    Col::Text(g.select(&hit, &empty, x))
                }
            };
            vec![(name.clone(), out)]
        }
        FittedStep::Impute { value, .. } => {
            let miss = g.missing(&col);
            let out = match (&col, value) {
                (Col::Number(x), Fill::Number(v)) => {
                    let v = g.scalar(*v);
                    Col::Number(g.select(&miss, &v, x))
                }
                (Col::Number(x), Fill::Text(t)) => {
                    let v = g.scalar(parse_number(t));
                    Col::Number(g.select(&miss, &v, x))
                }
                (Col::Text(x), fill) => {
                    let label = match fill {
                        Fill::Number(v) => category_label(*v),
                        Fill::Text(t) => t.clone(),
                    };
                    let v = g.strings(vec![1], vec![label]);
                    Col::Text(g.select(&miss, &v, x))
                }
                (Col::Labels(x), fill) => {
                    let label = match fill {
                        Fill::Number(v) => category_label(*v),
                        Fill::Text(t) => t.clone(),
                    };
                    let Some(v) = label_number(&label) else {
                        return Err(refuse(format!(
                            "it fills `{name}`, numbers read as categories, with the label `{label}`, which is not a number"
                        )));
                    };
                    let v = g.scalar(v);
                    Col::Labels(g.select(&miss, &v, x))
                }
            };
            vec![(name.clone(), out)]
        }
        FittedStep::Clip { lower, upper, .. } => {
            let Col::Number(x) = &col else {
                return Err(wrong(&col));
            };
            let (lo, hi) = (g.scalar(*lower), g.scalar(*upper));
            let raised = g.op("Max", &[x, &lo]);
            let clipped = g.op("Min", &[&raised, &hi]);
            let miss = g.missing(&col);
            vec![(name.clone(), Col::Number(g.select(&miss, x, &clipped)))]
        }
        FittedStep::ToNumber { .. } => match &col {
            Col::Number(x) | Col::Labels(x) => vec![(name.clone(), Col::Number(x.clone()))],
            Col::Text(_) => {
                return Err(refuse(format!(
                    "it reads the text of `{name}` as numbers written the way people write them (currency signs, thousands separators), which ONNX's Cast does not; give the model a number column instead"
                )));
            }
        },
        FittedStep::ToCategory { .. } => match &col {
            Col::Number(x) | Col::Labels(x) => vec![(name.clone(), Col::Labels(x.clone()))],
            Col::Text(_) => vec![(name.clone(), col.clone())],
        },
        FittedStep::Log { .. } => {
            let Col::Number(x) = &col else {
                return Err(wrong(&col));
            };
            vec![(name.clone(), Col::Number(signed_log(g, x)))]
        }
        FittedStep::Bin { edges, labels, .. } => {
            let Col::Number(x) = &col else {
                return Err(wrong(&col));
            };
            vec![(name.clone(), Col::Text(bin(g, x, edges, labels)))]
        }
        FittedStep::OneHot { categories, .. } => {
            let block = one_hot(g, &col, categories);
            categories
                .iter()
                .enumerate()
                .map(|(i, c)| {
                    let starts = g.int64s(vec![1], vec![i as i64]);
                    let ends = g.int64s(vec![1], vec![i as i64 + 1]);
                    let axes = g.int64s(vec![1], vec![1]);
                    let one = g.op("Slice", &[&block, &starts, &ends, &axes]);
                    (one_hot_name(&name, c), Col::Number(one))
                })
                .collect()
        }
        FittedStep::DateParts { .. } => {
            return Err(refuse(format!(
                "it reads the dates in `{name}` from text, which ONNX has no operator for; give the model the date parts as number columns instead"
            )));
        }
        FittedStep::Rename { to, .. } => {
            if cols.iter().any(|(c, _)| c == to) {
                return Err(refuse(format!("a column named `{to}` already exists")));
            }
            vec![(to.clone(), col.clone())]
        }
        FittedStep::GroupRare { keep, other, .. } => {
            let Col::Text(x) = &col else {
                return Err(refuse(format!(
                    "it groups the categories of `{name}`, which holds {}, and ONNX cannot write numbers as Kiln's labels",
                    kind(&col)
                )));
            };
            let hit = g.is_in(&col, keep);
            let other = g.strings(vec![1], vec![other.clone()]);
            let grouped = g.select(&hit, x, &other);
            let miss = g.missing(&col);
            let empty = g.strings(vec![1], vec![String::new()]);
            vec![(name.clone(), Col::Text(g.select(&miss, &empty, &grouped)))]
        }
    };
    for (i, c) in made.into_iter().enumerate() {
        cols.insert(at + i, c);
    }
    Ok(())
}

/// The label of each number's bin: `labels[i]` for `edges[i-1] <= x <
/// edges[i]`, the count of edges at or below `x`; missing stays missing.
fn bin(g: &mut Graph, x: &str, edges: &[f64], labels: &[String]) -> String {
    let col = Col::Number(x.to_owned());
    let index = if edges.is_empty() {
        let none = g.none(&col);
        g.cast(&none, Elem::Int64)
    } else {
        let e = g.doubles(vec![1, edges.len() as i64], edges.to_vec());
        let at_or_above = g.op("GreaterOrEqual", &[x, &e]);
        let counts = g.cast(&at_or_above, Elem::Int64);
        let axes = g.int64s(vec![1], vec![1]);
        g.op_with(
            "ReduceSum",
            &[&counts, &axes],
            vec![("keepdims", Attr::Int(1))],
        )
    };
    let names = g.strings(vec![labels.len() as i64], labels.to_vec());
    let label = g.op("Gather", &[&names, &index]);
    let miss = g.missing(&col);
    let empty = g.strings(vec![1], vec![String::new()]);
    g.select(&miss, &empty, &label)
}

/// The segment label (`1` to `k`) of each row's nearest centre, as
/// [`Segments::assign`] finds it: numbers standardised with missing as 0,
/// categories one-hot, squared distances, the first centre on a tie.
fn segments_graph(
    g: &mut Graph,
    segments: &Segments,
    cols: &Columns,
) -> std::result::Result<String, String> {
    let mut blocks = Vec::new();
    for input in &segments.encoding.inputs {
        let column = input.column();
        let Some((_, col)) = cols.iter().find(|(c, _)| c == column) else {
            unreachable!("checked by the caller");
        };
        match (input, col) {
            (Input::Number { mean, scale, .. }, Col::Number(x)) => {
                let z = g.standardise(x, *mean, *scale);
                let miss = g.missing(col);
                let zero = g.scalar(0.0);
                blocks.push(g.select(&miss, &zero, &z));
            }
            (Input::Number { .. }, _) => {
                return Err(format!("`{column}` holds text where segments read numbers"));
            }
            (Input::Category { levels, .. }, col) => blocks.push(one_hot(g, col, levels)),
        }
    }
    let x = g.concat(&blocks, 1);
    let axis = g.int64s(vec![1], vec![1]);
    let rows = g.op("Unsqueeze", &[&x, &axis]);
    let k = segments.centroids.len() as i64;
    let width = segments.encoding.width() as i64;
    let centres = g.doubles(
        vec![k, width],
        segments.centroids.iter().flatten().copied().collect(),
    );
    let diff = g.op("Sub", &[&rows, &centres]);
    let squared = g.op("Mul", &[&diff, &diff]);
    let last = g.int64s(vec![1], vec![2]);
    let distance = g.op_with(
        "ReduceSum",
        &[&squared, &last],
        vec![("keepdims", Attr::Int(0))],
    );
    let nearest = g.op_with(
        "ArgMin",
        &[&distance],
        vec![("axis", Attr::Int(1)), ("keepdims", Attr::Int(1))],
    );
    let names = g.strings(vec![k], (1..=k).map(|s| s.to_string()).collect());
    Ok(g.op("Gather", &[&names, &nearest]))
}
