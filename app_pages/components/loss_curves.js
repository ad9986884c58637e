// Loss functions, drawn in the browser (Streamlit components v2, no framework, no CDN).
//
// Every loss on the page is closed-form, so the prediction, the target, Huber's delta, the three
// logits and the true class redraw here in one frame, with no server rerun. The page mounts this
// explorable twice: data.part = "regression" (one prediction against a target) or "classification"
// (three logits -> softmax -> cross-entropy and MSE on the probabilities). The same formulas as
// bigmodel_core/ops/losses.py (`pointwise_loss` and its autograd gradient, `regression_curves`,
// `classify`, `true_logit_sweep`); a browser test compares them on random cases:
//
//     r = yhat - y     MSE = r^2 (grad 2r)    MAE = |r| (grad sign r, 0 at r = 0)
//     Huber_delta = r^2 / 2 if |r| <= delta else delta (|r| - delta / 2)   (grad r or delta sign r)
//     q = softmax(z)   CE = -log q_y (grad q - y)
//     MSE(q, y) = 1/K sum (q_i - y_i)^2   (grad (diag(q) - q q^T) 2/K (q - y), the softmax's Jacobian)
//
// Settings go back to Python (setStateValue) 0.6 s after the last move, for the address bar only.

export const REGRESSION_LOSSES = ["mse", "mae", "huber"];

// ---- the arithmetic (pure, exported for the browser test) ----------------------------------------

/** [loss, d loss / d prediction] of one prediction (ops.losses.pointwise_loss + autograd). */
export function regressionPoint(name, pred, target, delta = 1) {
  const r = pred - target;
  const sign = r > 0 ? 1 : r < 0 ? -1 : 0;
  if (name === "mse") return [r * r, 2 * r];
  if (name === "mae") return [Math.abs(r), sign];
  if (name === "huber") return Math.abs(r) <= delta ? [0.5 * r * r, r] : [delta * (Math.abs(r) - 0.5 * delta), delta * sign];
  throw new Error(`unknown loss ${name}`);
}

/** Each loss and its gradient over n predictions in [lo, hi] (ops.losses.regression_curves). */
export function regressionCurves(target, lo, hi, delta = 1, n = 241) {
  const x = linspace(lo, hi, n);
  const out = { x };
  for (const name of REGRESSION_LOSSES) {
    const value = new Float64Array(n), grad = new Float64Array(n);
    for (let i = 0; i < n; i++) [value[i], grad[i]] = regressionPoint(name, x[i], target, delta);
    out[name] = { value, grad };
  }
  return out;
}

/** Softmax, both classification losses and their gradients w.r.t. the logits (ops.losses.classify). */
export function classify(z, y) {
  const K = z.length;
  const m = Math.max(...z);
  const e = z.map((v) => Math.exp(v - m));
  const sum = e.reduce((a, b) => a + b, 0);
  const q = e.map((v) => v / sum);
  const lse = m + Math.log(sum);
  const target = z.map((_, i) => (i === y ? 1 : 0));
  const ceGrad = q.map((v, i) => v - target[i]);
  const mse = q.reduce((a, v, i) => a + (v - target[i]) ** 2, 0) / K;
  const g = q.map((v, i) => (2 / K) * (v - target[i]));          // dMSE/dq
  const qg = q.reduce((a, v, i) => a + v * g[i], 0);
  const mseGrad = q.map((v, i) => v * (g[i] - qg));              // (diag(q) - q q^T) g
  return { logits: z.slice(), probs: q, target, ce: lse - z[y], ceGrad, mse, mseGrad };
}

/** The true class's logit moved over [lo, hi]: both losses and |dL/dz_y| (ops.losses.true_logit_sweep). */
export function trueLogitSweep(z, y, lo = -8, hi = 8, n = 161) {
  const zs = linspace(lo, hi, n);
  const out = { z: zs, cross_entropy: { value: new Float64Array(n), push: new Float64Array(n) },
    mse_probs: { value: new Float64Array(n), push: new Float64Array(n) } };
  for (let i = 0; i < n; i++) {
    const zz = z.slice();
    zz[y] = zs[i];
    const c = classify(zz, y);
    out.cross_entropy.value[i] = c.ce; out.cross_entropy.push[i] = Math.abs(c.ceGrad[y]);
    out.mse_probs.value[i] = c.mse; out.mse_probs.push[i] = Math.abs(c.mseGrad[y]);
  }
  return out;
}

/** Heights for the value labels beside the point, at least gap apart: from the highest value down, each
 *  label sits at its value unless that is too close to the one above, then just below it. */
export function spreadLabels(values, gap) {
  const names = Object.keys(values).sort((a, b) => values[b] - values[a]);
  const out = {};
  let above = null;
  for (const n of names) {
    out[n] = above === null ? values[n] : Math.min(values[n], above - gap);
    above = out[n];
  }
  return out;
}

/** Python's "{:+.Nf}". */
export const signed = (v, d) => (v >= 0 && !Object.is(v, -0) ? "+" : "") + v.toFixed(d);

// ---- the picture ---------------------------------------------------------------------------------

const vec = (a, d = 3, f = fmt) => `(${a.map((v) => f(v, d)).join(", ")})`;

function metricCell(parent) {
  const cell = el("div", "lc-metric");
  const label = el("div", "lc-metric-label"), value = el("div", "lc-metric-value");
  cell.append(label, value);
  parent.append(cell);
  return { label, value };
}

/** A row of colour swatches naming the curves. */
function legend(names, data) {
  const row = el("div", "lc-legend-row");
  for (const n of names) {
    const item = el("span", "lc-key", data.names[n]);
    item.style.setProperty("--lc-colour", data.colors[n]);
    row.append(item);
  }
  return row;
}

function buildRegression(root, data) {
  const L = data.labels;
  const top = el("div", "lc-top");
  const controls = el("div", "lc-controls");
  const P = slider("pred", L.pred, data.pred_range[0], data.pred_range[1], 0.05, "lc-slider");
  const T = slider("target", L.target, -3, 3, 0.1, "lc-slider");
  const D = slider("delta", L.delta, 0.1, 3, 0.1, "lc-slider");
  D.wrap.title = L.delta_help;
  controls.append(P.wrap, T.wrap, D.wrap);
  const charts = el("div", "lc-charts");
  const loss = makePlot(charts, "lc-plot"), grad = makePlot(charts, "lc-plot");
  charts.append(legend(REGRESSION_LOSSES, data));
  top.append(controls, charts);
  const metrics = el("div", "lc-metrics");
  const cells = REGRESSION_LOSSES.flatMap(() => [metricCell(metrics), metricCell(metrics)]);
  const formula = el("div", "lc-formula");
  root.append(top, metrics, formula);
  return { P, T, D, loss, grad, cells, formula };
}

function buildClassification(root, data) {
  const L = data.labels;
  const top = el("div", "lc-top lc-top-cls");
  const controls = el("div", "lc-controls");
  const Z = data.classes.map((name, i) => slider(`z${i}`, fill(L.logit, { name }), data.logit_range[0],
    data.logit_range[1], 0.1, "lc-slider"));
  const truth = el("fieldset", "lc-truth");
  truth.append(el("legend", "lc-legend", L.true_class));
  const radios = data.classes.map((name, i) => {
    const lab = el("label", "lc-radio");
    const input = el("input");
    Object.assign(input, { type: "radio", name: "true_class", value: String(i) });
    lab.append(input, el("span", "", name));
    truth.append(lab);
    return input;
  });
  controls.append(...Z.map((s) => s.wrap), truth);
  const barsBox = el("div", "lc-bars-box");
  const bars = svg("svg", { viewBox: "0 0 420 270", class: "lc-plot lc-bars", role: "img" });
  const caption = el("div", "lc-caption");
  barsBox.append(bars, caption);
  const sweepBox = el("div", "lc-sweep");
  const sweep = makePlot(sweepBox, "lc-plot", { width: 300, height: 270, margin: [30, 14, 44, 50] });
  sweepBox.append(legend(["cross_entropy", "mse_probs"], data));
  top.append(controls, barsBox, sweepBox);
  const metrics = el("div", "lc-metrics");
  const cells = [0, 1, 2, 3].map(() => metricCell(metrics));
  const formula = el("div", "lc-formula");
  root.append(top, metrics, formula);
  return { Z, radios, bars, caption, sweep, cells, formula };
}

/** The three bar panels: softmax p on [0, 1], both gradients on one shared [-1, 1] scale. */
function drawBars(g, c, y, data) {
  const L = data.labels;
  g.replaceChildren();
  const panels = [[L.panel_probs, c.probs, "#7f7f7f", [0, 1]], [L.panel_ce, c.ceGrad, data.colors.cross_entropy, [-1, 1]],
    [L.panel_mse, c.mseGrad, data.colors.mse_probs, [-1, 1]]];
  const W = 130, top = 40, bottom = 240;
  panels.forEach(([title, values, colour, [lo, hi]], p) => {
    const x0 = 10 + p * (W + 10);
    const Y = linear(lo, hi, bottom, top);
    const t = svg("text", { x: x0, y: 16, class: "pl-title lc-panel-title" });
    t.textContent = title;
    g.append(t, svg("line", { x1: x0, x2: x0 + W, y1: Y(0), y2: Y(0), stroke: "#555" }));
    values.forEach((v, i) => {
      const bx = x0 + 10 + i * 40, vy = Y(Math.max(lo, Math.min(hi, v)));
      const bar = svg("rect", { x: bx, y: Math.min(vy, Y(0)), width: 28, height: Math.abs(Y(0) - vy), fill: colour,
        stroke: i === y ? "#000" : "none", "stroke-width": i === y ? 3 : 0 });
      const label = svg("text", { x: bx + 14, y: v >= 0 ? vy - 5 : vy + 15, "text-anchor": "middle", class: "lc-bar-value" });
      label.textContent = p === 0 ? fmt(v, 2) : signed(v, 2);
      const name = svg("text", { x: bx + 14, y: bottom + 20, "text-anchor": "middle", class: "lc-bar-name" });
      name.textContent = data.classes[i];
      g.append(bar, label, name);
    });
  });
}

const STATE = new WeakMap();   // parentElement -> {root, ui, settings, server, pending}

export default function (component) {
  const { data, parentElement, setStateValue } = component;
  if (!data || !data.part) return;
  const L = data.labels;
  let st = STATE.get(parentElement);
  if (!st || st.lang !== data.lang || st.part !== data.part) {
    const root = mountRoot(parentElement, "lc-root");
    root.replaceChildren();
    root.dataset.part = data.part;
    const ui = data.part === "regression" ? buildRegression(root, data) : buildClassification(root, data);
    st = { root, ui, lang: data.lang, part: data.part, settings: null, server: null };
    STATE.set(parentElement, st);
  }
  const server = JSON.stringify(data.settings);
  if (st.server !== server) {                     // a link or the first render: the server wins,
    if (server !== st.pending) st.settings = { ...data.settings };   // unless it echoes our own commit
    st.server = server;
  }
  st.setStateValue = setStateValue;
  st.commit ??= debounce(() => {
    st.pending = JSON.stringify(st.settings);
    st.setStateValue("settings", { ...st.settings });
  }, 600);
  const ui = st.ui;
  const names = data.names;

  function drawRegression() {
    const { pred, target, delta } = st.settings;
    ui.P.input.value = pred; ui.P.out.textContent = fmt(pred, 2);
    ui.T.input.value = target; ui.T.out.textContent = fmt(target, 1);
    ui.D.input.value = delta; ui.D.out.textContent = fmt(delta, 1);
    for (const s of [ui.P, ui.T, ui.D]) s.input.setAttribute("aria-valuetext", s.out.textContent);
    const [lo, hi] = data.pred_range;
    const curves = regressionCurves(target, lo, hi, delta, 241);
    const pts = Object.fromEntries(REGRESSION_LOSSES.map((n) => [n, regressionPoint(n, pred, target, delta)]));
    for (const [plot, key, k, title, yTitle] of [[ui.loss, "value", 0, L.loss_title, L.loss_axis],
      [ui.grad, "grad", 1, L.grad_title, L.grad_axis]]) {
      let ylo = 0, yhi = 0;
      for (const n of REGRESSION_LOSSES) for (const v of curves[n][key]) { ylo = Math.min(ylo, v); yhi = Math.max(yhi, v); }
      const pad = 0.05 * (yhi - ylo || 1);
      ylo -= ylo < 0 ? pad : 0; yhi += pad;
      const current = Object.fromEntries(REGRESSION_LOSSES.map((n) => [n, pts[n][k]]));
      const ly = spreadLabels(current, 17 * (yhi - ylo) / (plot.Y0 - plot.Y1));
      plot.draw({ x: [Math.min(0, lo), Math.max(0, hi)], y: [ylo, yhi], title, xTitle: L.pred_axis, yTitle,
        hrules: [{ y: 0 }],
        curves: REGRESSION_LOSSES.map((n) => ({ xs: curves.x, ys: curves[n][key], stroke: data.colors[n], width: 3.5 })),
        vrules: [{ x: target, dash: "6 4", width: 2, label: fill(L.target_label, { y: fmt(target, 1) }) }, { x: pred }],
        points: REGRESSION_LOSSES.map((n) => ({ x: pred, y: current[n], fill: data.colors[n], label: fmt(current[n], 2), ly: ly[n] })) });
    }
    REGRESSION_LOSSES.forEach((n, i) => {
      ui.cells[2 * i].label.textContent = names[n];
      ui.cells[2 * i].value.textContent = fmt(pts[n][0], 3);
      ui.cells[2 * i + 1].label.textContent = fill(L.grad_of, { name: names[n] });
      ui.cells[2 * i + 1].value.textContent = signed(pts[n][1], 3);
    });
    const r = pred - target;
    ui.formula.replaceChildren(
      el("div", "lc-eq", `MSE = 1/n Σ (yᵢ − ŷᵢ)²  =(n=1)  (${fmt(target, 2)} − (${fmt(pred, 2)}))² = ${fmt(pts.mse[0], 3)},`
        + `   ∂MSE/∂ŷ = 2(ŷ − y) = ${signed(pts.mse[1], 3)}`),
      el("div", "lc-eq", `MAE = 1/n Σ |yᵢ − ŷᵢ| = ${fmt(pts.mae[0], 3)},   ∂MAE/∂ŷ = sign(ŷ − y) = ${signed(pts.mae[1], 0)}`),
      el("div", "lc-eq", `Huber_δ = ½ r² (|r| ≤ δ), δ(|r| − ½δ) (|r| > δ);   r = ŷ − y = ${signed(r, 2)}, δ = ${fmt(delta, 1)}:`
        + `  ${fmt(pts.huber[0], 3)},   ∂/∂ŷ = ${signed(pts.huber[1], 3)}`));
    Object.assign(st.root.dataset, { pred: String(pred), target: String(target), delta: String(delta),
      values: JSON.stringify(REGRESSION_LOSSES.map((n) => pts[n])) });
  }

  function drawClassification() {
    const s = st.settings;
    const z = data.classes.map((_, i) => s[`z${i}`]);
    const y = s.true_class;
    ui.Z.forEach((sl, i) => {
      sl.input.value = z[i]; sl.out.textContent = fmt(z[i], 1);
      sl.input.setAttribute("aria-valuetext", sl.out.textContent);
    });
    ui.radios[y].checked = true;
    const c = classify(z, y);
    const name = data.classes[y];
    drawBars(ui.bars, c, y, data);
    ui.caption.textContent = fill(L.bars_caption, { name });
    const sw = trueLogitSweep(z, y, data.logit_range[0], data.logit_range[1], 121);
    const now = { cross_entropy: Math.abs(c.ceGrad[y]), mse_probs: Math.abs(c.mseGrad[y]) };
    ui.sweep.draw({ x: data.logit_range, y: [0, 1.05], title: fill(L.sweep_title, { name }),
      xTitle: fill(L.sweep_x, { name }), yTitle: L.sweep_y,
      curves: ["cross_entropy", "mse_probs"].map((n) => ({ xs: sw.z, ys: sw[n].push, stroke: data.colors[n], width: 3.5 })),
      vrules: [{ x: z[y] }],
      points: ["cross_entropy", "mse_probs"].map((n) => ({ x: z[y], y: now[n], fill: data.colors[n], label: fmt(now[n], 2) })) });
    const ratio = Math.abs(c.ceGrad[y]) / Math.max(Math.abs(c.mseGrad[y]), 1e-12);
    [[fill(L.metric_p, { name }), fmt(c.probs[y], 3)], [names.cross_entropy, fmt(c.ce, 3)],
      [names.mse_probs, fmt(c.mse, 3)], [L.metric_ratio, `${fmt(ratio, 1)}×`]].forEach(([label, value], i) => {
      ui.cells[i].label.textContent = label;
      ui.cells[i].value.textContent = value;
    });
    ui.formula.replaceChildren(
      el("div", "lc-eq", `pᵢ = softmax(z)ᵢ = e^zᵢ / Σⱼ e^zⱼ:   z = ${vec(z, 2)} → p = ${vec(c.probs)}`),
      el("div", "lc-eq", `H(p, q) = −Σᵢ pᵢ log qᵢ → CE = −Σᵢ yᵢ log pᵢ = −log p_${name} = −log ${fmt(c.probs[y], 4)} = ${fmt(c.ce, 3)}`),
      el("div", "lc-eq", `∂CE/∂z = p − y = ${vec(c.probs)} − ${vec(c.target, 0)} = ${vec(c.ceGrad, 3, signed)}`),
      el("div", "lc-eq", `MSE(p, y) = ⅓ Σᵢ (pᵢ − yᵢ)² = ${fmt(c.mse, 3)},   ∂MSE/∂z = (diag(p) − p pᵀ) ⅔ (p − y) = ${vec(c.mseGrad, 4, signed)}`));
    Object.assign(st.root.dataset, { logits: JSON.stringify(z), trueClass: String(y), probs: JSON.stringify(c.probs),
      ce: String(c.ce), mse: String(c.mse), ceGrad: JSON.stringify(c.ceGrad), mseGrad: JSON.stringify(c.mseGrad) });
  }

  const draw = () => {
    (data.part === "regression" ? drawRegression : drawClassification)();
    markDrawn(st.root);
  };
  st.root.oninput = (e) => {
    const t = e.target;
    st.settings[t.name] = Number(t.value);                     // every control here is a number
    draw();                                                     // painted in the next frame
    st.commit();                                                // the URL hears it once the moves stop
  };
  draw();
}
