"""The robustness page's chart builders: the data they draw, checked through chart.to_dict()."""
import math

import numpy as np

from bigmodel_core.charts.robustness import (accuracy_eps_chart, move_rule, perturbation_image,
                                             probability_pair_spec, rounds_chart)


def rows_of(spec: dict) -> list[dict]:
    return [r for rows in spec.get("datasets", {}).values() for r in rows]


def test_rounds_chart_drops_non_finite_points():
    labels = {"fedavg": "FedAvg", "central": "central", "round": "round", "accuracy": "acc"}
    fed = [{"round": 0, "accuracy": 0.1}, {"round": 1, "accuracy": float("nan")}, {"round": 2, "accuracy": 0.8}]
    spec = rounds_chart(fed, [{"round": 1, "accuracy": float("inf")}], labels=labels, rounds=2).to_dict()
    rows = rows_of(spec)
    assert [(r["series"], r["round"]) for r in rows] == [("FedAvg", 0), ("FedAvg", 2)]
    assert all(math.isfinite(r["accuracy"]) for r in rows)


def test_accuracy_curve_has_one_series_per_curve_and_a_rule_at_eps():
    curves = {"a": [{"eps": 0.0, "accuracy": 0.98}, {"eps": 0.1, "accuracy": 0.8}], "b": [{"eps": 0.1, "accuracy": 0.5}]}
    spec = accuracy_eps_chart(curves, eps=0.07, labels={"eps": "eps", "accuracy": "acc"}).to_dict()
    rows = rows_of(spec)
    assert sorted((r.get("series"), r["eps"]) for r in rows if "series" in r) == [("a", 0.0), ("a", 0.1), ("b", 0.1)]
    assert spec["layer"][1]["data"] == {"name": "chosen_eps"}
    assert spec["datasets"]["chosen_eps"] == [{"eps": 0.07}]             # the rule at the learner's eps
    moved = move_rule(spec, 0.2)
    assert moved["datasets"]["chosen_eps"] == [{"eps": 0.2}] and spec["datasets"]["chosen_eps"] == [{"eps": 0.07}]
    assert moved["layer"] == spec["layer"]                                 # same chart: only the data set moves


def test_probability_pair_spec_has_twenty_bars_and_is_valid_vega_lite():
    import altair as alt
    p0, p1 = np.eye(10)[3], np.eye(10)[8]
    labels = {"clean": "clean", "adversarial": "attacked", "digit": "d", "probability": "p"}
    spec = probability_pair_spec(p0, p1, labels=labels)
    alt.Chart.from_dict(spec)                                                 # validates against the schema
    rows = spec["data"]["values"]
    assert len(rows) == 20
    assert {(r["input"], r["digit"]) for r in rows if r["probability"] == 1.0} == {("clean", "3"), ("attacked", "8")}


def test_perturbation_image_colours_the_sign_at_full_strength():
    delta = np.zeros((28, 28))
    delta[0, 0], delta[0, 1], delta[0, 2] = 0.1, -0.1, 0.05
    img = perturbation_image(delta, eps=0.1)
    assert img.shape == (28, 28, 3) and img.dtype == np.uint8
    assert tuple(img[0, 0]) == (204, 18, 26) and tuple(img[0, 1]) == (26, 76, 217)   # red up, blue down
    assert tuple(img[5, 5]) == (255, 255, 255)                                       # untouched: white
    assert img[0, 2, 1] > img[0, 0, 1]                                               # half eps: paler
