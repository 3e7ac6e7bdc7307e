//! The engine's error type: every variant names what failed.

/// Errors the engine reports; anything a user's data or settings can cause is one of these.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("column `{0}` is not in the data")]
    MissingColumn(String),
    #[error("column `{name}` has {got} values but the data has {expected} rows")]
    ColumnLength {
        name: String,
        got: usize,
        expected: usize,
    },
    #[error("column name `{0}` appears twice")]
    DuplicateColumn(String),
    #[error("target `{target}`: {reason}")]
    Target { target: String, reason: String },
    #[error("there are no feature columns besides the target")]
    NoFeatures,
    #[error("not enough rows to train: {rows} usable rows, at least {needed} needed")]
    TooFewRows { rows: usize, needed: usize },
    #[error("invalid parameter `{name}`: {reason}")]
    Parameter { name: &'static str, reason: String },
    #[error("the build was cancelled before any model finished")]
    CancelledEmpty,
    #[error("the time budget ran out before any model finished")]
    DeadlineEmpty,
    #[error("recipe step {step}: {reason}")]
    Recipe { step: usize, reason: String },
    #[error("model artifact: {0}")]
    Artifact(String),
    #[error("forecaster file: {0}")]
    Forecaster(String),
    #[error("ONNX export: {0}")]
    Onnx(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
