"""What a page sends to its client-side explorables, read from AppTest's element tree.

A components v2 element renders nothing under AppTest, but its proto (type "bidi_component") holds the
JSON data the browser would get; float32_b64 arrays are decoded back to numpy."""
from __future__ import annotations

import base64
import json

import numpy as np


def _walk(node):
    for child in getattr(node, "children", {}).values():
        yield child
        yield from _walk(child)


def sent(at, component: str) -> list[dict]:
    """The data of every mounted explorable named bigmodel_<component>, in page order."""
    out = []
    for e in _walk(at._tree):
        if getattr(e, "type", None) == "bidi_component" and e.proto.component_name.endswith(f"bigmodel_{component}"):
            out.append(json.loads(e.proto.json))
    return out


def f32(b64: str, shape) -> np.ndarray:
    """A float32_b64 array back as numpy, reshaped."""
    return np.frombuffer(base64.b64decode(b64), dtype="<f4").reshape(shape).copy()
