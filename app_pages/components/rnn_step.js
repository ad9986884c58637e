// Step through a recurrent cell in the browser (Streamlit components v2, no framework, no CDN).
//
// Python sends the trained cell's weights once (PyTorch's layout: W = weight_ih_l0 (G*H, I),
// U = weight_hh_l0 (G*H, H), b_ih, b_hh; gate blocks i,f,g,o for the LSTM and r,z,n for the GRU), the
// inputs x_1..x_T and the output layer V, c. The browser runs the cell over the sequence once with the
// same equations as bigmodel_core.ops.rnn (rnn_step, lstm_step, gru_step, run_sequence), so moving the
// time step t only picks a column: the heat maps, the gates and the formula with its live numbers are
// redrawn here in one frame, with no server rerun. A browser test compares these states with the core's.
//
//     RNN   h_t = tanh(W x_t + U h_{t-1} + b)
//     LSTM  i, f, g, o = σ(.), σ(.), tanh(.), σ(.);  c_t = f ⊙ c_{t-1} + i ⊙ g;  h_t = o ⊙ tanh(c_t)
//     GRU   r, z = σ(.), σ(.);  n = tanh(W_n x + b_in + r ⊙ (U_n h + b_hn));  h_t = (1 - z) ⊙ n + z ⊙ h_{t-1}
//     y_t = softmax(V h_t + c) (text) or V h_t + c (numbers)                 models.rnn.readout_step
//
// The step goes back to Python (setStateValue "step") 0.8 s after the learner stops: the URL records it.

// ---- the arithmetic (pure, exported for the browser test) ----------------------------------------

const sigmoid = (a) => 1 / (1 + Math.exp(-a));

/** M (rows, cols, row-major) times v, rows r0..r0+n-1 only: (n,). */
function matvec(M, cols, v, r0, n) {
  const out = new Float64Array(n);
  for (let r = 0; r < n; r++) {
    let s = 0;
    const off = (r0 + r) * cols;
    for (let k = 0; k < cols; k++) s += M[off + k] * v[k];
    out[r] = s;
  }
  return out;
}

/** One time step with every intermediate, as bigmodel_core.ops.rnn.cell_step. x: (I,), h, c: (H,). */
export function cellStep(kind, x, h, c, W, U, bih, bhh, I, H) {
  const G = { rnn: 1, lstm: 4, gru: 3 }[kind];
  const Wx = matvec(W, I, x, 0, G * H);                      // (G*H,) W x_t
  const Uh = matvec(U, H, h, 0, G * H);                      // (G*H,) U h_{t-1}
  const out = { x, h_prev: h, Wx, Uh };
  if (kind === "rnn") {
    const b = new Float64Array(H), pre = new Float64Array(H), hn = new Float64Array(H);
    for (let j = 0; j < H; j++) {
      b[j] = bih[j] + bhh[j];
      pre[j] = Wx[j] + Uh[j] + b[j];                         // the pre-activation
      hn[j] = Math.tanh(pre[j]);
    }
    return Object.assign(out, { b, pre, h: hn });
  }
  if (kind === "lstm") {
    const gate = (k, f) => Float64Array.from({ length: H }, (_, j) =>
      f(Wx[k * H + j] + Uh[k * H + j] + bih[k * H + j] + bhh[k * H + j]));
    const i = gate(0, sigmoid), f = gate(1, sigmoid), g = gate(2, Math.tanh), o = gate(3, sigmoid);
    const cn = new Float64Array(H), hn = new Float64Array(H);
    for (let j = 0; j < H; j++) {
      cn[j] = f[j] * c[j] + i[j] * g[j];                     // the cell state: an additive memory
      hn[j] = o[j] * Math.tanh(cn[j]);
    }
    return Object.assign(out, { c_prev: c, i, f, g, o, c: cn, h: hn });
  }
  const r = new Float64Array(H), z = new Float64Array(H), n = new Float64Array(H), hn = new Float64Array(H);
  for (let j = 0; j < H; j++) {
    r[j] = sigmoid(Wx[j] + bih[j] + Uh[j] + bhh[j]);
    z[j] = sigmoid(Wx[H + j] + bih[H + j] + Uh[H + j] + bhh[H + j]);
    n[j] = Math.tanh(Wx[2 * H + j] + bih[2 * H + j] + r[j] * (Uh[2 * H + j] + bhh[2 * H + j]));
    hn[j] = (1 - z[j]) * n[j] + z[j] * h[j];                  // z near 1 copies the past
  }
  return Object.assign(out, { r, z, n, h: hn });
}

/** The cell over x_1..x_T (X: (T, I) row-major) from h_0 = c_0 = 0, as ops.rnn.run_sequence: T steps. */
export function runSequence(kind, X, T, I, H, W, U, bih, bhh) {
  let h = new Float64Array(H), c = new Float64Array(H);
  const steps = [];
  for (let t = 0; t < T; t++) {
    const s = cellStep(kind, X.subarray(t * I, (t + 1) * I), h, c, W, U, bih, bhh, I, H);
    h = s.h;
    if (kind === "lstm") c = s.c;
    steps.push(s);
  }
  return steps;
}

/** y = V h + c, and for text the softmax over the characters, as models.rnn.readout_step. */
export function readout(V, cvec, h, O, H, text) {
  const y = matvec(V, H, h, 0, O);
  for (let k = 0; k < O; k++) y[k] += cvec[k];
  if (!text) return { y, value: y[0] };
  let m = -Infinity;
  for (const v of y) m = Math.max(m, v);
  let sum = 0;
  const p = y.map((v) => { const e = Math.exp(v - m); sum += e; return e; });
  let best = 0;
  for (let k = 0; k < O; k++) {
    p[k] /= sum;
    if (p[k] > p[best]) best = k;
  }
  return { y, probs: p, best, p: p[best] };
}

// ---- the picture ---------------------------------------------------------------------------------

const GATES = { rnn: [], lstm: [["i", "gate"], ["f", "gate"], ["o", "gate"], ["c", "diverging"]],
                gru: [["r", "gate"], ["z", "gate"]] };
const vec = (v, d = 2) => "[" + Array.from(v, (x) => fmt(x, d)).join(", ") + "]";

function build(root, D, L) {
  root.replaceChildren();
  const T = D.T, H = D.H;
  const controls = el("div", "rs-controls");
  const S = slider("step", L.step, 1, T, 1, "rs-slider");
  const play = el("button", "rs-play", L.play);
  play.type = "button";
  controls.append(S.wrap, play);
  const metrics = el("div", "rs-metrics");
  const formula = el("div", "rs-formula");
  const table = el("table", "rs-table");
  const maps = el("div", "rs-maps");
  const cell = Math.max(12, Math.min(30, 560 / T));
  const units = Array.from({ length: H }, (_, j) => String(j + 1));
  const pick = (_, col) => ui.setStep(col + 1, true);
  const ui = { S, play, metrics, formula, table, maps, heat: {} };
  ui.heat.h = heatmap(H, T, { cell, rowLabels: units, colLabels: D.labels, title: L.hidden_map, kind: "diverging",
                              digits: null, onPick: pick, onKey: (d) => ui.setStep(ui.step + d, true),
                              boxColour: "#ff9f0a", ariaLabel: L.hidden_map });
  maps.append(ui.heat.h.el);
  for (const [g, kind] of GATES[D.kind]) {
    ui.heat[g] = heatmap(H, T, { cell: Math.max(9, cell * 0.7), rowLabels: units, colLabels: null,
                                 title: L[`gate_${g}`], kind, digits: null, onPick: pick,
                                 onKey: (d) => ui.setStep(ui.step + d, true), boxColour: "#ff9f0a" });
    maps.append(ui.heat[g].el);
  }
  const caption = el("div", "rs-caption");
  const details = el("details", "rs-details");
  details.append(el("summary", null, L.table), table, el("div", "rs-note", L.table_note));
  root.append(controls, metrics, formula, details, maps, caption);
  ui.caption = caption;
  return ui;
}

const STATE = new WeakMap();   // parentElement -> {ui, key, step, server, sent, timer}

/** The (H, T) grid (units x time, row-major) of one intermediate over the steps. */
function overTime(steps, name, H, T) {
  const out = new Float64Array(H * T);
  steps.forEach((s, t) => s[name].forEach((v, j) => { out[j * T + t] = v; }));
  return out;
}

/** RNN, LSTM and GRU side by side: each cell's h and gates over time, one step t outlined in all. */
function compare(component) {
  const { data, parentElement } = component;
  const L = data.labels;
  const key = [data.lang, ...data.compare.map((c) => c.W)].join("|");
  let st = STATE.get(parentElement);
  if (!st || st.key !== key) {
    const root = mountRoot(parentElement, "rs-root");
    root.replaceChildren();
    root.classList.add("rs-compare");
    const T = data.compare[0].T;
    const S = slider("compare_step", L.step, 1, T, 1, "rs-slider");
    const cols = el("div", "rs-cols");
    const cells = data.compare.map((c) => {
      const d = { X: decodeFloat32(c.x), W: decodeFloat32(c.W), U: decodeFloat32(c.U), bih: decodeFloat32(c.b_ih),
                  bhh: decodeFloat32(c.b_hh) };
      const steps = runSequence(c.kind, d.X, c.T, c.I, c.H, d.W, d.U, d.bih, d.bhh);
      const col = el("div", "rs-col");
      col.append(el("div", "rs-cell-name", c.name));
      const units = Array.from({ length: c.H }, (_, j) => String(j + 1));
      const names = [["h", "diverging"], ...GATES[c.kind]];
      const maps = names.map(([g, kind]) => {
        const grid = overTime(steps, g, c.H, T);
        const m = heatmap(c.H, T, { cell: Math.max(8, Math.min(24, 300 / T)), rowLabels: units, colLabels: null, kind, digits: null,
                                    title: L[`${c.kind}_${g}`], boxColour: "#ff9f0a",
                                    onPick: (_, col) => set(col + 1), onKey: (dd) => set(st.step + dd) });
        col.append(m.el);
        return { m, grid, vmax: kind === "gate" ? 1 : absMax(grid) };
      });
      cols.append(col);
      return maps;
    });
    root.append(S.wrap, cols);
    st = { key, root, S, cells, step: Math.min(T, Math.max(1, data.step)), T };
    STATE.set(parentElement, st);
    S.input.oninput = () => set(Number(S.input.value));
  }
  function set(t) {
    st.step = Math.min(st.T, Math.max(1, Math.round(t)));
    draw();
  }
  function draw() {
    const t = st.step;
    st.S.input.value = t;
    st.S.out.textContent = `${t} / ${st.T}`;
    for (const maps of st.cells) for (const { m, grid, vmax } of maps) m.update(grid, { vmax, outlineCol: t - 1 });
    st.root.dataset.step = String(t);
    markDrawn(st.root);
  }
  draw();
}

export default function (component) {
  const { data, parentElement, setStateValue } = component;
  if (data && data.compare) return compare(component);
  if (!data || !data.W) return;
  const L = data.labels;
  const D = {
    kind: data.kind, T: data.T, I: data.I, H: data.H, O: data.O, text: data.seq_kind === "text",
    labels: data.x_labels, vocab: data.vocab,
    X: decodeFloat32(data.x), W: decodeFloat32(data.W), U: decodeFloat32(data.U),
    bih: decodeFloat32(data.b_ih), bhh: decodeFloat32(data.b_hh), V: decodeFloat32(data.V), c: decodeFloat32(data.c),
  };
  const key = [data.kind, data.lang, data.x, data.W].join("|");
  let st = STATE.get(parentElement);
  if (!st || st.key !== key) {
    const root = mountRoot(parentElement, "rs-root");
    if (st) clearInterval(st.timer);
    st = { root, key, step: data.step, server: data.step, sent: null, timer: null };
    STATE.set(parentElement, st);
    st.ui = build(root, D, L);
    st.steps = runSequence(D.kind, D.X, D.T, D.I, D.H, D.W, D.U, D.bih, D.bhh);
  } else if (data.step !== st.server && data.step !== st.sent) {
    st.step = data.step;                         // a link or a new page state: the server's step wins
  }
  st.server = data.step;
  const { ui, steps, root } = st;
  const hs = steps.map((s) => s.h);
  const grid = (name) => overTime(steps, name, D.H, D.T);
  const maps = { h: grid("h") };
  for (const [g] of GATES[D.kind]) maps[g] = grid(g);
  const hmax = absMax(maps.h), cmax = maps.c ? absMax(maps.c) : 1;
  const commit = debounce((t) => { st.sent = t; setStateValue("step", t); }, 800);

  function draw() {
    const t = st.step, s = steps[t - 1];
    ui.step = t;
    ui.S.input.value = t;
    ui.S.out.textContent = `${t} / ${D.T}`;
    ui.S.input.setAttribute("aria-valuetext", `${t}: ${D.labels[t - 1]}`);
    ui.heat.h.update(maps.h, { vmax: hmax, outlineCol: t - 1 });
    for (const [g, kind] of GATES[D.kind]) ui.heat[g].update(maps[g], { vmax: kind === "gate" ? 1 : cmax, outlineCol: t - 1 });
    const y = readout(D.V, D.c, s.h, D.O, D.H, D.text);
    const metric = (label, value) => {
      const m = el("div", "rs-metric");
      m.append(el("div", "rs-metric-label", label), el("div", "rs-metric-value", value));
      return m;
    };
    const xLabel = D.labels[t - 1];
    if (D.text) {
      const ch = D.vocab[y.best] === " " ? "␣" : D.vocab[y.best];
      ui.metrics.replaceChildren(metric(fill(L.x_t, { t }), xLabel), metric(fill(L.y_t_text, { t }), `'${ch}'`),
                                 metric(L.p_next, `${Math.round(100 * y.p)}%`));
      root.dataset.next = D.vocab[y.best];
      root.dataset.p = String(y.p);
    } else {
      ui.metrics.replaceChildren(metric(fill(L.x_t, { t }), xLabel), metric(fill(L.y_t_sine, { t }), fmt(y.value)),
                                 metric(L.x_next, t < D.T ? D.labels[t] : "—"));
      root.dataset.value = String(y.value);
    }
    // the state update with this step's numbers (first line: the equation, then its numbers)
    const lines = [];
    if (D.kind === "rnn") {
      lines.push(`h_${t} = tanh(W x_${t} + U h_${t - 1} + b)`,
                 `     = tanh(${vec(s.Wx)} + ${vec(s.Uh)} + ${vec(s.b)})`,
                 `     = tanh(${vec(s.pre)})`, `     = ${vec(s.h)}`);
    } else if (D.kind === "lstm") {
      lines.push(`i_${t} = σ(W_i x_${t} + U_i h_${t - 1} + b_i) = ${vec(s.i)}`,
                 `f_${t} = ${vec(s.f)}    o_${t} = ${vec(s.o)}`, `g_${t} = tanh(…) = ${vec(s.g)}`,
                 `c_${t} = f_${t} ⊙ c_${t - 1} + i_${t} ⊙ g_${t} = ${vec(s.f)} ⊙ ${vec(s.c_prev)} + ${vec(s.i)} ⊙ ${vec(s.g)}`,
                 `    = ${vec(s.c)}`, `h_${t} = o_${t} ⊙ tanh(c_${t}) = ${vec(s.h)}`);
    } else {
      lines.push(`r_${t} = σ(W_r x_${t} + U_r h_${t - 1} + b_r) = ${vec(s.r)}`,
                 `z_${t} = σ(W_z x_${t} + U_z h_${t - 1} + b_z) = ${vec(s.z)}`,
                 `n_${t} = tanh(W_n x_${t} + b_in + r_${t} ⊙ (U_n h_${t - 1} + b_hn)) = ${vec(s.n)}`,
                 `h_${t} = (1 − z_${t}) ⊙ n_${t} + z_${t} ⊙ h_${t - 1}`,
                 `    = ${vec(Array.from(s.z, (z) => 1 - z))} ⊙ ${vec(s.n)} + ${vec(s.z)} ⊙ ${vec(s.h_prev)}`,
                 `    = ${vec(s.h)}`);
    }
    const shownNext = D.vocab && D.vocab[y.best] === " " ? "␣" : D.vocab && D.vocab[y.best];
    lines.push(D.text ? `x_${t} = one-hot('${xLabel}')    y_${t} = softmax(V h_${t} + c) → '${shownNext}' (${Math.round(100 * y.p)}%)`
                      : `x_${t} = ${fmt(D.X[(t - 1) * D.I])}    y_${t} = V h_${t} + c = ${fmt(y.value)}`);
    ui.formula.replaceChildren(...lines.map((l) => el("div", "rs-eq", l)));
    // every number of this step, one row per hidden unit
    const cols = { rnn: [["h_{t-1}", s.h_prev], ["W x_t", s.Wx], ["U h_{t-1}", s.Uh], ["b", s.b], ["pre", s.pre], ["h_t", s.h]],
                   lstm: [["i", s.i], ["f", s.f], ["g", s.g], ["o", s.o], ["c_{t-1}", s.c_prev], ["c_t", s.c], ["h_t", s.h]],
                   gru: [["r", s.r], ["z", s.z], ["n", s.n], ["h_{t-1}", s.h_prev], ["h_t", s.h]] }[D.kind];
    const head = el("tr");
    head.append(el("th", null, ""), ...cols.map(([n]) => el("th", null, n)));
    const body = Array.from({ length: D.H }, (_, j) => {
      const tr = el("tr");
      tr.append(el("th", null, `${L.unit} ${j + 1}`), ...cols.map(([, v]) => el("td", null, fmt(v[j], 4))));
      return tr;
    });
    ui.table.replaceChildren(head, ...body);
    ui.caption.textContent = fill(L.hidden_caption, { t });
    root.dataset.step = String(t);
    root.dataset.h = JSON.stringify(Array.from(s.h));
    markDrawn(root);
  }

  ui.setStep = (t, user) => {
    const v = Math.min(D.T, Math.max(1, Math.round(t)));
    if (v === st.step && !user) return;
    st.step = v;
    draw();
    if (user && !st.timer) commit(v);
  };
  ui.S.input.oninput = () => ui.setStep(Number(ui.S.input.value), true);
  ui.play.onclick = () => {
    if (st.timer) {                                           // stop: the step reached goes back
      clearInterval(st.timer);
      st.timer = null;
      ui.play.textContent = L.play;
      ui.play.classList.remove("rs-playing");
      commit(st.step);
      return;
    }
    ui.play.textContent = L.stop;
    ui.play.classList.add("rs-playing");
    st.timer = setInterval(() => {
      ui.setStep(st.step % D.T + 1, false);
      if (st.step === D.T) ui.play.onclick();
    }, 600);
  };
  draw();
}
