//! The single boundary between Polars and the engine: data frames and JSON
//! rows become `automl::Dataset`s. With a model's schema, each input is cast
//! to the kind the model was trained on, so a CSV and a JSON request with
//! the same values give the same predictions.

use automl::{Column as MlColumn, Dataset, FeatureKind, FeatureStats, category_label};
use polars::prelude::*;

use crate::error::AppError;

/// Every column, as training sees it: numbers stay numbers (infinite ones
/// become missing, as the engine's encoders read them, so that an infinite
/// target value leaves its row out of training like a missing one),
/// everything else becomes categories.
pub fn frame_to_dataset(frame: &DataFrame) -> Result<Dataset, AppError> {
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
        .collect::<Result<Vec<_>, AppError>>()?;
    Ok(Dataset::new(cols)?)
}

/// The model's features from `frame`, cast to the trained kinds. Missing
/// columns are an error that names all of them; extra columns are ignored.
pub fn frame_for_model(frame: &DataFrame, features: &[FeatureStats]) -> Result<Dataset, AppError> {
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
                .map_err(|e| AppError::Internal(e.to_string()))?;
            let col = match f.kind {
                FeatureKind::Numeric => MlColumn::Numeric(numbers(c)?),
                FeatureKind::Categorical => MlColumn::Categorical(labels(c)?),
            };
            Ok((f.name.clone(), col))
        })
        .collect::<Result<Vec<_>, AppError>>()?;
    Ok(Dataset::new(cols)?)
}

fn missing_columns(missing: &[&str]) -> AppError {
    AppError::Unprocessable {
        code: "missing_columns",
        message: format!(
            "the data lacks column{} the model needs: {}",
            if missing.len() > 1 { "s" } else { "" },
            missing.join(", ")
        ),
        details: Some(serde_json::json!({ "missing": missing })),
    }
}

fn polars(e: PolarsError) -> AppError {
    AppError::Internal(format!("polars: {e}"))
}

/// Numbers as f64 (missing and unparsable text are NaN; booleans are 0/1).
pub(crate) fn numbers(c: &Column) -> Result<Vec<f64>, AppError> {
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
pub(crate) fn labels(c: &Column) -> Result<Vec<Option<String>>, AppError> {
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
) -> Result<Dataset, AppError> {
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
