// Self-attention by hand, drawn in the browser (Streamlit components v2, no framework, no CDN).
//
// Python sends Q, K and V of every head once ((heads, T, d_k) float32: the sentence, d_k and the heads
// are the server's, since they need new projections). The query row, the head, the temperature, the
// 1/sqrt(d_k) scaling and the causal mask only re-arrange those numbers, so they redraw here in one
// frame, with no server rerun, using the arithmetic of
// bigmodel_core.ops.attention.scaled_dot_product_attention_explained (a browser test compares them):
//
//     s_ij = q_i . k_j * factor,   factor = (1/sqrt(d_k) if scaled else 1) / temperature
//     s_ij = -inf where the causal mask forbids j > i
//     a_ij = exp(s_ij) / sum_k exp(s_ik)          (row softmax; a masked key gets exactly 0)
//     c_i  = sum_j a_ij v_j
//
// The settings go back to Python (setStateValue "settings") 0.8 s after the learner stops: the URL
// records them and the saturation chart's diamond moves.

// ---- the arithmetic (pure, exported for the browser test) ----------------------------------------

/** Attention of one head. Q, K, V: Float32Array (heads, T, d_k) row-major. Returns row-major arrays:
 *  raw (T, T) = QK^T, scores (T, T) with -Infinity where masked, weights (T, T), output (T, d_k). */
export function attention(Q, K, V, T, dk, head, { temperature = 1, scale = true, causal = false } = {}) {
  const off = head * T * dk;
  const factor = (scale ? 1 / Math.sqrt(dk) : 1) / temperature;
  const raw = new Float64Array(T * T), scores = new Float64Array(T * T), weights = new Float64Array(T * T);
  const output = new Float64Array(T * dk);
  for (let i = 0; i < T; i++) {
    let m = -Infinity;
    for (let j = 0; j < T; j++) {
      let dot = 0;                                              // q_i . k_j
      for (let d = 0; d < dk; d++) dot += Q[off + i * dk + d] * K[off + j * dk + d];
      raw[i * T + j] = dot;
      const s = causal && j > i ? -Infinity : dot * factor;     // forbidden cells: weight exactly 0
      scores[i * T + j] = s;
      if (s > m) m = s;
    }
    let sum = 0;
    for (let j = 0; j < T; j++) {                               // exp(s - max): same ratios, no overflow
      const e = Number.isFinite(scores[i * T + j]) ? Math.exp(scores[i * T + j] - m) : 0;
      weights[i * T + j] = e;
      sum += e;
    }
    for (let j = 0; j < T; j++) {
      const a = (weights[i * T + j] /= sum);                    // each row sums to 1
      if (a === 0) continue;
      for (let d = 0; d < dk; d++) output[i * dk + d] += a * V[off + j * dk + d];   // c_i = sum_j a_ij v_j
    }
  }
  return { raw, scores, weights, output, factor };
}

// ---- the picture ---------------------------------------------------------------------------------

function checkbox(name, label) {
  const wrap = el("label", "ar-check");
  const input = el("input");
  Object.assign(input, { type: "checkbox", name });
  wrap.append(input, el("span", null, label));
  return { wrap, input };
}

function build(root, D, L) {
  root.replaceChildren();
  const { T, dk, tokens } = D;
  const ui = {};
  const controls = el("div", "ar-controls");
  ui.Q = slider("query", L.query, 0, T - 1, 1, "ar-slider");
  ui.Tm = slider("temperature", L.temp, 0.1, 5, 0.1, "ar-slider");
  controls.append(ui.Q.wrap, ui.Tm.wrap);
  if (D.heads > 1) {
    ui.H = slider("head", L.head, 1, D.heads, 1, "ar-slider");
    controls.append(ui.H.wrap);
  }
  const checks = el("div", "ar-checks");
  ui.scale = checkbox("scale", L.scale);
  ui.causal = checkbox("causal", L.causal);
  checks.append(ui.scale.wrap, ui.causal.wrap);
  controls.append(checks);

  const top = el("div", "ar-top");
  const left = el("div", "ar-col"), right = el("div", "ar-col");
  const cell = Math.max(14, Math.min(44, 330 / T));
  ui.weightsTitle = el("div", "ar-title");
  ui.weights = heatmap(T, T, { cell, rowLabels: tokens, colLabels: tokens, kind: "weights",
                               digits: cell >= 26 ? 2 : null, ariaLabel: L.click_row,
                               onPick: (r) => ui.set({ query: r }), onKey: (d) => ui.set({ query: ui.s.query + d }) });
  ui.weights.svg.classList.add("ar-weights");
  left.append(ui.weightsTitle, el("div", "ar-axes", `↓ ${L.queries}   → ${L.keys}`), ui.weights.el,
              el("div", "ar-caption", L.click_row));
  ui.rowTitle = el("div", "ar-title");
  const strip = Math.max(14, Math.min(44, 330 / T));
  ui.scoreRow = heatmap(1, T, { cell: strip, rowLabels: ["s_i,j"], colLabels: null, kind: "diverging", digits: 1 });
  ui.weightRow = heatmap(1, T, { cell: strip, rowLabels: ["a_i,j"], colLabels: tokens, kind: "weights", digits: 2 });
  ui.formula = el("div", "ar-formula");
  ui.metric = el("div", "ar-metric");
  right.append(ui.rowTitle, ui.scoreRow.el, ui.weightRow.el, ui.formula, ui.metric);
  top.append(left, right);

  const mats = el("div", "ar-mats");
  const mcell = Math.max(3, Math.min(32, 200 / dk));
  const dims = dk <= 12 ? Array.from({ length: dk }, (_, d) => String(d)) : null;
  for (const name of ["Q", "K", "V"]) {
    ui[`m${name}`] = heatmap(T, dk, { cell: mcell, rowLabels: tokens, colLabels: dims, kind: "diverging",
                                      digits: mcell >= 28 ? 1 : null, title: fill(L[`${name.toLowerCase()}_title`], { d_k: dk }) });
    mats.append(ui[`m${name}`].el);
  }
  const mats2 = el("div", "ar-mats ar-mats2");
  const scell = Math.max(14, Math.min(40, 310 / T));
  ui.mScores = heatmap(T, T, { cell: scell, rowLabels: tokens, colLabels: tokens, kind: "diverging",
                               digits: scell >= 26 ? 1 : null });
  ui.scoresTitle = el("div", "ar-title");
  ui.mOut = heatmap(T, dk, { cell: mcell, rowLabels: tokens, colLabels: dims, kind: "diverging",
                             digits: mcell >= 28 ? 1 : null, title: fill(L.output_title, { d_k: dk }) });
  const sbox = el("div", "ar-col");
  sbox.append(ui.scoresTitle, ui.mScores.el);
  mats2.append(sbox, ui.mOut.el);
  root.append(controls, top, el("h4", "ar-h", L.matrices_title), mats, mats2);
  return ui;
}

const STATE = new WeakMap();   // parentElement -> {ui, key, s (settings), server, sent}
const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);
const vec = (arr, off, n, shown = 2) => "[" + Array.from({ length: Math.min(n, shown) }, (_, d) => fmt(arr[off + d])).join(", ")
  + (n > shown ? ", …" : "") + "]";

export default function (component) {
  const { data, parentElement, setStateValue } = component;
  if (!data || !data.Q) return;
  const L = data.labels;
  const D = { T: data.T, dk: data.d_k, heads: data.heads, tokens: data.tokens,
              Q: decodeFloat32(data.Q), K: decodeFloat32(data.K), V: decodeFloat32(data.V) };
  const key = [data.lang, data.T, data.d_k, data.heads, data.Q].join("|");
  let st = STATE.get(parentElement);
  if (!st || st.key !== key) {
    const root = mountRoot(parentElement, "ar-root");
    st = { root, key, s: { ...data.settings }, server: data.settings, sent: null };
    STATE.set(parentElement, st);
    st.ui = build(root, D, L);
  } else if (!same(data.settings, st.server) && !same(data.settings, st.sent)) {
    st.s = { ...data.settings };                 // a link or a new page state: the server's settings win
  }
  st.server = data.settings;
  const { ui, root } = st;
  ui.s = st.s;
  const { T, dk, tokens } = D;
  const commit = debounce(() => { st.sent = { ...st.s }; setStateValue("settings", st.sent); }, 800);

  function draw() {
    const s = st.s, i = s.query, h = s.head - 1;
    const A = attention(D.Q, D.K, D.V, T, dk, h, s);
    ui.Q.input.value = i;
    ui.Q.out.textContent = `${i}: ${tokens[i]}`;
    ui.Q.input.setAttribute("aria-valuetext", ui.Q.out.textContent);
    ui.Tm.input.value = s.temperature;
    ui.Tm.out.textContent = fmt(s.temperature, 1);
    if (ui.H) { ui.H.input.value = s.head; ui.H.out.textContent = String(s.head); }
    ui.scale.input.checked = s.scale;
    ui.causal.input.checked = s.causal;
    ui.weightsTitle.textContent = fill(L.weights_title, { head: s.head });
    ui.weights.update(A.weights, { vmax: 1, outlineRow: i });
    // the query row written out
    ui.rowTitle.textContent = fill(L.row_title, { token: tokens[i], i });
    const row = (arr) => arr.subarray(i * T, (i + 1) * T);
    const sRow = row(A.scores), wRow = row(A.weights);
    ui.scoreRow.update(sRow, { vmax: absMax(A.scores) });
    ui.weightRow.update(wRow, { vmax: 1 });
    const factorText = (s.scale ? `1/√${dk}` : "1") + (s.temperature !== 1 ? ` / ${fmt(s.temperature, 1)}` : "")
      + ` = ${A.factor.toPrecision(3)}`;
    let j0 = 0;
    for (let j = 0; j < T; j++) if (wRow[j] > wRow[j0]) j0 = j;
    const allowed = [];
    for (let j = 0; j < T; j++) if (Number.isFinite(sRow[j])) allowed.push(j);
    const expSum = allowed.reduce((acc, j) => acc + Math.exp(sRow[j]), 0);
    const shown = allowed.slice(0, 3).map((j) => `e^${fmt(sRow[j])}`).join(" + ") + (allowed.length > 3 ? " + …" : "");
    const terms = allowed.filter((j) => wRow[j] > 0)
      .map((j) => `${fmt(wRow[j])}·${vec(D.V, (h * T + j) * dk, dk)}`).join(" + ");
    ui.formula.replaceChildren(
      el("div", "ar-eq", `s_${i},j = q_${i} · k_j × ${factorText},   q_${i} = ${vec(D.Q, (h * T + i) * dk, dk)}`),
      el("div", "ar-eq", `a_${i},${j0} = e^s_${i},${j0} / Σ_k e^s_${i},k = e^${fmt(sRow[j0])} / (${shown})`
        + ` = ${Math.exp(sRow[j0]).toPrecision(3)} / ${expSum.toPrecision(3)} = ${fmt(wRow[j0], 3)}  (${tokens[j0]})`),
      el("div", "ar-eq", `c_${i} = Σ_j a_${i},j v_j = ${terms} = ${vec(A.output, i * dk, dk)}`),
    );
    let wmax = 0;
    for (const w of wRow) wmax = Math.max(wmax, w);
    ui.metric.replaceChildren(el("div", "ar-metric-label", L.max_weight), el("div", "ar-metric-value", fmt(wmax)),
                              el("div", "ar-caption", L.max_weight_help));
    // the matrices behind the picture, the query row outlined
    for (const [name, M] of [["Q", D.Q], ["K", D.K], ["V", D.V]]) {
      const part = M.subarray(h * T * dk, (h + 1) * T * dk);
      ui[`m${name}`].update(part, { vmax: absMax(part), outlineRow: name === "Q" ? i : null });
    }
    ui.scoresTitle.textContent = fill(L.scores_title, { factor: A.factor.toPrecision(3) });
    ui.mScores.update(A.scores, { vmax: absMax(A.scores), outlineRow: i });
    ui.mOut.update(A.output, { vmax: absMax(A.output), outlineRow: i });
    root.dataset.query = String(i);
    root.dataset.head = String(s.head);
    root.dataset.weights = JSON.stringify(Array.from(wRow));
    root.dataset.scores = JSON.stringify(Array.from(sRow, (v) => (Number.isFinite(v) ? v : null)));
    root.dataset.output = JSON.stringify(Array.from(A.output.subarray(i * dk, (i + 1) * dk)));
    markDrawn(root);
  }

  ui.set = (change) => {
    const next = { ...st.s, ...change };
    next.query = Math.min(T - 1, Math.max(0, Math.round(next.query)));
    next.head = Math.min(D.heads, Math.max(1, Math.round(next.head)));
    next.temperature = Math.min(5, Math.max(0.1, Math.round(10 * next.temperature) / 10));
    if (same(next, st.s)) return;
    st.s = next;
    ui.s = next;
    draw();
    commit();
  };
  ui.Q.input.oninput = () => ui.set({ query: Number(ui.Q.input.value) });
  ui.Tm.input.oninput = () => ui.set({ temperature: Number(ui.Tm.input.value) });
  if (ui.H) ui.H.input.oninput = () => ui.set({ head: Number(ui.H.input.value) });
  ui.scale.input.onchange = () => ui.set({ scale: ui.scale.input.checked });
  ui.causal.input.onchange = () => ui.set({ causal: ui.causal.input.checked });
  draw();
}
