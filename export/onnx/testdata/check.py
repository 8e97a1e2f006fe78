"""Checks ONNX files with the onnx package's checker (full_check runs shape
inference too) and prints one JSON line per file: its IR version, opset and
the inferred output shapes. Usage: python3 check.py FILE..."""
import json
import sys

import onnx


def dims(vi):
    return [d.dim_param or d.dim_value for d in vi.type.tensor_type.shape.dim]


for path in sys.argv[1:]:
    model = onnx.load(path)
    onnx.checker.check_model(model, full_check=True)
    inferred = onnx.shape_inference.infer_shapes(model, strict_mode=True)
    print(json.dumps({
        "path": path,
        "ir_version": model.ir_version,
        "opset": [o.version for o in model.opset_import if o.domain in ("", "ai.onnx")],
        "inputs": {i.name: dims(i) for i in model.graph.input},
        "outputs": {o.name: dims(o) for o in inferred.graph.output},
        "nodes": len(model.graph.node),
        "onnx_version": onnx.__version__,
    }))
