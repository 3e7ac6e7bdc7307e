"""Independent re-implementation of DEFINITIONS.md (plain Python + math), checked against reference.json."""
import json, math, csv, os
HERE = os.path.dirname(os.path.abspath(__file__))
INF = float("inf")
def div(a, b):
    if b == 0 and a == 0: return 0.0
    if b == 0: return -INF if a < 0 else INF
    return a / b
def diff(x, y):  # x - y with the both-+inf rule
    return 0.0 if (x == y == INF) else x - y
def load(case):
    if case["dataset"] is None:
        d = case["inline_data"]; n = len(d["f"])
        return [{k: d[k][i] for k in d} for i in range(n)]
    with open(os.path.join(HERE, case["dataset"]), newline="") as f:
        return list(csv.DictReader(f))
def idx(rows, case):
    fc, lc, pc = case["facet_column"], case["label_column"], case["predicted_column"]
    def fav(v):
        if case["label_values"] is not None: return v in case["label_values"]
        return float(v) > case["label_threshold"]
    out = []
    for r in rows:
        if case["facet_values"] is not None:
            vals = [str(v) for v in case["facet_values"]]
            s = str(r[fc]) in vals
        else:
            s = float(r[fc]) > case["facet_threshold"]
        out.append((s, fav(r[lc]), fav(r[pc]), r[case["group_column"]]))
    return out
def metrics(rows, case):
    I = idx(rows, case); N = len(I); R = {}
    A = [t for t in I if not t[0]]; D = [t for t in I if t[0]]
    na, nd = len(A), len(D)
    c = lambda G, f: sum(1 for t in G if f(t))
    if na and nd:
        R["CI"] = (na - nd) / N
        qa, qd = c(A, lambda t: t[1]) / na, c(D, lambda t: t[1]) / nd
        R["DPL"] = qa - qd
        pa = {False: 1 - qa, True: qa}; pd_ = {False: 1 - qd, True: qd}
        # pdf uses count/total; recompute exactly that way
        pa = {v: c(A, lambda t, v=v: t[1] == v) / na for v in (False, True)}
        pd_ = {v: c(D, lambda t, v=v: t[1] == v) / nd for v in (False, True)}
        keys = [k for k in (False, True) if pa[k] != 0 and pd_[k] != 0]
        if keys:
            Pa = [pa[k] for k in keys]; Pd = [pd_[k] for k in keys]
            R["KL"] = sum(x * math.log(x / y) for x, y in zip(Pa, Pd))
            P = [0.5 * (x + y) for x, y in zip(Pa, Pd)]
            R["JS"] = 0.5 * (sum(x * math.log(x / m) for x, m in zip(Pa, P)) + sum(y * math.log(y / m) for y, m in zip(Pd, P)))
            R["LP"] = math.sqrt(sum((x - y) ** 2 for x, y in zip(Pa, Pd)))
            R["TVD"] = 0.5 * sum(abs(x - y) for x, y in zip(Pa, Pd))
            R["KS"] = max(abs(x - y) for x, y in zip(Pa, Pd))
        R["DPPL"] = c(A, lambda t: t[2]) / na - c(D, lambda t: t[2]) / nd
        R["DI"] = div(c(D, lambda t: t[2]) / nd, c(A, lambda t: t[2]) / na)
        def cm(G):
            return (c(G, lambda t: t[1] and t[2]), c(G, lambda t: not t[1] and t[2]),
                    c(G, lambda t: t[1] and not t[2]), c(G, lambda t: not t[1] and not t[2]))
        TPa, FPa, FNa, TNa = cm(A); TPd, FPd, FNd, TNd = cm(D)
        R["DCA"] = diff(div(TPa + FNa, TPa + FPa), div(TPd + FNd, TPd + FPd))
        R["DCR"] = diff(div(TNd + FPd, TNd + FNd), div(TNa + FPa, TNa + FNa))
        R["DAR"] = diff(div(TPa, TPa + FPa), div(TPd, TPd + FPd))
        R["DRR"] = diff(div(TNd, TNd + FNd), div(TNa, TNa + FNa))
        R["RD"] = diff(div(TPa, TPa + FNa), div(TPd, TPd + FNd))
        R["SD"] = diff(div(TNd, TNd + FPd), div(TNa, TNa + FPa))
        R["AD"] = diff(div(TPa + TNa, na), div(TPd + TNd, nd))
        R["TE"] = diff(div(FNd, FPd), div(FNa, FPa))
    b = [int(t[2]) - int(t[1]) + 1 for t in I]; mu = sum(b) / N
    if mu != 0: R["GE"] = sum((x / mu) ** 2 - 1 for x in b) / (N * 2)
    for name, j in (("CDDL", 1), ("CDDPL", 2)):
        if 0 < c(I, lambda t: t[j]) < N:
            tot = 0.0
            for g in sorted(set(t[3] for t in I), key=lambda v: (float(v) if v.replace('.', '', 1).isdigit() else v)):
                G = [t for t in I if t[3] == g]
                pos = [t for t in G if t[j]]; neg = [t for t in G if not t[j]]
                Aa = c(pos, lambda t: t[0]) / len(pos) if pos else 0
                Dd = c(neg, lambda t: t[0]) / len(neg) if neg else 0
                tot += len(G) * (Dd - Aa)
            R[name] = tot / N
    return R
ref = json.load(open(os.path.join(HERE, "reference.json")))
worst = 0.0; bad = 0
for case in ref["cases"]:
    R = metrics(load(case), case)
    for m, v in case["metrics"].items():
        if m == "FT": continue
        mine = R.get(m)
        if v is None:
            ok = mine is None
        elif isinstance(v, str):
            ok = mine is not None and str(mine).replace("inf", "Infinity") == v
        else:
            ok = mine is not None and abs(mine - v) <= 1e-12
            if mine is not None: worst = max(worst, abs(mine - v))
        if not ok:
            bad += 1; print("MISMATCH", case["id"], m, v, mine)
print("checked", len(ref["cases"]), "cases; mismatches:", bad, "max |diff|:", worst)
