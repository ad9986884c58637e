"""Pictures for the loss-landscape page. Data in, `alt.Chart` (or the arrays an explorable draws) out.

- The toy surfaces' map is a client-side explorable (app_pages/components/landscape_map.js): it gets
  `map_background` (log10(f - f*) on the grid and its iso-line levels) and the paths, and draws them.
- Altair: the loss per step (`loss_curves_chart` over `curve_frame`), a real network's surface as
  contours or a hill-shaded relief (`network_surface_chart`), the loss along a line.

Colour encodes log10(loss - f*) so both the bowl's floor and its walls show; the network's iso-lines
are traced with scikit-image's marching squares (`find_contours`) at evenly spaced log levels.
"""
from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd

# one fixed colour per optimizer, saturated enough to read on a projector over a light background
OPTIMIZER_COLORS = {"gd": "#d62728", "sgd": "#ff7f0e", "momentum": "#2ca02c",
                    "nesterov": "#17becf", "rmsprop": "#1f3fbf", "adam": "#c2189b"}
_AXIS = dict(labelFontSize=14, titleFontSize=15, gridOpacity=0.0)


def log_gap(values: np.ndarray, f_min: float) -> np.ndarray:
    """log10(f - f*), floored 3 decades below the largest value (the colours spread over the map)."""
    gap = np.asarray(values, dtype=float) - f_min
    floor = max(1e-12, float(np.nanmax(gap)) * 1e-3)
    return np.log10(np.maximum(gap, floor))


def iso_levels(z: np.ndarray, levels: int = 12) -> np.ndarray:
    """`levels` evenly spaced values between z's 1st and 99th percentiles (the iso-lines drawn)."""
    lo, hi = np.nanpercentile(z, 1), np.nanpercentile(z, 99)
    return np.linspace(lo, hi, levels + 2)[1:-1]


def map_background(surface, n: int) -> tuple[np.ndarray, list[float]]:
    """A toy surface's map for the browser: (z (n, n) = log_gap on surface.grid(n), iso levels)."""
    _, _, values = surface.grid(n)
    z = log_gap(values, surface.f_min)
    return z, [float(v) for v in iso_levels(z)]


def curve_frame(paths: dict, f_min: float, labels: dict) -> pd.DataFrame:
    """Long form (label, step, gap) of each path's loss above the minimum, up to its divergence."""
    frames = []
    for name, p in paths.items():
        end = p.diverged_at if p.diverged else len(p.losses) - 1
        gap = np.nan_to_num(p.losses[:end + 1] - f_min, nan=1e12, posinf=1e12)
        frames.append(pd.DataFrame({"label": labels[name], "step": np.arange(end + 1),
                                    "gap": np.clip(gap, 1e-12, 1e12)}))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame({"label": [], "step": [], "gap": []})


def iso_lines(xs: np.ndarray, ys: np.ndarray, z: np.ndarray, levels: int = 12,
              max_points: int = 2500) -> pd.DataFrame:
    """Contour lines of z (rows = ys, cols = xs) as long form: line id, order, x, y, level."""
    from skimage.measure import find_contours
    hi = np.nanpercentile(z, 99)
    rows = []
    for k, level in enumerate(iso_levels(z, levels)):
        for m, c in enumerate(find_contours(np.nan_to_num(z, nan=hi), level)):
            r, q = c[:, 0], c[:, 1]                                      # fractional row, col
            x = np.interp(q, np.arange(len(xs)), xs)
            y = np.interp(r, np.arange(len(ys)), ys)
            rows.append(pd.DataFrame({"line": f"{k}-{m}", "order": np.arange(len(x)), "x": x.round(4),
                                      "y": y.round(4)}))
    if not rows:
        return pd.DataFrame(columns=["line", "order", "x", "y"])
    df = pd.concat(rows, ignore_index=True)
    if len(df) > max_points:                                             # thin evenly, keep ends
        keep = (df["order"] % int(np.ceil(len(df) / max_points)) == 0) | \
               (df["order"] == df.groupby("line")["order"].transform("max"))
        df = df[keep]
    return df


def _cells(xs: np.ndarray, ys: np.ndarray, z: np.ndarray, values: np.ndarray | None = None) -> pd.DataFrame:
    """One row per grid cell: centre (x, y), edges (x0, x1, y0, y1), colour value z, raw value."""
    dx, dy = (xs[1] - xs[0]) / 2, (ys[1] - ys[0]) / 2
    Y, X = np.meshgrid(ys, xs, indexing="ij")
    return pd.DataFrame({"x": X.ravel(), "y": Y.ravel(), "x0": X.ravel() - dx, "x1": X.ravel() + dx,
                         "y0": Y.ravel() - dy, "y1": Y.ravel() + dy, "z": z.ravel(),
                         "loss": (values if values is not None else z).ravel()})


def loss_curves_chart(curves: pd.DataFrame, *, color_domain=None, color_range=None, width: int = 360,
                      height: int = 250, x_title: str = "step", y_title: str = "loss − f*",
                      data_name: str | None = None) -> alt.Chart:
    """Loss gap per step on a log axis, one line per optimizer (columns label, step, gap).

    data_name: read the curves from the named data set `data_name` instead (pass them to the
        renderer under that name), so the spec does not change with the data."""
    color = alt.Color("label:N", title=None, legend=None,
                      scale=alt.Scale(domain=color_domain, range=color_range) if color_domain else alt.Undefined)
    source = alt.NamedData(name=data_name) if data_name else curves
    return alt.Chart(source).mark_line(strokeWidth=2.5, clip=True).encode(
        x=alt.X("step:Q", title=x_title, axis=alt.Axis(**_AXIS)),
        y=alt.Y("gap:Q", title=y_title, scale=alt.Scale(type="log"), axis=alt.Axis(format=".0e", tickCount=5, **_AXIS)),
        color=color, tooltip=["label:N", "step:Q", alt.Tooltip("gap:Q", format=".3g")],
    ).properties(width=width, height=height)


def hillshade(z: np.ndarray, azimuth: float = 315.0, altitude: float = 40.0) -> np.ndarray:
    """Lambertian shading in [0, 1] of a height map z (rows = y up), light from the north-west."""
    dzdy, dzdx = np.gradient(z)
    slope = np.pi / 2 - np.arctan(np.hypot(dzdx, dzdy))
    aspect = np.arctan2(-dzdx, dzdy)
    az, alt_ = np.radians(azimuth), np.radians(altitude)
    shade = np.sin(alt_) * np.sin(slope) + np.cos(alt_) * np.cos(slope) * np.cos(az - np.pi / 2 - aspect)
    return np.clip(shade, 0, 1)


def shaded_colors(z: np.ndarray, cmap: str = "terrain", exaggerate: float = 4.0) -> np.ndarray:
    """Hex colours of a colour-mapped, hill-shaded relief of z: (H, W) array of '#rrggbb' strings."""
    import matplotlib
    zn = (z - np.nanmin(z)) / max(1e-12, float(np.nanmax(z) - np.nanmin(z)))
    rgb = matplotlib.colormaps[cmap](0.05 + 0.75 * np.nan_to_num(zn))[..., :3]        # (H, W, 3) sea to hills
    shade = hillshade(zn * exaggerate * z.shape[0] / 10)
    rgb = np.clip(rgb * (0.5 + 0.65 * shade[..., None]), 0, 1)
    u8 = (rgb * 255).round().astype(int)
    return np.array([[f"#{r:02x}{g:02x}{b:02x}" for r, g, b in row] for row in u8])


def network_surface_chart(alphas: np.ndarray, betas: np.ndarray, losses: np.ndarray, *, shaded: bool,
                          path: pd.DataFrame | None = None, labels: dict | None = None, size: int = 400,
                          title: str = "") -> alt.Chart:
    """A real network's loss surface: filled contours with iso-lines, or a hill-shaded relief.

    path: optional long form (step, x, y, label) of the training path projected onto the plane."""
    labels = labels or {}
    z = np.log10(np.maximum(losses, 1e-6))
    cells = _cells(alphas, betas, z, losses)
    xd = [float(alphas[0] - (alphas[1] - alphas[0]) / 2), float(alphas[-1] + (alphas[1] - alphas[0]) / 2)]
    yd = [float(betas[0] - (betas[1] - betas[0]) / 2), float(betas[-1] + (betas[1] - betas[0]) / 2)]
    X = alt.X("x0:Q", scale=alt.Scale(domain=xd, nice=False, zero=False), title=labels.get("x", "α"),
              axis=alt.Axis(**_AXIS))
    Y = alt.Y("y0:Q", scale=alt.Scale(domain=yd, nice=False, zero=False), title=labels.get("y", "β"),
              axis=alt.Axis(**_AXIS))
    tooltip = [alt.Tooltip("x:Q", format=".2f", title=labels.get("x", "α")),
               alt.Tooltip("y:Q", format=".2f", title=labels.get("y", "β")),
               alt.Tooltip("loss:Q", format=".4f", title=labels.get("loss", "loss"))]
    if shaded:
        cells["rgb"] = shaded_colors(z).ravel()
        color = alt.Color("rgb:N", scale=None)
    else:
        color = alt.Color("z:Q", scale=alt.Scale(scheme="viridis"),
                          legend=alt.Legend(title=labels.get("log_loss", "log10 loss"), orient="bottom",
                                            labelFontSize=13, titleFontSize=13, gradientLength=300))
    stroke = alt.Stroke("rgb:N", scale=None) if shaded else alt.Stroke("z:Q", scale=alt.Scale(scheme="viridis"),
                                                                         legend=None)
    layers = [alt.Chart(cells).mark_rect(strokeWidth=0.6, clip=True).encode(x=X, x2="x1:Q", y=Y, y2="y1:Q", color=color,
                                                                  stroke=stroke, tooltip=tooltip)]
    if not shaded:
        lines = iso_lines(alphas, betas, z, levels=14)
        if len(lines):
            layers.append(alt.Chart(lines).mark_line(color="white", strokeWidth=1, opacity=0.7, clip=True)
                          .encode(x="x:Q", y="y:Q", detail="line:N", order="order:Q"))
    if path is not None and len(path):
        layers.append(alt.Chart(path).mark_line(color="#ff2d55", strokeWidth=3, clip=True,
                                                point=alt.OverlayMarkDef(size=50, filled=True, color="#ff2d55"))
                      .encode(x="x:Q", y="y:Q", order="step:Q", tooltip=["label:N", "step:Q"]))
        layers.append(alt.Chart(path.iloc[[0]]).mark_text(fontSize=14, fontWeight="bold", dx=8, align="left",
                                                          color="#ff2d55", clip=True)
                      .encode(x="x:Q", y="y:Q", text="label:N"))
    centre = pd.DataFrame([{"x": 0.0, "y": 0.0, "label": labels.get("trained", "trained")}])
    layers.append(alt.Chart(centre).mark_point(shape="diamond", size=220, filled=True, color="white",
                                               stroke="black", strokeWidth=1.5, opacity=1).encode(x="x:Q", y="y:Q"))
    layers.append(alt.Chart(centre).mark_text(fontSize=14, fontWeight="bold", dy=-18, color="white")
                  .encode(x="x:Q", y="y:Q", text="label:N"))
    chart = alt.layer(*layers).properties(width=size, height=size)
    return chart.properties(title=alt.TitleParams(title, fontSize=16)) if title else chart


def interpolation_chart(alphas: np.ndarray, losses: np.ndarray, *, labels: dict | None = None,
                        width: int = 400, height: int = 260) -> alt.Chart:
    """The loss along the straight line from the initial (a = 0) to the trained (a = 1) weights."""
    labels = labels or {}
    df = pd.DataFrame({"alpha": alphas, "loss": losses})
    marks = pd.DataFrame({"alpha": [0.0, 1.0], "label": [labels.get("init", "init"), labels.get("trained", "trained")]})
    marks["loss"] = np.interp(marks["alpha"], alphas, losses)
    line = alt.Chart(df).mark_line(strokeWidth=3, color="#1f3fbf", point=alt.OverlayMarkDef(size=25)).encode(
        x=alt.X("alpha:Q", title=labels.get("alpha", "α"), axis=alt.Axis(**_AXIS)),
        y=alt.Y("loss:Q", title=labels.get("loss", "loss"), scale=alt.Scale(type="log"), axis=alt.Axis(**_AXIS)),
        tooltip=[alt.Tooltip("alpha:Q", format=".2f"), alt.Tooltip("loss:Q", format=".4f")])
    dots = alt.Chart(marks).mark_point(size=200, filled=True, color="#ff2d55", opacity=1).encode(x="alpha:Q", y="loss:Q")
    text = alt.Chart(marks).mark_text(fontSize=14, fontWeight="bold", dy=-16, color="#ff2d55").encode(
        x="alpha:Q", y="loss:Q", text="label:N")
    return alt.layer(line, dots, text).properties(width=width, height=height)
