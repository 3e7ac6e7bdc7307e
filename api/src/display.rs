//! Numbers as people read them, shared by the frontend (wasm) and anything
//! else that writes them into text: counts with thousands separators,
//! measured values with a few decimals (scientific notation only for the
//! very small and the very large), shares as percentages, and counted nouns
//! ("1 row", "3 rows"). Plain `std`, so it compiles everywhere.

/// Magnitudes below this (other than zero) are written in scientific notation.
pub const SCIENTIFIC_BELOW: f64 = 1e-4;
/// Magnitudes from this up are written in scientific notation.
pub const SCIENTIFIC_FROM: f64 = 1e9;

/// A count with thousands separators: `1234567` as `1,234,567`.
pub fn count(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

/// A measured value, short: whole numbers as integers; otherwise four
/// decimals below 1, three below 1,000 and one above, without trailing
/// zeros; magnitudes outside [`SCIENTIFIC_BELOW`, `SCIENTIFIC_FROM`) (whole
/// numbers too) in scientific notation with four significant digits
/// (`1.235e9`); missing (NaN) as a dash.
pub fn number(x: f64) -> String {
    if x.is_nan() {
        return "–".into();
    }
    let a = x.abs();
    if a != 0.0 && !(SCIENTIFIC_BELOW..SCIENTIFIC_FROM).contains(&a) {
        return format!("{x:.3e}");
    }
    if x.fract() == 0.0 {
        // |x| < 1e9, so the integer is exact.
        return format!("{}", x as i64);
    }
    let decimals = if a >= 1000.0 {
        1
    } else if a >= 1.0 {
        3
    } else {
        4
    };
    let s = format!("{x:.decimals$}");
    s.trim_end_matches('0').trim_end_matches('.').to_owned()
}

/// A share (1.0 is everything) as a percentage with one decimal; a share
/// that is positive but would read as 0.0% is `<0.1%`.
pub fn percent(share: f64) -> String {
    if share > 0.0 && share < 0.001 {
        "<0.1%".into()
    } else {
        format!("{:.1}%", share * 100.0)
    }
}

/// `part` of `whole` as a percentage ([`percent`]); `0%` when `whole` is 0.
pub fn percent_of(part: u64, whole: u64) -> String {
    if whole == 0 {
        "0%".into()
    } else {
        percent(part as f64 / whole as f64)
    }
}

/// A counted noun: `plural(1, "row", "rows")` is `1 row`, and
/// `plural(1234, "row", "rows")` is `1,234 rows`.
pub fn plural(n: u64, one: &str, many: &str) -> String {
    format!("{} {}", count(n), if n == 1 { one } else { many })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_group_thousands() {
        assert_eq!(count(0), "0");
        assert_eq!(count(12), "12");
        assert_eq!(count(999), "999");
        assert_eq!(count(1_000), "1,000");
        assert_eq!(count(336_776), "336,776");
        assert_eq!(count(1_234_567), "1,234,567");
        assert_eq!(count(u64::MAX), "18,446,744,073,709,551,615");
    }

    #[test]
    fn numbers_keep_a_few_decimals() {
        assert_eq!(number(0.0), "0");
        assert_eq!(number(-0.0), "0");
        assert_eq!(number(3.0), "3");
        assert_eq!(number(2013.0), "2013");
        assert_eq!(number(-2.71234), "-2.712");
        assert_eq!(number(0.123456), "0.1235");
        assert_eq!(number(43.921929), "43.922");
        assert_eq!(number(1234.56), "1234.6");
        assert_eq!(number(999.9999), "1000");
        assert_eq!(number(44.45), "44.45");
        // Four decimals below 1, not four significant digits.
        assert_eq!(number(0.00012345), "0.0001");
    }

    #[test]
    fn numbers_switch_to_scientific_at_the_cut_offs() {
        assert_eq!(number(SCIENTIFIC_BELOW), "0.0001");
        assert_eq!(number(0.00009), "9.000e-5");
        assert_eq!(number(-0.00001234), "-1.234e-5");
        assert_eq!(number(999_999_999.0), "999999999");
        assert_eq!(number(SCIENTIFIC_FROM), "1.000e9");
        assert_eq!(number(1_234_567_890.0), "1.235e9");
        assert_eq!(number(-2.5e12), "-2.500e12");
        assert_eq!(number(f64::INFINITY), "inf");
        assert_eq!(number(f64::NAN), "–");
    }

    #[test]
    fn percentages_have_one_decimal() {
        assert_eq!(percent(0.041), "4.1%");
        assert_eq!(percent(0.0004), "<0.1%");
        assert_eq!(percent(0.0), "0.0%");
        assert_eq!(percent(1.0), "100.0%");
        assert_eq!(percent(-0.25), "-25.0%");
        assert_eq!(percent_of(1, 3), "33.3%");
        assert_eq!(percent_of(1, 20_000), "<0.1%");
        assert_eq!(percent_of(0, 0), "0%");
    }

    #[test]
    fn plurals_count_their_noun() {
        assert_eq!(plural(0, "row", "rows"), "0 rows");
        assert_eq!(plural(1, "row", "rows"), "1 row");
        assert_eq!(plural(3, "row", "rows"), "3 rows");
        assert_eq!(plural(1_234, "category", "categories"), "1,234 categories");
    }
}
