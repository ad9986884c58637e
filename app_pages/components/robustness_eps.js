// FGSM's budget eps, drawn in the browser (Streamlit components v2, no framework, no CDN).
//
// Python sends once per digit / attack / model: the digit x (28 x 28), FGSM's direction
// d = sign(grad_x L(f(x), y)) (or -sign(grad_x L(f(x), t)) for targeted FGSM), and the model's
// probabilities and loss at EVERY eps of the slider's grid, from one batched forward pass
// (bigmodel_core.robustness.fgsm_sweep). Moving eps only re-arranges those numbers:
//
//     x_adv = clamp(x + eps * d, 0, 1)         (perturb: the same float32 arithmetic as torch)
//     p(eps) = the row of the sent table       (looked up, so exactly the model's)
//
// The images, the noise, the bars, the prediction, the accuracy curve's rule and the formula's
// numbers redraw here with no rerun; eps goes back to Python (setStateValue "eps") 0.6 s after the
// last move, for the address bar.

const COMMIT_MS = 600;
const RED = [204, 18, 26], BLUE = [26, 77, 217];

// ---- the arithmetic (pure, exported for the browser test) ----------------------------------------

/** clamp(x + eps * d, 0, 1) in float32, as torch computes it (bigmodel_core.robustness.perturb). */
export function perturb(x, d, eps) {
  const e = Math.fround(eps), out = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = Math.min(1, Math.max(0, Math.fround(x[i] + e * d[i])));
  return out;
}

/** The formula's numbers (bigmodel_core.robustness.perturbation_numbers): pixels moved by the full
 *  eps up / down, the rest, and the max and Euclidean norms of x_adv - x. */
export function perturbationNumbers(x, xAdv, eps) {
  let plus = 0, minus = 0, clipped = 0, linf = 0, l2 = 0;
  for (let i = 0; i < x.length; i++) {
    const d = xAdv[i] - x[i];
    if (d > eps - 1e-6) plus += 1;
    if (d < -eps + 1e-6) minus += 1;
    if (Math.abs(d) <= eps - 1e-6) clipped += 1;
    linf = Math.max(linf, Math.abs(d));
    l2 += d * d;
  }
  return { plus, minus, clipped, linf, l2: Math.sqrt(l2) };
}

/** The grid index of eps (grid eps_k = k * step). */
export const epsIndex = (eps, step, n) => Math.min(n - 1, Math.max(0, Math.round(eps / step)));

/** argmax of row k of a (rows x 10) table. */
export function argmaxRow(p, k, n = 10) {
  let best = 0;
  for (let j = 1; j < n; j++) if (p[k * n + j] > p[k * n + best]) best = j;
  return best;
}

// ---- the picture ---------------------------------------------------------------------------------

function imageCanvas(title, caption) {
  const fig = el("figure", "re-panel");
  const head = el("div", "re-title", title);
  const canvas = el("canvas", "re-img");
  canvas.width = 28; canvas.height = 28;
  fig.append(head, canvas);
  const cap = el("div", "re-caption", caption || "");
  const pred = el("div", "re-pred");
  fig.append(cap, pred);
  return { fig, canvas, cap, pred };
}

function paint(canvas, rgbAt) {
  const ctx = canvas.getContext("2d");
  const img = ctx.createImageData(28, 28);
  for (let i = 0; i < 784; i++) {
    const [r, g, b] = rgbAt(i);
    img.data[4 * i] = r; img.data[4 * i + 1] = g; img.data[4 * i + 2] = b; img.data[4 * i + 3] = 255;
  }
  ctx.putImageData(img, 0, 0);
}

/** Build the DOM once per mounted component; later calls only swap in new data. */
function build(root, L, data) {
  root.replaceChildren();
  const S = slider("eps", L.eps, 0, data.max_eps, data.step, "re-slider");
  const row = el("div", "re-row");
  const clean = imageCanvas(L.clean), noise = imageCanvas(L.noise, L.noise_caption), adv = imageCanvas(L.adversarial);
  const bars = el("div", "re-bars");
  bars.append(el("div", "re-title", L.probs_title));
  const legend = el("div", "re-legend");
  legend.append(el("span", "re-key re-key-clean", L.probs_clean), el("span", "re-key re-key-adv", L.probs_adversarial));
  bars.append(legend);
  const barRows = [];
  for (let j = 0; j < 10; j++) {
    const r = el("div", "re-bar-row");
    const track = el("span", "re-track");
    const b0 = el("span", "re-bar re-bar-clean"), b1 = el("span", "re-bar re-bar-adv");
    track.append(b0, b1);
    const v = el("span", "re-prob");
    r.append(el("span", "re-digit", String(j)), track, v);
    bars.append(r);
    barRows.push({ r, b0, b1, v });
  }
  row.append(clean.fig, noise.fig, adv.fig, bars);
  const verdict = el("div", "re-verdict");
  verdict.setAttribute("role", "status");
  const curveTitle = el("div", "re-title re-curve-title", L.curve_title);
  const curve = svg("svg", { class: "re-curve", viewBox: "0 0 460 250", role: "img", "aria-label": L.curve_title });
  const formula = el("div", "re-formula");
  root.append(S.wrap, row, verdict, curveTitle, curve, formula);
  return { S, clean, noise, adv, barRows, verdict, curve, formula };
}

const COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b"];
const DASHES = ["", "6 3", "2 2", "8 3 2 3", "4 4", "1 3"];

/** The accuracy-against-eps lines, drawn once per data; returns the rule to move. */
function drawCurve(host, curves, L, maxEps) {
  host.replaceChildren();
  const X0 = 48, X1 = 450, Y0 = 190, Y1 = 10;
  const sx = (e) => X0 + (X1 - X0) * e / maxEps, sy = (a) => Y0 - (Y0 - Y1) * a;
  for (let k = 0; k <= 4; k++) {
    const a = k / 4;
    host.append(svg("line", { x1: X0, x2: X1, y1: sy(a), y2: sy(a), class: "re-grid" }));
    const tx = svg("text", { x: X0 - 6, y: sy(a) + 4, class: "re-tick", "text-anchor": "end" });
    tx.textContent = `${Math.round(100 * a)}%`;
    host.append(tx);
  }
  for (let k = 0; k <= 5; k++) {
    const e = (maxEps * k) / 5;
    const tx = svg("text", { x: sx(e), y: Y0 + 16, class: "re-tick", "text-anchor": "middle" });
    tx.textContent = String(+e.toFixed(2));
    host.append(tx);
  }
  const xl = svg("text", { x: (X0 + X1) / 2, y: Y0 + 32, class: "re-axis", "text-anchor": "middle" });
  xl.textContent = L.eps_axis;
  host.append(xl);
  let ly = 0;
  const legend = [];
  curves.forEach((c, i) => {
    const pts = c.rows.filter((r) => r.eps <= maxEps).map((r) => `${sx(r.eps).toFixed(1)},${sy(r.accuracy).toFixed(1)}`);
    host.append(svg("polyline", { points: pts.join(" "), fill: "none", stroke: COLORS[i % 6], "stroke-width": 2,
      "stroke-dasharray": DASHES[i % 6] }));
    for (const p of pts) {
      const [px, py] = p.split(",");
      host.append(svg("circle", { cx: px, cy: py, r: 2.5, fill: COLORS[i % 6] }));
    }
    legend.push(c.name);
  });
  const rule = svg("line", { y1: Y1, y2: Y0, class: "re-rule" });
  host.append(rule);
  // the legend, two columns under the axis
  const h = 250;
  legend.forEach((name, i) => {
    ly = 218 + 14 * Math.floor(i / 2);
    const x = i % 2 ? 250 : 20;
    host.append(svg("line", { x1: x, x2: x + 18, y1: ly - 4, y2: ly - 4, stroke: COLORS[i % 6], "stroke-width": 2,
      "stroke-dasharray": DASHES[i % 6] }));
    const tx = svg("text", { x: x + 22, y: ly, class: "re-legend-text" });
    tx.textContent = name;
    host.append(tx);
  });
  host.setAttribute("viewBox", `0 0 460 ${Math.max(h, ly + 8)}`);
  return (eps) => { rule.setAttribute("x1", sx(eps)); rule.setAttribute("x2", sx(eps)); };
}

const STATE = new WeakMap();   // parentElement -> {root, ui, key, eps, sent, commit}

export default function (component) {
  const { data, parentElement, setStateValue } = component;
  if (!data || !data.x) return;
  const L = data.labels;
  const x = decodeFloat32(data.x), d = decodeFloat32(data.direction);
  const probs = decodeFloat32(data.probs), loss = decodeFloat32(data.loss);
  const n = loss.length;
  let st = STATE.get(parentElement);
  const layout = JSON.stringify([data.lang, data.max_eps, data.step]);
  if (!st || st.layout !== layout) {
    const root = mountRoot(parentElement, "re-root");
    st = { root, ui: build(root, L, data), layout, eps: null, server: null, sent: null, curveKey: null };
    STATE.set(parentElement, st);
  }
  const ui = st.ui, root = st.root;
  // the server's eps wins when it changed (a link), unless it only echoes the learner's last commit
  if (st.server !== data.eps || st.eps === null) {
    if (st.eps === null || data.eps !== st.sent) st.eps = data.eps;
    st.server = data.eps;
  }
  const curveKey = JSON.stringify(data.curves);
  if (st.curveKey !== curveKey) {
    st.moveRule = drawCurve(ui.curve, data.curves, L, data.max_eps);
    st.curveKey = curveKey;
  }
  const p0 = 0;                                            // row 0: eps = 0, the clean digit
  const a = argmaxRow(probs, p0);
  paint(ui.clean.canvas, (i) => { const g = Math.round(255 * (1 - x[i])); return [g, g, g]; });
  ui.clean.pred.textContent = `${L.prediction}: ${a} (${pct(probs[a])})`;

  function draw() {
    const eps = st.eps;
    const k = epsIndex(eps, data.step, n);
    const xAdv = perturb(x, d, eps);
    const nums = perturbationNumbers(x, xAdv, eps);
    const b = argmaxRow(probs, k);
    ui.S.input.value = String(eps);
    ui.S.out.textContent = fmt(eps, 2);
    ui.S.input.setAttribute("aria-valuetext", `ε = ${fmt(eps, 2)}`);
    paint(ui.adv.canvas, (i) => { const g = Math.round(255 * (1 - xAdv[i])); return [g, g, g]; });
    paint(ui.noise.canvas, (i) => {
      const v = eps > 0 ? Math.max(-1, Math.min(1, (xAdv[i] - x[i]) / eps)) : 0;
      const c = v >= 0 ? RED : BLUE, w = Math.abs(v);
      return c.map((ch) => Math.round((1 - w) * 255 + w * ch));
    });
    ui.adv.pred.textContent = `${L.prediction}: ${b} ` + (b !== a ? `(${fill(L.was, { pred: a })})` : `(${pct(probs[k * 10 + b])})`);
    ui.adv.pred.classList.toggle("re-flipped", b !== a);
    for (let j = 0; j < 10; j++) {
      const r = ui.barRows[j], q0 = probs[j], q1 = probs[k * 10 + j];
      r.b0.style.width = `${(100 * q0).toFixed(2)}%`;
      r.b1.style.width = `${(100 * q1).toFixed(2)}%`;
      r.v.textContent = `${pct(q0)} → ${pct(q1)}`;
      r.r.classList.toggle("re-top", j === b);
    }
    const epsTxt = String(+eps.toFixed(2));
    let verdict = b !== a ? fill(L.flipped, { a, b, eps: epsTxt, grey: Math.round(eps * 255) }) : fill(L.held, { a, eps: epsTxt });
    if (data.target !== null && data.target !== undefined) {
      verdict += " " + (b === data.target ? fill(L.targeted_hit, { b }) : fill(L.targeted_miss, { t: data.target, b }));
    }
    ui.verdict.textContent = verdict.replace(/\*\*/g, "");
    ui.verdict.className = `re-verdict ${b !== a ? "re-warn" : "re-info"}`;
    st.moveRule(eps);
    ui.formula.replaceChildren(
      el("div", "re-eq", `ε = ${epsTxt}:  L(f(x), y) = ${fmt(loss[0], 4)}  →  L(f(x_adv), y) = ${fmt(loss[k], 4)}`),
      el("div", "", fill(L.formula_numbers, { plus: nums.plus, minus: nums.minus, clipped: nums.clipped,
        linf: fmt(nums.linf, 3), l2: fmt(nums.l2, 3), loss0: fmt(loss[0], 4), loss1: fmt(loss[k], 4) }).replace(/\*\*/g, "")),
    );
    Object.assign(root.dataset, { eps: epsTxt, pred: String(b), clean: String(a), plus: String(nums.plus),
      minus: String(nums.minus), linf: String(nums.linf), loss: String(loss[k]) });
    markDrawn(root);
  }

  st.setStateValue = setStateValue;
  st.commit ??= debounce(() => { st.sent = st.eps; st.setStateValue("eps", st.eps); }, COMMIT_MS);   // the URL hears the last value
  ui.S.input.oninput = () => {
    st.eps = Math.round(Number(ui.S.input.value) / data.step) * data.step;
    st.eps = +st.eps.toFixed(10);
    draw();
    st.commit();
  };
  draw();
}
