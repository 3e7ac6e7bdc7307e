//! Model families behind one vocabulary, one file per family.
//!
//! A family has hyperparameters (a [`Candidate`]: fitted on a fold,
//! described on the leaderboard, scaled for the refit on every row), a
//! fitted form (a [`Model`]: raw output, SHAP values, validation on load)
//! and a [`Family`] entry that puts its candidates into the search (the
//! portfolio of defaults, and optionally a [`Proposer`] for more).
//!
//! The [`families!`] registry at the bottom is the only list of families:
//! it declares each family's module, the artifact's `FittedModel` enum
//! (tagged by `family`, so the format of existing artifacts is unchanged)
//! and the search's list. Adding a family is one file here and one line
//! in the registry; `search`, `artifact` and `explain` dispatch through the
//! traits and never match on families.

use std::any::Any;
use std::fmt::Debug;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::artifact::{Schema, link};
use crate::data::Dataset;
use crate::encode::{FeatureStats, LinearEncoder};
use crate::error::{Error, Result};
use crate::metrics::Metric;
use crate::onnx::{Features, Graph};
use crate::rng::Rng;
use crate::task::Target;

/// The rows one fit sees: the fold's training rows of `data` with their
/// target, the validation rows for early stopping (none for a refit), and
/// the stop signal checked between rounds.
pub(crate) struct FitJob<'a> {
    /// Encoders' statistics, fitted on `rows`.
    pub features: &'a [FeatureStats],
    pub data: &'a Dataset,
    pub rows: &'a [usize],
    pub target: &'a Target,
    pub valid: Option<(&'a [usize], &'a Target)>,
    pub stop: &'a (dyn Fn() -> bool + Sync),
}

/// A fitted candidate.
#[derive(Debug)]
pub(crate) struct Fitted {
    pub model: FittedModel,
    /// Hyperparameters as listed on the leaderboard.
    pub params: String,
    /// Rounds or epochs kept by early stopping, for the refit.
    pub rounds: Option<usize>,
    /// Training was cut short by the stop signal.
    pub stopped: bool,
}

/// One point of a family's hyperparameter space.
pub(crate) trait Candidate: Debug + Send + Sync {
    /// The family's name on the leaderboard.
    fn family(&self) -> &'static str;
    /// The hyperparameters in a short human-readable form.
    fn describe(&self) -> String;
    /// Fits on `job`'s rows.
    fn fit(&self, job: &FitJob<'_>) -> Result<Fitted>;
    /// The candidate as refit on every row, given the rounds (or epochs)
    /// that early stopping kept on the folds; a family without rounds
    /// returns itself.
    fn for_refit(&self, rounds: Option<usize>) -> Arc<dyn Candidate>;
    /// Its hyperparameters in full, as JSON that its family's
    /// [`Family::revive`] turns back into the same candidate (so that any
    /// leaderboard row can be trained again after the search).
    fn spec(&self) -> serde_json::Value;
    /// Whether its trials may join an ensemble and set the time kept for
    /// the refit (every family but the baseline).
    fn competes(&self) -> bool {
        true
    }
    /// Whether it stops on [`FitJob::valid`] (boosting rounds, epochs):
    /// then, on small data, the search holds out part of each training
    /// fold for it to stop on, so that the fold it is scored on did not
    /// choose its rounds.
    fn stops_early(&self) -> bool {
        false
    }
    fn as_any(&self) -> &dyn Any;
}

/// SHAP values of one model for a batch of rows, in the raw output space.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Shap {
    /// Expected raw output, one per output.
    pub base: Vec<f64>,
    /// Raw output, `rows * outputs`.
    pub raw: Vec<f64>,
    /// `rows * outputs * features`; `base + sum = raw` for every row and output.
    pub values: Vec<f64>,
}

/// A fitted model with its own preprocessing, as the artifact stores it.
pub(crate) trait Model {
    /// The family's name on the leaderboard.
    fn family(&self) -> &'static str;
    /// Raw outputs for `rows` (`rows.len() * outputs`): values, the
    /// log-odds of the second class, or one logit per class.
    fn raw(&self, schema: &Schema, data: &Dataset, rows: &[usize]) -> Result<Vec<f64>>;
    /// Values or class probabilities, row-major `rows.len() * outputs`.
    fn predict(&self, schema: &Schema, data: &Dataset, rows: &[usize]) -> Result<Vec<f64>> {
        let raw = self.raw(schema, data, rows)?;
        Ok(link(schema.task, raw, schema.classes.len()))
    }
    /// SHAP values, one per schema feature.
    fn explain(&self, schema: &Schema, data: &Dataset, rows: &[usize]) -> Result<Shap>;
    /// Checks a loaded model against the schema, so that a malformed file
    /// is an error and never a panic.
    fn validate(&self, schema: &Schema) -> Result<()>;
    /// Its raw outputs as ONNX operators on the features (`[N, outputs]`
    /// doubles, the same values as [`Model::raw`]), or why they cannot be
    /// ([`Error::Onnx`]).
    fn onnx(&self, schema: &Schema, g: &mut Graph, x: &mut Features<'_>) -> Result<String>;
}

/// How a family takes part in the search.
pub(crate) trait Family: Sync {
    /// The family's name on the leaderboard (and in `SearchConfig::families`).
    fn name(&self) -> &'static str;
    /// Its strong defaults, each with its place in the portfolio (candidates
    /// of all families run in ascending place; ties in registry order).
    fn portfolio(&self, target: &Target, seed: u64) -> Vec<(u32, Arc<dyn Candidate>)>;
    /// Its source of further candidates after the portfolio, if any, for
    /// a search on `target`.
    fn proposer(&self, _target: &Target) -> Option<Box<dyn Proposer>> {
        None
    }
    /// Whether a search tries it when the caller names no families.
    fn by_default(&self) -> bool {
        true
    }
    /// The candidate whose [`Candidate::spec`] is `params`.
    fn revive(&self, params: serde_json::Value) -> Result<Arc<dyn Candidate>>;
}

/// `params` read as the candidate type `T` (a family's [`Family::revive`]).
pub(crate) fn revive_as<T>(params: serde_json::Value) -> Result<Arc<dyn Candidate>>
where
    T: Candidate + serde::de::DeserializeOwned + 'static,
{
    serde_json::from_value::<T>(params)
        .map(|c| Arc::new(c) as Arc<dyn Candidate>)
        .map_err(|e| Error::Parameter {
            name: "spec",
            reason: format!("the candidate's settings do not read back: {e}"),
        })
}

/// The candidate of family `family` (a leaderboard name) with `params`.
pub(crate) fn revive(family: &str, params: serde_json::Value) -> Result<Arc<dyn Candidate>> {
    let Some(f) = registry().iter().find(|f| f.name() == family) else {
        return Err(Error::Parameter {
            name: "spec",
            reason: format!("unknown family `{family}`"),
        });
    };
    f.revive(params)
}

/// A candidate's spec as serde writes it (the types are plain data).
pub(crate) fn spec_of<T: Serialize>(candidate: &T) -> serde_json::Value {
    serde_json::to_value(candidate).unwrap_or(serde_json::Value::Null)
}

/// Proposes a family's candidates after the portfolio, learning from the
/// trials that finished.
pub(crate) trait Proposer: Send {
    /// Its share of the proposals: a proposal is this family's with
    /// probability `weight / sum of weights`.
    fn weight(&self) -> usize;
    /// A candidate was queued (from the portfolio or proposed): it is not
    /// proposed again.
    fn queued(&mut self, candidate: &dyn Candidate);
    /// A candidate finished with a finite `score`.
    fn finished(&mut self, candidate: &dyn Candidate, score: f64);
    fn propose(&mut self, rng: &mut Rng, seed: u64, metric: Metric) -> Arc<dyn Candidate>;
}

/// A family's proposer by TPE over its space (`crate::search::space`):
/// `coordinates` reads one of its candidates as a point of the space
/// (`None` for another family's candidate), `at` makes the candidate at a
/// point with a seed.
pub(crate) struct TpeProposer<P, const D: usize> {
    pub tpe: crate::search::space::Tpe<D>,
    pub weight: usize,
    pub coordinates: Coordinates<P, D>,
    pub at: Box<dyn Fn([f64; D], u64) -> P + Send>,
}

/// A candidate read as a point's values, if it is one of the space's.
pub(crate) type Coordinates<P, const D: usize> = Box<dyn Fn(&P) -> Option<[f64; D]> + Send>;

impl<P: Candidate + 'static, const D: usize> TpeProposer<P, D> {
    fn point(&self, candidate: &dyn Candidate) -> Option<crate::search::space::Point<D>> {
        let p = candidate.as_any().downcast_ref::<P>()?;
        self.tpe.point((self.coordinates)(p)?)
    }
}

impl<P: Candidate + 'static, const D: usize> Proposer for TpeProposer<P, D> {
    fn weight(&self) -> usize {
        self.weight
    }

    fn queued(&mut self, candidate: &dyn Candidate) {
        if let Some(x) = self.point(candidate) {
            self.tpe.tried(x);
        }
    }

    fn finished(&mut self, candidate: &dyn Candidate, score: f64) {
        if let Some(x) = self.point(candidate) {
            self.tpe.finished(x, score);
        }
    }

    fn propose(&mut self, rng: &mut Rng, seed: u64, metric: Metric) -> Arc<dyn Candidate> {
        let x = self.tpe.propose(rng, metric);
        let values = self.tpe.values(&x);
        Arc::new((self.at)(values, seed.wrapping_add(rng.next_u64() % 1000)))
    }
}

/// Every family a search can be asked for by name (`SearchConfig::families`),
/// in registry order, and whether it is tried by default.
pub fn available() -> Vec<(&'static str, bool)> {
    registry()
        .iter()
        .map(|f| (f.name(), f.by_default()))
        .collect()
}

/// Whether every one of `names` is a family [`available`] lists.
pub fn check_names(names: &[String]) -> Result<()> {
    chosen(names).map(|_| ())
}

/// The families a search tries: those `names` lists, or the default set.
pub(crate) fn chosen(names: &[String]) -> Result<Vec<&'static dyn Family>> {
    let all = registry().iter().copied();
    if names.is_empty() {
        return Ok(all.filter(|f| f.by_default()).collect());
    }
    for n in names {
        if !registry().iter().any(|f| f.name() == n) {
            let known: Vec<&str> = registry().iter().map(|f| f.name()).collect();
            return Err(Error::Parameter {
                name: "families",
                reason: format!("unknown family `{n}`; known: {}", known.join(", ")),
            });
        }
    }
    Ok(all
        .filter(|f| names.iter().any(|n| n == f.name()))
        .collect())
}

/// Checks that a linear encoder only refers to the schema's features.
pub(crate) fn check_encoder(encoder: &LinearEncoder, schema: &Schema) -> Result<()> {
    let n = schema.features.len();
    for c in &encoder.columns {
        if let crate::encode::LinearColumn::Mapped {
            levels,
            values,
            scale,
            ..
        } = c
            && (levels.len() != values.len() || !(scale.is_finite() && *scale > 0.0))
        {
            return Err(Error::Artifact(
                "a mapped encoder column is malformed".into(),
            ));
        }
        if c.feature() >= n {
            return Err(Error::Artifact(
                "an encoder refers to a feature the schema lacks".into(),
            ));
        }
    }
    Ok(())
}

/// Checks a loaded booster (boosted or averaged trees of `family`)
/// against the schema: its trees, features, outputs and objective.
pub(crate) fn check_booster(b: &crate::gbdt::Booster, schema: &Schema, family: &str) -> Result<()> {
    use crate::gbdt::Objective;
    use crate::task::Task;
    b.validate()?;
    let want = match schema.task {
        Task::Regression => Objective::SquaredError,
        Task::Binary => Objective::Logistic,
        Task::Multiclass => Objective::Softmax,
    };
    if b.n_features != schema.features.len()
        || b.outputs != n_outputs(schema)
        || b.objective != want
    {
        return Err(Error::Artifact(format!(
            "the {family} model does not match the schema"
        )));
    }
    Ok(())
}

/// Rounds (or epochs) for a refit on every row: those early stopping kept
/// on the folds, plus a tenth for the extra rows.
pub(crate) fn refit_rounds(kept: Option<usize>) -> usize {
    ((kept.unwrap_or(1) as f64) * 1.1).ceil() as usize
}

/// Outputs of a model for the task: one, or one per class.
pub(crate) fn n_outputs(schema: &Schema) -> usize {
    match schema.task {
        crate::task::Task::Regression | crate::task::Task::Binary => 1,
        crate::task::Task::Multiclass => schema.classes.len(),
    }
}

/// The registry: `Variant => module::FittedType` per family. Each line
/// declares the family's module (`families/module.rs`, which defines
/// `FAMILY` and the fitted type), its variant of [`FittedModel`] (the
/// artifact's `family` tag is the variant in snake case) and its entry in
/// the search. Attributes (`#[cfg(test)]`) apply to the whole line.
macro_rules! families {
    ($($(#[$meta:meta])* $variant:ident => $module:ident :: $fitted:ident,)*) => {
        $($(#[$meta])* mod $module;)*

        /// A fitted model of any family, as the artifact stores it (tagged
        /// by `family`).
        #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
        #[serde(tag = "family", rename_all = "snake_case")]
        pub enum FittedModel {
            $($(#[$meta])* $variant($module::$fitted),)*
        }

        impl FittedModel {
            pub(crate) fn model(&self) -> &dyn Model {
                match self {
                    $($(#[$meta])* FittedModel::$variant(m) => m,)*
                }
            }
        }

        $($(#[$meta])* impl From<$module::$fitted> for FittedModel {
            fn from(m: $module::$fitted) -> FittedModel {
                FittedModel::$variant(m)
            }
        })*

        /// Every family, in registry order.
        pub(crate) fn registry() -> &'static [&'static dyn Family] {
            static REGISTRY: &[&dyn Family] = &[$($(#[$meta])* &$module::FAMILY,)*];
            REGISTRY
        }
    };
}

families! {
    Baseline => baseline::BaselineFit,
    Linear => linear::LinearFit,
    Mlp => mlp::MlpFit,
    Gbdt => gbdt::GbdtFit,
    RandomForest => forest::RandomForestFit,
    ExtraTrees => extra_trees::ExtraTreesFit,
    Neighbours => neighbours::NeighboursFit,
    KernelRidge => kernel_ridge::KernelFit,
    Ensemble => ensemble::Ensemble,
    #[cfg(test)]
    Stump => stump::StumpFit,
}

pub use baseline::BaselineFit;
pub(crate) use ensemble::NAME as ENSEMBLE;
pub use ensemble::{Ensemble, Member};
pub use extra_trees::ExtraTreesFit;
pub use forest::{RandomForestFit, Trees};
pub use gbdt::GbdtFit;
pub use kernel_ridge::KernelFit;
pub use linear::LinearFit;
pub use mlp::MlpFit;
pub use neighbours::NeighboursFit;

impl FittedModel {
    /// The family's name on the leaderboard.
    pub fn family(&self) -> &'static str {
        self.model().family()
    }

    pub(crate) fn raw(&self, schema: &Schema, data: &Dataset, rows: &[usize]) -> Result<Vec<f64>> {
        self.model().raw(schema, data, rows)
    }

    pub(crate) fn onnx(
        &self,
        schema: &Schema,
        g: &mut Graph,
        x: &mut Features<'_>,
    ) -> Result<String> {
        self.model().onnx(schema, g, x)
    }

    pub(crate) fn predict(
        &self,
        schema: &Schema,
        data: &Dataset,
        rows: &[usize],
    ) -> Result<Vec<f64>> {
        self.model().predict(schema, data, rows)
    }

    pub(crate) fn explain(&self, schema: &Schema, data: &Dataset, rows: &[usize]) -> Result<Shap> {
        self.model().explain(schema, data, rows)
    }

    pub(crate) fn validate(&self, schema: &Schema) -> Result<()> {
        self.model().validate(schema)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicBool;

    use crate::artifact::ModelArtifact;
    use crate::data::{Column, Dataset};
    use crate::search::{Control, SearchConfig, SearchOutcome, search};

    /// `y` is mostly `x > 5`; `noise` says nothing.
    fn data() -> Dataset {
        let n = 300;
        let x: Vec<f64> = (0..n).map(|i| ((i * 37) % 100) as f64 / 10.0).collect();
        let noise: Vec<f64> = (0..n).map(|i| ((i * 11) % 17) as f64).collect();
        let y: Vec<Option<String>> = x
            .iter()
            .enumerate()
            .map(|(i, v)| {
                Some(
                    if (*v > 5.0) != (i % 10 == 0) {
                        "yes"
                    } else {
                        "no"
                    }
                    .into(),
                )
            })
            .collect();
        Dataset::new(vec![
            ("x".into(), Column::Numeric(x)),
            ("noise".into(), Column::Numeric(noise)),
            ("y".into(), Column::Categorical(y)),
        ])
        .unwrap()
    }

    fn run(families: &[&str]) -> crate::Result<SearchOutcome> {
        let cancel = AtomicBool::new(false);
        let config = SearchConfig {
            max_trials: Some(30),
            families: families.iter().map(|f| f.to_string()).collect(),
            ..SearchConfig::new("y")
        };
        let control = Control {
            deadline: None,
            cancel: &cancel,
        };
        search(&data(), &config, control, &mut |_| {})
    }

    /// The test family `stump` is one file (`stump.rs`) and one registry
    /// line: with that, the search fits, ranks, refits and ships it, and
    /// the artifact saves, loads, predicts and explains it.
    #[test]
    fn a_family_is_one_file_and_one_registry_line() {
        let out = run(&["baseline", "stump"]).unwrap();
        let families: Vec<&str> = out.leaderboard.iter().map(|t| t.family.as_str()).collect();
        assert_eq!(families, ["stump", "baseline"]);
        assert!(out.leaderboard[0].score > 0.85, "{:?}", out.leaderboard);
        let art = out.artifact;
        assert_eq!(art.model.family(), "stump");
        let json = art.to_json();
        assert!(String::from_utf8_lossy(&json).contains(r#""family":"stump""#));
        let back = ModelArtifact::from_json(&json).unwrap();
        assert_eq!(back, art);
        assert_eq!(
            back.predict(&data()).unwrap(),
            art.predict(&data()).unwrap()
        );
        let e = back.explain(&data()).unwrap();
        for r in 0..e.n_rows() {
            let total = e.base[0] + e.row(r, 0).iter().sum::<f64>();
            assert!((total - e.raw[r]).abs() < 1e-12, "row {r}");
            assert_eq!(e.row(r, 0)[1], 0.0, "the stump splits on x only");
        }
    }

    /// `y` from two informative columns (one with missing values) and a
    /// category, as a value, two classes or three.
    fn small_table(kind: &str) -> Dataset {
        let n = 400;
        let a: Vec<f64> = (0..n).map(|i| ((i * 37) % 101) as f64 / 10.0).collect();
        let b: Vec<f64> = (0..n)
            .map(|i| {
                if i % 13 == 0 {
                    f64::NAN
                } else {
                    ((i * 53) % 97) as f64
                }
            })
            .collect();
        let c: Vec<Option<String>> = (0..n)
            .map(|i| Some(["p", "q", "r"][i % 3].into()))
            .collect();
        let value =
            |i: usize| a[i] + b[i].max(0.0) / 20.0 + (i % 3) as f64 + ((i * 7) % 5) as f64 * 0.3;
        let y = match kind {
            "regression" => Column::Numeric((0..n).map(value).collect()),
            "binary" => Column::Categorical(
                (0..n)
                    .map(|i| Some(if value(i) > 9.0 { "yes" } else { "no" }.into()))
                    .collect(),
            ),
            _ => Column::Categorical(
                (0..n)
                    .map(|i| {
                        Some(["low", "mid", "high"][(value(i) / 6.0).min(2.0) as usize].into())
                    })
                    .collect(),
            ),
        };
        Dataset::new(vec![
            ("a".into(), Column::Numeric(a)),
            ("b".into(), Column::Numeric(b)),
            ("c".into(), Column::Categorical(c)),
            ("y".into(), y),
        ])
        .unwrap()
    }

    /// Each small-data family, on each task, is searched, shipped, saved
    /// and loaded; it predicts what it predicted, beats the baseline, and
    /// its SHAP values add up to its raw outputs.
    #[test]
    fn small_data_families_ship_predict_and_explain_on_every_task() {
        for kind in ["regression", "binary", "multiclass"] {
            for family in [
                "random forest",
                "extra trees",
                "nearest neighbours",
                "kernel ridge",
            ] {
                let d = small_table(kind);
                let cancel = AtomicBool::new(false);
                let config = SearchConfig {
                    max_trials: Some(3),
                    families: vec![family.into(), "baseline".into()],
                    ..SearchConfig::new("y")
                };
                let control = Control {
                    deadline: None,
                    cancel: &cancel,
                };
                let out = search(&d, &config, control, &mut |_| {}).unwrap();
                assert_eq!(out.leaderboard[0].family, family, "{kind}");
                let art = out.artifact;
                assert_eq!(art.model.family(), family);
                let back = ModelArtifact::from_json(&art.to_json()).unwrap();
                assert_eq!(back, art);
                assert_eq!(back.predict(&d).unwrap(), art.predict(&d).unwrap());
                let e = back.explain(&d).unwrap();
                let k = e.base.len();
                for r in 0..e.n_rows() {
                    for c in 0..k {
                        let total = e.base[c] + e.row(r, c).iter().sum::<f64>();
                        let raw = e.raw[r * k + c];
                        assert!(
                            (total - raw).abs() < 1e-9,
                            "{kind} {family} row {r}: {total} {raw}"
                        );
                    }
                }
            }
        }
    }

    /// Forests (up to 20,000 rows), neighbours and kernel ridge (up to
    /// 3,000) neither enter the portfolio nor propose above their limits,
    /// so a large table's search tries exactly what it tried before them.
    #[test]
    fn small_data_families_stay_out_of_large_searches() {
        let small_only = [
            "random forest",
            "extra trees",
            "nearest neighbours",
            "kernel ridge",
        ];
        let target = |n: usize| crate::task::Target::Regression((0..n).map(|i| i as f64).collect());
        for (n, present) in [(3_000, 4), (15_000, 2), (20_001, 0)] {
            let t = target(n);
            let mut with_portfolio = 0;
            for f in super::registry()
                .iter()
                .filter(|f| small_only.contains(&f.name()))
            {
                let joins = !f.portfolio(&t, 0).is_empty();
                assert_eq!(joins, f.proposer(&t).is_some(), "{} at {n} rows", f.name());
                with_portfolio += usize::from(joins);
            }
            assert_eq!(with_portfolio, present, "{n} rows");
        }
    }

    #[test]
    fn families_are_chosen_by_name_and_unknown_names_are_refused() {
        // Not a default family: the default set leaves the stump out.
        let defaults = run(&[]).unwrap();
        assert!(defaults.leaderboard.iter().all(|t| t.family != "stump"));
        // No proposer among the chosen families: the search ends after the portfolio.
        let linear = run(&["linear"]).unwrap();
        assert_eq!(linear.leaderboard.len(), 3);
        assert!(linear.leaderboard.iter().all(|t| t.family == "linear"));
        let err = run(&["xgboost"]).unwrap_err().to_string();
        assert!(
            err.contains("`xgboost`") && err.contains("boosted trees"),
            "{err}"
        );
    }
}
