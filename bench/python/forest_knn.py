"""Random forest, extra trees and k-NN (scikit-learn) on the bench's 80/20 splits.

Do they earn a place on Kiln's leaderboards (issue #3)? Write the splits with
`KILN_BENCH_KEEP=1 cargo xtask bench automl 1` (it prints the folder), then
`python3 bench/python/forest_knn.py FOLDER` and compare with the Kiln column
of `cargo xtask bench automl`. Not part of any test.
"""
import sys, numpy as np, pandas as pd, time
from sklearn.ensemble import RandomForestClassifier, ExtraTreesClassifier, RandomForestRegressor, ExtraTreesRegressor
from sklearn.neighbors import KNeighborsClassifier, KNeighborsRegressor
from sklearn.preprocessing import StandardScaler, OrdinalEncoder, OneHotEncoder
from sklearn.impute import SimpleImputer
from sklearn.compose import ColumnTransformer
from sklearn.pipeline import make_pipeline
from sklearn.metrics import roc_auc_score, log_loss, root_mean_squared_error
import sklearn
d = sys.argv[1]
sets = [("diamonds","price","regression"),("flights","arr_delay","regression"),("german_credit","creditability","binary"),
        ("breast_cancer","diagnosis","binary"),("penguins","species","multiclass"),("seattle_weather","weather","multiclass"),("diabetes","progression","regression")]
print("scikit-learn", sklearn.__version__)
for name, target, task in sets:
    tr = pd.read_csv(f"{d}/{name}-raw-train.csv"); te = pd.read_csv(f"{d}/{name}-raw-test.csv")
    y = tr.pop(target).to_numpy(); yt = te.pop(target).to_numpy()
    num = [c for c in tr.columns if pd.api.types.is_numeric_dtype(tr[c])]
    cat = [c for c in tr.columns if c not in num and tr[c].nunique() <= 200]
    tree_pre = ColumnTransformer([("n", SimpleImputer(strategy="median"), num),
        ("c", make_pipeline(SimpleImputer(strategy="most_frequent"), OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1)), cat)])
    knn_pre = ColumnTransformer([("n", make_pipeline(SimpleImputer(strategy="median"), StandardScaler()), num),
        ("c", make_pipeline(SimpleImputer(strategy="most_frequent"), OneHotEncoder(handle_unknown="ignore", max_categories=20)), cat)])
    if task == "regression":
        models = [("rf", make_pipeline(tree_pre, RandomForestRegressor(300, min_samples_leaf=1, max_features=0.5, n_jobs=2, random_state=0))),
                  ("et", make_pipeline(tree_pre, ExtraTreesRegressor(300, max_features=0.5, n_jobs=2, random_state=0))),
                  ("knn", make_pipeline(knn_pre, KNeighborsRegressor(15, weights="distance")))]
    else:
        models = [("rf", make_pipeline(tree_pre, RandomForestClassifier(300, n_jobs=2, random_state=0))),
                  ("et", make_pipeline(tree_pre, ExtraTreesClassifier(300, n_jobs=2, random_state=0))),
                  ("knn", make_pipeline(knn_pre, KNeighborsClassifier(15, weights="distance")))]
    out = []
    for m, model in models:
        if name == "flights" and m == "knn":
            # 262k rows: k-NN prediction takes minutes; one point is enough.
            out.append("knn skipped"); continue
        t = time.perf_counter(); model.fit(tr, y)
        if task == "regression":
            s = root_mean_squared_error(yt, model.predict(te))
        else:
            p = model.predict_proba(te)
            s = roc_auc_score(yt, p[:, 1]) if task == "binary" else log_loss(yt, np.clip(p, 1e-15, 1), labels=model.classes_)
        out.append(f"{m} {s:.4f} ({time.perf_counter()-t:.1f} s)")
    print(name, task, " | ".join(out), flush=True)
