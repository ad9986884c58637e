"""Chart builders are pure: check their specs with to_dict(), no browser."""
import numpy as np
import pandas as pd
import torch

from bigmodel_core.charts import images, spec as charts


def _data(spec: dict) -> list[dict]:
    (rows,) = [v for v in spec["datasets"].values()][:1]
    return rows


def test_heatmap_is_long_form_with_image_orientation():
    a = np.arange(12, dtype=float).reshape(3, 4)
    spec = charts.heatmap(a).to_dict()
    rows = _data(spec)
    assert len(rows) == 12
    cell = next(r for r in rows if r["row"] == 2 and r["col"] == 1)
    assert cell["value"] == a[2, 1] and cell["row2"] == 3 and cell["col2"] == 2
    y = spec["layer"][0]["encoding"]["y"]
    assert y["scale"]["reverse"] is True                  # row 0 at the top, like an image


def test_heatmap_accepts_tensors_labels_selection_and_boxes():
    a = torch.tensor([[1.0, -2.0], [3.0, 4.0]])
    chart = charts.heatmap(a, labels=True, select="cell", boxes=[charts.Box(0, 0, 2, 1)],
                           diverging=True, x_labels=["a", "b"])
    spec = chart.to_dict()
    assert len(spec["layer"]) == 3                         # cells, value labels, outline
    params = spec["params"]                                # Altair hoists layer params
    assert params[0]["name"] == "cell" and params[0]["select"]["fields"] == ["row", "col"]
    assert spec["layer"][0]["encoding"]["color"]["scale"]["domain"] == [-4.0, 4.0]
    assert spec["layer"][1]["mark"]["type"] == "text"
    box_rows = [r for rows in spec["datasets"].values() for r in rows if "r0" in r]
    assert box_rows == [{"r0": 0, "c0": 0, "r1": 2, "c1": 1, "color": "#ff2d55"}]


def test_large_heatmap_is_downsampled_under_altairs_limit_with_the_same_mean():
    a = np.random.default_rng(0).random((200, 130))
    reduced, block = charts.block_reduce(a)
    assert reduced.size <= charts.MAX_CELLS and block == 3
    np.testing.assert_allclose(reduced[0, 0], a[:3, :3].mean())
    rows = _data(charts.heatmap(a).to_dict())
    assert len(rows) <= charts.MAX_CELLS
    assert max(r["row2"] for r in rows) >= 200              # still in the original's coordinates


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
