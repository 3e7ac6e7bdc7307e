"""Repeated 5-fold CV of LightGBM's defaults on the bench's training rows.

How much of a test-set gap is the test set? The bench's LightGBM-default
column is one 20% test split; this prints the same model's 5x5-fold CV metric
on the 80% the AutoML searches, to set beside Kiln's CV score (printed by
`KILN_BENCH_VERBOSE=1`). Write the splits with
`KILN_BENCH_KEEP=1 KILN_BENCH_DATASETS=NAME cargo xtask bench automl 1`
(it prints the folder), then `python3 bench/python/cv_defaults.py FOLDER NAME`.
Binary targets only (AUC). Not part of any test.
"""
import sys, warnings, numpy as np, pandas as pd, lightgbm as lgb
from sklearn.model_selection import StratifiedKFold, cross_val_score
warnings.filterwarnings("ignore")
TARGETS = {"german_credit": "creditability", "breast_cancer": "diagnosis"}
d, name = sys.argv[1], sys.argv[2]
tr = pd.read_csv(f"{d}/{name}-raw-train.csv")
y = tr.pop(TARGETS[name]).astype("category").cat.codes
for c in tr.columns:
    if not pd.api.types.is_numeric_dtype(tr[c]):
        tr[c] = tr[c].astype("category")
scores = []
for seed in range(5):
    folds = StratifiedKFold(5, shuffle=True, random_state=seed)
    model = lgb.LGBMClassifier(verbose=-1, n_jobs=1)
    scores += list(cross_val_score(model, tr, y, cv=folds, scoring="roc_auc"))
print(f"lightgbm {lgb.__version__} defaults, {name}: 5x5-fold CV AUC "
      f"{np.mean(scores):.4f} +- {np.std(scores):.4f}")
