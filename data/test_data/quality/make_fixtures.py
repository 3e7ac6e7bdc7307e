"""Writes the quality report's test fixtures (the CSVs beside this script).

Run from anywhere: `python3 make_fixtures.py`. Plain Python 3 (3.11.7 made
the committed files); the files are committed, so the tests never need it.
Each file is a family of checks; the cases that read them are the table in
`data/src/quality/tests.rs`.
"""

import csv
import datetime
import math
import os
import random

HERE = os.path.dirname(os.path.abspath(__file__))


def write(name, header, rows):
    with open(os.path.join(HERE, name), "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(header)
        w.writerows(rows)


def num(x):
    """Six decimals, without trailing zeros."""
    s = f"{x:.6f}".rstrip("0").rstrip(".")
    return "0" if s == "-0" else s


def uniform(n, seed):
    r = random.Random(seed)
    return [r.random() for _ in range(n)]


def missing():
    n = 100
    r = random.Random(12)
    def col(k):
        return [("" if i < k else str(r.randrange(10))) for i in range(n)]
    cols = {"half": col(50), "tenth": col(10), "few": col(2), "fewer": col(1),
            "none": col(0), "empty": [""] * n}
    write("missing.csv", list(cols), zip(*cols.values()))


def placeholders():
    n = 200
    age = [18 + i % 60 for i in range(n)]
    for r in (5, 50, 120, 121):
        age[r] = -1
    change = [i % 21 - 10 for i in range(n)]
    sign = [-1 if i % 3 == 0 else 1 for i in range(n)]
    income = [20000 + 150 * i for i in range(n)]
    for r in range(10):
        income[r * 7] = 99999
    colour = [["red", "blue", "green", "unknown"][i % 4] if i % 10 else "Unknown" for i in range(n)]
    album = [f"Unknown Pleasures {i % 7}" for i in range(n)]
    write("placeholders.csv", ["age", "change", "sign", "income", "colour", "album"],
          zip(age, change, sign, income, colour, album))


def identifiers():
    n = 100
    r = random.Random(15)
    rows = []
    for i in range(n):
        # `income` is as sparse as `customer_id`, but not named like an ID.
        rows.append([i + 1, i * i * 37, r.randrange(20000, 90000), f"u{i:04}", num(i / 7),
                     f"2024-01-01T00:{i // 60:02}:{i % 60:02}",
                     f"a remark about item {i}", i % 5])
    write("identifiers.csv",
          ["row", "customer_id", "income", "code", "score", "when", "note", "group"], rows)


def categories():
    n = 200
    rows = [[f"city {i % 60}", f"town {i % 50}", f"2024-{1 + i // 28:02}-{1 + i % 28:02}"]
            for i in range(n)]
    write("categories.csv", ["city", "town", "day"], rows)
    write("categories_common.csv", ["city"], [[f"city {i % 60}"] for i in range(2000)])


def outliers():
    x = uniform(500, 1)
    x[42] = 50.0
    x[7] = -20.0
    clean = uniform(500, 2)
    mostly_zero = [i if i % 40 == 0 else 0 for i in range(500)]
    write("outliers.csv", ["x", "clean", "mostly_zero"],
          [[num(a), num(b), c] for a, b, c in zip(x, clean, mostly_zero)])


def skew():
    heavy = [(1.0 / i) ** 2 * 1e4 for i in range(1, 301)]
    left = [-v for v in heavy]
    even = uniform(300, 3)
    write("skew.csv", ["heavy", "left", "even"],
          [[num(a), num(b), num(c)] for a, b, c in zip(heavy, left, even)])


def related():
    n = 1000
    x, noise, far = uniform(n, 4), uniform(n, 5), uniform(n, 6)
    rows = []
    for i in range(n):
        # r(x, close) is about 0.965: uniform noise of width ±0.136.
        rows.append([num(x[i]), num(x[i]), num(2 * x[i] + 1), num(x[i] + 0.272 * (noise[i] - 0.5)),
                     num(far[i]), ["FR", "DE", "IT"][i % 3], ["France", "Germany", "Italy"][i % 3]])
    write("related.csv", ["x", "copy", "scaled", "close", "far", "country", "name"], rows)


def churn():
    n = 1000
    x, weak = uniform(n, 8), uniform(n, 9)
    rows = []
    for i in range(n):
        y = "churned" if x[i] > 0.7 else "stayed"
        rows.append([num(x[i]), "closed" if y == "churned" else "open", num(x[i] + weak[i]),
                     f"c{i:05}", y])
    write("churn.csv", ["x", "status", "hint", "id", "y"], rows)
    noise = uniform(n, 13)
    write("rare_target.csv", ["noise", "y"],
          [[num(noise[i]), "fraud" if i % 200 == 0 else "ok"] for i in range(n)])


def price():
    n = 1000
    x, noise = uniform(n, 10), uniform(n, 11)
    write("price.csv", ["price_eur", "rough", "price"],
          [[num(x[i]), num(x[i] + 0.5 * noise[i]), num(3 * x[i] + 100)] for i in range(n)])


def imbalance():
    n = 1000
    r = random.Random(7)
    def labels(rare):
        ys = ["yes"] * rare + ["no"] * (n - rare)
        r.shuffle(ys)
        return ys
    cols = {"rare5": labels(50), "rare1": labels(10), "rare30": labels(300),
            "x": [num(v) for v in uniform(n, 14)]}
    write("imbalance.csv", list(cols), zip(*cols.values()))


def clock(minutes):
    """Minutes after midnight as a clock reading, HHMM (flights' arr_time)."""
    m = int(minutes) % 1440
    return (m // 60) * 100 + m % 60


def derived():
    """Targets rebuilt from two or three columns, and controls that are not."""
    n = 2000
    r = random.Random(24)
    carriers = ["AA", "DL", "UA", "WN"]
    def extra():
        return [r.choice(carriers), num(r.random())]
    rows, late = [], []
    for _ in range(n):
        sched = r.uniform(300, 1200)
        delay = r.gauss(10, 30)
        actual = sched + delay
        rows.append([num(sched), num(actual), *extra(), num(delay)])
        late.append([num(sched), num(actual), *extra(), "late" if delay > 15 else "on time"])
    write("derived_difference.csv", ["sched", "actual", "carrier", "noise", "delay"], rows)
    write("derived_class.csv", ["sched", "actual", "carrier", "noise", "status"], late)
    rows = []
    for _ in range(n):
        sched_dep = r.uniform(300, 1200)
        duration = r.uniform(60, 360)
        delay = round(r.gauss(5, 25))
        rows.append([clock(sched_dep), clock(sched_dep + duration + delay),
                     clock(sched_dep + duration), *extra(), delay])
    write("derived_clock.csv",
          ["sched_dep_time", "arr_time", "sched_arr_time", "carrier", "noise", "arr_delay"], rows)
    rows = []
    for _ in range(n):
        price = math.exp(r.gauss(3, 0.6))
        quantity = r.randint(1, 40)
        rows.append([num(price), quantity, *extra(), num(price * quantity)])
    write("derived_product.csv", ["price", "quantity", "carrier", "noise", "total"], rows)
    rows = []
    for _ in range(n):
        mass = r.uniform(10, 100)
        volume = r.uniform(20, 100)
        rows.append([num(mass), num(volume), *extra(), num(mass / volume)])
    write("derived_ratio.csv", ["mass", "volume", "carrier", "noise", "density"], rows)
    rows = []
    for _ in range(n):
        a, b, c = r.uniform(0, 100), r.uniform(0, 100), r.uniform(0, 100)
        rows.append([num(a), num(b), num(c), *extra(), num(a + b + c)])
    write("derived_sum3.csv", ["rent", "food", "travel", "carrier", "noise", "spent"], rows)
    # Controls: two honest columns that explain most, not all, of the target;
    # a product buried in noise; a target that one column predicts alone.
    rows = []
    for _ in range(n):
        a, b = r.uniform(0, 100), r.uniform(0, 100)
        rows.append([num(a), num(b), *extra(), num(a + b + r.gauss(0, 22)),
                     num(a * b + r.gauss(0, 1500)), num(3 * a + r.gauss(0, 20) + 0.2 * b)])
    write("derived_controls.csv",
          ["age", "income", "carrier", "noise", "spend", "score", "rating"], rows)


def leaks():
    """Soft and missingness leaks, and honest strong predictors that are not."""
    n = 2000
    r = random.Random(16)
    rows = []
    for _ in range(n):
        yes = r.random() < 0.45
        rows.append([num(r.gauss(40, 12)), num(r.gauss(50, 15) + (4 if yes else 0)),
                     num(r.gauss(80 if yes else 50, 8)), r.choice("nsew"), "yes" if yes else "no"])
    write("leak_soft.csv", ["age", "income", "followup_score", "region", "recid"], rows)
    rows = []
    for i in range(n):
        yes = r.random() < 0.45
        recorded = (r.random() < 0.95) if yes else (r.random() < 0.03)
        date = f"2014-{r.randint(1, 12):02}-{r.randint(1, 28):02}" if recorded else ""
        # An honest column with a few missing values at random.
        priors = "" if r.random() < 0.05 else str(max(0, round(r.gauss(3 if yes else 2, 2))))
        rows.append([num(r.gauss(35, 10)), priors, date, "yes" if yes else "no"])
    write("leak_missing.csv", ["age", "priors", "later_offence_date", "recid"], rows)
    rows = []
    for _ in range(n):
        a, b, c = r.gauss(0, 1), r.gauss(0, 1), r.gauss(0, 1)
        logit = 1.5 * a + 1.5 * b + 1.5 * c
        yes = r.random() < 1 / (1 + math.exp(-logit))
        # Three near-copies of one strong number: strong, but not apart.
        base = r.uniform(0, 100)
        rows.append([num(a), num(b), num(c), "yes" if yes else "no",
                     num(base + r.gauss(0, 3)), num(base + r.gauss(0, 3)), num(base + r.gauss(0, 4)),
                     num(2 * base + r.gauss(0, 6))])
    write("leak_controls.csv", ["a", "b", "c", "outcome", "length", "width", "depth", "size"], rows)


def timing():
    """Leaks that only a timing hint raises: a date after the screening date
    and a number named for the outcome, each a little weaker than a likely
    leak; and the same strengths with no hint, which must not be flagged.
    And a block of later records that must not hide each other, one of them
    present for only some of one class (a one-sided missingness leak)."""
    n = 2000
    r = random.Random(17)
    start = datetime.date(2014, 1, 1)
    hinted, named, control = [], [], []
    for _ in range(n):
        yes = r.random() < 0.45
        screening = start + datetime.timedelta(days=r.randrange(30))
        age = num(r.gauss(35, 10))
        priors = str(max(0, round(r.gauss(3 if yes else 2, 2))))
        # Released soon after screening, whatever the outcome: after it, but no skill.
        jail_out = screening + datetime.timedelta(days=r.randrange(1, 20))
        result_code = r.choice(["A", "B", "C", "D"])
        days = max(1, round(r.gauss(200 if yes else 440, 90)))
        later = screening + datetime.timedelta(days=days)
        before = screening - datetime.timedelta(days=days)
        hinted.append([screening.isoformat(), age, priors, jail_out.isoformat(), result_code,
                       later.isoformat(), "yes" if yes else "no"])
        named.append([age, priors, result_code, days, "yes" if yes else "no"])
        control.append([screening.isoformat(), age, priors, jail_out.isoformat(), result_code,
                        before.isoformat(), days, "yes" if yes else "no"])
    # A block of later records, as in a recidivism table: a flag copied from the outcome,
    # and a later case's number, charge and date, present (almost) only when there was one.
    block = []
    for i in range(n):
        yes = r.random() < 0.45
        screening = start + datetime.timedelta(days=r.randrange(30))
        recorded = yes or r.random() < 0.05
        flag = yes if r.random() > 0.01 else not yes
        block.append([screening.isoformat(), num(r.gauss(35, 10)),
                      str(max(0, round(r.gauss(3 if yes else 2, 2)))),
                      "1" if flag else "0",
                      f"15{i:06}CF" if recorded else "",
                      r.choice("FM") if recorded else "",
                      (screening + datetime.timedelta(days=r.randrange(10, 700))).isoformat()
                      if recorded else "",
                      # Jailed again: a third of those who reoffended, almost none of the others.
                      str(r.randrange(1, 90)) if r.random() < (0.35 if yes else 0.01) else "",
                      # An honest optional field, more often filled in for one class.
                      str(r.randrange(100, 999)) if r.random() < (0.6 if yes else 0.25) else "",
                      "yes" if yes else "no"])
    write("leak_block.csv", ["screening_date", "age", "priors", "reoffended", "r_case", "r_charge",
                             "r_date", "r_jail_days", "referral", "recid"], block)
    write("leak_timing.csv", ["screening_date", "age", "priors", "jail_out", "result_code",
                              "custody_date", "recid"], hinted)
    write("leak_named.csv", ["age", "priors", "result_code", "days_after", "recid"], named)
    write("leak_timing_control.csv", ["screening_date", "age", "priors", "jail_out", "result_code",
                                      "intake_date", "wait_days", "recid"], control)


for make in (missing, placeholders, identifiers, categories, outliers, skew, related, churn,
             price, imbalance, derived, leaks, timing):
    make()
