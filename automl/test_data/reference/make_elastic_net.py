"""Reference values for Kiln's elastic-net linear and logistic regression.

Writes sklearn_elastic_net.json next to this script. Run with
scikit-learn 1.9.1 and numpy 2.4.6 (the versions recorded in the file):

    python3 make_elastic_net.py

Objectives (intercepts unpenalised):
- ElasticNet(alpha, l1_ratio):  1/(2n) |y - Xw - b|^2 + alpha*l1_ratio |w|_1
  + alpha*(1-l1_ratio)/2 |w|^2, i.e. Kiln's l1 = alpha*l1_ratio and
  l2 = alpha*(1-l1_ratio).
- LogisticRegression(C, l1_ratio, solver="saga"): C * sum(log loss)
  + (1-l1_ratio)/2 |w|^2 + l1_ratio |w|_1, i.e. Kiln's l1 = l1_ratio/(C n)
  and l2 = (1-l1_ratio)/(C n).
Each solution's optimality (KKT) residual is printed and recorded.
"""

import json
import os

import numpy as np
import sklearn
from scipy.special import expit
from sklearn.linear_model import ElasticNet, LogisticRegression

HERE = os.path.dirname(os.path.abspath(__file__))


def kkt(grad, w, l1):
    """Largest violation of 0 in grad + l1 * subgradient(|w|)."""
    worst = 0.0
    for g, v in zip(grad, w):
        if v != 0.0:
            worst = max(worst, abs(g + l1 * np.sign(v)))
        else:
            worst = max(worst, max(0.0, abs(g) - l1))
    return worst


def main():
    out = {"versions": {"scikit-learn": sklearn.__version__, "numpy": np.__version__}}

    rng = np.random.default_rng(2026)
    X = rng.standard_normal((120, 6))
    w_true = np.array([2.0, 0.0, -1.5, 0.0, 0.3, 0.0])
    y = X @ w_true + 1.0 + rng.normal(0.0, 0.7, size=120)
    alpha, ratio = 0.2, 0.7
    en = ElasticNet(alpha=alpha, l1_ratio=ratio, tol=1e-14, max_iter=1_000_000).fit(X, y)
    n = len(y)
    r = y - X @ en.coef_ - en.intercept_
    grad = -(X.T @ r) / n + alpha * (1 - ratio) * en.coef_
    res = kkt(grad, en.coef_, alpha * ratio)
    print(f"[elastic_net] KKT residual {res:.3e}, zeros {int((en.coef_ == 0).sum())}")
    out["elastic_net"] = {
        "X": X.tolist(), "y": y.tolist(), "alpha": alpha, "l1_ratio": ratio,
        "coef": en.coef_.tolist(), "intercept": float(en.intercept_), "kkt": res,
    }

    Xb = rng.standard_normal((200, 5))
    logits = Xb @ np.array([1.2, -0.8, 0.0, 0.0, 0.5]) - 0.3
    yb = (rng.random(200) < expit(logits)).astype(int)
    C, ratio = 0.05, 0.5
    lr = LogisticRegression(C=C, l1_ratio=ratio, solver="saga", tol=1e-14, max_iter=1_000_000).fit(Xb, yb)
    w, b = lr.coef_[0], lr.intercept_[0]
    p = expit(Xb @ w + b)
    n = len(yb)
    grad = (Xb.T @ (p - yb)) / n + (1 - ratio) / (C * n) * w
    res = kkt(grad, w, ratio / (C * n))
    print(f"[logistic_elastic_net] KKT residual {res:.3e}, zeros {int((w == 0).sum())}, |intercept grad| {abs((p - yb).mean()):.3e}")
    out["logistic_elastic_net"] = {
        "X": Xb.tolist(), "y": yb.tolist(), "C": C, "l1_ratio": ratio,
        "coef": w.tolist(), "intercept": float(b), "kkt": res,
    }
    with open(os.path.join(HERE, "sklearn_elastic_net.json"), "w") as f:
        json.dump(out, f, indent=1)


if __name__ == "__main__":
    main()
