// SafeSphere police dashboard. Vanilla JS, no build step, no third-party requests: every byte of data
// comes from the API with the officer's token. DOM is built with createElement/textContent only.
"use strict";

(() => {
  const STORE = { token: "safesphere.token", role: "safesphere.role", email: "safesphere.email" };
  const DASHBOARD_ROLES = new Set(["authority", "admin"]);
  const LEVELS = ["LOW", "MEDIUM", "HIGH", "CRITICAL"];
  const URGENT = new Set(["HIGH", "CRITICAL"]);
  const UNACKNOWLEDGED = new Set(["logged", "actions_executed"]);
  const OPEN = new Set(["logged", "actions_executed", "acknowledged", "dispatched"]);
  const UNRESOLVED = ["open", "acknowledged"]; // alert statuses the work queue and the map show
  // Only these alerts are police work of their own: an incident's alerts are its row, and a warning is a
  // message *to* a tourist near a threat, never work for an officer.
  const QUEUE_TYPES = ["sos", "anomaly"];
  const SEVERITY_RANK = { CRITICAL: 0, HIGH: 1, MEDIUM: 2, LOW: 3 };
  const ALERT_RANK = { critical: 0, high: 1, medium: 2, low: 3 };
  const STATUS_WORDS = {
    logged: "Logged", actions_executed: "Protocol actions taken", acknowledged: "Acknowledged",
    dispatched: "Unit dispatched", resolved: "Resolved", false_alarm: "False alarm", open: "Open",
  };
  const AUDIENCE_WORDS = { police: "Police paged", supervisor: "Supervisor paged", contact: "Emergency contact messaged", user: "Tourist told" };
  const PAGE_ROWS = 25; // incidents per page: the page never grows with the night
  const QUEUE_PAGE = 10; // queue cards shown before "Show more"
  const ACTIVE_TOURIST_MS = 15 * 60 * 1000; // a tourist seen this recently is part of the map's first view
  const STATS_MIN_INTERVAL_MS = 2000; // live bursts must not turn into a statistics query per event
  const TOURISTS_INTERVAL_MS = 10000;
  const BACKOFF_MIN_MS = 1000;
  const BACKOFF_MAX_MS = 15000;
  const MAX_ROWS = 300; // the list is for triage; older incidents are one filter away
  const MAX_KEPT = 1000; // incidents held in the page (list and map); the oldest go first
  const RENDER_BATCH_MS = 100; // a burst of live events is drawn once, not once per event
  const HELLO_WAIT_MS = 10000; // a stream held back (a buffering proxy) must not leave the lists empty
  const MAP_W = 800;
  const MAP_H = 500;
  const SVG_NS = "http://www.w3.org/2000/svg";

  const $ = (id) => document.getElementById(id);

  // Panels kept in their own files (units.js, casefile.js) register here; app.js calls their hooks:
  // start(ctx), stop(), detail(ctx, incident), mapLayer(ctx, project) -> SVG nodes, mapPoints(ctx) -> [lon, lat]
  // located when nothing is active, changed(ctx, incident),
  // dispatchBody(ctx) -> a request body or an error text.
  const extensions = [];
  window.SafeSphereDashboard = Object.freeze({ extend: (extension) => extensions.push(extension) });
  const hook = (name, ...args) => extensions.filter((e) => e[name]).map((e) => e[name](...args));

  class Unauthorized extends Error {}
  class ApiError extends Error {
    constructor(status, detail) {
      super(detail);
      this.status = status;
    }
  }

  // One object per login: async work started for an old session checks `alive(s)` and stops.
  let session = null;
  const alive = (s) => s !== null && s === session;

  function newSession(token, role, email) {
    return {
      token, role, email,
      incidents: new Map(), incidentsLoaded: false, incidentsSeq: 0, fresh: new Set(),
      alerts: new Map(), alertsSeq: 0, zones: [], tourists: [], people: new Map(), page: 0, queueShown: QUEUE_PAGE, city: null,
      watching: { incidents: new Set(), alerts: new Set() }, listsDue: false,
      selected: null, view: null, shownView: null, detailSeq: 0, dirty: new Set(), renderTimer: null, evidence: { incidentId: null, items: new Map() }, cursor: null, abort: new AbortController(),
      timers: [], statsTimer: null, statsLast: 0, retryMs: BACKOFF_MIN_MS,
    };
  }

  // ---------- helpers ----------
  function el(tag, attrs = {}, ...children) {
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

  function svg(tag, attrs = {}) {
    const node = document.createElementNS(SVG_NS, tag);
    for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, String(value));
    return node;
  }

  const when = (iso) => (iso ? new Date(iso).toLocaleString() : "–");
  // Durations the way an officer reads them: 9 ms, 1.4 s, 3 min.
  function ms(value) {
    if (value === null || value === undefined) return "–";
    if (value < 1000) return `${Math.round(value)} ms`;
    if (value < 60000) return `${(value / 1000).toFixed(1)} s`;
    return `${Math.round(value / 60000)} min`;
  }
  const statusWords = (status) => STATUS_WORDS[status] || status;
  function ago(iso) {
    if (!iso) return "–";
    const seconds = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000));
    if (seconds < 60) return `${seconds} s ago`;
    if (seconds < 3600) return `${Math.round(seconds / 60)} min ago`;
    return `${Math.round(seconds / 3600)} h ago`;
  }
  const sleep = (delay, signal) =>
    new Promise((resolve) => {
      const timer = setTimeout(resolve, delay);
      signal.addEventListener("abort", () => { clearTimeout(timer); resolve(); }, { once: true });
    });

  function say(id, text, kind = "error") {
    const node = $(id);
    node.textContent = text || "";
    node.className = `message ${text ? kind : ""}`;
  }

  async function detailOf(response) {
    try {
      const body = await response.json();
      if (typeof body.detail === "string") return body.detail;
      if (Array.isArray(body.detail)) return body.detail.map((e) => e.msg || String(e)).join("; ");
    } catch (_) { /* not JSON */ }
    return `HTTP ${response.status}`;
  }

  async function api(s, path, { method = "GET", body, raw = false } = {}) {
    const headers = { Authorization: `Bearer ${s.token}`, Accept: "application/json" };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    const response = await fetch(path, {
      method, headers, body: body === undefined ? undefined : JSON.stringify(body),
      signal: s.abort.signal, cache: "no-store",
    });
    if (response.status === 401) {
      expire(s, "Your session has ended. Please log in again.");
      throw new Unauthorized();
    }
    if (!response.ok) throw new ApiError(response.status, await detailOf(response));
    if (raw) return response;
    return response.status === 204 ? null : response.json();
  }

  // Errors of a cancelled session are expected (logout aborts its requests); others go to a message.
  function report(s, error, messageId) {
    if (!alive(s) || error instanceof Unauthorized || error.name === "AbortError") return;
    say(messageId, error.message);
  }

  // What an extension may use of a session: its API calls and the page's helpers.
  function contextOf(s) {
    return {
      api: (path, options) => api(s, path, options), alive: () => alive(s),
      report: (error, messageId) => report(s, error, messageId), say, el, svg, when, ago,
      redrawMap: () => { if (alive(s)) renderMap(s); }, select: (id) => select(s, id, { focus: true }),
      statusWords, incident: (id) => s.incidents.get(id), detailSeq: () => s.detailSeq,
    };
  }

  // ---------- login / logout ----------
  function showLogin(message) {
    $("dashboard-view").hidden = true;
    $("login-view").hidden = false;
    $("logout").hidden = true;
    $("who").textContent = "";
    setLive("offline");
    say("login-message", message || "");
  }

  function stop(s) {
    s.abort.abort();
    s.timers.forEach(clearInterval);
    if (s.statsTimer) clearTimeout(s.statsTimer);
    forgetEvidence(s);
    hook("stop");
  }

  function logout(message) {
    if (session) stop(session);
    session = null;
    Object.values(STORE).forEach((key) => sessionStorage.removeItem(key));
    clearDashboard();
    showLogin(message);
  }

  function expire(s, message) {
    if (alive(s)) logout(message);
  }

  async function onLogin(event) {
    event.preventDefault();
    say("login-message", "");
    const email = $("login-email").value.trim();
    const password = $("login-password").value;
    $("login-submit").disabled = true;
    try {
      const response = await fetch("/auth/login", {
        method: "POST", headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ email, password }), cache: "no-store",
      });
      if (!response.ok) {
        say("login-message", response.status === 401 ? "Wrong email or password." : await detailOf(response));
        return;
      }
      const token = await response.json();
      if (!DASHBOARD_ROLES.has(token.role)) {
        say("login-message", `This dashboard is for police and security accounts; "${token.role}" accounts cannot use it.`);
        return;
      }
      sessionStorage.setItem(STORE.token, token.access_token);
      sessionStorage.setItem(STORE.role, token.role);
      sessionStorage.setItem(STORE.email, email);
      $("login-password").value = "";
      start(token.access_token, token.role, email);
    } catch (error) {
      say("login-message", `Cannot reach the server: ${error.message}`);
    } finally {
      $("login-submit").disabled = false;
    }
  }

  function start(token, role, email) {
    const s = newSession(token, role, email);
    session = s;
    s.context = contextOf(s);
    $("login-view").hidden = true;
    $("dashboard-view").hidden = false;
    $("logout").hidden = false;
    $("who").textContent = `${email} (${role})`;
    refreshStats(s);
    loadZones(s);
    loadCity(s);
    loadTourists(s);
    s.timers.push(setInterval(() => loadTourists(s), TOURISTS_INTERVAL_MS));
    s.timers.push(setTimeout(() => listsWithoutStream(s), HELLO_WAIT_MS));
    hook("start", s.context);
    stream(s); // the incident and alert lists follow its hello (onEvent)
    // The panels in their own modules (history.js, analytics.js) read the API through this session's
    // api(): a 401 ends the session as anywhere else, and the signal aborts when it ends; select() opens
    // an incident in the detail panel.
    document.dispatchEvent(new CustomEvent("dashboard:session", {
      detail: {
        api: (path, options) => api(s, path, options), signal: s.abort.signal,
        select: (incidentId) => { if (alive(s)) select(s, incidentId, { focus: s.incidents.has(incidentId) }); },
      },
    }));
  }

  function clearDashboard() {
    delete $("incident-list").dataset.loaded;
    delete $("alert-list").dataset.loaded;
    $("queue-more").hidden = true;
    for (const id of ["incident-count", "incident-page", "queue-count"]) $(id).textContent = "";
    for (const id of ["incident-list", "alert-list", "map", "detail-timeline", "detail-actions",
      "detail-alerts", "detail-evidence", "detail-facts"]) $(id).replaceChildren();
    $("incident-detail").hidden = true;
    $("detail-empty").hidden = false;
    for (const id of ["stats-total", "stats-LOW", "stats-MEDIUM", "stats-HIGH", "stats-CRITICAL",
      "stats-weapons", "stats-notify", "stats-ack", "stats-deliveries"]) $(id).textContent = "–";
  }

  // ---------- lists and the stream: newer updated_at wins ----------
  // The lists are read once the stream's hello has arrived, so every change committed after the read is
  // on the stream. A list is a snapshot from some moment while its request was out, and the stream (or the
  // officer's own move) may deliver a newer or an older state of a row meanwhile: those are noted while
  // the request is out and merged with the list, row by row, by `newer`. So a list never undoes a state
  // the page already showed, and a stale event never undoes a listed one.

  // updated_at in microseconds since the epoch (a Date keeps milliseconds; two changes of a row can be
  // closer). The API writes "2026-02-10T14:30:45.123456Z", without the fraction when it is zero.
  function stampOf(iso) {
    const match = /^(.+T\d{2}:\d{2}:\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:\d{2})?$/.exec(iso || "");
    if (!match) return null;
    const seconds = Date.parse(match[1] + (match[3] || "Z"));
    if (Number.isNaN(seconds)) return null;
    return seconds * 1000 + Number((match[2] || "").padEnd(6, "0").slice(0, 6));
  }

  // Of two copies of a row the later updated_at is the newer state; an equal one is the same state.
  function newer(incoming, known) {
    if (known === undefined) return true;
    const a = stampOf(incoming.updated_at);
    const b = stampOf(known.updated_at);
    return a === null || b === null || a > b;
  }

  function watch(s, kind) {
    const seen = new Map();
    s.watching[kind].add(seen);
    return seen;
  }

  function noteSeen(s, kind, key, item) {
    for (const seen of s.watching[kind]) if (newer(item, seen.get(key))) seen.set(key, item);
  }

  function merged(items, key, seen) {
    const rows = new Map();
    for (const item of [...items, ...seen.values()]) {
      if (newer(item, rows.get(item[key]))) rows.set(item[key], item);
    }
    return rows;
  }

  function loadLists(s) {
    loadIncidents(s);
    loadAlerts(s);
  }

  // The lists are worth showing even while the stream cannot start; its next hello loads them again.
  function listsWithoutStream(s) {
    if (alive(s) && s.incidentsSeq === 0) loadLists(s);
  }

  // ---------- incidents ----------
  async function loadIncidents(s) {
    const query = new URLSearchParams({ limit: "100" });
    if ($("filter-level").value) query.set("threat_level", $("filter-level").value);
    if ($("filter-status").value) query.set("status", $("filter-status").value);
    const seq = ++s.incidentsSeq;
    const seen = watch(s, "incidents");
    try {
      const page = await api(s, `/incidents?${query}`);
      if (!alive(s) || seq !== s.incidentsSeq) return; // a later load (new filters) has the say
      s.incidents = merged(page.incidents, "incident_id", seen);
      s.incidentsLoaded = true;
      $("incident-list").dataset.loaded = "true";
      renderIncidents(s);
      renderMap(s);
    } catch (error) {
      report(s, error, "action-message");
    } finally {
      s.watching.incidents.delete(seen);
    }
  }

  function matchesFilters(incident) {
    const level = $("filter-level").value;
    const status = $("filter-status").value;
    return (!level || incident.threat_level === level) && (!status || incident.status === status);
  }

  // The work order: what still needs the police first, then the most severe, then the longest waiting.
  function sortedIncidents(s) {
    return [...s.incidents.values()].filter(matchesFilters).sort((a, b) =>
      Number(!OPEN.has(a.status)) - Number(!OPEN.has(b.status))
      || (SEVERITY_RANK[a.threat_level] ?? 9) - (SEVERITY_RANK[b.threat_level] ?? 9)
      || (OPEN.has(a.status) ? a.timestamp.localeCompare(b.timestamp) : b.timestamp.localeCompare(a.timestamp))
      || b.incident_id.localeCompare(a.incident_id));
  }

  function renderIncidents(s) {
    const all = sortedIncidents(s);
    const pages = Math.max(1, Math.ceil(Math.min(all.length, MAX_ROWS) / PAGE_ROWS));
    s.page = Math.min(s.page, pages - 1);
    const first = s.page * PAGE_ROWS;
    const open = all.filter((i) => OPEN.has(i.status)).length;
    $("incident-count").textContent = `${open} open · ${all.length} listed`;
    $("incident-page").textContent = all.length ? `${first + 1}–${Math.min(first + PAGE_ROWS, all.length)} of ${all.length}` : "none";
    $("incident-prev").disabled = s.page === 0;
    $("incident-next").disabled = s.page >= pages - 1;
    const rows = all.slice(first, first + PAGE_ROWS).map((incident) => {
      const classes = [`level-${incident.threat_level}`];
      if (s.fresh.has(incident.incident_id)) classes.push("new");
      if (incident.incident_id === s.selected) classes.push("selected");
      return el("tr", {
        className: classes.join(" "), "data-incident-id": incident.incident_id,
        "data-threat-level": incident.threat_level, "data-status": incident.status, tabindex: 0,
        onclick: () => select(s, incident.incident_id, { focus: true }),
        onkeydown: (event) => { if (event.key === "Enter") select(s, incident.incident_id, { focus: true }); },
      },
      el("td", { text: when(incident.timestamp) }),
      el("td", { text: incident.incident_id }),
      el("td", { className: "level", text: incident.threat_level }),
      el("td", { text: incident.threat_score.toFixed(2) }),
      el("td", { className: "status", text: statusWords(incident.status) }),
      el("td", { text: incident.source_id || "–" }));
    });
    $("incident-list").replaceChildren(...rows);
  }

  function upsertIncident(s, incident) {
    noteSeen(s, "incidents", incident.incident_id, incident);
    const known = s.incidents.get(incident.incident_id);
    if (!newer(incident, known)) return;
    s.incidents.set(incident.incident_id, incident);
    // Only what arrives after the first page is news: the stream also replays the last few seconds.
    if (known === undefined && s.incidentsLoaded && URGENT.has(incident.threat_level)) s.fresh.add(incident.incident_id);
    scheduleRender(s, "incidents", "map");
    refreshStatsSoon(s);
    if (incident.incident_id === s.selected) scheduleRender(s, "detail");
    hook("changed", s.context, incident);
  }

  // Live events only mark what they changed; one timer draws it all, so a page of hundreds of events
  // (a reconnect catching up, a busy minute) costs one render, and the page keeps at most MAX_KEPT.
  function scheduleRender(s, ...parts) {
    for (const part of parts) s.dirty.add(part);
    if (s.renderTimer !== null) return;
    s.renderTimer = setTimeout(() => {
      s.renderTimer = null;
      if (!alive(s)) return;
      const dirty = s.dirty;
      s.dirty = new Set();
      if (s.incidents.size > MAX_KEPT) forgetOldest(s);
      if (dirty.has("incidents")) renderIncidents(s);
      if (dirty.has("alerts")) renderAlerts(s);
      if (dirty.has("map")) renderMap(s);
      if (dirty.has("detail")) loadDetail(s);
    }, RENDER_BATCH_MS);
  }

  function forgetOldest(s) {
    const newestFirst = [...s.incidents.values()].sort((a, b) => b.timestamp.localeCompare(a.timestamp));
    for (const incident of newestFirst.slice(MAX_KEPT)) {
      if (incident.incident_id !== s.selected) {
        s.incidents.delete(incident.incident_id);
        s.fresh.delete(incident.incident_id);
      }
    }
  }

  // ---------- statistics ----------
  async function refreshStats(s) {
    s.statsLast = Date.now();
    try {
      const out = await api(s, "/statistics");
      if (!alive(s)) return;
      const counts = out.statistics;
      const analytics = out.response_analytics;
      $("stats-total").textContent = counts.total_incidents;
      for (const level of LEVELS) $(`stats-${level}`).textContent = counts[`count_${level}`];
      $("stats-weapons").textContent = counts.weapons_detected;
      $("stats-notify").textContent = `${ms(analytics.time_to_notify_p50_ms)} / ${ms(analytics.time_to_notify_p95_ms)}`;
      $("stats-ack").textContent = `${ms(analytics.time_to_acknowledge_p50_ms)} / ${ms(analytics.time_to_acknowledge_p95_ms)}`;
      $("stats-deliveries").textContent =
        Object.entries(analytics.deliveries).map(([status, n]) => `${status} ${n}`).join(", ") || "none";
    } catch (error) {
      report(s, error, "action-message");
    }
  }

  function refreshStatsSoon(s) {
    if (s.statsTimer) return;
    const wait = Math.max(0, s.statsLast + STATS_MIN_INTERVAL_MS - Date.now());
    s.statsTimer = setTimeout(() => { s.statsTimer = null; if (alive(s)) refreshStats(s); }, wait);
  }

  // ---------- alerts, zones, tourists ----------
  // The queue holds every SOS and anomaly not resolved yet (an acknowledged one still waits for its
  // Resolve); read by type, so a night of warnings to tourists can never crowd an SOS out of the page.
  async function loadAlerts(s) {
    const seq = ++s.alertsSeq;
    const seen = watch(s, "alerts");
    try {
      const pages = await Promise.all(UNRESOLVED.flatMap((status) => QUEUE_TYPES.map((type) =>
        api(s, `/alerts?status=${status}&type=${type}&limit=500`))));
      if (!alive(s) || seq !== s.alertsSeq) return;
      // A resolution seen meanwhile is newer than the listed open alert: merged first, then dropped.
      s.alerts = merged(pages.flat(), "alert_id", seen);
      for (const [id, alert] of s.alerts) if (!UNRESOLVED.includes(alert.status)) s.alerts.delete(id);
      $("alert-list").dataset.loaded = "true";
      renderAlerts(s);
      renderMap(s);
    } catch (error) {
      report(s, error, "alert-message");
    } finally {
      s.watching.alerts.delete(seen);
    }
  }

  function upsertAlert(s, alert) {
    if (!QUEUE_TYPES.includes(alert.type)) return;
    noteSeen(s, "alerts", alert.alert_id, alert);
    if (!newer(alert, s.alerts.get(alert.alert_id))) return;
    if (UNRESOLVED.includes(alert.status)) s.alerts.set(alert.alert_id, alert);
    else s.alerts.delete(alert.alert_id);
    scheduleRender(s, "alerts", "map");
  }

  async function alertAction(s, alertId, action) {
    say("alert-message", "");
    try {
      const body = action === "resolve" ? { notes: null } : undefined;
      const alert = await api(s, `/alerts/${alertId}/${action}`, { method: "POST", body });
      if (alive(s)) upsertAlert(s, alert);
    } catch (error) {
      report(s, error, "alert-message");
    }
  }

  // SOS first, then by severity, then the longest waiting; a page of cards, more on request.
  function renderAlerts(s) {
    const alerts = [...s.alerts.values()].sort((a, b) =>
      Number(a.type !== "sos") - Number(b.type !== "sos")
      || (ALERT_RANK[a.severity] ?? 9) - (ALERT_RANK[b.severity] ?? 9)
      || a.timestamp.localeCompare(b.timestamp));
    const sos = alerts.filter((a) => a.type === "sos").length;
    $("queue-count").textContent = `${sos} SOS · ${alerts.length - sos} anomaly`;
    const shown = alerts.slice(0, s.queueShown);
    $("alert-list").replaceChildren(...shown.map((alert) => alertCard(s, alert)));
    const more = $("queue-more");
    more.hidden = alerts.length <= shown.length;
    more.textContent = `Show ${Math.min(QUEUE_PAGE, alerts.length - shown.length)} more of ${alerts.length - shown.length}`;
  }

  function alertCard(s, alert) {
    const card = el("li", {
      className: `alert ${alert.type} severity-${alert.severity} ${alert.status}`, "data-alert-id": alert.alert_id,
      "data-type": alert.type, "data-status": alert.status,
    },
    el("strong", { text: `${alert.type === "sos" ? "SOS" : "Anomaly"} · ${alert.severity}` }), " ",
    alert.status === "acknowledged" ? el("em", { text: "acknowledged" }) : null, " ",
    el("span", { text: alert.title }), " ",
    el("small", { text: `${when(alert.timestamp)} (${ago(alert.timestamp)})` }),
    el("p", { text: alert.description }));
    if (alert.tourist_id !== null) card.append(personFacts(s, alert));
    card.append(
      el("button", { type: "button", "data-action": "locate", text: "Locate",
        onclick: () => locate(s, alert) }),
      el("button", { type: "button", "data-action": "acknowledge", text: "Acknowledge",
        disabled: alert.status !== "open", onclick: () => alertAction(s, alert.alert_id, "acknowledge") }),
      el("button", { type: "button", "data-action": "resolve", text: "Resolve",
        onclick: () => alertAction(s, alert.alert_id, "resolve") }));
    return card;
  }

  // The person in distress: name, phone and last fix (its age and accuracy), read once per tourist.
  function personFacts(s, alert) {
    const facts = el("dl", { className: "person", "data-tourist-id": alert.tourist_id });
    const fill = (person) => {
      const fix = person.last_fix;
      facts.replaceChildren(
        fact("Name", person.profile.name || person.profile.email),
        fact("Phone", person.profile.phone || "none given"),
        fact("Last fix", fix ? `${fix.lat.toFixed(5)}, ${fix.lon.toFixed(5)}` : "none"),
        fact("Fix age", fix ? ago(fix.timestamp) : "–"),
        fact("Accuracy", fix && fix.accuracy !== null ? `±${Math.round(fix.accuracy)} m` : "unknown"));
    };
    if (!s.people.has(alert.tourist_id)) {
      s.people.set(alert.tourist_id, api(s, `/authority/tourists/${alert.tourist_id}`));
    }
    s.people.get(alert.tourist_id).then((person) => { if (alive(s)) fill(person); })
      .catch((error) => { s.people.delete(alert.tourist_id); report(s, error, "alert-message"); });
    return facts;
  }

  // Centres the map at street scale on the person's last fix (else where the alert was raised).
  async function locate(s, alert) {
    let point = { lon: alert.location.lon, lat: alert.location.lat };
    if (alert.tourist_id !== null && s.people.has(alert.tourist_id)) {
      try {
        const fix = (await s.people.get(alert.tourist_id)).last_fix;
        if (fix) point = { lon: fix.lon, lat: fix.lat };
      } catch (_) { /* the card already says why */ }
    }
    if (!alive(s)) return;
    focusOn(s, { longitude: point.lon, latitude: point.lat });
    renderMap(s);
    $("map").dataset.located = String(alert.alert_id);
  }

  async function loadZones(s) {
    try {
      const zones = await api(s, "/zones");
      if (!alive(s)) return;
      s.zones = zones;
      renderMap(s);
    } catch (error) {
      report(s, error, "alert-message");
    }
  }

  async function loadCity(s) {
    try {
      const out = await api(s, "/dashboard/settings");
      if (!alive(s)) return;
      s.city = out.city;
      if (s.view === null) renderMap(s);
    } catch (error) {
      report(s, error, "alert-message");
    }
  }

  async function loadTourists(s) {
    try {
      const out = await api(s, "/authority/tourists?limit=500");
      if (!alive(s)) return;
      s.tourists = out.tourists;
      renderMap(s);
    } catch (error) {
      report(s, error, "alert-message");
    }
  }

  // ---------- map ----------
  function zoneRings(zone) {
    const geometry = zone.polygon;
    if (!geometry) return [];
    if (geometry.type === "Polygon") return [geometry.coordinates[0]];
    if (geometry.type === "MultiPolygon") return geometry.coordinates.map((polygon) => polygon[0]);
    return [];
  }

  // Equirectangular around the view's centre, longitudes shrunk by cos(latitude) so a city looks the right
  // shape. A view is geographic ({lon, lat, scale: px per degree of latitude}), so new data never moves it;
  // without one (s.view null) the map fits everything located.
  const KM_PER_DEG = 111.32;
  const FOCUS_KM = 3; // selecting an incident shows at least this much around it
  const MAX_SCALE = MAP_H / (0.2 / KM_PER_DEG); // 200 m across: closer than any fix is accurate

  function fitView(points) {
    if (points.length === 0) return null;
    const lats = points.map((p) => p[1]);
    const lat = (Math.min(...lats) + Math.max(...lats)) / 2;
    const k = Math.max(Math.cos((lat * Math.PI) / 180), 0.01);
    const lons = points.map((p) => p[0]);
    const lon = (Math.min(...lons) + Math.max(...lons)) / 2;
    const pad = 30;
    const spanX = Math.max((Math.max(...lons) - Math.min(...lons)) * k, 1e-4);
    const spanY = Math.max(Math.max(...lats) - Math.min(...lats), 1e-4);
    const scale = Math.min((MAP_W - 2 * pad) / spanX, (MAP_H - 2 * pad) / spanY, MAX_SCALE);
    return { lon, lat, scale };
  }

  function projection(view) {
    const k = Math.max(Math.cos((view.lat * Math.PI) / 180), 0.01);
    return {
      xy: (lon, lat) => [MAP_W / 2 + (lon - view.lon) * k * view.scale, MAP_H / 2 - (lat - view.lat) * view.scale],
      at: (x, y) => [view.lon + (x - MAP_W / 2) / (k * view.scale), view.lat - (y - MAP_H / 2) / view.scale],
      km: (km) => (km / KM_PER_DEG) * view.scale,
    };
  }

  function svgPoint(event) {
    const box = $("map").getBoundingClientRect();
    return [((event.clientX - box.left) * MAP_W) / box.width, ((event.clientY - box.top) * MAP_H) / box.height];
  }

  // Wheel zooms around the pointer, dragging the background pans, double-click or "Fit" shows everything.
  function wireMap() {
    const map = $("map");
    map.addEventListener("wheel", (event) => {
      if (!session || !session.shownView) return;
      event.preventDefault();
      const view = session.shownView;
      const [x, y] = svgPoint(event);
      const [lon, lat] = projection(view).at(x, y);
      const scale = Math.min(view.scale * (event.deltaY < 0 ? 1.25 : 0.8), MAX_SCALE);
      const zoomed = { lon, lat, scale };
      const [cx, cy] = projection(zoomed).at(MAP_W - x, MAP_H - y); // keep (lon, lat) under the pointer
      session.view = { lon: cx, lat: cy, scale };
      renderMap(session);
    }, { passive: false });
    let drag = null;
    map.addEventListener("pointerdown", (event) => {
      if (!session || !session.shownView || event.target !== map) return;
      drag = { from: svgPoint(event), view: session.shownView };
      map.setPointerCapture(event.pointerId);
    });
    map.addEventListener("pointermove", (event) => {
      if (!drag || !session) return;
      const [x, y] = svgPoint(event);
      const [lon, lat] = projection(drag.view).at(MAP_W / 2 - (x - drag.from[0]), MAP_H / 2 - (y - drag.from[1]));
      session.view = { lon, lat, scale: drag.view.scale };
      renderMap(session);
    });
    const stop = () => { drag = null; };
    map.addEventListener("pointerup", stop);
    map.addEventListener("pointercancel", stop);
    const fit = () => { if (session) { session.view = null; renderMap(session); } };
    map.addEventListener("dblclick", fit);
    $("map-fit").addEventListener("click", fit);
  }

  function focusOn(s, incident) {
    if (incident === undefined || incident.latitude === null || incident.longitude === null) return;
    const scale = Math.max(s.shownView ? s.shownView.scale : 0, MAP_H / (FOCUS_KM / KM_PER_DEG));
    s.view = { lon: incident.longitude, lat: incident.latitude, scale: Math.min(scale, MAX_SCALE) };
  }

  function marker(kind, x, y, r, title, extra = {}) {
    const node = svg("circle", { cx: x.toFixed(1), cy: y.toFixed(1), r, class: kind, ...extra });
    const tip = svg("title");
    tip.textContent = title;
    node.append(tip);
    return node;
  }

  function renderMap(s) {
    const map = $("map");
    const incidents = sortedIncidents(s).filter((i) => i.latitude !== null && i.longitude !== null);
    const alerts = [...s.alerts.values()];
    const view = s.view || firstView(s, incidents, alerts);
    s.shownView = view;
    if (view === null) {
      const empty = svg("text", { x: MAP_W / 2, y: MAP_H / 2, "text-anchor": "middle", class: "empty" });
      empty.textContent = "Nothing located yet.";
      map.replaceChildren(empty);
      return;
    }
    const project = projection(view);
    const nodes = [];
    for (const zone of s.zones) {
      const title = `${zone.name} (${zone.type})`;
      for (const ring of zoneRings(zone)) {
        const line = ring.map(([lon, lat]) => project.xy(lon, lat).map((v) => v.toFixed(1)).join(",")).join(" ");
        const shape = svg("polygon", { points: line, class: `zone zone-${zone.type}` });
        const tip = svg("title");
        tip.textContent = title;
        shape.append(tip);
        nodes.push(shape);
      }
      if (!zone.polygon) {
        const [x, y] = project.xy(zone.center.lon, zone.center.lat);
        nodes.push(marker(`zone zone-${zone.type}`, x, y, Math.max(project.km(zone.radius_km), 3).toFixed(1), title));
      }
    }
    for (const tourist of s.tourists) {
      const [x, y] = project.xy(tourist.location.lon, tourist.location.lat);
      nodes.push(marker(`tourist risk-${tourist.risk_level}`, x, y, 4,
        `${tourist.name || `Tourist ${tourist.tourist_id}`}: ${tourist.risk_level} risk, seen ${when(tourist.last_seen)}`,
        { "data-tourist-id": tourist.tourist_id }));
    }
    for (const alert of alerts) {
      const [x, y] = project.xy(alert.location.lon, alert.location.lat);
      const node = marker(`alert severity-${alert.severity} ${alert.status}`, x, y, 6,
        `${alert.type === "sos" ? "SOS" : "Anomaly"} (${alert.status}): ${alert.title}`,
        { "data-alert-id": alert.alert_id });
      if (alert.incident_id) node.addEventListener("click", () => select(s, alert.incident_id));
      nodes.push(node);
    }
    for (const layer of hook("mapLayer", s.context, project)) nodes.push(...layer);
    for (const incident of [...incidents].reverse()) { // newest drawn last, on top
      const [x, y] = project.xy(incident.longitude, incident.latitude);
      const classes = ["incident", `level-${incident.threat_level}`];
      if (s.fresh.has(incident.incident_id)) classes.push("new");
      if (incident.incident_id === s.selected) classes.push("selected");
      const node = marker(classes.join(" "), x, y, 8,
        `${incident.incident_id}: ${incident.threat_level}, ${statusWords(incident.status)}`,
        { "data-incident-id": incident.incident_id });
      node.addEventListener("click", () => select(s, incident.incident_id));
      nodes.push(node);
    }
    nodes.push(scaleBar(view));
    map.replaceChildren(...nodes);
  }

  // What is active now: open incidents, SOS and anomalies not resolved, tourists seen in the last
  // 15 minutes. Without any, the configured city; without one, everything located.
  function firstView(s, incidents, alerts) {
    const recent = Date.now() - ACTIVE_TOURIST_MS;
    const active = [
      ...incidents.filter((i) => OPEN.has(i.status)).map((i) => [i.longitude, i.latitude]),
      ...alerts.map((a) => [a.location.lon, a.location.lat]),
      ...s.tourists.filter((t) => Date.parse(t.last_seen) >= recent).map((t) => [t.location.lon, t.location.lat]),
    ];
    if (active.length) return fitView(active);
    if (s.city) {
      const { lat, lon, radius_km: radius } = s.city;
      const dLat = radius / KM_PER_DEG;
      const dLon = dLat / Math.max(Math.cos((lat * Math.PI) / 180), 0.01);
      return fitView([[lon - dLon, lat - dLat], [lon + dLon, lat + dLat]]);
    }
    return fitView([
      ...incidents.map((i) => [i.longitude, i.latitude]),
      ...s.tourists.map((t) => [t.location.lon, t.location.lat]),
      ...s.zones.filter((z) => !z.polygon).map((z) => [z.center.lon, z.center.lat]),
      ...s.zones.flatMap(zoneRings),
      ...hook("mapPoints", s.context).flat(),
    ]);
  }

  // A round distance (1, 2 or 5 × 10^n m) about a fifth of the map wide, drawn bottom left.
  function scaleBar(view) {
    const kmPerPx = KM_PER_DEG / view.scale;
    const target = kmPerPx * MAP_W * 0.2;
    const power = 10 ** Math.floor(Math.log10(target));
    const km = [5, 2, 1].map((m) => m * power).find((v) => v <= target) || power;
    const width = km / kmPerPx;
    const group = svg("g", { class: "scale-bar", "data-km": km, transform: `translate(12 ${MAP_H - 14})` });
    group.append(svg("path", { d: `M0 -6 V0 H${width.toFixed(1)} V-6` }));
    const label = svg("text", { x: (width / 2).toFixed(1), y: -8, "text-anchor": "middle" });
    label.textContent = km >= 1 ? `${km} km` : `${Math.round(km * 1000)} m`;
    group.append(label);
    return group;
  }

  // ---------- incident detail ----------
  function select(s, incidentId, { focus = false } = {}) {
    s.selected = incidentId;
    if (focus) focusOn(s, s.incidents.get(incidentId));
    s.fresh.delete(incidentId);
    say("action-message", "");
    renderIncidents(s);
    renderMap(s);
    loadDetail(s);
  }

  async function loadDetail(s) {
    const seq = ++s.detailSeq;
    const id = s.selected;
    const path = `/incidents/${encodeURIComponent(id)}`;
    try {
      const [incident, timeline] = await Promise.all([api(s, path), api(s, `${path}/timeline`)]);
      if (!alive(s) || seq !== s.detailSeq) return;
      renderDetail(s, incident, timeline);
    } catch (error) {
      report(s, error, "action-message");
    }
  }

  function fact(term, value) {
    return el("div", {}, el("dt", { text: term }), el("dd", { text: value }));
  }

  function renderDetail(s, incident, timeline) {
    $("detail-empty").hidden = true;
    const panel = $("incident-detail");
    panel.hidden = false;
    panel.dataset.incidentId = incident.incident_id;
    panel.dataset.status = incident.status;
    panel.className = `level-${incident.threat_level}`;
    $("detail-title").textContent = `${incident.incident_id} · ${incident.threat_level}`;
    const where = incident.location
      ? `${incident.location.latitude.toFixed(5)}, ${incident.location.longitude.toFixed(5)} (${incident.location.source})`
      : "unknown";
    $("detail-facts").replaceChildren(
      fact("Status", statusWords(incident.status)),
      fact("Seen", when(incident.timestamp)),
      fact("Score", incident.threat_score.toFixed(2)),
      fact("People", String(incident.people_count)),
      fact("Weapons", incident.weapon_detected ? incident.weapon_types.join(", ") || "yes" : "none"),
      fact("Behaviour", incident.behavior_summary || "–"),
      fact("Location", where),
      fact("Source", incident.source_id || "–"),
      fact("Protocol", incident.action_taken || "–"),
      fact("Repeats", String(incident.duplicate_count)));
    const buttons = panel.querySelectorAll("button[data-action]");
    for (const button of buttons) {
      const action = button.dataset.action;
      button.disabled = (action === "acknowledge" && !UNACKNOWLEDGED.has(incident.status))
        || (action === "dispatch" && !(UNACKNOWLEDGED.has(incident.status) || incident.status === "acknowledged"))
        || (action === "resolve" && !OPEN.has(incident.status));
    }
    const queued = new Map(timeline.entries.filter((e) => e.kind === "delivery_queued")
      .map((e) => [e.details.delivery_id, e.at]));
    $("detail-timeline").replaceChildren(...timeline.entries.map((entry) => el("li", { "data-kind": entry.kind },
      el("time", { text: when(entry.at) }), " ", el("span", { text: timelineWords(entry, queued) }))));
    $("detail-actions").replaceChildren(...incident.actions.map((action) => el("li", {
      text: `${when(action.executed_at)} ${action.action_type} – ${action.status}: ${action.description}`,
    })));
    $("detail-alerts").replaceChildren(...incident.alerts.map((alert) => el("li", {
      "data-alert-id": alert.id,
      text: `${alert.alert_type} to ${alert.recipient} – ${statusWords(alert.status)}${alert.sent_at ? ` at ${when(alert.sent_at)}` : ""}: ${alert.message}`,
    })));
    renderEvidence(s, incident.incident_id, incident.evidence);
    hook("detail", s.context, incident);
  }

  // A timeline entry as a sentence: "Police paged by webhook — delivered in 9 ms", "Acknowledged by …".
  function timelineWords(entry, queued) {
    const d = entry.details;
    const by = entry.actor_email ? ` by ${entry.actor_email}` : "";
    const who = `${AUDIENCE_WORDS[d.audience] || `Message to ${d.audience}`} by ${d.channel}`;
    switch (entry.kind) {
      case "reported": return `Reported as ${d.threat_level}${d.source_id ? ` by ${d.source_id}` : ""}; protocol: ${d.action_taken || "none"}`;
      case "escalated_by_report": return `Escalated from ${d.from_level} to ${d.threat_level} by a repeated report`;
      case "report_attached": return `Repeated report attached (${d.threat_level}, score ${Number(d.threat_score).toFixed(2)})`;
      case "escalated": return `Escalated, round ${d.round}: paged ${(d.audiences || []).join(", ")}`;
      case "share_link_created": return "Live-location link created for the contacts";
      case "commands_issued": return `Device told: ${(d.commands || []).join(", ").replaceAll("_", " ")}`;
      case "note": return `Note${by}: ${d.text}`;
      case "acknowledged": return `Acknowledged${by}`;
      case "dispatched": return `Unit ${d.unit} dispatched${by}`;
      case "resolved": return `Resolved${by}${d.notes ? `: ${d.notes}` : ""}`;
      case "false_alarm": return `Closed as a false alarm${by}${d.notes ? `: ${d.notes}` : ""}`;
      case "delivery_queued": return `${who} — queued`;
      case "delivery_sent": {
        const start = queued.get(d.delivery_id);
        const took = start ? ` in ${ms(Date.parse(entry.at) - Date.parse(start))}` : "";
        return `${who} — delivered${took}${d.attempts > 1 ? ` after ${d.attempts} attempts` : ""}`;
      }
      case "delivery_failed": return `${who} — failed after ${d.attempts} attempts: ${d.last_error || "no reason given"}`;
      default: return `${statusWords(entry.kind)}${by}`;
    }
  }

  // The detail is drawn again on every live change of its incident (a page delivered, an acknowledgement,
  // a repeat). Its evidence stays in place meanwhile: a clip being watched keeps playing and nothing is
  // downloaded twice; only new items are fetched, and items no longer listed are dropped with their blob URLs.
  function renderEvidence(s, incidentId, evidence) {
    if (s.evidence.incidentId !== incidentId) {
      forgetEvidence(s);
      s.evidence.incidentId = incidentId;
    }
    const shown = s.evidence.items;
    const listed = new Set(evidence.map((item) => item.evidence_id));
    for (const [id, entry] of shown) {
      if (listed.has(id)) continue;
      if (entry.url) URL.revokeObjectURL(entry.url);
      shown.delete(id);
    }
    const figures = evidence.map((item) => {
      if (!shown.has(item.evidence_id)) shown.set(item.evidence_id, evidenceFigure(s, item));
      return shown.get(item.evidence_id).figure;
    });
    const box = $("detail-evidence");
    const next = figures.length ? figures : [el("p", { text: "No evidence yet." })];
    const unchanged = figures.length && next.length === box.children.length
      && next.every((node, i) => box.children[i] === node);
    if (!unchanged) box.replaceChildren(...next);
  }

  // One evidence item's figure; its file is downloaded once, as a blob (the request carries the token).
  function evidenceFigure(s, item) {
    // A clip plays in place (muted, with controls); an image opens full size on click (casefile.js).
    const media = item.media_type.startsWith("video/")
      ? el("video", { controls: true, muted: true, playsinline: true, preload: "auto", width: item.width, height: item.height })
      : el("img", { alt: item.client_filename || item.filename, width: item.width, height: item.height });
    const entry = {
      figure: el("figure", { "data-evidence-id": item.evidence_id }, media,
        el("figcaption", { text: `${when(item.uploaded_at)} by ${item.uploaded_by} · sha256 ${item.sha256.slice(0, 12)}…` })),
      url: null,
    };
    api(s, `/evidence/${item.evidence_id}`, { raw: true })
      .then((response) => response.blob())
      .then((blob) => {
        if (!alive(s) || s.evidence.items.get(item.evidence_id) !== entry) return;
        entry.url = URL.createObjectURL(blob);
        media.src = entry.url;
      })
      .catch((error) => {
        // Not kept: the next drawing of the detail asks for it again.
        if (s.evidence.items.get(item.evidence_id) === entry) s.evidence.items.delete(item.evidence_id);
        report(s, error, "action-message");
      });
    return entry;
  }

  function forgetEvidence(s) {
    for (const entry of s.evidence.items.values()) if (entry.url) URL.revokeObjectURL(entry.url);
    s.evidence.items.clear();
    s.evidence.incidentId = null;
  }

  async function incidentAction(action) {
    const s = session;
    if (!alive(s) || s.selected === null) return;
    say("action-message", "");
    const id = encodeURIComponent(s.selected);
    let path = `/incidents/${id}/${action}`;
    let body;
    if (action === "dispatch") {
      [body] = hook("dispatchBody", s.context);
      if (typeof body !== "object") { say("action-message", body || "Pick the unit you are sending."); return; }
    } else if (action === "resolve") {
      body = { outcome: $("resolve-outcome").value };
    } else if (action === "note") {
      const text = $("note-text").value.trim();
      if (!text) { say("action-message", "Write the note first."); return; }
      path = `/incidents/${id}/notes`;
      body = { text };
    }
    try {
      const out = await api(s, path, { method: "POST", body });
      if (!alive(s)) return;
      if (action === "note") $("note-text").value = "";
      const known = s.incidents.get(out.incident_id);
      if (known && out.status) s.incidents.set(out.incident_id, { ...known, status: out.status });
      say("action-message", action === "note" ? "Note added." : `Incident ${out.status}.`, "ok");
      renderIncidents(s);
      renderMap(s);
      refreshStatsSoon(s);
      loadDetail(s);
      hook("changed", s.context, out);
    } catch (error) {
      report(s, error, "action-message");
    }
  }

  // ---------- live stream (Server-Sent Events over fetch, so the token goes in a header) ----------
  function setLive(state) {
    const node = $("live-status");
    node.textContent = state;
    node.dataset.state = state;
    node.className = `live-status ${state}`;
  }

  function onEvent(s, type, data) {
    let payload;
    try {
      payload = JSON.parse(data);
    } catch (_) {
      return; // a malformed event must not stop the stream
    }
    if (type === "hello") {
      // The hello comes with an id to resume from; its server_time is the fallback for an older server.
      if (s.cursor === null && typeof payload.server_time === "string") s.cursor = payload.server_time;
      setLive("live");
      // A fresh stream (no since) now holds every change from here on: only now are the lists read.
      if (s.listsDue) {
        s.listsDue = false;
        loadLists(s);
      }
    }
    else if (type === "incident") upsertIncident(s, payload);
    else if (type === "alert") upsertAlert(s, payload);
  }

  // Parses the text/event-stream format: fields per line, an event per blank line, ':' comments ignored.
  async function readEvents(s, body) {
    const reader = body.getReader();
    const decoder = new TextDecoder();
    let buffer = "";
    let type = "message";
    let data = [];
    const line = (text) => {
      if (text === "") {
        if (data.length) onEvent(s, type, data.join("\n"));
        type = "message";
        data = [];
        return;
      }
      if (text.startsWith(":")) return;
      const colon = text.indexOf(":");
      const field = colon < 0 ? text : text.slice(0, colon);
      let value = colon < 0 ? "" : text.slice(colon + 1);
      if (value.startsWith(" ")) value = value.slice(1);
      if (field === "event") type = value;
      else if (field === "data") data.push(value);
      else if (field === "id" && !value.includes("\0")) s.cursor = value;
      else if (field === "retry" && /^\d+$/.test(value)) {
        s.retryMs = Math.min(Math.max(Number(value), BACKOFF_MIN_MS), BACKOFF_MAX_MS);
      }
    };
    for (;;) {
      const { value, done } = await reader.read();
      if (done || !alive(s)) return;
      buffer += decoder.decode(value, { stream: true });
      for (;;) {
        const end = buffer.search(/[\r\n]/);
        if (end < 0) break;
        if (buffer[end] === "\r" && end + 1 === buffer.length) break; // wait: "\r\n" may be split
        const step = buffer[end] === "\r" && buffer[end + 1] === "\n" ? 2 : 1;
        line(buffer.slice(0, end));
        buffer = buffer.slice(end + step);
      }
    }
  }

  async function stream(s) {
    let delay = s.retryMs;
    while (alive(s)) {
      try {
        s.listsDue = s.cursor === null;
        const query = s.cursor === null ? "" : `?since=${encodeURIComponent(s.cursor)}`;
        const response = await fetch(`/live/events${query}`, {
          headers: { Authorization: `Bearer ${s.token}`, Accept: "text/event-stream" },
          signal: s.abort.signal, cache: "no-store",
        });
        if (response.status === 401 || response.status === 403) {
          expire(s, `Live updates refused: ${await detailOf(response)}. Please log in again.`);
          return;
        }
        if (response.status === 422 && s.cursor !== null) {
          // Too far behind to replay (the server keeps 24 h): a fresh stream, then the lists again.
          s.cursor = null;
          continue;
        }
        if (!response.ok) throw new Error(`HTTP ${response.status}`);
        setLive("live");
        await readEvents(s, response.body);
        delay = s.retryMs; // a stream that ran its course is no failure: reconnect at the base delay
        if (!alive(s)) return;
        setLive("reconnecting");
        await sleep(delay, s.abort.signal);
        continue;
      } catch (error) {
        if (!alive(s) || error.name === "AbortError") return;
      }
      if (!alive(s)) return;
      listsWithoutStream(s);
      setLive("reconnecting");
      await sleep(delay, s.abort.signal);
      delay = Math.min(delay * 2, BACKOFF_MAX_MS);
    }
  }

  // ---------- wiring ----------
  document.addEventListener("DOMContentLoaded", () => {
    $("login-form").addEventListener("submit", onLogin);
    wireMap();
    $("logout").addEventListener("click", () => logout("You are logged out."));
    for (const id of ["filter-level", "filter-status"]) {
      $(id).addEventListener("change", () => { if (session) { session.page = 0; loadIncidents(session); } });
    }
    const turn = (step) => { if (session) { session.page = Math.max(0, session.page + step); renderIncidents(session); } };
    $("incident-prev").addEventListener("click", () => turn(-1));
    $("incident-next").addEventListener("click", () => turn(1));
    $("queue-more").addEventListener("click", () => {
      if (session) { session.queueShown += QUEUE_PAGE; renderAlerts(session); }
    });
    for (const button of document.querySelectorAll("#incident-detail button[data-action]")) {
      button.addEventListener("click", () => incidentAction(button.dataset.action));
    }
    const token = sessionStorage.getItem(STORE.token);
    const role = sessionStorage.getItem(STORE.role);
    if (token && DASHBOARD_ROLES.has(role)) start(token, role, sessionStorage.getItem(STORE.email) || "");
    else showLogin();
  });
})();
