// SafeSphere police dashboard: the units panel, units on the map, and the dispatch control's unit picker.
// Registered with app.js (window.SafeSphereDashboard); reads and changes units through the API only.
"use strict";

(() => {
  const REFRESH_MS = 10000; // other officers' changes show within this; our own moves reload at once
  const CHANGED_WAIT_MS = 300; // a burst of incident events reloads the units once
  const BY_HAND = ["available", "busy", "off"];
  const TYPE_WORDS = {
    patrol_car: "patrol car", motorcycle: "motorcycle", bicycle: "bicycle", foot_patrol: "foot patrol",
    ambulance: "ambulance", fire_engine: "fire engine", other: "other",
  };
  const $ = (id) => document.getElementById(id);

  let ctx = null; // the logged-in session's context (app.js contextOf); null when logged out
  let units = [];
  let timer = null;
  let soon = null;
  let seq = 0;

  async function load() {
    const mine = ctx;
    const token = ++seq;
    try {
      const out = await mine.api("/units");
      if (!mine.alive() || token !== seq) return;
      units = out.units;
      render();
      fillPicker();
      mine.redrawMap();
    } catch (error) {
      mine.report(error, "unit-message");
    }
  }

  function reloadSoon() {
    if (soon !== null) return;
    soon = setTimeout(() => { soon = null; if (ctx && ctx.alive()) load(); }, CHANGED_WAIT_MS);
  }

  function render() {
    const { el, when } = ctx;
    const available = units.filter((u) => u.status === "available").length;
    $("unit-count").textContent = `${available} available · ${units.length} units`;
    $("unit-list").replaceChildren(...units.map((unit) => el("tr", { "data-unit-id": unit.id, "data-status": unit.status },
      el("td", { text: unit.name }),
      el("td", { text: TYPE_WORDS[unit.type] || unit.type }),
      el("td", { className: "status" }, statusControl(unit)),
      el("td", {}, ...unit.incident_ids.map((id) => el("button", {
        type: "button", className: "small link", text: id, "data-incident-id": id, onclick: () => ctx.select(id),
      }))),
      el("td", { text: unit.position
        ? `${unit.position.lat.toFixed(4)}, ${unit.position.lon.toFixed(4)} (${when(unit.position.at)})` : "–" }))));
  }

  // The status as a picker of what an officer may set; "dispatched" only comes from a dispatch.
  function statusControl(unit) {
    const { el } = ctx;
    const choices = unit.status === "dispatched" ? ["dispatched", ...BY_HAND] : BY_HAND;
    const select = el("select", { "aria-label": `Status of ${unit.name}`, "data-unit-id": unit.id },
      ...choices.map((status) => el("option", {
        value: status, text: status, selected: status === unit.status, disabled: status === "dispatched",
      })));
    select.addEventListener("change", () => setStatus(unit, select.value));
    return select;
  }

  async function setStatus(unit, status) {
    const mine = ctx;
    mine.say("unit-message", "");
    try {
      await mine.api(`/units/${unit.id}`, { method: "PATCH", body: { status } });
      if (mine.alive()) load();
    } catch (error) {
      mine.report(error, "unit-message");
      if (mine.alive()) render();
    }
  }

  async function addUnit(event) {
    event.preventDefault();
    const mine = ctx;
    if (!mine) return;
    const name = $("unit-name").value.trim();
    if (!name) { mine.say("unit-message", "Name the unit first."); return; }
    mine.say("unit-message", "");
    try {
      await mine.api("/units", { method: "POST", body: { name, type: $("unit-type").value } });
      if (!mine.alive()) return;
      $("unit-name").value = "";
      mine.say("unit-message", `Unit ${name} added.`, "ok");
      load();
    } catch (error) {
      mine.report(error, "unit-message");
    }
  }

  // The incident detail's picker: the units that can be sent now.
  function fillPicker() {
    const picker = $("dispatch-unit");
    const kept = picker.value;
    const free = units.filter((u) => u.status === "available");
    const options = free.map((u) => ctx.el("option", { value: u.id, text: `${u.name} (${TYPE_WORDS[u.type] || u.type})` }));
    picker.replaceChildren(...(options.length ? options : [ctx.el("option", { value: "", text: "no unit available" })]));
    if (free.some((u) => String(u.id) === kept)) picker.value = kept;
  }

  function showUnitFact(incident) {
    if (!incident.dispatch_unit) return;
    const { el } = ctx;
    $("detail-facts").append(el("div", { "data-fact": "unit" }, el("dt", { text: "Unit" }),
      el("dd", { text: `${incident.dispatch_unit}, sent ${ctx.when(incident.dispatched_at)}` })));
  }

  // Units with a known position as squares, drawn under the incidents.
  function layer(project) {
    const { svg } = ctx;
    return units.filter((u) => u.position).map((unit) => {
      const [x, y] = project.xy(unit.position.lon, unit.position.lat);
      const node = svg("rect", {
        x: (x - 5).toFixed(1), y: (y - 5).toFixed(1), width: 10, height: 10,
        class: `unit status-${unit.status}`, "data-unit-id": unit.id,
      });
      const tip = svg("title");
      tip.textContent = `${unit.name} (${TYPE_WORDS[unit.type] || unit.type}): ${unit.status}`
        + (unit.incident_ids.length ? ` to ${unit.incident_ids.join(", ")}` : "");
      node.append(tip);
      return node;
    });
  }

  window.SafeSphereDashboard.extend({
    start(context) {
      ctx = context;
      units = [];
      load();
      timer = setInterval(() => { if (ctx && ctx.alive()) load(); }, REFRESH_MS);
    },
    stop() {
      clearInterval(timer);
      clearTimeout(soon);
      timer = soon = ctx = null;
      units = [];
      $("unit-list").replaceChildren();
      $("unit-count").textContent = "";
    },
    detail(context, incident) {
      if (context === ctx) showUnitFact(incident);
    },
    changed(context) {
      if (context === ctx) reloadSoon();
    },
    mapLayer(context, project) {
      return context === ctx ? layer(project) : [];
    },
    mapPoints(context) {
      return context === ctx ? units.filter((u) => u.position).map((u) => [u.position.lon, u.position.lat]) : [];
    },
    dispatchBody() {
      const value = $("dispatch-unit").value;
      return value ? { unit_id: Number(value) } : "No unit is available: add one or set one available in the Units panel.";
    },
  });

  document.addEventListener("DOMContentLoaded", () => $("unit-form").addEventListener("submit", addUnit));
})();
