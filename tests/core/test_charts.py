"""Chart builders are pure: check their specs with to_dict(), no browser."""
import numpy as np
import pandas as pd
import torch

from bigmodel_core.charts import images, spec as charts


def test_block_reduce_keeps_a_large_map_under_altairs_limit_with_the_same_mean():
    a = np.random.default_rng(0).random((200, 130))
    reduced, block = charts.block_reduce(a)
    assert reduced.size <= charts.MAX_CELLS and block == 3
    np.testing.assert_allclose(reduced[0, 0], a[:3, :3].mean())


def test_line_chart_log_scale_and_series():
    df = pd.DataFrame({"step": [0, 1, 0, 1], "value": [1.0, 0.5, 2.0, 0.1], "series": ["a", "a", "b", "b"]})
    spec = charts.line_chart(df, log_y=True).to_dict()
    assert spec["encoding"]["y"]["scale"]["type"] == "log"
    assert spec["encoding"]["color"]["field"] == "series"


def test_tile_images_and_colorize():
    maps = np.stack([np.full((4, 4), i, dtype=float) for i in range(5)])
    maps[:, 0, 0] = -1
    tile = images.tile_images(maps, ncols=3, pad=1)
    assert tile.shape == (2 * 5 - 1, 3 * 5 - 1)
    assert tile[0, 0] == 0.0 and tile[1, 1] == 1.0           # each map rescaled to [0, 1]
    assert tile[4, 0] == 1.0                                 # the padding line
    rgb = images.colorize(np.array([[0.0, 1.0]]), "viridis")
    assert rgb.shape == (1, 2, 3) and rgb.dtype == np.uint8 and not (rgb[0, 0] == rgb[0, 1]).all()


def _valid(spec: dict) -> dict:
    """Vega-Lite's own schema (through Altair) accepts the dict."""
    import altair as alt
    return alt.LayerChart.from_dict({k: v for k, v in spec.items() if k != "$schema"}).to_dict()


def test_matrix_spec_cells_outlines_and_masked_cells():
    a = np.array([[0.1, -np.inf, 0.3], [0.4, 0.5, 0.6]])
    spec = charts.matrix_spec(a, row_labels=["p", "q"], col_labels=["x", "y", "z"], select="cell", row=1,
                              boxes=[charts.Box(0, 2, 2, 3, "#ff9f0a")], scheme="blues", numbers=True)
    _valid(spec)
    rows = spec["data"]["values"]
    assert len(rows) == 6
    masked = next(r for r in rows if r["row"] == 0 and r["col"] == 1)
    assert masked["masked"] and masked["value"] is None
    assert next(r for r in rows if r["row"] == 1 and r["col"] == 2)["value"] == 0.6
    outlines = spec["layer"][-1]["data"]["values"]
    assert outlines == [{"r0": 1, "r1": 2, "c0": 0, "c1": 3},                  # the row, in Box's colour
                        {"r0": 0, "r1": 2, "c0": 2, "c1": 3, "color": "#ff9f0a"}]
    assert spec["params"][0]["name"] == "cell" and spec["params"][0]["select"]["fields"] == ["row", "col"]
    assert spec["layer"][0]["encoding"]["color"]["scale"]["scheme"] == "blues"
    text = spec["layer"][1]["encoding"]["color"]["condition"][0]["test"]
    assert text == f"datum.value > {(0.1 + 0.6) / 2}"                # white numbers on the dark (high) blues


def test_matrix_spec_block_averages_large_arrays_in_the_original_coordinates():
    a = np.random.default_rng(1).random((200, 130))
    spec = charts.matrix_spec(a, cell_px=2, kind="sequential", legend="bottom", select="pick")
    _valid(spec)
    rows = spec["data"]["values"]
    assert len(rows) <= charts.MAX_CELLS
    first = next(r for r in rows if r["row"] == 0 and r["col"] == 0)
    np.testing.assert_allclose(first["value"], a[:3, :3].mean())
    assert max(r["row"] for r in rows) == 198 and spec["width"] == 260 and spec["height"] == 400
    assert spec["layer"][0]["transform"][0] == {"calculate": "datum.col + 3", "as": "col2"}


def test_matrix_spec_named_data_keeps_the_spec_fixed_while_the_outline_moves():
    a = torch.randn(4, 6)
    s1 = charts.matrix_spec(a, kind="diverging", box_data="box", data_name="cells")
    s2 = charts.matrix_spec(a, kind="diverging", box_data="box", data_name="cells")
    assert s1 == s2 and s1["data"] == {"name": "cells"} and set(s1["datasets"]) == {"cells", "box"}
    vmax = float(a.abs().max())
    assert s1["layer"][0]["encoding"]["color"]["scale"]["domain"] == [-vmax, vmax]
    _valid({k: v for k, v in s1.items() if k != "datasets"} | {"datasets": {"cells": s1["datasets"]["cells"],
                                                                             "box": [{"r0": 0, "r1": 1, "c0": 0,
                                                                                      "c1": 6}]}})
