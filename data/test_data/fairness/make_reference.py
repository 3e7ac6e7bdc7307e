#!/usr/bin/env python3
"""Regenerate the smclarify reference values for Kiln's fairness metrics.

Usage:  python3 make_reference.py            (re-fits the models, rewrites the scored CSVs)
        python3 make_reference.py --keep-scored   (reuse existing *_scored.csv, recompute metrics only)

Needs smclarify==0.5, pandas==2.2.3, numpy==1.26.4, scikit-learn (see requirements.txt).
smclarify 0.5 does NOT work with pandas 3.x (np.issubdtype fails on pandas' StringDtype).
If smclarify is not importable and ./venv exists next to this script, the script re-executes
itself with ./venv/bin/python.

Outputs (next to this script):
  german_credit_scored.csv, cps1985_scored.csv   (original columns + `predicted`)
  reference.json                                  (metric values per case)
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))

try:
    import smclarify  # noqa: F401
except ImportError:
    venv_py = os.path.join(HERE, "venv", "bin", "python")
    if os.path.exists(venv_py) and os.path.realpath(sys.prefix) != os.path.realpath(os.path.join(HERE, "venv")):
        os.execv(venv_py, [venv_py, os.path.abspath(__file__)] + sys.argv[1:])
    raise

import hashlib
import json
import logging
import math
import platform
import shutil
import warnings
from importlib.metadata import version as pkg_version

import numpy as np
import pandas as pd
import sklearn
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.neighbors import KNeighborsClassifier
from sklearn.preprocessing import StandardScaler

import smclarify.bias.metrics as M
from smclarify.bias.metrics import posttraining as PT
from smclarify.bias.metrics import constants as C
from smclarify.bias.report import FacetColumn, LabelColumn, StageType, bias_report

logging.disable(logging.CRITICAL)  # smclarify logs full tracebacks for every failing metric
warnings.simplefilter("error", category=sklearn.exceptions.ConvergenceWarning)

SHARED = "/work/shared/datasets"
GERMAN_SRC = "german_credit.csv"
CPS_SRC = "cps1985_wages.csv"
GERMAN_SCORED = "german_credit_scored.csv"
CPS_SCORED = "cps1985_scored.csv"
RANDOM_STATE = 0

PRE = ["CDDL", "CI", "DPL", "JS", "KL", "KS", "LP", "TVD"]
POST = ["AD", "CDDPL", "DAR", "DCA", "DCR", "DI", "DPPL", "DRR", "FT", "GE", "RD", "SD", "TE"]


def p(*a):
    print(*a, flush=True)


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


# ---------------------------------------------------------------- 1. data + deterministic predictions
def copy_sources():
    for name in (GERMAN_SRC, CPS_SRC):
        src = os.path.join(SHARED, name)
        dst = os.path.join(HERE, name)
        if os.path.exists(src):
            shutil.copyfile(src, dst)
        if not os.path.exists(dst):
            sys.exit(f"missing {name}: not in {SHARED} nor in {HERE}")


def one_hot(X):
    cat = [c for c in X.columns if not pd.api.types.is_numeric_dtype(X[c])]
    num = [c for c in X.columns if pd.api.types.is_numeric_dtype(X[c])]
    Xd = pd.get_dummies(X, columns=cat, dtype=float)  # numeric columns first (original order), then dummies
    return Xd, num


def score_german():
    d = pd.read_csv(os.path.join(HERE, GERMAN_SRC))
    X, num = one_hot(d.drop(columns=["creditability"]))
    # Numeric columns are standardised (z-score, population std) so that lbfgs converges in max_iter=1000;
    # unscaled, lbfgs stops at the iteration limit (ConvergenceWarning) and the predictions are less stable.
    X[num] = StandardScaler().fit_transform(X[num])
    model = LogisticRegression(max_iter=1000, random_state=RANDOM_STATE).fit(X, d["creditability"])
    d["predicted"] = model.predict(X)  # same label values as the target: "good" / "bad"
    out = os.path.join(HERE, GERMAN_SCORED)
    d.to_csv(out, index=False)
    return out, {
        "model": "sklearn LogisticRegression(max_iter=1000, random_state=0), lbfgs, L2 C=1.0",
        "features": "all columns except creditability; string columns one-hot (pd.get_dummies, no drop), "
        "numeric columns z-scored with StandardScaler",
        "n_iter": int(model.n_iter_[0]),
        "train_accuracy": float((d["predicted"] == d["creditability"]).mean()),
    }


def score_cps():
    d = pd.read_csv(os.path.join(HERE, CPS_SRC))
    X, num = one_hot(d.drop(columns=["wage"]))
    model = LinearRegression().fit(X, d["wage"])
    d["predicted"] = model.predict(X)  # predicted wage (float); thresholded exactly like `wage`
    out = os.path.join(HERE, CPS_SCORED)
    d.to_csv(out, index=False)
    return out, {
        "model": "sklearn LinearRegression() (OLS, intercept); `predicted` is the predicted wage, "
        "thresholded like the target",
        "features": "all columns except wage; string columns one-hot (pd.get_dummies, no drop), numeric raw",
    }


def check_roundtrip(src, scored):
    a = pd.read_csv(os.path.join(HERE, src))
    b = pd.read_csv(os.path.join(HERE, scored))
    pd.testing.assert_frame_equal(a, b.drop(columns=["predicted"]), check_exact=True)


# ---------------------------------------------------------------- 2. cases
GERMAN_NUM = [
    "duration_in_month",
    "credit_amount",
    "installment_rate_in_percentage_of_disposable_income",
    "present_residence_since",
    "age_in_years",
    "number_of_existing_credits_at_this_bank",
    "number_of_people_being_liable_to_provide_maintenance_for",
]
CPS_NUM = ["education", "experience", "age"]


def german(case_id, note, facet_column, facet=None, threshold=None, group="purpose"):
    return dict(
        id=case_id,
        note=note,
        dataset=GERMAN_SCORED,
        facet_column=facet_column,
        facet_values=facet,
        facet_threshold=threshold,
        label_column="creditability",
        label_values=["good"],
        label_threshold=None,
        predicted_column="predicted",
        group_column=group,
        ft_feature_columns=[c for c in GERMAN_NUM if c != facet_column],
    )


def cps(case_id, note, facet_column, facet=None, threshold=None, group="occupation", label_threshold=None):
    return dict(
        id=case_id,
        note=note,
        dataset=CPS_SCORED,
        facet_column=facet_column,
        facet_values=facet,
        facet_threshold=threshold,
        label_column="wage",
        label_values=None,
        label_threshold=label_threshold,
        predicted_column="predicted",
        group_column=group,
        ft_feature_columns=[c for c in CPS_NUM if c != facet_column],
    )


def make_cases(cps_df):
    wt = float(cps_df["wage"].median())  # 7.78; favourable = wage > 7.78 (strictly greater)
    return [
        german("german_sex_female", "facet d = the only female value", "personal_status_and_sex",
               facet=["female : divorced/separated/married"]),
        german("german_sex_male_div_or_married", "multi-value facet (OR of values); group=housing",
               "personal_status_and_sex", facet=["male : divorced/separated", "male : married/widowed"],
               group="housing"),
        german("german_age_gt40", "numeric facet threshold 40: d = age_in_years > 40 (interval (40, 75])",
               "age_in_years", threshold=40),
        cps("cps_gender_female", "label and predicted: wage > median(wage)", "gender", facet=["female"],
            label_threshold=wt),
        cps("cps_ethnicity_hispanic", "27 rows in d; group=education (several 1-row groups -> CDD 0-denominator rule)",
            "ethnicity", facet=["hispanic"], group="education", label_threshold=wt),
        german("edge_few_rows_age_gt74",
               "EDGE (a): facet d has 2 rows (age 75), all labels and predictions favourable",
               "age_in_years", threshold=74),
        cps("edge_zero_pred_pos_education_2to6",
            "EDGE (b): 7 rows, 0 favourable predictions, 1 favourable label -> x/0 denominators (+-inf)",
            "education", facet=[2, 3, 4, 5, 6], group="sector", label_threshold=wt),
        cps("edge_zero_all_education_6",
            "EDGE (b'): single int value on a low-cardinality int column => categorical equality; "
            "3 rows, no favourable labels or predictions -> 0/0 denominators",
            "education", facet=[6], group="sector", label_threshold=wt),
        german("edge_ft_k1_age_gt19", "EDGE: advantaged group a = age <= 19 has 2 rows -> FT uses k=1",
               "age_in_years", threshold=19),
        cps("edge_empty_facet", "EDGE (c): facet value not present -> every facet metric raises",
            "gender", facet=["nonbinary"], label_threshold=wt),
    ]


def synthetic(case_id, note, facet, label, pred, group=None):
    n = len(facet)
    return dict(
        id=case_id,
        note=note,
        dataset=None,
        inline_data={
            "f": ["d" if c == "1" else "a" for c in facet],
            "y": ["yes" if c == "1" else "no" for c in label],
            "yhat": ["yes" if c == "1" else "no" for c in pred],
            "g": list(group) if group else ["g1"] * n,
            "x": [float(i) for i in range(n)],
        },
        facet_column="f",
        facet_values=["d"],
        facet_threshold=None,
        label_column="y",
        label_values=["yes"],
        label_threshold=None,
        predicted_column="yhat",
        group_column="g",
        ft_feature_columns=["x"],
    )


SYNTHETIC = [
    synthetic("syn_no_positive_predictions",
              "no favourable prediction at all: c_a = c_d = +inf -> DCA 0; tau_a = tau_d = +inf -> TE 0; "
              "DI 0/0 -> 0; CDDPL raises; bias_report POST raises as a whole",
              facet="00001111", label="11001100", pred="00000000", group="xxyyxxyy"),
    synthetic("syn_all_false_negative",
              "every label favourable, every prediction unfavourable: GE raises (mean benefit 0); CDDL raises "
              "(no negative labels)",
              facet="00001111", label="11111111", pred="00000000"),
    synthetic("syn_disjoint_label_support",
              "a has only unfavourable labels, d only favourable: no label value common to both -> "
              "KL/JS/LP/TVD/KS raise; DPL = -1",
              facet="00001111", label="00001111", pred="01010101", group="xyxyxyxy"),
    synthetic("syn_facet_is_everything",
              "every row in d: a is empty -> CI and the others raise 'negated facet set is empty'",
              facet="11111111", label="11001100", pred="10101010"),
]


# ---------------------------------------------------------------- 3. metric computation
def indices(df, case):
    f = df[case["facet_column"]]
    if case["facet_values"] is not None:
        sfi = f.isin(case["facet_values"])
    else:
        sfi = f > case["facet_threshold"]
    lab = df[case["label_column"]]
    pred = df[case["predicted_column"]]
    if case["label_values"] is not None:
        pli = lab.isin(case["label_values"])
        ppli = pred.isin(case["label_values"])
    else:
        pli = lab > case["label_threshold"]
        ppli = pred > case["label_threshold"]
    return f, sfi.astype(bool), pli.astype(bool), ppli.astype(bool)


def encode(v):
    v = float(v)
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "Infinity" if v > 0 else "-Infinity"
    return v


def run_direct(df, case):
    feature, sfi, pli, ppli = indices(df, case)
    kwargs = dict(
        df=df[case["ft_feature_columns"]],
        feature=feature,
        sensitive_facet_index=sfi,
        label=pli,  # bias_report passes the boolean positive-label index as `label` too
        positive_label_index=pli,
        predicted_label=ppli,
        positive_predicted_label_index=ppli,
        group_variable=df[case["group_column"]],
    )
    values, errors = {}, {}
    for name in PRE + POST:
        fn = getattr(M, name)
        try:
            values[name] = encode(M.call_metric(fn, **kwargs))
        except Exception as e:  # record exactly what smclarify raises
            values[name] = None
            errors[name] = f"{type(e).__name__}: {e}"
    return values, errors


def run_report(df, case):
    cols = case["ft_feature_columns"] + [case["facet_column"], case["label_column"], case["predicted_column"]]
    sub = df[cols]
    if case["facet_values"] is not None:
        fc = FacetColumn(case["facet_column"], list(case["facet_values"]))
    else:
        fc = FacetColumn(case["facet_column"], [case["facet_threshold"]])
    lv = list(case["label_values"]) if case["label_values"] is not None else [case["label_threshold"]]
    lc = LabelColumn(case["label_column"], sub[case["label_column"]], list(lv))
    pc = LabelColumn(case["predicted_column"], sub[case["predicted_column"]], list(lv))
    gv = df[case["group_column"]]
    out, errors, facet_desc, stage_errors = {}, {}, [], {}
    for stage, pcol in ((StageType.PRE_TRAINING, None), (StageType.POST_TRAINING, pc)):
        try:
            rep = bias_report(sub, fc, lc, stage, predicted_label_column=pcol, group_variable=gv)
        except Exception as e:  # the whole report fails (e.g. no favourable prediction at all)
            stage_errors[stage.value] = f"{type(e).__name__}: {e}"
            continue
        assert len(rep) == 1, rep
        facet_desc.append(rep[0]["value_or_threshold"])
        for m in rep[0]["metrics"]:
            if "error" in m:
                out[m["name"]] = None
                errors[m["name"]] = m["error"]
            else:
                v = m["value"]
                out[m["name"]] = v if isinstance(v, str) else encode(v)
    return out, errors, sorted(set(facet_desc)), stage_errors


def same(a, b):
    if a is None or b is None or isinstance(a, str) or isinstance(b, str):
        return a == b, 0.0
    d = abs(a - b)
    return d <= 1e-12, d


def counts(df, case):
    feature, sfi, pli, ppli = indices(df, case)
    out = {"n": int(len(df)), "n_a": int((~sfi).sum()), "n_d": int(sfi.sum()),
           "n_pos_label": int(pli.sum()), "n_pos_pred": int(ppli.sum())}
    for g, m in (("a", ~sfi), ("d", sfi)):
        out[f"TP_{g}"] = int((m & pli & ppli).sum())
        out[f"FP_{g}"] = int((m & ~pli & ppli).sum())
        out[f"FN_{g}"] = int((m & pli & ~ppli).sum())
        out[f"TN_{g}"] = int((m & ~pli & ~ppli).sum())
    return out


def ft_details(df, case):
    """Re-derive smclarify's FT with a brute-force kNN and check for distance ties at the k-th neighbour."""
    _, sfi, _, ppli = indices(df, case)
    X = df[case["ft_feature_columns"]].to_numpy(dtype=float)
    a, d = ~sfi.to_numpy(), sfi.to_numpy()
    if a.sum() == 0 or d.sum() == 0:
        return {"computable": False}
    Xa, ya, Xd, yd = X[a], ppli.to_numpy()[a], X[d], ppli.to_numpy()[d]
    k = C.FT_DEFAULT_NEIGHBOR if len(Xa) > C.FT_SAMPLES_COUNT_THRESHOLD else C.FT_MIN_NEIGHBOR
    knn = KNeighborsClassifier(n_neighbors=k, weights="uniform", algorithm="auto", leaf_size=30, p=2,
                               metric="minkowski").fit(Xa, ya)
    sk = knn.predict(Xd)
    brute, ambiguous = [], 0
    for x in Xd:
        dist2 = ((Xa - x) ** 2).sum(axis=1)  # squared Euclidean; exact for these integer features
        order = np.argsort(dist2, kind="stable")
        brute.append(ya[order[:k]].sum() * 2 > k)
        kth = dist2[order[k - 1]]
        below = dist2 < kth
        tie = dist2 == kth
        need = k - below.sum()
        pos_below = ya[below].sum()
        pos_tie, n_tie = ya[tie].sum(), tie.sum()
        lo = pos_below + max(0, need - (n_tie - pos_tie))
        hi = pos_below + min(pos_tie, need)
        if (lo * 2 > k) != (hi * 2 > k):
            ambiguous += 1
    brute = np.array(brute)
    fs_pos = int((yd & ~sk).sum())  # model predicts favourable, kNN-on-a predicts unfavourable
    fs_neg = int((~yd & sk).sum())  # model predicts unfavourable, kNN-on-a predicts favourable
    return {
        "computable": True,
        "features": case["ft_feature_columns"],
        "feature_scaling": "none (raw values)",
        "k": k,
        "n_a_train": int(len(Xa)),
        "n_d_query": int(len(Xd)),
        "FS_pos": fs_pos,
        "FS_neg": fs_neg,
        "FT_recomputed": encode((fs_pos - fs_neg) / len(Xd)),
        "FT_brute_force_stable_tiebreak": encode(
            (int((yd & ~brute).sum()) - int((~yd & brute).sum())) / len(Xd)),
        "sklearn_knn_algorithm_used": knn._fit_method,
        "rows_whose_vote_depends_on_tie_breaking": int(ambiguous),
        "brute_force_stable_tiebreak_matches_sklearn": bool((brute == sk).all()),
    }


def main():
    keep = "--keep-scored" in sys.argv
    copy_sources()
    models = {}
    if keep and os.path.exists(os.path.join(HERE, GERMAN_SCORED)) and os.path.exists(os.path.join(HERE, CPS_SCORED)):
        p("reusing existing scored CSVs")
    else:
        _, models["german_credit_scored.csv"] = score_german()
        _, models["cps1985_scored.csv"] = score_cps()
    check_roundtrip(GERMAN_SRC, GERMAN_SCORED)
    check_roundtrip(CPS_SRC, CPS_SCORED)

    # Everything below is computed from the CSVs exactly as written (what the Rust tests will read).
    data = {GERMAN_SCORED: pd.read_csv(os.path.join(HERE, GERMAN_SCORED)),
            CPS_SCORED: pd.read_csv(os.path.join(HERE, CPS_SCORED))}
    cases = make_cases(data[CPS_SCORED]) + SYNTHETIC
    out_cases = []
    worst = 0.0
    for case in cases:
        df = data[case["dataset"]] if case["dataset"] else pd.DataFrame(case["inline_data"])
        values, errors = run_direct(df, case)
        rvalues, rerrors, facet_desc, stage_errors = run_report(df, case)
        agree = True
        for name in PRE + POST:
            if name not in rvalues:  # bias_report raised for the whole stage; nothing to compare
                continue
            ok, diff = same(values[name], rvalues.get(name))
            worst = max(worst, diff)
            if not ok:
                agree = False
                p(f"  MISMATCH {case['id']} {name}: direct={values[name]!r} report={rvalues.get(name)!r}")
        side = None
        if case["facet_threshold"] is not None:
            side = f"d (sensitive) = {case['facet_column']} > {case['facet_threshold']}; a = the rest (<=)"
        lside = None
        if case["label_threshold"] is not None:
            lside = f"favourable = {case['label_column']} > {case['label_threshold']!r} (strict); same for predicted"
        rec = dict(case)
        rec.update(
            facet_side=side or "d (sensitive) = rows whose facet value is in facet_values; a = all other rows",
            label_side=lside or "favourable = label value in label_values; same for predicted",
            dataset_sha256=sha256(os.path.join(HERE, case["dataset"])) if case["dataset"] else None,
            report_value_or_threshold=facet_desc,
            counts=counts(df, case),
            metrics=values,
            errors=errors,
            bias_report_metrics=rvalues,
            bias_report_errors=rerrors,
            bias_report_stage_errors=stage_errors,
            direct_equals_bias_report=agree,
            ft=ft_details(df, case),
        )
        out_cases.append(rec)
        p(f"{case['id']}: direct==report {agree}")

    ref = {
        "tool": "smclarify",
        "version": pkg_version("smclarify"),
        "python": platform.python_version(),
        "pandas": pd.__version__,
        "numpy": np.__version__,
        "scikit-learn": sklearn.__version__,
        "pyfunctional": pkg_version("pyfunctional"),
        "generator": "make_reference.py",
        "value_encoding": "float (JSON number, Python repr = shortest round-trip); 'NaN', 'Infinity', "
        "'-Infinity' as strings; null when smclarify raised (message in `errors`)",
        "conventions": {
            "d": "sensitive facet (facet value(s) of interest / facet > threshold) = smclarify's "
            "sensitive_facet_index True",
            "a": "complement of d",
            "metric_functions": "smclarify.bias.metrics.<NAME> called with label=positive_label_index "
            "(boolean), as bias_report does",
            "GE_alpha": 2,
            "LP_p": 2,
            "log": "natural",
        },
        "models": models,
        "max_abs_diff_direct_vs_bias_report": worst,
        "cases": out_cases,
    }
    with open(os.path.join(HERE, "reference.json"), "w") as f:
        json.dump(ref, f, indent=1, allow_nan=False)
        f.write("\n")
    p("wrote reference.json; max |direct - bias_report| =", worst)
    for name in (GERMAN_SCORED, CPS_SCORED):
        p(name, sha256(os.path.join(HERE, name)))


if __name__ == "__main__":
    main()
