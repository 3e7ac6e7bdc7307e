//! Metrics on held-out predictions. Classification predictions are class
//! probabilities, row-major `n * n_classes`; regression predictions are values.

use serde::{Deserialize, Serialize};

use crate::task::{Target, Task};

/// The metric a leaderboard is ranked by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    Auc,
    LogLoss,
    BalancedAccuracy,
    MacroF1,
    Rmse,
    Mae,
    R2,
}

impl Metric {
    /// Every ranking metric, classification first.
    pub const ALL: [Metric; 7] = [
        Metric::Auc,
        Metric::LogLoss,
        Metric::BalancedAccuracy,
        Metric::MacroF1,
        Metric::Rmse,
        Metric::Mae,
        Metric::R2,
    ];

    /// The default for a task: AUC, log loss or RMSE.
    pub fn default_for(task: Task) -> Metric {
        match task {
            Task::Binary => Metric::Auc,
            Task::Multiclass => Metric::LogLoss,
            Task::Regression => Metric::Rmse,
        }
    }

    /// The name the metric report and the leaderboard use.
    pub fn name(self) -> &'static str {
        match self {
            Metric::Auc => "AUC",
            Metric::LogLoss => "log loss",
            Metric::BalancedAccuracy => "balanced accuracy",
            Metric::MacroF1 => "macro F1",
            Metric::Rmse => "RMSE",
            Metric::Mae => "MAE",
            Metric::R2 => "R²",
        }
    }

    pub fn higher_is_better(self) -> bool {
        matches!(
            self,
            Metric::Auc | Metric::BalancedAccuracy | Metric::MacroF1 | Metric::R2
        )
    }

    /// Whether it can rank models of `task` (AUC only two classes).
    pub fn applies_to(self, task: Task) -> bool {
        match self {
            Metric::Auc => task == Task::Binary,
            Metric::LogLoss | Metric::BalancedAccuracy | Metric::MacroF1 => {
                task != Task::Regression
            }
            Metric::Rmse | Metric::Mae | Metric::R2 => task == Task::Regression,
        }
    }

    /// The metrics that can rank models of `task`.
    pub fn for_task(task: Task) -> Vec<Metric> {
        Metric::ALL
            .into_iter()
            .filter(|m| m.applies_to(task))
            .collect()
    }

    /// Whether score `a` beats score `b`.
    pub fn better(self, a: f64, b: f64) -> bool {
        if self.higher_is_better() {
            a > b
        } else {
            a < b
        }
    }

    /// Orders two scores best first (non-finite scores last): the one
    /// ranking of leaderboards, ensemble pools and search histories.
    pub fn compare(self, a: f64, b: f64) -> std::cmp::Ordering {
        compare_scores(self.higher_is_better(), a, b)
    }

    /// The score of `pred` (values, or class probabilities row-major);
    /// classes are the most probable ones. NaN when the metric does not
    /// apply to the target.
    pub fn score(self, target: &Target, pred: &[f64]) -> f64 {
        match (self, target) {
            (Metric::Rmse, Target::Regression(y)) => rmse(y, pred),
            (Metric::Mae, Target::Regression(y)) => mae(y, pred),
            (Metric::R2, Target::Regression(y)) => r2(y, pred),
            (Metric::Auc, Target::Classes { y, classes }) if classes.len() == 2 => {
                auc(y, &positive_column(pred, classes.len()))
            }
            (Metric::LogLoss, Target::Classes { y, classes }) => log_loss(y, pred, classes.len()),
            (Metric::BalancedAccuracy, Target::Classes { y, classes }) => {
                let k = classes.len();
                balanced_accuracy(y, &argmax_rows(pred, k), k)
            }
            (Metric::MacroF1, Target::Classes { y, classes }) => {
                let k = classes.len();
                macro_f1(y, &argmax_rows(pred, k), k)
            }
            _ => f64::NAN,
        }
    }
}

/// Orders two scores best first, for a metric where higher (or lower) is
/// better; a non-finite score ranks after every finite one.
pub fn compare_scores(higher_is_better: bool, a: f64, b: f64) -> std::cmp::Ordering {
    let worst = if higher_is_better {
        f64::NEG_INFINITY
    } else {
        f64::INFINITY
    };
    let [a, b] = [a, b].map(|s| if s.is_finite() { s } else { worst });
    if higher_is_better {
        b.total_cmp(&a)
    } else {
        a.total_cmp(&b)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricValue {
    pub name: String,
    pub value: f64,
}

fn mv(name: &str, value: f64) -> MetricValue {
    MetricValue {
        name: name.to_owned(),
        value,
    }
}

/// Every metric that applies to the task.
pub fn report(target: &Target, pred: &[f64]) -> Vec<MetricValue> {
    report_decided(target, pred, None)
}

/// [`report`], with the classes as decided (a decision threshold) when
/// given, rather than the most probable ones.
pub fn report_decided(
    target: &Target,
    pred: &[f64],
    decided: Option<&[usize]>,
) -> Vec<MetricValue> {
    match target {
        Target::Regression(y) => vec![
            mv("RMSE", rmse(y, pred)),
            mv("MAE", mae(y, pred)),
            mv("R²", r2(y, pred)),
        ],
        Target::Classes { y, classes } => {
            let k = classes.len();
            let labels = decided.map_or_else(|| argmax_rows(pred, k), <[usize]>::to_vec);
            let mut out = Vec::new();
            if k == 2 {
                out.push(mv("AUC", auc(y, &positive_column(pred, k))));
            }
            out.push(mv("log loss", log_loss(y, pred, k)));
            out.push(mv("accuracy", accuracy(y, &labels)));
            out.push(mv("balanced accuracy", balanced_accuracy(y, &labels, k)));
            out.push(mv("macro F1", macro_f1(y, &labels, k)));
            out
        }
    }
}

/// What the Model page draws of out-of-fold predictions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evaluation {
    /// Binary: `(false positive rate, true positive rate)` per distinct
    /// score, from (0, 0) (as scikit-learn's `roc_curve`).
    pub roc: Vec<(f64, f64)>,
    /// Binary: `(recall, precision)` by increasing threshold, ending at
    /// (0, 1) (as scikit-learn's `precision_recall_curve`).
    pub pr: Vec<(f64, f64)>,
    /// Classification: counts, rows = true class, columns = predicted.
    pub confusion: Vec<Vec<u64>>,
    /// Regression: `(predicted, actual)` for up to 2,000 rows (evenly spaced).
    pub residuals: Vec<(f64, f64)>,
    /// Binary: the probability of the second class at each ROC point after
    /// the first, descending: at `thresholds[i]`, rows scoring at least it
    /// are called positive, giving `roc[i + 1]`.
    #[serde(default)]
    pub thresholds: Vec<f64>,
}

/// Curves, confusion matrix or residuals of predictions for `target`.
pub fn evaluation(target: &Target, pred: &[f64]) -> Evaluation {
    evaluation_decided(target, pred, None)
}

/// [`evaluation`], with the confusion matrix of the classes as decided
/// when given.
pub fn evaluation_decided(target: &Target, pred: &[f64], decided: Option<&[usize]>) -> Evaluation {
    let mut e = Evaluation {
        roc: Vec::new(),
        pr: Vec::new(),
        confusion: Vec::new(),
        residuals: Vec::new(),
        thresholds: Vec::new(),
    };
    match target {
        Target::Regression(y) => {
            let step = y.len().div_ceil(2000).max(1);
            e.residuals = (0..y.len())
                .step_by(step)
                .map(|i| (pred[i], y[i]))
                .collect();
        }
        Target::Classes { y, classes } => {
            let k = classes.len();
            let labels = decided.map_or_else(|| argmax_rows(pred, k), <[usize]>::to_vec);
            e.confusion = vec![vec![0; k]; k];
            for (&t, &p) in y.iter().zip(&labels) {
                e.confusion[t][p] += 1;
            }
            if k == 2 {
                let (roc, pr, thresholds) = curves(y, &positive_column(pred, k));
                e.roc = roc;
                e.pr = pr;
                e.thresholds = thresholds;
            }
        }
    }
    e
}

/// ROC and precision-recall points for `y == 1` against `score`, and the
/// score at each ROC point after the first.
#[allow(clippy::type_complexity)]
pub fn curves(y: &[usize], score: &[f64]) -> (Vec<(f64, f64)>, Vec<(f64, f64)>, Vec<f64>) {
    let mut idx: Vec<usize> = (0..y.len()).collect();
    idx.sort_by(|&a, &b| score[b].total_cmp(&score[a]));
    let positives = y.iter().filter(|&&c| c == 1).count() as f64;
    let negatives = y.len() as f64 - positives;
    // Cumulative (false positives, true positives) at each distinct score, descending.
    let mut steps: Vec<(f64, f64)> = Vec::new();
    let mut thresholds: Vec<f64> = Vec::new();
    let (mut fp, mut tp) = (0.0, 0.0);
    for (j, &i) in idx.iter().enumerate() {
        if y[i] == 1 {
            tp += 1.0;
        } else {
            fp += 1.0;
        }
        let last_of_tie = idx.get(j + 1).is_none_or(|&n| score[n] != score[i]);
        if last_of_tie {
            steps.push((fp, tp));
            thresholds.push(score[i]);
        }
    }
    let mut roc = vec![(0.0, 0.0)];
    roc.extend(
        steps
            .iter()
            .map(|&(fp, tp)| (fp / negatives.max(1.0), tp / positives.max(1.0))),
    );
    let mut pr: Vec<(f64, f64)> = steps
        .iter()
        .rev()
        .map(|&(fp, tp)| {
            let precision = if tp + fp > 0.0 { tp / (tp + fp) } else { 1.0 };
            (tp / positives.max(1.0), precision)
        })
        .collect();
    pr.push((0.0, 1.0));
    (roc, pr, thresholds)
}

fn positive_column(pred: &[f64], k: usize) -> Vec<f64> {
    pred.chunks(k.max(1)).map(|row| row[k - 1]).collect()
}

/// Index of the largest value in each row of `k`.
pub fn argmax_rows(pred: &[f64], k: usize) -> Vec<usize> {
    pred.chunks(k.max(1))
        .map(|row| {
            row.iter()
                .enumerate()
                .fold(0, |best, (i, v)| if *v > row[best] { i } else { best })
        })
        .collect()
}

pub fn rmse(y: &[f64], p: &[f64]) -> f64 {
    (y.iter().zip(p).map(|(a, b)| (a - b).powi(2)).sum::<f64>() / y.len().max(1) as f64).sqrt()
}

pub fn mae(y: &[f64], p: &[f64]) -> f64 {
    y.iter().zip(p).map(|(a, b)| (a - b).abs()).sum::<f64>() / y.len().max(1) as f64
}

pub fn r2(y: &[f64], p: &[f64]) -> f64 {
    let mean = y.iter().sum::<f64>() / y.len().max(1) as f64;
    let ss_tot: f64 = y.iter().map(|a| (a - mean).powi(2)).sum();
    let ss_res: f64 = y.iter().zip(p).map(|(a, b)| (a - b).powi(2)).sum();
    if ss_tot == 0.0 {
        0.0
    } else {
        1.0 - ss_res / ss_tot
    }
}

/// Area under the ROC curve for `y == 1` against `score`, ties counted half
/// (the Mann-Whitney statistic).
pub fn auc(y: &[usize], score: &[f64]) -> f64 {
    let mut idx: Vec<usize> = (0..y.len()).collect();
    idx.sort_by(|&a, &b| score[a].total_cmp(&score[b]));
    let mut rank_sum = 0.0;
    let mut i = 0;
    while i < idx.len() {
        let mut j = i;
        while j + 1 < idx.len() && score[idx[j + 1]] == score[idx[i]] {
            j += 1;
        }
        let avg_rank = (i + j) as f64 / 2.0 + 1.0;
        rank_sum += idx[i..=j].iter().filter(|&&r| y[r] == 1).count() as f64 * avg_rank;
        i = j + 1;
    }
    let pos = y.iter().filter(|&&c| c == 1).count() as f64;
    let neg = y.len() as f64 - pos;
    if pos == 0.0 || neg == 0.0 {
        return f64::NAN;
    }
    (rank_sum - pos * (pos + 1.0) / 2.0) / (pos * neg)
}

/// Mean negative log-likelihood, probabilities clipped to [1e-15, 1 - 1e-15].
pub fn log_loss(y: &[usize], prob: &[f64], k: usize) -> f64 {
    y.iter()
        .enumerate()
        .map(|(r, &c)| -prob[r * k + c].clamp(1e-15, 1.0 - 1e-15).ln())
        .sum::<f64>()
        / y.len().max(1) as f64
}

pub fn accuracy(y: &[usize], labels: &[usize]) -> f64 {
    y.iter().zip(labels).filter(|(a, b)| a == b).count() as f64 / y.len().max(1) as f64
}

fn per_class(y: &[usize], labels: &[usize], k: usize) -> Vec<(f64, f64, f64)> {
    let mut tp = vec![0.0; k];
    let mut fp = vec![0.0; k];
    let mut fn_ = vec![0.0; k];
    for (&a, &b) in y.iter().zip(labels) {
        if a == b {
            tp[a] += 1.0;
        } else {
            fp[b] += 1.0;
            fn_[a] += 1.0;
        }
    }
    (0..k).map(|c| (tp[c], fp[c], fn_[c])).collect()
}

pub fn balanced_accuracy(y: &[usize], labels: &[usize], k: usize) -> f64 {
    let stats = per_class(y, labels, k);
    let present: Vec<f64> = stats
        .iter()
        .filter(|s| s.0 + s.2 > 0.0)
        .map(|s| s.0 / (s.0 + s.2))
        .collect();
    present.iter().sum::<f64>() / present.len().max(1) as f64
}

pub fn macro_f1(y: &[usize], labels: &[usize], k: usize) -> f64 {
    let stats = per_class(y, labels, k);
    let f1: Vec<f64> = stats
        .iter()
        .map(|&(tp, fp, fn_)| {
            if tp == 0.0 {
                0.0
            } else {
                2.0 * tp / (2.0 * tp + fp + fn_)
            }
        })
        .collect();
    f1.iter().sum::<f64>() / k.max(1) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Values from scikit-learn 1.9.1 on committed vectors (`test_data/reference/`).
    #[test]
    fn metrics_match_scikit_learn() {
        let path = format!(
            "{}/test_data/reference/sklearn_metrics.json",
            env!("CARGO_MANIFEST_DIR")
        );
        let r: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let floats = |v: &serde_json::Value| -> Vec<f64> {
            v.as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_f64().unwrap())
                .collect()
        };
        let ints = |v: &serde_json::Value| -> Vec<usize> {
            v.as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_u64().unwrap() as usize)
                .collect()
        };
        let close = |got: f64, want: &serde_json::Value, what: &str| {
            let want = want.as_f64().unwrap();
            assert!((got - want).abs() < 1e-12, "{what}: {got} vs {want}");
        };
        let b = &r["binary"];
        let y = ints(&b["y_true"]);
        let p1 = floats(&b["prob"]);
        let prob: Vec<f64> = p1.iter().flat_map(|&p| [1.0 - p, p]).collect();
        let labels = argmax_rows(&prob, 2);
        let rule: Vec<usize> = p1.iter().map(|&p| usize::from(p >= 0.5)).collect();
        assert_eq!(labels, rule);
        close(auc(&y, &p1), &b["roc_auc"], "AUC (with ties)");
        let (roc, pr, thresholds) = curves(&y, &p1);
        assert_eq!(thresholds.len() + 1, roc.len());
        assert!(thresholds.windows(2).all(|w| w[0] > w[1]), "descending");
        let (fpr, tpr) = (
            floats(&b["roc_curve"]["fpr"]),
            floats(&b["roc_curve"]["tpr"]),
        );
        assert_eq!(roc.len(), fpr.len());
        for (i, (f, t)) in roc.iter().enumerate() {
            assert!(
                (f - fpr[i]).abs() < 1e-12 && (t - tpr[i]).abs() < 1e-12,
                "ROC point {i}"
            );
        }
        let (precision, recall) = (
            floats(&b["pr_curve"]["precision"]),
            floats(&b["pr_curve"]["recall"]),
        );
        assert_eq!(pr.len(), precision.len());
        for (i, (r, p)) in pr.iter().enumerate() {
            assert!(
                (r - recall[i]).abs() < 1e-12 && (p - precision[i]).abs() < 1e-12,
                "PR point {i}: {r},{p} vs {},{}",
                recall[i],
                precision[i]
            );
        }
        let e = evaluation(
            &Target::Classes {
                classes: vec!["0".into(), "1".into()],
                y: y.clone(),
            },
            &prob,
        );
        let cm: Vec<Vec<u64>> = b["confusion_matrix"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                r.as_array()
                    .unwrap()
                    .iter()
                    .map(|v| v.as_u64().unwrap())
                    .collect()
            })
            .collect();
        assert_eq!(e.confusion, cm);
        close(log_loss(&y, &prob, 2), &b["log_loss"], "binary log loss");
        close(accuracy(&y, &labels), &b["accuracy"], "accuracy");
        close(
            balanced_accuracy(&y, &labels, 2),
            &b["balanced_accuracy"],
            "balanced accuracy",
        );
        close(macro_f1(&y, &labels, 2), &b["macro_f1"], "macro F1");

        let m = &r["multiclass"];
        let y = ints(&m["y_true"]);
        let prob: Vec<f64> = m["prob"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(floats)
            .collect();
        let labels = argmax_rows(&prob, 3);
        close(
            log_loss(&y, &prob, 3),
            &m["log_loss"],
            "multiclass log loss",
        );
        close(accuracy(&y, &labels), &m["accuracy"], "accuracy");
        close(
            balanced_accuracy(&y, &labels, 3),
            &m["balanced_accuracy"],
            "balanced accuracy",
        );
        close(macro_f1(&y, &labels, 3), &m["macro_f1"], "macro F1");

        let g = &r["regression"];
        let (y, p) = (floats(&g["y_true"]), floats(&g["pred"]));
        close(rmse(&y, &p), &g["rmse"], "RMSE");
        close(mae(&y, &p), &g["mae"], "MAE");
        close(r2(&y, &p), &g["r2"], "R2");
    }

    // Reference values from scikit-learn 1.5 (roc_auc_score, log_loss, f1_score(average="macro")).
    #[test]
    fn auc_matches_sklearn_with_ties() {
        let y = [0, 0, 1, 1, 1, 0];
        let s = [0.1, 0.4, 0.35, 0.8, 0.4, 0.2];
        // sklearn.metrics.roc_auc_score(y, s) == 0.8333333333333334
        assert!((auc(&y, &s) - 0.833_333_333_333_333_4).abs() < 1e-12);
    }

    #[test]
    fn log_loss_and_f1_match_sklearn() {
        let y = [0, 1, 2, 1];
        let p = [0.7, 0.2, 0.1, 0.1, 0.8, 0.1, 0.3, 0.3, 0.4, 0.5, 0.4, 0.1];
        // log_loss(y, p) == 0.5043010921172946 (mean of -ln .7, -ln .8, -ln .4, -ln .4)
        let want = -(0.7f64.ln() + 0.8f64.ln() + 0.4f64.ln() + 0.4f64.ln()) / 4.0;
        assert!((log_loss(&y, &p, 3) - want).abs() < 1e-12);
        let labels = argmax_rows(&p, 3);
        assert_eq!(labels, vec![0, 1, 2, 0]);
        // f1_score([0,1,2,1],[0,1,2,0],average="macro") == 0.7777777777777777
        assert!((macro_f1(&y, &labels, 3) - 0.777_777_777_777_777_7).abs() < 1e-12);
        assert!((accuracy(&y, &labels) - 0.75).abs() < 1e-12);
    }

    #[test]
    fn regression_metrics() {
        let y = [3.0, -0.5, 2.0, 7.0];
        let p = [2.5, 0.0, 2.0, 8.0];
        // sklearn r2_score == 0.9486081370449679, mean_absolute_error == 0.5
        assert!((r2(&y, &p) - 0.948_608_137_044_967_9).abs() < 1e-12);
        assert!((mae(&y, &p) - 0.5).abs() < 1e-12);
        assert!((rmse(&y, &p) - 0.375f64.sqrt()).abs() < 1e-12);
    }

    #[test]
    fn metric_direction() {
        assert!(Metric::Auc.better(0.9, 0.8));
        assert!(Metric::Rmse.better(0.8, 0.9));
        assert!(Metric::R2.better(0.9, 0.8));
        assert!(Metric::Mae.better(0.8, 0.9));
        assert!(Metric::MacroF1.better(0.9, 0.8));
    }

    #[test]
    fn every_ranking_metric_scores_as_the_report_names_it() {
        let classes = |y: Vec<usize>, k: usize| Target::Classes {
            y,
            classes: (0..k).map(|c| c.to_string()).collect(),
        };
        let binary = classes(vec![0, 1, 1, 0, 1], 2);
        let prob = [0.8, 0.2, 0.3, 0.7, 0.6, 0.4, 0.4, 0.6, 0.1, 0.9];
        let multi = classes(vec![0, 1, 2, 2], 3);
        let mprob = [0.7, 0.2, 0.1, 0.2, 0.5, 0.3, 0.1, 0.6, 0.3, 0.2, 0.2, 0.6];
        let reg = Target::Regression(vec![1.0, 2.0, 4.0]);
        let pred = [1.5, 2.0, 3.0];
        for (target, p, task) in [
            (&binary, &prob[..], Task::Binary),
            (&multi, &mprob[..], Task::Multiclass),
            (&reg, &pred[..], Task::Regression),
        ] {
            let report = report(target, p);
            for m in Metric::ALL {
                let score = m.score(target, p);
                match report.iter().find(|v| v.name == m.name()) {
                    Some(v) if m.applies_to(task) => assert_eq!(score, v.value, "{m:?}"),
                    None if !m.applies_to(task) => assert!(score.is_nan(), "{m:?} {task:?}"),
                    other => panic!("{m:?} on {task:?}: {other:?}"),
                }
            }
            assert!(Metric::for_task(task).contains(&Metric::default_for(task)));
        }
    }
}
