//! Bias reports, as SageMaker Clarify computes them (`automl::fairness`):
//! before training on a dataset's labels (`GET /api/datasets/{id}/fairness`)
//! and after, on a model's out-of-fold predictions for its training rows
//! (`GET /api/models/{id}/fairness`), as JSON or a printable HTML page.
//! Computed on request; nothing is stored. Facet columns are suggested by
//! name or values (`GET /api/datasets/{id}/facets`), never assumed.

use automl::fairness::{self, BiasMetric, Facets, Selector};
use automl::{Column, Dataset};
use data::convert;

use crate::error::{AppError, AppResult};

mod words;

use crate::storage::Store;
pub use words::html;
use words::value;

/// A facet with fewer rows than this gets a warning: its rates move by
/// several points with one row.
pub const FEW_ROWS: u64 = 30;

/// What a report is asked for (`?facet=…&value=…&above=…&target=…&
/// favourable=…&favourable_above=…&group=…&format=html`; `value` and
/// `favourable` may repeat).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BiasQuery {
    pub facet: String,
    pub values: Vec<String>,
    pub above: Option<f64>,
    /// The label column (datasets only: a model has its target).
    pub target: Option<String>,
    pub favourable: Vec<String>,
    pub favourable_above: Option<f64>,
    pub group: Option<String>,
    pub format: Format,
}

/// How a report is answered.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub enum Format {
    #[default]
    Json,
    /// The printable page.
    Html,
    /// The chart of favourable shares by facet value.
    Svg,
}

impl BiasQuery {
    /// Reads a query string; 400 for a key it does not know or a threshold
    /// that is not a number, 422 when the facet is not chosen.
    pub fn parse(raw: Option<&str>) -> AppResult<BiasQuery> {
        let mut q = BiasQuery::default();
        let number = |key: &str, v: &str| {
            v.trim()
                .parse::<f64>()
                .ok()
                .filter(|x| x.is_finite())
                .ok_or_else(|| {
                    AppError::bad_request(
                        "invalid_query",
                        format!("`{key}` must be a number, not “{v}”"),
                    )
                })
        };
        for (key, value) in form_urlencoded::parse(raw.unwrap_or_default().as_bytes()) {
            let value = value.into_owned();
            match key.as_ref() {
                "facet" => q.facet = value,
                "value" => q.values.push(value),
                "above" => q.above = Some(number("above", &value)?),
                "target" => q.target = Some(value).filter(|t| !t.is_empty()),
                "favourable" => q.favourable.push(value),
                "favourable_above" => {
                    q.favourable_above = Some(number("favourable_above", &value)?)
                }
                "group" => q.group = Some(value).filter(|g| !g.is_empty()),
                "format" => {
                    q.format = match value.as_str() {
                        "json" => Format::Json,
                        "html" => Format::Html,
                        "svg" => Format::Svg,
                        other => {
                            return Err(AppError::bad_request(
                                "invalid_query",
                                format!("`format` is json, html or svg, not “{other}”"),
                            ));
                        }
                    }
                }
                other => {
                    return Err(AppError::bad_request(
                        "invalid_query",
                        format!(
                            "unknown parameter `{other}`: use facet, value or above, target, favourable or favourable_above, group, format"
                        ),
                    ));
                }
            }
        }
        if q.facet.is_empty() {
            return Err(invalid("choose a facet column (`facet=`)"));
        }
        Ok(q)
    }
}

fn invalid(message: impl Into<String>) -> AppError {
    AppError::unprocessable("invalid_facet", message)
}

/// The pre-training report of dataset `id` as uploaded.
pub fn dataset_report(store: &Store, id: &str, q: &BiasQuery) -> AppResult<api::BiasReport> {
    let frame = store.dataset_frame(id)?;
    let data = convert::frame_to_dataset(&frame)?;
    let target = q.target.as_deref().ok_or_else(|| {
        invalid("choose the target column whose outcome is favourable (`target=`)")
    })?;
    let label = column(&data, target)?;
    let label_sel = favourable(q, target, label)?;
    let labels = label_sel.rows(target, label).map_err(bad)?;
    let facets = facets(&data, q, target, &labels, None)?;
    let metrics = fairness::pre_training(&facets);
    let by_value = by_value(&data, q, &facets);
    Ok(report(
        "the dataset as uploaded".to_owned(),
        q,
        target,
        &label_sel,
        &facets,
        &metrics,
        by_value,
    ))
}

/// A model's training rows (its dataset through its recipe) as a bias
/// report reads them: the facet, labels and out-of-fold predictions (a
/// binary model's decision threshold applied).
pub struct ModelRows {
    pub data: Dataset,
    pub facets: Facets,
    label: Selector,
    target: String,
}

/// The rows of model `id` for the facet and outcome `q` chooses.
pub fn model_rows(store: &Store, id: &str, q: &BiasQuery) -> AppResult<ModelRows> {
    let summary = store.model(id)?;
    let artifact = automl::ModelArtifact::from_json(&store.model_bytes(id)?)?;
    let oof: OutOfFold = match store.model_oof(id)? {
        Some(bytes) => serde_json::from_slice(&bytes).map_err(|e| {
            AppError::Internal(format!("model {id}'s out-of-fold predictions: {e}"))
        })?,
        None => {
            return Err(AppError::unprocessable(
                "no_predictions",
                "this model was made before Kiln kept out-of-fold predictions: train it again (Change and run again) for a bias report",
            ));
        }
    };
    let target = summary.target.as_str();
    let mut frame = store.dataset_frame(&summary.dataset_id)?;
    if let Some(version) = artifact
        .recipe
        .as_ref()
        .map(|r| r.version)
        .filter(|&v| v > 0)
    {
        let recipe = store.recipe(&summary.dataset_id, Some(version))?.recipe;
        frame = data::recipe::apply(frame, &recipe, Some(target))?.frame;
    }
    let data = convert::frame_to_dataset(&frame)?;
    if oof.rows.iter().any(|&r| r >= data.n_rows()) {
        return Err(AppError::Internal(format!(
            "model {id}'s out-of-fold rows do not fit its dataset"
        )));
    }
    let predicted = oof.column(data.n_rows(), artifact.threshold);
    let label = column(&data, target)?;
    let label_sel = favourable(q, target, label)?;
    let labels = label_sel.rows(target, label).map_err(bad)?;
    let predicted = label_sel.predicted(&predicted);
    let facets = facets(&data, q, target, &labels, Some(&predicted))?;
    Ok(ModelRows {
        data,
        facets,
        label: label_sel,
        target: target.to_owned(),
    })
}

/// The report of model `id`: pre- and post-training, on its training
/// rows with its out-of-fold predictions.
pub fn model_report(store: &Store, id: &str, q: &BiasQuery) -> AppResult<api::BiasReport> {
    let ModelRows {
        data,
        facets,
        label,
        target,
    } = model_rows(store, id, q)?;
    let features: Vec<&str> = data
        .columns()
        .filter(|(n, c)| *n != q.facet && *n != target && matches!(c, Column::Numeric(_)))
        .map(|(n, _)| n)
        .collect();
    let all: Vec<usize> = (0..data.n_rows()).collect();
    let features = data.select(&features, &all)?;
    let mut metrics = fairness::pre_training(&facets);
    metrics.extend(fairness::post_training(&facets, Some(&features), 0));
    let by_value = by_value(&data, q, &facets);
    Ok(report(
        format!(
            "the model's {} training rows, each predicted by a model that did not train on it (out-of-fold)",
            api::display::count(facets.rows.len() as u64)
        ),
        q,
        &target,
        &label,
        &facets,
        &metrics,
        by_value,
    ))
}

impl From<&api::BiasWatch> for BiasQuery {
    fn from(w: &api::BiasWatch) -> BiasQuery {
        BiasQuery {
            facet: w.facet.clone(),
            values: w.values.clone(),
            above: w.above,
            target: None,
            favourable: w.favourable.clone(),
            favourable_above: w.favourable_above,
            group: None,
            format: Format::Json,
        }
    }
}

/// Live rows as a bias report reads them: the facet's cell of each row (as
/// the request sent it), the prediction given, and the truth where known
/// (`None` throughout when no truth came: the labels are then the
/// predictions, and only the metrics of predictions mean anything).
pub fn live_facets(
    q: &BiasQuery,
    target: &str,
    facet_cells: &[Option<String>],
    predicted: &Column,
    truth: Option<&Column>,
) -> AppResult<Facets> {
    let facet = match q.above {
        Some(_) => Column::Numeric(
            facet_cells
                .iter()
                .map(|c| c.as_deref().map_or(f64::NAN, automl::values::parse_number))
                .collect(),
        ),
        None => Column::Categorical(facet_cells.to_vec()),
    };
    let label = |c: &Column| match (&q.favourable[..], q.favourable_above) {
        ([], Some(t)) => Selector::Above(t).predicted(c),
        _ => Selector::Values(q.favourable.clone()).predicted(c),
    };
    let predicted = label(predicted);
    let labels = match truth {
        Some(t) => label(t),
        None => predicted.clone(),
    };
    let data = Dataset::new(vec![(q.facet.clone(), facet)]).map_err(bad)?;
    let facets = facets(&data, q, target, &labels, Some(&predicted)).map_err(|e| match e {
        AppError::Unprocessable { message, .. } => invalid(format!("on the live rows, {message}")),
        other => other,
    })?;
    Ok(facets)
}

/// Values of the facet column drawn, at most.
const CHART_VALUES: usize = 12;

/// The favourable shares by value of the facet column (its most common
/// values), or on each side of the threshold.
fn by_value(data: &Dataset, q: &BiasQuery, facets: &Facets) -> Vec<api::FacetRate> {
    let Some(facet) = data.column(&q.facet) else {
        return Vec::new();
    };
    let key = |i: usize| -> String {
        let r = facets.rows[i];
        match q.above {
            Some(t) => {
                let side = if facets.facet[i] { ">" } else { "≤" };
                format!("{side} {}", api::display::number(t))
            }
            None => facet.label(r).unwrap_or_default(),
        }
    };
    // (value, rows, favourable labels, favourable predictions), first seen first.
    let mut counts: Vec<(String, usize, usize, usize)> = Vec::new();
    for i in 0..facets.rows.len() {
        let k = key(i);
        let at = match counts.iter().position(|c| c.0 == k) {
            Some(at) => at,
            None => {
                counts.push((k, 0, 0, 0));
                counts.len() - 1
            }
        };
        let c = &mut counts[at];
        c.1 += 1;
        c.2 += usize::from(facets.label[i]);
        c.3 += usize::from(facets.predicted.as_ref().is_some_and(|p| p[i]));
    }
    counts.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    counts.truncate(CHART_VALUES);
    counts
        .into_iter()
        .map(|(side, n, labels, predictions)| api::FacetRate {
            side,
            rows: n as u64,
            labels: labels as f64 / n as f64,
            predictions: facets
                .predicted
                .as_ref()
                .map(|_| predictions as f64 / n as f64),
        })
        .collect()
}

/// The favourable shares by facet value as horizontal bars (labels, and
/// predictions after training).
pub fn chart(r: &api::BiasReport) -> AppResult<String> {
    let mut items = Vec::new();
    for v in &r.by_value {
        items.push((format!("{} ({})", v.side, v.rows), v.labels));
        if let Some(p) = v.predictions {
            items.push((format!("{}: predicted", v.side), p));
        }
    }
    crate::charts::bars(
        &format!(
            "Favourable share by value: {}",
            r.favourable.replace('`', "")
        ),
        "share of rows with the favourable outcome",
        &items,
    )
}

/// The post-training report of a scored file that holds the outcomes
/// (its model's target column): its rows, their predictions and outcomes.
pub fn batch_report(store: &Store, id: &str, q: &BiasQuery) -> AppResult<api::BiasReport> {
    let batch = store.batch(id)?;
    let Some(evaluation) = &batch.evaluation else {
        return Err(AppError::unprocessable(
            "no_outcomes",
            format!(
                "the scored file “{}” holds no outcomes (its model's target column): bias after training compares predictions with them",
                batch.file_name
            ),
        ));
    };
    let path = store.predictions_file(id)?;
    let frame = data::ingest::read_csv(&path, &data::ingest::ReadOptions::default())?.frame;
    let data = convert::frame_to_dataset(&frame)?;
    // The scored columns come last: the prediction, then a probability per class.
    let names = data.names();
    let at = names
        .len()
        .checked_sub(evaluation.classes.len() + 1)
        .ok_or_else(|| AppError::Internal(format!("scored file {id} lost its prediction")))?;
    let (inputs, prediction) = (&names[..at], names[at].clone());
    let target = evaluation.target.as_str();
    let label = column(&data, target)?;
    let label_sel = favourable(q, target, label)?;
    let labels = label_sel.rows(target, label).map_err(bad)?;
    let predicted = label_sel.predicted(column(&data, &prediction)?);
    let facets = facets(&data, q, target, &labels, Some(&predicted))?;
    let numeric: Vec<&str> = inputs
        .iter()
        .filter(|n| **n != q.facet && *n != target)
        .filter(|n| matches!(data.column(n), Some(Column::Numeric(_))))
        .map(String::as_str)
        .collect();
    let all: Vec<usize> = (0..data.n_rows()).collect();
    let features = data.select(&numeric, &all)?;
    let mut metrics = fairness::pre_training(&facets);
    metrics.extend(fairness::post_training(&facets, Some(&features), 0));
    let by_value = by_value(&data, q, &facets);
    Ok(report(
        format!(
            "the {} scored rows of “{}” with their outcomes",
            api::display::count(facets.rows.len() as u64),
            batch.file_name
        ),
        q,
        target,
        &label_sel,
        &facets,
        &metrics,
        by_value,
    ))
}

/// A model's out-of-fold predictions as kept with it: the rows of its
/// (prepared) dataset, and per row the most probable class (with the
/// second class's probability for a binary model) or the number.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct OutOfFold {
    pub rows: Vec<usize>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub classes: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub labels: Vec<usize>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub positive: Vec<f64>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub values: Vec<f64>,
}

impl OutOfFold {
    pub fn of(oof: &automl::OutOfFold) -> OutOfFold {
        match &oof.predictions {
            automl::Predictions::Regression(v) => OutOfFold {
                rows: oof.rows.clone(),
                classes: Vec::new(),
                labels: Vec::new(),
                positive: Vec::new(),
                values: v.clone(),
            },
            automl::Predictions::Classes {
                classes,
                probabilities,
                labels,
            } => OutOfFold {
                rows: oof.rows.clone(),
                classes: classes.clone(),
                labels: labels.clone(),
                positive: if classes.len() == 2 {
                    probabilities.chunks(2).map(|p| p[1]).collect()
                } else {
                    Vec::new()
                },
                values: Vec::new(),
            },
        }
    }

    /// The predictions as a column of `n` rows, missing where not covered.
    fn column(&self, n: usize, threshold: Option<f64>) -> Column {
        if self.classes.is_empty() {
            let mut v = vec![f64::NAN; n];
            for (&r, &x) in self.rows.iter().zip(&self.values) {
                v[r] = x;
            }
            return Column::Numeric(v);
        }
        let mut v = vec![None; n];
        for (i, &r) in self.rows.iter().enumerate() {
            let class = match (threshold, self.positive.get(i)) {
                (Some(t), Some(&p)) => usize::from(p >= t),
                _ => self.labels[i],
            };
            v[r] = self.classes.get(class).cloned();
        }
        Column::Categorical(v)
    }
}

fn column<'a>(data: &'a Dataset, name: &str) -> AppResult<&'a Column> {
    data.column(name).ok_or_else(|| {
        AppError::unprocessable(
            "unknown_column",
            format!("the dataset has no column `{name}`"),
        )
    })
}

fn bad(e: automl::Error) -> AppError {
    match e {
        automl::Error::Parameter { reason, .. } => invalid(reason),
        other => other.into(),
    }
}

/// The favourable outcome of `target`: values, or a threshold for numbers
/// (a number target with many values must have one).
fn favourable(q: &BiasQuery, target: &str, label: &Column) -> AppResult<Selector> {
    match (&q.favourable[..], q.favourable_above) {
        ([], Some(t)) => Ok(Selector::Above(t)),
        ([_, ..], None) => Ok(Selector::Values(q.favourable.clone())),
        ([_, ..], Some(_)) => Err(invalid(
            "give the favourable outcome as values (`favourable=`) or a threshold (`favourable_above=`), not both",
        )),
        ([], None) => Err(invalid(match label {
            Column::Numeric(_) => format!(
                "`{target}` is numeric: give the threshold above which it is favourable (`favourable_above=`), or its favourable values (`favourable=`)"
            ),
            Column::Categorical(_) => {
                format!("choose the favourable value(s) of `{target}` (`favourable=`)")
            }
        })),
    }
}

/// The rows of the facet against the others, with `labels` (and
/// `predicted`) and the group column; 422 when the facet cannot split them.
fn facets(
    data: &Dataset,
    q: &BiasQuery,
    target: &str,
    labels: &[Option<bool>],
    predicted: Option<&[Option<bool>]>,
) -> AppResult<Facets> {
    if q.facet == target {
        return Err(invalid(format!(
            "`{target}` is the target: choose another facet column"
        )));
    }
    let facet = column(data, &q.facet)?;
    let present: Vec<String> = (0..facet.len()).filter_map(|r| facet.label(r)).collect();
    if present.is_empty() {
        return Err(invalid(format!("`{}` has no values", q.facet)));
    }
    if present.iter().all(|v| *v == present[0]) {
        return Err(invalid(format!(
            "`{}` has one value, “{}”: a facet needs rows on both sides",
            q.facet, present[0]
        )));
    }
    let selector = match (&q.values[..], q.above) {
        ([], Some(t)) => Selector::Above(t),
        ([_, ..], None) => Selector::Values(q.values.clone()),
        ([_, ..], Some(_)) => {
            return Err(invalid(
                "give the facet as values (`value=`) or a threshold (`above=`), not both",
            ));
        }
        ([], None) => {
            return Err(invalid(format!(
                "choose the value(s) of `{}` to compare with the rest (`value=`), or a threshold (`above=`)",
                q.facet
            )));
        }
    };
    let rows = selector.rows(&q.facet, facet).map_err(bad)?;
    let group = match &q.group {
        Some(g) if g == &q.facet || g == target => {
            return Err(invalid(format!(
                "the group column `{g}` must differ from the facet and the target"
            )));
        }
        Some(g) => Some(column(data, g)?),
        None => None,
    };
    let facets = Facets::new(&rows, labels, predicted, group);
    let (d, a) = facets.sizes();
    if d == 0 {
        return Err(invalid(format!(
            "no row with a known outcome is in the facet ({})",
            facet_words(q)
        )));
    }
    if a == 0 {
        return Err(invalid(format!(
            "every row with a known outcome is in the facet ({}): there is nothing to compare it with",
            facet_words(q)
        )));
    }
    Ok(facets)
}

/// The facet and the favourable outcome of `target` in words.
pub fn watch_words(q: &BiasQuery, target: &str) -> String {
    let favourable = match (&q.favourable[..], q.favourable_above) {
        ([], Some(t)) => format!("`{target}` > {}", api::display::number(t)),
        (v, _) => format!("`{target}` is {}", quoted(v)),
    };
    format!("{}, favourable when {favourable}", facet_words(q))
}

/// The facet of interest in words.
fn facet_words(q: &BiasQuery) -> String {
    match q.above {
        Some(t) => format!("`{}` > {}", q.facet, api::display::number(t)),
        None => format!("`{}` is {}", q.facet, quoted(&q.values)),
    }
}

fn quoted(values: &[String]) -> String {
    let v: Vec<String> = values.iter().map(|v| format!("“{v}”")).collect();
    match v.len() {
        1 => v[0].clone(),
        _ => format!("one of {}", v.join(", ")),
    }
}

fn report(
    source: String,
    q: &BiasQuery,
    target: &str,
    label: &Selector,
    facets: &Facets,
    metrics: &[BiasMetric],
    by_value: Vec<api::FacetRate>,
) -> api::BiasReport {
    let (d, a) = facets.sizes();
    let rate = |side: bool, of: &[bool]| {
        let (n, k) = facets
            .facet
            .iter()
            .zip(of)
            .filter(|(f, _)| **f == side)
            .fold((0usize, 0usize), |(n, k), (_, &o)| {
                (n + 1, k + usize::from(o))
            });
        k as f64 / n.max(1) as f64
    };
    let rates = [(true, "facet", d), (false, "others", a)]
        .into_iter()
        .map(|(side, name, rows)| api::FacetRate {
            side: name.to_owned(),
            rows: rows as u64,
            labels: rate(side, &facets.label),
            predictions: facets.predicted.as_ref().map(|p| rate(side, p)),
        })
        .collect();
    let mut warnings = Vec::new();
    for (name, n) in [("The facet", d), ("The rest", a)] {
        if (n as u64) < FEW_ROWS {
            warnings.push(format!(
                "{name} has only {}: its rates move by {} or more with a single row, so read the numbers as rough.",
                api::display::plural(n as u64, "row", "rows"),
                api::display::percent(1.0 / n as f64)
            ));
        }
    }
    let favourable = match label {
        Selector::Above(t) => format!("`{target}` > {}", api::display::number(*t)),
        Selector::Values(v) => format!("`{target}` is {}", quoted(v)),
    };
    api::BiasReport {
        source,
        facet: facet_words(q),
        favourable,
        group: q.group.clone(),
        facet_rows: d as u64,
        other_rows: a as u64,
        missing_rows: facets.missing as u64,
        rates,
        by_value,
        metrics: metrics.iter().map(value).collect(),
        warnings,
    }
}

/// Columns that look like sensitive attributes, by name or by values.
pub fn suggest(store: &Store, id: &str) -> AppResult<Vec<api::SuggestedFacet>> {
    let profile = store.profile(id)?;
    Ok(profile
        .columns
        .iter()
        .filter_map(|c| {
            let numeric = c.kind == api::ColumnKind::Numeric;
            let values: Vec<String> = c.top_values.iter().map(|t| t.value.clone()).collect();
            let reason = by_name(&c.name)
                .map(|w| format!("its name says “{w}”"))
                .or_else(|| {
                    (!numeric)
                        .then(|| by_values(&values))
                        .flatten()
                        .map(|v| format!("its values include “{v}”"))
                })?;
            Some(api::SuggestedFacet {
                column: c.name.clone(),
                reason,
                numeric,
                values: if numeric { Vec::new() } else { values },
            })
        })
        .collect())
}

/// Words of a column name that name a sensitive attribute.
const SENSITIVE_NAMES: &[&str] = &[
    "sex",
    "gender",
    "race",
    "racial",
    "ethnicity",
    "ethnic",
    "age",
    "marital",
    "married",
    "nationality",
    "national",
    "citizenship",
    "citizen",
    "religion",
    "religious",
    "disability",
    "disabled",
    "foreign",
];

/// Values that name a sensitive attribute's categories.
const SENSITIVE_VALUES: &[&str] = &[
    "female",
    "male",
    "woman",
    "man",
    "women",
    "men",
    "nonbinary",
    "non-binary",
    "white",
    "black",
    "asian",
    "hispanic",
    "latino",
    "latina",
    "caucasian",
    "african-american",
    "married",
    "single",
    "divorced",
    "widowed",
    "christian",
    "muslim",
    "jewish",
    "hindu",
    "buddhist",
];

fn by_name(name: &str) -> Option<&'static str> {
    let lower = name.to_lowercase();
    lower
        .split(|c: char| !c.is_alphanumeric())
        .find_map(|w| SENSITIVE_NAMES.iter().find(|s| **s == w).copied())
}

fn by_values(values: &[String]) -> Option<String> {
    values.iter().find_map(|v| {
        let lower = v.to_lowercase();
        lower
            .split(|c: char| !c.is_alphanumeric() && c != '-')
            .any(|w| SENSITIVE_VALUES.contains(&w))
            .then(|| v.clone())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_read_repeated_values_and_refuse_what_they_do_not_know() {
        let q = BiasQuery::parse(Some(
            "facet=personal_status&value=a%2C+b&value=c&target=y&favourable=good&group=purpose&format=html",
        ))
        .unwrap();
        assert_eq!(q.values, ["a, b", "c"]);
        assert_eq!(q.format, Format::Html);
        assert_eq!(q.group.as_deref(), Some("purpose"));
        let err = BiasQuery::parse(Some("facet=age&above=forty")).unwrap_err();
        assert!(
            err.to_string().contains("`above` must be a number"),
            "{err}"
        );
        let err = BiasQuery::parse(Some("facet=age&colour=red")).unwrap_err();
        assert!(
            err.to_string().contains("unknown parameter `colour`"),
            "{err}"
        );
        let err = BiasQuery::parse(Some("value=x")).unwrap_err();
        assert!(err.to_string().contains("choose a facet column"), "{err}");
    }

    #[test]
    fn facets_are_suggested_by_whole_words_of_names_and_values() {
        assert_eq!(by_name("personal_status_and_sex"), Some("sex"));
        assert_eq!(by_name("Age"), Some("age"));
        assert_eq!(by_name("average_balance"), None);
        assert_eq!(by_name("usage"), None);
        assert_eq!(
            by_values(&["Yes".into(), "female : divorced".into()]).as_deref(),
            Some("female : divorced")
        );
        assert_eq!(
            by_values(&["manufacturing".into(), "management".into()]),
            None
        );
    }
}
