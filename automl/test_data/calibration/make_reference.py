"""Reference calibrations from scikit-learn for automl/src/calibrate.rs.

Platt scaling: sklearn.calibration._sigmoid_calibration (Platt's smoothed
targets), p = 1 / (1 + exp(a * z + b)), so Kiln's scale is -a and shift -b.
Temperature scaling: sklearn.calibration._TemperatureScaling on logits, its
beta_ the inverse temperature. Run: python3 make_reference.py > reference.json
"""
import json

import numpy as np
import sklearn
from sklearn.calibration import _sigmoid_calibration, _TemperatureScaling

rng = np.random.default_rng(15)
# Binary: log-odds z of an overconfident model, labels from 0.6 z - 0.4.
z = rng.normal(0.0, 2.5, 600)
y = (rng.random(600) < 1 / (1 + np.exp(-(0.6 * z - 0.4)))).astype(int)
a, b = _sigmoid_calibration(z, y)
# Multiclass: 3-class logits, labels drawn at temperature 1.8.
logits = rng.normal(0.0, 3.0, (500, 3))
truth = np.exp(logits / 1.8)
truth /= truth.sum(axis=1, keepdims=True)
labels = np.array([rng.choice(3, p=p) for p in truth])
ts = _TemperatureScaling().fit(logits, labels)
print(json.dumps({
    "sklearn": sklearn.__version__,
    "binary": {"z": z.tolist(), "y": y.tolist(), "scale": -float(a), "shift": -float(b)},
    "multiclass": {
        "logits": logits.ravel().tolist(),
        "y": labels.tolist(),
        "temperature": 1 / float(ts.beta_),
    },
}))
