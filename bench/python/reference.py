"""Reference runs for `cargo xtask bench`: LightGBM and FLAML on the files
kiln-bench writes. Prints one JSON object on stdout; predictions go to a CSV
(one row per test row: the value, or one probability per class).

  reference.py gbdt     TRAIN TEST TASK K OUT ROUNDS LEAVES LR BINS THREADS
  reference.py default  TRAIN TEST TASK K OUT TARGET THREADS
  reference.py flaml    TRAIN TEST TASK K OUT TARGET THREADS BUDGET

TASK is regression, binary or multiclass; K the number of classes. In gbdt
mode the files hold Kiln's numeric tree encoding (features f0.., label y);
otherwise the raw columns, with the label in TARGET encoded as 0..K-1.
"""
import json
import sys
import time
import warnings

import numpy as np
import pandas as pd

warnings.filterwarnings("ignore")


def write(out, pred):
    pred = np.asarray(pred, dtype=float)
    if pred.ndim == 1:
        pred = pred[:, None]
    np.savetxt(out, pred, delimiter=",", fmt="%.17g")


def gbdt(train, test, task, k, out, rounds, leaves, lr, bins, threads):
    import lightgbm as lgb

    tr = pd.read_csv(train)
    te = pd.read_csv(test)
    xtr, ytr = tr.drop(columns="y").to_numpy(float), tr["y"].to_numpy(float)
    xte = te.drop(columns="y").to_numpy(float)
    objective = {"regression": "regression", "binary": "binary", "multiclass": "multiclass"}[task]
    params = {
        "objective": objective,
        "num_leaves": leaves,
        "learning_rate": lr,
        "max_bin": bins,
        "min_data_in_leaf": 20,
        "min_sum_hessian_in_leaf": 1e-3,
        "lambda_l2": 0.0,
        "num_threads": threads,
        "verbose": -1,
        "deterministic": True,
        "force_row_wise": True,
    }
    if task == "multiclass":
        params["num_class"] = k
    # Best of three fits, like the Kiln side.
    fit = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        ds = lgb.Dataset(xtr, ytr, params={"max_bin": bins, "verbose": -1})
        booster = lgb.train(params, ds, num_boost_round=rounds)
        fit = min(fit, time.perf_counter() - start)
    pred = booster.predict(xte)
    if task == "binary":
        pred = np.column_stack([1 - pred, pred])
    write(out, pred)
    rows = xte[: min(len(xte), 2000)]
    start = time.perf_counter()
    booster.predict(rows, pred_contrib=True)
    shap = (time.perf_counter() - start) / len(rows)
    start = time.perf_counter()
    for i in range(min(len(rows), 200)):
        booster.predict(rows[i : i + 1])
    one = (time.perf_counter() - start) / min(len(rows), 200)
    trees = booster.num_trees()
    return {"fit_secs": fit, "shap_secs_per_row": shap, "predict_one_secs": one, "trees": trees,
            "lightgbm": lgb.__version__}


def frames(train, test, target):
    tr = pd.read_csv(train)
    te = pd.read_csv(test)
    ytr = tr.pop(target).to_numpy()
    te.pop(target)
    for c in tr.columns:
        # Text columns (object, or pandas' string dtype) become categories.
        if not (pd.api.types.is_numeric_dtype(tr[c]) or pd.api.types.is_bool_dtype(tr[c])):
            cats = pd.CategoricalDtype(sorted(set(tr[c].dropna())))
            tr[c] = tr[c].astype(cats)
            te[c] = te[c].astype(cats)
    return tr, ytr, te


def default(train, test, task, k, out, target, threads):
    import lightgbm as lgb

    tr, ytr, te = frames(train, test, target)
    start = time.perf_counter()
    if task == "regression":
        m = lgb.LGBMRegressor(n_jobs=threads, verbose=-1).fit(tr, ytr)
        pred = m.predict(te)
    else:
        m = lgb.LGBMClassifier(n_jobs=threads, verbose=-1).fit(tr, ytr.astype(int))
        pred = m.predict_proba(te)
    fit = time.perf_counter() - start
    write(out, pred)
    return {"fit_secs": fit, "lightgbm": lgb.__version__}


def flaml_run(train, test, task, k, out, target, threads, budget):
    import flaml
    from flaml import AutoML

    tr, ytr, te = frames(train, test, target)
    metric = {"regression": "rmse", "binary": "roc_auc", "multiclass": "log_loss"}[task]
    kind = "regression" if task == "regression" else "classification"
    automl = AutoML()
    start = time.perf_counter()
    automl.fit(tr, ytr if task == "regression" else ytr.astype(int), task=kind, metric=metric,
               time_budget=budget, n_jobs=threads, seed=0, verbose=0)
    fit = time.perf_counter() - start
    pred = automl.predict(te) if task == "regression" else automl.predict_proba(te)
    write(out, pred)
    return {"fit_secs": fit, "best": automl.best_estimator, "flaml": flaml.__version__}


def main(argv):
    mode, train, test, task, k, out = argv[1:7]
    k = int(k)
    rest = argv[7:]
    if mode == "gbdt":
        r = gbdt(train, test, task, k, out, int(rest[0]), int(rest[1]), float(rest[2]), int(rest[3]), int(rest[4]))
    elif mode == "default":
        r = default(train, test, task, k, out, rest[0], int(rest[1]))
    elif mode == "flaml":
        r = flaml_run(train, test, task, k, out, rest[0], int(rest[1]), float(rest[2]))
    else:
        raise SystemExit(f"unknown mode {mode}")
    print(json.dumps(r))


if __name__ == "__main__":
    main(sys.argv)
