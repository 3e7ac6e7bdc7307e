//! Kiln's model engine. It takes values and returns values: a [`Dataset`] of
//! named columns goes in, a ranked leaderboard and a [`ModelArtifact`] come out.
//!
//! Design: no I/O, no async, no Polars, no global RNG (every random choice is
//! derived from the seed in [`SearchConfig`]), and no clock except the
//! deadline passed in. The artifact carries everything fitted (encoders,
//! trees, weights), so scoring needs only this crate.

mod artifact;
pub mod calibrate;
mod data;
mod encode;
mod error;
mod explain;
pub mod fairness;
mod families;
pub mod forecast;
mod gbdt;
pub mod iforest;
mod insights;
mod kernels;
mod linear;
pub mod metrics;
mod mlp;
pub mod monitor;
pub mod onnx;
pub mod recipe;
mod rng;
pub mod scored;
mod search;
pub mod segments;
mod task;
pub mod values;

pub use artifact::{
    FORMAT_VERSION, InputIssue, InputIssueKind, LeftOutColumn, ModelArtifact, Predictions, Schema,
    check_threshold, link,
};
pub use data::{Column, Dataset, category_label};
pub use encode::{FeatureKind, FeatureStats, select_features, tree_matrix};
pub use error::{Error, Result};
pub use explain::Explanation;
pub use families::{
    BaselineFit, Ensemble, ExtraTreesFit, FittedModel, GbdtFit, KernelFit, LinearFit, Member,
    MlpFit, NeighboursFit, RandomForestFit, Trees, available as available_families,
    check_names as check_families,
};
pub use gbdt::{Booster, ForestParams, GbdtParams, Objective, fit as gbdt_fit, fit_forest};
pub use insights::{Beeswarm, Dependence, Importance, Insights};
pub use kernels::{KernelRidge, Neighbours};
pub use linear::{LinearModel, LinearParams};
pub use metrics::{Metric, MetricValue};
pub use mlp::{MlpModel, MlpParams};
pub use recipe::{Fill, FittedStep, Recipe};
pub use rng::Rng;
pub use search::{
    Control, OutOfFold, SearchConfig, SearchEvent, SearchOutcome, TrialRecord, rescore, retrain,
    search,
};
pub use task::{MAX_CLASSES, Target, Task, detect_task};
