#!/usr/bin/env python3
"""Regenerate the reference data in data/test_data/explore/.

Usage (from anywhere):  python3 make_reference.py

Writes, next to this script:
  wine.csv        byte copy of /work/shared/datasets/wine.csv (UCI wine, 178 rows)
  blobs.csv       sklearn make_blobs, 600 x 5, truth labels b0..b3
  planted.csv     1000 normal rows + 20 planted anomalies, shuffled
  reference.json  PCA (wine), ARI cases, KMeans/silhouette (blobs), IsolationForest AUC (planted)

Deterministic: re-running reproduces every file byte for byte (same library versions).
"""
import json
import os
import platform
import shutil

import numpy as np
import sklearn
from sklearn.cluster import KMeans
from sklearn.datasets import make_blobs
from sklearn.decomposition import PCA
from sklearn.ensemble import IsolationForest
from sklearn.metrics import adjusted_rand_score, roc_auc_score, silhouette_score
from sklearn.preprocessing import StandardScaler

HERE = os.path.dirname(os.path.abspath(__file__))
WINE_SRC = "/work/shared/datasets/wine.csv"


def out(name):
    return os.path.join(HERE, name)


def write_csv(path, header, rows):
    with open(path, "w", newline="") as fh:
        fh.write(",".join(header) + "\n")
        for r in rows:
            fh.write(",".join(r) + "\n")


# ---------------------------------------------------------------- wine
shutil.copyfile(WINE_SRC, out("wine.csv"))
with open(out("wine.csv")) as fh:
    wine_header = fh.readline().rstrip("\n").split(",")
wine_num_cols = [c for c in wine_header if c != "cultivar"]
wine_idx = [wine_header.index(c) for c in wine_num_cols]
wine_X = np.loadtxt(out("wine.csv"), delimiter=",", skiprows=1,
                    usecols=wine_idx, dtype=np.float64)
assert wine_X.shape == (178, 13), wine_X.shape

scaler = StandardScaler()  # ddof=0
Z = scaler.fit_transform(wine_X)
pca = PCA(svd_solver="full")
scores = pca.fit_transform(Z)
components = pca.components_.copy()
for i in range(components.shape[0]):
    j = int(np.argmax(np.abs(components[i])))
    if components[i, j] < 0:
        components[i] *= -1.0
        scores[:, i] *= -1.0

pca_wine = {
    "columns": wine_num_cols,
    "preprocessing": "sklearn StandardScaler() (population sd, ddof=0), then PCA(svd_solver='full'), all components",
    "mean": scaler.mean_.tolist(),
    "scale": scaler.scale_.tolist(),
    "explained_variance": pca.explained_variance_.tolist(),
    "explained_variance_ratio": pca.explained_variance_ratio_.tolist(),
    "sign_convention": "each component row (and its score column) is multiplied by -1 if needed so that "
                       "the row's entry of largest absolute value is positive",
    "components": components.tolist(),
    "projection_first5": scores[:5, :2].tolist(),
}

# ---------------------------------------------------------------- ARI cases
rng_ari = np.random.default_rng(5)
ari_inputs = [
    ("identical_up_to_relabelling",
     [0, 0, 0, 1, 1, 1, 2, 2, 2, 2, 0, 1],
     [2, 2, 2, 0, 0, 0, 1, 1, 1, 1, 2, 0]),
    ("all_in_one_cluster_vs_truth",
     [0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2],
     [0] * 15),
    ("random_labels",
     rng_ari.integers(0, 4, size=40).tolist(),
     rng_ari.integers(0, 3, size=40).tolist()),
    ("pred_splits_one_cluster_3_vs_4",
     [0] * 7 + [1] * 7 + [2] * 6,
     [0] * 7 + [1] * 4 + [3] * 3 + [2] * 6),
    ("pred_merges_two_clusters_4_vs_3_with_errors",
     [0] * 8 + [1] * 8 + [2] * 7 + [3] * 7,
     [0] * 7 + [1] + [0] * 8 + [1] * 6 + [2] + [2] * 6 + [1]),
    ("noisy_agreement_noncontiguous_labels",
     [3, 3, 3, 3, 3, 7, 7, 7, 7, 7, 9, 9, 9, 9, 9, 9, 11, 11, 11, 11, 11, 11, 11, 11, 11],
     [5, 5, 5, 5, 1, 1, 1, 1, 1, 1, 8, 8, 8, 8, 5, 8, 0, 0, 0, 0, 0, 0, 8, 0, 0]),
]
ari_cases = []
for name, a, b in ari_inputs:
    assert len(a) == len(b) and 10 <= len(a) <= 40
    ari_cases.append({
        "name": name,
        "labels_true": [int(v) for v in a],
        "labels_pred": [int(v) for v in b],
        "adjusted_rand_score": float(adjusted_rand_score(a, b)),
    })

# ---------------------------------------------------------------- blobs
BLOBS_RANDOM_STATE = 7  # first value tried; KMeans ARI == 1.0
bX, by = make_blobs(n_samples=600, centers=4, n_features=5, cluster_std=1.0,
                    random_state=BLOBS_RANDOM_STATE)
write_csv(out("blobs.csv"), ["x1", "x2", "x3", "x4", "x5", "truth"],
          ([("%.17g" % v) for v in row] + ["b%d" % lab] for row, lab in zip(bX, by)))
# re-read so the reference numbers are computed from exactly what the file holds
bX_file = np.loadtxt(out("blobs.csv"), delimiter=",", skiprows=1, usecols=range(5))
assert np.array_equal(bX_file, bX)
km = KMeans(n_clusters=4, n_init=10, random_state=0).fit(bX)
blobs_ari = float(adjusted_rand_score(by, km.labels_))
assert blobs_ari >= 0.99, blobs_ari
silhouettes = {}
for k in range(2, 8):
    lab = KMeans(n_clusters=k, n_init=10, random_state=0).fit_predict(bX)
    silhouettes[str(k)] = float(silhouette_score(bX, lab))

blobs_ref = {
    "make_blobs": "make_blobs(n_samples=600, centers=4, n_features=5, cluster_std=1.0, random_state=%d)"
                  % BLOBS_RANDOM_STATE,
    "random_state": BLOBS_RANDOM_STATE,
    "kmeans": "KMeans(n_clusters=4, n_init=10, random_state=0) on raw x1..x5",
    "kmeans_ari_vs_truth": blobs_ari,
    "silhouette_by_k": silhouettes,
    "silhouette_note": "silhouette_score (euclidean) of KMeans(n_clusters=k, n_init=10, random_state=0) "
                       "labels on raw x1..x5; informational only",
}

# ---------------------------------------------------------------- planted anomalies
rng = np.random.default_rng(2024)      # data generation
N_NORMAL, N_ANOM = 1000, 20
MEANS = np.array([500.0, 50.0, 10.0, 20.0, -3.0, 0.5])
SDS = np.array([100.0, 10.0, 2.0, 5.0, 1.5, 0.1])
CORR = np.eye(6)
for i in range(3):
    for j in range(3):
        if i != j:
            CORR[i, j] = 0.8  # a, b, c pairwise 0.8; d, e, f independent
KINDS = np.array(["x", "y", "z"])
KIND_P = [0.5, 0.3, 0.2]

z_normal = rng.multivariate_normal(np.zeros(6), CORR, size=N_NORMAL, method="cholesky")

# 10 extreme anomalies: 6-8 sd out on one or two columns (others drawn as normal rows)
z_ext = rng.multivariate_normal(np.zeros(6), CORR, size=N_ANOM // 2, method="cholesky")
for r in range(N_ANOM // 2):
    ncols = 1 + (r % 2)
    cols = rng.choice(6, size=ncols, replace=False)
    for c in cols:
        z_ext[r, c] = rng.choice([-1.0, 1.0]) * rng.uniform(6.0, 8.0)

# 10 correlation breakers: a high, b low (each within 3 sd), c, d, e, f ordinary
z_brk = rng.standard_normal((N_ANOM // 2, 6))
z_brk[:, 0] = rng.uniform(2.0, 3.0, size=N_ANOM // 2)
z_brk[:, 1] = -rng.uniform(2.0, 3.0, size=N_ANOM // 2)
z_brk[:, 2] = rng.uniform(-1.0, 1.0, size=N_ANOM // 2)

Zall = np.vstack([z_normal, z_ext, z_brk])
Xall = MEANS + Zall * SDS
kind_all = rng.choice(KINDS, size=N_NORMAL + N_ANOM, p=KIND_P)
y_all = np.r_[np.zeros(N_NORMAL, dtype=int), np.ones(N_ANOM, dtype=int)]

perm = np.random.default_rng(11).permutation(N_NORMAL + N_ANOM)  # row shuffle
Xall, kind_all, y_all = Xall[perm], kind_all[perm], y_all[perm]

fmt = "%.10g"
write_csv(out("planted.csv"), ["a", "b", "c", "d", "e", "f", "kind", "is_anomaly"],
          ([fmt % v for v in row] + [str(k), str(int(t))] for row, k, t in zip(Xall, kind_all, y_all)))

# IsolationForest on the values exactly as written (re-parsed from the CSV text)
P = np.loadtxt(out("planted.csv"), delimiter=",", skiprows=1, usecols=range(6))
with open(out("planted.csv")) as fh:
    next(fh)
    p_kind = [line.rstrip("\n").split(",")[6] for line in fh]
p_y = np.loadtxt(out("planted.csv"), delimiter=",", skiprows=1, usecols=7, dtype=int)
onehot = np.array([[1.0 if k == c else 0.0 for c in KINDS] for k in p_kind])
F = np.hstack([StandardScaler().fit_transform(P), onehot])
iso = IsolationForest(n_estimators=100, random_state=0).fit(F)
auc = float(roc_auc_score(p_y, -iso.score_samples(F)))

planted_ref = {
    "n_rows": int(len(p_y)),
    "n_anomalies": int(p_y.sum()),
    "n_extreme": N_ANOM // 2,
    "n_correlation_breaking": N_ANOM // 2,
    "generation": {
        "means": MEANS.tolist(), "sds": SDS.tolist(),
        "corr": "a,b,c pairwise 0.8; d,e,f independent",
        "kind_probabilities": dict(zip(KINDS.tolist(), KIND_P)),
        "extreme": "6-8 sd (random sign) on one or two random columns",
        "correlation_breaking": "a at +2..3 sd, b at -2..-3 sd, c within +-1 sd",
        "data_seed": "numpy default_rng(2024)", "shuffle_seed": "numpy default_rng(11).permutation",
    },
    "isolation_forest": "StandardScaler on a..f + one-hot kind (x,y,z), "
                        "IsolationForest(n_estimators=100, random_state=0), score = -score_samples",
    "isolation_forest_roc_auc": auc,
}

# ---------------------------------------------------------------- reference.json
reference = {
    "tools": {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "scikit-learn": sklearn.__version__,
    },
    "pca_wine": pca_wine,
    "ari_cases": ari_cases,
    "blobs": blobs_ref,
    "planted": planted_ref,
}
with open(out("reference.json"), "w") as fh:
    json.dump(reference, fh, indent=2)
    fh.write("\n")

print("blobs random_state", BLOBS_RANDOM_STATE, "kmeans ARI", blobs_ari)
print("planted IsolationForest AUC", auc)
print("wine EVR[:3]", pca.explained_variance_ratio_[:3].tolist())
