"""Draw assets/icon.png, the browser-tab icon: a 3x3 kernel over a feature map (no network needed;
Streamlit fetches a :material/...: page icon from fonts.gstatic.com, which an offline class lacks).

    python -m scripts.make_icon
"""
from pathlib import Path

import numpy as np
from PIL import Image

OUT = Path(__file__).resolve().parents[1] / "assets" / "icon.png"


def make_icon(size: int = 64) -> Image.Image:
    cells = 4                                              # a 4x4 map of blue shades
    shade = np.array([[0.15, 0.35, 0.6, 0.85], [0.35, 0.6, 0.85, 0.6],
                      [0.6, 0.85, 0.6, 0.35], [0.85, 0.6, 0.35, 0.15]])
    blue = np.array([31, 119, 180])
    img = np.full((size, size, 3), 255, np.uint8)
    step = size // cells
    for r in range(cells):
        for c in range(cells):
            color = (255 - shade[r, c] * (255 - blue)).astype(np.uint8)
            img[r * step + 1:(r + 1) * step - 1, c * step + 1:(c + 1) * step - 1] = color
    red = (255, 45, 85)                                    # the window, as the pages draw it
    end = 3 * step                                         # a 3x3 window at (0, 0), 3 px wide
    for k in range(3):
        img[k:end - k, k] = img[k:end - k, end - 1 - k] = red
        img[k, k:end - k] = img[end - 1 - k, k:end - k] = red
    return Image.fromarray(img)


if __name__ == "__main__":
    make_icon().save(OUT, optimize=True)
    print(f"wrote {OUT}")
