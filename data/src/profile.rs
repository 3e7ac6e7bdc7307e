//! The dataset profile: per-column type, missing, distinct and infinite
//! counts, numeric range and mean, top values and bar counts (all on every
//! row; infinite numbers are counted and left out of every statistic);
//! std, quantiles, skewness and histograms, and the correlation matrix (on a
//! seeded sample above [`stats::SAMPLE_ROWS`] rows); the first rows as text.

use std::collections::HashMap;

use automl::values::parse_datetime;
use polars::prelude::*;

use crate::stats::{self, Values};

/// Rows shown on the Profile page.
pub const HEAD_ROWS: usize = 20;
/// Bins of a numeric column's histogram.
pub const HISTOGRAM_BINS: usize = 20;
/// Values drawn as bars before the rest is pooled as "other".
pub const BARS: usize = 10;
/// Columns in the correlation matrix.
pub const MAX_CORRELATED: usize = 12;
/// Candidates (fewest missing first) among which the matrix's columns are chosen.
pub const MAX_CORRELATION_CANDIDATES: usize = 40;
/// Categorical columns with more values than this are left out of the matrix.
pub const MAX_CORRELATION_LEVELS: u64 = 50;

pub fn profile(frame: &DataFrame) -> PolarsResult<api::Profile> {
    profile_sampled(frame, stats::SAMPLE_ROWS)
}

/// The profile, with distribution statistics on a sample of `sample_rows`
/// rows when the frame has more.
pub fn profile_sampled(frame: &DataFrame, sample_rows: usize) -> PolarsResult<api::Profile> {
    let rows = frame.height() as u64;
    let sample = sample(frame, sample_rows, stats::SEED)?;
    let mut columns = Vec::with_capacity(frame.width());
    for (c, s) in frame.columns().iter().zip(sample.columns()) {
        let mut p = column_profile(c, rows)?;
        if p.kind == api::ColumnKind::Numeric {
            add_distribution(&mut p, &Values::from_column(s)?);
        }
        columns.push(p);
    }
    let correlations = correlations(&sample, &columns)?;
    Ok(api::Profile {
        rows,
        sampled_rows: (sample.height() < frame.height()).then_some(sample.height() as u64),
        columns,
        correlations,
        head: rows_page(frame, 0, HEAD_ROWS)?,
    })
}

/// A seeded random sample of `k` rows (in their original order), or the
/// whole frame when it has no more than `k` rows.
pub fn sample(frame: &DataFrame, k: usize, seed: u64) -> PolarsResult<DataFrame> {
    if frame.height() <= k {
        return Ok(frame.clone());
    }
    let idx: Vec<IdxSize> = stats::sample_rows(frame.height(), k, seed)
        .into_iter()
        .map(|i| i as IdxSize)
        .collect();
    frame.take(&IdxCa::from_vec("row".into(), idx))
}

/// Std, quantiles, skewness and histogram of a numeric column.
fn add_distribution(p: &mut api::ColumnProfile, values: &Values) {
    let Values::Numbers { values, integer } = values else {
        return;
    };
    let sorted = stats::finite_sorted(values);
    let moments = stats::Moments::of(&sorted);
    p.std = moments.and_then(|m| m.std);
    p.skewness = moments.and_then(|m| m.skewness);
    p.quantiles = stats::quantiles(&sorted);
    p.histogram = stats::histogram(&sorted, *integer, HISTOGRAM_BINS);
}

/// Pearson's r between numeric columns and Cramér's V between categorical
/// ones, for at most [`MAX_CORRELATED`] columns: of the eligible columns, the
/// [`MAX_CORRELATION_CANDIDATES`] with the fewest missing values, then of
/// those the ones most strongly associated with another, in dataset order.
fn correlations(
    sample: &DataFrame,
    profiles: &[api::ColumnProfile],
) -> PolarsResult<Option<api::Correlations>> {
    let mut eligible: Vec<usize> = profiles
        .iter()
        .enumerate()
        .filter(|(_, p)| match p.kind {
            api::ColumnKind::Numeric => p.distinct > 1,
            api::ColumnKind::Categorical | api::ColumnKind::Boolean => {
                (2..=MAX_CORRELATION_LEVELS).contains(&p.distinct)
            }
            _ => false,
        })
        .map(|(i, _)| i)
        .collect();
    let n_eligible = eligible.len();
    if n_eligible < 2 {
        return Ok(None);
    }
    eligible.sort_by_key(|&i| (profiles[i].missing, i));
    eligible.truncate(MAX_CORRELATION_CANDIDATES);
    eligible.sort_unstable();
    let pairs = self::sample(sample, stats::PAIR_ROWS, stats::SEED ^ 1)?;
    let values = eligible
        .iter()
        .map(|&i| Values::from_column(&pairs.columns()[i]))
        .collect::<PolarsResult<Vec<_>>>()?;
    let full = association_matrix(&values);
    let chosen: Vec<usize> = if eligible.len() <= MAX_CORRELATED {
        (0..eligible.len()).collect()
    } else {
        let strength = |i: usize| {
            (0..eligible.len())
                .filter(|&j| j != i)
                .filter_map(|j| full[i][j])
                .fold(0.0f64, |m, v| m.max(v.abs()))
        };
        let mut order: Vec<(f64, usize)> = (0..eligible.len()).map(|i| (strength(i), i)).collect();
        order.sort_by(|a, b| {
            b.0.total_cmp(&a.0)
                .then(
                    profiles[eligible[a.1]]
                        .missing
                        .cmp(&profiles[eligible[b.1]].missing),
                )
                .then(a.1.cmp(&b.1))
        });
        let mut keep: Vec<usize> = order[..MAX_CORRELATED].iter().map(|o| o.1).collect();
        keep.sort_unstable();
        keep
    };
    Ok(Some(api::Correlations {
        columns: chosen
            .iter()
            .map(|&i| profiles[eligible[i]].name.clone())
            .collect(),
        values: chosen
            .iter()
            .map(|&i| chosen.iter().map(|&j| full[i][j]).collect())
            .collect(),
        rows: pairs.height() as u64,
        eligible: n_eligible as u32,
    }))
}

/// Pearson's r for numeric pairs, Cramér's V for categorical pairs, `None`
/// for mixed pairs; 1 on the diagonal.
pub fn association_matrix(values: &[Values]) -> Vec<Vec<Option<f64>>> {
    let k = values.len();
    let mut m = vec![vec![None; k]; k];
    for i in 0..k {
        m[i][i] = Some(1.0);
        for j in i + 1..k {
            let v = match (&values[i], &values[j]) {
                (Values::Numbers { values: x, .. }, Values::Numbers { values: y, .. }) => {
                    stats::pearson(x, y)
                }
                (
                    Values::Categories {
                        codes: a,
                        levels: la,
                    },
                    Values::Categories {
                        codes: b,
                        levels: lb,
                    },
                ) => stats::cramers_v(a, la.len(), b, lb.len()),
                _ => None,
            };
            m[i][j] = v;
            m[j][i] = v;
        }
    }
    m
}

fn dtype_label(dt: &DataType) -> String {
    match dt {
        DataType::String => "text".into(),
        DataType::Boolean => "bool".into(),
        DataType::Int64 => "i64".into(),
        DataType::Float64 => "f64".into(),
        other => other.to_string(),
    }
}

fn column_profile(col: &Column, rows: u64) -> PolarsResult<api::ColumnProfile> {
    let missing = col.null_count() as u64;
    let present = rows - missing;
    let as_text = col.cast(&DataType::String)?;
    let mut counts: HashMap<&str, u64> = HashMap::new();
    for v in as_text.str()?.iter().flatten() {
        *counts.entry(v).or_default() += 1;
    }
    let distinct = counts.len() as u64;
    let mut top: Vec<(&str, u64)> = counts.into_iter().collect();
    top.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
    let top_values: Vec<api::ValueCount> = top
        .iter()
        .take(5)
        .map(|(v, c)| api::ValueCount {
            value: (*v).to_owned(),
            count: *c,
        })
        .collect();
    let bars = api::Bars {
        top: top
            .iter()
            .take(BARS)
            .map(|(v, c)| api::ValueCount {
                value: (*v).to_owned(),
                count: *c,
            })
            .collect(),
        other: top.iter().skip(BARS).map(|(_, c)| c).sum(),
        other_values: top.len().saturating_sub(BARS) as u64,
    };
    let dt = col.dtype();
    let (mut min, mut max, mut mean, mut infinite) = (None, None, None, 0);
    let kind = if dt.is_primitive_numeric() {
        let f = col.cast(&DataType::Float64)?;
        let ca = f.f64()?;
        let vals: Vec<f64> = ca.iter().flatten().filter(|v| !v.is_nan()).collect();
        infinite = vals.iter().filter(|v| v.is_infinite()).count() as u64;
        min = vals
            .iter()
            .copied()
            .filter(|v| v.is_finite())
            .reduce(f64::min);
        max = vals
            .iter()
            .copied()
            .filter(|v| v.is_finite())
            .reduce(f64::max);
        mean = stats::mean(&vals);
        api::ColumnKind::Numeric
    } else if dt == &DataType::Boolean {
        api::ColumnKind::Boolean
    } else if matches!(dt, DataType::Date | DataType::Datetime(..)) {
        api::ColumnKind::Datetime
    } else {
        text_kind(&top, distinct, present)
    };
    Ok(api::ColumnProfile {
        name: col.name().to_string(),
        kind,
        dtype: dtype_label(dt),
        missing,
        distinct,
        infinite,
        min,
        max,
        mean,
        top_values,
        std: None,
        quantiles: None,
        skewness: None,
        histogram: None,
        bars: matches!(
            kind,
            api::ColumnKind::Categorical | api::ColumnKind::Boolean
        )
        .then_some(bars),
    })
}

/// Categorical, date-like, free text or identifier, from the values.
fn text_kind(top: &[(&str, u64)], distinct: u64, present: u64) -> api::ColumnKind {
    if present > 0 && top.iter().take(20).all(|(v, _)| looks_like_date(v)) {
        return api::ColumnKind::Datetime;
    }
    if present >= 50 && distinct as f64 > 0.9 * present as f64 {
        let avg_len = top.iter().take(200).map(|(v, _)| v.len()).sum::<usize>() as f64
            / top.len().clamp(1, 200) as f64;
        let spaced = top
            .iter()
            .take(200)
            .filter(|(v, _)| v.contains(' '))
            .count()
            * 2
            > top.len().min(200);
        return if avg_len > 20.0 || spaced {
            api::ColumnKind::Text
        } else {
            api::ColumnKind::Identifier
        };
    }
    api::ColumnKind::Categorical
}

/// A date or date-time in a common written form ([`parse_datetime`], the
/// grammar the recipe's date parts read).
pub(crate) fn looks_like_date(v: &str) -> bool {
    parse_datetime(v, false).is_some()
}

/// Every cell of a column as text (`None` is missing).
pub fn text_cells(c: &Column) -> PolarsResult<Vec<Option<String>>> {
    let t = c.cast(&DataType::String)?;
    Ok(t.str()?.iter().map(|v| v.map(str::to_owned)).collect())
}

/// Rows `offset..offset + limit` with every cell as text.
pub fn rows_page(frame: &DataFrame, offset: usize, limit: usize) -> PolarsResult<api::RowsPage> {
    let total = frame.height();
    let start = offset.min(total);
    let len = limit.min(total - start);
    let slice = frame.slice(start as i64, len);
    let mut cols: Vec<Vec<Option<String>>> = Vec::with_capacity(slice.width());
    for c in slice.columns() {
        cols.push(text_cells(c)?);
    }
    let rows = (0..len)
        .map(|r| cols.iter().map(|c| c[r].clone()).collect())
        .collect();
    Ok(api::RowsPage {
        columns: frame
            .get_column_names()
            .iter()
            .map(|s| s.to_string())
            .collect(),
        offset: start as u64,
        total: total as u64,
        rows,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profiles_numbers_text_and_missing() {
        let frame = df!(
            "n" => [Some(1.0), None, Some(3.0)],
            "c" => [Some("a"), Some("b"), Some("a")],
            "d" => ["2012/01/01", "2012/01/02", "2012/01/03"],
        )
        .unwrap();
        let p = profile(&frame).unwrap();
        assert_eq!(p.rows, 3);
        let n = &p.columns[0];
        assert_eq!(
            (n.kind, n.missing, n.distinct, n.min, n.max, n.mean),
            (
                api::ColumnKind::Numeric,
                1,
                2,
                Some(1.0),
                Some(3.0),
                Some(2.0)
            )
        );
        let c = &p.columns[1];
        assert_eq!(c.kind, api::ColumnKind::Categorical);
        assert_eq!(
            c.top_values[0],
            api::ValueCount {
                value: "a".into(),
                count: 2
            }
        );
        assert_eq!(p.columns[2].kind, api::ColumnKind::Datetime);
        assert_eq!(p.head.rows.len(), 3);
        assert_eq!(p.head.rows[1][0], None);
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-12 * b.abs().max(1.0)
    }

    #[test]
    fn distribution_statistics_match_numpy() {
        let x = [
            Some(2.5),
            Some(3.1),
            Some(0.4),
            None,
            Some(10.2),
            Some(4.4),
            Some(4.4),
            Some(7.5),
            Some(0.5),
            Some(12.0),
            Some(3.3),
            Some(25.9),
            Some(1.1),
        ];
        let p = profile(&df!("x" => x).unwrap()).unwrap();
        let c = &p.columns[0];
        assert_eq!(p.sampled_rows, None);
        // numpy 2.4.6 / scipy 1.17.1 on the 12 present values:
        // x.std(ddof=1), np.percentile(x, [5, 25, 50, 75, 95]), scipy.stats.skew(x),
        // np.histogram(x, bins=20).
        assert!(close(c.std.unwrap(), 7.196_479_568_637_583));
        let q = c.quantiles.unwrap();
        for (got, want) in [
            (q.p05, 0.455),
            (q.p25, 2.15),
            (q.median, 3.85),
            (q.p75, 8.175),
            (q.p95, 18.254_999_999_999_99),
        ] {
            assert!(close(got, want), "{got} vs {want}");
        }
        assert!(close(c.skewness.unwrap(), 1.821_333_009_031_533_6));
        let h = c.histogram.as_ref().unwrap();
        assert_eq!(
            h.counts,
            [3, 1, 2, 2, 0, 1, 0, 1, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]
        );
        assert_eq!(h.edges.len(), 21);
        assert!(close(h.edges[1], 1.675) && close(h.edges[19], 24.625));
        assert_eq!((h.edges[0], h.edges[20]), (0.4, 25.9));
        assert_eq!(c.bars, None);
    }

    #[test]
    fn categories_get_ten_bars_and_the_rest_pooled() {
        // Level i occurs i + 1 times: l11 is the most frequent.
        let mut v: Vec<Option<String>> = Vec::new();
        for i in 0..12 {
            v.extend(std::iter::repeat_n(Some(format!("l{i:02}")), i + 1));
        }
        v.push(None);
        let p = profile(&df!("c" => v).unwrap()).unwrap();
        let bars = p.columns[0].bars.as_ref().unwrap();
        assert_eq!(bars.top.len(), 10);
        assert_eq!((bars.top[0].value.as_str(), bars.top[0].count), ("l11", 12));
        assert_eq!((bars.other, bars.other_values), (1 + 2, 2));
        assert_eq!(p.columns[0].std, None);
    }

    #[test]
    fn large_frames_get_statistics_on_a_sample_and_counts_on_every_row() {
        let x: Vec<Option<f64>> = (0..1000)
            .map(|i| (i % 10 != 0).then_some(f64::from(i)))
            .collect();
        let frame = df!("x" => x).unwrap();
        let p = profile_sampled(&frame, 200).unwrap();
        assert_eq!(p.sampled_rows, Some(200));
        let c = &p.columns[0];
        assert_eq!(
            (c.missing, c.distinct, c.min, c.max),
            (100, 900, Some(1.0), Some(999.0))
        );
        let sampled: u64 = c.histogram.as_ref().unwrap().counts.iter().sum();
        assert!(
            (170..=200).contains(&sampled),
            "{sampled} present of 200 sampled"
        );
        let median = c.quantiles.unwrap().median;
        assert!((400.0..600.0).contains(&median), "{median}");
        assert_eq!(profile_sampled(&frame, 200).unwrap(), p, "seeded");
    }

    #[test]
    fn correlations_pair_numbers_with_pearson_and_categories_with_cramers_v() {
        let n = 100;
        let x: Vec<f64> = (0..n).map(f64::from).collect();
        let y: Vec<f64> = x.iter().map(|v| 3.0 - 2.0 * v).collect();
        let c: Vec<&str> = (0..n).map(|i| ["a", "b", "c"][i as usize % 3]).collect();
        let d: Vec<&str> = (0..n).map(|i| ["x", "y", "z"][i as usize % 3]).collect();
        let id: Vec<String> = (0..n).map(|i| format!("u{i:04}")).collect();
        let frame = df!("x" => x, "id" => id, "c" => c, "y" => y, "d" => d).unwrap();
        let m = profile(&frame).unwrap().correlations.unwrap();
        assert_eq!(m.columns, ["x", "c", "y", "d"]);
        assert_eq!((m.eligible, m.rows), (4, 100));
        assert!(close(m.values[0][2].unwrap(), -1.0));
        assert!(close(m.values[1][3].unwrap(), 1.0));
        assert_eq!((m.values[0][1], m.values[3][0]), (None, None));
        assert_eq!(m.values[2][2], Some(1.0));
    }

    #[test]
    fn the_matrix_keeps_the_twelve_columns_most_related_to_another() {
        let n = 200;
        let mut rng = automl::Rng::new(3);
        let mut cols = Vec::new();
        for k in 0..7 {
            let base: Vec<f64> = (0..n).map(|_| rng.next_f64()).collect();
            let twin: Vec<f64> = base.iter().map(|b| b + 0.01 * rng.next_f64()).collect();
            cols.push(Column::new(format!("a{k}").into(), base));
            cols.push(Column::new(format!("b{k}").into(), twin));
        }
        // Two lone noise columns, placed first.
        for name in ["noise1", "noise2"] {
            let v: Vec<f64> = (0..n).map(|_| rng.next_f64()).collect();
            cols.insert(0, Column::new(name.into(), v));
        }
        let frame = DataFrame::new_infer_height(cols).unwrap();
        let m = profile(&frame).unwrap().correlations.unwrap();
        assert_eq!(m.eligible, 16);
        assert_eq!(m.columns.len(), MAX_CORRELATED);
        assert!(
            !m.columns.iter().any(|c| c.starts_with("noise")),
            "{:?}",
            m.columns
        );
        assert_eq!(m.columns[..2], ["a0", "b0"]);
    }

    #[test]
    fn many_distinct_short_codes_are_identifiers() {
        let ids: Vec<String> = (0..100).map(|i| format!("u{i:04}")).collect();
        let frame = df!("id" => ids).unwrap();
        assert_eq!(
            profile(&frame).unwrap().columns[0].kind,
            api::ColumnKind::Identifier
        );
    }

    #[test]
    fn pages_past_the_end_are_empty() {
        let frame = df!("x" => [1, 2, 3]).unwrap();
        let page = rows_page(&frame, 10, 5).unwrap();
        assert!(page.rows.is_empty());
        assert_eq!(page.total, 3);
    }
}
