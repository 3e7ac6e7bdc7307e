//! The cleaning recipe as a model carries it: every step that changes what a
//! row looks like, with the values fitted on the training data (the median
//! an imputation used, the clip bounds, the bin edges, the one-hot
//! categories). Scoring applies it to the caller's columns before the
//! model's own encoders, so a model takes rows as they were uploaded.
//!
//! Steps that only remove rows (duplicates, rows with missing values,
//! outlier rows) shape the training data and are not part of scoring.
//! The backend applies the same steps to whole datasets with Polars and
//! tests that both give the same columns.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

use crate::data::{Column, Dataset, category_label};
use crate::encode::FeatureStats;
use crate::error::{Error, Result};

/// A fitted, row-wise step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum FittedStep {
    /// Columns the model never sees.
    Drop {
        columns: Vec<String>,
    },
    /// These values are read as missing (placeholders such as `-1` or `unknown`).
    SetMissing {
        column: String,
        values: Vec<String>,
    },
    /// Missing values become `value`.
    Impute {
        column: String,
        value: Fill,
    },
    /// Numbers below `lower` become `lower`, above `upper` become `upper`.
    Clip {
        column: String,
        lower: f64,
        upper: f64,
    },
    /// Text read as numbers ([`parse_number`]); what cannot be read is missing.
    ToNumber {
        column: String,
    },
    /// Numbers read as category labels ([`category_label`]).
    ToCategory {
        column: String,
    },
    /// `sign(x) · ln(1 + |x|)`.
    Log {
        column: String,
    },
    /// Numbers become the label of their bin: `labels[i]` for
    /// `edges[i - 1] <= x < edges[i]` (`labels.len() == edges.len() + 1`).
    Bin {
        column: String,
        edges: Vec<f64>,
        labels: Vec<String>,
    },
    /// One 0/1 column per category, named [`one_hot_name`]; the source column goes.
    OneHot {
        column: String,
        categories: Vec<String>,
    },
    /// A date column becomes `_year`, `_month`, `_day`, `_weekday` (0 is
    /// Monday) and, with `time`, `_hour` columns; the source column goes.
    DateParts {
        column: String,
        day_first: bool,
        time: bool,
    },
    Rename {
        column: String,
        to: String,
    },
}

/// An imputation value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Fill {
    Number(f64),
    Text(String),
}

/// The fitted recipe inside a model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Recipe {
    /// The dataset's recipe version the build used.
    pub version: u32,
    /// The columns a caller supplies, with their training statistics (the
    /// model's features are what the steps make of them).
    pub inputs: Vec<FeatureStats>,
    pub steps: Vec<FittedStep>,
}

impl FittedStep {
    /// The column the step reads (`Drop` reads none).
    pub fn column(&self) -> Option<&str> {
        match self {
            FittedStep::Drop { .. } => None,
            FittedStep::SetMissing { column, .. }
            | FittedStep::Impute { column, .. }
            | FittedStep::Clip { column, .. }
            | FittedStep::ToNumber { column }
            | FittedStep::ToCategory { column }
            | FittedStep::Log { column }
            | FittedStep::Bin { column, .. }
            | FittedStep::OneHot { column, .. }
            | FittedStep::DateParts { column, .. }
            | FittedStep::Rename { column, .. } => Some(column),
        }
    }

    /// The columns the step puts in place of its input column.
    pub fn outputs(&self) -> Vec<String> {
        match self {
            FittedStep::Drop { .. } => Vec::new(),
            FittedStep::OneHot { column, categories } => {
                categories.iter().map(|c| one_hot_name(column, c)).collect()
            }
            FittedStep::DateParts { column, time, .. } => date_part_names(column, *time),
            FittedStep::Rename { to, .. } => vec![to.clone()],
            other => other.column().map(str::to_owned).into_iter().collect(),
        }
    }

    /// Applies the step to a whole dataset (`steps` counts from 1 in errors).
    pub fn apply(&self, data: Dataset, step: usize) -> Result<Dataset> {
        let fail = |reason: String| Error::Recipe { step, reason };
        let mut cols = data.into_columns();
        if let FittedStep::Drop { columns } = self {
            cols.retain(|(n, _)| !columns.contains(n));
            return Dataset::new(cols);
        }
        let name = self.column().unwrap_or_default();
        let Some(at) = cols.iter().position(|(n, _)| n == name) else {
            return Err(Error::MissingColumn(name.to_owned()));
        };
        let (_, col) = cols.remove(at);
        let made: Vec<(String, Column)> = match self {
            FittedStep::Drop { .. } => Vec::new(),
            FittedStep::SetMissing { values, .. } => {
                vec![(name.to_owned(), set_missing(col, values))]
            }
            FittedStep::Impute { value, .. } => vec![(name.to_owned(), impute(col, value))],
            FittedStep::Clip { lower, upper, .. } => {
                let v = numbers(&col).map_err(&fail)?;
                let out = v
                    .iter()
                    .map(|&x| {
                        if x.is_nan() {
                            x
                        } else {
                            x.clamp(*lower, *upper)
                        }
                    })
                    .collect();
                vec![(name.to_owned(), Column::Numeric(out))]
            }
            FittedStep::ToNumber { .. } => {
                vec![(name.to_owned(), Column::Numeric(to_numbers(&col)))]
            }
            FittedStep::ToCategory { .. } => {
                vec![(name.to_owned(), Column::Categorical(labels_of(col)))]
            }
            FittedStep::Log { .. } => {
                let v = numbers(&col).map_err(&fail)?;
                vec![(
                    name.to_owned(),
                    Column::Numeric(v.iter().map(|&x| signed_log(x)).collect()),
                )]
            }
            FittedStep::Bin { edges, labels, .. } => {
                let v = numbers(&col).map_err(&fail)?;
                let out = v
                    .iter()
                    .map(|&x| (!x.is_nan()).then(|| labels[bin_of(edges, x)].clone()))
                    .collect();
                vec![(name.to_owned(), Column::Categorical(out))]
            }
            FittedStep::OneHot { categories, .. } => {
                let labels = labels_of(col);
                categories
                    .iter()
                    .map(|c| {
                        let v = labels
                            .iter()
                            .map(|l| f64::from(u8::from(l.as_deref() == Some(c.as_str()))))
                            .collect();
                        (one_hot_name(name, c), Column::Numeric(v))
                    })
                    .collect()
            }
            FittedStep::DateParts {
                day_first, time, ..
            } => {
                let labels = labels_of(col);
                let parsed: Vec<Option<DateTime>> = labels
                    .iter()
                    .map(|l| l.as_deref().and_then(|s| parse_datetime(s, *day_first)))
                    .collect();
                date_part_names(name, *time)
                    .into_iter()
                    .enumerate()
                    .map(|(i, n)| {
                        let v = parsed
                            .iter()
                            .map(|d| d.map_or(f64::NAN, |d| d.parts()[i]))
                            .collect();
                        (n, Column::Numeric(v))
                    })
                    .collect()
            }
            FittedStep::Rename { to, .. } => {
                if cols.iter().any(|(n, _)| n == to) {
                    return Err(fail(format!("a column named `{to}` already exists")));
                }
                vec![(to.clone(), col)]
            }
        };
        for (i, c) in made.into_iter().enumerate() {
            if cols.iter().any(|(n, _)| *n == c.0) {
                return Err(fail(format!(
                    "it makes a column `{}` that already exists",
                    c.0
                )));
            }
            cols.insert(at + i, c);
        }
        Dataset::new(cols)
    }

    fn validate(&self) -> Result<()> {
        let ok = match self {
            FittedStep::Clip { lower, upper, .. } => lower <= upper,
            FittedStep::Bin { edges, labels, .. } => {
                labels.len() == edges.len() + 1
                    && edges.iter().all(|e| e.is_finite())
                    && edges.windows(2).all(|w| w[0] < w[1])
            }
            FittedStep::Impute {
                value: Fill::Number(x),
                ..
            } => x.is_finite(),
            _ => true,
        };
        if ok {
            Ok(())
        } else {
            Err(Error::Artifact(format!(
                "recipe step {self:?} is malformed"
            )))
        }
    }
}

impl Recipe {
    /// Applies every step to `data` (the caller's columns; extra columns pass through).
    pub fn apply<'a>(&self, data: &'a Dataset) -> Result<Cow<'a, Dataset>> {
        if self.steps.is_empty() {
            return Ok(Cow::Borrowed(data));
        }
        let mut out = data.clone();
        for (i, step) in self.steps.iter().enumerate() {
            out = step.apply(out, i + 1)?;
        }
        Ok(Cow::Owned(out))
    }

    /// The input column each of `outputs` (columns after the recipe) comes from.
    pub fn sources(&self, outputs: &[String]) -> Vec<String> {
        outputs.iter().map(|o| self.source_of(o)).collect()
    }

    fn source_of(&self, output: &str) -> String {
        let mut name = output.to_owned();
        for step in self.steps.iter().rev() {
            if let Some(col) = step.column()
                && step.outputs().contains(&name)
            {
                name = col.to_owned();
            }
        }
        name
    }

    pub(crate) fn validate(&self) -> Result<()> {
        for s in &self.steps {
            s.validate()?;
        }
        let mut seen = std::collections::HashSet::new();
        if self.inputs.iter().any(|f| !seen.insert(f.name.as_str())) {
            return Err(Error::Artifact("the recipe names an input twice".into()));
        }
        Ok(())
    }
}

/// The name of the 0/1 column for `category` of `column`.
pub fn one_hot_name(column: &str, category: &str) -> String {
    format!("{column}={category}")
}

/// The names of the date-part columns of `column`.
pub fn date_part_names(column: &str, time: bool) -> Vec<String> {
    let parts: &[&str] = if time {
        &["year", "month", "day", "weekday", "hour"]
    } else {
        &["year", "month", "day", "weekday"]
    };
    parts.iter().map(|p| format!("{column}_{p}")).collect()
}

/// `sign(x) · ln(1 + |x|)`: a log that keeps zero, sign and order.
pub fn signed_log(x: f64) -> f64 {
    if x.is_nan() {
        return x;
    }
    x.signum() * x.abs().ln_1p()
}

/// The bin of `x` given sorted inner `edges`: `i` with `edges[i-1] <= x < edges[i]`.
pub fn bin_of(edges: &[f64], x: f64) -> usize {
    edges.partition_point(|&e| e <= x)
}

/// Reads a number written by people: surrounding spaces, a currency sign
/// (`$ € £ ¥`), a trailing `%` (kept as written: `12%` is 12), thousands
/// separators (`1,234.5`, `1 234`), a decimal comma (`3,5`) and a leading
/// `+`. Anything else is `NaN`.
pub fn parse_number(s: &str) -> f64 {
    let t = s.trim();
    if let Ok(x) = t.parse::<f64>() {
        return x;
    }
    let t = t.trim_start_matches(['$', '€', '£', '¥']).trim();
    let t = t.strip_suffix('%').unwrap_or(t).trim();
    let (neg, t) = match t.strip_prefix('-') {
        Some(rest) => (true, rest.trim_start_matches(['$', '€', '£', '¥'])),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    if t.is_empty()
        || !t
            .bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b',' | b'.' | b' '))
    {
        return f64::NAN;
    }
    let t = t.replace(' ', "");
    let (commas, dots) = (t.matches(',').count(), t.matches('.').count());
    let cleaned: String = match (commas, dots) {
        (0, 0 | 1) => t,
        // `1,234,567` groups thousands; `3,5` has a decimal comma.
        (_, 0) if grouped(&t, ',') => t.replace(',', ""),
        (1, 0) => t.replace(',', "."),
        (0, _) if grouped(&t, '.') => t.replace('.', ""),
        (0, _) => return f64::NAN,
        _ => {
            // Both: the later one is the decimal mark, the other groups thousands.
            let (dec, group) = if t.rfind(',') > t.rfind('.') {
                (',', '.')
            } else {
                ('.', ',')
            };
            let (int, frac) = t.rsplit_once(dec).unwrap_or((&t, ""));
            if frac.contains(group) || t.matches(dec).count() > 1 || !grouped(int, group) {
                return f64::NAN;
            }
            format!("{}.{frac}", int.replace(group, ""))
        }
    };
    match cleaned.parse::<f64>() {
        Ok(x) if neg => -x,
        Ok(x) => x,
        Err(_) => f64::NAN,
    }
}

/// Whether `s` is digits grouped by threes with `sep` (`1,234,567`); a
/// string without `sep` is not grouped.
fn grouped(s: &str, sep: char) -> bool {
    let s = s.replace(' ', "");
    let parts: Vec<&str> = s.split(sep).collect();
    parts.len() > 1
        && (1..=3).contains(&parts[0].len())
        && parts[1..].iter().all(|p| p.len() == 3)
        && parts.iter().all(|p| p.bytes().all(|b| b.is_ascii_digit()))
}

/// A calendar date with an optional time of day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DateTime {
    pub year: i32,
    pub month: u32,
    pub day: u32,
    pub hour: u32,
    pub minute: u32,
    pub second: u32,
    pub has_time: bool,
}

impl DateTime {
    /// Monday is 0.
    pub fn weekday(&self) -> u32 {
        let days = days_from_civil(self.year, self.month, self.day);
        // 1970-01-01 was a Thursday (3).
        (days + 3).rem_euclid(7) as u32
    }

    /// Year, month, day, weekday, hour.
    fn parts(&self) -> [f64; 5] {
        [
            f64::from(self.year),
            f64::from(self.month),
            f64::from(self.day),
            f64::from(self.weekday()),
            f64::from(self.hour),
        ]
    }
}

/// Days since 1970-01-01 (Howard Hinnant's `days_from_civil`).
fn days_from_civil(y: i32, m: u32, d: u32) -> i64 {
    let y = i64::from(y) - i64::from(m <= 2);
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn days_in_month(y: i32, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        _ => 28,
    }
}

const MONTHS: [&str; 12] = [
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
];

/// Reads a date or date-time in the common written forms:
/// `2024-03-31`, `2024/03/31`, `20240331` is not a date (it is a number),
/// ISO 8601 date-times (`2024-03-31T14:05:00Z`, `2024-03-31 14:05`),
/// `31/03/2024` or `03/31/2024` (day first when `day_first`, or when the
/// first number cannot be a month), `31.03.2024`, `31-03-2024`,
/// `31 Mar 2024`, `Mar 31, 2024`, `March 31 2024`; each optionally followed
/// by a time `HH:MM[:SS[.fff]]` with an optional `AM`/`PM` and zone.
pub fn parse_datetime(s: &str, day_first: bool) -> Option<DateTime> {
    let s = s.trim();
    let (date, time) = split_date_time(s);
    let (year, month, day) = parse_date(date, day_first)?;
    if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
        return None;
    }
    let mut dt = DateTime {
        year,
        month,
        day,
        hour: 0,
        minute: 0,
        second: 0,
        has_time: false,
    };
    if let Some(t) = time {
        let (h, m, sec) = parse_time(t)?;
        dt.hour = h;
        dt.minute = m;
        dt.second = sec;
        dt.has_time = true;
    }
    Some(dt)
}

/// Splits at the `T` or the space before a time (`12:30`), if any.
fn split_date_time(s: &str) -> (&str, Option<&str>) {
    if let Some(colon) = s.find(':') {
        // The time starts after the last `T` or space before the first colon.
        let head = &s[..colon];
        if let Some(cut) = head.rfind([' ', 'T']) {
            return (s[..cut].trim_end_matches(',').trim(), Some(&s[cut + 1..]));
        }
        return (s, None);
    }
    (s, None)
}

fn parse_date(s: &str, day_first: bool) -> Option<(i32, u32, u32)> {
    let fields: Vec<&str> = s
        .split(['-', '/', '.', ' ', ','])
        .filter(|f| !f.is_empty())
        .collect();
    if fields.len() != 3 {
        return None;
    }
    let num = |f: &str| -> Option<u32> {
        (f.len() <= 4 && f.bytes().all(|b| b.is_ascii_digit()))
            .then(|| f.parse().ok())
            .flatten()
    };
    let month_name = |f: &str| -> Option<u32> {
        let lower = f.to_ascii_lowercase();
        (lower.len() >= 3)
            .then(|| MONTHS.iter().position(|m| lower.starts_with(m)))
            .flatten()
            .map(|i| i as u32 + 1)
    };
    let year4 = |f: &str| (f.len() == 4).then(|| num(f)).flatten().map(|y| y as i32);
    // Year first: 2024-03-31.
    if let Some(y) = year4(fields[0]) {
        if fields[1].len() > 2 || fields[2].len() > 2 {
            return None;
        }
        return Some((y, num(fields[1])?, num(fields[2])?));
    }
    let y = year4(fields[2])?;
    // Month names: 31 Mar 2024, Mar 31 2024.
    if let Some(m) = month_name(fields[1]) {
        return Some((y, m, num(fields[0]).filter(|_| fields[0].len() <= 2)?));
    }
    if let Some(m) = month_name(fields[0]) {
        return Some((y, m, num(fields[1]).filter(|_| fields[1].len() <= 2)?));
    }
    if fields[0].len() > 2 || fields[1].len() > 2 {
        return None;
    }
    let (a, b) = (num(fields[0])?, num(fields[1])?);
    let dotted = s.contains('.');
    if day_first || dotted || a > 12 {
        Some((y, b, a))
    } else {
        Some((y, a, b))
    }
}

fn parse_time(t: &str) -> Option<(u32, u32, u32)> {
    let t = t.trim();
    let lower = t.to_ascii_lowercase();
    let (t, pm, am) = if let Some(x) = lower.strip_suffix("pm") {
        (x.trim().to_owned(), true, false)
    } else if let Some(x) = lower.strip_suffix("am") {
        (x.trim().to_owned(), false, true)
    } else {
        (lower.clone(), false, false)
    };
    // Drop a zone: `Z`, `+01:00`, `-0500`.
    let t = t.trim_end_matches('z');
    let t = match t.find(['+', '-']) {
        Some(i) => &t[..i],
        None => t,
    };
    let mut it = t.split(':');
    let h: u32 = it.next()?.trim().parse().ok()?;
    let m: u32 = it.next()?.trim().parse().ok()?;
    let sec: u32 = match it.next() {
        Some(s) => s.split('.').next()?.trim().parse().ok()?,
        None => 0,
    };
    if it.next().is_some() || m > 59 || sec > 60 {
        return None;
    }
    let h = match (am, pm) {
        (true, _) if h == 12 => 0,
        (_, true) if h < 12 => h + 12,
        (true, _) | (_, true) if h > 12 => return None,
        _ => h,
    };
    (h <= 23).then_some((h, m, sec))
}

/// Whether most present values of a text column read as dates, and whether
/// they are written day first: `(dates, day_first, with_time)`.
pub fn date_format<'a>(values: impl Iterator<Item = &'a str>) -> (bool, bool, bool) {
    let mut seen = 0usize;
    let mut parsed = 0usize;
    let mut day_first = false;
    let mut month_first = false;
    let mut time = false;
    for v in values.take(1000) {
        seen += 1;
        if let Some(d) = parse_datetime(v, false) {
            parsed += 1;
            time |= d.has_time && (d.hour, d.minute, d.second) != (0, 0, 0);
            let (date, _) = split_date_time(v.trim());
            let fields: Vec<&str> = date.split(['/', '-', '.']).collect();
            if fields.len() == 3 && fields[2].len() == 4 {
                let a: u32 = fields[0].parse().unwrap_or(0);
                let b: u32 = fields[1].parse().unwrap_or(0);
                day_first |= a > 12 || date.contains('.');
                month_first |= b > 12;
            }
        }
    }
    let dates = seen > 0 && parsed * 10 >= seen * 9;
    (dates, day_first && !month_first, time)
}

fn set_missing(col: Column, values: &[String]) -> Column {
    match col {
        Column::Numeric(v) => {
            let targets: Vec<f64> = values
                .iter()
                .map(|s| parse_number(s))
                .filter(|x| !x.is_nan())
                .collect();
            Column::Numeric(
                v.into_iter()
                    .map(|x| if targets.contains(&x) { f64::NAN } else { x })
                    .collect(),
            )
        }
        Column::Categorical(v) => Column::Categorical(
            v.into_iter()
                .map(|l| l.filter(|s| !values.contains(s)))
                .collect(),
        ),
    }
}

fn impute(col: Column, value: &Fill) -> Column {
    match (col, value) {
        (Column::Numeric(v), Fill::Number(x)) => Column::Numeric(
            v.into_iter()
                .map(|y| if y.is_nan() { *x } else { y })
                .collect(),
        ),
        (Column::Numeric(v), Fill::Text(t)) => {
            let x = parse_number(t);
            Column::Numeric(
                v.into_iter()
                    .map(|y| if y.is_nan() { x } else { y })
                    .collect(),
            )
        }
        (Column::Categorical(v), fill) => {
            let label = match fill {
                Fill::Number(x) => category_label(*x),
                Fill::Text(t) => t.clone(),
            };
            Column::Categorical(
                v.into_iter()
                    .map(|l| Some(l.unwrap_or_else(|| label.clone())))
                    .collect(),
            )
        }
    }
}

fn numbers(col: &Column) -> std::result::Result<Vec<f64>, String> {
    match col {
        Column::Numeric(v) => Ok(v.clone()),
        Column::Categorical(_) => {
            Err("the column holds text, not numbers; cast it to a number first".into())
        }
    }
}

fn to_numbers(col: &Column) -> Vec<f64> {
    match col {
        Column::Numeric(v) => v.clone(),
        Column::Categorical(v) => v
            .iter()
            .map(|l| l.as_deref().map_or(f64::NAN, parse_number))
            .collect(),
    }
}

/// Every value as a category label (numbers by [`category_label`]).
fn labels_of(col: Column) -> Vec<Option<String>> {
    match col {
        Column::Numeric(v) => v
            .into_iter()
            .map(|x| (!x.is_nan()).then(|| category_label(x)))
            .collect(),
        Column::Categorical(v) => v,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cat(v: &[Option<&str>]) -> Column {
        Column::Categorical(v.iter().map(|s| s.map(str::to_owned)).collect())
    }

    #[test]
    fn numbers_as_people_write_them() {
        for (s, want) in [
            ("12", 12.0),
            (" 3.5 ", 3.5),
            ("1,234.5", 1234.5),
            ("1,234", 1234.0),
            ("3,5", 3.5),
            ("1.234,5", 1234.5),
            ("$1,200", 1200.0),
            ("-$5", -5.0),
            ("€ 7", 7.0),
            ("12%", 12.0),
            ("+4", 4.0),
            ("1 234", 1234.0),
            ("1e3", 1000.0),
        ] {
            assert_eq!(parse_number(s), want, "{s}");
        }
        for s in ["", "abc", "1,23,4", "1.2.3", "12 apples", "--5"] {
            assert!(parse_number(s).is_nan(), "{s} should not be a number");
        }
    }

    #[test]
    fn dates_in_common_forms() {
        let d = |s: &str, day_first: bool| {
            parse_datetime(s, day_first).map(|d| (d.year, d.month, d.day, d.hour, d.minute))
        };
        assert_eq!(d("2024-03-31", false), Some((2024, 3, 31, 0, 0)));
        assert_eq!(d("2024/03/31 14:05", false), Some((2024, 3, 31, 14, 5)));
        assert_eq!(
            d("2024-03-31T14:05:09.123Z", false),
            Some((2024, 3, 31, 14, 5))
        );
        assert_eq!(
            d("2024-03-31T14:05:09+02:00", false),
            Some((2024, 3, 31, 14, 5))
        );
        assert_eq!(d("03/04/2024", false), Some((2024, 3, 4, 0, 0)));
        assert_eq!(d("03/04/2024", true), Some((2024, 4, 3, 0, 0)));
        assert_eq!(d("31/03/2024", false), Some((2024, 3, 31, 0, 0)));
        assert_eq!(d("31.03.2024", false), Some((2024, 3, 31, 0, 0)));
        assert_eq!(d("31 Mar 2024", false), Some((2024, 3, 31, 0, 0)));
        assert_eq!(
            d("March 31, 2024 2:30 PM", false),
            Some((2024, 3, 31, 14, 30))
        );
        assert_eq!(d("12/31/2024 12:00 AM", false), Some((2024, 12, 31, 0, 0)));
        for bad in [
            "2024-02-30",
            "2023-13-01",
            "20240331",
            "hello",
            "1/2",
            "2024-03-31 25:00",
        ] {
            assert_eq!(d(bad, false), None, "{bad}");
        }
        // 2024-03-31 was a Sunday; 1970-01-01 a Thursday; 2000-02-29 a Tuesday.
        assert_eq!(parse_datetime("2024-03-31", false).unwrap().weekday(), 6);
        assert_eq!(parse_datetime("1970-01-01", false).unwrap().weekday(), 3);
        assert_eq!(parse_datetime("2000-02-29", false).unwrap().weekday(), 1);
        assert_eq!(
            date_format(["13/01/2024", "02/01/2024"].into_iter()),
            (true, true, false)
        );
        assert_eq!(
            date_format(["01/13/2024 10:00", "01/02/2024 11:30"].into_iter()),
            (true, false, true)
        );
        assert!(!date_format(["a", "b", "2024-01-01"].into_iter()).0);
    }

    #[test]
    fn steps_transform_columns_and_name_their_outputs() {
        let data = Dataset::new(vec![
            (
                "x".into(),
                Column::Numeric(vec![1.0, f64::NAN, -1.0, 100.0]),
            ),
            (
                "c".into(),
                cat(&[Some("a"), Some("b"), None, Some("unknown")]),
            ),
            (
                "d".into(),
                cat(&[Some("2024-03-31"), Some("2024-01-01"), None, Some("bad")]),
            ),
        ])
        .unwrap();
        let recipe = Recipe {
            version: 1,
            inputs: Vec::new(),
            steps: vec![
                FittedStep::SetMissing {
                    column: "x".into(),
                    values: vec!["-1".into()],
                },
                FittedStep::Impute {
                    column: "x".into(),
                    value: Fill::Number(2.0),
                },
                FittedStep::Clip {
                    column: "x".into(),
                    lower: 0.0,
                    upper: 50.0,
                },
                FittedStep::SetMissing {
                    column: "c".into(),
                    values: vec!["unknown".into()],
                },
                FittedStep::OneHot {
                    column: "c".into(),
                    categories: vec!["a".into(), "b".into()],
                },
                FittedStep::DateParts {
                    column: "d".into(),
                    day_first: false,
                    time: false,
                },
                FittedStep::Rename {
                    column: "x".into(),
                    to: "size".into(),
                },
            ],
        };
        let out = recipe.apply(&data).unwrap();
        assert_eq!(
            out.names(),
            &[
                "size",
                "c=a",
                "c=b",
                "d_year",
                "d_month",
                "d_day",
                "d_weekday"
            ]
        );
        assert_eq!(
            out.column("size"),
            Some(&Column::Numeric(vec![1.0, 2.0, 2.0, 50.0]))
        );
        assert_eq!(
            out.column("c=b"),
            Some(&Column::Numeric(vec![0.0, 1.0, 0.0, 0.0]))
        );
        let Some(Column::Numeric(wd)) = out.column("d_weekday") else {
            panic!("weekday is numeric")
        };
        assert_eq!(wd[..2], [6.0, 0.0]);
        assert!(wd[2].is_nan() && wd[3].is_nan());
        assert_eq!(
            recipe.sources(&["size".into(), "c=b".into(), "d_day".into()]),
            ["x", "c", "d"]
        );
    }

    #[test]
    fn bins_log_and_casts() {
        let data = Dataset::new(vec![
            (
                "x".into(),
                Column::Numeric(vec![0.0, 5.0, 10.0, f64::NAN, -3.0]),
            ),
            (
                "t".into(),
                cat(&[Some("1,5"), Some("x"), None, Some("$2"), Some("7")]),
            ),
        ])
        .unwrap();
        let steps = [
            FittedStep::Log { column: "x".into() },
            FittedStep::ToNumber { column: "t".into() },
        ];
        let mut out = data.clone();
        for (i, s) in steps.iter().enumerate() {
            out = s.apply(out, i + 1).unwrap();
        }
        let Some(Column::Numeric(x)) = out.column("x") else {
            panic!()
        };
        assert_eq!(x[0], 0.0);
        assert!((x[1] - 6f64.ln()).abs() < 1e-15 && (x[4] + 4f64.ln()).abs() < 1e-15);
        let Some(Column::Numeric(t)) = out.column("t") else {
            panic!()
        };
        assert_eq!(t[0], 1.5);
        assert!(t[1].is_nan() && t[2].is_nan());
        assert_eq!(t[3..], [2.0, 7.0]);
        let bin = FittedStep::Bin {
            column: "x".into(),
            edges: vec![0.0, 5.0],
            labels: vec!["low".into(), "mid".into(), "high".into()],
        };
        let out = bin.apply(data.clone(), 1).unwrap();
        assert_eq!(
            out.column("x"),
            Some(&cat(&[
                Some("mid"),
                Some("high"),
                Some("high"),
                None,
                Some("low")
            ]))
        );
        // Text cannot be clipped: an error naming the step, not a panic.
        let err = FittedStep::Clip {
            column: "t".into(),
            lower: 0.0,
            upper: 1.0,
        }
        .apply(data, 3)
        .unwrap_err();
        assert!(err.to_string().contains("step 3"), "{err}");
    }
}
