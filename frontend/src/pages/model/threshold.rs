//! A binary classifier's decision threshold: moving it shows the confusion
//! matrix, precision, recall and F1 it gives on the held-out rows; saving it
//! makes the model, its predictions and its download decide so.

use api::display;
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::client;
use crate::components::ErrorBox;

/// The held-out counts `(true negatives, false positives, false negatives,
/// true positives)` when rows whose probability of the second class is at
/// least `t` are called positive; `roc` and `thresholds` as in
/// [`api::Evaluation`], `positives` and `negatives` the class counts.
pub fn counts_at(
    roc: &[(f64, f64)],
    thresholds: &[f64],
    positives: u64,
    negatives: u64,
    t: f64,
) -> (u64, u64, u64, u64) {
    // Thresholds descend: those at least `t` are the ROC points passed.
    let i = thresholds.iter().take_while(|&&s| s >= t).count();
    let (fpr, tpr) = roc.get(i).copied().unwrap_or((0.0, 0.0));
    let tp = ((tpr * positives as f64).round() as u64).min(positives);
    let fp = ((fpr * negatives as f64).round() as u64).min(negatives);
    (negatives - fp, fp, positives - tp, tp)
}

/// `a / b`, or `None` when `b` is 0.
fn ratio(a: u64, b: u64) -> Option<f64> {
    (b > 0).then(|| a as f64 / b as f64)
}

#[component]
pub fn Threshold(
    model_id: String,
    classes: Vec<String>,
    evaluation: api::Evaluation,
    saved: Option<f64>,
) -> impl IntoView {
    let e = StoredValue::new(evaluation);
    let row_sum =
        |r: usize| e.with_value(|e| e.confusion.get(r).map_or(0, |r| r.iter().sum::<u64>()));
    let (negatives, positives) = (row_sum(0), row_sum(1));
    let (negative, positive) = (
        classes.first().cloned().unwrap_or_default(),
        classes.get(1).cloned().unwrap_or_default(),
    );
    let saved = RwSignal::new(saved);
    let value = RwSignal::new(saved.get_untracked().unwrap_or(0.5));
    let error = RwSignal::new(None::<String>);
    let saving = RwSignal::new(false);
    let counts = move || {
        e.with_value(|e| counts_at(&e.roc, &e.thresholds, positives, negatives, value.get()))
    };
    let model_id = StoredValue::new(model_id);
    let save = move |threshold: Option<f64>| {
        saving.set(true);
        error.set(None);
        spawn_local(async move {
            let id = model_id.get_value();
            match client::set_threshold(&id, threshold).await {
                Ok(m) => {
                    saved.set(m.threshold);
                    value.set(m.threshold.unwrap_or(0.5));
                }
                Err(e) => error.set(Some(e.error.message)),
            }
            saving.set(false);
        });
    };
    let (neg_head, pos_head) = (negative.clone(), positive.clone());
    let (neg_row, pos_row) = (negative.clone(), positive.clone());
    view! {
        <h2>"Decision threshold"</h2>
        <p class="muted small">{format!(
            "A row is predicted “{positive}” when its probability of “{positive}” is at least the threshold; otherwise “{negative}”. A lower threshold finds more “{positive}” rows and raises more false alarms. The counts are the held-out rows'."
        )}</p>
        <div class="threshold-row">
            <label for="threshold-slider">"Threshold"</label>
            <input id="threshold-slider" type="range" min="0.01" max="0.99" step="0.01"
                prop:value=move || format!("{:.2}", value.get())
                on:input=move |ev| { if let Ok(v) = event_target_value(&ev).parse::<f64>() { value.set(v) } }/>
            <output id="threshold-value" for="threshold-slider">{move || format!("{:.2}", value.get())}</output>
        </div>
        <div class="threshold-view">
            <table class="data confusion" id="threshold-confusion">
                <thead><tr><th>"actual ↓ · predicted →"</th><th>{neg_head}</th><th>{pos_head}</th></tr></thead>
                <tbody>
                    <tr><th scope="row">{neg_row}</th><td class="num">{move || display::count(counts().0)}</td><td class="num">{move || display::count(counts().1)}</td></tr>
                    <tr><th scope="row">{pos_row}</th><td class="num">{move || display::count(counts().2)}</td><td class="num">{move || display::count(counts().3)}</td></tr>
                </tbody>
            </table>
            <div class="metrics" id="threshold-metrics">
                {move || {
                    let (tn, fp, fneg, tp) = counts();
                    let precision = ratio(tp, tp + fp);
                    let recall = ratio(tp, tp + fneg);
                    let f1 = match (precision, recall) {
                        (Some(p), Some(r)) if p + r > 0.0 => Some(2.0 * p * r / (p + r)),
                        _ => None,
                    };
                    let accuracy = ratio(tp + tn, tp + tn + fp + fneg);
                    [("precision", precision), ("recall", recall), ("F1", f1), ("accuracy", accuracy)]
                        .into_iter()
                        .map(|(name, v)| view! {
                            <div class="metric"><span class="metric-value">{v.map_or_else(|| "–".to_owned(), display::number)}</span><span class="metric-name">{name}</span></div>
                        })
                        .collect_view()
                }}
            </div>
        </div>
        <div class="actions">
            <button class="button primary" id="save-threshold"
                disabled=move || saving.get() || saved.get() == Some(value.get())
                on:click=move |_| save(Some(value.get_untracked()))>
                "Use this threshold"
            </button>
            <button class="button" id="reset-threshold"
                disabled=move || saving.get() || saved.get().is_none()
                on:click=move |_| save(None)>
                "Back to the more probable class"
            </button>
        </div>
        <p class="muted small" id="threshold-status">{move || match saved.get() {
            Some(t) => format!("The model predicts with a threshold of {t:.2}, in the studio, through the API and in its download."),
            None => "The model predicts the more probable class.".to_owned(),
        }}</p>
        {move || error.get().map(|e| view! { <ErrorBox message=e/> })}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_follow_the_roc_point_of_the_threshold() {
        // Scores 0.9 (pos), 0.7 (neg), 0.4 (pos), 0.2 (neg): 2 positives, 2 negatives.
        let roc = [(0.0, 0.0), (0.0, 0.5), (0.5, 0.5), (0.5, 1.0), (1.0, 1.0)];
        let thresholds = [0.9, 0.7, 0.4, 0.2];
        assert_eq!(counts_at(&roc, &thresholds, 2, 2, 0.95), (2, 0, 2, 0));
        assert_eq!(counts_at(&roc, &thresholds, 2, 2, 0.8), (2, 0, 1, 1));
        assert_eq!(counts_at(&roc, &thresholds, 2, 2, 0.5), (1, 1, 1, 1));
        assert_eq!(counts_at(&roc, &thresholds, 2, 2, 0.4), (1, 1, 0, 2));
        assert_eq!(counts_at(&roc, &thresholds, 2, 2, 0.01), (0, 2, 0, 2));
    }
}
