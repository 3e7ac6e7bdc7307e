//! The dataset profile: per-column type, missing and distinct counts,
//! numeric range and mean, top values, and the first rows as text.

use std::collections::HashMap;

use polars::prelude::*;

/// Rows shown on the Profile page.
pub const HEAD_ROWS: usize = 20;

pub fn profile(frame: &DataFrame) -> PolarsResult<api::Profile> {
    let rows = frame.height() as u64;
    let columns = frame
        .columns()
        .iter()
        .map(|c| column_profile(c, rows))
        .collect::<PolarsResult<Vec<_>>>()?;
    Ok(api::Profile {
        rows,
        columns,
        head: rows_page(frame, 0, HEAD_ROWS)?,
    })
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
    let dt = col.dtype();
    let (mut min, mut max, mut mean) = (None, None, None);
    let kind = if dt.is_primitive_numeric() {
        let f = col.cast(&DataType::Float64)?;
        let ca = f.f64()?;
        let vals: Vec<f64> = ca.iter().flatten().filter(|v| v.is_finite()).collect();
        if !vals.is_empty() {
            min = vals.iter().copied().reduce(f64::min);
            max = vals.iter().copied().reduce(f64::max);
            mean = Some(vals.iter().sum::<f64>() / vals.len() as f64);
        }
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
        min,
        max,
        mean,
        top_values,
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

/// `2012-01-31`, `2012/01/31`, optionally followed by a time.
fn looks_like_date(v: &str) -> bool {
    let b = v.as_bytes();
    b.len() >= 10
        && b[..4].iter().all(u8::is_ascii_digit)
        && (b[4] == b'-' || b[4] == b'/')
        && b[5..7].iter().all(u8::is_ascii_digit)
        && b[7] == b[4]
        && b[8..10].iter().all(u8::is_ascii_digit)
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
