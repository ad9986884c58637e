// Next-token sampling, drawn in the browser (Streamlit components v2, no framework, no CDN).
//
// Python sends the model's next-token logits once (all 49,152 of them, float32, base64) with the
// display strings of the most likely tokens. Temperature, top-k and top-p only re-arrange those
// numbers, so the sliders redraw here in one frame, with no server rerun:
//
//     p_i = exp(z_i / T) / sum_j exp(z_j / T)          (softmax at temperature T; T = 0: argmax)
//     keep the top_k most probable (0 = all), then the smallest set of the most probable whose
//     cumulative probability reaches top_p (the token that crosses it included); renormalize.
//
// The same rule as bigmodel_core.ops.sampling.sampling_distribution (a browser test compares them).
// The component sits inside an st.form: every slider move calls setStateValue, which a form holds
// back until "Sample" or "Generate" submits it, so Python hears the settings only when they are used.

// ---- the arithmetic (pure, exported for the browser test) ----------------------------------------

/** Indices of z sorted by value, largest first (ties: smaller index first). */
export function argsortDesc(z) {
  const order = Array.from(z, (_, i) => i);
  order.sort((a, b) => (z[b] - z[a]) || (a - b));
  return order;
}

/** The distribution a sampler draws from: Float64Array of probabilities, zeros for cut tokens. */
export function samplingDistribution(z, temperature, topK, topP, order = argsortDesc(z)) {
  const n = z.length;
  const probs = new Float64Array(n);
  if (!(temperature > 0)) {                       // T = 0: greedy, all mass on the argmax
    probs[order[0]] = 1;
    return probs;
  }
  const zmax = z[order[0]];
  let sum = 0;
  for (let j = 0; j < n; j++) {                   // exp((z_j - z_max) / T): the same ratios, no overflow
    const e = Math.exp((z[j] - zmax) / temperature);
    probs[j] = e;
    sum += e;
  }
  for (let j = 0; j < n; j++) probs[j] /= sum;
  let keep = topK > 0 && topK < n ? topK : n;     // top-k: the k most probable
  if (topP < 1) {                                 // top-p over what top-k kept, renormalized
    let mass = 0;
    for (let r = 0; r < keep; r++) mass += probs[order[r]];
    let cum = 0, r = 0;
    while (r < keep) {
      cum += probs[order[r]] / mass;
      r += 1;
      if (cum >= topP) break;                     // the token that crosses top_p is kept
    }
    keep = r;
  }
  let kept = 0;
  for (let r = 0; r < keep; r++) kept += probs[order[r]];
  const out = new Float64Array(n);
  for (let r = 0; r < keep; r++) out[order[r]] = probs[order[r]] / kept;
  return out;
}

/** Entropy in bits of a distribution (zeros contribute nothing). */
export function entropyBits(probs) {
  let h = 0;
  for (let j = 0; j < probs.length; j++) if (probs[j] > 0) h -= probs[j] * Math.log2(probs[j]);
  return h;
}

/** log sum_j exp(z_j / T), computed stably (the softmax's denominator, as a power of e). */
function logSumExp(z, temperature, zmax) {
  let s = 0;
  for (let j = 0; j < z.length; j++) s += Math.exp((z[j] - zmax) / temperature);
  return zmax / temperature + Math.log(s);
}

// ---- the picture ---------------------------------------------------------------------------------

/** Build the DOM once per mounted component; later calls only swap in new data. */
function build(root, L) {
  root.replaceChildren();
  const controls = el("div", "nt-controls");
  const T = slider("temperature", L.temperature, 0, 2, 0.05, "nt-slider");
  const K = slider("top_k", L.top_k, 0, 100, 1, "nt-slider");
  const P = slider("top_p", L.top_p, 0.05, 1, 0.01, "nt-slider");
  controls.append(T.wrap, K.wrap, P.wrap);
  const bars = el("div", "nt-bars");
  bars.setAttribute("role", "list");
  bars.setAttribute("aria-label", L.bars_label);
  const rows = [];
  for (let i = 0; i < 20; i++) {
    const row = el("div", "nt-row");
    row.setAttribute("role", "listitem");
    const tok = el("span", "nt-token");
    const track = el("span", "nt-track");
    const before = el("span", "nt-bar-before");   // softmax(z/T) before the cut, pale
    const bar = el("span", "nt-bar");             // what the sampler draws from
    track.append(before, bar);
    const val = el("span", "nt-prob");
    row.append(tok, track, val);
    bars.append(row);
    rows.push({ row, tok, before, bar, val });
  }
  const formula = el("div", "nt-formula");
  const stats = el("div", "nt-stats");
  root.append(controls, bars, formula, stats);
  return { T, K, P, rows, formula, stats };
}

const STATE = new WeakMap();   // parentElement -> {ui, data, settings, server}

export default function (component) {
  const { data, parentElement, setStateValue } = component;
  if (!data || !data.logits) return;
  const L = data.labels;
  let st = STATE.get(parentElement);
  if (!st || st.lang !== data.lang) {
    let root = parentElement.querySelector(".nt-root");
    if (!root) {
      root = el("div", "nt-root");
      parentElement.append(root);
    }
    st = { root, ui: build(root, L), lang: data.lang, settings: null, server: null };
    STATE.set(parentElement, st);
  }
  // the server's settings win when they changed (a link, a reset); otherwise keep the learner's
  const server = JSON.stringify(data.settings);
  if (st.server !== server) {
    st.settings = { ...data.settings };
    st.server = server;
  }
  const z = decodeFloat32(data.logits);
  const order = argsortDesc(z);
  const names = new Map(data.tokens);             // [[id, display string], ...] for the likeliest ids
  const name = (id) => names.get(id) ?? `#${id}`;
  const ui = st.ui;
  st.root.dataset.vocab = String(z.length);

  function draw() {
    const { temperature: Tv, top_k: Kv, top_p: Pv } = st.settings;
    const probs = samplingDistribution(z, Tv, Kv, Pv, order);
    const zmax = z[order[0]];
    const base = Tv > 0 ? samplingDistribution(z, Tv, 0, 1, order) : probs;   // before any cut
    ui.T.input.value = Tv; ui.K.input.value = Kv; ui.P.input.value = Pv;
    ui.T.out.textContent = Tv > 0 ? fmt(Tv) : fmt(Tv) + " · " + L.greedy;
    ui.K.out.textContent = Kv > 0 ? String(Kv) : "0 · " + L.all;
    ui.P.out.textContent = fmt(Pv);
    ui.T.input.setAttribute("aria-valuetext", ui.T.out.textContent);
    ui.K.input.setAttribute("aria-valuetext", ui.K.out.textContent);
    const top = base[order[0]] || 1;
    let keptCount = 0, keptMass = 0;
    for (let r = 0; r < order.length; r++) if (probs[order[r]] > 0) { keptCount++; keptMass += base[order[r]]; }
    ui.rows.forEach((row, r) => {
      const id = order[r];
      const p = probs[id];
      row.tok.textContent = name(id);
      row.row.dataset.id = String(id);
      row.row.dataset.p = String(p);
      row.row.classList.toggle("nt-cut", p === 0);
      row.before.style.width = (100 * base[id] / Math.max(top, probs[order[0]])) + "%";
      row.bar.style.width = (100 * p / Math.max(top, probs[order[0]])) + "%";
      row.val.textContent = p > 0 ? pct(p) : L.cut;
      row.row.title = `z = ${fmt(z[id], 3)}`;
    });
    // the formula with the current numbers, for the most probable token
    const i = order[0];
    const tok = name(i);
    if (Tv > 0) {
      const lse = logSumExp(z, Tv, zmax);
      ui.formula.innerHTML = "";
      ui.formula.append(
        el("div", "nt-eq", `p_i = exp(z_i / T) / Σ_j exp(z_j / T)`),
        el("div", "nt-eq", fill(L.formula_numbers, {
          token: tok, z: fmt(z[i], 2), T: fmt(Tv, 2), zT: fmt(z[i] / Tv, 2), lse: fmt(lse, 2),
          n: z.length.toLocaleString("en-US"), p: fmt(base[i], 4),
        })),
      );
    } else {
      ui.formula.replaceChildren(el("div", "nt-eq", fill(L.formula_greedy, { token: tok })));
    }
    const H = entropyBits(probs);
    ui.stats.replaceChildren(
      el("div", "nt-stat", fill(L.kept, { n: keptCount.toLocaleString("en-US"), mass: pct(keptMass) })),
      el("div", "nt-stat", fill(L.entropy, { h: fmt(H, 2), choices: fmt(Math.pow(2, H), 1) })),
    );
    st.root.dataset.entropy = String(H);
    st.root.dataset.drawn = String(performance.now());
  }

  function onInput() {
    st.settings = {
      temperature: Number(ui.T.input.value),
      top_k: Number(ui.K.input.value),
      top_p: Number(ui.P.input.value),
    };
    draw();                                      // painted in the next frame
    setStateValue("settings", st.settings);      // held by the form until Sample / Generate
  }
  for (const s of [ui.T, ui.K, ui.P]) s.input.oninput = onInput;
  draw();
}
