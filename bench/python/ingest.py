"""Python Polars on the files of `cargo xtask bench ingest`: `read_csv` with
Kiln's settings (the same null tokens, types inferred from 10,000 rows), then
`describe()`, the nearest thing to Kiln's profile. Prints one JSON object on
stdout: {file: {"rows", "read", "describe", "polars"}} with the fastest of
REPEATS runs (seconds).

  ingest.py REPEATS NULL_TOKENS_JSON FILE...
"""
import json
import sys
import time

import polars as pl


def main():
    repeats = int(sys.argv[1])
    nulls = json.loads(sys.argv[2])
    out = {}
    for path in sys.argv[3:]:
        best = None
        for _ in range(repeats):
            t0 = time.perf_counter()
            df = pl.read_csv(path, infer_schema_length=10_000, null_values=nulls)
            t1 = time.perf_counter()
            df.describe()
            t2 = time.perf_counter()
            if best is None or t2 - t0 < best[0] + best[1]:
                best = (t1 - t0, t2 - t1)
        out[path] = {
            "rows": df.height,
            "read": best[0],
            "describe": best[1],
            "polars": pl.__version__,
        }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
