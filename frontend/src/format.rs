//! The frontend's own wording: sizes, durations, scores, timestamps,
//! evidence lines and severity counts; plain Rust, tested on the host.
//! Counts, numbers, percentages and plurals come from `api::display`.

use api::display::{count, number, plural};

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

/// A validation score, with its spread over folds when there is one.
pub fn score(mean: f64, std: f64) -> String {
    if std > 0.0 {
        format!("{} ± {}", number(mean), number(std))
    } else {
        number(mean)
    }
}

/// What a build's best single model scored with the columns it left out.
pub fn leak_cost(c: &api::LeakCost) -> String {
    let model = format!(
        "its build's best single model ({}, trial {})",
        c.family, c.trial
    );
    match c.with {
        Some(with) => format!(
            "With them, {model} scored {} {} in validation, against {} without them: a score that would not hold when you predict, before those values are known.",
            c.metric,
            number(with),
            number(c.without)
        ),
        None => format!(
            "What {model} would have scored with them was not measured: {}.",
            c.unmeasured.as_deref().unwrap_or("no reason was given")
        ),
    }
}

/// A quantile level as forecasts name it: `P10`, `P50`, `P97.5`.
pub fn quantile_name(q: f64) -> String {
    let p = (q * 1000.0).round() / 10.0;
    if p.fract() == 0.0 {
        format!("P{}", p as i64)
    } else {
        format!("P{p}")
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

/// `p5 · p25 · median · p75 · p95`.
pub fn quantiles(q: &api::Quantiles) -> String {
    [q.p05, q.p25, q.median, q.p75, q.p95]
        .map(number)
        .join(" · ")
}

/// A finding's evidence as short lines of text: value counts, named
/// numbers, example rows and whether a sample was used.
pub fn evidence(e: &api::Evidence) -> Vec<String> {
    let mut lines = Vec::new();
    if !e.values.is_empty() {
        let values: Vec<String> = e
            .values
            .iter()
            .map(|v| format!("“{}” × {}", v.value, count(v.count)))
            .collect();
        lines.push(format!("Counts: {}", values.join(", ")));
    }
    if !e.stats.is_empty() {
        let stats: Vec<String> = e
            .stats
            .iter()
            .map(|s| format!("{} {}", s.name, number(s.value)))
            .collect();
        lines.push(stats.join(" · "));
    }
    if !e.examples.is_empty() {
        let rows: Vec<String> = e
            .examples
            .iter()
            .map(|x| format!("row {} ({})", count(x.row), x.value))
            .collect();
        lines.push(format!("For example {}", rows.join(", ")));
    }
    if let Some(n) = e.sampled_rows {
        lines.push(format!("Measured on a random sample of {} rows.", count(n)));
    }
    lines
}

/// A message split into plain text and `code` (between backticks), so
/// column names can be shown as code; an unpaired backtick stays as text.
pub fn code_spans(message: &str) -> Vec<(bool, String)> {
    let parts: Vec<&str> = message.split('`').collect();
    let paired = parts.len() % 2 == 1;
    let mut out: Vec<(bool, String)> = Vec::new();
    for (i, part) in parts.iter().enumerate() {
        let code = i % 2 == 1 && (paired || i + 1 < parts.len());
        let text = if i % 2 == 1 && !code {
            format!("`{part}")
        } else {
            (*part).to_owned()
        };
        if text.is_empty() {
            continue;
        }
        match out.last_mut() {
            Some((false, prev)) if !code => prev.push_str(&text),
            _ => out.push((code, text)),
        }
    }
    out
}

/// Findings grouped by severity, most severe first, empty groups left out.
pub fn by_severity(findings: &[api::Finding]) -> Vec<(api::Severity, Vec<api::Finding>)> {
    api::Severity::ALL
        .iter()
        .map(|&s| {
            (
                s,
                findings
                    .iter()
                    .filter(|f| f.severity == s)
                    .cloned()
                    .collect::<Vec<_>>(),
            )
        })
        .filter(|(_, f)| !f.is_empty())
        .collect()
}

/// `2 critical · 3 warnings · 1 note`.
pub fn severity_counts(findings: &[api::Finding]) -> String {
    by_severity(findings)
        .iter()
        .map(|(s, f)| {
            let n = f.len() as u64;
            match s {
                api::Severity::Critical => plural(n, "critical", "critical"),
                api::Severity::Warning => plural(n, "warning", "warnings"),
                api::Severity::Info => plural(n, "note", "notes"),
            }
        })
        .collect::<Vec<_>>()
        .join(" · ")
}

/// What a list says about the `n` stored records it left out because they
/// do not read back: "2 stored builds could not be read (…)".
pub fn unreadable(n: usize, one: &str, many: &str) -> String {
    let why = if n == 1 {
        "it was made by another version or damaged"
    } else {
        "they were made by another version or damaged"
    };
    format!(
        "{} could not be read ({why}).",
        plural(
            n as u64,
            &format!("stored {one}"),
            &format!("stored {many}")
        )
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert_eq!(bytes(512), "512 B");
        assert_eq!(bytes(15_241), "14.9 KB");
        assert_eq!(score(0.5, 0.0), "0.5");
        assert_eq!(score(0.91234, 0.0123), "0.9123 ± 0.0123");
        assert_eq!(seconds(0.25), "250 ms");
        assert_eq!(seconds(75.0), "75.0 s");
        assert_eq!(seconds(600.0), "10m 00s");
        assert_eq!(timestamp("2026-11-28T01:02:03Z"), "2026-11-28 01:02");
        let q = api::Quantiles {
            p05: 1.0,
            p25: 2.5,
            median: 3.0,
            p75: 4.25,
            p95: 10.0,
        };
        assert_eq!(quantiles(&q), "1 · 2.5 · 3 · 4.25 · 10");
    }

    #[test]
    fn unreadable_records_are_counted() {
        assert_eq!(
            unreadable(1, "build", "builds"),
            "1 stored build could not be read (it was made by another version or damaged)."
        );
        assert_eq!(
            unreadable(1_200, "dataset", "datasets"),
            "1,200 stored datasets could not be read (they were made by another version or damaged)."
        );
    }

    fn finding(severity: api::Severity, kind: api::FindingKind) -> api::Finding {
        api::Finding {
            kind,
            severity,
            columns: vec![],
            message: String::new(),
            evidence: api::Evidence::default(),
            fix: None,
            steps: Vec::new(),
        }
    }

    #[test]
    fn evidence_reads_as_lines() {
        let e = api::Evidence {
            count: Some(5),
            share: Some(0.025),
            examples: vec![api::Example {
                row: 1196,
                value: "same as row 4".into(),
            }],
            values: vec![api::ValueCount {
                value: "999".into(),
                count: 5,
            }],
            stats: vec![
                api::Stat {
                    name: "median".into(),
                    value: 44.45,
                },
                api::Stat {
                    name: "upper bound".into(),
                    value: 80.0,
                },
            ],
            sampled_rows: Some(200_000),
        };
        assert_eq!(
            evidence(&e),
            [
                "Counts: “999” × 5",
                "median 44.45 · upper bound 80",
                "For example row 1,196 (same as row 4)",
                "Measured on a random sample of 200,000 rows.",
            ]
        );
        assert!(evidence(&api::Evidence::default()).is_empty());
    }

    #[test]
    fn backticks_mark_code() {
        let plain = |s: &str| (false, s.to_owned());
        let code = |s: &str| (true, s.to_owned());
        assert_eq!(
            code_spans("`a` and `b c` match"),
            [code("a"), plain(" and "), code("b c"), plain(" match")]
        );
        assert_eq!(code_spans("no code"), [plain("no code")]);
        assert_eq!(code_spans("odd ` tick"), [plain("odd ` tick")]);
        assert_eq!(
            code_spans("`x` then ` alone"),
            [code("x"), plain(" then ` alone")]
        );
        assert!(code_spans("").is_empty());
    }

    #[test]
    fn findings_group_most_severe_first() {
        use api::{FindingKind as K, Severity as S};
        let fs = vec![
            finding(S::Info, K::Skewed),
            finding(S::Critical, K::TargetLeakage),
            finding(S::Info, K::Outliers),
        ];
        let groups = by_severity(&fs);
        let shape: Vec<(S, usize)> = groups.iter().map(|(s, f)| (*s, f.len())).collect();
        assert_eq!(shape, [(S::Critical, 1), (S::Info, 2)]);
        assert_eq!(groups[1].1[1].kind, K::Outliers);
        assert_eq!(severity_counts(&fs), "1 critical · 2 notes");
    }
}
