// The loss-landscape map, drawn in the browser (Streamlit components v2, no framework, no CDN).
//
// Python sends, once per surface, log10(f - f*) on a 61 x 61 grid (float32) and its iso-line levels,
// and once per change of a learning rate or of the start point, the optimizer paths torch.optim took
// (bigmodel_core.landscape.optimizer_path: float32 points, clipped to the map). The browser only
// re-arranges those numbers and evaluates the surface in closed form:
//
//   - picking a start point: a click, or the arrow keys on the focused map (Shift: 10 grid steps),
//     snapped to the 0.05 grid (bigmodel_core.landscape.snap_start); the marker, J(theta_0),
//     the gradient and GD's first step move at once, with no server rerun;
//         theta_1 = theta_0 - alpha * grad J(theta_0)       (what torch.optim.SGD's first step does)
//   - the theory panel on the quadratic bowl (Goh, "Why Momentum Really Works", Distill 2017):
//     bigmodel_core.landscape.quadratic_theory, QuadraticTheory.gd_rate and .steps_to.
//
// A click or Enter commits the start (setTriggerValue("start", [x, y])): the paths fragment reruns
// and sends the new paths. Everything else is drawn here.

// ---- the arithmetic (pure, exported for the browser test) ----------------------------------------

/** (lambda_min, lambda_max, cos, sin) of the bowl: Surface.eigen. */
function eigen(s) {
  const a = (s.angle * Math.PI) / 180;
  return [1 / s.kappa, 1, Math.cos(a), Math.sin(a)];
}

/** f(x, y) of a toy surface: bigmodel_core.landscape.Surface.f. */
export function surfaceF(s, x, y) {
  switch (s.name) {
    case "quadratic": {                       // f = 1/2 (lmin u^2 + lmax v^2), (u, v) = rotated (x, y)
      const [lmin, lmax, c, sn] = eigen(s);
      const u = c * x + sn * y, v = -sn * x + c * y;
      return 0.5 * (lmin * u * u + lmax * v * v);
    }
    case "rosenbrock": return (1 - x) ** 2 + 100 * (y - x * x) ** 2;
    case "himmelblau": return (x * x + y - 11) ** 2 + (x + y * y - 7) ** 2;
    case "saddle": return x * x - y * y + 0.5 * y ** 4;
    case "beale": return (1.5 - x + x * y) ** 2 + (2.25 - x + x * y * y) ** 2 + (2.625 - x + x * y ** 3) ** 2;
    default: return NaN;
  }
}

/** (df/dx, df/dy): bigmodel_core.landscape.Surface.grad, written out the same way. */
export function surfaceGrad(s, x, y) {
  switch (s.name) {
    case "quadratic": {
      const [lmin, lmax, c, sn] = eigen(s);
      const u = c * x + sn * y, v = -sn * x + c * y;
      return [lmin * u * c - lmax * v * sn, lmin * u * sn + lmax * v * c];
    }
    case "rosenbrock": {
      const r = y - x * x;
      return [-2 * (1 - x) - 400 * x * r, 200 * r];
    }
    case "himmelblau": {
      const a = x * x + y - 11, b = x + y * y - 7;
      return [4 * x * a + 2 * b, 2 * a + 4 * y * b];
    }
    case "saddle": return [2 * x, -2 * y + 2 * y ** 3];
    case "beale": {
      const a = 1.5 - x + x * y, b = 2.25 - x + x * y * y, c = 2.625 - x + x * y ** 3;
      return [2 * a * (y - 1) + 2 * b * (y * y - 1) + 2 * c * (y ** 3 - 1),
        2 * a * x + 4 * b * x * y + 6 * c * x * y * y];
    }
    default: return [NaN, NaN];
  }
}

/** Python's round(): halves to the even neighbour. */
function roundHalfEven(v) {
  const r = Math.round(v);
  return Math.abs(v % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** A picked point as a start point: bigmodel_core.landscape.snap_start (the grid, then the window). */
export function snapStart(s, x, y, step) {
  return [[x, s.xlim], [y, s.ylim]].map(([v, [lo, hi]]) => {
    const snapped = Number((roundHalfEven(v / step) * step).toFixed(6));
    return Math.min(Math.max(snapped, lo), hi);
  });
}

/** GD's first step from (x, y): theta_1 = theta_0 - lr * grad J(theta_0) and J(theta_1). */
export function firstStep(s, x, y, lr) {
  const [gx, gy] = surfaceGrad(s, x, y);
  const x1 = x - lr * gx, y1 = y - lr * gy;
  return { gx, gy, x1, y1, f0: surfaceF(s, x, y), f1: surfaceF(s, x1, y1) };
}

/** Goh 2017's numbers for the bowl: bigmodel_core.landscape.quadratic_theory. */
export function quadraticTheory(kappa) {
  const lmin = 1 / kappa, lmax = 1, sk = Math.sqrt(kappa);
  return {
    lambda_min: lmin, lambda_max: lmax, kappa,
    gd_max_lr: 2 / lmax, gd_best_lr: 2 / (lmin + lmax), gd_best_rate: (kappa - 1) / (kappa + 1),
    momentum_best_lr: (2 / (Math.sqrt(lmin) + Math.sqrt(lmax))) ** 2,
    momentum_best_beta: ((sk - 1) / (sk + 1)) ** 2, momentum_best_rate: (sk - 1) / (sk + 1),
  };
}

/** GD's rate at lr: max |1 - lr * lambda| over the two eigenvalues (QuadraticTheory.gd_rate). */
export function gdRate(th, lr) {
  return Math.max(Math.abs(1 - lr * th.lambda_min), Math.abs(1 - lr * th.lambda_max));
}

/** Steps until the error shrinks by `factor` at this rate (QuadraticTheory.steps_to). */
export function stepsTo(rate, factor = 1e-3) {
  if (rate > 0 && rate < 1) return Math.log(factor) / Math.log(rate);
  return rate === 0 ? 0 : Infinity;
}

/** Python's f"{x:.3g}" closely enough for the panel (no trailing zeros). */
export function g3(x, p = 3) {
  if (!Number.isFinite(x)) return x > 0 ? "∞" : x < 0 ? "−∞" : "NaN";
  if (x === 0) return "0";
  const a = Math.abs(x);
  if (a >= 1e-4 && a < 10 ** p) return String(Number(x.toPrecision(p)));
  return x.toExponential(p - 1).replace(/\.?0+e/, "e").replace(/e([+-])(\d)$/, "e$10$2");
}

// ---- the picture ---------------------------------------------------------------------------------

const P = 340, ML = 44, MB = 34, MT = 10, MR = 14;    // plot square and margins, CSS pixels
const W = ML + P + MR, H = MT + P + MB;
const LOW = [255, 255, 255], HIGH = [0x5b, 0x7f, 0xa3], LINE = [0x3a, 0x3a, 0x3a];

/** The coloured background with iso-lines, one pixel at a time (once per surface and screen). */
function paintBackground(z, n, levels, dpr) {
  const side = Math.round(P * dpr);
  const off = document.createElement("canvas");
  off.width = off.height = side;
  const ctx = off.getContext("2d");
  const img = ctx.createImageData(side, side);
  let zmin = Infinity, zmax = -Infinity;
  for (const v of z) { if (v < zmin) zmin = v; if (v > zmax) zmax = v; }
  const span = zmax - zmin || 1;
  const band = new Int16Array(side * side);
  const zs = new Float32Array(side * side);
  for (let py = 0; py < side; py++) {
    const gy = (1 - (py + 0.5) / side) * (n - 1);        // grid row (row 0 at the bottom: ylim[0])
    const i0 = Math.min(n - 2, Math.floor(gy)), fy = gy - i0;
    for (let px = 0; px < side; px++) {
      const gx = ((px + 0.5) / side) * (n - 1);
      const j0 = Math.min(n - 2, Math.floor(gx)), fx = gx - j0;
      const a = z[i0 * n + j0], b = z[i0 * n + j0 + 1], c = z[(i0 + 1) * n + j0], d = z[(i0 + 1) * n + j0 + 1];
      const v = (a * (1 - fx) + b * fx) * (1 - fy) + (c * (1 - fx) + d * fx) * fy;
      let k = 0;
      while (k < levels.length && levels[k] < v) k++;
      band[py * side + px] = k;
      zs[py * side + px] = v;
    }
  }
  const lineW = Math.max(1, Math.round(dpr));
  for (let py = 0; py < side; py++) {
    for (let px = 0; px < side; px++) {
      const q = py * side + px;
      const t = (zs[q] - zmin) / span;
      let rgb = LOW.map((lo, ch) => lo + (HIGH[ch] - lo) * t);
      const edge = (px >= lineW && band[q - lineW] !== band[q]) || (py >= lineW && band[q - lineW * side] !== band[q]);
      if (edge) rgb = rgb.map((v, ch) => v * 0.45 + LINE[ch] * 0.55);
      img.data.set([rgb[0], rgb[1], rgb[2], 255], q * 4);
    }
  }
  ctx.putImageData(img, 0, 0);
  return off;
}

function tickStep(range) {
  return range <= 4.5 ? 1 : range <= 6.5 ? 1 : 2;
}

const STATE = new WeakMap();   // parentElement -> per-mount state

function build(root, L) {
  root.replaceChildren();
  const canvas = el("canvas", "lm-canvas");
  canvas.tabIndex = 0;
  canvas.setAttribute("role", "application");
  canvas.setAttribute("aria-label", L.map_label);
  const hint = el("div", "lm-hint", L.map_hint);
  const startLine = el("div", "lm-start");
  const stepLine = el("div", "lm-step");
  const hoverLine = el("div", "lm-hover");
  const button = el("button", "lm-go", L.start_here);
  button.type = "button";
  const row = el("div", "lm-row");
  row.append(startLine, button);
  const theory = el("div", "lm-theory");
  root.append(canvas, hint, row, stepLine, hoverLine, theory);
  return { canvas, startLine, stepLine, hoverLine, button, theory };
}

export default function (component) {
  const { data, parentElement, setTriggerValue } = component;
  if (!data || !data.z) return;
  const L = data.labels;
  const s = data.surface;
  let st = STATE.get(parentElement);
  if (!st || st.lang !== data.lang) {
    const root = mountRoot(parentElement, "lm-root");
    st = { root, ui: build(root, L), lang: data.lang, bgKey: null, bg: null, server: null, pending: null };
    STATE.set(parentElement, st);
  }
  const ui = st.ui;
  const dpr = Math.max(1, Math.min(3, window.devicePixelRatio || 1));
  const bgKey = `${s.name}|${s.kappa}|${s.angle}|${dpr}|${data.z.length}`;
  if (st.bgKey !== bgKey) {
    st.bg = paintBackground(decodeFloat32(data.z), data.n, data.levels, dpr);
    st.bgKey = bgKey;
  }
  // the server's start wins when it changed (a commit came back, a link, a new surface)
  const server = JSON.stringify([s.name, data.start]);
  if (st.server !== server) {
    st.server = server;
    st.pending = null;
  }
  const paths = data.paths.map((p) => ({ ...p, pts: decodeFloat32(p.xy) }));
  const [x0, x1] = s.xlim, [y0, y1] = s.ylim;
  const X = (x) => ML + ((x - x0) / (x1 - x0)) * P;
  const Y = (y) => MT + ((y1 - y) / (y1 - y0)) * P;
  const canvas = ui.canvas;
  canvas.width = W * dpr;
  canvas.height = H * dpr;
  const ctx = canvas.getContext("2d");
  const css = getComputedStyle(st.root);
  const font = css.fontFamily || "sans-serif";
  const text = css.color || "#31333f";

  function draw() {
    const [sx, sy] = st.pending || data.start;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, W, H);
    ctx.drawImage(st.bg, ML, MT, P, P);
    ctx.strokeStyle = "rgba(0,0,0,0.35)";
    ctx.lineWidth = 1;
    ctx.strokeRect(ML, MT, P, P);
    // axes
    ctx.fillStyle = text;
    ctx.font = `13px ${font}`;
    ctx.textAlign = "center";
    ctx.textBaseline = "top";
    const xs = tickStep(x1 - x0), ys = tickStep(y1 - y0);
    for (let v = Math.ceil(x0 / xs) * xs; v <= x1 + 1e-9; v += xs) ctx.fillText(String(+v.toFixed(2)), X(v), MT + P + 4);
    ctx.textAlign = "right";
    ctx.textBaseline = "middle";
    for (let v = Math.ceil(y0 / ys) * ys; v <= y1 + 1e-9; v += ys) ctx.fillText(String(+v.toFixed(2)), ML - 5, Y(v));
    ctx.font = `italic 14px ${font}`;
    ctx.textAlign = "center";
    ctx.textBaseline = "bottom";
    ctx.fillText("x", ML + P / 2, H);
    ctx.save();
    ctx.translate(12, MT + P / 2);
    ctx.rotate(-Math.PI / 2);
    ctx.textBaseline = "middle";
    ctx.fillText("y", 0, 0);
    ctx.restore();
    // minima
    for (const [mx, my] of s.minima) {
      ctx.save();
      ctx.translate(X(mx), Y(my));
      ctx.rotate(Math.PI / 4);
      ctx.fillStyle = "#000";
      ctx.strokeStyle = "#fff";
      ctx.lineWidth = 1.5;
      ctx.fillRect(-6, -6, 12, 12);
      ctx.strokeRect(-6, -6, 12, 12);
      ctx.restore();
    }
    // the paths: a white halo, the coloured line, the last point; a cross where it left the map
    ctx.save();
    ctx.beginPath();
    ctx.rect(ML, MT, P, P);
    ctx.clip();
    ctx.lineJoin = "round";
    for (const p of paths) {
      for (const [w, colour, alpha] of [[6, "#fff", 0.8], [3, p.color, 1]]) {
        ctx.globalAlpha = alpha;
        ctx.strokeStyle = colour;
        ctx.lineWidth = w;
        ctx.beginPath();
        for (let i = 0; i <= p.end; i++) {
          const px = X(p.pts[2 * i]), py = Y(p.pts[2 * i + 1]);
          if (i === 0) ctx.moveTo(px, py); else ctx.lineTo(px, py);
        }
        ctx.stroke();
      }
      ctx.globalAlpha = 1;
      const ex = X(p.pts[2 * p.end]), ey = Y(p.pts[2 * p.end + 1]);
      ctx.fillStyle = p.color;
      ctx.strokeStyle = "#fff";
      ctx.lineWidth = 1.5;
      ctx.beginPath();
      if (p.diverged) {                         // a cross
        ctx.lineWidth = 4;
        ctx.strokeStyle = p.color;
        ctx.moveTo(ex - 8, ey - 8); ctx.lineTo(ex + 8, ey + 8);
        ctx.moveTo(ex + 8, ey - 8); ctx.lineTo(ex - 8, ey + 8);
        ctx.stroke();
      } else {
        ctx.arc(ex, ey, 6, 0, 2 * Math.PI);
        ctx.fill();
        ctx.stroke();
      }
    }
    ctx.restore();
    for (const p of paths.filter((q) => q.diverged)) {     // the note, outside the clip
      const ex = X(p.pts[2 * p.end]), ey = Y(p.pts[2 * p.end + 1]);
      ctx.font = `bold 14px ${font}`;
      ctx.fillStyle = p.color;
      ctx.textAlign = ex > ML + P / 2 ? "right" : "left";
      ctx.textBaseline = "bottom";
      ctx.fillText(fill(L.diverged_mark, { step: p.end }), Math.min(Math.max(ex, ML + 4), ML + P - 4),
        Math.max(ey - 10, MT + 16));
    }
    // the start: committed (white disc) or picked but not sent yet (dashed ring)
    ctx.beginPath();
    ctx.arc(X(sx), Y(sy), 8, 0, 2 * Math.PI);
    ctx.fillStyle = "#fff";
    ctx.fill();
    ctx.lineWidth = 2.5;
    ctx.strokeStyle = "#000";
    if (st.pending) ctx.setLineDash([4, 3]);
    ctx.stroke();
    ctx.setLineDash([]);
    // the numbers
    const fs = firstStep(s, sx, sy, data.gd_lr || 0);
    ui.startLine.textContent = fill(L.start_at, { x: fmt(sx), y: fmt(sy), f: g3(fs.f0, 4) })
      + (st.pending ? ` · ${L.pending}` : "");
    ui.button.hidden = !st.pending;
    ui.stepLine.textContent = data.gd_lr
      ? fill(L.first_step, { lr: g3(data.gd_lr), x0: fmt(sx), y0: fmt(sy), gx: g3(fs.gx, 4), gy: g3(fs.gy, 4),
        x1: g3(fs.x1, 4), y1: g3(fs.y1, 4), f1: g3(fs.f1, 4) })
      : fill(L.first_step_none, { gx: g3(fs.gx, 4), gy: g3(fs.gy, 4) });
    Object.assign(st.root.dataset, {
      x: String(sx), y: String(sy), f0: String(fs.f0), gx: String(fs.gx), gy: String(fs.gy),
      x1: String(fs.x1), y1: String(fs.y1), f1: String(fs.f1), pending: st.pending ? "1" : "0",
    });
    canvas.setAttribute("aria-valuetext", ui.startLine.textContent);
    markDrawn(st.root);
  }

  function drawTheory() {
    const th0 = data.theory;
    if (!th0) { ui.theory.replaceChildren(); return; }
    const th = quadraticTheory(th0.kappa);
    const steps = (r) => { const n = stepsTo(r); return Number.isFinite(n) ? String(Math.ceil(n)) : "∞"; };
    const stat = (label, value, note) => {
      const d = el("div", "lm-stat");
      d.append(el("div", "lm-stat-label", label), el("div", "lm-stat-value", value));
      if (note) d.append(el("div", "lm-stat-note", note));
      return d;
    };
    const head = el("div", "lm-theory-title", L.theory_title);
    const lam = el("div", "lm-theory-lam",
      `λ_min = ${g3(th.lambda_min)}, λ_max = ${g3(th.lambda_max)}, κ = ${g3(th.kappa)}`);
    const grid = el("div", "lm-stats");
    grid.append(
      stat(L.gd_max_lr, g3(th.gd_max_lr)),
      stat(L.gd_best, g3(th.gd_best_lr), fill(L.rate_steps, { rate: fmt(th.gd_best_rate, 3), steps: steps(th.gd_best_rate) })),
      stat(L.momentum_best, `${g3(th.momentum_best_lr)}, β = ${fmt(th.momentum_best_beta)}`,
        fill(L.rate_steps, { rate: fmt(th.momentum_best_rate, 3), steps: steps(th.momentum_best_rate) })),
    );
    const lines = [];
    const bold = (md) => {                       // the locale's **bold** as <strong>
      const p = el("p", "lm-your");
      md.split("**").forEach((part, i) => p.append(i % 2 ? el("strong", "", part) : document.createTextNode(part)));
      return p;
    };
    if (th0.lr_gd) {
      const rate = gdRate(th, th0.lr_gd);
      const measured = th0.gd_diverged ? "∞" : th0.measured_gd == null ? "—" : fmt(th0.measured_gd, 3);
      lines.push(bold(fill(L.your_gd, { lr: g3(th0.lr_gd), rate: fmt(rate, 3), measured,
        verdict: rate >= 1 ? L.verdict_diverges : L.verdict_converges })));
      st.root.dataset.gdRate = String(rate);
    }
    if (th0.measured_momentum != null || th0.momentum_diverged) {
      lines.push(bold(fill(L.your_momentum, { measured: th0.momentum_diverged ? "∞" : fmt(th0.measured_momentum, 3) })));
    }
    Object.assign(st.root.dataset, { gdMaxLr: String(th.gd_max_lr), gdBestLr: String(th.gd_best_lr),
      momentumBestLr: String(th.momentum_best_lr), momentumBestBeta: String(th.momentum_best_beta) });
    ui.theory.replaceChildren(head, lam, grid, ...lines);
  }

  const toData = (ev) => {                       // pointer -> surface coordinates
    const r = canvas.getBoundingClientRect();
    const cx = ((ev.clientX - r.left) / r.width) * W, cy = ((ev.clientY - r.top) / r.height) * H;
    return [x0 + ((cx - ML) / P) * (x1 - x0), y1 - ((cy - MT) / P) * (y1 - y0), cx, cy];
  };
  const commit = () => {
    if (!st.pending) return;
    if (st.pending[0] === data.start[0] && st.pending[1] === data.start[1]) {   // nothing new to send
      st.pending = null;
      draw();
      return;
    }
    setTriggerValue("start", st.pending);        // the paths fragment reruns with this start
  };
  canvas.onclick = (ev) => {
    const [x, y, cx, cy] = toData(ev);
    if (cx < ML || cx > ML + P || cy < MT || cy > MT + P) return;
    st.pending = snapStart(s, x, y, data.step);
    draw();
    commit();
  };
  canvas.onpointermove = (ev) => {
    const [x, y, cx, cy] = toData(ev);
    const inside = cx >= ML && cx <= ML + P && cy >= MT && cy <= MT + P;
    ui.hoverLine.textContent = inside ? fill(L.hover, { x: fmt(x), y: fmt(y), f: g3(surfaceF(s, x, y), 4) }) : "";
  };
  canvas.onpointerleave = () => { ui.hoverLine.textContent = ""; };
  canvas.onkeydown = (ev) => {
    const moves = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, 1], ArrowDown: [0, -1] };
    if (ev.key === "Enter" || ev.key === " ") {
      ev.preventDefault();
      commit();
      return;
    }
    const m = moves[ev.key];
    if (!m) return;
    ev.preventDefault();                          // the page must not scroll
    const [sx, sy] = st.pending || data.start;
    const d = data.step * (ev.shiftKey ? 10 : 1);
    st.pending = snapStart(s, sx + m[0] * d, sy + m[1] * d, data.step);
    draw();
  };
  ui.button.onclick = commit;
  draw();
  drawTheory();
}
