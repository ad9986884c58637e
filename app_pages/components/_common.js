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
