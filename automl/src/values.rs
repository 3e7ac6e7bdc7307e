//! The values people write in tables, read one at a time: numbers as
//! people write them ([`read_number`] in a [`NumberFormat`]: strictly in a
//! file's decimal mark as ingest types a column, or leniently as
//! [`parse_number`] for the recipe's cast and the quality report), dates and
//! date-times in the common forms ([`parse_datetime`], [`date_format`]), and
//! the per-value transforms a recipe applies (`signed_log`, `bin_of`).
//! Ingest, profile, quality, the recipe on both sides (Polars and the
//! engine) and the encoders all read values through this module, so a value
//! means the same everywhere; the lenient reading accepts every number the
//! strict one reads with a decimal point, with the same value (tested).

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

/// The mark between a number's whole part and its fraction; the other of
/// `.` and `,` groups thousands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecimalMark {
    /// `3.5` and `1,234.5`.
    Point,
    /// `3,5` and `1.234,5`.
    Comma,
}

impl DecimalMark {
    /// The decimal mark and the thousands separator.
    fn chars(self) -> (char, char) {
        match self {
            DecimalMark::Point => ('.', ','),
            DecimalMark::Comma => (',', '.'),
        }
    }
}

/// What [`read_number`] accepts besides plain numbers (`-12`, `3.5`,
/// `1e-3`, `inf`), which it always reads. A currency sign (`$ € £ ¥`)
/// before or after the number and thousands separators in groups of three
/// are always accepted; with either, an exponent is not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NumberFormat {
    /// The decimal mark, or `None` to guess it from each value: the later
    /// of `.` and `,` when both occur; a lone comma is decimal unless it
    /// groups thousands (`3,5` but `1,234`); two or more dots group
    /// thousands (`1.234.567`).
    pub decimal: Option<DecimalMark>,
    /// A trailing `%` is read and dropped: `12%` is 12.
    pub percent: bool,
    /// Spaces may follow a sign (`- 5`) and group thousands (`1 234`).
    pub spaces: bool,
}

impl NumberFormat {
    /// Cells of a file whose decimal mark is known, as ingest types a
    /// column: no percent sign (`12%` stays text) and no spaces inside.
    pub const fn cells(decimal: DecimalMark) -> NumberFormat {
        NumberFormat {
            decimal: Some(decimal),
            percent: false,
            spaces: false,
        }
    }

    /// Text a person wrote, read when they ask for numbers (the recipe's
    /// cast) or when judging whether a text column holds numbers: the
    /// decimal mark guessed from each value, `12%` as 12, spaces allowed.
    pub const LENIENT: NumberFormat = NumberFormat {
        decimal: None,
        percent: true,
        spaces: true,
    };
}

/// A number as written.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Number {
    pub value: f64,
    /// The value, when it is written without a fraction or exponent and fits.
    pub integer: Option<i64>,
    /// Written with a currency sign, thousands separators or a percent sign.
    pub formatted: bool,
}

const CURRENCY: [char; 4] = ['$', '€', '£', '¥'];

/// Reads a number as people write it, in `format`: surrounding spaces, a
/// sign, a currency sign before or after (`$-5`, `-$5`, `5 €`), thousands
/// separators in groups of three, a fraction after the decimal mark, an
/// exponent (`1e-3`, not with currency or thousands), and `inf`,
/// `-Infinity` in any case. `None` when `s` is not such a number (`NaN` is
/// not one).
pub fn read_number(s: &str, format: &NumberFormat) -> Option<Number> {
    let s = s.trim();
    if let Some(value) = infinity(s) {
        return Some(Number {
            value,
            integer: None,
            formatted: false,
        });
    }
    let (s, percent) = match s.strip_suffix('%') {
        Some(rest) if format.percent => (rest.trim_end(), true),
        _ => (s, false),
    };
    let (negative, currency, s) = strip_affixes(s, format.spaces);
    let (mantissa, exponent) = match s.split_once(['e', 'E']) {
        Some((m, e)) => (m, Some(e)),
        None => (s, None),
    };
    let mark = format.decimal.unwrap_or_else(|| guess_mark(mantissa));
    let (point, thousands) = mark.chars();
    let (int_part, frac) = match mantissa.split_once(point) {
        Some((i, f)) => (i, Some(f)),
        None => (mantissa, None),
    };
    let separator = |c: char| c == thousands || (format.spaces && c == ' ');
    let grouped = int_part.contains(separator);
    let int_ok = if grouped {
        let mut groups = int_part.split(separator);
        let first = groups.next().unwrap_or_default();
        digits(first) && first.len() <= 3 && groups.all(|g| g.len() == 3 && digits(g))
    } else {
        digits(int_part) || (int_part.is_empty() && frac.is_some_and(digits))
    };
    let frac_ok = frac.is_none_or(|f| digits(f) || (f.is_empty() && !int_part.is_empty()));
    let exp_ok = exponent.is_none_or(|e| digits(e.strip_prefix(['-', '+']).unwrap_or(e)));
    let formatted = grouped || currency || percent;
    if !(int_ok && frac_ok && exp_ok) || (formatted && exponent.is_some()) {
        return None;
    }
    let mut plain = String::with_capacity(s.len() + 1);
    if negative {
        plain.push('-');
    }
    plain.extend(int_part.chars().filter(|&c| !separator(c)));
    if let Some(f) = frac {
        plain.push('.');
        plain.push_str(f);
    }
    if let Some(e) = exponent {
        plain.push('e');
        plain.push_str(e);
    }
    let value = plain.parse::<f64>().ok()?;
    let integer = if frac.is_none() && exponent.is_none() {
        plain.parse::<i64>().ok()
    } else {
        None
    };
    Some(Number {
        value,
        integer,
        formatted,
    })
}

/// Reads a number written by people, leniently ([`NumberFormat::LENIENT`]):
/// a currency sign (`$ € £ ¥`), a trailing `%` (kept as written: `12%` is
/// 12), thousands separators (`1,234.5`, `1 234`), a decimal comma (`3,5`)
/// and a leading `+`. Anything else is `NaN`.
pub fn parse_number(s: &str) -> f64 {
    read_number(s, &NumberFormat::LENIENT).map_or(f64::NAN, |n| n.value)
}

fn digits(t: &str) -> bool {
    !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit())
}

/// `inf`, `-inf`, `+Infinity` in any case: an infinite number, as Polars,
/// pandas and Rust read it (and as a division by zero writes it).
fn infinity(s: &str) -> Option<f64> {
    let (negative, s) = strip_sign(s);
    (s.eq_ignore_ascii_case("inf") || s.eq_ignore_ascii_case("infinity")).then_some(if negative {
        f64::NEG_INFINITY
    } else {
        f64::INFINITY
    })
}

/// Whether `s` starts with a minus sign, and `s` without its sign.
fn strip_sign(s: &str) -> (bool, &str) {
    match s.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    }
}

/// [`strip_sign`], then spaces when `spaces`.
fn spaced_sign(s: &str, spaces: bool) -> (bool, &str) {
    let (negative, rest) = strip_sign(s);
    (negative, if spaces { rest.trim_start() } else { rest })
}

/// The sign and the currency sign around a number (`-$5`, `$-5`, `5 €`):
/// whether it is negative, whether it has a currency sign, and the rest.
/// With `spaces`, spaces may follow the sign.
fn strip_affixes(s: &str, spaces: bool) -> (bool, bool, &str) {
    let (negative, s) = spaced_sign(s, spaces);
    match s.strip_prefix(CURRENCY) {
        Some(rest) if !negative => {
            let (negative, rest) = spaced_sign(rest.trim_start(), spaces);
            (negative, true, rest)
        }
        Some(rest) => (negative, true, rest.trim_start()),
        None => match s.strip_suffix(CURRENCY) {
            Some(rest) => (negative, true, rest.trim_end()),
            None => (negative, false, s),
        },
    }
}

/// The decimal mark of a number written with an unknown one (see
/// [`NumberFormat::decimal`]).
fn guess_mark(s: &str) -> DecimalMark {
    let (commas, dots) = (s.matches(',').count(), s.matches('.').count());
    match (commas, dots) {
        (0, 0 | 1) => DecimalMark::Point,
        (1, 0) if !grouped(s, ',') => DecimalMark::Comma,
        (_, 0) => DecimalMark::Point,
        (0, _) => DecimalMark::Comma,
        _ if s.rfind(',') > s.rfind('.') => DecimalMark::Comma,
        _ => DecimalMark::Point,
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

    /// Seconds since 1970-01-01 00:00 (zones ignored): for ordering dates.
    pub fn seconds(&self) -> i64 {
        days_from_civil(self.year, self.month, self.day) * 86_400
            + i64::from(self.hour * 3600 + self.minute * 60 + self.second)
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

/// The date (year, month, day) `days` after 1970-01-01 (Howard Hinnant's
/// `civil_from_days`, the inverse of [`days_from_civil`]).
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
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

pub(crate) fn days_in_month(y: i32, m: u32) -> u32 {
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
    fn civil_dates_and_day_counts_are_inverses() {
        for (y, m, d) in [
            (1970, 1, 1),
            (2000, 2, 29),
            (1899, 12, 30),
            (2024, 12, 31),
            (1600, 3, 1),
        ] {
            let days = days_from_civil(y, m, d);
            assert_eq!(civil_from_days(days), (i64::from(y), m, d));
        }
        assert_eq!(civil_from_days(0), (1970, 1, 1));
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
    fn cells_in_a_files_decimal_mark() {
        let n = |s: &str, mark: DecimalMark| {
            read_number(s, &NumberFormat::cells(mark)).map(|n| (n.value, n.integer, n.formatted))
        };
        let (point, comma) = (DecimalMark::Point, DecimalMark::Comma);
        assert_eq!(n("-12", point), Some((-12.0, Some(-12), false)));
        assert_eq!(n("+3.5", point), Some((3.5, None, false)));
        assert_eq!(n("1e3", point), Some((1000.0, None, false)));
        assert_eq!(n(".5", point), Some((0.5, None, false)));
        assert_eq!(n("$1,234.50", point), Some((1234.5, None, true)));
        assert_eq!(n("-$5", point), Some((-5.0, Some(-5), true)));
        assert_eq!(n("$-5", point), Some((-5.0, Some(-5), true)));
        assert_eq!(
            n("12,345,678", point),
            Some((12_345_678.0, Some(12_345_678), true))
        );
        assert_eq!(n("1.234,5", comma), Some((1234.5, None, true)));
        assert_eq!(n("5 €", comma), Some((5.0, Some(5), true)));
        assert_eq!(
            n("-Infinity", point),
            Some((f64::NEG_INFINITY, None, false))
        );
        for bad in [
            "",
            "-",
            "$",
            "1,23",
            "12%",
            "NaN",
            "1.2.3",
            "1,234.5e3",
            "e5",
            "0x10",
            "1 234",
            "- 5",
            "info",
        ] {
            assert_eq!(n(bad, point), None, "{bad}");
        }
        assert_eq!(
            n("1.5", comma),
            None,
            "a dot is a thousands separator with a decimal comma"
        );
    }

    #[test]
    fn spaces_group_thousands_in_threes() {
        assert_eq!(parse_number("1 234 567"), 1_234_567.0);
        assert_eq!(parse_number("1 234,5"), 1234.5);
        assert_eq!(parse_number("- 5"), -5.0);
        assert_eq!(parse_number("12 %"), 12.0);
        // Phone numbers, codes and lists are not numbers: the quality
        // report called such columns numbers stored as text.
        for s in ["555 123 4567", "12 34", "1 2 3", "0 7"] {
            assert!(parse_number(s).is_nan(), "{s} should not be a number");
        }
    }

    #[test]
    fn lenient_reads_every_cell_ingest_reads_as_it_does() {
        // A currency sign after the amount and `+$` were refused by the
        // lenient reader although ingest reads them.
        assert_eq!(parse_number("5 €"), 5.0);
        assert_eq!(parse_number("-5$"), -5.0);
        assert_eq!(parse_number("+$5"), 5.0);
        let strict = NumberFormat::cells(DecimalMark::Point);
        let alphabet: Vec<char> = "0123456789012345,., -+$€%eE".chars().collect();
        let mut rng = crate::Rng::from_state(7);
        let mut read = 0;
        for _ in 0..20_000 {
            let s: String = (0..rng.below(9)).map(|_| *rng.pick(&alphabet)).collect();
            if let Some(n) = read_number(&s, &strict) {
                read += 1;
                assert_eq!(parse_number(&s).to_bits(), n.value.to_bits(), "{s:?}");
            }
        }
        assert!(read > 1000, "only {read} strings read as numbers");
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
