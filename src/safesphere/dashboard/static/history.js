// The notifications history: every message across incidents and alerts (GET /deliveries), the failed
// ones first, filtered by status, channel, recipient type and period, 25 rows a page, with the counts by
// status. Recipients include contacts' own addresses: this page is for authorities only, as the API is.
import { $, el, ms, when } from "./charts.js";

const PAGE_ROWS = 25; // a page never grows with the history
const PERIOD_MS = { hour: 3600000, day: 86400000, week: 7 * 86400000 };
const STATUS_WORDS = {
  failed: "Failed", pending: "Waiting", sending: "Sending", sent: "Delivered", cancelled: "Cancelled (no longer needed)",
};
const STATUS_ORDER = ["failed", "pending", "sending", "sent", "cancelled"];
const AUDIENCE_WORDS = { police: "Police", supervisor: "Supervisor", contact: "Emergency contact", user: "Tourist / protected person" };
const SOURCE_WORDS = { safety_alert: "SOS / anomaly alert", escalation: "Escalation page", warning: "Nearby warning" };

let current = null; // { api, signal, offset, seq } of the logged-in session

document.addEventListener("dashboard:session", (event) => {
  const s = { ...event.detail, offset: 0, seq: 0 };
  current = s;
  s.signal.addEventListener("abort", () => { if (current === s) { current = null; clear(); } }, { once: true });
  load(s);
});

function say(text) {
  $("history-message").textContent = text || "";
  $("history-message").className = `message ${text ? "error" : ""}`;
}

function clear() {
  delete $("history-list").dataset.loaded;
  for (const id of ["history-list", "history-counts"]) $(id).replaceChildren();
  for (const id of ["history-count", "history-page"]) $(id).textContent = "";
  say("");
}

function query(s) {
  const params = new URLSearchParams({ order: "failed_first", limit: String(PAGE_ROWS), offset: String(s.offset) });
  for (const [name, id] of [["status", "history-status"], ["audience", "history-audience"], ["channel", "history-channel"]]) {
    const value = $(id).value.trim();
    if (value) params.set(name, value);
  }
  const period = PERIOD_MS[$("history-period").value];
  if (period) params.set("since", new Date(Date.now() - period).toISOString());
  return params;
}

async function load(s) {
  const seq = ++s.seq;
  try {
    const page = await s.api(`/deliveries?${query(s)}`);
    if (current !== s || seq !== s.seq) return; // a later filter or page superseded this one
    say("");
    render(s, page);
  } catch (error) {
    if (current === s && seq === s.seq && error.name !== "AbortError") say(error.message);
  }
}

function source(s, delivery) {
  if (!delivery.incident_id) return `${SOURCE_WORDS[delivery.source_kind] || delivery.source_kind} #${delivery.source_id}`;
  // The incident opens in the detail panel (app.js's select), as a click on its row or marker does.
  return el("button", {
    type: "button", className: "link", "data-incident-id": delivery.incident_id, text: `Incident ${delivery.incident_id}`,
    onclick: () => { s.select(delivery.incident_id); $("detail-panel").scrollIntoView({ block: "nearest" }); },
  });
}

function row(s, delivery) {
  return el("tr", { "data-delivery-id": delivery.id, "data-status": delivery.status, className: `status-${delivery.status}` },
    el("td", { text: when(delivery.created_at) }),
    el("td", { className: "source" }, source(s, delivery)),
    el("td", { className: "audience", text: AUDIENCE_WORDS[delivery.audience] || delivery.audience }),
    el("td", { className: "recipient", text: delivery.recipient }),
    el("td", { className: "channel", text: delivery.channel }),
    el("td", { className: "status", text: STATUS_WORDS[delivery.status] || delivery.status }),
    el("td", { text: String(delivery.attempts) }),
    el("td", { text: ms(delivery.deliver_ms) }),
    el("td", { className: "error", text: delivery.last_error || "" }));
}

function render(s, page) {
  const list = $("history-list");
  list.replaceChildren(...(page.deliveries.length
    ? page.deliveries.map((delivery) => row(s, delivery))
    : [el("tr", {}, el("td", { colspan: 9, text: "No notifications match these filters." }))]));
  list.dataset.loaded = "true";
  list.dataset.total = String(page.total);
  $("history-count").textContent = `${page.total} matching · ${page.counts.failed} failed`;
  $("history-counts").replaceChildren(...STATUS_ORDER.map((status) => el("button", {
    type: "button", className: `small count-${status}`, "data-status": status,
    text: `${STATUS_WORDS[status]}: ${page.counts[status] || 0}`,
    onclick: () => { $("history-status").value = status; filter(); },
  })));
  const last = Math.min(page.total, page.offset + page.deliveries.length);
  $("history-page").textContent = page.total ? `${page.offset + 1}–${last} of ${page.total}` : "";
  $("history-prev").disabled = page.offset === 0;
  $("history-next").disabled = last >= page.total;
}

function filter() {
  if (!current) return;
  current.offset = 0;
  load(current);
}

function turn(step) {
  if (!current) return;
  current.offset = Math.max(0, current.offset + step * PAGE_ROWS);
  load(current);
}

for (const id of ["history-status", "history-audience", "history-channel", "history-period"]) $(id).addEventListener("change", filter);
$("history-prev").addEventListener("click", () => turn(-1));
$("history-next").addEventListener("click", () => turn(1));
$("history-refresh").addEventListener("click", () => { if (current) load(current); });
