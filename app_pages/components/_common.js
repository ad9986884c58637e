// Shared helpers for every client-side explorable (prepended to each explorable's own file by
// app_pages/_explorables.py: one module per component, no framework, no CDN, no build step).
//
// Conventions every explorable follows:
// - Python sends its arrays once, as little-endian float32 in base64 (decodeFloat32), plus the
//   labels in the learner's language; the JS only re-arranges those numbers and redraws.
// - The DOM is built once per mounted component (mountRoot) and only updated afterwards.
// - Every slider is an <input type="range">: the arrow keys move it, screen readers read it
//   (aria-label, aria-valuetext), and the browser tests find it by its name.
// - After each redraw the root gets data-drawn = performance.now() (the benches wait for it), and
//   the numbers a browser test compares with the Python core go into data-* attributes.
// - setStateValue(name, value) sends a value back to Python (one rerun): only on a commit.

/** Number with d decimals. */
export const fmt = (x, d = 2) => Number(x).toFixed(d);

/** A percentage that stays readable for tiny probabilities. */
export const pct = (p) => (p >= 0.0995 ? (100 * p).toFixed(1) : p >= 0.000995 ? (100 * p).toFixed(2)
  : (100 * p).toPrecision(2)) + "%";

/** "{name}" placeholders in a translated template filled from params. */
export const fill = (template, params) =>
  template.replace(/\{(\w+)\}/g, (_, k) => (k in params ? params[k] : `{${k}}`));

/** document.createElement with a class and text. */
export function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

/** An SVG element with attributes. */
export function svg(tag, attrs = {}) {
  const e = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  return e;
}

/** A labelled range slider: {wrap, input, out}; the caller sets value and listens to "input". */
export function slider(name, label, min, max, step, cls = "bm-slider") {
  const wrap = el("label", cls);
  const head = el("span", `${cls}-head`);
  const title = el("span", `${cls}-label`, label);
  const out = el("output", `${cls}-value`);
  const input = el("input");
  Object.assign(input, { type: "range", min, max, step, name });
  input.setAttribute("aria-label", label);
  head.append(title, out);
  wrap.append(head, input);
  return { wrap, input, out };
}

/** A float32 array sent by Python (float32_b64) as a Float32Array. */
export function decodeFloat32(b64) {
  const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  return new Float32Array(bytes.buffer);
}

/** The component's root element (created once inside parentElement, reused on later renders). */
export function mountRoot(parentElement, cls) {
  let root = parentElement.querySelector(`.${cls}`);
  if (!root) {
    root = el("div", cls);
    parentElement.append(root);
  }
  return root;
}

/** Mark a finished redraw (benches and browser tests wait for it). */
export function markDrawn(root) {
  root.dataset.drawn = String(performance.now());
}

/** Calls fn once the calls have stopped for `ms` milliseconds: the commit of a value moved with the
 *  keyboard or a slider (one message to the server, not one per key). call.cancel() drops a pending one. */
export function debounce(fn, ms) {
  let timer = null;
  const call = (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => { timer = null; fn(...args); }, ms);
  };
  call.cancel = () => clearTimeout(timer);
  return call;
}

/** The settings round trip of an explorable whose state is one `settings` object (kept in st, its
 *  per-mount state): the server's settings win when they change (a link, a reset, the first render)
 *  unless they echo our own commit; st.commit() sends st.settings back `ms` after the last call. */
export function syncSettings(st, data, setStateValue, ms = 600) {
  const server = JSON.stringify(data.settings);
  if (st.server !== server) {
    if (server !== st.pending) st.settings = { ...data.settings };
    st.server = server;
  }
  st.setStateValue = setStateValue;
  st.commit ??= debounce(() => {
    st.pending = JSON.stringify(st.settings);
    st.setStateValue("settings", { ...st.settings });
  }, ms);
}

/** A translated line with **bold** and *italic* parts (the locale's markdown) as DOM nodes in host:
 *  no innerHTML. Returns host. */
export function richText(host, text) {
  const s = String(text), nodes = [], re = /\*\*(.+?)\*\*|\*(.+?)\*/g;
  let last = 0, m;
  while ((m = re.exec(s))) {
    nodes.push(document.createTextNode(s.slice(last, m.index)), m[1] !== undefined ? el("b", "", m[1]) : el("i", "", m[2]));
    last = re.lastIndex;
  }
  nodes.push(document.createTextNode(s.slice(last)));
  host.replaceChildren(...nodes);
  return host;
}

/** About n round tick values covering [lo, hi] (steps of 1, 2 or 5 times a power of ten). */
export function niceTicks(lo, hi, n = 5) {
  const span = hi - lo || 1;
  const raw = span / n;
  const p = Math.pow(10, Math.floor(Math.log10(raw)));
  const step = [1, 2, 5, 10].map((m) => m * p).find((s) => s >= raw) || 10 * p;
  const out = [];
  for (let v = Math.ceil(lo / step - 1e-9) * step; v <= hi + 1e-9 * span; v += step) {
    out.push(Math.abs(v) < 1e-12 * span ? 0 : Number(v.toPrecision(12)));    // 0.30000000000000004 -> 0.3
  }
  return out;
}

/** Round numbers for a tick label: 0.5, 2, 1e-10. */
export const tickText = (v) => (v !== 0 && (Math.abs(v) < 1e-3 || Math.abs(v) >= 1e5) ? v.toExponential(0)
  : String(Number(v.toPrecision(6))));

// ---- colour scales: the server's (bigmodel_core/charts) so a picture looks the same either side ----

/** "#rrggbb" as [r, g, b]. */
export const hexRgb = (h) => [1, 3, 5].map((k) => parseInt(h.slice(k, k + 2), 16));

/** [r, g, b] as a CSS colour. */
export const rgbCss = ([r, g, b]) => `rgb(${r},${g},${b})`;

/** [r, g, b] of a fraction u in [0, 1] along colour stops ([r, g, b] each; linear in RGB between stops). */
export function ramp(stops, u) {
  const t = Math.min(1, Math.max(0, u)) * (stops.length - 1);
  const i = Math.min(stops.length - 2, Math.floor(t)), f = t - i;
  return stops[i].map((a, k) => Math.round(a + f * (stops[i + 1][k] - a)));
}

/** ColorBrewer RdBu from blue (low) to red (high): matplotlib's RdBu_r, Vega's reversed "redblue". */
export const RDBU_R = [[5, 48, 97], [33, 102, 172], [67, 147, 195], [146, 197, 222], [209, 229, 240],
  [247, 247, 247], [253, 219, 199], [244, 165, 130], [214, 96, 77], [178, 24, 43], [103, 0, 31]];

/** [r, g, b] of v on the red-blue diverging scale over [-vmax, vmax] (white at 0). */
export const diverging = (v, vmax) => ramp(RDBU_R, (v / (vmax || 1) + 1) / 2);

/** Largest |v| over the finite entries (1 when there are none): a diverging scale's vmax. */
export function absMax(values) {
  let m = 0;
  for (const v of values) if (Number.isFinite(v) && Math.abs(v) > m) m = Math.abs(v);
  return m || 1;
}

/** Black or white ink for text on an [r, g, b] background. */
export const ink = ([r, g, b]) => (0.299 * r + 0.587 * g + 0.114 * b < 140 ? "#fff" : "#111");
