"""Scores Kiln's exported ONNX models with onnxruntime, for data/tests/onnx.rs.

Usage: onnx_score.py DIR. Each DIR/*.onnx has a DIR/NAME.inputs.json
({"columns": [{"name", "kind": "number"|"text", "values"}]}, null a missing
number); the outputs go to DIR/NAME.outputs.json, by output name.
"""

import json
import pathlib
import sys

import numpy as np
import onnxruntime as ort


def main(folder):
    for model in sorted(pathlib.Path(folder).glob("*.onnx")):
        spec = json.loads(model.with_suffix(".inputs.json").read_text())
        feeds = {}
        for c in spec["columns"]:
            if c["kind"] == "number":
                v = np.array([np.nan if x is None else x for x in c["values"]], dtype=np.float64)
            else:
                v = np.array(c["values"], dtype=object)
            feeds[c["name"]] = v.reshape(-1, 1)
        session = ort.InferenceSession(str(model), providers=["CPUExecutionProvider"])
        names = [o.name for o in session.get_outputs()]
        outputs = session.run(names, feeds)
        result = {n: o.tolist() for n, o in zip(names, outputs)}
        model.with_suffix(".outputs.json").write_text(json.dumps(result))
    print(f"onnxruntime {ort.__version__}")


if __name__ == "__main__":
    main(sys.argv[1])
