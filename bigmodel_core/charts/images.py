"""Pictures: arrays to colours and tiles, NumPy images for `st.image`, when there are too many cells
for a chart (Altair refuses more than 5,000 rows; we downsample on purpose instead).

- `colorize`: a 2-D array through a matplotlib colormap to RGB.
- `tile_images`: many small maps (feature maps, filters) as one image.
- `upscale`: nearest-neighbour upscaling, so small pictures stay crisp on a projector.
- `png_data_url`: an RGB picture as a PNG data URL, for a Vega-Lite image mark.
"""
from __future__ import annotations

import base64
import io

import numpy as np



def as_numpy(a) -> np.ndarray:
    """A tensor (on any device) or array-like as a float64 NumPy array."""
    if hasattr(a, "detach"):                                  # a torch tensor, on any device
        a = a.detach().float().cpu().numpy()
    return np.asarray(a, dtype=np.float64)


def upscale(img: np.ndarray, scale: int) -> np.ndarray:
    """Nearest-neighbour upscaling of an (H, W) or (H, W, 3) image: every pixel becomes scale x scale."""
    return img.repeat(scale, 0).repeat(scale, 1)


def colorize(a, cmap: str = "viridis", vmin: float | None = None, vmax: float | None = None) -> np.ndarray:
    """A 2-D array -> (H, W, 3) uint8 RGB through a matplotlib colormap (for st.image)."""
    import matplotlib
    arr = as_numpy(a)
    lo = float(np.nanmin(arr)) if vmin is None else vmin
    hi = float(np.nanmax(arr)) if vmax is None else vmax
    norm = (arr - lo) / (hi - lo) if hi > lo else np.zeros_like(arr)
    rgba = matplotlib.colormaps[cmap](np.clip(norm, 0, 1))
    return (rgba[..., :3] * 255).round().astype(np.uint8)


def tile_images(images, *, ncols: int = 8, pad: int = 1, scale: int = 1, normalize: str = "each",
                pad_value: float = 1.0) -> np.ndarray:
    """(N, H, W) maps -> one (rows*(H+pad), ncols*(W+pad)) float image in [0, 1] for st.image.

    normalize: "each" rescales every map to [0, 1] on its own (feature maps), "all" uses one range.
    scale: nearest-neighbour upscaling so small maps stay crisp on screen.
    """
    imgs = as_numpy(images)
    N, H, W = imgs.shape
    if normalize == "each":
        lo = imgs.reshape(N, -1).min(1)[:, None, None]
        hi = imgs.reshape(N, -1).max(1)[:, None, None]
    else:
        lo, hi = imgs.min(), imgs.max()
    imgs = np.where(hi > lo, (imgs - lo) / np.where(hi > lo, hi - lo, 1), 0.0)
    nrows = -(-N // ncols)
    out = np.full((nrows * (H + pad) - pad, ncols * (W + pad) - pad), pad_value)
    for i in range(N):
        r, c = divmod(i, ncols)
        out[r * (H + pad): r * (H + pad) + H, c * (W + pad): c * (W + pad) + W] = imgs[i]
    return upscale(out, scale) if scale > 1 else out


def png_data_url(rgb: np.ndarray) -> str:
    """(H, W, 3) uint8 -> "data:image/png;base64,..." (fast compression: it is sent once per redraw)."""
    from PIL import Image
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, format="PNG", optimize=False, compress_level=1)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")
