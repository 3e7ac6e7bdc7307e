//! Columns beside the target, for the global tree model:
//!
//! - **known covariates** have a value at every step, the horizon's
//!   included, because they are known in advance (a price list, holidays,
//!   a promotion calendar). Their future values come as rows after an
//!   item's last target value, with the target left empty;
//! - **item attributes** have one value per item (a store's region, a
//!   product's category).
//!
//! Both become numbers: a column whose every value reads as a number is
//! numeric; any other is categorical, coded by its sorted distinct values,
//! and a value the forecaster has not seen gets one more code. The
//! encodings are kept in the forecaster, so a new history is coded as the
//! training one was. The local methods (ETS, Theta, …) do not read them.

use serde::{Deserialize, Serialize};

use super::Series;
use crate::values::parse_number;
use crate::{Error, Result};

/// At most this many distinct values in a categorical covariate or attribute.
pub const MAX_CATEGORIES: usize = 10_000;
/// At most this many covariates and attributes together.
pub const MAX_COLUMNS: usize = 50;

/// How a column's cells become numbers.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Encoding {
    pub name: String,
    /// `None`: numeric. Otherwise the categories, sorted; a value's code is its index.
    pub categories: Option<Vec<String>>,
}

/// A covariate or attribute column as text, with the encoding to read it
/// with (`None`: inferred from the cells).
#[derive(Clone, Copy, Debug)]
pub struct ExtraColumn<'a> {
    pub name: &'a str,
    pub cells: &'a [Option<String>],
    pub encoding: Option<&'a Encoding>,
}

fn present(cell: &Option<String>) -> Option<&str> {
    cell.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

impl Encoding {
    /// Numeric when every present cell reads as a finite number, else categorical.
    pub fn infer(name: &str, cells: &[Option<String>]) -> Result<Encoding> {
        let numeric = cells
            .iter()
            .filter_map(present)
            .all(|c| parse_number(c).is_finite());
        let categories = if numeric {
            None
        } else {
            let mut seen: Vec<String> =
                cells.iter().filter_map(present).map(String::from).collect();
            seen.sort_unstable();
            seen.dedup();
            if seen.len() > MAX_CATEGORIES {
                return Err(Error::Parameter {
                    name: "covariates",
                    reason: format!(
                        "column `{name}` has {} distinct values; a covariate or item attribute needs numbers or at most {MAX_CATEGORIES} categories",
                        seen.len()
                    ),
                });
            }
            Some(seen)
        };
        Ok(Encoding {
            name: name.to_string(),
            categories,
        })
    }

    /// Each cell as a number (NaN: missing). A numeric column with text
    /// that does not read as a number is refused, naming rows.
    pub fn encode(&self, cells: &[Option<String>]) -> Result<Vec<f64>> {
        let mut bad = Vec::new();
        let mut bad_count = 0usize;
        let out = cells
            .iter()
            .enumerate()
            .map(|(row, cell)| {
                let Some(c) = present(cell) else {
                    return f64::NAN;
                };
                match &self.categories {
                    Some(cats) => cats
                        .binary_search_by(|k| k.as_str().cmp(c))
                        .map_or(cats.len() as f64, |i| i as f64),
                    None => {
                        let v = parse_number(c);
                        if !v.is_finite() {
                            bad_count += 1;
                            if bad.len() < 3 {
                                bad.push(format!("row {} (\"{c}\")", row + 1));
                            }
                        }
                        v
                    }
                }
            })
            .collect();
        if bad_count > 0 {
            return Err(Error::Parameter {
                name: "covariates",
                reason: format!(
                    "column `{}` was numeric when the forecaster was built, but {bad_count} value{} cannot be read as numbers, for example {}",
                    self.name,
                    if bad_count == 1 { "" } else { "s" },
                    bad.join(", ")
                ),
            });
        }
        Ok(out)
    }
}

/// The encoding of each column (its own, or inferred) and its coded cells.
pub(super) fn encode_all(columns: &[ExtraColumn<'_>]) -> Result<(Vec<Encoding>, Vec<Vec<f64>>)> {
    let mut encodings = Vec::with_capacity(columns.len());
    let mut coded = Vec::with_capacity(columns.len());
    for c in columns {
        let e = match c.encoding {
            Some(e) => e.clone(),
            None => Encoding::infer(c.name, c.cells)?,
        };
        coded.push(e.encode(c.cells)?);
        encodings.push(e);
    }
    Ok((encodings, coded))
}

/// One item's covariate on its grid: `slots` cells from the item's first
/// step, each the mean of its rows' values (numeric) or the last one
/// (categorical). Gaps within the history (`history` steps) are carried
/// forward, then back from the first value; steps after the history are
/// left as given.
pub(super) fn place(
    coded: &[f64],
    numeric: bool,
    points: &[(usize, usize)],
    slots: usize,
    history: usize,
) -> Vec<f64> {
    let mut sums = vec![0.0; slots];
    let mut counts = vec![0usize; slots];
    for &(slot, row) in points {
        let v = coded[row];
        if slot >= slots || !v.is_finite() {
            continue;
        }
        if numeric {
            sums[slot] += v;
            counts[slot] += 1;
        } else {
            sums[slot] = v;
            counts[slot] = 1;
        }
    }
    let mut out: Vec<f64> = sums
        .iter()
        .zip(&counts)
        .map(|(s, c)| if *c > 0 { s / *c as f64 } else { f64::NAN })
        .collect();
    let history = history.min(slots);
    let mut last = f64::NAN;
    for v in &mut out[..history] {
        if v.is_finite() {
            last = *v;
        } else {
            *v = last;
        }
    }
    if let Some(first) = out[..history].iter().position(|v| v.is_finite()) {
        let v = out[first];
        out[..first].fill(v);
    }
    out
}

/// One item's attribute: its single value (NaN when it has none), or a
/// refusal when the item's rows disagree.
pub(super) fn attribute(
    encoding: &Encoding,
    cells: &[Option<String>],
    coded: &[f64],
    rows: &[usize],
    item: &str,
) -> Result<f64> {
    let mut first: Option<(usize, f64)> = None;
    for &r in rows {
        let v = coded[r];
        if !v.is_finite() {
            continue;
        }
        match first {
            None => first = Some((r, v)),
            Some((r0, v0)) if v0 != v => {
                let show = |r: usize| present(&cells[r]).unwrap_or("").to_string();
                return Err(Error::Parameter {
                    name: "attributes",
                    reason: format!(
                        "column `{}` is an item attribute, but item `{item}` has “{}” in row {} and “{}” in row {}; an attribute has one value per item (make it a known covariate instead)",
                        encoding.name,
                        show(r0),
                        r0 + 1,
                        show(r),
                        r + 1
                    ),
                });
            }
            Some(_) => {}
        }
    }
    Ok(first.map_or(f64::NAN, |(_, v)| v))
}

/// Checks that every series has each known covariate for the `horizon`
/// steps after its history (`names` in column order).
pub fn check_future(series: &[Series], horizon: usize, names: &[String]) -> Result<()> {
    for s in series {
        if s.covariates.len() != names.len() {
            return Err(Error::Parameter {
                name: "covariates",
                reason: format!(
                    "item `{}` has {} known covariates, the forecaster {}",
                    s.item,
                    s.covariates.len(),
                    names.len()
                ),
            });
        }
        let n = s.values.len();
        for (name, c) in names.iter().zip(&s.covariates) {
            let missing = (n..n + horizon)
                .filter(|t| !c.get(*t).is_some_and(|v| v.is_finite()))
                .count();
            if missing > 0 {
                return Err(Error::Parameter {
                    name: "covariates",
                    reason: format!(
                        "item `{}`: the known covariate `{name}` has no value for {missing} of the {horizon} steps after the history; give its future values in rows after the item's last target value, with the target left empty",
                        s.item
                    ),
                });
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cells(v: &[&str]) -> Vec<Option<String>> {
        v.iter()
            .map(|s| (!s.is_empty()).then(|| s.to_string()))
            .collect()
    }

    #[test]
    fn columns_are_coded_as_numbers_or_sorted_categories() {
        let price = cells(&["1,200", "", "3.5"]);
        let e = Encoding::infer("price", &price).expect("infers");
        assert_eq!(e.categories, None);
        let v = e.encode(&price).expect("encodes");
        assert_eq!(v[0], 1200.0);
        assert!(v[1].is_nan());
        let holiday = cells(&["none", "xmas", "none", "easter"]);
        let e = Encoding::infer("holiday", &holiday).expect("infers");
        assert_eq!(
            e.categories.as_deref(),
            Some(&["easter".to_string(), "none".into(), "xmas".into()][..])
        );
        assert_eq!(
            e.encode(&cells(&["xmas", "labour day", ""]))
                .expect("encodes")[..2],
            [2.0, 3.0]
        );
        let numeric = Encoding {
            name: "price".into(),
            categories: None,
        };
        let err = numeric
            .encode(&cells(&["1", "cheap"]))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("`price`") && err.contains("row 2 (\"cheap\")"),
            "{err}"
        );
    }

    #[test]
    fn history_gaps_are_carried_forward_and_the_future_is_checked() {
        // Slots 0..6 from rows (slot, row); history is 4 steps.
        let coded = [f64::NAN, 2.0, 4.0, 6.0, 9.0];
        let placed = place(
            &coded,
            true,
            &[(0, 0), (1, 1), (1, 2), (3, 3), (5, 4)],
            6,
            4,
        );
        assert_eq!(placed[..4], [3.0, 3.0, 3.0, 6.0]);
        assert!(placed[4].is_nan());
        assert_eq!(placed[5], 9.0);
        let s = Series {
            item: "a".into(),
            values: vec![1.0; 4],
            covariates: vec![placed],
            ..Series::default()
        };
        let err = check_future(&[s], 2, &["price".into()])
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("item `a`") && err.contains("`price` has no value for 1 of the 2 steps"),
            "{err}"
        );
    }
}
