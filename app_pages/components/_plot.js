// Line charts in SVG and small shared pieces for the curve explorables (activations, losses, the
// autoencoder's map): prepended after _common.js to those registered with "_plot" in
// app_pages/_explorables.py (_register(name, "_plot"); tests: component_js(name, "_plot")).
//
// A plot is an <svg> with a fixed viewBox (it scales with its column, so the same drawing reads on a
// projector and at 390 px), a plotting area inside margins, linear or log axes with a few ticks, and
// layers the caller redraws: curves, shaded bands, rules, points and value labels. Every call to
// plot.draw() rebuilds the marks (a few hundred SVG nodes: well under a millisecond).

/** a * b + c rounded once, as a fused multiply-add does (Dekker's exact product, then an exact sum). */
function fma(a, b, c) {
  const split = (v) => { const t = 134217729 * v; const h = t - (t - v); return [h, v - h]; };
  const p = a * b;
  const [ah, al] = split(a), [bh, bl] = split(b);
  const e = ((ah * bh - p) + ah * bl + al * bh) + al * bl;      // a * b = p + e exactly
  const s = p + c, bb = s - p;
  const t = (p - (s - bb)) + (c - bb);                          // p + c = s + t exactly
  return s + (t + e);
}

/** torch.linspace(lo, hi, n) in float64, bit for bit: the first half steps up from lo, the second
 *  half down from hi, each with a fused multiply-add (so x = 0 lands where PyTorch puts it). */
export function linspace(lo, hi, n) {
  const step = (hi - lo) / (n - 1), half = Math.floor(n / 2);
  return Float64Array.from({ length: n }, (_, i) => (i < half ? fma(step, i, lo) : fma(-step, n - 1 - i, hi)));
}

/** Linear map from [d0, d1] onto [r0, r1]. */
export const linear = (d0, d1, r0, r1) => (v) => r0 + ((v - d0) / (d1 - d0 || 1)) * (r1 - r0);

/** About n round tick values covering [lo, hi] (steps of 1, 2 or 5 times a power of ten). */
export function niceTicks(lo, hi, n = 5) {
  const span = hi - lo || 1;
  const raw = span / n;
  const p = Math.pow(10, Math.floor(Math.log10(raw)));
  const step = [1, 2, 5, 10].map((m) => m * p).find((s) => s >= raw) || 10 * p;
  const out = [];
  for (let v = Math.ceil(lo / step - 1e-9) * step; v <= hi + 1e-9 * span; v += step) out.push(Math.abs(v) < 1e-12 * span ? 0 : v);
  return out;
}

/** Round numbers for a tick label: 0.5, 2, 1e-10. */
export const tickText = (v) => (v !== 0 && (Math.abs(v) < 1e-3 || Math.abs(v) >= 1e5) ? v.toExponential(0)
  : String(Number(v.toPrecision(6))));

/**
 * A chart: {svg, draw(spec)}. spec = {x: [lo, hi], y: [lo, hi], ylog, title, xTitle, yTitle,
 * bands: [{x0, x1, fill, label}], hbands: [{y0, y1, fill}], hrules: [{y, stroke, dash}],
 * curves: [{xs, ys, stroke, width, opacity}], vrule: x, points: [{x, y, fill, label, ly}]}.
 */
export function makePlot(parent, cls, { width = 360, height = 260, margin = [30, 14, 44, 58] } = {}) {
  const root = svg("svg", { viewBox: `0 0 ${width} ${height}`, class: cls, role: "img" });
  parent.append(root);
  const [mt, mr, mb, ml] = margin;
  const X0 = ml, X1 = width - mr, Y0 = height - mb, Y1 = mt;
  const clipId = `clip-${Math.random().toString(36).slice(2)}`;

  function draw(s) {
    root.replaceChildren();
    root.setAttribute("aria-label", s.title || "");
    const defs = svg("defs");
    const clip = svg("clipPath", { id: clipId });
    clip.append(svg("rect", { x: X0, y: Y1, width: X1 - X0, height: Y0 - Y1 }));
    defs.append(clip);
    root.append(defs);
    const X = linear(s.x[0], s.x[1], X0, X1);
    const toY = s.ylog ? (v) => Math.log10(Math.max(v, 1e-300)) : (v) => v;
    const Y = ((f) => (v) => f(toY(v)))(linear(toY(s.y[0]), toY(s.y[1]), Y0, Y1));
    const g = svg("g", { "clip-path": `url(#${clipId})` });
    for (const b of s.bands || []) {
      g.append(svg("rect", { x: X(b.x0), y: Y1, width: Math.max(0, X(b.x1) - X(b.x0)), height: Y0 - Y1,
        fill: b.fill, opacity: 0.35 }));
    }
    for (const b of s.hbands || []) {
      g.append(svg("rect", { x: X0, y: Y(b.y1), width: X1 - X0, height: Math.max(0, Y(b.y0) - Y(b.y1)), fill: b.fill,
        opacity: 0.1 }));
    }
    // axes and grid
    const axes = svg("g", { class: "pl-axis" });
    const xt = s.xTicks || niceTicks(s.x[0], s.x[1], 6);
    const yt = s.yTicks || niceTicks(s.y[0], s.y[1], 5);
    for (const v of xt) {
      axes.append(svg("line", { x1: X(v), x2: X(v), y1: Y0, y2: Y1, class: "pl-grid" }));
      const tx = svg("text", { x: X(v), y: Y0 + 15, "text-anchor": "middle", class: "pl-tick" });
      tx.textContent = tickText(v);
      axes.append(tx);
    }
    for (const v of yt) {
      axes.append(svg("line", { x1: X0, x2: X1, y1: Y(v), y2: Y(v), class: "pl-grid" }));
      const ty = svg("text", { x: X0 - 5, y: Y(v) + 4, "text-anchor": "end", class: "pl-tick" });
      ty.textContent = s.ylog ? `1e${Math.round(Math.log10(v))}` : tickText(v);
      axes.append(ty);
    }
    const title = svg("text", { x: 4, y: 17, class: "pl-title" });
    title.textContent = s.title || "";
    const xTitle = svg("text", { x: (X0 + X1) / 2, y: Y0 + 34, "text-anchor": "middle", class: "pl-axis-title" });
    xTitle.textContent = s.xTitle || "";
    const yTitle = svg("text", { x: -(Y0 + Y1) / 2, y: 13, "text-anchor": "middle", class: "pl-axis-title",
      transform: "rotate(-90)" });
    yTitle.textContent = s.yTitle || "";
    axes.append(title, xTitle, yTitle);
    root.append(axes, g);
    for (const r of s.hrules || []) {
      g.append(svg("line", { x1: X0, x2: X1, y1: Y(r.y), y2: Y(r.y), stroke: r.stroke || "#888",
        "stroke-dasharray": r.dash || "", "stroke-width": r.width || 1.2 }));
    }
    for (const b of s.bands || []) {
      if (b.label && X(b.x1) - X(b.x0) > 0.12 * (X1 - X0)) {
        const t = svg("text", { x: (X(b.x0) + X(b.x1)) / 2, y: Y1 + 15, "text-anchor": "middle", class: "pl-band-label" });
        t.textContent = b.label;
        g.append(t);
      }
    }
    for (const c of s.curves || []) {
      let d = "";
      for (let i = 0; i < c.xs.length; i++) {
        const yv = Y(c.ys[i]);
        d += `${i ? "L" : "M"}${X(c.xs[i]).toFixed(2)},${Math.max(-1e4, Math.min(1e4, yv)).toFixed(2)}`;
      }
      g.append(svg("path", { d, fill: "none", stroke: c.stroke, "stroke-width": c.width || 2.5,
        opacity: c.opacity ?? 1, "stroke-linejoin": "round", "stroke-dasharray": c.dash || "" }));
    }
    for (const r of s.vrules || []) {
      root.append(svg("line", { x1: X(r.x), x2: X(r.x), y1: Y0, y2: Y1, stroke: r.stroke || "#333",
        "stroke-dasharray": r.dash || "2 3", "stroke-width": r.width || 1.5 }));
      if (r.label) {
        const t = svg("text", { x: X(r.x) + 4, y: Y1 + 12, class: "pl-rule-label" });
        t.textContent = r.label;
        root.append(t);
      }
    }
    for (const p of s.points || []) {
      const cy = Y(p.y);
      if (!Number.isFinite(cy) || cy < Y1 - 2 || cy > Y0 + 2) continue;
      root.append(svg("circle", { cx: X(p.x), cy, r: p.r || 5.5, fill: p.fill || "#000", stroke: "#fff",
        "stroke-width": 1.2 }));
      if (p.label) {
        const ly = p.ly === undefined ? cy - 9 : Y(p.ly);
        const right = X(p.x) < X0 + 0.72 * (X1 - X0);
        const t = svg("text", { x: X(p.x) + (right ? 9 : -9), y: Math.max(Y1 + 12, Math.min(Y0 - 4, ly)),
          "text-anchor": right ? "start" : "end", class: "pl-point-label", fill: p.fill || "#000" });
        t.textContent = p.label;
        root.append(t);
      }
    }
  }
  return { svg: root, draw, X0, X1, Y0, Y1 };
}

/** Text with **bold** parts (the locale's markdown) as DOM nodes in el: no innerHTML. */
export function richText(target, text) {
  target.replaceChildren(...String(text).split("**").map((part, i) => (i % 2 ? el("b", "", part) : document.createTextNode(part))));
  return target;
}

/** Calls fn(...) once the calls have stopped for ms milliseconds (a commit after the last key press). */
export function debounce(fn, ms) {
  let timer = null;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
}
