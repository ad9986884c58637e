// Convolution's sliding window, drawn in the browser (Streamlit components v2, no framework, no CDN).
//
// Python runs the convolution (bigmodel_core.ops.conv.conv2d_explained) and sends, once, the input
// image (C, H, W), the kernel (C, kh, kw), the bias, stride, padding and dilation, and the feature
// map (H_out, W_out), all float32. Picking an output pixel only re-arranges those numbers:
//
//     y(r, c) = sum_ch sum_i sum_j  w_ch(i, j) * x_ch(r*s + d*i - p, c*s + d*j - p)  +  b
//
// with x = 0 outside the image (zero padding). convWindow below is ConvExplained.window (and its
// _patch) of bigmodel_core/ops/conv.py written in JS; a browser test compares the two on random
// cases. Clicks, arrow keys, the row / column sliders and Play redraw here in one frame; the picked
// pixel goes back to Python (setStateValue "pick") only when it settles, for the address bar.

// ---- the arithmetic (pure, exported for the browser test) ----------------------------------------

/** floor((i + 2p - d(k - 1) - 1) / s) + 1: bigmodel_core.ops.conv.output_size. */
export function convOutputSize(i, k, stride, padding, dilation) {
  return Math.floor((i + 2 * padding - dilation * (k - 1) - 1) / stride) + 1;
}

/**
 * The window behind output pixel (row, col): ConvExplained.window.
 * x: Float32Array (C*H*W), w: Float32Array (C*kh*kw), both in reading order per channel.
 * Returns {row, col, top, left, patch, products, total, result}: patch and products are
 * Float64Array (C*kh*kw); top/left is the first tap in padded-input coordinates (r*s, c*s).
 */
export function convWindow(x, [C, H, W], w, [kh, kw], { bias, stride, padding, dilation }, row, col) {
  const top = row * stride, left = col * stride;
  const patch = new Float64Array(C * kh * kw), products = new Float64Array(C * kh * kw);
  let total = 0;
  for (let ch = 0; ch < C; ch++) {
    for (let i = 0; i < kh; i++) {
      for (let j = 0; j < kw; j++) {
        const r = top + dilation * i - padding, c = left + dilation * j - padding;   // in the image
        const v = r >= 0 && r < H && c >= 0 && c < W ? x[(ch * H + r) * W + c] : 0;    // zero padding
        const n = (ch * kh + i) * kw + j;
        patch[n] = v;
        products[n] = w[n] * v;
        total += products[n];
      }
    }
  }
  return { row, col, top, left, patch, products, total, result: total + bias };
}

/** The rectangle the taps span, (r0, c0, r1, c1) in padded-input coordinates: Window.extent. */
export const windowExtent = (win, [kh, kw], dilation) =>
  [win.top, win.left, win.top + dilation * (kh - 1) + 1, win.left + dilation * (kw - 1) + 1];

/** (row, col) of every kernel tap in padded-input coordinates: Window.taps. */
export function windowTaps(win, [kh, kw], dilation) {
  const taps = [];
  for (let i = 0; i < kh; i++) for (let j = 0; j < kw; j++) taps.push([win.top + i * dilation, win.left + j * dilation]);
  return taps;
}

// ---- the picture ---------------------------------------------------------------------------------

const SIDE_REM = 14.5;          // the padded input's longer side; the map is drawn at the same scale
const COMMIT_MS = 700;          // a pick moved with the keyboard reaches Python this long after the last key

function build(root, L, speeds) {
  root.replaceChildren();
  const { top, inPanel, inTitle, inCanvas, outPanel, outTitle, map, pick, R, C: Cc } = mapPanels("cv", L);
  const play = el("button", "cv-play");
  play.type = "button";
  const speed = el("select", "cv-speed");
  speed.setAttribute("aria-label", L.speed);
  for (const s of speeds) {
    const o = el("option", "", fill(L.per_second, { n: s }));
    o.value = String(s);
    speed.append(o);
  }
  const playRow = el("div", "cv-play-row");
  playRow.append(play, speed);
  const metric = el("div", "cv-metric");
  const metricLabel = el("div", "cv-metric-label");
  const metricValue = el("div", "cv-metric-value");
  metric.append(metricLabel, metricValue);
  const sumLine = el("div", "cv-sum");
  pick.append(R.wrap, Cc.wrap, playRow, metric, sumLine);
  top.append(inPanel, outPanel, pick);

  const arith = el("div", "cv-arith");
  const grids = el("div", "cv-grids");
  const table = el("div", "cv-table");
  arith.append(grids, table);
  const formula = el("div", "cv-formula");
  root.append(top, arith, formula);
  return { inTitle, inCanvas, outTitle, map, R, C: Cc, play, speed, metricLabel, metricValue, sumLine, grids, table, formula };
}

const STATE = new WeakMap();   // parentElement -> {root, ui, lang, pick, server, timer}

export default function (component) {
  const { data, parentElement, setStateValue } = component;
  if (!data || !data.image) return;
  const L = data.labels;
  let st = STATE.get(parentElement);
  if (!st || st.lang !== data.lang) {
    const root = mountRoot(parentElement, "cv-root");
    st = { root, ui: build(root, L, data.speeds), lang: data.lang, pick: null, server: null, timer: null, playing: false };
    STATE.set(parentElement, st);
  }
  const ui = st.ui, root = st.root;
  const [C, H, W] = data.shape, [kh, kw] = data.kernel_shape, [Ho, Wo] = data.out_shape;
  const p = data.padding, d = data.dilation;
  const x = decodeFloat32(data.image), w = decodeFloat32(data.kernel), y = decodeFloat32(data.output);
  const hyper = { bias: data.bias, stride: data.stride, padding: p, dilation: d };

  // the server's pick wins when it changed (a link, new settings); otherwise keep the learner's
  // (but not when it only echoes the learner's own last commit: moves made since then are kept)
  const server = JSON.stringify([data.pick, data.shape, data.out_shape]);
  if (st.server !== server || !st.pick) {
    const echo = JSON.stringify(data.pick) === JSON.stringify(st.sent) && st.shapes === JSON.stringify(data.out_shape);
    if (!echo) st.pick = [...data.pick];
    st.server = server;
    st.shapes = JSON.stringify(data.out_shape);
  }
  st.pick = [Math.min(Ho - 1, st.pick[0]), Math.min(Wo - 1, st.pick[1])];

  // the padded input and the feature map, at the same scale
  const Hp = H + 2 * p, Wp = W + 2 * p;
  const cell = cellPx(Hp, Wp, SIDE_REM * remPx());
  let lo = 0, hi = 1;
  for (const v of x) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
  const inside = (r, c) => r >= p && r < H + p && c >= p && c < W + p;
  const rgbAt = (r, c) => {
    const at = (ch) => (inside(r, c) ? x[(ch * H + r - p) * W + c - p] : 0);
    const rgb = C === 3 ? [0, 1, 2].map((ch) => Math.round(Math.min(1, Math.max(0, at(ch))) * 255))
      : grey(at(0), lo, hi);
    return inside(r, c) ? rgb : tint(rgb);
  };
  const drawInput = mapPicture(ui.inCanvas, Hp, Wp, cell, rgbAt, {
    grid: true, frame: p ? { r0: p, c0: p, r1: H + p, c1: W + p, color: FRAME, width: 2 } : null,
  });
  let ylo = Infinity, yhi = -Infinity;
  for (const v of y) { ylo = Math.min(ylo, v); yhi = Math.max(yhi, v); }
  // the feature map: red-blue around 0 when it has negative values, else grey over its own range
  const mapRgb = ylo < 0 ? colourFor(y, true) : (v) => grey(v, ylo, yhi > ylo ? yhi : ylo + 1);
  const drawMap = mapPicture(ui.map, Ho, Wo, cell, (r, c) => mapRgb(y[r * Wo + c]));
  ui.inTitle.textContent = fill(L.input_title, { h: H, w: W, p });
  ui.outTitle.textContent = fill(L.output_title, { h: Ho, w: Wo });
  ui.inCanvas.setAttribute("aria-label", ui.inTitle.textContent);
  for (const [s, n] of [[ui.R, Ho], [ui.C, Wo]]) s.input.max = String(n - 1);

  let wAbs = 0;
  for (const v of w) wAbs = Math.max(wAbs, Math.abs(v));

  function draw() {
    const [row, col] = st.pick;
    const win = convWindow(x, data.shape, w, data.kernel_shape, hyper, row, col);
    const [r0, c0, r1, c1] = windowExtent(win, data.kernel_shape, d);
    const boxes = [{ r0, c0, r1, c1, color: WINDOW, width: 3 }];
    if (d > 1) {                                            // dilated: each tap outlined in yellow
      for (const [r, c] of windowTaps(win, data.kernel_shape, d)) boxes.push({ r0: r, c0: c, r1: r + 1, c1: c + 1, color: TAP, width: 2 });
    }
    drawInput(boxes);
    drawMap([{ r0: row, c0: col, r1: row + 1, c1: col + 1, color: WINDOW, width: 3 }]);
    ui.R.input.value = row; ui.C.input.value = col;
    ui.R.out.textContent = String(row); ui.C.out.textContent = String(col);
    ui.map.setAttribute("aria-valuetext", `y(${row}, ${col}) = ${fmt(win.result, 3)}`);
    ui.play.textContent = st.playing ? `■ ${L.stop}` : `▶ ${L.play}`;
    ui.metricLabel.textContent = `y(${row}, ${col})`;
    ui.metricValue.textContent = fmt(win.result, 3);
    richText(ui.sumLine, fill(L.sum_line, { total: fmt(win.total, 3), bias: (hyper.bias >= 0 ? "+" : "") + fmt(hyper.bias, 2), y: fmt(win.result, 3), row, col }));
    drawArithmetic(win);
    Object.assign(root.dataset, { row: String(row), col: String(col), total: String(win.total), result: String(win.result), map: String(y[row * Wo + col]) });
    markDrawn(root);
  }

  function drawArithmetic(win) {
    ui.grids.replaceChildren(el("div", "cv-grids-title", fill(L.window_title, { row: win.row, col: win.col })));
    const n = kh * kw;
    const big = Math.max(kh, kw) > 3;                      // 5 x 5 kernels get smaller cells
    let pAbs = 0;
    for (const v of win.products) pAbs = Math.max(pAbs, Math.abs(v));
    for (let ch = 0; ch < C; ch++) {
      const part = (a) => a.subarray(ch * n, (ch + 1) * n);
      if (C > 1) {
        let s = 0;
        for (const v of part(win.products)) s += v;
        ui.grids.append(el("div", "cv-caption", fill(L.channel, { name: L.channels[ch], total: fmt(s, 3) })));
      }
      const row = el("div", "cv-grid-row");
      const gx = el("div"), gw = el("div"), gp = el("div");
      numberGrid(gx, part(win.patch), kh, kw, (v) => grey(v, 0, 1), { title: "x", cls: "cv-grid", big });
      numberGrid(gw, part(w), kh, kw, (v) => diverging(v, wAbs), { title: "w", cls: "cv-grid", big });
      numberGrid(gp, part(win.products), kh, kw, (v) => diverging(v, pAbs), { title: "w·x", cls: "cv-grid", big });
      row.append(gx, el("span", "cv-op", "×"), gw, el("span", "cv-op", "="), gp);
      ui.grids.append(row);
    }
    // the same numbers as a table, one row per tap
    const table = el("table", "cv-taps");
    const head = el("tr");
    for (const h of ["(i, j)", "x", "w", "w·x"]) head.append(el("th", "", h));
    table.append(head);
    for (let ch = 0; ch < C; ch++) for (let i = 0; i < kh; i++) for (let j = 0; j < kw; j++) {
      const k = (ch * kh + i) * kw + j;
      const tr = el("tr");
      tr.append(el("td", "", C === 1 ? `(${i}, ${j})` : `${L.channels[ch]} (${i}, ${j})`),
        el("td", "", fmt(win.patch[k], 3)), el("td", "", fmt(w[k], 3)), el("td", "", fmt(win.products[k], 3)));
      table.append(tr);
    }
    ui.table.replaceChildren(table);
    // the formula with this pixel's numbers: (w)(x) for every tap, + b, = y
    const terms = [];
    for (let k = 0; k < C * n; k++) terms.push(`(${+w[k].toPrecision(3)})(${fmt(win.patch[k], 2)})`);
    const shown = terms.slice(0, 9).join(" + ") + (terms.length > 9 ? " + …" : "");
    const b = (hyper.bias >= 0 ? "+ " : "− ") + fmt(Math.abs(hyper.bias), 2);
    ui.formula.replaceChildren(
      el("div", "", fill(L.formula_numbers, { row: win.row, col: win.col, n: terms.length })),
      el("div", "cv-eq", `y(${win.row}, ${win.col}) = ${shown} ${b} = ${fmt(win.total, 3)} ${b} = ${fmt(win.result, 3)}`),
    );
  }

  // one debounced commit per mounted explorable, kept across renders (it sends the latest pick)
  st.setStateValue = setStateValue;
  const send = () => { st.sent = [...st.pick]; st.setStateValue("pick", st.sent); };
  const commit = st.commit || (st.commit = debounce(send, COMMIT_MS));
  function move(next, now = false) {
    st.pick = next;
    draw();
    if (now) { commit.cancel(); send(); } else commit();
  }
  function stopPlay() {
    clearInterval(st.timer);
    st.timer = null;
    st.playing = false;
  }
  function startPlay() {
    st.playing = true;
    st.timer = setInterval(() => {
      if (!root.isConnected) return stopPlay();
      let [r, c] = st.pick;
      c += 1;
      if (c >= Wo) { c = 0; r = (r + 1) % Ho; }            // reading order, wrapping at the end
      st.pick = [r, c];
      draw();
    }, 1000 / Number(ui.speed.value));
  }

  ui.map.onpointerdown = (e) => move(cellAt(ui.map, e, Ho, Wo), true);
  ui.map.onkeydown = (e) => {
    const next = stepPick(e.key, st.pick, Ho, Wo);
    if (!next) return;
    e.preventDefault();
    move(next);
  };
  ui.R.input.oninput = () => move([Number(ui.R.input.value), st.pick[1]]);
  ui.C.input.oninput = () => move([st.pick[0], Number(ui.C.input.value)]);
  ui.play.onclick = () => {
    if (st.playing) { stopPlay(); move(st.pick, true); } else { startPlay(); draw(); }
  };
  ui.speed.onchange = () => { if (st.playing) { stopPlay(); startPlay(); } };
  if (st.playing) { stopPlay(); startPlay(); }      // new data while playing: go on at the new size
  draw();
}
