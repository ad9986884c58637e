"""Altair chart builders for the autoencoder page: data in, `alt.Chart` out, no Streamlit.

- `latent_map`: the 2-D codes of held-out digits, each drawn as its own digit in its class colour,
  clickable (nearest point), with a cross at the decoded point and an optional walk path.
- `error_by_latent`: held-out reconstruction error against the latent size, with the "no code"
  baseline (always drawing the average digit).
- `upscale`: a (28, 28) image -> crisp, larger pixels for st.image on a projector.
"""
from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd

from bigmodel_core.charts.images import png_data_url

PICK = "pick"                 # name of the click selection on the latent map
DIGIT_COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"]   # Tableau 10, one per digit


def latent_map_frame(codes: np.ndarray, labels: np.ndarray) -> pd.DataFrame:
    """Long form: one row per digit with z1, z2, its label (as text) and its held-out index."""
    codes = np.asarray(codes, dtype=np.float64)
    return pd.DataFrame({"z1": codes[:, 0].round(3), "z2": codes[:, 1].round(3),
                         "digit": np.asarray(labels).astype(str), "idx": np.arange(len(codes))})


def _latent_layers(digits_data, marker_data, path_data, domain, font_size: int) -> list:
    """The map's layers; each *_data is a DataFrame or None (layer left out)."""
    x = alt.X("z1:Q", title="z₁", scale=alt.Scale(domain=list(domain[:2]), nice=False))
    y = alt.Y("z2:Q", title="z₂", scale=alt.Scale(domain=list(domain[2:]), nice=False))
    pick = alt.selection_point(name=PICK, fields=["idx"], on="click", nearest=True, clear=False)
    color = alt.Color("digit:N", scale=alt.Scale(domain=[str(d) for d in range(10)], range=DIGIT_COLORS),
                      legend=None)                      # each mark is its own digit: no legend needed
    digits = alt.Chart(digits_data).mark_text(fontSize=font_size, fontWeight="bold").encode(
        x=x, y=y, text="digit:N", color=color,
        opacity=alt.value(0.8),
        tooltip=[alt.Tooltip("digit:N"), alt.Tooltip("idx:Q", title="#"),
                 alt.Tooltip("z1:Q", format=".2f"), alt.Tooltip("z2:Q", format=".2f")],
    ).add_params(pick)
    layers = [digits]
    if path_data is not None:
        line = alt.Chart(path_data).mark_line(color="black", strokeWidth=2.5, strokeDash=[6, 3]).encode(
            x=x, y=y, order="order:Q")
        layers += [line, alt.Chart(path_data).mark_circle(color="black", size=40).encode(x=x, y=y)]
    if marker_data is not None:
        layers += [alt.Chart(marker_data).mark_point(shape="circle", size=900, strokeWidth=3, color="black",
                                                     filled=False).encode(x=x, y=y),
                   alt.Chart(marker_data).mark_point(shape="cross", size=260, color="black",
                                                     filled=True).encode(x=x, y=y)]
    return layers


def _marker_frame(marker: tuple[float, float]) -> pd.DataFrame:
    return pd.DataFrame({"z1": [float(marker[0])], "z2": [float(marker[1])]})


def _path_frame(path: np.ndarray) -> pd.DataFrame:
    path = np.asarray(path)
    return pd.DataFrame({"z1": path[:, 0], "z2": path[:, 1], "order": np.arange(len(path))})


def _finish(layers: list, width: int, height: int, title: str):
    chart = alt.layer(*layers).properties(width=width, height=height).configure_axis(
        labelFontSize=13, titleFontSize=16)
    return chart.properties(title=title) if title else chart


def latent_map(codes: np.ndarray, labels: np.ndarray, *, marker: tuple[float, float] | None = None,
               path: np.ndarray | None = None, domain: tuple[float, float, float, float] | None = None,
               width: int = 500, height: int = 420, title: str = "", font_size: int = 14) -> alt.Chart:
    """Scatter of 2-D codes (N <= 5,000), each a coloured digit; click selects the nearest one.

    marker: the (z1, z2) being decoded, drawn as a black cross in a ring.
    path: (S, 2) codes of a latent walk, drawn as a line with dots.
    domain: (z1_lo, z1_hi, z2_lo, z2_hi) so the axes do not jump when the marker moves.
    In Streamlit: st.altair_chart(chart, on_select=...) -> selection[PICK] == [{"idx": i}].
    """
    df = latent_map_frame(codes, labels)
    if len(df) > 5000:
        raise ValueError("at most 5,000 points (Altair's limit): downsample first")
    if domain is None:
        domain = (0.0, float(df.z1.max()) * 1.05 + 1e-6, 0.0, float(df.z2.max()) * 1.05 + 1e-6)
    layers = _latent_layers(df, None if marker is None else _marker_frame(marker),
                            None if path is None else _path_frame(path), domain, font_size)
    return _finish(layers, width, height, title)


def error_by_latent(errors: dict[int, float], *, baseline: float | None = None,
                    highlight: int | None = None, extra: dict[str, tuple[int, float]] | None = None,
                    y_title: str = "held-out BCE per pixel", x_title: str = "latent size",
                    baseline_label: str = "no code (average digit)", series_labels: tuple[str, str] = ("shipped", "yours"),
                    width: int = 380, height: int = 280) -> alt.Chart:
    """Reconstruction error vs latent size: one point per shipped model, joined by a line.

    baseline: the error of always drawing the average digit (a dashed rule).
    highlight: the latent size to draw larger. extra: {"name": (latent, error)} for the learner's own model.
    """
    rows = [{"latent": d, "error": e, "series": series_labels[0], "big": d == highlight}
            for d, e in sorted(errors.items())]
    for _, (d, e) in (extra or {}).items():
        rows.append({"latent": d, "error": e, "series": series_labels[1], "big": True})
    df = pd.DataFrame(rows)
    x = alt.X("latent:Q", title=x_title, scale=alt.Scale(type="log", base=2, domain=[1.5, 48]),
              axis=alt.Axis(values=[2, 4, 8, 16, 32], format="d", labelFontSize=14, titleFontSize=15))
    y = alt.Y("error:Q", title=y_title, scale=alt.Scale(zero=False),
              axis=alt.Axis(labelFontSize=13, titleFontSize=15))
    color = alt.Color("series:N", title=None, scale=alt.Scale(domain=list(series_labels),
                                                             range=["#1f77b4", "#d62728"]),
                      legend=alt.Legend(orient="top", labelFontSize=14))
    base = alt.Chart(df).encode(x=x, y=y, color=color)
    line = base.transform_filter(f"datum.series == '{series_labels[0]}'").mark_line(strokeWidth=3)
    dots = base.mark_point(filled=True).encode(
        size=alt.condition("datum.big", alt.value(260), alt.value(110)),
        tooltip=[alt.Tooltip("latent:Q"), alt.Tooltip("error:Q", format=".4f")])
    text = base.mark_text(dy=-16, fontSize=14, fontWeight="bold").encode(text=alt.Text("error:Q", format=".3f"))
    layers = [line, dots, text]
    if baseline is not None:
        bdf = pd.DataFrame({"error": [baseline], "label": [baseline_label]})
        rule = alt.Chart(bdf).mark_rule(strokeDash=[6, 4], color="gray", strokeWidth=2).encode(y="error:Q")
        label = alt.Chart(bdf).mark_text(align="right", dy=10, fontSize=13, color="gray").encode(
            y="error:Q", text="label:N", x=alt.value(width - 4))         # just under the line, inside
        layers += [rule, label]
    return alt.layer(*layers).properties(width=width, height=height)


def upscale(image: np.ndarray, scale: int = 8) -> np.ndarray:
    """(H, W) in [0, 1] -> (H*scale, W*scale) with nearest-neighbour pixels (crisp on a projector)."""
    img = np.clip(np.asarray(image, dtype=np.float32), 0.0, 1.0)
    return img.repeat(scale, 0).repeat(scale, 1)


def digit_sheet(images: np.ndarray, cols: int = 40) -> str:
    """Many 28 x 28 digits in [0, 1] tiled row by row into one lossless grey PNG, as a data URL:
    digit i sits at column i % cols, row i // cols. MNIST's 0..255 levels come through exactly, and
    1,000 digits take ~0.3 MB instead of 1 MB as raw bytes (the browser crops the one it shows)."""
    pixels = np.rint(np.asarray(images, dtype=np.float64).reshape(-1, 28, 28) * 255).clip(0, 255).astype(np.uint8)
    n = len(pixels)
    rows = -(-n // cols)
    sheet = np.zeros((rows * cols, 28, 28), np.uint8)
    sheet[:n] = pixels
    sheet = sheet.reshape(rows, cols, 28, 28).transpose(0, 2, 1, 3).reshape(rows * 28, cols * 28)   # (rows*28, cols*28)
    return png_data_url(sheet)                                     # a 2-D array: a grey PNG
