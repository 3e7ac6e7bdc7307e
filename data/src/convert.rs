//! The single boundary between Polars and the engine: data frames and JSON
//! rows become `automl::Dataset`s. With a model's schema, each input is cast
//! to the kind the model was trained on, so a CSV and a JSON request with
//! the same values give the same predictions.

use automl::{Column as MlColumn, Dataset, FeatureKind, FeatureStats, category_label};
use polars::prelude::*;

use crate::error::{Error, Result};

/// Every column, as training sees it: numbers stay numbers (infinite ones
/// become missing, as the engine's encoders read them, so that an infinite
/// target value leaves its row out of training like a missing one),
/// everything else becomes categories.
pub fn frame_to_dataset(frame: &DataFrame) -> Result<Dataset> {
    let cols = frame
        .columns()
        .iter()
        .map(|c| {
            let col = if c.dtype().is_primitive_numeric() {
                let finite = numbers(c)?
                    .into_iter()
                    .map(|x| if x.is_infinite() { f64::NAN } else { x })
                    .collect();
                MlColumn::Numeric(finite)
            } else {
                MlColumn::Categorical(labels(c)?)
            };
            Ok((c.name().to_string(), col))
        })
        .collect::<Result<Vec<_>, Error>>()?;
    Ok(Dataset::new(cols)?)
}

/// The model's features from `frame`, cast to the trained kinds. Missing
/// columns are an error that names all of them; extra columns are ignored.
pub fn frame_for_model(frame: &DataFrame, features: &[FeatureStats]) -> Result<Dataset> {
    let missing: Vec<&str> = features
        .iter()
        .map(|f| f.name.as_str())
        .filter(|n| frame.column(n).is_err())
        .collect();
    if !missing.is_empty() {
        return Err(missing_columns(&missing));
    }
    let cols = features
        .iter()
        .map(|f| {
            let c = frame
                .column(&f.name)
                .map_err(|e| Error::Internal(e.to_string()))?;
            let col = match f.kind {
                FeatureKind::Numeric => MlColumn::Numeric(numbers(c)?),
                FeatureKind::Categorical => MlColumn::Categorical(labels(c)?),
            };
            Ok((f.name.clone(), col))
        })
        .collect::<Result<Vec<_>, Error>>()?;
    Ok(Dataset::new(cols)?)
}

fn missing_columns(missing: &[&str]) -> Error {
    Error::Unprocessable {
        code: "missing_columns",
        message: format!(
            "the data lacks column{} the model needs: {}",
            if missing.len() > 1 { "s" } else { "" },
            missing.join(", ")
        ),
        details: Some(serde_json::json!({ "missing": missing })),
    }
}

fn polars(e: PolarsError) -> Error {
    Error::Internal(format!("polars: {e}"))
}

/// Numbers as f64 (missing and unparsable text are NaN; booleans are 0/1).
pub(crate) fn numbers(c: &Column) -> Result<Vec<f64>, Error> {
    if c.dtype() == &DataType::String {
        return Ok(c
            .str()
            .map_err(polars)?
            .iter()
            .map(|v| {
                v.and_then(|s| s.trim().parse::<f64>().ok())
                    .unwrap_or(f64::NAN)
            })
            .collect());
    }
    let f = c.cast(&DataType::Float64).map_err(polars)?;
    Ok(f.f64()
        .map_err(polars)?
        .iter()
        .map(|v| v.unwrap_or(f64::NAN))
        .collect())
}

/// Category labels: text as is, numbers as [`category_label`], booleans as `true`/`false`.
pub(crate) fn labels(c: &Column) -> Result<Vec<Option<String>>, Error> {
    if c.dtype().is_primitive_numeric() {
        return Ok(numbers(c)?
            .into_iter()
            .map(|x| (!x.is_nan()).then(|| category_label(x)))
            .collect());
    }
    crate::profile::text_cells(c).map_err(polars)
}

/// JSON rows (`{ feature: number | string | bool | null }`) for a model.
pub fn json_for_model(
    rows: &[serde_json::Map<String, serde_json::Value>],
    features: &[FeatureStats],
) -> Result<Dataset> {
    use serde_json::Value;
    let mut missing: Vec<&str> = Vec::new();
    for f in features {
        if rows.iter().any(|r| !r.contains_key(&f.name)) {
            missing.push(&f.name);
        }
    }
    if !missing.is_empty() {
        return Err(missing_columns(&missing));
    }
    let cols = features
        .iter()
        .map(|f| {
            let values = rows.iter().map(|r| &r[&f.name]);
            let col = match f.kind {
                FeatureKind::Numeric => MlColumn::Numeric(
                    values
                        .map(|v| match v {
                            Value::Number(n) => n.as_f64().unwrap_or(f64::NAN),
                            Value::String(s) => s.trim().parse::<f64>().unwrap_or(f64::NAN),
                            Value::Bool(b) => f64::from(u8::from(*b)),
                            _ => f64::NAN,
                        })
                        .collect(),
                ),
                FeatureKind::Categorical => MlColumn::Categorical(
                    values
                        .map(|v| match v {
                            Value::Number(n) => n.as_f64().map(category_label),
                            Value::String(s) if s.trim().is_empty() => None,
                            Value::String(s) => Some(s.trim().to_owned()),
                            Value::Bool(b) => Some(b.to_string()),
                            _ => None,
                        })
                        .collect(),
                ),
            };
            (f.name.clone(), col)
        })
        .collect();
    Ok(Dataset::new(cols)?)
}

/// Checks a build's columns against the prepared dataset: the target and
/// every excluded column must exist, something must be left to learn from,
/// and the numbers of the columns used must be small enough to train on.
pub fn check_build_columns(frame: &DataFrame, target: &str, exclude: &[String]) -> Result<()> {
    let names: Vec<&str> = frame
        .get_column_names()
        .into_iter()
        .map(|n| n.as_str())
        .collect();
    check_build_names(&names, target, exclude)?;
    let used = names
        .into_iter()
        .filter(|n| !exclude.iter().any(|e| e == n));
    check_magnitudes(frame, used)
}

/// The column checks of [`check_build_columns`] on the prepared dataset's
/// column names alone (its numbers are not looked at), for a request
/// checked without the data.
pub fn check_build_names<S: AsRef<str>>(
    names: &[S],
    target: &str,
    exclude: &[String],
) -> Result<()> {
    let has = |c: &str| names.iter().any(|n| n.as_ref() == c);
    if !has(target) {
        return Err(Error::unprocessable(
            "unknown_column",
            format!(
                "the prepared dataset has no column `{}` (the target)",
                target
            ),
        ));
    }
    let unknown: Vec<&str> = exclude
        .iter()
        .map(String::as_str)
        .filter(|c| !has(c))
        .collect();
    if !unknown.is_empty() {
        return Err(Error::unprocessable(
            "unknown_column",
            format!(
                "cannot exclude columns the prepared dataset lacks: {}",
                unknown.join(", ")
            ),
        ));
    }
    if exclude.iter().any(|c| c == target) {
        return Err(Error::unprocessable(
            "invalid_exclude",
            "the target cannot be excluded",
        ));
    }
    if names.len() <= 1 + exclude.len() {
        return Err(Error::unprocessable(
            "no_features",
            "no columns are left to learn from besides the target",
        ));
    }
    Ok(())
}

/// The numeric columns among `columns` must be small enough for training:
/// the engine keeps each column's mean and spread in the model, from plain
/// sums of the numbers and of their squared deviations, which overflow a
/// double for numbers beyond about ±1e154 (their squares pass ±1.8e308). A
/// model holding such an infinite statistic could not be saved, so the build
/// is refused before it starts, naming the column. Infinite values
/// themselves are fine: they are missing to training.
pub fn check_magnitudes<'a>(
    frame: &DataFrame,
    columns: impl Iterator<Item = &'a str>,
) -> Result<()> {
    for name in columns {
        let Ok(c) = frame.column(name) else {
            continue;
        };
        if !c.dtype().is_primitive_numeric() {
            continue;
        }
        let v: Vec<f64> = numbers(c)?.into_iter().filter(|x| x.is_finite()).collect();
        if v.is_empty() {
            continue;
        }
        let mean = v.iter().sum::<f64>() / v.len() as f64;
        let spread = v.iter().map(|x| (x - mean).powi(2)).sum::<f64>();
        if mean.is_finite() && spread.is_finite() {
            continue;
        }
        let largest = v.iter().fold(0.0f64, |m, x| m.max(x.abs()));
        return Err(Error::unprocessable(
            "numbers_too_large",
            format!(
                "column `{name}` holds numbers too large to train on (up to ±{largest:e}; beyond about ±1e154 their sums overflow a double): rescale it (a log step in the recipe does) or exclude it"
            ),
        ));
    }
    Ok(())
}

/// One column of `frame` as a dataset, with its count of missing values.
pub fn one_column(frame: &DataFrame, column: &str) -> Result<(Dataset, u64)> {
    let col = frame.column(column).map_err(polars)?;
    let one = DataFrame::new_infer_height(vec![col.clone()]).map_err(polars)?;
    Ok((frame_to_dataset(&one)?, col.null_count() as u64))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_stay_numeric_and_text_becomes_categories() {
        let frame =
            df!("x" => [Some(1i64), None], "s" => [Some("a"), None], "b" => [true, false]).unwrap();
        let ds = frame_to_dataset(&frame).unwrap();
        assert!(
            matches!(ds.column("x"), Some(MlColumn::Numeric(v)) if v[0] == 1.0 && v[1].is_nan())
        );
        assert_eq!(
            ds.column("s"),
            Some(&MlColumn::Categorical(vec![Some("a".into()), None]))
        );
        assert_eq!(
            ds.column("b"),
            Some(&MlColumn::Categorical(vec![
                Some("true".into()),
                Some("false".into())
            ]))
        );
    }
}
