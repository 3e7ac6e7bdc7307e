//! Kiln's data side, on Polars: a CSV becomes a typed frame (`ingest`), a
//! profile (`profile`, with `stats`), a data-quality report (`quality`), a
//! cleaned frame by a recipe (`recipe`), segments, a map and unusual rows
//! (`explore`, on linfa), and an engine `Dataset`
//! (`convert`, the one Polars-to-engine boundary).
//!
//! Invariants: Polars lives here and nowhere else (the engine and the
//! browser never see it); no server, no storage, no async: functions take
//! frames and paths the caller owns and return values or a located
//! [`Error`].

pub mod convert;
pub mod error;
pub mod explore;
pub mod ingest;
pub mod profile;
pub mod quality;
pub mod recipe;
pub mod series;
pub mod stats;

pub use error::{Error, Result};
/// The frame every function here takes and returns.
pub use polars::prelude::DataFrame;
