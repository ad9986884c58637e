// A heat map drawn in SVG for the explorables that show matrices (rnn_step, attention_row): the same
// colours as the server's heat maps (bigmodel_core's matrix_spec: "weights" = blues on a square-root
// scale from 0, "diverging" = blue < 0 < red centred on 0, "gate" = greens from 0 to 1), a grey cell
// with × for a masked (-Infinity) value, an outlined row or column, and a click / arrow-key pick.
// The grid is built once; update() only recolours it, so a redraw costs a few hundred attribute sets.

const STOPS = {
  weights: ["#f7fbff", "#c6dbef", "#6baed6", "#2171b5", "#08306b"],
  gate: ["#f7fcf5", "#c7e9c0", "#74c476", "#238b45", "#00441b"],
  diverging: ["#2166ac", "#67a9cf", "#d1e5f0", "#f7f7f7", "#fddbc7", "#ef8a62", "#b2182b"],   // Vega's redblue, reversed
};

function hexRgb(h) {
  return [1, 3, 5].map((k) => parseInt(h.slice(k, k + 2), 16));
}

/** Colour of a fraction u in [0, 1] along a list of stops (linear in RGB between stops). */
export function ramp(stops, u) {
  const x = Math.min(1, Math.max(0, u)) * (stops.length - 1);
  const k = Math.min(stops.length - 2, Math.floor(x));
  const a = hexRgb(stops[k]), b = hexRgb(stops[k + 1]), f = x - k;
  return `rgb(${a.map((v, j) => Math.round(v + (b[j] - v) * f)).join(",")})`;
}

/** The cell colour and whether its number needs white ink, for a value on a scale (kind, vmax). */
export function cellColour(kind, v, vmax) {
  if (!Number.isFinite(v)) return ["#d9d9d9", false];
  if (kind === "weights") {
    const u = Math.sqrt(Math.max(0, v) / (vmax || 1));
    return [ramp(STOPS.weights, u), v > 0.25 * (vmax || 1)];
  }
  if (kind === "gate") return [ramp(STOPS.gate, v / (vmax || 1)), v > 0.6 * (vmax || 1)];
  const m = vmax || 1;
  return [ramp(STOPS.diverging, (v + m) / (2 * m)), Math.abs(v) > 0.55 * m];
}

/**
 * A rows x cols grid with optional row / column labels and a title.
 * opts: {cell (px per cell), rowLabels, colLabels, title, kind, digits (numbers in cells; null = none),
 *        onPick(row, col) for clicks, pickAxis "row" | "col" for the arrow keys, ariaLabel}.
 * Returns {el, update(values, {vmax, outlineRow, outlineCol})}: values row-major, length rows*cols.
 */
export function heatmap(rows, cols, opts) {
  const cell = opts.cell;
  const rl = opts.rowLabels ? Math.min(110, 8 + 7.5 * Math.max(...opts.rowLabels.map((s) => String(s).length))) : 0;
  const angled = opts.colLabels && Math.max(...opts.colLabels.map((s) => String(s).length)) > 2;
  const cl = opts.colLabels ? (angled ? Math.min(90, 10 + 6 * Math.max(...opts.colLabels.map((s) => String(s).length))) : 20) : 0;
  const W = rl + cols * cell + 4, H = cl + rows * cell + 4;
  const wrap = el("figure", "bm-heatmap");
  if (opts.title) wrap.append(el("figcaption", "bm-heatmap-title", opts.title));
  const root = svg("svg", { viewBox: `0 0 ${W} ${H}`, role: "img" });
  root.style.maxWidth = `${W / 16}rem`;
  root.setAttribute("aria-label", opts.ariaLabel || opts.title || "");
  const grid = svg("g", { transform: `translate(${rl},2)` });
  const rects = [], texts = [];
  const fontPx = Math.max(7, Math.min(13, cell * 0.42));
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const rect = svg("rect", { x: c * cell, y: r * cell, width: cell, height: cell,
                                 stroke: cell >= 12 ? "white" : "none", "stroke-width": 0.5 });
      rect.dataset.row = r;
      rect.dataset.col = c;
      grid.append(rect);
      rects.push(rect);
      if (opts.digits != null) {
        const t = svg("text", { x: c * cell + cell / 2, y: r * cell + cell / 2, "font-size": fontPx,
                                "text-anchor": "middle", "dominant-baseline": "central" });
        t.style.pointerEvents = "none";
        grid.append(t);
        texts.push(t);
      }
    }
  }
  if (opts.rowLabels) {
    opts.rowLabels.forEach((s, r) => grid.append(Object.assign(svg("text", {
      x: -5, y: r * cell + cell / 2, "text-anchor": "end", "dominant-baseline": "central",
      "font-size": Math.min(13, Math.max(8, cell * 0.6)), class: "bm-heatmap-label" }), { textContent: s })));
  }
  if (opts.colLabels) {
    opts.colLabels.forEach((s, c) => {
      const x = c * cell + cell / 2, y = rows * cell + 6;
      const t = svg("text", angled
        ? { x, y, transform: `rotate(-45 ${x} ${y})`, "text-anchor": "end", "dominant-baseline": "central" }
        : { x, y: y + 6, "text-anchor": "middle", "dominant-baseline": "central" });
      t.setAttribute("font-size", Math.min(13, Math.max(8, cell * 0.6)));
      t.setAttribute("class", "bm-heatmap-label");
      t.textContent = s;
      grid.append(t);
    });
  }
  const box = svg("rect", { fill: "none", stroke: "#ff2d55", "stroke-width": 3, visibility: "hidden" });
  box.style.pointerEvents = "none";
  grid.append(box);
  root.append(grid);
  wrap.append(root);
  if (opts.onPick) {
    root.classList.add("bm-heatmap-pick");
    root.setAttribute("tabindex", "0");
    root.addEventListener("click", (e) => {
      const t = e.target;
      if (t.dataset && t.dataset.row !== undefined) opts.onPick(Number(t.dataset.row), Number(t.dataset.col), e);
    });
    root.addEventListener("keydown", (e) => {
      const d = { ArrowUp: -1, ArrowLeft: -1, ArrowDown: 1, ArrowRight: 1 }[e.key];
      if (d === undefined) return;
      e.preventDefault();
      if (opts.onKey) opts.onKey(d);
    });
  }
  if (opts.boxColour) box.setAttribute("stroke", opts.boxColour);

  function update(values, { vmax, outlineRow = null, outlineCol = null, kind = opts.kind } = {}) {
    for (let k = 0; k < rects.length; k++) {
      const v = values[k];
      const [fill, dark] = cellColour(kind, v, vmax);
      rects[k].setAttribute("fill", fill);
      if (texts.length) {
        texts[k].textContent = Number.isFinite(v) ? v.toFixed(opts.digits) : "×";
        texts[k].setAttribute("fill", dark ? "white" : "black");
      }
    }
    if (outlineRow !== null) {
      Object.entries({ x: 0, y: outlineRow * cell, width: cols * cell, height: cell })
        .forEach(([k, v]) => box.setAttribute(k, v));
      box.setAttribute("visibility", "visible");
    } else if (outlineCol !== null) {
      Object.entries({ x: outlineCol * cell, y: 0, width: cell, height: rows * cell })
        .forEach(([k, v]) => box.setAttribute(k, v));
      box.setAttribute("visibility", "visible");
    } else {
      box.setAttribute("visibility", "hidden");
    }
  }
  return { el: wrap, svg: root, update };
}

/** Largest |v| over the finite entries (1 when there are none). */
export function absMax(values) {
  let m = 0;
  for (const v of values) if (Number.isFinite(v) && Math.abs(v) > m) m = Math.abs(v);
  return m || 1;
}

/** Call fn once the learner has stopped for `ms` (a commit: one message to the server, not one per key). */
export function debounce(fn, ms) {
  let timer = null;
  const call = (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
  call.cancel = () => clearTimeout(timer);
  return call;
}
