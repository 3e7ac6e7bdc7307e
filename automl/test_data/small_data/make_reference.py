"""Reference forests, neighbours and kernel ridge from scikit-learn for
automl/src/gbdt/forest.rs and automl/src/kernels.rs.

Four tables with numeric features (penguins keeps its missing values),
each split 70/30 by a seeded permutation. On each, scikit-learn's
RandomForest* and ExtraTrees* with 200 trees and their other defaults are
fitted with seeds 0-4 and scored on the test rows; the mean of each metric
is the reference. Neighbours and kernel ridge see the features
standardised (missing values filled with the training median, then the
training mean and standard deviation): KNeighbors* with 12 neighbours and
equal weights, and KernelRidge with an RBF kernel, gamma 0.3 / columns and
alpha 0.01 * training rows on centred values (regression standardised) or
class indicators (the second class's for two), whose test predictions are
the reference. Run: python3 make_reference.py > reference.json
(the tables are read from the repository: carseats from
data/test_data/onnx, penguins from assets/samples; diabetes and
breast_cancer ship with scikit-learn).
"""
import csv
import json
import math
import os

import numpy as np
import sklearn
from sklearn.datasets import load_breast_cancer, load_diabetes
from sklearn.kernel_ridge import KernelRidge
from sklearn.neighbors import KNeighborsClassifier, KNeighborsRegressor
from sklearn.ensemble import (ExtraTreesClassifier, ExtraTreesRegressor,
                              RandomForestClassifier, RandomForestRegressor)
from sklearn.metrics import accuracy_score, log_loss, roc_auc_score

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..")


def rows(path):
    with open(os.path.join(ROOT, path)) as f:
        return list(csv.DictReader(f))


def num(v):
    return float(v) if v not in ("", "NA") else math.nan


def carseats():
    r = rows("data/test_data/onnx/carseats.csv")
    shelf = {"Bad": 0.0, "Medium": 1.0, "Good": 2.0}
    cols = ["CompPrice", "Income", "Advertising", "Population", "Price", "Age", "Education"]
    x = [[num(d[c]) for c in cols] + [shelf[d["ShelveLoc"]], float(d["Urban"] == "Yes"),
                                      float(d["US"] == "Yes")] for d in r]
    return np.array(x), np.array([num(d["Sales"]) for d in r])


def penguins():
    r = rows("assets/samples/penguins.csv")
    cols = ["bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g"]
    classes = sorted({d["species"] for d in r})
    x = [[num(d[c]) for c in cols] + [{"male": 0.0, "female": 1.0}.get(d["sex"], math.nan)]
         for d in r]
    return np.array(x), np.array([classes.index(d["species"]) for d in r])


def split(n, seed):
    p = np.random.default_rng(seed).permutation(n)
    cut = int(n * 0.7)
    return np.sort(p[:cut]), np.sort(p[cut:])


def case(name, x, y, task):
    train, test = split(len(y), 2024)
    out = {"name": name, "task": task, "x": [[None if math.isnan(v) else v for v in col]
                                             for col in x.T.tolist()],
           "y": y.tolist(), "train": train.tolist(), "test": test.tolist()}
    for kind, make in (("random_forest", RandomForestRegressor if task == "regression"
                        else RandomForestClassifier),
                       ("extra_trees", ExtraTreesRegressor if task == "regression"
                        else ExtraTreesClassifier)):
        scores = []
        for seed in range(5):
            m = make(n_estimators=200, random_state=seed).fit(x[train], y[train])
            if task == "regression":
                e = m.predict(x[test]) - y[test]
                scores.append({"rmse": float(np.sqrt(np.mean(e * e)))})
            else:
                p = m.predict_proba(x[test])
                s = {"accuracy": accuracy_score(y[test], p.argmax(1)),
                     "log_loss": log_loss(y[test], np.clip(p, 1e-15, 1 - 1e-15),
                                          labels=list(range(p.shape[1])))}
                if task == "binary":
                    s["auc"] = roc_auc_score(y[test], p[:, 1])
                scores.append(s)
        out[kind] = {k: float(np.mean([s[k] for s in scores])) for k in scores[0]}
    out.update(kernels(x, y, train, test, task))
    return out


def standardised(x, train):
    x = x.copy()
    for j in range(x.shape[1]):
        col = x[:, j]
        med = np.nanmedian(col[train])
        col[np.isnan(col)] = med
        mean, std = col[train].mean(), col[train].std()
        x[:, j] = (col - mean) / (std if std > 0 else 1.0)
    return x


def scores(task, y, p):
    if task == "regression":
        return {"rmse": float(np.sqrt(np.mean((p - y) ** 2)))}
    s = {"accuracy": accuracy_score(y, p.argmax(1)),
         "log_loss": log_loss(y, np.clip(p, 1e-15, 1 - 1e-15), labels=list(range(p.shape[1])))}
    if task == "binary":
        s["auc"] = roc_auc_score(y, p[:, 1])
    return {k: float(v) for k, v in s.items()}


def kernels(x, y, train, test, task):
    z = standardised(x, train)
    if task == "regression":
        knn = KNeighborsRegressor(n_neighbors=12).fit(z[train], y[train]).predict(z[test])
    else:
        knn = KNeighborsClassifier(n_neighbors=12).fit(z[train], y[train]).predict_proba(z[test])
    n = len(train)
    krr = KernelRidge(alpha=0.01 * n, kernel="rbf", gamma=0.3 / z.shape[1])
    if task == "regression":
        mean, std = y[train].mean(), y[train].std()
        pred = krr.fit(z[train], (y[train] - mean) / std).predict(z[test]) * std + mean
        probs = pred
    else:
        k = int(y.max()) + 1
        ind = np.eye(k)[y[train]] if k > 2 else (y[train] == 1).astype(float)[:, None]
        means = ind.mean(0)
        pred = krr.fit(z[train], ind - means).predict(z[test]).reshape(len(test), -1) + means
        shares = np.clip(pred, 1e-4, 1 - 1e-4)
        if k == 2:
            probs = np.hstack([1 - shares, shares])
        else:
            probs = shares / shares.sum(1, keepdims=True)
        pred = pred.ravel()
    return {"neighbours": scores(task, y[test], knn),
            "kernel_ridge": scores(task, y[test], probs),
            "kernel_ridge_predictions": pred.tolist()}


diabetes = load_diabetes()
cancer = load_breast_cancer()
print(json.dumps({
    "sklearn": sklearn.__version__,
    "numpy": np.__version__,
    "cases": [
        case("carseats", *carseats(), "regression"),
        case("diabetes", diabetes.data, diabetes.target.astype(float), "regression"),
        case("breast_cancer", cancer.data, cancer.target, "binary"),
        case("penguins", *penguins(), "multiclass"),
    ],
}))
