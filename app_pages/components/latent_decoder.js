// The autoencoder's latent map, decoded in the browser (Streamlit components v2, no framework, no CDN).
//
// Python sends the latent-2 model's decoder once (W': 784 x 2 and b': 784, float32), the 1,000
// held-out digits' codes, labels and reconstruction errors, and their pixels as one grey PNG. Picking a point (the two
// sliders, a click on the map, the arrow keys on the map) only needs
//
//     x_hat = sigmoid(W' z + b')         z = (z1, z2): 784 dot products of length 2
//
// (bigmodel_core.models.autoencoder.Autoencoder.decode; a browser test compares the two to 1e-5), so
// the decoded image, the picked digit, the map's cross and the formula's numbers redraw here with no
// server rerun. The point goes back to Python (setStateValue) 0.6 s after the last move, for the URL.

// ---- the arithmetic (pure, exported for the browser test) ----------------------------------------

/** x_hat = sigmoid(W z + b): W (784 x latent, row-major), b (784,), z (latent,) -> Float64Array(784). */
export function decode(W, b, z) {
  const n = b.length, k = z.length;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let a = b[i];
    for (let j = 0; j < k; j++) a += W[i * k + j] * z[j];
    out[i] = 1 / (1 + Math.exp(-a));
  }
  return out;
}

/** The digit whose code is nearest to (z1, z2), distances measured in screen units (sx, sy per unit). */
export function nearestDigit(codes, z1, z2, sx = 1, sy = 1) {
  let best = -1, bestD = Infinity;
  for (let i = 0; i < codes.length / 2; i++) {
    const d = ((codes[2 * i] - z1) * sx) ** 2 + ((codes[2 * i + 1] - z2) * sy) ** 2;
    if (d < bestD) { bestD = d; best = i; }
  }
  return best;
}

/** A code rounded to the sliders' step and kept on the map: what a click puts under the cross. */
export const onGrid = (v, hi, step = 0.1) => Math.min(hi, Math.max(0, Number((Math.round(v / step) * step).toFixed(10))));

// ---- the picture ---------------------------------------------------------------------------------

/** A 28 x 28 grey image (values in [0, 1]: 0 black, 1 white) into a canvas, shown large and crisp. */
function paint(canvas, pixels, scale = 255) {
  const ctx = canvas.getContext("2d");
  const img = ctx.createImageData(28, 28);
  for (let i = 0; i < 784; i++) {
    const v = Math.max(0, Math.min(255, Math.round(pixels[i] * scale)));
    img.data.set([v, v, v, 255], 4 * i);
  }
  ctx.putImageData(img, 0, 0);
}

/** A term of a sum with its sign: "+ 0.369", "− 0.115". */
const term = (v) => `${v < 0 ? "−" : "+"} ${fmt(Math.abs(v), 3)}`;

const MAP = { width: 460, height: 400, margin: [10, 12, 44, 48] };

function build(root, data, D) {
  const L = data.labels;
  root.replaceChildren();
  const grid = el("div", "ld-grid");
  const left = el("div", "ld-left");
  left.append(el("div", "ld-caption", fill(L.map_caption, { n: D.n })));
  const map = svg("svg", { viewBox: `0 0 ${MAP.width} ${MAP.height}`, class: "ld-map", tabindex: "0", role: "application" });
  map.setAttribute("aria-label", L.map_label);
  left.append(map);
  const right = el("div", "ld-right");
  const Z1 = slider("z1", L.z1, 0, data.domain[0], data.step, "ld-slider");
  const Z2 = slider("z2", L.z2, 0, data.domain[1], data.step, "ld-slider");
  const images = el("div", "ld-images");
  const figure = (cls) => {
    const f = el("figure", "ld-figure");
    const c = el("canvas", cls);
    c.width = 28; c.height = 28;
    const cap = el("figcaption", "ld-figcaption");
    f.append(c, cap);
    images.append(f);
    return { canvas: c, cap };
  };
  const original = figure("ld-original"), decoded = figure("ld-decoded");
  original.cap.textContent = L.original;
  const picked = el("p", "ld-picked");
  right.append(Z1.wrap, Z2.wrap, images, picked);
  grid.append(left, right);
  const formula = el("div", "ld-formula");
  root.append(grid, formula);

  // the map's fixed layers: axes and the 1,000 digits, drawn once
  const [mt, mr, mb, ml] = MAP.margin;
  const X = linear(0, data.domain[0], ml, MAP.width - mr), Y = linear(0, data.domain[1], MAP.height - mb, mt);
  for (const v of niceTicks(0, data.domain[0], 6)) {
    map.append(svg("line", { x1: X(v), x2: X(v), y1: mt, y2: MAP.height - mb, class: "ld-gridline" }));
    const t = svg("text", { x: X(v), y: MAP.height - mb + 16, "text-anchor": "middle", class: "ld-tick" });
    t.textContent = tickText(v);
    map.append(t);
  }
  for (const v of niceTicks(0, data.domain[1], 5)) {
    map.append(svg("line", { x1: ml, x2: MAP.width - mr, y1: Y(v), y2: Y(v), class: "ld-gridline" }));
    const t = svg("text", { x: ml - 6, y: Y(v) + 4, "text-anchor": "end", class: "ld-tick" });
    t.textContent = tickText(v);
    map.append(t);
  }
  const xt = svg("text", { x: (ml + MAP.width - mr) / 2, y: MAP.height - 6, "text-anchor": "middle", class: "ld-axis" });
  xt.textContent = "z₁";
  const yt = svg("text", { x: 14, y: (mt + MAP.height - mb) / 2, "text-anchor": "middle", class: "ld-axis" });
  yt.textContent = "z₂";
  map.append(xt, yt);
  const digits = svg("g", { class: "ld-digits" });
  for (let i = 0; i < D.n; i++) {
    const t = svg("text", { x: X(D.codes[2 * i]).toFixed(1), y: (Y(D.codes[2 * i + 1]) + 4).toFixed(1), fill: data.colors[data.digits[i]],
      "text-anchor": "middle" });
    t.textContent = String(data.digits[i]);
    digits.append(t);
  }
  const ring = svg("circle", { r: 15, class: "ld-ring" });
  const cross = svg("path", { d: "M-8,0H8M0,-8V8", class: "ld-cross" });
  const marker = svg("g", { class: "ld-marker" });
  marker.append(ring, cross);
  map.append(digits, marker);
  return { map, X, Y, Z1, Z2, original, decoded, picked, formula, marker };
}

const STATE = new WeakMap();   // parentElement -> {root, ui, settings, server, pending, arrays}

export default function (component) {
  const { data, parentElement, setStateValue } = component;
  if (!data || !data.W) return;
  const L = data.labels;
  let st = STATE.get(parentElement);
  if (!st || st.lang !== data.lang || st.W !== data.W) {
    const root = mountRoot(parentElement, "ld-root");
    const D = { W: decodeFloat32(data.W), b: decodeFloat32(data.b), codes: decodeFloat32(data.codes),
      sheet: new Image(), bce: decodeFloat32(data.bce) };
    D.sheet.src = data.sheet;                                   // the held-out digits, sheet_cols a row
    D.n = D.bce.length;
    st = { root, D, ui: build(root, data, D), lang: data.lang, W: data.W, settings: null, server: null };
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
  const { ui, D } = st;
  const [hi1, hi2] = data.domain;

  function draw() {
    const { z1, z2, picked } = st.settings;
    ui.Z1.input.value = z1; ui.Z1.out.textContent = fmt(z1, 1);
    ui.Z2.input.value = z2; ui.Z2.out.textContent = fmt(z2, 1);
    for (const s of [ui.Z1, ui.Z2]) s.input.setAttribute("aria-valuetext", s.out.textContent);
    const xhat = decode(D.W, D.b, [z1, z2]);
    paint(ui.decoded.canvas, xhat);
    const ctx = ui.original.canvas.getContext("2d");
    const cols = data.sheet_cols;
    if (D.sheet.complete) ctx.drawImage(D.sheet, 28 * (picked % cols), 28 * Math.floor(picked / cols), 28, 28, 0, 0, 28, 28);
    else D.sheet.onload = draw;
    ui.decoded.cap.textContent = fill(L.decoded, { z1: fmt(z1, 1), z2: fmt(z2, 1) });
    ui.marker.setAttribute("transform", `translate(${ui.X(z1).toFixed(1)},${ui.Y(z2).toFixed(1)})`);
    const label = data.digits[picked];
    richText(ui.picked, fill(L.picked, { idx: picked, label }));
    let top = 0;
    for (let i = 1; i < 784; i++) if (xhat[i] > xhat[top]) top = i;
    const w1 = D.W[2 * top], w2 = D.W[2 * top + 1], b = D.b[top];
    ui.formula.replaceChildren(
      richText(el("p", "ld-now"), fill(L.formula_now, { idx: picked, label, z1: fmt(D.codes[2 * picked], 2),
        z2: fmt(D.codes[2 * picked + 1], 2), latent: 2, bce: fmt(D.bce[picked], 4) })),
      el("div", "ld-eq", `x̂ = sigmoid(W′₇₈₄ₓ₂ · (${fmt(z1, 1)}, ${fmt(z2, 1)})ᵀ + b′)`),
      el("div", "ld-eq", fill(L.formula_pixel, { i: top, r: Math.floor(top / 28), c: top % 28, w1: fmt(w1, 3),
        w2: term(w2), z1: fmt(z1, 1), z2: fmt(z2, 1), b: term(b), v: fmt(xhat[top], 4) })));
    Object.assign(st.root.dataset, { z1: String(z1), z2: String(z2), picked: String(picked),
      decoded: JSON.stringify(Array.from(xhat)) });
    markDrawn(st.root);
  }

  function set(changes) {
    Object.assign(st.settings, changes);
    draw();                                                     // painted in the next frame
    st.commit();                                                // the URL hears it once the moves stop
  }
  st.root.oninput = (e) => set({ [e.target.name]: Number(e.target.value) });
  ui.map.onclick = (e) => {                                     // pick the nearest held-out digit
    const box = ui.map.getBoundingClientRect();
    const px = (e.clientX - box.left) * MAP.width / box.width, py = (e.clientY - box.top) * MAP.height / box.height;
    const sx = ui.X(1) - ui.X(0), sy = ui.Y(0) - ui.Y(1);
    const z1 = (px - ui.X(0)) / sx, z2 = (ui.Y(0) - py) / sy;
    const i = nearestDigit(D.codes, z1, z2, sx, sy);
    set({ picked: i, z1: onGrid(D.codes[2 * i], hi1, data.step), z2: onGrid(D.codes[2 * i + 1], hi2, data.step) });
  };
  ui.map.onkeydown = (e) => {                                   // the arrow keys move the cross
    const moves = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, 1], ArrowDown: [0, -1] };
    if (!(e.key in moves)) return;
    e.preventDefault();
    const [dx, dy] = moves[e.key];
    const s = st.settings;
    set({ z1: onGrid(s.z1 + dx * data.step, hi1, data.step), z2: onGrid(s.z2 + dy * data.step, hi2, data.step) });
  };
  draw();
}
