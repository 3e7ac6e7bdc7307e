//! From a table's timestamp, item and target columns to series on a regular
//! grid: timestamps read in the common written forms (plus `2024-03`,
//! `2024Q1` and bare years), the frequency found from the most common step
//! (seconds to years; months, quarters and years by the calendar), each
//! item's values placed on the grid, duplicated timestamps averaged, gaps
//! filled by linear interpolation, and every such repair reported per item.
//! Known covariates and item attributes ([`super::covariates`]) are placed
//! on the same grid.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::Series;
use super::covariates::{self, Encoding, ExtraColumn};
use crate::values::{DateTime, civil_from_days, days_in_month, parse_datetime};
use crate::{Error, Result};

/// At most this many items in one forecast.
pub const MAX_ITEMS: usize = 10_000;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Unit {
    Second,
    Minute,
    Hour,
    Day,
    Week,
    Month,
    Year,
}

/// A regular step: `step` units (3 months is quarterly).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Frequency {
    pub unit: Unit,
    pub step: u32,
}

impl Frequency {
    /// How people say it: "monthly", "every 30 minutes".
    pub fn label(&self) -> String {
        let one = match (self.unit, self.step) {
            (Unit::Month, 3) => Some("quarterly"),
            (Unit::Month, 1) => Some("monthly"),
            (Unit::Year, 1) => Some("yearly"),
            (Unit::Week, 1) => Some("weekly"),
            (Unit::Day, 1) => Some("daily"),
            (Unit::Hour, 1) => Some("hourly"),
            (Unit::Minute, 1) => Some("every minute"),
            (Unit::Second, 1) => Some("every second"),
            _ => None,
        };
        if let Some(s) = one {
            return s.to_string();
        }
        let unit = match self.unit {
            Unit::Second => "seconds",
            Unit::Minute => "minutes",
            Unit::Hour => "hours",
            Unit::Day => "days",
            Unit::Week => "weeks",
            Unit::Month => "months",
            Unit::Year => "years",
        };
        format!("every {} {unit}", self.step)
    }

    /// The usual season: a year of months or quarters, a week of days, a day of hours.
    pub fn season(&self) -> usize {
        let s = match self.unit {
            Unit::Year => 1,
            Unit::Month => 12 / self.step.clamp(1, 12) as usize,
            Unit::Week => 52 / self.step.clamp(1, 52) as usize,
            Unit::Day => 7 / self.step.clamp(1, 7) as usize,
            Unit::Hour => 24 / self.step.clamp(1, 24) as usize,
            Unit::Minute => (24 * 60 / self.step.clamp(1, 1440)) as usize,
            Unit::Second => (86_400 / self.step.clamp(1, 86_400)) as usize,
        };
        s.max(1)
    }

    fn seconds(&self) -> Option<i64> {
        let unit = match self.unit {
            Unit::Second => 1,
            Unit::Minute => 60,
            Unit::Hour => 3600,
            Unit::Day => 86_400,
            Unit::Week => 7 * 86_400,
            Unit::Month | Unit::Year => return None,
        };
        Some(unit * i64::from(self.step))
    }

    /// The stamp's position on an absolute grid of this frequency (for season positions).
    fn ordinal(&self, t: &DateTime) -> i64 {
        match self.seconds() {
            Some(s) => t.seconds().div_euclid(s),
            None => months(t).div_euclid(self.months()),
        }
    }

    fn months(&self) -> i64 {
        i64::from(self.step) * if self.unit == Unit::Year { 12 } else { 1 }
    }

    /// Steps from `origin` to `t`, and whether `t` lies exactly on the grid
    /// that starts at `origin` (for months, any day of the month counts).
    fn offset(&self, origin: &DateTime, t: &DateTime) -> (i64, bool) {
        let (d, size) = match self.seconds() {
            Some(s) => (t.seconds() - origin.seconds(), s),
            None => (months(t) - months(origin), self.months()),
        };
        (d.div_euclid(size), d.rem_euclid(size) == 0)
    }

    /// The stamp `k` steps after `t`.
    pub fn advance(&self, t: &DateTime, k: i64) -> DateTime {
        match self.seconds() {
            Some(s) => from_seconds(t.seconds() + k * s, t.has_time),
            None => {
                let months = months(t) + k * self.months();
                let (year, month) = (
                    months.div_euclid(12) as i32,
                    months.rem_euclid(12) as u32 + 1,
                );
                // Month ends stay month ends; other days are kept where the month has them.
                let last = days_in_month(t.year, t.month);
                let day = if t.day == last {
                    days_in_month(year, month)
                } else {
                    t.day.min(days_in_month(year, month))
                };
                DateTime {
                    year,
                    month,
                    day,
                    ..*t
                }
            }
        }
    }

    /// The season position of `t` for a season of `m` steps (aligned across items).
    pub fn phase(&self, t: &DateTime, m: usize) -> usize {
        if m <= 1 {
            return 0;
        }
        if self.unit == Unit::Week && self.step == 1 && m == 52 {
            let day_of_year = t.seconds().div_euclid(86_400)
                - DateTime {
                    month: 1,
                    day: 1,
                    hour: 0,
                    minute: 0,
                    second: 0,
                    ..*t
                }
                .seconds()
                .div_euclid(86_400);
            return ((day_of_year / 7) as usize).min(51);
        }
        self.ordinal(t).rem_euclid(m as i64) as usize
    }
}

fn months(t: &DateTime) -> i64 {
    i64::from(t.year) * 12 + i64::from(t.month) - 1
}

fn from_seconds(secs: i64, has_time: bool) -> DateTime {
    let (y, m, d) = civil_from_days(secs.div_euclid(86_400));
    let rest = secs.rem_euclid(86_400);
    DateTime {
        year: y as i32,
        month: m,
        day: d,
        hour: (rest / 3600) as u32,
        minute: (rest % 3600 / 60) as u32,
        second: (rest % 60) as u32,
        has_time: has_time || rest != 0,
    }
}

/// Writes a stamp back as text: a date, or a date and time when it has one.
pub fn format_stamp(t: &DateTime) -> String {
    if t.has_time {
        format!(
            "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
            t.year, t.month, t.day, t.hour, t.minute, t.second
        )
    } else {
        format!("{:04}-{:02}-{:02}", t.year, t.month, t.day)
    }
}

/// Reads a timestamp: everything [`parse_datetime`] reads, and `2024-03`,
/// `2024/03`, `2024Q1`, `2024-Q1`, `2024 Q1` and `2024` (the first day of the period).
pub fn parse_stamp(s: &str, day_first: bool) -> Option<DateTime> {
    if let Some(t) = parse_datetime(s, day_first) {
        return Some(t);
    }
    let s = s.trim();
    let date = |year: i32, month: u32| DateTime {
        year,
        month,
        day: 1,
        hour: 0,
        minute: 0,
        second: 0,
        has_time: false,
    };
    let digits = |f: &str| !f.is_empty() && f.bytes().all(|b| b.is_ascii_digit());
    if s.len() == 4 && digits(s) {
        return s.parse().ok().map(|y| date(y, 1));
    }
    let upper = s.to_ascii_uppercase();
    if let Some(q) = upper.find('Q') {
        let year = upper[..q].trim_end_matches([' ', '-', '/']);
        let quarter = upper[q + 1..].trim();
        if year.len() == 4 && digits(year) && quarter.len() == 1 && digits(quarter) {
            let qn: u32 = quarter.parse().ok()?;
            if !(1..=4).contains(&qn) {
                return None;
            }
            return Some(date(year.parse().ok()?, 3 * qn - 2));
        }
        return None;
    }
    let mut parts = s.split(['-', '/']);
    let (y, m) = (parts.next()?, parts.next()?);
    if parts.next().is_some()
        || y.len() != 4
        || !digits(y)
        || m.is_empty()
        || m.len() > 2
        || !digits(m)
    {
        return None;
    }
    let month: u32 = m.parse().ok()?;
    if !(1..=12).contains(&month) {
        return None;
    }
    Some(date(y.parse().ok()?, month))
}

/// A repair or a problem found in one item's series.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SeriesNote {
    /// Missing steps (or missing values) filled by linear interpolation.
    Gaps { item: String, filled: usize },
    /// Rows sharing a timestamp, averaged into one.
    Duplicates { item: String, rows: usize },
    /// Fewer values than a forecast needs: left out.
    TooShort { item: String, values: usize },
}

impl SeriesNote {
    pub fn sentence(&self) -> String {
        match self {
            SeriesNote::Gaps { item, filled } => format!(
                "{item}: {filled} missing step{} filled by linear interpolation",
                if *filled == 1 { "" } else { "s" }
            ),
            SeriesNote::Duplicates { item, rows } => {
                format!("{item}: {rows} rows with a timestamp seen before, averaged")
            }
            SeriesNote::TooShort { item, values } => format!(
                "{item}: only {values} value{} (at least {} needed), left out",
                if *values == 1 { "" } else { "s" },
                super::MIN_HISTORY
            ),
        }
    }
}

/// Series ready to forecast, and how they were made.
#[derive(Clone, Debug)]
pub struct Prepared {
    pub frequency: Frequency,
    pub series: Vec<Series>,
    /// Each kept series' first timestamp.
    pub starts: Vec<DateTime>,
    pub notes: Vec<SeriesNote>,
    /// Whether timestamps were read day first (`03/04/2024` is 3 April).
    pub day_first: bool,
    /// How the known covariates and item attributes were read.
    pub covariates: Vec<Encoding>,
    pub attributes: Vec<Encoding>,
}

impl Prepared {
    /// The timestamp of step `t` of series `i`.
    pub fn stamp(&self, i: usize, t: usize) -> DateTime {
        self.frequency.advance(&self.starts[i], t as i64)
    }
}

/// The columns a forecast reads, by name for messages.
#[derive(Default)]
pub struct Columns<'a> {
    pub time_name: &'a str,
    pub times: &'a [Option<String>],
    pub target_name: &'a str,
    pub values: &'a [Option<f64>],
    /// The item column: `None` for one series.
    pub items: Option<(&'a str, &'a [Option<String>])>,
    /// Known covariates and static item attributes, if any.
    pub covariates: Vec<ExtraColumn<'a>>,
    pub attributes: Vec<ExtraColumn<'a>>,
}

/// Reads, orders and regularises the series; `season` sets the phase of each series.
pub fn prepare(cols: &Columns<'_>, season: Option<usize>) -> Result<Prepared> {
    let n = cols.times.len();
    let time_err = |reason: String| Error::Parameter {
        name: "timestamp",
        reason: format!("column `{}`: {reason}", cols.time_name),
    };
    let present: Vec<&str> = cols.times.iter().flatten().map(String::as_str).collect();
    if present.is_empty() {
        return Err(time_err("has no values".into()));
    }
    let (_, day_first, _) = crate::values::date_format(present.iter().copied());
    if !cols.attributes.is_empty() && cols.items.is_none() {
        return Err(Error::Parameter {
            name: "attributes",
            reason: "item attributes need an item column: with one series there is nothing to tell apart".into(),
        });
    }
    let (cov_enc, cov_coded) = covariates::encode_all(&cols.covariates)?;
    let (attr_enc, attr_coded) = covariates::encode_all(&cols.attributes)?;
    // Every row with a timestamp must read as one.
    let mut stamps = Vec::with_capacity(n);
    let mut unreadable = Vec::new();
    for (row, t) in cols.times.iter().enumerate() {
        match t {
            None => stamps.push(None),
            Some(s) => match parse_stamp(s, day_first) {
                Some(d) => stamps.push(Some(d)),
                None => {
                    unreadable.push(format!("row {} (\"{}\")", row + 1, s));
                    stamps.push(None);
                }
            },
        }
    }
    if !unreadable.is_empty() {
        let count = unreadable.len();
        unreadable.truncate(3);
        return Err(time_err(format!(
            "{count} value{} cannot be read as dates or times, for example {}",
            if count == 1 { "" } else { "s" },
            unreadable.join(", ")
        )));
    }
    // Group rows by item, in order of first appearance.
    let mut order: Vec<String> = Vec::new();
    let mut index: HashMap<&str, usize> = HashMap::new();
    let mut rows_of: Vec<Vec<usize>> = Vec::new();
    for row in 0..n {
        let Some(_) = stamps[row] else { continue };
        let key = match &cols.items {
            None => "all",
            Some((_, items)) => items[row].as_deref().unwrap_or("(missing)"),
        };
        let i = *index.entry(key).or_insert_with(|| {
            order.push(key.to_string());
            rows_of.push(Vec::new());
            order.len() - 1
        });
        rows_of[i].push(row);
        if order.len() > MAX_ITEMS {
            let name = cols.items.map_or("", |(n, _)| n);
            return Err(Error::Parameter {
                name: "item",
                reason: format!(
                    "column `{name}` has more than {MAX_ITEMS} items; forecast at most {MAX_ITEMS} series at a time (group items, or filter the table)"
                ),
            });
        }
    }
    let frequency = detect(&stamps, &rows_of).ok_or_else(|| {
        time_err(
            "every item has a single timestamp, so there is no step between them to forecast from"
                .into(),
        )
    })?;
    let m = season.unwrap_or_else(|| frequency.season());
    let mut series = Vec::new();
    let mut starts = Vec::new();
    let mut notes = Vec::new();
    let mut off_grid = Vec::new();
    for (item, rows) in order.iter().zip(&rows_of) {
        let mut points: Vec<(i64, usize)> = Vec::with_capacity(rows.len());
        let origin = rows
            .iter()
            .filter_map(|r| stamps[*r])
            .min_by_key(DateTime::seconds)
            .expect("rows with stamps");
        for &r in rows {
            let Some(t) = stamps[r].as_ref() else {
                continue;
            };
            let (ord, on) = frequency.offset(&origin, t);
            if !on && off_grid.len() < 3 {
                off_grid.push(format!(
                    "row {} (\"{}\")",
                    r + 1,
                    cols.times[r].as_deref().unwrap_or("")
                ));
            }
            points.push((ord, r));
        }
        points.sort_by_key(|p| p.0);
        let first = points[0].0;
        let last = points[points.len() - 1].0;
        let span = (last - first + 1) as usize;
        if span > 10_000_000 {
            return Err(time_err(format!(
                "item `{item}` spans {span} {} steps; check that the timestamps share one frequency",
                frequency.label()
            )));
        }
        let mut sums = vec![0.0; span];
        let mut counts = vec![0usize; span];
        let mut duplicates = 0usize;
        for (ord, r) in &points {
            let slot = (ord - first) as usize;
            if let Some(v) = cols.values[*r].filter(|v| v.is_finite()) {
                if counts[slot] > 0 {
                    duplicates += 1;
                }
                sums[slot] += v;
                counts[slot] += 1;
            }
        }
        let mut values: Vec<f64> = sums
            .iter()
            .zip(&counts)
            .map(|(s, c)| if *c > 0 { s / *c as f64 } else { f64::NAN })
            .collect();
        // Leading and trailing steps without a value are not history.
        let head = values.iter().position(|v| v.is_finite());
        let tail = values.iter().rposition(|v| v.is_finite());
        let (Some(head), Some(tail)) = (head, tail) else {
            notes.push(SeriesNote::TooShort {
                item: item.clone(),
                values: 0,
            });
            continue;
        };
        values = values[head..=tail].to_vec();
        let filled = fill_gaps(&mut values);
        if duplicates > 0 {
            notes.push(SeriesNote::Duplicates {
                item: item.clone(),
                rows: duplicates,
            });
        }
        if filled > 0 {
            notes.push(SeriesNote::Gaps {
                item: item.clone(),
                filled,
            });
        }
        if values.len() - filled < super::MIN_HISTORY {
            notes.push(SeriesNote::TooShort {
                item: item.clone(),
                values: values.len() - filled,
            });
            continue;
        }
        let start = frequency.advance(&origin, first + head as i64);
        let slots: Vec<(usize, usize)> = points
            .iter()
            .filter(|(ord, _)| (ord - first) as usize >= head)
            .map(|(ord, r)| ((ord - first) as usize - head, *r))
            .collect();
        let covariates = cov_enc
            .iter()
            .zip(&cov_coded)
            .map(|(e, coded)| {
                covariates::place(
                    coded,
                    e.categories.is_none(),
                    &slots,
                    span - head,
                    values.len(),
                )
            })
            .collect();
        let attributes = attr_enc
            .iter()
            .zip(&attr_coded)
            .zip(&cols.attributes)
            .map(|((e, coded), col)| covariates::attribute(e, col.cells, coded, rows, item))
            .collect::<Result<Vec<f64>>>()?;
        series.push(Series {
            item: item.clone(),
            phase: frequency.phase(&start, m),
            values,
            covariates,
            attributes,
        });
        starts.push(start);
    }
    if !off_grid.is_empty() {
        return Err(time_err(format!(
            "timestamps are not on one regular grid (most steps fit “{}”), for example {}",
            frequency.label(),
            off_grid.join(", ")
        )));
    }
    if series.is_empty() {
        return Err(Error::Parameter {
            name: "series",
            reason: format!(
                "no series has the {} values a forecast needs ({})",
                super::MIN_HISTORY,
                notes
                    .iter()
                    .take(3)
                    .map(SeriesNote::sentence)
                    .collect::<Vec<_>>()
                    .join("; ")
            ),
        });
    }
    Ok(Prepared {
        frequency,
        series,
        starts,
        notes,
        day_first,
        covariates: cov_enc,
        attributes: attr_enc,
    })
}

/// Fills non-finite values between finite ones by linear interpolation; returns how many.
pub fn fill_gaps(values: &mut [f64]) -> usize {
    let mut filled = 0;
    let mut last: Option<usize> = None;
    for t in 0..values.len() {
        if values[t].is_finite() {
            if let Some(l) = last
                && t > l + 1
            {
                let (a, b) = (values[l], values[t]);
                for (k, v) in values[l + 1..t].iter_mut().enumerate() {
                    *v = a + (b - a) * (k + 1) as f64 / (t - l) as f64;
                    filled += 1;
                }
            }
            last = Some(t);
        }
    }
    filled
}

/// The frequency from the most common step between an item's consecutive
/// distinct timestamps: calendar months when every step is whole months.
fn detect(stamps: &[Option<DateTime>], rows_of: &[Vec<usize>]) -> Option<Frequency> {
    let mut month_steps: HashMap<i64, usize> = HashMap::new();
    let mut second_steps: HashMap<i64, usize> = HashMap::new();
    let mut whole_months = true;
    for rows in rows_of {
        let mut ts: Vec<&DateTime> = rows.iter().filter_map(|r| stamps[*r].as_ref()).collect();
        ts.sort_by_key(|t| t.seconds());
        ts.dedup_by_key(|t| t.seconds());
        for w in ts.windows(2) {
            let (a, b) = (w[0], w[1]);
            let months = (i64::from(b.year) * 12 + i64::from(b.month))
                - (i64::from(a.year) * 12 + i64::from(a.month));
            let same_day = a.day == b.day
                || (a.day == days_in_month(a.year, a.month)
                    && b.day == days_in_month(b.year, b.month));
            if months == 0
                || !same_day
                || (a.hour, a.minute, a.second) != (b.hour, b.minute, b.second)
            {
                whole_months = false;
            }
            *month_steps.entry(months).or_default() += 1;
            *second_steps.entry(b.seconds() - a.seconds()).or_default() += 1;
        }
    }
    let modal = |steps: &HashMap<i64, usize>| {
        steps
            .iter()
            .filter(|(s, _)| **s > 0)
            .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
            .map(|(s, _)| *s)
    };
    if whole_months && let Some(m) = modal(&month_steps) {
        return Some(if m % 12 == 0 {
            Frequency {
                unit: Unit::Year,
                step: (m / 12) as u32,
            }
        } else {
            Frequency {
                unit: Unit::Month,
                step: m as u32,
            }
        });
    }
    let s = modal(&second_steps)?;
    let (unit, size) = [
        (Unit::Week, 7 * 86_400),
        (Unit::Day, 86_400),
        (Unit::Hour, 3600),
        (Unit::Minute, 60),
        (Unit::Second, 1),
    ]
    .into_iter()
    .find(|(_, size)| s % size == 0)?;
    Some(Frequency {
        unit,
        step: (s / size) as u32,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(v: &[&str]) -> Vec<Option<String>> {
        v.iter()
            .map(|s| (!s.is_empty()).then(|| s.to_string()))
            .collect()
    }

    #[test]
    fn frequencies_are_found_and_stamps_advance_on_the_calendar() {
        let cases: [(&[&str], &str, usize); 6] = [
            (&["2020-01-01", "2020-02-01", "2020-04-01"], "monthly", 12),
            (&["1959Q1", "1959Q2", "1959Q3"], "quarterly", 4),
            (&["2001", "2002", "2004"], "yearly", 1),
            (&["1958-03-29", "1958-04-05", "1958-04-19"], "weekly", 52),
            (&["2012/01/01", "2012/01/02", "2012/01/03"], "daily", 7),
            (
                &["2024-01-01 00:00", "2024-01-01 00:30", "2024-01-01 01:00"],
                "every 30 minutes",
                48,
            ),
        ];
        for (times, label, season) in cases {
            let times = strings(times);
            let values: Vec<Option<f64>> = (0..times.len()).map(|v| Some(v as f64)).collect();
            let p = prepare(
                &Columns {
                    time_name: "t",
                    times: &times,
                    target_name: "y",
                    values: &values,
                    items: None,
                    ..Columns::default()
                },
                None,
            )
            .expect("prepares");
            assert_eq!(p.frequency.label(), label);
            assert_eq!(p.frequency.season(), season, "{label}");
        }
        let month_end = parse_stamp("2020-01-31", false).unwrap();
        let f = Frequency {
            unit: Unit::Month,
            step: 1,
        };
        assert_eq!(format_stamp(&f.advance(&month_end, 1)), "2020-02-29");
        assert_eq!(format_stamp(&f.advance(&month_end, 2)), "2020-03-31");
    }

    #[test]
    fn gaps_duplicates_and_short_items_are_repaired_or_reported() {
        let times = strings(&[
            "2020-01-01",
            "2020-02-01",
            "2020-04-01",
            "2020-04-01",
            "2020-05-01",
            "2020-01-01",
            "2020-02-01",
        ]);
        let items = strings(&["a", "a", "a", "a", "a", "b", "b"]);
        let values = vec![
            Some(1.0),
            Some(2.0),
            Some(4.0),
            Some(6.0),
            Some(6.0),
            Some(1.0),
            Some(1.0),
        ];
        let p = prepare(
            &Columns {
                time_name: "month",
                times: &times,
                target_name: "y",
                values: &values,
                items: Some(("store", &items)),
                ..Columns::default()
            },
            None,
        )
        .expect("prepares");
        assert_eq!(p.series.len(), 1);
        assert_eq!(p.series[0].values, vec![1.0, 2.0, 3.5, 5.0, 6.0]);
        assert_eq!(p.series[0].phase, 0);
        let sentences: Vec<String> = p.notes.iter().map(SeriesNote::sentence).collect();
        assert_eq!(
            sentences,
            vec![
                "a: 1 rows with a timestamp seen before, averaged",
                "a: 1 missing step filled by linear interpolation",
                "b: only 2 values (at least 3 needed), left out",
            ]
        );
        // Unreadable and irregular timestamps are refused with their rows.
        let bad = strings(&["2020-01-01", "soon", "2020-03-01"]);
        let err = prepare(
            &Columns {
                time_name: "month",
                times: &bad,
                target_name: "y",
                values: &values[..3],
                items: None,
                ..Columns::default()
            },
            None,
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("row 2 (\"soon\")"), "{err}");
        let mixed = strings(&["2020-01-01", "2020-01-08", "2020-01-15", "2020-01-17"]);
        let err = prepare(
            &Columns {
                time_name: "week",
                times: &mixed,
                target_name: "y",
                values: &[Some(1.0); 4],
                items: None,
                ..Columns::default()
            },
            None,
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("not on one regular grid (most steps fit “weekly”)")
                && err.contains("row 4"),
            "{err}"
        );
    }
}
