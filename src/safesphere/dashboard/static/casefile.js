// SafeSphere police dashboard: the incident detail's case file — the reports grouped under a case, or the
// case a grouped report belongs to. Registered with app.js (window.SafeSphereDashboard); reads nothing
// itself: GET /incidents/{id} already carries grouped_reports and grouped_into.
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);

  function render(ctx, incident) {
    const { el, when, statusWords } = ctx;
    const open = (id) => el("button", {
      type: "button", className: "small link", text: id, "data-incident-id": id, onclick: () => ctx.select(id),
    });
    const rows = incident.grouped_reports.map((report) => el("li", { "data-incident-id": report.incident_id },
      open(report.incident_id),
      ` ${when(report.timestamp)} · ${report.threat_level} · score ${Number(report.threat_score).toFixed(2)} · `
        + `${statusWords(report.status)}${report.action_taken ? ` · ${report.action_taken}` : ""}`));
    if (incident.grouped_into) {
      rows.unshift(el("li", { className: "grouped-into", "data-incident-id": incident.grouped_into },
        "This report was grouped into the case ", open(incident.grouped_into)));
    }
    $("detail-grouped").replaceChildren(...rows);
    $("detail-grouped-title").textContent = incident.grouped_into
      ? "Case" : `Grouped reports (${incident.grouped_reports.length})`;
    $("detail-grouped-section").hidden = rows.length === 0;
  }

  // An evidence image opens at full size in a dialog (the detail shows it scaled to the panel).
  function openFullSize(event) {
    const image = event.target;
    if (!(image instanceof HTMLImageElement) || !image.src) return;
    const full = $("evidence-full");
    const shown = document.createElement("img");
    shown.src = image.src;
    shown.alt = image.alt;
    full.querySelector(".full").replaceChildren(shown);
    full.showModal();
  }

  document.addEventListener("DOMContentLoaded", () => {
    $("detail-evidence").addEventListener("click", openFullSize);
    $("evidence-full-close").addEventListener("click", () => $("evidence-full").close());
  });

  window.SafeSphereDashboard.extend({
    detail(ctx, incident) { render(ctx, incident); },
    stop() { $("detail-grouped").replaceChildren(); $("detail-grouped-section").hidden = true; },
  });
})();
