// Activation functions, drawn in the browser (Streamlit components v2, no framework, no CDN).
//
// f and f' are closed-form, so the activation, the range R, x0, the saturation threshold and the
// depth N redraw here in one frame, with no server rerun. The same formulas as
// bigmodel_core/ops/activations.py (`activation`, `closed_form_derivative`, `curves`,
// `saturated_regions`, `init_std`); a browser test compares them on random cases:
//
//     sigmoid(x) = 1 / (1 + e^-x)            sigmoid' = s (1 - s)
//     tanh(x)                                tanh'    = 1 - tanh^2
//     relu(x)    = max(0, x)                 relu'    = 1 if x > 0 else 0   (autograd's convention)
//     leaky(x)   = x if x > 0 else a x       leaky'   = 1 if x > 0 else a
//     gelu(x)    = x Phi(x)                  gelu'    = Phi(x) + x phi(x)
//     silu(x)    = x s(x)                    silu'    = s (1 + x (1 - s))
//
// The depth experiment (50 random layers, backpropagated by PyTorch) is not closed-form: Python
// sends its gradient ratios once per initialisation and slope (ops.activations.depth_table), and N
// only picks a column. Settings go back to Python (setStateValue) 0.6 s after the last move, so the
// address bar records them; nothing on the server depends on them.

export const ACTIVATIONS = ["sigmoid", "tanh", "relu", "leaky_relu", "gelu", "silu"];

// ---- the arithmetic (pure, exported for the browser test) ----------------------------------------

/** The error function to double precision: Taylor series near 0, a continued fraction for erfc beyond. */
export function erf(x) {
  const ax = Math.abs(x);
  if (ax < 3) {
    let term = x, sum = x;                          // sum_n (-1)^n x^(2n+1) / (n! (2n+1))
    for (let n = 1; n < 80; n++) {
      term *= -x * x / n;
      const add = term / (2 * n + 1);
      sum += add;
      if (Math.abs(add) < 1e-17 * Math.abs(sum)) break;
    }
    return (2 / Math.sqrt(Math.PI)) * sum;
  }
  // erfc(x) = exp(-x^2) / sqrt(pi) * 1 / (x + 1/2 / (x + 1 / (x + 3/2 / (x + ...)))), Lentz's method
  let f = ax, C = ax, D = 0;
  for (let k = 1; k < 200; k++) {
    const a = k / 2;
    D = ax + a * D; D = 1 / D;
    C = ax + a / C;
    const delta = C * D;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  const erfc = Math.exp(-ax * ax) / Math.sqrt(Math.PI) / f;
  return x > 0 ? 1 - erfc : erfc - 1;
}

const sigmoid = (x) => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x)));

/** [f(x), f'(x)] of one activation (ops.activations.activation and closed_form_derivative). */
export function activation(name, x, slope = 0.01) {
  switch (name) {
    case "sigmoid": { const s = sigmoid(x); return [s, s * (1 - s)]; }
    case "tanh": { const t = Math.tanh(x); return [t, 1 - t * t]; }
    case "relu": return [Math.max(0, x), x > 0 ? 1 : 0];
    case "leaky_relu": return x > 0 ? [x, 1] : [slope * x, slope];
    case "gelu": {
      const Phi = 0.5 * (1 + erf(x / Math.SQRT2));
      const phi = Math.exp(-x * x / 2) / Math.sqrt(2 * Math.PI);
      return [x * Phi, Phi + x * phi];
    }
    case "silu": { const s = sigmoid(x); return [x * s, s * (1 + x * (1 - s))]; }
    default: throw new Error(`unknown activation ${name}`);
  }
}

/** Maximal runs where |f'| < threshold as [start, end] pairs, edges halfway between grid points
 *  (ops.activations.saturated_regions). */
export function saturatedRegions(x, dy, threshold) {
  const out = [];
  let start = null;
  for (let i = 0; i < x.length; i++) {
    const inside = Math.abs(dy[i]) < threshold;
    if (inside && start === null) start = i === 0 ? x[0] : (x[i - 1] + x[i]) / 2;
    if (!inside && start !== null) { out.push([start, (x[i - 1] + x[i]) / 2]); start = null; }
  }
  if (start !== null) out.push([start, x[x.length - 1]]);
  return out;
}

/** f and f' on n points of [lo, hi] and the saturated intervals (ops.activations.curves). */
export function curves(name, lo, hi, n = 241, threshold = 0.05, slope = 0.01) {
  const x = linspace(lo, hi, n);
  const y = new Float64Array(n), dy = new Float64Array(n);
  for (let i = 0; i < n; i++) [y[i], dy[i]] = activation(name, x[i], slope);
  return { x, y, dy, saturated: saturatedRegions(x, dy, threshold) };
}

/** The weight std of Xavier (sqrt(2 / (in + out))) or He (gain / sqrt(in)) (ops.activations.init_std). */
export function initStd(init, fanIn, fanOut, name, slope = 0.01, typical = {}) {
  if (init === "typical") init = typical[name];
  if (init === "xavier") return Math.sqrt(2 / (fanIn + fanOut));
  const a = name === "leaky_relu" ? slope : 0;
  return Math.sqrt(2 / (1 + a * a)) / Math.sqrt(fanIn);
}

/** The formula of f and f', then the same with x0 plugged in (the page's former LaTeX, as text). */
export function formulas(name, x0, slope, L) {
  const [y, d] = activation(name, x0, slope);
  const x = fmt(x0, 2), Y = fmt(y, 4), D = fmt(d, 4);
  switch (name) {
    case "sigmoid": return ["σ(x) = 1 / (1 + e^(−x)),   σ′(x) = σ(x)·(1 − σ(x)) ≤ ¼",
      `σ(${x}) = 1 / (1 + e^(−(${x}))) = ${Y},   σ′(${x}) = ${Y} × ${fmt(1 - y, 4)} = ${D}`];
    case "tanh": return ["tanh(x) = (eˣ − e⁻ˣ) / (eˣ + e⁻ˣ),   tanh′(x) = 1 − tanh²(x) ≤ 1",
      `tanh(${x}) = ${Y},   tanh′(${x}) = 1 − (${Y})² = ${D}`];
    case "relu": return ["ReLU(x) = max(0, x),   ReLU′(x) = 1 (x > 0), 0 (x ≤ 0)",
      `ReLU(${x}) = max(0, ${x}) = ${Y},   ReLU′(${x}) = ${fmt(d, 0)}`];
    case "leaky_relu": return [`LeakyReLU(x) = x (x > 0), a·x (x ≤ 0);   LeakyReLU′(x) = 1 (x > 0), a (x ≤ 0);   a = ${fmt(slope, 2)}`,
      `LeakyReLU(${x}) = ${Y},   LeakyReLU′(${x}) = ${fmt(d, 2)}`];
    case "gelu": {
      const Phi = 0.5 * (1 + erf(x0 / Math.SQRT2)), phi = Math.exp(-x0 * x0 / 2) / Math.sqrt(2 * Math.PI);
      return [`GELU(x) = x·Φ(x),   GELU′(x) = Φ(x) + x·φ(x)   (${L.phi_note})`,
        `GELU(${x}) = ${x} × ${fmt(Phi, 4)} = ${Y},   GELU′(${x}) = ${fmt(Phi, 4)} + ${x} × ${fmt(phi, 4)} = ${D}`];
    }
    default: {
      const s = sigmoid(x0);
      return ["SiLU(x) = x·σ(x),   SiLU′(x) = σ(x)·(1 + x·(1 − σ(x)))",
        `SiLU(${x}) = ${x} × ${fmt(s, 4)} = ${Y},   SiLU′(${x}) = ${fmt(s, 4)} × (1 + ${x} × ${fmt(1 - s, 4)}) = ${D}`];
    }
  }
}

/** A ratio as the page printed it (Python's "{:.3g}" / "{:.2g}"). */
export function gfmt(v, digits) {
  if (v === 0) return "0";
  const [m, ex] = v.toExponential(digits - 1).split("e");     // rounded first, as Python does
  const e = Number(ex);
  if (e < -4 || e >= digits) return `${Number(m)}e${e < 0 ? "-" : "+"}${String(Math.abs(e)).padStart(2, "0")}`;
  return String(Number(v.toPrecision(digits)));
}

// ---- the picture ---------------------------------------------------------------------------------

function build(root, data) {
  const L = data.labels;
  root.replaceChildren();
  const top = el("div", "ac-top");
  const controls = el("div", "ac-controls");
  const focus = el("fieldset", "ac-focus");
  focus.append(el("legend", "ac-legend", L.focus));
  const radios = {};
  for (const name of ACTIVATIONS) {
    const lab = el("label", "ac-radio");
    const input = el("input");
    Object.assign(input, { type: "radio", name: "focus", value: name });
    lab.append(input, el("span", "", data.names[name]));
    lab.style.setProperty("--ac-colour", data.colors[name]);
    focus.append(lab);
    radios[name] = input;
  }
  const R = slider("xmax", L.xmax, 1, 20, 1, "ac-slider");
  const X = slider("x0", L.x0, -6, 6, 0.05, "ac-slider");
  const T = slider("threshold", L.threshold, 0.01, 0.25, 0.01, "ac-slider");
  T.wrap.title = L.threshold_help;
  const cmp = el("label", "ac-check");
  const compare = el("input");
  Object.assign(compare, { type: "checkbox", name: "compare" });
  cmp.append(compare, el("span", "", L.compare));
  controls.append(focus, X.wrap, R.wrap, T.wrap, cmp);
  const charts = el("div", "ac-charts");
  const fPlot = makePlot(charts, "ac-plot");
  const dPlot = makePlot(charts, "ac-plot");
  top.append(controls, charts);
  const at = el("p", "ac-at");
  const formula = el("div", "ac-formula");
  const depthTitle = el("h4", "ac-h", L.depth_title);
  const depthRow = el("div", "ac-depth");
  const depthCtl = el("div", "ac-controls");
  const N = slider("depth", L.depth, 1, data.depth.sigmoid.length - 1, 1, "ac-slider");
  const metric = el("div", "ac-metric");
  const metricLabel = el("div", "ac-metric-label");
  const metricValue = el("div", "ac-metric-value");
  metric.append(metricLabel, metricValue);
  const others = el("div", "ac-others");
  depthCtl.append(N.wrap, metric, others);
  const depthBox = el("div", "ac-depth-chart");
  depthBox.append(el("div", "ac-chart-title", L.depth_chart_title));
  const depthPlot = makePlot(depthBox, "ac-plot ac-plot-wide", { width: 620, height: 330, margin: [12, 56, 44, 62] });
  depthRow.append(depthCtl, depthBox);
  const depthFormula = el("div", "ac-formula");
  root.append(top, at, formula, depthTitle, depthRow, depthFormula);
  return { radios, R, X, T, compare, fPlot, dPlot, at, formula, N, metricLabel, metricValue, others, depthPlot, depthFormula };
}

const STATE = new WeakMap();   // parentElement -> {root, ui, settings, server}

export default function (component) {
  const { data, parentElement, setStateValue } = component;
  if (!data || !data.depth) return;
  const L = data.labels;
  let st = STATE.get(parentElement);
  if (!st || st.lang !== data.lang) {
    const root = mountRoot(parentElement, "ac-root");
    st = { root, ui: build(root, data), lang: data.lang, settings: null, server: null };
    STATE.set(parentElement, st);
  }
  const server = JSON.stringify(data.settings);
  if (st.server !== server) {                     // a link, a reset or the first render: the server wins,
    if (server !== st.pending) st.settings = { ...data.settings };   // unless it echoes our own commit
    st.server = server;
  }
  const ui = st.ui;
  const slope = data.slope;
  st.commit ??= debounce(() => {
    st.pending = JSON.stringify(st.settings);
    st.setStateValue("settings", { ...st.settings });
  }, 600);
  st.setStateValue = setStateValue;
  const commit = st.commit;

  function draw() {
    const s = st.settings;
    const name = s.focus, label = data.names[name];
    const R = s.xmax;
    ui.radios[name].checked = true;
    ui.R.input.value = R; ui.R.out.textContent = `R = ${R}`;
    ui.X.input.min = -R; ui.X.input.max = R; ui.X.input.value = s.x0; ui.X.out.textContent = fmt(s.x0, 2);
    ui.T.input.value = s.threshold; ui.T.out.textContent = fmt(s.threshold, 2);
    ui.compare.checked = s.compare;
    for (const sl of [ui.R, ui.X, ui.T]) sl.input.setAttribute("aria-valuetext", sl.out.textContent);
    const names = s.compare ? ACTIVATIONS : [name];
    const all = Object.fromEntries(names.map((n) => [n, curves(n, -R, R, 241, s.threshold, slope)]));
    const c = all[name];
    const [y0, d0] = activation(name, s.x0, slope);
    const bands = c.saturated.map(([a, b]) => ({ x0: a, x1: b, fill: "#f4b183", label: L.saturated }));
    // f: the y axis fits the focus curve (sigmoid's 0..1 is not squashed by ReLU's 0..R)
    const span = (ys) => { let lo = 0, hi = 0; for (const v of ys) { lo = Math.min(lo, v); hi = Math.max(hi, v); } return [lo, hi]; };
    const pad = ([lo, hi]) => { const p = 0.08 * ((hi - lo) || 1); return [lo - p, hi + p]; };
    const lines = (key) => names.map((n) => ({ xs: all[n].x, ys: all[n][key], stroke: data.colors[n],
      width: n === name ? 4.5 : 2, opacity: n === name ? 1 : 0.45 })).sort((a, b) => a.width - b.width);
    let dlo = 0, dhi = 0;
    for (const n of names) { const [a, b] = span(all[n].dy); dlo = Math.min(dlo, a); dhi = Math.max(dhi, b); }
    ui.fPlot.draw({ x: [-R, R], y: pad(span(c.y)), title: fill(L.f_title, { name: label }), xTitle: "x", yTitle: "f(x)",
      bands, hrules: [{ y: 0 }], curves: lines("y"), vrules: [{ x: s.x0 }],
      points: [{ x: s.x0, y: y0, fill: "#000", label: fmt(y0, 3) }] });
    ui.dPlot.draw({ x: [-R, R], y: pad([dlo, dhi]), title: fill(L.df_title, { name: label }), xTitle: "x", yTitle: "f′(x)",
      bands, hrules: [{ y: 0 }, { y: s.threshold, stroke: "#a0522d", dash: "4 4" }, { y: -s.threshold, stroke: "#a0522d", dash: "4 4" }],
      curves: lines("dy"), vrules: [{ x: s.x0 }], points: [{ x: s.x0, y: d0, fill: "#000", label: fmt(d0, 3) }] });
    const shaded = c.saturated.map(([a, b]) => `[${fmt(a, 2)}, ${fmt(b, 2)}]`).join(", ") || L.none;
    richText(ui.at, fill(L.at_x0, { name: label, x0: fmt(s.x0, 2), y: fmt(y0, 4), d: fmt(d0, 4),
      threshold: fmt(s.threshold, 2), regions: shaded }));
    const [general, numbers] = formulas(name, s.x0, slope, L);
    ui.formula.replaceChildren(el("div", "ac-eq", general), el("div", "ac-eq ac-eq-numbers", numbers));

    // depth: every activation's gradient ratio after N layers (the data PyTorch computed)
    const n = s.depth;
    ui.N.input.value = n; ui.N.out.textContent = String(n);
    ui.N.input.setAttribute("aria-valuetext", String(n));
    const ratio = data.depth[name][n];
    ui.metricLabel.textContent = fill(L.metric_ratio, { name: label, n });
    ui.metricValue.textContent = gfmt(ratio, 3);
    ui.others.replaceChildren(...ACTIVATIONS.map((a) => {           // each name in its curve's colour
      const item = el("span", "ac-other", `${data.names[a]} ${gfmt(data.depth[a][n], 2)}`);
      item.style.setProperty("--ac-colour", data.colors[a]);
      return item;
    }));
    let lo = Infinity, hi = 10;
    const floor = 1e-40;
    for (const a of ACTIVATIONS) for (const v of data.depth[a]) { lo = Math.min(lo, Math.max(v, floor)); hi = Math.max(hi, v); }
    lo = Math.pow(10, Math.floor(Math.log10(lo)));
    hi = Math.pow(10, Math.ceil(Math.log10(hi)));
    const decades = Math.round(Math.log10(hi / lo));
    const every = Math.max(1, Math.ceil(decades / 7));
    const yTicks = [];
    for (let e = Math.log10(hi); e >= Math.log10(lo) - 1e-9; e -= every) yTicks.push(Math.pow(10, e));
    const layers = Float64Array.from(data.depth.sigmoid, (_, k) => k);
    ui.depthPlot.draw({ x: [0, layers.length - 1], y: [lo, hi], ylog: true, yTicks,
      xTitle: L.depth_x, yTitle: L.depth_y,
      hbands: [{ y0: 0.1, y1: 10, fill: "#2ca02c" }],
      curves: ACTIVATIONS.map((a) => ({ xs: layers, ys: data.depth[a].map((v) => Math.max(v, floor)), stroke: data.colors[a],
        width: a === name ? 5 : 2.5 })),
      vrules: [{ x: n, width: 2, dash: "5 3" }],
      points: ACTIVATIONS.map((a) => ({ x: n, y: Math.max(data.depth[a][n], floor), fill: data.colors[a],
        label: a === name ? gfmt(data.depth[a][n], 2) : "" })) });
    const std = initStd(data.init, data.width, data.width, name, slope, data.typical);
    const used = data.init === "typical" ? data.typical[name] : data.init;
    ui.depthFormula.replaceChildren(
      el("div", "ac-eq", used === "xavier"
        ? `Xavier: W_ij ~ N(0, 2 / (n_in + n_out)),  std = √(2 / (${data.width} + ${data.width})) = ${fmt(std, 4)}`
        : `He: W_ij ~ N(0, 2 / ((1 + a²)·n_in)),  std = ${fmt(std, 4)}`),
      el("div", "ac-eq ac-eq-numbers", `‖∂L/∂h_(N−${n})‖ / ‖∂L/∂h_N‖ (${label}) = ${gfmt(ratio, 3)}`
        + (name === "sigmoid" ? `,   (¼)^${n} = ${gfmt(Math.pow(0.25, n), 3)}` : "")));
    Object.assign(st.root.dataset, { focus: name, x0: String(s.x0), y0: String(y0), d0: String(d0), depth: String(n),
      ratio: String(ratio), regions: JSON.stringify(c.saturated) });
    markDrawn(st.root);
  }

  function onInput(e) {
    const s = st.settings;
    const t = e.target;
    if (t.name === "focus") s.focus = t.value;
    else if (t.name === "compare") s.compare = t.checked;
    else if (t.name === "xmax") {
      s.xmax = Number(t.value);
      s.x0 = Math.max(-s.xmax, Math.min(s.xmax, s.x0));        // keep x0 inside the drawn range
    } else if (t.name === "x0") s.x0 = Number(t.value);
    else if (t.name === "threshold") s.threshold = Number(t.value);
    else if (t.name === "depth") s.depth = Number(t.value);
    draw();                                                     // painted in the next frame
    commit();                                                   // the URL hears it once the moves stop
  }
  st.root.oninput = onInput;                                    // sliders, radios and the checkbox
  draw();
}
