// Window pictures drawn in the browser: shared by the convolution and pooling explorables
// (prepended after _common.js, see app_pages/_explorables.py). A map as a crisp upscaled picture
// (one canvas, nearest neighbour), outlined boxes on top, and small numbered grids (a window, a
// kernel, their products). These replace the server-side PNGs and Vega heat maps of
// bigmodel_core/ops/window_pictures.py, which these pages were its only users of.

// ---- colours: grey images, red-blue (_common.js diverging) around 0 for signed maps ----------------------------

export const WINDOW = "#ff2d55";        // the window's outline (charts.Box's red)
export const TAP = "#ffc800";           // dilated taps
export const WINNER = "#00c878";        // the max-pooling winner
export const FRAME = "#3c6ee6";         // the original image's border inside the padding
const PAD_TINT = [70, 110, 190];        // zero padding is tinted blue

/** [g, g, g] of v on black (lo) .. white (hi). */
export function grey(v, lo, hi) {
  const g = Math.round(Math.min(1, Math.max(0, (v - lo) / ((hi - lo) || 1))) * 255);
  return [g, g, g];
}

/** A colour function for a whole map: red-blue around 0
 *  when `signed`, else grey with 0 black and 1 white (wider if the values are). */
export function colourFor(values, signed, domain = null) {
  let lo = Infinity, hi = -Infinity, amax = 0;
  for (const v of values) { lo = Math.min(lo, v); hi = Math.max(hi, v); amax = Math.max(amax, Math.abs(v)); }
  if (signed) return (v) => diverging(v, amax || 1);
  const [a, b] = domain || [Math.min(lo, 0), Math.max(hi, 1)];
  return (v) => grey(v, a, b);
}

// ---- a map as a picture ------------------------------------------------------------------------

/** Screen (CSS) pixels per map cell so the longer side is about `sidePx`. */
export const cellPx = (H, W, sidePx) => sidePx / Math.max(H, W);

/** The root font size in px: pictures are sized in rem like the rest of the explorable. */
export const remPx = () => parseFloat(getComputedStyle(document.documentElement).fontSize) || 16;

/**
 * A map picture: `rgbAt(r, c)` -> [r, g, b] painted once into an offscreen canvas of H x W pixels,
 * then drawn upscaled (no smoothing) onto `canvas` at `cell` CSS px per map cell, crisp on any
 * screen. Returns draw(boxes): repaint with boxes [{r0, c0, r1, c1, color, width}] on top.
 */
export function mapPicture(canvas, H, W, cell, rgbAt, { grid = false, frame = null } = {}) {
  const src = document.createElement("canvas");
  src.width = W; src.height = H;
  const sctx = src.getContext("2d");
  const img = sctx.createImageData(W, H);
  for (let r = 0; r < H; r++) {
    for (let c = 0; c < W; c++) {
      const [R, G, B] = rgbAt(r, c);
      const o = 4 * (r * W + c);
      img.data[o] = R; img.data[o + 1] = G; img.data[o + 2] = B; img.data[o + 3] = 255;
    }
  }
  sctx.putImageData(img, 0, 0);
  const dpr = window.devicePixelRatio || 1;
  const k = Math.max(1, Math.round(cell * dpr));          // backing pixels per cell: whole, so crisp
  canvas.width = W * k; canvas.height = H * k;
  canvas.style.width = `${W * cell}px`;
  canvas.style.aspectRatio = `${W} / ${H}`;
  const figure = canvas.closest("figure");                 // its title and caption wrap to its width
  if (figure) figure.style.width = `${Math.max(W * cell, 7 * remPx())}px`;
  const ctx = canvas.getContext("2d");
  return function draw(boxes = []) {
    ctx.imageSmoothingEnabled = false;
    ctx.drawImage(src, 0, 0, W * k, H * k);
    if (grid && cell >= 12) {                              // thin cell borders on small maps
      ctx.strokeStyle = "rgba(200,200,200,0.9)";
      ctx.lineWidth = 1;
      ctx.beginPath();
      for (let r = 0; r <= H; r++) { ctx.moveTo(0, r * k + 0.5); ctx.lineTo(W * k, r * k + 0.5); }
      for (let c = 0; c <= W; c++) { ctx.moveTo(c * k + 0.5, 0); ctx.lineTo(c * k + 0.5, H * k); }
      ctx.stroke();
    }
    const all = frame ? [frame, ...boxes] : boxes;
    for (const b of all) {
      const w = Math.max(1, Math.round((b.width || 3) * dpr));
      ctx.strokeStyle = b.color || WINDOW;
      ctx.lineWidth = w;
      ctx.strokeRect(b.c0 * k + w / 2, b.r0 * k + w / 2, (b.c1 - b.c0) * k - w, (b.r1 - b.r0) * k - w);
    }
  };
}

/** The map cell under a pointer event on a picture of H x W cells. */
export function cellAt(canvas, event, H, W) {
  const box = canvas.getBoundingClientRect();
  const r = Math.floor(((event.clientY - box.top) / box.height) * H);
  const c = Math.floor(((event.clientX - box.left) / box.width) * W);
  return [Math.min(H - 1, Math.max(0, r)), Math.min(W - 1, Math.max(0, c))];
}

/** Arrow keys, Home and End on a focusable picture move a picked cell: the new [row, col] or null. */
export function stepPick(key, [row, col], H, W) {
  const moves = { ArrowUp: [-1, 0], ArrowDown: [1, 0], ArrowLeft: [0, -1], ArrowRight: [0, 1] };
  if (key === "Home") return [0, 0];
  if (key === "End") return [H - 1, W - 1];
  if (!(key in moves)) return null;
  const [dr, dc] = moves[key];
  return [Math.min(H - 1, Math.max(0, row + dr)), Math.min(W - 1, Math.max(0, col + dc))];
}

/** Zero padding tinted: 0.55 picture + 0.45 blue. */
export const tint = (rgb) => rgb.map((v, k) => Math.round(0.55 * v + 0.45 * PAD_TINT[k]));

// ---- small numbered grids ------------------------------------------------------------------------

/**
 * A k x k grid of coloured, numbered cells into `host`: values in
 * reading order, `colour(v)` -> [r, g, b], `marks` the [i, j] cells outlined in green.
 */
export function numberGrid(host, values, rows, cols, colour, { title = "", digits = 2, marks = [], cls = "bm-grid", big = false } = {}) {
  host.replaceChildren();
  if (title) host.append(el("div", `${cls}-title`, title));
  const table = el("table", cls);
  if (big) table.classList.add(`${cls.split("-")[0]}-k5`);
  for (let i = 0; i < rows; i++) {
    const tr = el("tr");
    for (let j = 0; j < cols; j++) {
      const v = values[i * cols + j];
      const rgb = colour(v);
      const td = el("td", "", fmt(v, digits));
      td.style.background = `rgb(${rgb.join(",")})`;
      td.style.color = ink(rgb);
      if (marks.some(([a, b]) => a === i && b === j)) td.classList.add(`${cls}-mark`);
      tr.append(td);
    }
    table.append(tr);
  }
  host.append(table);
}

// ---- the two panels both window explorables start from -----------------------------------------

/** The input picture | output map pair with the row / column sliders (class names prefixed `p`, labels
 *  from L): {top, inPanel, inTitle, inCanvas, outPanel, outTitle, map, pick, R, C}. The map canvas is
 *  focusable and announced as a slider (arrow keys move the pick: stepPick). */
export function mapPanels(p, L) {
  const top = el("div", `${p}-top`);
  const inPanel = el("figure", `${p}-panel`);
  const inTitle = el("figcaption", `${p}-title`);
  const inCanvas = el("canvas", `${p}-input`);
  inCanvas.setAttribute("role", "img");
  inPanel.append(inTitle, inCanvas, el("div", `${p}-caption`, L.input_caption));
  const outPanel = el("figure", `${p}-panel`);
  const outTitle = el("figcaption", `${p}-title`);
  const map = el("canvas", `${p}-map`);
  map.tabIndex = 0;
  map.setAttribute("role", "slider");
  map.setAttribute("aria-label", L.map_label);
  outPanel.append(outTitle, map, el("div", `${p}-caption`, L.output_caption));
  const pick = el("div", `${p}-pick`);
  const R = slider("row", L.row, 0, 1, 1, `${p}-slider`);
  const C = slider("col", L.col, 0, 1, 1, `${p}-slider`);
  return { top, inPanel, inTitle, inCanvas, outPanel, outTitle, map, pick, R, C };
}
