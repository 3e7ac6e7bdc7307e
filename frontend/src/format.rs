//! Formatting numbers, sizes and durations for people; plain Rust, tested on the host.

pub fn bytes(n: u64) -> String {
    const UNITS: [&str; 4] = ["B", "KB", "MB", "GB"];
    let mut v = n as f64;
    let mut u = 0;
    while v >= 1024.0 && u + 1 < UNITS.len() {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}

/// A number with about four significant digits, no exponent for everyday sizes.
pub fn number(x: f64) -> String {
    if x.is_nan() {
        return "–".into();
    }
    let a = x.abs();
    if a != 0.0 && !(1e-4..1e9).contains(&a) {
        return format!("{x:.3e}");
    }
    if x.fract() == 0.0 && a < 1e9 {
        return format!("{}", x as i64);
    }
    let digits = if a >= 1000.0 {
        1
    } else if a >= 1.0 {
        3
    } else {
        4
    };
    let s = format!("{x:.digits$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        s
    }
}

/// A validation score, with its spread over folds when there is one.
pub fn score(mean: f64, std: f64) -> String {
    if std > 0.0 {
        format!("{} ± {}", number(mean), number(std))
    } else {
        number(mean)
    }
}

pub fn percent(part: u64, whole: u64) -> String {
    if whole == 0 {
        return "0%".into();
    }
    let p = part as f64 * 100.0 / whole as f64;
    if p > 0.0 && p < 0.1 {
        "<0.1%".into()
    } else {
        format!("{p:.1}%")
    }
}

pub fn seconds(s: f64) -> String {
    if s < 1.0 {
        format!("{:.0} ms", s * 1000.0)
    } else if s < 120.0 {
        format!("{s:.1} s")
    } else {
        format!("{}m {:02}s", (s / 60.0) as u64, (s % 60.0) as u64)
    }
}

/// `2026-11-28T01:02:03Z` as `2026-11-28 01:02`.
pub fn timestamp(t: &str) -> String {
    t.get(..16)
        .map_or_else(|| t.to_owned(), |s| s.replace('T', " "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert_eq!(bytes(512), "512 B");
        assert_eq!(bytes(15_241), "14.9 KB");
        assert_eq!(number(3.0), "3");
        assert_eq!(number(0.123456), "0.1235");
        assert_eq!(number(43.921929), "43.922");
        assert_eq!(number(1234.56), "1234.6");
        assert_eq!(number(f64::NAN), "–");
        assert_eq!(score(0.5, 0.0), "0.5");
        assert_eq!(score(0.91234, 0.0123), "0.9123 ± 0.0123");
        assert_eq!(percent(1, 3), "33.3%");
        assert_eq!(percent(0, 0), "0%");
        assert_eq!(seconds(0.25), "250 ms");
        assert_eq!(seconds(75.0), "75.0 s");
        assert_eq!(seconds(600.0), "10m 00s");
        assert_eq!(timestamp("2026-11-28T01:02:03Z"), "2026-11-28 01:02");
    }
}
