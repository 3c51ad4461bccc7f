// Small DOM helpers and the charts of the dashboard's report panels, drawn as inline SVG: no third-party
// script, no canvas, no inline style (the page's CSP forbids them). Every mark carries a <title> for hover.

const SVG_NS = "http://www.w3.org/2000/svg";
const W = 600; // every chart's viewBox: 600 x 160
const H = 160;
const PAD = { left: 48, right: 8, top: 10, bottom: 22 };

export const $ = (id) => document.getElementById(id);

export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "text") node.textContent = String(value);
    else if (key === "className") node.className = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, String(value));
  }
  for (const child of children) if (child !== null && child !== undefined) node.append(child);
  return node;
}

export function svg(tag, attrs = {}, title) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, String(value));
  if (title) {
    const hover = document.createElementNS(SVG_NS, "title");
    hover.textContent = title;
    node.append(hover);
  }
  return node;
}

// Durations the way an officer reads them (as app.js does): 9 ms, 1.4 s, 3 min.
export function ms(value) {
  if (value === null || value === undefined) return "–";
  if (value < 1000) return `${Math.round(value)} ms`;
  if (value < 60000) return `${(value / 1000).toFixed(1)} s`;
  return `${Math.round(value / 60000)} min`;
}

export const when = (iso) => (iso ? new Date(iso).toLocaleString() : "–");
export const hourOf = (iso) => new Date(iso).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });

// The smallest 1, 2 or 5 x 10^n at or above value: round numbers on the axis.
function niceMax(value) {
  const power = 10 ** Math.floor(Math.log10(Math.max(value, 1e-9)));
  for (const step of [1, 2, 5, 10]) if (step * power >= value) return step * power;
  return 10 * power;
}

function frame(hours, top, label) {
  const y = (v) => PAD.top + (H - PAD.top - PAD.bottom) * (1 - v / top);
  const slot = (W - PAD.left - PAD.right) / Math.max(hours.length, 1);
  const nodes = [svg("line", { x1: PAD.left, y1: y(0), x2: W - PAD.right, y2: y(0), class: "axis-line" })];
  for (const v of [0, top / 2, top].filter((v) => label !== count || Number.isInteger(v))) {
    const text = svg("text", { x: PAD.left - 4, y: y(v) + 4, class: "axis", "text-anchor": "end" });
    text.textContent = label(v);
    nodes.push(text, svg("line", { x1: PAD.left, y1: y(v), x2: W - PAD.right, y2: y(v), class: "grid" }));
  }
  const every = Math.max(1, Math.ceil(hours.length / 6));
  hours.forEach((hour, i) => {
    if (i % every) return;
    const text = svg("text", { x: PAD.left + i * slot + 2, y: H - 6, class: "axis" });
    text.textContent = hourOf(hour.start);
    nodes.push(text);
  });
  return { y, slot, nodes };
}

const count = (v) => String(v);

// One bar per hour, stacked by series ({ key, label, className, value(hour) }); data-bars on the chart.
export function stackedBars(chart, hours, series) {
  const totals = hours.map((hour) => series.reduce((sum, s) => sum + s.value(hour), 0));
  const { y, slot, nodes } = frame(hours, niceMax(Math.max(1, ...totals)), count);
  hours.forEach((hour, i) => {
    const parts = series.filter((s) => s.value(hour) > 0).map((s) => `${s.value(hour)} ${s.label}`);
    const bar = svg("g", { class: "bar", "data-hour": i, "data-total": totals[i] },
      `${hourOf(hour.start)}: ${parts.length ? parts.join(", ") : "none"}`);
    let base = 0;
    for (const s of series) {
      const value = s.value(hour);
      if (!value) continue;
      bar.append(svg("rect", {
        x: (PAD.left + i * slot + 1).toFixed(1), y: y(base + value).toFixed(1),
        width: Math.max(1, slot - 2).toFixed(1), height: (y(base) - y(base + value)).toFixed(1),
        class: s.className, "data-series": s.key,
      }));
      base += value;
    }
    nodes.push(bar);
  });
  chart.replaceChildren(...nodes);
  chart.dataset.bars = String(hours.length);
  chart.dataset.total = String(totals.reduce((a, b) => a + b, 0));
}

// Lines ({ key, label, className, value(hour) -> number | null }) over the hours that have a value; a point
// per such hour (data-points on the chart counts the first line's).
export function lines(chart, hours, series) {
  const values = series.flatMap((s) => hours.map((hour) => s.value(hour)).filter((v) => v !== null));
  const { y, slot, nodes } = frame(hours, niceMax(Math.max(1, ...values)), ms);
  // Drawn last to first, so the first line (the mean) stays visible where the longest equals it.
  const counts = [...series].reverse().map((s) => {
    const points = hours.flatMap((hour, i) => {
      const value = s.value(hour);
      return value === null ? [] : [[PAD.left + (i + 0.5) * slot, y(value), hour, value]];
    });
    if (points.length > 1) {
      nodes.push(svg("polyline", {
        points: points.map(([px, py]) => `${px.toFixed(1)},${py.toFixed(1)}`).join(" "), class: `line ${s.className}`,
      }));
    }
    for (const [px, py, hour, value] of points) {
      nodes.push(svg("circle", { cx: px.toFixed(1), cy: py.toFixed(1), r: 3, class: `point ${s.className}`, "data-series": s.key },
        `${hourOf(hour.start)}: ${s.label} ${ms(value)}`));
    }
    return points.length;
  });
  chart.replaceChildren(...nodes);
  chart.dataset.points = String(counts[counts.length - 1] || 0);
}
