// Pooling, drawn in the browser (Streamlit components v2, no framework, no CDN). One explorable with
// two parts, mounted twice by app_pages/pooling.py: data.part is "window" or "shift".
//
// Python sends the input map x (H, W) as float32 once, with the pooling kind, window k and stride s.
// Everything else only re-arranges those numbers, so it is computed and drawn here:
//
//     p(r, c) = max (or mean) of x over the k x k window at (r*s, c*s)      out = floor((i - k) / s) + 1
//     global average pooling: the mean of the whole map
//     translation invariance: shift x right by a few pixels (zeros move in), pool both, count the
//     pooled values that stayed the same among those that are not zero in both.
//
// The functions below are bigmodel_core/ops/pool.py written in JS (pool_output_size, PoolExplained.window,
// pool2d_explained, global_avg_pool, shift_image, _share_same, translation_invariance); a browser test
// compares them on random cases. A picked cell and the shift go back to Python (setStateValue) only
// when they settle, for the address bar.

// ---- the arithmetic (pure, exported for the browser test) ----------------------------------------

/** floor((i - k) / s) + 1: pool_output_size. */
export const poolOutputSize = (i, size, stride) => Math.floor((i - size) / stride) + 1;

/** The window behind pooled cell (row, col): PoolExplained.window. values: Float64Array (k*k);
 *  winner: input [row, col] of the first largest value in reading order (max pooling), else null. */
export function poolWindow(x, [H, W], kind, size, stride, row, col) {
  const top = row * stride, left = col * stride;
  const values = new Float64Array(size * size);
  let best = -Infinity, winner = null, sum = 0;
  for (let i = 0; i < size; i++) {
    for (let j = 0; j < size; j++) {
      const v = x[(top + i) * W + left + j];
      values[i * size + j] = v;
      sum += v;
      if (v > best) { best = v; winner = [top + i, left + j]; }     // strict: the first max wins ties
    }
  }
  return kind === "max" ? { row, col, top, left, values, result: best, winner }
    : { row, col, top, left, values, result: sum / (size * size), winner: null };
}

/** The whole pooled map: pool2d_explained. out: Float64Array (H_out*W_out); argmax (max pooling):
 *  Int32Array (H_out*W_out*2) of input (row, col), else null. */
export function poolMap(x, [H, W], kind, size, stride) {
  const Ho = poolOutputSize(H, size, stride), Wo = poolOutputSize(W, size, stride);
  const out = new Float64Array(Ho * Wo);
  const argmax = kind === "max" ? new Int32Array(Ho * Wo * 2) : null;
  for (let r = 0; r < Ho; r++) {
    for (let c = 0; c < Wo; c++) {
      const win = poolWindow(x, [H, W], kind, size, stride, r, c);
      out[r * Wo + c] = win.result;
      if (argmax) argmax.set(win.winner, 2 * (r * Wo + c));
    }
  }
  return { out, shape: [Ho, Wo], argmax };
}

/** The mean of the whole map: global_avg_pool. */
export function globalAvgPool(x) {
  let s = 0;
  for (const v of x) s += v;
  return s / x.length;
}

/** x moved right by dx pixels; the cells that move in are zeros: shift_image. */
export function shiftImage(x, [H, W], dx) {
  const out = new Float64Array(H * W);
  for (let r = 0; r < H; r++) for (let c = dx; c < W; c++) out[r * W + c] = x[r * W + c - dx];
  return out;
}

/** Cells where a and b agree within tol, and their share among cells non-zero in a or b: _share_same. */
export function shareSame(a, b, tol) {
  const same = new Uint8Array(a.length);
  let active = 0, kept = 0;
  for (let n = 0; n < a.length; n++) {
    same[n] = Math.abs(a[n] - b[n]) <= tol ? 1 : 0;
    if (Math.abs(a[n]) > tol || Math.abs(b[n]) > tol) { active += 1; kept += same[n]; }
  }
  return { same, share: active ? kept / active : 1 };
}

/** Shift x right by `shift` pixels, pool both, compare cell by cell: translation_invariance. */
export function translationInvariance(x, shape, shift, kind, size, stride, tol = 1e-6) {
  const shifted = shiftImage(x, shape, shift);
  const a = poolMap(x, shape, kind, size, stride), b = poolMap(shifted, shape, kind, size, stride);
  const { same, share } = shareSame(a.out, b.out, tol);
  return { shifted, pooled: a.out, pooledShifted: b.out, outShape: a.shape, unchanged: same, share,
    shareRaw: shareSame(x, shifted, tol).share };
}

// ---- the pictures ----------------------------------------------------------------------------------

const SIDE_REM = 16;            // the input's longer side in the window view
const SMALL_REM = 12.5;         // each of the three pictures of the shift view
const COMMIT_MS = 700;          // a value moved with the keyboard reaches Python this long after the last key
const pctText = (v) => `${Math.round(100 * v)}%`;

function buildWindow(root, L) {
  root.replaceChildren();
  const { top, inPanel, inTitle, inCanvas, outPanel, outTitle, map, pick, R, C } = mapPanels("pl", L);
  const winTitle = el("div", "pl-title");
  const grid = el("div", "pl-window");
  const metric = el("div", "pl-metric");
  const metricLabel = el("div", "pl-metric-label"), metricValue = el("div", "pl-metric-value");
  metric.append(metricLabel, metricValue);
  const result = el("div", "pl-result");
  pick.append(R.wrap, C.wrap, winTitle, grid, metric, result);
  top.append(inPanel, outPanel, pick);
  const formula = el("div", "pl-formula");
  root.append(top, formula);
  return { inTitle, inCanvas, outTitle, map, R, C, winTitle, grid, metricLabel, metricValue, result, formula };
}

function buildShift(root, L) {
  root.replaceChildren();
  const side = el("div", "pl-shift-side");
  const S = slider("shift", L.shift, 0, 3, 1, "pl-slider");
  const metric = el("div", "pl-metric");
  const metricLabel = el("div", "pl-metric-label", L.unchanged), metricValue = el("div", "pl-metric-value");
  const delta = el("div", "pl-delta");
  metric.append(metricLabel, metricValue, delta);
  const raw = el("div", "pl-caption");
  side.append(S.wrap, metric, raw);
  const pics = el("div", "pl-shift-pics");
  const panels = [0, 1, 2].map(() => {
    const f = el("figure", "pl-panel");
    const title = el("figcaption", "pl-title");
    const canvas = el("canvas");
    canvas.setAttribute("role", "img");
    f.append(title, canvas);
    pics.append(f);
    return { title, canvas, f };
  });
  const changed = el("div", "pl-caption", L.changed_caption);
  panels[2].f.append(changed);
  const global = el("div", "pl-global");
  const row = el("div", "pl-shift");
  row.append(side, pics, global);
  root.append(row);
  return { S, metricValue, delta, raw, panels, changed, pics, global };
}

const STATE = new WeakMap();   // parentElement -> {root, ui, lang, part, value, server}

export default function (component) {
  const { data, parentElement, setStateValue } = component;
  if (!data || !data.x) return;
  const L = data.labels;
  let st = STATE.get(parentElement);
  if (!st || st.lang !== data.lang || st.part !== data.part) {
    const root = mountRoot(parentElement, "pl-root");
    st = { root, lang: data.lang, part: data.part, value: null, server: null,
      ui: data.part === "shift" ? buildShift(root, L) : buildWindow(root, L) };
    STATE.set(parentElement, st);
  }
  const x = decodeFloat32(data.x);
  const shape = data.shape, [H, W] = shape;
  let xmin = Infinity;
  for (const v of x) xmin = Math.min(xmin, v);
  const signed = xmin < 0;
  // the server's value wins when it changed (a link, new settings); otherwise keep the learner's
  // (but not when it only echoes the learner's own last commit: moves made since then are kept)
  const server = JSON.stringify([data.value, shape, data.kind, data.size, data.stride]);
  const setting = JSON.stringify([shape, data.kind, data.size, data.stride]);
  if (st.server !== server || st.value === null) {
    const echo = JSON.stringify(data.value) === JSON.stringify(st.sent) && st.setting === setting;
    if (!echo) st.value = data.value;
    st.server = server;
    st.setting = setting;
  }
  // one debounced commit per mounted explorable, kept across renders (it sends the latest value)
  st.setStateValue = setStateValue;
  const send = (v) => { st.sent = v; st.setStateValue(data.part === "shift" ? "shift" : "pick", v); };
  const commit = st.commit || (st.commit = debounce(() => send(st.value), COMMIT_MS));
  (data.part === "shift" ? drawShift : drawWindow)(st, data, x, shape, signed, { commit, send });
}

function drawWindow(st, data, x, [H, W], signed, { commit, send }) {
  const ui = st.ui, L = data.labels, root = st.root;
  const { kind, size: k, stride: s } = data;
  const global = kind === "global";
  const [Ho, Wo] = global ? [1, 1] : [poolOutputSize(H, k, s), poolOutputSize(W, k, s)];
  const y = decodeFloat32(data.output);                      // the pooled map the server drew
  st.value = [Math.min(Ho - 1, st.value[0]), Math.min(Wo - 1, st.value[1])];
  const cell = cellPx(H, W, SIDE_REM * remPx());
  const drawInput = mapPicture(ui.inCanvas, H, W, cell, ((c) => (r, cc) => c(x[r * W + cc]))(colourFor(x, signed)), { grid: true });
  const yColour = signed ? colourFor(y, true) : (v) => grey(v, 0, 1);
  const drawMap = mapPicture(ui.map, Ho, Wo, global ? cell * Math.min(H, W) : cell, (r, c) => yColour(y[r * Wo + c]));
  ui.inTitle.textContent = fill(L.input_title, { h: H, w: W });
  ui.outTitle.textContent = fill(L.output_title, { h: Ho, w: Wo });
  for (const [sl, n] of [[ui.R, Ho], [ui.C, Wo]]) {
    sl.input.max = String(n - 1);
    sl.wrap.hidden = global;
  }
  ui.winTitle.hidden = ui.grid.hidden = global;
  const gridColour = signed ? colourFor(x, true) : (v) => grey(v, 0, 1);

  function draw() {
    const [row, col] = st.value;
    let result, boxes;
    if (global) {
      result = globalAvgPool(x);
      boxes = [{ r0: 0, c0: 0, r1: H, c1: W, color: WINDOW, width: 3 }];
      ui.formula.replaceChildren();                          // the numbers are in the result line
    } else {
      const win = poolWindow(x, [H, W], kind, k, s, row, col);
      result = win.result;
      boxes = [{ r0: win.top, c0: win.left, r1: win.top + k, c1: win.left + k, color: WINDOW, width: 3 }];
      const marks = [];
      if (win.winner) {
        const [wr, wc] = win.winner;
        boxes.push({ r0: wr, c0: wc, r1: wr + 1, c1: wc + 1, color: WINNER, width: 3 });
        marks.push([wr - win.top, wc - win.left]);
      }
      ui.winTitle.textContent = fill(L.window_title, { row, col });
      numberGrid(ui.grid, win.values, k, k, gridColour, { marks, cls: "pl-grid" });
      const vals = Array.from(win.values, (v) => fmt(v, 2)).join(", ");
      ui.formula.replaceChildren(el("div", "", fill(L.formula_numbers, { row, col })),
        el("div", "pl-eq", `p(${row}, ${col}) = ${kind === "max" ? "max" : "mean"}{${vals}} = ${fmt(result, 3)}`));
      ui.R.input.value = row; ui.C.input.value = col;
      ui.R.out.textContent = String(row); ui.C.out.textContent = String(col);
      root.dataset.values = Array.from(win.values).join(",");
      root.dataset.winner = win.winner ? win.winner.join(",") : "";
    }
    drawInput(boxes);
    drawMap([{ r0: row, c0: col, r1: row + 1, c1: col + 1, color: WINDOW, width: 3 }]);
    ui.map.setAttribute("aria-valuetext", `p(${row}, ${col}) = ${fmt(result, 3)}`);
    ui.metricLabel.textContent = `p(${row}, ${col})`;
    ui.metricValue.textContent = fmt(result, 3);
    richText(ui.result, fill(L[`result_${kind}`], { value: fmt(result, 3), n: H * W }));
    Object.assign(root.dataset, { row: String(row), col: String(col), result: String(result), map: String(y[row * Wo + col]) });
    markDrawn(root);
  }
  function move(next, now = false) {
    st.value = next;
    draw();
    if (now) { commit.cancel(); send(st.value); } else commit();
  }
  ui.map.onpointerdown = (e) => { if (!global) move(cellAt(ui.map, e, Ho, Wo), true); };
  ui.map.onkeydown = (e) => {
    const next = global ? null : stepPick(e.key, st.value, Ho, Wo);
    if (!next) return;
    e.preventDefault();
    move(next);
  };
  ui.R.input.oninput = () => move([Number(ui.R.input.value), st.value[1]]);
  ui.C.input.oninput = () => move([st.value[0], Number(ui.C.input.value)]);
  draw();
}

function drawShift(st, data, x, [H, W], signed, { commit }) {
  const ui = st.ui, L = data.labels, root = st.root;
  const { kind, size: k, stride: s } = data;
  const global = kind === "global";
  ui.pics.hidden = global;
  ui.global.hidden = !global;
  ui.raw.hidden = ui.delta.hidden = global;

  function draw() {
    const shift = st.value;
    ui.S.input.value = shift;
    ui.S.out.textContent = String(shift);
    if (global) {
      const before = globalAvgPool(x), after = globalAvgPool(shiftImage(x, [H, W], shift));
      ui.metricValue.textContent = Math.abs(before - after) < 1e-6 ? "100%" : "0%";
      richText(ui.global, fill(L.global_shift, { before: fmt(before, 4), after: fmt(after, 4) }));
      Object.assign(root.dataset, { shift: String(shift), before: String(before), after: String(after) });
      markDrawn(root);
      return;
    }
    const inv = translationInvariance(x, [H, W], shift, kind, k, s);
    const [Ho, Wo] = inv.outShape;
    ui.metricValue.textContent = pctText(inv.share);
    const d = Math.round(100 * inv.share) - Math.round(100 * inv.shareRaw);
    ui.delta.textContent = `${d >= 0 ? "↑ +" : "↓ "}${d}% ${L.vs_pixels}`;
    ui.delta.classList.toggle("pl-down", d < 0);
    ui.raw.textContent = fill(L.raw_unchanged, { share: pctText(inv.shareRaw) });
    const cin = cellPx(H, W, SMALL_REM * remPx()), cout = cellPx(Ho, Wo, SMALL_REM * remPx());
    const pic = (panel, a, h, w, cell, title, boxes = []) => {
      panel.title.textContent = title;
      const colour = colourFor(a, signed);
      mapPicture(panel.canvas, h, w, cell, (r, c) => colour(a[r * w + c]))(boxes);
    };
    const changed = [];
    if (cout >= 6) {
      for (let n = 0; n < inv.unchanged.length; n++) if (!inv.unchanged[n]) {
        const r = Math.floor(n / Wo), c = n % Wo;
        changed.push({ r0: r, c0: c, r1: r + 1, c1: c + 1, color: WINDOW, width: 2 });
      }
    }
    pic(ui.panels[0], inv.shifted, H, W, cin, fill(L.shifted_input, { shift }));
    pic(ui.panels[1], inv.pooled, Ho, Wo, cout, L.pooled_original);
    pic(ui.panels[2], inv.pooledShifted, Ho, Wo, cout, L.pooled_shifted, changed);
    Object.assign(root.dataset, { shift: String(shift), share: String(inv.share), shareRaw: String(inv.shareRaw) });
    markDrawn(root);
  }
  ui.S.input.oninput = () => {
    st.value = Number(ui.S.input.value);
    draw();
    commit();
  };
  draw();
}
