//! The data side's error: what a file, a recipe or a request about a
//! dataset can get wrong, each with a code the server maps to a response.

use crate::ingest::IngestError;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The file cannot be read (with its line and column where known).
    #[error(transparent)]
    Ingest(#[from] IngestError),
    /// The engine refused the data (duplicate names, lengths).
    #[error(transparent)]
    Engine(#[from] automl::Error),
    /// The request does not fit the data: an unknown column, a recipe step
    /// that cannot apply, missing columns for a model.
    #[error("{message}")]
    Unprocessable {
        code: &'static str,
        message: String,
        details: Option<serde_json::Value>,
    },
    /// A failure that is not the caller's (Polars, arithmetic): a bug or
    /// the machine.
    #[error("{0}")]
    Internal(String),
}

impl Error {
    pub fn unprocessable(code: &'static str, message: impl Into<String>) -> Error {
        Error::Unprocessable {
            code,
            message: message.into(),
            details: None,
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
