// The regularization A/B, replayed in the browser from training snapshots (components v2, no framework).
//
// Python trains (bigmodel_core.regularization.train_run) and keeps up to 40 evaluations per run,
// evenly spread (FrameKeeper): the numbers, the weights' histogram and the network's output on the
// drawing grid (float32). It sends them once; the "training step" slider then only picks a frame,
// so the panels redraw here with no rerun and no retraining:
//
//   - which frame a step shows: the last one at or before it (regularization.frame_at);
//   - the fit (the curve, or the decision map with its boundary: regularization.decision_edges);
//   - the loss curves up to that step, the histogram with its exact zeros, the numbers, and the two
//     penalties of the course text with that frame's numbers:
//         J_L1 = J + lambda_1 * sum |theta|,   J_L2 = J + lambda_2 * sum theta^2.
//
// Nothing goes back to the server: the step is a way of looking at a finished run.

// ---- the arithmetic (pure, exported for the browser test) ----------------------------------------

/** Index of the last frame whose step is <= step (0 when none is): regularization.frame_at. */
export function frameAt(steps, step) {
  let lo = 0, hi = steps.length - 1, best = 0;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (steps[mid] <= step) { best = mid; lo = mid + 1; } else hi = mid - 1;
  }
  return best;
}

/** Cells of a (g, g) map of P(class 1) where the class flips to the right or above (row = y):
 *  regularization.decision_edges. Returns a Uint8Array of 0/1, row-major. */
export function boundary(p, g) {
  const cls = new Uint8Array(g * g), edge = new Uint8Array(g * g);
  for (let q = 0; q < g * g; q++) cls[q] = (Number.isNaN(p[q]) ? 0.5 : p[q]) > 0.5 ? 1 : 0;
  for (let i = 0; i < g; i++) {
    for (let j = 0; j < g; j++) {
      const q = i * g + j;
      if (j < g - 1 && cls[q] !== cls[q + 1]) edge[q] = 1;
      if (i < g - 1 && cls[q] !== cls[q + g]) edge[q] = 1;
    }
  }
  return edge;
}

/** J + lambda * sum: a penalized loss with its parts (the formula panel's numbers). */
export function penalized(J, lambda, sum) {
  return { J, penalty: lambda * sum, total: J + lambda * sum };
}

// ---- the pictures --------------------------------------------------------------------------------

const C = { train: "#1f77b4", val: "#d62728", gap: "#ff9896", fit: "#2ca02c", truth: "#888888",
  class0: "#1f77b4", class1: "#ff7f0e", zero: "#d62728", bar: "#7f7f7f" };
const FW = 360, FH = 190, LW = 360, LH = 120, HW = 360, HH = 90;     // plot areas (viewBox units)
const PAD = { l: 46, r: 10, t: 8, b: 30 };

function frameBox(w, h) {
  const s = svg("svg", { viewBox: `0 0 ${w + PAD.l + PAD.r} ${h + PAD.t + PAD.b}`, class: "rr-svg" });
  const g = svg("g", { transform: `translate(${PAD.l},${PAD.t})` });
  s.append(g);
  return [s, g];
}

function text(g, x, y, str, attrs = {}) {
  const t = svg("text", { x, y, ...attrs });
  t.textContent = str;
  g.append(t);
  return t;
}

function axes(g, w, h, xTicks, yTicks, xLabel, yLabel) {
  g.append(svg("rect", { x: 0, y: 0, width: w, height: h, class: "rr-frame" }));
  for (const [v, px] of xTicks) text(g, px, h + 15, v, { class: "rr-tick", "text-anchor": "middle" });
  for (const [v, py] of yTicks) text(g, -5, py + 4, v, { class: "rr-tick", "text-anchor": "end" });
  text(g, w / 2, h + 28, xLabel, { class: "rr-axis", "text-anchor": "middle" });
  text(g, -PAD.l + 10, h / 2, yLabel, { class: "rr-axis", "text-anchor": "middle",
    transform: `rotate(-90 ${-PAD.l + 10} ${h / 2})` });
}

function linTicks(lo, hi, n = 5) {
  const raw = (hi - lo) / n, mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) || raw;
  const out = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + 1e-9; v += step) out.push(+v.toFixed(6));
  return out;
}

function polyline(pts) {
  return pts.map(([x, y]) => `${x.toFixed(1)},${y.toFixed(1)}`).join(" ");
}

/** The fit: curve over points (1-D) or the P(class 1) map, its boundary and the points (2-D). */
function drawFit(D, side, f, L) {
  const [x0, x1, y0, y1] = D.extent;
  const [s, g] = frameBox(FW, FH);
  const pred = side.pred.subarray(f * D.P, (f + 1) * D.P);
  if (D.kind === "curve") {
    const X = (x) => ((x - x0) / (x1 - x0)) * FW, Y = (y) => FH - ((y - y0) / (y1 - y0)) * FH;
    axes(g, FW, FH, linTicks(x0, x1).map((v) => [v, X(v)]), linTicks(y0, y1, 4).map((v) => [v, Y(v)]), L.x, L.y);
    const clip = (v) => Math.min(Math.max(Number.isNaN(v) ? 0 : v, y0), y1);
    g.append(svg("polyline", { points: polyline(Array.from(D.xs, (x, i) => [X(x), Y(D.truth[i])])),
      class: "rr-truth" }));
    g.append(svg("polyline", { points: polyline(Array.from(D.xs, (x, i) => [X(x), Y(clip(pred[i]))])),
      class: "rr-fit" }));
    for (let i = 0; i < D.px.length; i++) {
      g.append(svg("circle", { cx: X(D.px[i]), cy: Y(D.py[i]), r: 5, class: "rr-point" }));
    }
  } else {
    const n = D.grid, dx = (x1 - x0) / (n - 1), dy = (y1 - y0) / (n - 1);
    const ex0 = x0 - dx / 2, ex1 = x1 + dx / 2, ey0 = y0 - dy / 2, ey1 = y1 + dy / 2;
    const X = (x) => ((x - ex0) / (ex1 - ex0)) * FW, Y = (y) => FH - ((y - ey0) / (ey1 - ey0)) * FH;
    axes(g, FW, FH, linTicks(ex0, ex1).map((v) => [v, X(v)]), linTicks(ey0, ey1, 4).map((v) => [v, Y(v)]), L.x, L.y);
    const edge = boundary(pred, n);
    const cv = document.createElement("canvas");               // one pixel per cell, scaled up sharp
    cv.width = cv.height = n;
    const ctx = cv.getContext("2d");
    const img = ctx.createImageData(n, n);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        const q = i * n + j, p = Number.isNaN(pred[q]) ? 0.5 : pred[q];
        const rgb = edge[q] ? [0, 0, 0] : heatRGB(p).map((v) => 255 - 0.55 * (255 - v));   // 55 % over white
        img.data.set([rgb[0], rgb[1], rgb[2], 255], ((n - 1 - i) * n + j) * 4);           // row 0 at the bottom
      }
    }
    ctx.putImageData(img, 0, 0);
    const cells = svg("image", { x: 0, y: 0, width: FW, height: FH, preserveAspectRatio: "none",
      href: cv.toDataURL(), class: "rr-cells" });
    g.append(cells);
    for (let i = 0; i < D.px.length; i++) {
      g.append(svg("circle", { cx: X(D.px[i]), cy: Y(D.py[i]), r: 5,
        fill: D.plabel[i] > 0.5 ? C.class1 : C.class0, class: "rr-point2" }));
    }
  }
  return s;
}

function heatRGB(p) {                            // 0 -> #9ecae1, 0.5 -> white, 1 -> #fdae6b
  const lo = [0x9e, 0xca, 0xe1], mid = [255, 255, 255], hi = [0xfd, 0xae, 0x6b];
  const [a, b, t] = p < 0.5 ? [lo, mid, p / 0.5] : [mid, hi, (p - 0.5) / 0.5];
  return a.map((v, k) => Math.round(v + (b[k] - v) * t));
}

/** Training and validation loss up to the step (the rest faint), log scale, the gap shaded. */
function drawLoss(D, side, step, L) {
  const [lo, hi] = D.loss_range;
  const [s, g] = frameBox(LW, LH);
  const X = (v) => (v / D.steps) * LW;
  const Y = (v) => LH - ((Math.log10(Math.min(Math.max(v, lo), hi)) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo))) * LH;
  const decades = [];
  for (let e = Math.ceil(Math.log10(lo)); e <= Math.floor(Math.log10(hi)); e++) decades.push([`1e${e}`, Y(10 ** e)]);
  axes(g, LW, LH, linTicks(0, D.steps).map((v) => [v, X(v)]), decades, L.step, L.loss);
  const c = side.curve;
  const ok = (i) => c.train[i] > 0 && c.val[i] > 0 && Number.isFinite(c.train[i]) && Number.isFinite(c.val[i]);
  const idx = c.step.map((_, i) => i).filter(ok);
  const upTo = idx.filter((i) => c.step[i] <= step);
  const line = (ids, key) => polyline(ids.map((i) => [X(c.step[i]), Y(c[key][i])]));
  if (upTo.length > 1) {
    const area = upTo.map((i) => [X(c.step[i]), Y(c.train[i])]).concat(upTo.slice().reverse().map((i) => [X(c.step[i]), Y(c.val[i])]));
    g.append(svg("polygon", { points: polyline(area), fill: C.gap, "fill-opacity": 0.45 }));
  }
  for (const key of ["train", "val"]) {
    g.append(svg("polyline", { points: line(idx, key), class: `rr-line rr-faint rr-${key}` }));
    g.append(svg("polyline", { points: line(upTo, key), class: `rr-line rr-${key}` }));
  }
  if (side.best_step != null) {
    g.append(svg("line", { x1: X(side.best_step), x2: X(side.best_step), y1: 0, y2: LH, class: "rr-best" }));
  }
  g.append(svg("line", { x1: X(step), x2: X(step), y1: 0, y2: LH, class: "rr-now" }));
  const legend = svg("g", { class: "rr-legend" });
  text(legend, LW - 4, 14, L.train, { "text-anchor": "end", fill: C.train });
  text(legend, LW - 4, 30, L.val, { "text-anchor": "end", fill: C.val });
  g.append(legend);
  return s;
}

/** The weights' histogram at that frame (√ count scale) with the exact zeros as a red bar. */
function drawHist(D, side, f, L) {
  const bins = D.bins, counts = side.hist.subarray(f * bins, (f + 1) * bins);
  const edge = side.frames.hist_edge[f], zeros = side.frames.zeros[f];
  let ymax = Math.max(1, zeros);
  for (const v of counts) ymax = Math.max(ymax, v);
  ymax *= 1.15;
  const [s, g] = frameBox(HW, HH);
  const X = (v) => ((v + edge) / (2 * edge)) * HW, Y = (v) => HH - Math.sqrt(v / ymax) * HH;
  axes(g, HW, HH, linTicks(-edge, edge, 4).map((v) => [v, X(v)]), [[String(Math.round(ymax / 1.15)), Y(ymax / 1.15)]],
    L.weight, L.count);
  const w = (2 * edge) / bins;
  for (let b = 0; b < bins; b++) {
    if (!counts[b]) continue;
    g.append(svg("rect", { x: X(-edge + b * w), y: Y(counts[b]), width: Math.max(0.5, X(-edge + (b + 1) * w) - X(-edge + b * w) - 0.3),
      height: HH - Y(counts[b]), fill: C.bar }));
  }
  if (zeros) {
    g.append(svg("rect", { x: X(-w / 2), y: Y(zeros), width: Math.max(2, X(w / 2) - X(-w / 2)), height: HH - Y(zeros), fill: C.zero }));
  }
  text(g, X(w / 2) + 6, 14, fill(L.zeros_label, { zeros }), { class: "rr-zero-label" });
  return s;
}

const STATE = new WeakMap();

export default function (component) {
  const { data, parentElement } = component;
  if (!data || !data.sides) return;
  const L = data.labels;
  const root = mountRoot(parentElement, "rr-root");
  let st = STATE.get(parentElement);
  const signature = data.signature;
  if (st && st.signature === signature && st.lang === data.lang) return;   // a rerun with the same runs: as drawn
  const dec = (b64) => (b64 ? decodeFloat32(b64) : new Float32Array(0));
  const D = { ...data, xs: dec(data.xs), truth: dec(data.truth), px: dec(data.px), py: dec(data.py),
    plabel: dec(data.plabel) };
  const sides = data.sides.map((sd) => ({ ...sd, pred: dec(sd.prediction), hist: dec(sd.hist) }));
  const steps = Array.from(new Set(sides.flatMap((sd) => sd.frames.step))).sort((a, b) => a - b);
  if (!st || st.signature !== signature || st.lang !== data.lang) {
    st = { signature, lang: data.lang, index: steps.length - 1 };    // a new run: show its end
    STATE.set(parentElement, st);
    root.replaceChildren();
    st.head = el("div", "rr-head");
    st.slider = slider("replay_step", L.replay, 0, Math.max(0, steps.length - 1), 1, "rr-slider");
    st.head.append(st.slider.wrap);
    st.cols = el("div", "rr-cols");
    st.panes = sides.map(() => {
      const pane = el("div", "rr-pane");
      const numbers = el("div", "rr-numbers");
      const fit = el("div", "rr-chart"), loss = el("div", "rr-chart"), hist = el("div", "rr-chart");
      const legend = el("div", "rr-key");
      const keys = data.kind === "curve"
        ? [["rr-key-dot", "#222222", L.train_points], ["rr-key-dash", C.truth, L.truth], ["rr-key-line", C.fit, L.model]]
        : [["rr-key-dot", C.class0, L.class0], ["rr-key-dot", C.class1, L.class1]];
      for (const [cls, colour, label] of keys) {
        const item = el("span", "rr-key-item");
        const mark = el("span", cls);
        mark.style.setProperty("--c", colour);
        item.append(mark, label);
        legend.append(item);
      }
      pane.append(numbers, el("div", "rr-title", L.fit_title), legend, fit, el("div", "rr-title", L.loss_title), loss,
        el("div", "rr-title", L.hist_title), hist);
      st.cols.append(pane);
      return { pane, numbers, fit, loss, hist };
    });
    st.formula = el("div", "rr-formula");
    root.append(st.head, st.cols, st.formula);
  }
  st.slider.wrap.hidden = steps.length < 2;

  function draw() {
    const step = steps[st.index];
    st.slider.input.value = st.index;
    st.slider.out.textContent = fill(L.replay_value, { step, total: data.steps });
    st.slider.input.setAttribute("aria-valuetext", st.slider.out.textContent);
    const shown = [];
    sides.forEach((sd, k) => {
      const f = frameAt(sd.frames.step, step);
      const fr = (key) => sd.frames[key][f];
      const ui = st.panes[k];
      const gap = fr("val_loss") - fr("train_loss");
      ui.numbers.replaceChildren(
        ...[[L.train_loss, fmt(fr("train_loss"), 4)], [L.val_loss, fmt(fr("val_loss"), 4)],
          [L.gap, (gap >= 0 ? "+" : "") + fmt(gap, 4)],
          [L.zeros, `${fr("zeros").toLocaleString("en-US")} / ${sd.n_weights.toLocaleString("en-US")}`]]
          .map(([label, value]) => { const s = el("span", "rr-num"); s.append(el("b", "", label), " ", el("code", "", value)); return s; }));
      ui.fit.replaceChildren(drawFit(D, sd, f, L));
      ui.loss.replaceChildren(drawLoss(D, sd, step, L));
      ui.hist.replaceChildren(drawHist(D, sd, f, L));
      shown.push({ step: fr("step"), train: fr("train_loss"), val: fr("val_loss"), zeros: fr("zeros"),
        sum_abs: fr("sum_abs"), sum_sq: fr("sum_sq") });
      Object.assign(ui.pane.dataset, { frame: String(f), step: String(fr("step")), train: String(fr("train_loss")),
        val: String(fr("val_loss")), zeros: String(fr("zeros")) });
    });
    const r = shown[shown.length - 1], lam = data.lambdas;
    const p1 = penalized(r.train, lam[0], r.sum_abs), p2 = penalized(r.train, lam[1], r.sum_sq);
    st.formula.replaceChildren(
      el("div", "rr-formula-title", fill(L.replay_formula, { step: r.step })),
      el("div", "rr-eq", `J_L1 = J + λ₁ Σ|θᵢ| = ${fmt(r.train, 4)} + ${lam[0]} × ${fmt(r.sum_abs, 2)} = ${fmt(p1.total, 4)}`),
      el("div", "rr-eq", `J_L2 = J + λ₂ Σθᵢ² = ${fmt(r.train, 4)} + ${lam[1]} × ${fmt(r.sum_sq, 2)} = ${fmt(p2.total, 4)}`),
    );
    Object.assign(st.formula.dataset, { l1: String(p1.total), l2: String(p2.total) });
    markDrawn(root);
  }
  st.slider.input.oninput = () => {
    st.index = Number(st.slider.input.value);
    draw();
  };
  draw();
}
