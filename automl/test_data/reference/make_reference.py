#!/usr/bin/env python3
"""Generate committed reference values for the `automl` crate's tests.

Writes, next to this script:
  lightgbm_regression.json, lightgbm_binary.json, lightgbm_multiclass.json
  sklearn_linear.json, sklearn_metrics.json

Deterministic: all data comes from numpy.random.default_rng with fixed seeds,
LightGBM runs single-threaded with deterministic=True.

Regenerate (from the repository root):
  python3 automl/test_data/reference/make_reference.py
"""

import json
import math
import os
import platform
import sys
import warnings

import numpy as np
import lightgbm as lgb
import sklearn
import shap
from scipy.special import expit, logsumexp, softmax
from sklearn import metrics
from sklearn.linear_model import LogisticRegression, Ridge

OUT_DIR = os.path.dirname(os.path.abspath(__file__))
GENERATED_BY = "automl/test_data/reference/make_reference.py"
VERSIONS = {
    "python": platform.python_version(),
    "numpy": np.__version__,
    "lightgbm": lgb.__version__,
    "scikit-learn": sklearn.__version__,
    "shap": shap.__version__,
}
MAX_FILE_BYTES = 400 * 1024


# --------------------------------------------------------------------------
# JSON helpers
# --------------------------------------------------------------------------
def clean(obj):
    """Recursively convert numpy types to Python and NaN/inf to None."""
    if isinstance(obj, dict):
        return {str(k): clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [clean(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return clean(obj.tolist())
    if isinstance(obj, (np.bool_, bool)):
        return bool(obj)
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        f = float(obj)
        if math.isnan(f) or math.isinf(f):
            return None
        return f
    return obj


def write_json(name, payload):
    payload = dict(payload)
    payload["versions"] = VERSIONS
    payload["generated_by"] = GENERATED_BY
    text = json.dumps(clean(payload), separators=(",", ":"), allow_nan=False)
    path = os.path.join(OUT_DIR, name)
    with open(path, "w") as f:
        f.write(text)
        f.write("\n")
    size = os.path.getsize(path)
    print(f"wrote {name}: {size} bytes")
    return size


# --------------------------------------------------------------------------
# A) LightGBM
# --------------------------------------------------------------------------
LGB_N = 300
LGB_F = 5


def lgb_data():
    rng = np.random.default_rng(20240601)
    X = rng.uniform(-2.0, 2.0, size=(LGB_N, LGB_F))
    # Latent score computed on the complete data.
    score = (
        2.0 * np.sin(X[:, 0])
        + X[:, 1] * X[:, 2]
        + (X[:, 3] > 0.5).astype(float)
        + 0.5 * X[:, 4]
    )
    noise = rng.normal(0.0, 0.3, size=LGB_N)
    # ~10% NaN in features 0 and 3.
    for j in (0, 3):
        mask = rng.uniform(size=LGB_N) < 0.10
        X[mask, j] = np.nan
    return X, score, noise


def lgb_params(objective, num_class=None):
    p = {
        "objective": objective,
        "num_leaves": 8,
        "learning_rate": 0.1,
        "min_data_in_leaf": 5,
        "max_bin": 63,
        "bagging_fraction": 1.0,
        "bagging_freq": 0,
        "feature_fraction": 1.0,
        "lambda_l2": 0.0,
        "deterministic": True,
        "force_row_wise": True,
        "num_threads": 1,
        "verbose": -1,
        "seed": 7,
        "use_missing": True,
        "zero_as_missing": False,
    }
    if num_class is not None:
        p["num_class"] = num_class
    return p


def inspect_trees(model):
    """Collect facts about dumped trees (decision types, missing types ...)."""
    decision_types = {}
    missing_types = {}
    default_left = {}
    n_internal = 0
    n_leaves = 0
    any_linear = False
    any_categorical = False

    def walk(node):
        nonlocal n_internal, n_leaves
        if "leaf_index" in node or "split_index" not in node:
            n_leaves += 1
            return
        n_internal += 1
        dt = node["decision_type"]
        decision_types[dt] = decision_types.get(dt, 0) + 1
        mt = node["missing_type"]
        key = f"feature {node['split_feature']}: {mt}"
        missing_types[key] = missing_types.get(key, 0) + 1
        dl = f"missing_type {mt}, default_left {node['default_left']}"
        default_left[dl] = default_left.get(dl, 0) + 1
        walk(node["left_child"])
        walk(node["right_child"])

    for t in model["tree_info"]:
        any_linear = any_linear or bool(t.get("is_linear", False))
        any_categorical = any_categorical or t.get("num_cat", 0) > 0
        walk(t["tree_structure"])

    notes = []
    if set(decision_types) == {"<="}:
        notes.append(
            f"all {n_internal} internal nodes have decision_type '<=' (numeric splits only)"
        )
    else:
        notes.append(f"UNEXPECTED decision_type counts: {decision_types}")
    notes.append(f"{n_leaves} leaves in {len(model['tree_info'])} trees")
    notes.append(
        "missing_type per split feature (count of nodes): "
        + ", ".join(f"{k} x{v}" for k, v in sorted(missing_types.items()))
    )
    notes.append(
        "default_left by missing_type (count of nodes): "
        + ", ".join(f"{k} x{v}" for k, v in sorted(default_left.items()))
    )
    if any_linear:
        notes.append("UNEXPECTED: some tree has is_linear=true")
    if any_categorical:
        notes.append("UNEXPECTED: some tree has categorical splits")
    return notes, decision_types


def lgb_decide_left(node, v):
    """LightGBM's numerical decision (tree.h NumericalDecision) for one node."""
    mt = node["missing_type"]
    if math.isnan(v) and mt != "NaN":
        v = 0.0
    if (mt == "Zero" and abs(v) <= 1e-35) or (mt == "NaN" and math.isnan(v)):
        return bool(node["default_left"])
    return v <= node["threshold"]


def lgb_python_raw(model, X):
    """Pure-Python walk of the dumped trees -> raw scores (n, num_class)."""
    k = model["num_tree_per_iteration"]
    out = np.zeros((len(X), k))
    for ti, t in enumerate(model["tree_info"]):
        for r, x in enumerate(X):
            node = t["tree_structure"]
            while "split_index" in node:
                left = lgb_decide_left(node, float(x[node["split_feature"]]))
                node = node["left_child"] if left else node["right_child"]
            out[r, ti % k] += node["leaf_value"]
    return out


def lgb_tree_to_shap(tree):
    """Convert one dumped LightGBM tree to shap's custom-tree dict format."""
    nodes = []

    def add(node):
        idx = len(nodes)
        nodes.append(None)
        if "split_index" not in node:
            nodes[idx] = (-1, -1, -1, -1, 0.0, node["leaf_value"], node.get("leaf_count", 0))
            return idx
        left = add(node["left_child"])
        right = add(node["right_child"])
        mt = node["missing_type"]
        if mt == "NaN":
            default = left if node["default_left"] else right
        else:  # LightGBM maps NaN to 0.0 for these nodes
            default = left if lgb_decide_left(node, 0.0) else right
        nodes[idx] = (left, right, default, node["split_feature"], node["threshold"],
                      node["internal_value"], node["internal_count"])
        return idx

    root = tree["tree_structure"]
    if "split_index" not in root:  # single-leaf tree
        nodes.append((-1, -1, -1, -1, 0.0, root["leaf_value"], 1))
    else:
        add(root)
    a = list(zip(*nodes))
    return {
        "children_left": np.array(a[0], dtype=np.int32),
        "children_right": np.array(a[1], dtype=np.int32),
        "children_default": np.array(a[2], dtype=np.int32),
        "features": np.array(a[3], dtype=np.int32),
        "thresholds": np.array(a[4], dtype=np.float64),
        "values": np.array(a[5], dtype=np.float64)[:, None],
        "node_sample_weight": np.array(a[6], dtype=np.float64),
    }


def shap_own_treeshap(model, X, cls):
    """Run shap's own C++ TreeSHAP on the dumped trees of one class."""
    k = model["num_tree_per_iteration"]
    trees = [lgb_tree_to_shap(t) for i, t in enumerate(model["tree_info"]) if i % k == cls]
    custom = {"trees": trees, "base_offset": 0.0, "tree_output": "raw_value",
              "objective": "squared_error", "input_dtype": np.float64,
              "internal_dtype": np.float64}
    ex = shap.TreeExplainer(custom, feature_perturbation="tree_path_dependent")
    sv = np.asarray(ex.shap_values(X, check_additivity=False))
    ev = float(np.atleast_1d(ex.expected_value)[0])
    return sv, ev


def lgb_one(objective, X, y, num_class=None):
    params = lgb_params(objective, num_class)
    ds = lgb.Dataset(X, label=y, params={"max_bin": 63, "verbose": -1})
    booster = lgb.train(params, ds, num_boost_round=25)
    raw = booster.predict(X, raw_score=True)
    contrib = booster.predict(X, pred_contrib=True)
    if raw.ndim == 1:
        raw = raw[:, None]
    contrib = np.asarray(contrib)

    # Sanity: contributions sum to the raw score (per class block).
    k = 1 if num_class is None else num_class
    blocks = contrib.reshape(len(X), k, LGB_F + 1)
    sum_err = float(np.max(np.abs(blocks.sum(axis=2) - raw)))
    print(f"[{objective}] max |sum(contrib) - raw| = {sum_err:.3e}")
    assert sum_err < 1e-9

    model = booster.dump_model()

    # Pure-Python traversal of the dump reproduces raw scores.
    py_raw = lgb_python_raw(model, X)
    walk_err = float(np.max(np.abs(py_raw - raw)))
    print(f"[{objective}] max |python walk of dump_model - raw| = {walk_err:.3e}")
    assert walk_err < 1e-9

    # shap's own TreeSHAP (C++ extension) on the dumped trees vs pred_contrib.
    # (shap.TreeExplainer(booster) itself just calls booster.predict(pred_contrib=True),
    # so it is only a consistency check; this one is an independent implementation.)
    own_diff = 0.0
    own_ev_diff = 0.0
    for c in range(k):
        sv_c, ev_c = shap_own_treeshap(model, X, c)
        own_diff = max(own_diff, float(np.max(np.abs(sv_c - blocks[:, c, :LGB_F]))))
        own_ev_diff = max(own_ev_diff, float(np.max(np.abs(ev_c - blocks[:, c, LGB_F]))))
    print(
        f"[{objective}] max |shap C++ TreeSHAP on dumped trees - pred_contrib| = "
        f"{own_diff:.3e} (expected value diff {own_ev_diff:.3e})"
    )
    assert own_diff < 1e-6 and own_ev_diff < 1e-6

    # shap.TreeExplainer(booster) vs pred_contrib.
    explainer = shap.TreeExplainer(booster)
    sv = explainer.shap_values(X)
    ev = np.atleast_1d(np.asarray(explainer.expected_value, dtype=float))
    if isinstance(sv, list):  # older shap: list of (n, f) per class
        sv = np.stack(sv, axis=-1)
    sv = np.asarray(sv)
    if sv.ndim == 2:
        sv = sv[:, :, None]
    # sv: (n, f, k) -> (n, k, f)
    sv = np.transpose(sv, (0, 2, 1))
    shap_diff = float(np.max(np.abs(sv - blocks[:, :, :LGB_F])))
    ev_diff = float(np.max(np.abs(ev[None, :] - blocks[:, :, LGB_F])))
    print(
        f"[{objective}] max |shap.TreeExplainer - pred_contrib| = {shap_diff:.3e} "
        f"(expected value diff {ev_diff:.3e})"
    )
    assert shap_diff < 1e-6, shap_diff
    shap_diff = max(shap_diff, own_diff)

    tree_notes, decision_types = inspect_trees(model)
    assert set(decision_types) == {"<="}, decision_types
    notes = [
        "model trained on all 300 rows; X/raw/contrib below are those 300 rows",
        "LightGBM params: " + json.dumps(params, sort_keys=True),
        "num_boost_round=25; boost_from_average left at its default (true), so the "
        "initial score is folded into the leaf values of the first tree (per class)",
        "features 0 and 3 contain NaN (use_missing=true, zero_as_missing=false): their "
        "splits have missing_type 'NaN' and NaN goes to default_left; features without "
        "NaN in training have missing_type 'None', where LightGBM maps NaN to 0.0 at "
        "prediction time",
        "decision rule (LightGBM NumericalDecision): if value is NaN and missing_type != "
        "'NaN', value := 0.0; if (missing_type == 'NaN' and value is NaN) or "
        "(missing_type == 'Zero' and |value| <= 1e-35) go to default_left ? left : right; "
        "else go left iff value <= threshold. Thresholds such as +-1.0000000180025095e-35 "
        "(kZeroThreshold) are ordinary numeric thresholds at zero",
        "raw score = sum of the reached leaf_value over the trees of that class (tree i "
        "belongs to class i % num_tree_per_iteration); leaf_value already includes "
        "shrinkage and the boost_from_average bias, so ignore the per-tree 'shrinkage' "
        "field. For binary, probability = sigmoid(raw); multiclass = softmax(raw)",
        "model.objective strings as dumped: 'regression', 'binary sigmoid:1', "
        "'multiclass num_class:3'",
        "internal_value is printed by LightGBM with ~6 significant digits (not exact); "
        "leaf_value and threshold are full double precision. TreeSHAP needs only "
        "leaf_value, internal_count and leaf_count (cover)",
        "contrib layout: for each class, n_features contributions then the expected "
        "value (bias); multiclass rows are [class0 (6), class1 (6), class2 (6)]",
        f"max |sum(contrib block) - raw| = {sum_err:.3e}",
        f"max |python walk of dump_model trees - raw| = {walk_err:.3e}",
        "shap.TreeExplainer(booster).shap_values(X) delegates to LightGBM's own "
        f"pred_contrib (max diff {max(float(np.max(np.abs(sv - blocks[:, :, :LGB_F]))), ev_diff):.3e}); "
        "independent check: shap's C++ TreeSHAP (tree_path_dependent) run on the dumped "
        "trees converted to shap's custom-tree format (node_sample_weight = "
        f"internal_count/leaf_count) gives max diff {own_diff:.3e} "
        f"(expected value {own_ev_diff:.3e})",
    ] + tree_notes

    return {
        "objective": objective,
        "num_class": 1 if num_class is None else num_class,
        "n_features": LGB_F,
        "n_rows": len(X),
        "num_boost_round": 25,
        "params": params,
        "notes": notes,
        "X": X,
        "y": y,
        "raw": raw,
        "contrib": contrib,
        "model": model,
    }, shap_diff


def make_lightgbm():
    X, score, noise = lgb_data()
    results = {}

    y_reg = score + noise
    payload, d = lgb_one("regression", X, y_reg)
    write_json("lightgbm_regression.json", payload)
    results["regression"] = d

    s = score + noise
    y_bin = (s > np.median(s)).astype(float)
    payload, d = lgb_one("binary", X, y_bin)
    write_json("lightgbm_binary.json", payload)
    results["binary"] = d

    q1, q2 = np.quantile(s, [1.0 / 3.0, 2.0 / 3.0])
    y_mc = np.where(s <= q1, 0, np.where(s <= q2, 1, 2)).astype(float)
    payload, d = lgb_one("multiclass", X, y_mc, num_class=3)
    write_json("lightgbm_multiclass.json", payload)
    results["multiclass"] = d
    return results


# --------------------------------------------------------------------------
# B) scikit-learn linear models
# --------------------------------------------------------------------------
def logistic(C):
    # `penalty='l2'` is deprecated since scikit-learn 1.8; l1_ratio=0.0 is the
    # equivalent pure-L2 setting (and the default).
    return LogisticRegression(
        C=C, l1_ratio=0.0, solver="lbfgs", tol=1e-12, max_iter=10000
    )


def binary_logistic_grad(X, y, w, b, C):
    """Gradient of C * sum logloss + 0.5 ||w||^2 (intercept unpenalised)."""
    p = expit(X @ w + b)
    r = p - y
    return np.concatenate([C * X.T @ r + w, [C * r.sum()]])


def multinomial_grad(X, y, W, b, C):
    """Gradient of C * sum -log softmax(XW^T+b)[y] + 0.5 ||W||_F^2."""
    Z = X @ W.T + b
    P = softmax(Z, axis=1)
    Y = np.eye(W.shape[0])[y]
    R = P - Y
    gW = C * R.T @ X + W
    gb = C * R.sum(axis=0)
    return np.concatenate([gW.ravel(), gb])


def newton_binary(X, y, w, b, C, iters=20):
    """Newton steps on C * sum logloss + 0.5 ||w||^2 from sklearn's solution."""
    n, d = X.shape
    Xa = np.hstack([X, np.ones((n, 1))])
    theta = np.concatenate([w, [b]])
    reg = np.diag(np.concatenate([np.ones(d), [0.0]]))
    for _ in range(iters):
        p = expit(Xa @ theta)
        g = C * Xa.T @ (p - y) + reg @ theta
        H = C * (Xa.T * (p * (1 - p))) @ Xa + reg
        theta = theta - np.linalg.solve(H, g)
    return theta[:d], theta[d]


def newton_multinomial(X, y, W, b, C, iters=20):
    """Newton steps on C * sum -log softmax + 0.5 ||W||_F^2 (b unpenalised).

    The intercepts are only defined up to a common constant; the result is
    re-centred so that sum(b) = 0, like scikit-learn's.
    """
    n, d = X.shape
    k = W.shape[0]
    Xa = np.hstack([X, np.ones((n, 1))])
    Th = np.hstack([W, b[:, None]])  # (k, d+1)
    Y = np.eye(k)[y]
    mask = np.concatenate([np.ones(d), [0.0]])
    for _ in range(iters):
        P = softmax(Xa @ Th.T, axis=1)
        G = C * (P - Y).T @ Xa + Th * mask  # (k, d+1)
        H = np.zeros((k * (d + 1), k * (d + 1)))
        for a in range(k):
            for c in range(k):
                wgt = P[:, a] * ((a == c) - P[:, c])
                H[a * (d + 1):(a + 1) * (d + 1), c * (d + 1):(c + 1) * (d + 1)] = (
                    C * (Xa.T * wgt) @ Xa
                )
        H += np.diag(np.tile(mask, k))
        # Singular along the common-intercept direction: least-squares step.
        step = np.linalg.lstsq(H, G.ravel(), rcond=None)[0]
        Th = Th - step.reshape(k, d + 1)
        Th[:, d] -= Th[:, d].mean()
    return Th[:, :d], Th[:, d]


def make_linear():
    out = {}
    notes = {}

    # Ridge
    rng = np.random.default_rng(1001)
    X = rng.standard_normal((100, 4))
    w_true = np.array([1.5, -2.0, 0.0, 0.5])
    y = X @ w_true + 3.0 + rng.normal(0.0, 0.5, size=100)
    ridge = Ridge(alpha=2.0, fit_intercept=True).fit(X, y)
    # Closed-form check on centred data.
    Xc = X - X.mean(axis=0)
    yc = y - y.mean()
    w_cf = np.linalg.solve(Xc.T @ Xc + 2.0 * np.eye(4), Xc.T @ yc)
    b_cf = y.mean() - X.mean(axis=0) @ w_cf
    ridge_err = max(
        float(np.max(np.abs(w_cf - ridge.coef_))), abs(float(b_cf - ridge.intercept_))
    )
    print(f"[ridge] max |closed form - sklearn| = {ridge_err:.3e}")
    assert ridge_err < 1e-10
    out["ridge"] = {
        "X": X,
        "y": y,
        "alpha": 2.0,
        "fit_intercept": True,
        "coef": ridge.coef_,
        "intercept": float(ridge.intercept_),
    }
    notes["ridge"] = (
        "sklearn.linear_model.Ridge(alpha=2.0, fit_intercept=True) minimises "
        "||y - X w - b||_2^2 + alpha * ||w||_2^2 (sum of squares, not mean; intercept "
        "b unpenalised, i.e. equivalent to ridge on column-centred X and centred y, then "
        f"b = mean(y) - mean(X) . w). Closed-form check max diff {ridge_err:.3e}."
    )

    # Binary logistic
    rng = np.random.default_rng(2002)
    X = rng.standard_normal((150, 3))
    logits = X @ np.array([1.2, -0.8, 0.4]) - 0.3 + rng.normal(0.0, 0.5, size=150)
    y = (rng.uniform(size=150) < expit(logits)).astype(int)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        lr = logistic(0.5).fit(X, y)
    g = binary_logistic_grad(X, y, lr.coef_[0], lr.intercept_[0], 0.5)
    gnorm_bin = float(np.max(np.abs(g)))
    print(f"[logistic_binary] max |grad| of stated objective at sklearn solution = {gnorm_bin:.3e}")
    assert gnorm_bin < 1e-6
    wn, bn = newton_binary(X, y, lr.coef_[0], lr.intercept_[0], 0.5)
    gn_bin = float(np.max(np.abs(binary_logistic_grad(X, y, wn, bn, 0.5))))
    dn_bin = max(float(np.max(np.abs(wn - lr.coef_[0]))), abs(float(bn - lr.intercept_[0])))
    print(f"[logistic_binary] Newton-refined: max |grad| = {gn_bin:.3e}, max |diff to sklearn| = {dn_bin:.3e}")
    assert gn_bin < 1e-10
    out["logistic_binary"] = {
        "X": X,
        "y": y,
        "C": 0.5,
        "classes": lr.classes_,
        "coef": lr.coef_,
        "intercept": lr.intercept_,
        "n_iter": lr.n_iter_,
        "max_abs_gradient_at_solution": gnorm_bin,
        "coef_newton": wn[None, :],
        "intercept_newton": [bn],
        "max_abs_gradient_at_newton": gn_bin,
        "max_abs_diff_sklearn_vs_newton": dn_bin,
    }
    notes["logistic_binary"] = (
        "LogisticRegression(C=0.5, l1_ratio=0.0 [== penalty='l2'], solver='lbfgs', "
        "tol=1e-12, max_iter=10000) minimises C * sum_i logloss(y_i, sigmoid(x_i . w + b)) "
        "+ 0.5 * ||w||_2^2 (sum over samples, not mean; intercept b unpenalised). "
        "coef has shape (1, n_features). Gradient of that objective at the stored "
        f"solution: max abs {gnorm_bin:.3e}."
    )

    # Multinomial logistic
    rng = np.random.default_rng(3003)
    X = rng.standard_normal((150, 3))
    W_true = np.array([[1.0, -0.5, 0.3], [-0.7, 1.1, 0.0], [0.0, -0.4, -0.9]])
    Z = X @ W_true.T + np.array([0.2, 0.0, -0.2]) + rng.normal(0.0, 0.3, size=(150, 3))
    P = softmax(Z, axis=1)
    u = rng.uniform(size=150)
    y = (u[:, None] > np.cumsum(P, axis=1)).sum(axis=1)
    y = np.minimum(y, 2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        lr = logistic(0.5).fit(X, y)
    assert lr.coef_.shape == (3, 3)
    g = multinomial_grad(X, y, lr.coef_, lr.intercept_, 0.5)
    gnorm_mc = float(np.max(np.abs(g)))
    print(f"[logistic_multinomial] max |grad| of multinomial objective = {gnorm_mc:.3e}")
    assert gnorm_mc < 1e-6, "not the multinomial solution?"
    # Multinomial with symmetric penalty => coefficients sum to 0 over classes.
    coef_colsum = float(np.max(np.abs(lr.coef_.sum(axis=0))))
    # predict_proba must be softmax of the decision function (not OvR normalisation).
    pp = lr.predict_proba(X)
    sm = softmax(lr.decision_function(X), axis=1)
    assert np.max(np.abs(pp - sm)) < 1e-12
    Wn, bn = newton_multinomial(X, y, lr.coef_, lr.intercept_, 0.5)
    gn_mc = float(np.max(np.abs(multinomial_grad(X, y, Wn, bn, 0.5))))
    dn_mc = max(float(np.max(np.abs(Wn - lr.coef_))), float(np.max(np.abs(bn - lr.intercept_))))
    print(f"[logistic_multinomial] Newton-refined: max |grad| = {gn_mc:.3e}, max |diff to sklearn| = {dn_mc:.3e}")
    assert gn_mc < 1e-10
    out["logistic_multinomial"] = {
        "X": X,
        "y": y,
        "C": 0.5,
        "classes": lr.classes_,
        "coef": lr.coef_,
        "intercept": lr.intercept_,
        "n_iter": lr.n_iter_,
        "max_abs_gradient_at_solution": gnorm_mc,
        "coef_newton": Wn,
        "intercept_newton": bn,
        "max_abs_gradient_at_newton": gn_mc,
        "max_abs_diff_sklearn_vs_newton": dn_mc,
    }
    notes["logistic_multinomial"] = (
        "LogisticRegression(C=0.5, l1_ratio=0.0, solver='lbfgs', tol=1e-12, "
        "max_iter=10000) with 3 classes always fits the multinomial (softmax) model in "
        "this scikit-learn version (multi_class parameter was removed; OvR would need "
        "OneVsRestClassifier). It minimises C * sum_i -log softmax(W x_i + b)[y_i] + "
        "0.5 * ||W||_F^2 over the full (over-parametrised) 3 x n_features W, intercepts "
        "b unpenalised. Consequence: sum over classes of each coef column is ~0 "
        f"(max {coef_colsum:.3e}); intercepts are only identified up to a constant "
        "(sklearn returns them centred, sum ~0). predict_proba = softmax(decision). "
        f"Gradient at stored solution: max abs {gnorm_mc:.3e}."
    )
    notes["newton"] = (
        "coef_newton / intercept_newton: the same objective solved to machine precision "
        "by Newton's method started from sklearn's lbfgs solution (numpy only). sklearn's "
        "lbfgs result is within max_abs_diff_sklearn_vs_newton of it; compare a Rust "
        "solver to the *_newton values tightly and to coef/intercept with a tolerance "
        "of ~1e-5."
    )
    out["notes"] = notes
    write_json("sklearn_linear.json", out)


# --------------------------------------------------------------------------
# C) metrics
# --------------------------------------------------------------------------
def make_metrics():
    out = {}

    # Binary
    rng = np.random.default_rng(4004)
    n = 200
    y = (rng.uniform(size=n) < 0.4).astype(int)
    logit = 1.5 * (2 * y - 1) * 0.8 + rng.normal(0.0, 1.3, size=n)
    prob = np.round(expit(logit), 4)
    prob = np.clip(prob, 0.0005, 0.9995)
    # A few ties, including ties that straddle both classes.
    tie_vals = [0.3125, 0.625, 0.8125]
    idx0 = np.flatnonzero(y == 0)
    idx1 = np.flatnonzero(y == 1)
    for k, v in enumerate(tie_vals):
        prob[idx0[3 * k : 3 * k + 3]] = v
        prob[idx1[2 * k : 2 * k + 2]] = v
    assert not np.any(prob == 0.5)
    y_pred = (prob >= 0.5).astype(int)
    fpr, tpr, thr = metrics.roc_curve(y, prob, drop_intermediate=False)
    prec, rec, pthr = metrics.precision_recall_curve(y, prob)
    out["binary"] = {
        "y_true": y,
        "prob": prob,
        "y_pred_rule": "y_pred = 1 if prob >= 0.5 else 0 (no prob equals 0.5 exactly)",
        "roc_auc": metrics.roc_auc_score(y, prob),
        "log_loss": metrics.log_loss(y, prob),
        "accuracy": metrics.accuracy_score(y, y_pred),
        "balanced_accuracy": metrics.balanced_accuracy_score(y, y_pred),
        "f1": metrics.f1_score(y, y_pred, pos_label=1, average="binary"),
        "macro_f1": metrics.f1_score(y, y_pred, average="macro"),
        "roc_curve": {"fpr": fpr, "tpr": tpr, "thresholds": thr},
        "pr_curve": {"precision": prec, "recall": rec, "thresholds": pthr},
        "average_precision": metrics.average_precision_score(y, prob),
        "confusion_matrix": metrics.confusion_matrix(y, y_pred, labels=[0, 1]),
        "notes": [
            "roc_curve(drop_intermediate=False): thresholds are the distinct scores in "
            "decreasing order preceded by +inf (stored as null); fpr/tpr start at 0",
            "precision_recall_curve(drop_intermediate=False): thresholds increasing; "
            "precision/recall have one more element than thresholds, ending with "
            "precision=1, recall=0",
            "average_precision = sum_n (R_n - R_{n-1}) P_n (step rule, no interpolation)",
            "confusion_matrix rows = true label, columns = predicted label",
        ],
    }

    # Multiclass
    rng = np.random.default_rng(5005)
    y = rng.integers(0, 3, size=n)
    Z = rng.normal(0.0, 1.0, size=(n, 3))
    Z[np.arange(n), y] += 1.2
    P = softmax(Z, axis=1)
    # Round to 6 decimals and renormalise the last column so rows sum to ~1.
    P = np.round(P, 6)
    P[:, 2] = 1.0 - P[:, 0] - P[:, 1]
    assert np.all(P > 0)
    y_pred = np.argmax(P, axis=1)
    s = np.sort(P, axis=1)
    assert np.all(s[:, 2] > s[:, 1])  # no argmax ties
    out["multiclass"] = {
        "y_true": y,
        "prob": P,
        "y_pred_rule": "y_pred = argmax(prob row) (no ties)",
        "log_loss": metrics.log_loss(y, P, labels=[0, 1, 2]),
        "accuracy": metrics.accuracy_score(y, y_pred),
        "balanced_accuracy": metrics.balanced_accuracy_score(y, y_pred),
        "macro_f1": metrics.f1_score(y, y_pred, average="macro"),
        "roc_auc_ovr_macro": metrics.roc_auc_score(
            y, P, multi_class="ovr", average="macro"
        ),
        "confusion_matrix": metrics.confusion_matrix(y, y_pred, labels=[0, 1, 2]),
    }

    # Regression
    rng = np.random.default_rng(6006)
    y = rng.normal(5.0, 2.0, size=n)
    y = np.where(np.abs(y) < 0.5, 0.5 * np.sign(y + 1e-12) + y, y)
    assert np.all(np.abs(y) > 0.1)
    pred = y + rng.normal(0.0, 0.8, size=n)
    out["regression"] = {
        "y_true": y,
        "pred": pred,
        "rmse": metrics.root_mean_squared_error(y, pred),
        "mae": metrics.mean_absolute_error(y, pred),
        "r2": metrics.r2_score(y, pred),
        "mape": metrics.mean_absolute_percentage_error(y, pred),
        "notes": [
            "mape is a fraction (not percent): mean(|y - pred| / max(|y|, eps))",
            "r2 = 1 - SS_res / SS_tot with SS_tot about mean(y_true)",
        ],
    }
    write_json("sklearn_metrics.json", out)


def main():
    print("versions:", json.dumps(VERSIONS))
    shap_results = make_lightgbm()
    make_linear()
    make_metrics()
    for name in sorted(os.listdir(OUT_DIR)):
        if name.endswith(".json"):
            size = os.path.getsize(os.path.join(OUT_DIR, name))
            flag = "  (OVER LIMIT)" if size > MAX_FILE_BYTES else ""
            print(f"  {name}: {size} bytes{flag}")
    print("max |shap - pred_contrib|:", json.dumps(shap_results))


if __name__ == "__main__":
    sys.exit(main())
