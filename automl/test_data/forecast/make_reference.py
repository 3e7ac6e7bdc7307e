"""Reference forecasts for automl/tests/forecast.rs from statsforecast.

Each table's last `h` steps are held out; SeasonalNaive, AutoETS,
AutoTheta and AutoARIMA are fitted on the rest of each series and scored by MASE (scale:
mean absolute seasonal difference of the fitted history) and WAPE.

    pip install statsforecast==2.0.1
    python3 make_reference.py > reference.json
"""
import json
import sys

import numpy as np
import pandas as pd
import statsforecast
from statsforecast.models import AutoARIMA, AutoETS, AutoTheta, SeasonalNaive

TABLES = [
    # file, item column (None: one series), value column, season, horizon
    ("airpassengers.csv", None, "passengers", 12, 12),
    ("wineind.csv", None, "bottles", 12, 12),
    ("woolyrnq.csv", None, "tonnes", 4, 8),
    ("us_macro_quarterly.csv", "series", "value", 4, 8),
]


def series(df, item, value):
    if item is None:
        return [("all", df[value].to_numpy(float))]
    return [(k, g[value].to_numpy(float)) for k, g in df.groupby(item, sort=False)]


def mase_scale(y, m):
    lag = m if len(y) > m else 1
    return float(np.mean(np.abs(y[lag:] - y[:-lag])))


out = {"statsforecast": statsforecast.__version__, "numpy": np.__version__, "tables": {}}
for file, item, value, m, h in TABLES:
    df = pd.read_csv(file)
    table = {"season": m, "horizon": h, "models": {}}
    for name, make in [
        ("seasonal_naive", lambda: SeasonalNaive(season_length=m)),
        ("auto_ets", lambda: AutoETS(season_length=m)),
        ("auto_theta", lambda: AutoTheta(season_length=m)),
        ("auto_arima", lambda: AutoARIMA(season_length=m)),
    ]:
        forecasts, mases, abs_err, abs_act, chosen = {}, [], 0.0, 0.0, {}
        for key, y in series(df, item, value):
            train, test = y[:-h], y[-h:]
            model = make().fit(train)
            f = model.predict(h)["mean"]
            forecasts[key] = [float(v) for v in f]
            mases.append(float(np.mean(np.abs(test - f)) / mase_scale(train, m)))
            abs_err += float(np.sum(np.abs(test - f)))
            abs_act += float(np.sum(np.abs(test)))
            if name == "auto_ets":
                chosen[key] = model.model_["method"]
            if name == "auto_theta":
                chosen[key] = str(model.model_["modeltype"])
            if name == "auto_arima":
                a = model.model_["arma"]  # p, q, P, Q, m, d, D
                chosen[key] = f"ARIMA({a[0]},{a[5]},{a[1]})({a[2]},{a[6]},{a[3]})[{a[4]}]"

        table["models"][name] = {
            "mase": float(np.mean(mases)),
            "wape": abs_err / abs_act,
            "forecasts": forecasts,
            "chosen": chosen,
        }
    out["tables"][file] = table
json.dump(out, sys.stdout, indent=1)
