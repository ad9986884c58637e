"""How every page that trains tells the learner what its run amounted to (bigmodel_core.train.outcome):
diverged (and which control to turn), stopped, or finished no better than guessing. One wording for all."""
from __future__ import annotations

import math

from app_pages._ui import t


def number(v: float) -> str:
    """A loss for a sentence: 3 significant digits, never "inf" or "nan"."""
    if not math.isfinite(v):
        return "∞" if v > 0 else "—"
    return f"{v:.3g}"


def diverged_text(step: int, how: str | None, first: float | None, loss: float | None, factor: float) -> str:
    """Why the run was ended, with the numbers that show it."""
    if how == "exploded" and first is not None and loss is not None and math.isfinite(loss):
        return t("train.diverged_exploded", step=step, first=number(first), loss=number(loss),
                 factor=f"{factor:,.0f}")
    return t("train.diverged_nonfinite", step=step)


def lr_advice(control: str, value: float, suggest: str, chance: bool = False) -> str:
    """What to change, naming the learning-rate control on the page."""
    return t("train.advice_chance" if chance else "train.advice_lr", control=control, value=f"{value:g}",
             suggest=suggest)
