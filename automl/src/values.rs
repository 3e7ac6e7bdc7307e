//! The values people write in tables, read one at a time: numbers as
//! people write them, dates and date-times in the common forms, and the
//! per-value transforms a recipe applies (`signed_log`, `bin_of`). Ingest,
//! profile, quality, the recipe on both sides (Polars and the engine) and
//! the encoders all read values through this module, so a value means the
//! same everywhere.

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
    pub(crate) fn parts(&self) -> [f64; 5] {
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
