//! A bias report's words: each metric's name, range, fair value and a
//! sentence for its value, and the printable page.

use automl::fairness::{BiasMetric, Value};

/// A metric with its name, range, fair value and a sentence for its value.
pub(super) fn value(m: &BiasMetric) -> api::BiasValue {
    let (name, stage, range, fair) = catalogue(m.code);
    let (value, undefined) = match &m.value {
        Value::Number(x) => (Some(*x), None),
        Value::Undefined(why) => (None, Some(why.clone())),
    };
    api::BiasValue {
        code: m.code.to_owned(),
        name: name.to_owned(),
        stage,
        value,
        undefined,
        range: range.to_owned(),
        fair,
        reading: reading(m.code, value),
    }
}

/// Each metric's name, stage, range and the value that means no difference.
fn catalogue(code: &str) -> (&'static str, api::BiasStage, &'static str, f64) {
    use api::BiasStage::{PostTraining as Post, PreTraining as Pre};
    match code {
        "CI" => ("Class imbalance", Pre, "−1 to 1", 0.0),
        "DPL" => ("Difference in proportions of labels", Pre, "−1 to 1", 0.0),
        "KL" => ("Kullback-Leibler divergence", Pre, "0 to ∞", 0.0),
        "JS" => ("Jensen-Shannon divergence", Pre, "0 to ln 2", 0.0),
        "LP" => (
            "Lp-norm (L2) of the label distributions",
            Pre,
            "0 to √2",
            0.0,
        ),
        "TVD" => ("Total variation distance", Pre, "0 to 1", 0.0),
        "KS" => ("Kolmogorov-Smirnov distance", Pre, "0 to 1", 0.0),
        "CDDL" => (
            "Conditional demographic disparity in labels",
            Pre,
            "−1 to 1",
            0.0,
        ),
        "DPPL" => (
            "Difference in positive proportions in predicted labels",
            Post,
            "−1 to 1",
            0.0,
        ),
        "DI" => ("Disparate impact", Post, "0 to ∞", 1.0),
        "DCA" => ("Difference in conditional acceptance", Post, "−∞ to ∞", 0.0),
        "DCR" => ("Difference in conditional rejection", Post, "−∞ to ∞", 0.0),
        "DAR" => ("Difference in acceptance rates", Post, "−1 to 1", 0.0),
        "DRR" => ("Difference in rejection rates", Post, "−1 to 1", 0.0),
        "RD" => ("Recall difference", Post, "−1 to 1", 0.0),
        "SD" => ("Specificity difference", Post, "−1 to 1", 0.0),
        "AD" => ("Accuracy difference", Post, "−1 to 1", 0.0),
        "TE" => ("Treatment equality", Post, "−∞ to ∞", 0.0),
        "GE" => ("Generalized entropy", Post, "0 to 0.5", 0.0),
        "CDDPL" => (
            "Conditional demographic disparity in predicted labels",
            Post,
            "−1 to 1",
            0.0,
        ),
        "FT" => ("Counterfactual flip test", Post, "−1 to 1", 0.0),
        _ => ("", Pre, "", 0.0),
    }
}

/// A sentence that reads `value` of metric `code`.
fn reading(code: &str, value: Option<f64>) -> String {
    let Some(x) = value else {
        return "Not defined for these rows.".to_owned();
    };
    let pts = |x: f64| format!("{:.1} percentage", x.abs() * 100.0);
    if x == 0.0 && code != "DI" {
        return "No difference between the facet and the other rows.".to_owned();
    }
    match code {
        "CI" => format!(
            "The facet holds {} of the rows, the others {}.",
            api::display::percent((1.0 - x) / 2.0),
            api::display::percent((1.0 + x) / 2.0)
        ),
        "DPL" => format!(
            "Favourable labels are {} points more common among {}.",
            pts(x),
            if x > 0.0 {
                "the other rows"
            } else {
                "the facet"
            }
        ),
        "KL" | "JS" | "LP" | "TVD" | "KS" => format!(
            "The label distributions of the facet and the rest differ by {} ({}: none).",
            api::display::number(x),
            0
        ),
        "CDDL" | "CDDPL" => format!(
            "Within groups, the facet is {} among the unfavourable {} than among the favourable ones, by {} points on average.",
            if x > 0.0 {
                "more common"
            } else {
                "less common"
            },
            if code == "CDDL" {
                "labels"
            } else {
                "predictions"
            },
            pts(x)
        ),
        "DPPL" => format!(
            "The model predicts the favourable outcome {} points more often for {}.",
            pts(x),
            if x > 0.0 {
                "the other rows"
            } else {
                "the facet"
            }
        ),
        "DI" => format!(
            "The facet is predicted favourable {} times as often as the other rows{}.",
            api::display::number(x),
            if x < 0.8 {
                " (below the four-fifths rule's 0.8)"
            } else {
                ""
            }
        ),
        "DCA" => format!(
            "Per favourable prediction, {} had {} more favourable outcomes: the model accepts them less readily.",
            if x > 0.0 {
                "the other rows"
            } else {
                "the facet"
            },
            api::display::number(x.abs())
        ),
        "DCR" => format!(
            "Per unfavourable prediction, {} more often had an unfavourable outcome (by {}).",
            if x > 0.0 {
                "the facet"
            } else {
                "the other rows"
            },
            api::display::number(x.abs())
        ),
        "DAR" => format!(
            "Favourable predictions are right {} points more often for {}.",
            pts(x),
            if x > 0.0 {
                "the other rows"
            } else {
                "the facet"
            }
        ),
        "DRR" => format!(
            "Unfavourable predictions are right {} points more often for {}.",
            pts(x),
            if x > 0.0 {
                "the facet"
            } else {
                "the other rows"
            }
        ),
        "RD" => format!(
            "The model finds {} points more of the favourable outcomes among {}.",
            pts(x),
            if x > 0.0 {
                "the other rows"
            } else {
                "the facet"
            }
        ),
        "SD" => format!(
            "The model finds {} points more of the unfavourable outcomes among {}.",
            pts(x),
            if x > 0.0 {
                "the facet"
            } else {
                "the other rows"
            }
        ),
        "AD" => format!(
            "The model is {} points more accurate on {}.",
            pts(x),
            if x > 0.0 {
                "the other rows"
            } else {
                "the facet"
            }
        ),
        "TE" => format!(
            "False negatives per false positive are {} higher for {}.",
            api::display::number(x.abs()),
            if x > 0.0 {
                "the facet"
            } else {
                "the other rows"
            }
        ),
        "GE" => format!(
            "Benefits (favourable predictions against outcomes) are spread unequally across all rows: {} (0: equal).",
            api::display::number(x)
        ),
        "FT" => format!(
            "Judged as their nearest other rows are, {} of the facet would get {} outcome.",
            api::display::percent(x.abs()),
            if x > 0.0 { "a worse" } else { "a better" }
        ),
        _ => String::new(),
    }
}

/// The report as a printable HTML page (no scripts, no styles: the
/// browser's own, which print well), with its chart from `chart`.
pub fn html(title: &str, r: &api::BiasReport, chart: &str) -> String {
    let e = escape;
    let mut s = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{}</title></head><body>\
         <h1>{}</h1><p>Facet: {} against the other rows. Favourable: {}.{}</p><p>Read on {}.</p>",
        e(title),
        e(title),
        e(&r.facet),
        e(&r.favourable),
        r.group
            .as_ref()
            .map(|g| format!(" Groups for the conditional metrics: `{}`.", e(g)))
            .unwrap_or_default(),
        e(&r.source)
    );
    s.push_str("<table><tr><th>Rows</th><th>count</th><th>favourable labels</th><th>favourable predictions</th></tr>");
    for rate in &r.rates {
        s.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            e(&rate.side),
            rate.rows,
            api::display::percent(rate.labels),
            rate.predictions
                .map(api::display::percent)
                .unwrap_or_default()
        ));
    }
    s.push_str(&format!(
        "</table><p>{} left out for a missing value.</p>",
        api::display::plural(r.missing_rows, "row", "rows")
    ));
    for w in &r.warnings {
        s.push_str(&format!("<p><strong>{}</strong></p>", e(w)));
    }
    s.push_str(
        "<table><tr><th>Metric</th><th>value</th><th>fair</th><th>range</th><th>reading</th></tr>",
    );
    for m in &r.metrics {
        let value = match (m.value, &m.undefined) {
            (Some(x), _) => api::display::number(x),
            (None, Some(why)) => format!("undefined: {why}"),
            (None, None) => String::new(),
        };
        s.push_str(&format!(
            "<tr><td>{} ({})</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            e(&m.name),
            e(&m.code),
            e(&value),
            api::display::number(m.fair),
            e(&m.range),
            e(&m.reading)
        ));
    }
    s.push_str(&format!(
        "</table><p><img src=\"{}\" alt=\"Favourable share by facet value\"></p><p>Metrics as SageMaker Clarify defines them (smclarify 0.5).</p></body></html>",
        e(chart)
    ));
    s
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
