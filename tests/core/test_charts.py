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
