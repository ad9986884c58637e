// Quantizing one layer of the CNN, drawn in the browser (Streamlit components v2, no framework, no CDN).
//
// Python sends the layer's weights once (float32). The bits slider only re-arranges them, with the
// same rule as bigmodel_core.compress.quantize_tensor (symmetric absmax: the zero point is 0):
//
//     S = max|w| / (2^(b-1) - 1)      q = clamp(round(w / S), -(2^(b-1) - 1), 2^(b-1) - 1)      w_hat = S q
//
// per tensor (one S) or per output channel (one S per row), rounding half to even as torch.round,
// in float32 as torch computes it. The histograms of w and w_hat, the error numbers and the formula
// redraw here; the whole CNN's accuracy and size at each bit width (measured by PyTorch, shipped in
// the compression record) and the outlier experiment per bit width are looked up. The bit width goes
// back to Python (setStateValue "bits") 0.6 s after the last move, for the address bar.

const COMMIT_MS = 600;
const GREY = "#9aa3ad", ORANGE = "#f58518", BLUE = "#4c78a8", RED = "#d62728";

// ---- the arithmetic (pure, exported for the browser test) ----------------------------------------

/** The largest integer level of symmetric b-bit quantization (compress.qmax). */
export const qmax = (bits) => 2 ** (bits - 1) - 1;

/** round half to even, as torch.round. */
export function roundHalfEven(v) {
  const r = Math.round(v);
  return Math.abs(v % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** compress.quantize_tensor on a flat float32 w with `rows` output channels: {q, scale, wHat}. */
export function quantize(w, rows, bits, perChannel) {
  const levels = qmax(bits), n = w.length, groups = perChannel ? rows : 1, per = n / groups;
  const scale = new Float32Array(groups), q = new Int32Array(n), wHat = new Float32Array(n);
  for (let g = 0; g < groups; g++) {
    let absmax = 0;
    for (let i = g * per; i < (g + 1) * per; i++) absmax = Math.max(absmax, Math.abs(w[i]));
    const s = Math.fround(absmax / levels);                        // S = max|w| / (2^(b-1) - 1)
    const safe = s > 0 ? s : 1;                                    // S = 0 only where w = 0
    scale[g] = s;
    for (let i = g * per; i < (g + 1) * per; i++) {
      const v = Math.min(levels, Math.max(-levels, roundHalfEven(Math.fround(w[i] / safe))));
      q[i] = v;
      wHat[i] = Math.fround(s * v);
    }
  }
  return { q, scale, wHat };
}

/** compress.quantization_error: S_max, max |w - w_hat|, rms, SQNR (dB), share of non-zero weights
 *  rounded to 0, distinct levels used. */
export function quantError(w, q, scale, wHat) {
  let noise = 0, signal = 0, maxAbs = 0, nonzero = 0, zeroed = 0, sMax = -Infinity, top = 0;
  for (let i = 0; i < q.length; i++) top = Math.max(top, Math.abs(q[i]));
  const seen = new Uint8Array(2 * top + 1);                        // one flag per level -top..top
  for (let i = 0; i < w.length; i++) {
    const e = w[i] - wHat[i];
    noise += e * e; signal += w[i] * w[i];
    maxAbs = Math.max(maxAbs, Math.abs(e));
    if (w[i] !== 0) { nonzero += 1; if (q[i] === 0) zeroed += 1; }
    seen[q[i] + top] = 1;
  }
  for (const s of scale) sMax = Math.max(sMax, s);
  let used = 0;
  for (const f of seen) used += f;
  return { scale_max: sMax, max_abs: maxAbs, rms: Math.sqrt(noise / w.length),
    sqnr_db: noise === 0 ? Infinity : 10 * Math.log10(signal / noise),
    zero_fraction: zeroed / Math.max(1, nonzero), levels_used: used };
}

/** charts.compression.histogram_rows' counts: `bins` bins over [-max|w|, max|w|] (widened by 1e-4). */
export function histogram(v, a, bins = 81) {
  const lo = -a * 1.0001, width = (2 * a * 1.0001) / bins, counts = new Int32Array(bins);
  for (let i = 0; i < v.length; i++) counts[Math.min(bins - 1, Math.max(0, Math.trunc((v[i] - lo) / width)))] += 1;
  return { lo, width, counts };
}

// ---- the picture ---------------------------------------------------------------------------------

const W = 440, H = 96, PADL = 40;

function histPanel(title) {
  const wrap = el("div", "cq-hist");
  const head = el("div", "cq-hist-title", title);
  const plot = svg("svg", { viewBox: `0 0 ${W} ${H + 20}`, class: "cq-svg" });
  wrap.append(head, plot);
  return { wrap, plot };
}

function drawHist(plot, h, color, a) {
  let top = 1;
  for (const c of h.counts) top = Math.max(top, c);
  const bw = (W - PADL - 8) / h.counts.length;
  const nodes = [svg("line", { x1: PADL, x2: W - 8, y1: H, y2: H, class: "cq-axis" })];
  h.counts.forEach((c, i) => {
    if (!c) return;
    const hh = (H - 6) * c / top;
    nodes.push(svg("rect", { x: PADL + i * bw, y: H - hh, width: Math.max(1, bw - 0.5), height: hh, fill: color }));
  });
  const t0 = svg("text", { x: PADL, y: H + 14, class: "cq-tick", "text-anchor": "start" });
  t0.textContent = (-a).toPrecision(2);
  const t1 = svg("text", { x: W - 8, y: H + 14, class: "cq-tick", "text-anchor": "end" });
  t1.textContent = a.toPrecision(2);
  const tm = svg("text", { x: (PADL + W - 8) / 2, y: H + 14, class: "cq-tick", "text-anchor": "middle" });
  tm.textContent = "0";
  const ty = svg("text", { x: PADL - 4, y: 10, class: "cq-tick", "text-anchor": "end" });
  ty.textContent = String(top);
  nodes.push(t0, t1, tm, ty);
  plot.replaceChildren(...nodes);
}

function metric(label) {
  const box = el("div", "cq-metric");
  const l = el("div", "cq-metric-label", label), v = el("div", "cq-metric-value"), d = el("div", "cq-metric-delta");
  box.append(l, v, d);
  return { box, l, v, d };
}

/** Build the DOM once per mounted component; later calls only swap in new data. */
function build(root, L) {
  root.replaceChildren();
  const S = slider("bits", L.bits, 2, 8, 1, "cq-slider");
  const top = el("div", "cq-top");
  const hists = el("div", "cq-hists");
  const hTitle = el("div", "cq-title");
  const hw = histPanel(L.hist_w), hh = histPanel(L.hist_w_hat);
  hists.append(hTitle, hw.wrap, hh.wrap);
  const side = el("div", "cq-side");
  const m = { s: metric(L.scale_s), err: metric(L.max_error), sqnr: metric(L.sqnr), zero: metric(L.to_zero),
    acc: metric(""), size: metric(L.cnn_size) };
  const grid1 = el("div", "cq-metrics"), grid2 = el("div", "cq-metrics");
  grid1.append(m.s.box, m.err.box, m.sqnr.box, m.zero.box);
  grid2.append(m.acc.box, m.size.box);
  const levels = el("div", "cq-caption"), alone = el("div", "cq-caption");
  side.append(grid1, levels, grid2, alone);
  top.append(hists, side);
  const bottom = el("div", "cq-top");
  const chartBox = el("div", "cq-chart");
  const chartTitle = el("div", "cq-title", L.bits_title);
  const chart = svg("svg", { viewBox: "0 0 360 230", class: "cq-svg", role: "img", "aria-label": L.bits_title });
  const floatNote = el("div", "cq-caption");
  chartBox.append(chartTitle, chart, floatNote);
  const outlier = el("div", "cq-outlier");
  bottom.append(chartBox, outlier);
  const formula = el("div", "cq-formula");
  root.append(S.wrap, top, bottom, formula);
  return { S, hTitle, hw, hh, m, levels, alone, chart, floatNote, outlier, formula };
}

/** Accuracy against bits, per tensor and per channel, the float32 line; returns the rule to move. */
function drawBitsChart(host, rows, floatAcc, L) {
  const X0 = 44, X1 = 350, Y0 = 180, Y1 = 10;
  const sx = (b) => X0 + (X1 - X0) * (b - 2) / 6, sy = (a) => Y0 - (Y0 - Y1) * a;
  const nodes = [];
  for (let k = 0; k <= 4; k++) {
    nodes.push(svg("line", { x1: X0, x2: X1, y1: sy(k / 4), y2: sy(k / 4), class: "cq-grid" }));
    const tx = svg("text", { x: X0 - 5, y: sy(k / 4) + 4, class: "cq-tick", "text-anchor": "end" });
    tx.textContent = `${25 * k}`;
    nodes.push(tx);
  }
  for (let b = 2; b <= 8; b++) {
    const tx = svg("text", { x: sx(b), y: Y0 + 15, class: "cq-tick", "text-anchor": "middle" });
    tx.textContent = String(b);
    nodes.push(tx);
  }
  const xl = svg("text", { x: (X0 + X1) / 2, y: Y0 + 30, class: "cq-tick", "text-anchor": "middle" });
  xl.textContent = L.bits_axis;
  nodes.push(xl);
  nodes.push(svg("line", { x1: X0, x2: X1, y1: sy(floatAcc), y2: sy(floatAcc), stroke: GREY, "stroke-width": 2, "stroke-dasharray": "6 4" }));
  [[false, BLUE, L.per_tensor], [true, ORANGE, L.per_channel_short]].forEach(([pc, color, name], i) => {
    const pts = rows.filter((r) => r.per_channel === pc && r.bits >= 2).sort((a, b) => a.bits - b.bits);
    nodes.push(svg("polyline", { points: pts.map((r) => `${sx(r.bits)},${sy(r.accuracy)}`).join(" "), fill: "none", stroke: color, "stroke-width": 3 }));
    for (const r of pts) nodes.push(svg("circle", { cx: sx(r.bits), cy: sy(r.accuracy), r: 3.5, fill: color }));
    const lx = X0 + 10 + 130 * i;
    nodes.push(svg("line", { x1: lx, x2: lx + 16, y1: 222, y2: 222, stroke: color, "stroke-width": 3 }));
    const tx = svg("text", { x: lx + 20, y: 226, class: "cq-tick" });
    tx.textContent = name;
    nodes.push(tx);
  });
  const fl = svg("text", { x: X1 - 2, y: sy(floatAcc) - 4, class: "cq-tick", "text-anchor": "end" });
  fl.textContent = "float32";
  const rule = svg("line", { y1: Y1, y2: Y0, stroke: RED, "stroke-width": 2 });
  nodes.push(fl, rule);
  host.replaceChildren(...nodes);
  return (b) => { rule.setAttribute("x1", sx(b)); rule.setAttribute("x2", sx(b)); };
}

const pc1 = (x) => (x === null || x === undefined ? "—" : `${(100 * x).toFixed(1)} %`);
const kb = (n) => `${(n / 1024).toLocaleString("en-US", { minimumFractionDigits: 1, maximumFractionDigits: 1 })} KB`;
const g3 = (x) => String(+Number(x).toPrecision(3));

const STATE = new WeakMap();   // parentElement -> {root, ui, lang, bits, server, sent, commit}

export default function (component) {
  const { data, parentElement, setStateValue } = component;
  if (!data || !data.w) return;
  const L = data.labels;
  let st = STATE.get(parentElement);
  if (!st || st.lang !== data.lang) {
    const root = mountRoot(parentElement, "cq-root");
    st = { root, ui: build(root, L), lang: data.lang, bits: null, server: null, sent: null };
    STATE.set(parentElement, st);
  }
  const ui = st.ui, root = st.root;
  if (st.server !== data.bits || st.bits === null) {
    if (st.bits === null || data.bits !== st.sent) st.bits = data.bits;
    st.server = data.bits;
  }
  const w = decodeFloat32(data.w);
  let a = 0;
  for (const v of w) a = Math.max(a, Math.abs(v));
  a = a || 1;
  drawHist(ui.hw.plot, histogram(w, a), GREY, a);
  ui.hTitle.textContent = data.title;
  const moveRule = drawBitsChart(ui.chart, data.whole, data.float.accuracy, L);
  ui.floatNote.textContent = fill(L.float_note, { acc: pc1(data.float.accuracy), size: kb(data.float.bytes) });

  function draw() {
    const bits = st.bits;
    const { q, scale, wHat } = quantize(w, data.rows, bits, data.per_channel);
    const err = quantError(w, q, scale, wHat);
    drawHist(ui.hh.plot, histogram(wHat, a), ORANGE, a);
    ui.S.input.value = String(bits);
    ui.S.out.textContent = String(bits);
    ui.S.input.setAttribute("aria-valuetext", `${bits} bits`);
    const m = ui.m;
    m.s.v.textContent = g3(err.scale_max);
    m.err.v.textContent = g3(err.max_abs);
    m.err.d.textContent = `≤ S/2 = ${g3(err.scale_max / 2)}`;
    m.sqnr.v.textContent = `${err.sqnr_db.toFixed(1)} dB`;
    m.zero.v.textContent = pc1(err.zero_fraction);
    ui.levels.textContent = fill(L.levels, { used: err.levels_used, total: 2 * qmax(bits) + 1 });
    const whole = data.whole.find((r) => r.bits === bits && r.per_channel === data.per_channel);
    const alone = data.alone.find((r) => r.bits === bits);
    m.acc.l.textContent = fill(L.cnn_acc, { bits });
    m.acc.v.textContent = pc1(whole.accuracy);
    const dAcc = 100 * (whole.accuracy - data.float.accuracy);
    m.acc.d.textContent = `${dAcc >= 0 ? "+" : ""}${dAcc.toFixed(1)} ${L.points}`;
    m.acc.d.className = `cq-metric-delta ${dAcc < -0.05 ? "cq-down" : ""}`;
    m.size.v.textContent = kb(whole.bytes);
    m.size.d.textContent = `${Math.round(100 * whole.bytes / data.float.bytes)}% ${L.of_float}`;
    ui.alone.textContent = fill(L.alone, { layer: data.layer, acc: pc1(alone ? alone.accuracy : null) });
    moveRule(bits);
    const o = data.outlier[String(bits)];
    ui.outlier.replaceChildren(el("div", "cq-title", L.outlier_title),
      el("div", "", fill(L.outlier_text, { s0: g3(o.scale_plain), s1: g3(o.scale_outlier), r0: g3(o.rms_plain),
        r1: g3(o.rms_outlier), r2: g3(o.rms_apart), z0: pc1(o.zeros_plain), z1: pc1(o.zeros_outlier), bits }).replace(/\*\*/g, "")));
    const w0 = w[0], s0 = scale[0], q0 = q[0], h0 = wHat[0], lv = qmax(bits);
    ui.formula.replaceChildren(
      el("div", "cq-eq", `S = max|w| / (2^(${bits}−1) − 1) = ${(s0 * lv).toFixed(4)} / ${lv} = ${s0.toFixed(5)}     q = round(${w0.toFixed(5)} / ${s0.toFixed(5)}) = ${q0}`),
      el("div", "cq-eq", `ŵ = S q = ${h0.toFixed(5)},   |w − ŵ| = ${Math.abs(w0 - h0).toFixed(5)} ≤ S/2 = ${(s0 / 2).toFixed(5)}`),
    );
    Object.assign(root.dataset, { bits: String(bits), scale: String(err.scale_max), maxabs: String(err.max_abs),
      sqnr: String(err.sqnr_db), accuracy: String(whole.accuracy), bytes: String(whole.bytes), q0: String(q0) });
    markDrawn(root);
  }

  st.setStateValue = setStateValue;
  st.commit ??= debounce(() => { st.sent = st.bits; st.setStateValue("bits", st.bits); }, COMMIT_MS);   // the URL hears the last value
  ui.S.input.oninput = () => {
    st.bits = Number(ui.S.input.value);
    draw();
    st.commit();
  };
  draw();
}
