// Response analytics over time (GET /statistics/hourly): incidents by level per hour, time to notify and
// to acknowledge, messages delivered and failed, as inline SVG charts (charts.js). Read at login, when the
// period changes, and every minute.
import { $, el, lines, ms, stackedBars, when } from "./charts.js";

const REFRESH_MS = 60000; // two aggregate queries a minute per officer
const LEVELS = [
  ["CRITICAL", "critical"], ["HIGH", "high"], ["MEDIUM", "medium"], ["LOW", "low"],
];

let current = null;

document.addEventListener("dashboard:session", (event) => {
  const s = { ...event.detail, seq: 0, timer: null };
  current = s;
  s.timer = setInterval(() => load(s), REFRESH_MS);
  s.signal.addEventListener("abort", () => {
    clearInterval(s.timer);
    if (current === s) { current = null; clear(); }
  }, { once: true });
  load(s);
});

function clear() {
  delete $("analytics-panel").dataset.loaded;
  for (const id of ["chart-incidents", "chart-notify", "chart-ack", "chart-deliveries", "analytics-summary"]) $(id).replaceChildren();
  $("analytics-range").textContent = "";
  $("analytics-message").textContent = "";
}

async function load(s) {
  const seq = ++s.seq;
  const hours = Number($("analytics-hours").value);
  // The server counts whole hours: from `since`'s hour to the current one, so hours - 1 back gives `hours`.
  const since = new Date(Date.now() - (hours - 1) * 3600000).toISOString();
  try {
    const body = await s.api(`/statistics/hourly?since=${encodeURIComponent(since)}`);
    if (current !== s || seq !== s.seq) return;
    $("analytics-message").textContent = "";
    draw(body);
  } catch (error) {
    if (current === s && seq === s.seq && error.name !== "AbortError") {
      $("analytics-message").textContent = error.message;
    }
  }
}

const sum = (hours, value) => hours.reduce((total, hour) => total + value(hour), 0);

function draw(body) {
  const hours = body.hours;
  $("analytics-range").textContent = `${when(body.since)} – ${when(body.until)}, per hour`;
  stackedBars($("chart-incidents"), hours, LEVELS.map(([level, name]) => ({
    key: level, label: level.toLowerCase(), className: `level-${level}`, value: (h) => h.incidents[level] || 0,
  })));
  lines($("chart-notify"), hours, [
    { key: "mean", label: "mean", className: "mean", value: (h) => h.time_to_notify_mean_ms },
    { key: "max", label: "longest", className: "max", value: (h) => h.time_to_notify_max_ms },
  ]);
  lines($("chart-ack"), hours, [
    { key: "mean", label: "mean", className: "mean", value: (h) => h.time_to_acknowledge_mean_ms },
    { key: "max", label: "longest", className: "max", value: (h) => h.time_to_acknowledge_max_ms },
  ]);
  stackedBars($("chart-deliveries"), hours, [
    { key: "failed", label: "failed", className: "failed", value: (h) => h.deliveries.failed || 0 },
    { key: "sent", label: "delivered", className: "sent", value: (h) => h.deliveries.sent || 0 },
    { key: "waiting", label: "waiting", className: "waiting", value: (h) => (h.deliveries.pending || 0) + (h.deliveries.sending || 0) },
  ]);
  const notified = sum(hours, (h) => h.notified);
  const meanNotify = notified ? sum(hours, (h) => (h.time_to_notify_mean_ms || 0) * h.notified) / notified : null;
  const acknowledged = sum(hours, (h) => h.acknowledged);
  const meanAck = acknowledged ? sum(hours, (h) => (h.time_to_acknowledge_mean_ms || 0) * h.acknowledged) / acknowledged : null;
  const figures = [
    ["Incidents", sum(hours, (h) => Object.values(h.incidents).reduce((a, b) => a + b, 0))],
    ["Notify, mean", ms(meanNotify)],
    ["Acknowledge, mean", ms(meanAck)],
    ["Messages failed", sum(hours, (h) => h.deliveries.failed || 0)],
  ];
  $("analytics-summary").replaceChildren(...figures.map(([name, value]) =>
    el("div", {}, el("dt", { text: name }), el("dd", { text: String(value) }))));
  $("analytics-panel").dataset.loaded = "true";
}

$("analytics-hours").addEventListener("change", () => { if (current) load(current); });
$("analytics-refresh").addEventListener("click", () => { if (current) load(current); });
