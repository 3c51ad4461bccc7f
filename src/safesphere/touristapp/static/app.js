// SafeSphere tourist app. Vanilla JS, no build step, no third-party requests: data comes from the API with
// the tourist's own token; the map and the chart are drawn locally as SVG. DOM via createElement only.
"use strict";

(() => {
  const STORE = { token: "safesphere.app.token" };
  const FIX_INTERVAL_MS = 60000; // while sharing: a fix a minute keeps the score and the police map current
  const FIX_MIN_GAP_MS = 15000; // a fast-moving phone still sends at most one fix per 15 s
  const FIX_MOVED_M = 100; // ... and sooner than the minute when it moved this far
  const REFRESH_MS = 30000; // nearby alerts change without the tourist moving
  const RADIUS_KM = 2; // the map's and nearby-risks' reach, the document's default
  const MAP_SIZE = 320;
  const PX_PER_KM = MAP_SIZE / 2 / RADIUS_KM * 0.9;
  const TREND_HOURS = 24;
  const SVG_NS = "http://www.w3.org/2000/svg";
  const FACTOR_NAMES = {
    nearby_alerts: "Nearby alerts",
    zone_risk: "Zones",
    time_of_day: "Time of day",
    crowd_density: "People around",
    speed_anomaly: "Movement",
    historical_risk: "Past incidents",
  };
  const RISK_WORDS = { low: "Low risk", medium: "Medium risk", high: "High risk", critical: "Critical risk" };

  const $ = (id) => document.getElementById(id);
  let session = null; // {token, position, sentAt, sentPosition, timers, watch}

  class Unauthorized extends Error {}
  class ApiError extends Error {
    constructor(status, detail) { super(detail); this.status = status; }
  }

  function el(tag, attrs = {}, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs)) {
      if (value === null || value === undefined || value === false) continue;
      if (key === "text") node.textContent = String(value);
      else if (key === "className") node.className = value;
      else node.setAttribute(key, String(value));
    }
    for (const child of children) if (child !== null && child !== undefined) node.append(child);
    return node;
  }

  function svg(tag, attrs = {}, title = null) {
    const node = document.createElementNS(SVG_NS, tag);
    for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, String(value));
    if (title) { const t = document.createElementNS(SVG_NS, "title"); t.textContent = title; node.append(t); }
    return node;
  }

  function say(id, text, kind = "error") {
    const node = $(id);
    node.textContent = text || "";
    node.dataset.kind = kind;
  }

  function detailOf(body, status) {
    if (body && typeof body.detail === "string") return body.detail;
    if (body && Array.isArray(body.detail)) return body.detail.map((d) => d.msg).join("; ");
    return `HTTP ${status}`;
  }

  async function api(path, options = {}) {
    const headers = { Accept: "application/json" };
    if (session) headers.Authorization = `Bearer ${session.token}`;
    if (options.body !== undefined) headers["Content-Type"] = "application/json";
    const response = await fetch(path, {
      method: options.method || "GET",
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      cache: "no-store",
    });
    if (response.status === 401 && session) throw new Unauthorized();
    if (response.status === 204) return null;
    const body = await response.json().catch(() => null);
    if (!response.ok) throw new ApiError(response.status, detailOf(body, response.status));
    return body;
  }

  // ---------- login ----------
  async function logIn(email, password) {
    const token = await api("/auth/login", { method: "POST", body: { email, password } });
    if (token.role !== "tourist") throw new ApiError(403, "This app is for tourists; officers use /dashboard.");
    sessionStorage.setItem(STORE.token, token.access_token);
    start(token.access_token);
  }

  async function onLogin(event, register) {
    event.preventDefault();
    const email = $("login-email").value.trim();
    const password = $("login-password").value;
    say("login-message", "");
    try {
      if (register) {
        await api("/auth/register", { method: "POST", body: { email, password } });
      }
      await logIn(email, password);
    } catch (error) {
      say("login-message", error.message || "Could not reach SafeSphere.");
    }
  }

  function start(token) {
    session = { token, hasFix: false, position: null, sentAt: 0, sentPosition: null, timers: [], watch: null };
    $("login-view").hidden = true;
    $("app-view").hidden = false;
    $("logout").hidden = false;
    const s = session;
    loadProfile(s);
    loadContacts(s);
    refresh(s);
    watchPosition(s);
    s.timers.push(setInterval(() => maybeSendFix(s, true), FIX_INTERVAL_MS));
    s.timers.push(setInterval(() => refresh(s), REFRESH_MS));
  }

  function stop() {
    if (session) {
      session.timers.forEach(clearInterval);
      if (session.watch !== null) navigator.geolocation.clearWatch(session.watch);
    }
    session = null;
    sessionStorage.removeItem(STORE.token);
    $("app-view").hidden = true;
    $("logout").hidden = true;
    $("login-view").hidden = false;
    for (const id of ["factors", "recommendations", "nearby-list", "contact-list"]) $(id).replaceChildren();
    $("map").replaceChildren();
    $("trend").replaceChildren();
  }

  async function guarded(s, work) {
    try {
      await work();
      setNetwork(true);
    } catch (error) {
      if (s !== session) return;
      if (error instanceof Unauthorized) { stop(); say("login-message", "Your session ended; log in again."); return; }
      if (error instanceof ApiError) throw error;
      setNetwork(false);
    }
  }

  function setNetwork(online) {
    const node = $("net-status");
    node.dataset.state = online ? "online" : "offline";
    node.textContent = online ? "online" : "offline – showing what was last loaded";
    node.className = `net ${online ? "online" : "offline"}`;
  }

  // ---------- position ----------
  function watchPosition(s) {
    if (!("geolocation" in navigator)) { say("position-status", "This browser cannot tell your position.", "info"); return; }
    s.watch = navigator.geolocation.watchPosition(
      (position) => {
        if (s !== session) return;
        s.position = position;
        maybeSendFix(s, false);
      },
      (error) => { if (s === session) say("position-status", `Position unavailable: ${error.message}`, "info"); },
      { enableHighAccuracy: true, maximumAge: 10000, timeout: 30000 },
    );
  }

  function metresBetween(a, b) {
    const rad = Math.PI / 180;
    const dLat = (b.latitude - a.latitude) * rad;
    const dLon = (b.longitude - a.longitude) * rad;
    const h = Math.sin(dLat / 2) ** 2 + Math.cos(a.latitude * rad) * Math.cos(b.latitude * rad) * Math.sin(dLon / 2) ** 2;
    return 2 * 6371000 * Math.asin(Math.sqrt(h));
  }

  function maybeSendFix(s, periodic) {
    if (s !== session || !s.position || !$("share-toggle").checked) return;
    const now = Date.now();
    const gap = now - s.sentAt;
    const moved = s.sentPosition ? metresBetween(s.sentPosition, s.position.coords) : Infinity;
    const due = s.sentAt === 0 || (gap >= FIX_MIN_GAP_MS && (periodic || moved >= FIX_MOVED_M));
    if (due) sendFix(s);
  }

  async function sendFix(s) {
    const { coords, timestamp } = s.position;
    s.sentAt = Date.now();
    s.sentPosition = { latitude: coords.latitude, longitude: coords.longitude };
    const fix = { lat: coords.latitude, lon: coords.longitude, timestamp: new Date(timestamp).toISOString() };
    if (coords.accuracy !== null) fix.accuracy = Math.min(coords.accuracy, 100000);
    if (coords.speed !== null && coords.speed >= 0) fix.speed = coords.speed;
    if (coords.altitude !== null) fix.altitude = coords.altitude;
    await guarded(s, async () => {
      await api("/location/update", { method: "POST", body: fix });
      if (s !== session) return;
      s.hasFix = true;
      say("share-status", `Position shared at ${new Date().toLocaleTimeString()}.`, "info");
      await refresh(s);
    }).catch((error) => say("share-status", `Position not accepted: ${error.message}`));
  }

  // ---------- panels ----------
  async function refresh(s) {
    if (!s.hasFix) {
      // Before the first fix there is nothing to analyse: ask once instead of collecting 404s.
      await guarded(s, async () => {
        s.hasFix = (await api("/location/history?limit=1")).length > 0;
      }).catch(() => {});
      if (!s.hasFix) { say("position-status", "Waiting for your first position…", "info"); return; }
    }
    await Promise.all([loadAnalysis(s), loadNearby(s), loadTrend(s)]);
  }

  async function loadAnalysis(s) {
    await guarded(s, async () => {
      let analysis;
      try {
        analysis = await api("/location/safety-analysis");
      } catch (error) {
        if (error instanceof ApiError && error.status === 404) { say("position-status", "Waiting for your first position…", "info"); return; }
        throw error;
      }
      if (s === session) drawAnalysis(analysis);
    }).catch(() => {});
  }

  function drawAnalysis(analysis) {
    const level = analysis.risk_level;
    const badge = $("score-badge");
    badge.dataset.risk = level;
    $("score-value").textContent = Math.round(analysis.safety_score);
    $("score-risk").textContent = RISK_WORDS[level] || level;
    say("position-status", `Scored at ${new Date(analysis.location.timestamp).toLocaleTimeString()}`, "info");
    $("factors").replaceChildren(...analysis.factors.map((factor) =>
      el("li", { "data-factor": factor.name, "data-score": Math.round(factor.score) },
        el("span", { className: "factor-name", text: FACTOR_NAMES[factor.name] || factor.name }),
        el("meter", { min: 0, max: 100, low: 40, high: 80, optimum: 100, value: factor.score }),
        el("span", { className: "factor-details", text: factor.details }))));
    $("recommendations").replaceChildren(...analysis.recommendations.map((text) => el("li", { text })));
  }

  async function loadNearby(s) {
    await guarded(s, async () => {
      let nearby;
      try {
        nearby = await api(`/location/nearby-risks?radius_km=${RADIUS_KM}`);
      } catch (error) {
        if (error instanceof ApiError && error.status === 404) return;
        throw error;
      }
      if (s === session) drawNearby(nearby);
    }).catch(() => {});
  }

  function drawNearby(nearby) {
    const here = nearby.current_location;
    const kmPerLon = 111.32 * Math.cos(here.lat * Math.PI / 180);
    const project = (p) => [
      MAP_SIZE / 2 + (p.lon - here.lon) * kmPerLon * PX_PER_KM,
      MAP_SIZE / 2 - (p.lat - here.lat) * 110.574 * PX_PER_KM,
    ];
    const map = $("map");
    const nodes = [svg("rect", { x: 0, y: 0, width: MAP_SIZE, height: MAP_SIZE, class: "ground" })];
    nodes.push(svg("circle", { cx: MAP_SIZE / 2, cy: MAP_SIZE / 2, r: RADIUS_KM * PX_PER_KM, class: "reach" }));
    for (const zone of nearby.nearby_risky_zones) {
      const [x, y] = project(zone.center);
      nodes.push(svg("circle", {
        cx: x.toFixed(1), cy: y.toFixed(1), r: Math.max(zone.radius_km * PX_PER_KM, 3).toFixed(1),
        class: `zone zone-${zone.type}${zone.is_inside ? " inside" : ""}`, "data-zone-id": zone.zone_id,
      }, `${zone.name} (${zone.type}), ${zone.distance_km} km`));
    }
    for (const alert of nearby.nearby_alerts) {
      const [x, y] = project(alert.location);
      nodes.push(svg("circle", {
        cx: x.toFixed(1), cy: y.toFixed(1), r: 6, class: `alert severity-${alert.severity}`, "data-alert-id": alert.alert_id,
      }, `${alert.title}, ${alert.distance_km} km`));
    }
    nodes.push(svg("circle", { cx: MAP_SIZE / 2, cy: MAP_SIZE / 2, r: 7, class: "me" }, "You"));
    const bar = PX_PER_KM; // one kilometre
    nodes.push(svg("line", { x1: 12, y1: MAP_SIZE - 14, x2: 12 + bar, y2: MAP_SIZE - 14, class: "scale" }));
    const label = svg("text", { x: 12, y: MAP_SIZE - 20, class: "scale-label" });
    label.textContent = "1 km";
    nodes.push(label);
    map.replaceChildren(...nodes);
    map.dataset.loaded = "true";

    const inside = nearby.nearby_risky_zones.filter((zone) => zone.is_inside);
    const warning = $("zone-warning");
    warning.hidden = inside.length === 0;
    warning.textContent = inside.length
      ? `You are inside ${inside.map((z) => `${z.name} (${z.type})`).join(", ")}. Leave the area or stay alert.`
      : "";
    const items = [
      ...nearby.nearby_risky_zones.map((z) => el("li", { className: `zone-${z.type}`, text: `${z.name}: ${z.type} zone, ${z.is_inside ? "you are inside" : `${z.distance_km} km away`}` })),
      ...nearby.nearby_alerts.map((a) => el("li", { className: `severity-${a.severity}`, text: `${a.title}: ${a.severity}, ${a.distance_km} km away` })),
    ];
    $("nearby-list").replaceChildren(...(items.length ? items : [el("li", { text: "No alerts or risky zones within 2 km." })]));
  }

  async function loadTrend(s) {
    await guarded(s, async () => {
      const trend = await api(`/location/safety-trend?hours_back=${TREND_HOURS}`);
      if (s === session) drawTrend(trend);
    }).catch(() => {});
  }

  function drawTrend(trend) {
    const W = 320, H = 140, left = 28, bottom = 18, top = 6;
    const end = Date.now(), begin = end - TREND_HOURS * 3600000;
    const x = (t) => left + (W - left - 4) * Math.min(Math.max((t - begin) / (end - begin), 0), 1);
    const y = (score) => top + (H - top - bottom) * (1 - score / 100);
    const nodes = [];
    for (const [from, to, level] of [[80, 100, "low"], [60, 80, "medium"], [40, 60, "high"], [0, 40, "critical"]]) {
      nodes.push(svg("rect", { x: left, y: y(to), width: W - left - 4, height: y(from) - y(to), class: `band band-${level}` }));
    }
    for (const score of [0, 50, 100]) {
      const label = svg("text", { x: 2, y: y(score) + 4, class: "axis" });
      label.textContent = String(score);
      nodes.push(label);
    }
    for (const [hoursAgo, text] of [[24, "-24 h"], [12, "-12 h"], [0, "now"]]) {
      const label = svg("text", { x: x(end - hoursAgo * 3600000) - (hoursAgo === 0 ? 18 : 0), y: H - 4, class: "axis" });
      label.textContent = text;
      nodes.push(label);
    }
    const points = trend.trend.map((p) => [x(Date.parse(p.timestamp)), y(p.safety_score), p]);
    if (points.length > 1) {
      nodes.push(svg("polyline", { points: points.map(([px, py]) => `${px.toFixed(1)},${py.toFixed(1)}`).join(" "), class: "line" }));
    }
    for (const [px, py, p] of points) {
      nodes.push(svg("circle", { cx: px.toFixed(1), cy: py.toFixed(1), r: 2.5, class: `point risk-${p.risk_level}` },
        `${new Date(p.timestamp).toLocaleTimeString()}: ${Math.round(p.safety_score)}`));
    }
    const chart = $("trend");
    chart.replaceChildren(...nodes);
    chart.dataset.points = String(points.length);
    const stats = trend.statistics;
    const rows = stats
      ? [["Now", stats.current_score], ["Average", stats.average_score], ["Lowest", stats.min_score],
         ["Highest", stats.max_score], ["Swing", stats.score_volatility]]
      : [["Points", "none yet"]];
    $("trend-stats").replaceChildren(...rows.map(([name, value]) =>
      el("div", {}, el("dt", { text: name }), el("dd", { text: typeof value === "number" ? value.toFixed(1) : value }))));
  }

  // ---------- profile, contacts, SOS ----------
  async function loadProfile(s) {
    await guarded(s, async () => {
      const profile = await api("/me/profile");
      if (s === session) $("language").value = (profile.preferred_language || "en").slice(0, 2);
    }).catch(() => {});
  }

  async function onLanguage() {
    const s = session;
    await guarded(s, async () => {
      await api("/me/profile", { method: "PUT", body: { preferred_language: $("language").value } });
      await loadAnalysis(s);
    }).catch((error) => say("position-status", error.message));
  }

  async function loadContacts(s) {
    await guarded(s, async () => {
      const contacts = await api("/me/contacts");
      if (s !== session) return;
      $("contact-list").replaceChildren(...contacts.map((c) => el("li", { "data-contact-id": c.id },
        el("span", { text: [c.name, c.phone, c.email].filter(Boolean).join(" · ") }),
        removeButton(s, c.id))));
    }).catch(() => {});
  }

  function removeButton(s, id) {
    const button = el("button", { type: "button", className: "secondary", text: "Remove" });
    button.addEventListener("click", () => guarded(s, async () => {
      await api(`/me/contacts/${id}`, { method: "DELETE" });
      await loadContacts(s);
    }).catch((error) => say("contact-message", error.message)));
    return button;
  }

  async function onAddContact(event) {
    event.preventDefault();
    const s = session;
    const body = { name: $("contact-name").value.trim() };
    if ($("contact-phone").value.trim()) body.phone = $("contact-phone").value.trim();
    if ($("contact-email").value.trim()) body.email = $("contact-email").value.trim();
    say("contact-message", "");
    await guarded(s, async () => {
      await api("/me/contacts", { method: "POST", body });
      $("contact-form").reset();
      await loadContacts(s);
    }).catch((error) => say("contact-message", error.message));
  }

  function currentPosition(s) {
    return new Promise((resolve) => {
      if (!("geolocation" in navigator)) { resolve(s.position); return; }
      navigator.geolocation.getCurrentPosition((p) => resolve(p), () => resolve(s.position),
        { enableHighAccuracy: true, maximumAge: 5000, timeout: 8000 });
    });
  }

  async function onSos() {
    const s = session;
    if (!window.confirm("Send an SOS to the police and your emergency contacts now?")) return;
    $("sos").disabled = true;
    say("sos-status", "Sending SOS…", "info");
    try {
      const position = await currentPosition(s);
      const body = position ? { lat: position.coords.latitude, lon: position.coords.longitude } : {};
      await guarded(s, async () => {
        const alert = await api("/sos", { method: "POST", body });
        $("sos-status").dataset.alertId = alert.alert_id;
        say("sos-status", `SOS sent at ${new Date(alert.timestamp).toLocaleTimeString()}: police and your contacts are being told.`, "ok");
      });
      if ($("sos-status").dataset.kind !== "ok") say("sos-status", "No network: the SOS was NOT sent. Call the local emergency number.");
    } catch (error) {
      say("sos-status", `SOS not sent: ${error.message}. Call the local emergency number.`);
    } finally {
      $("sos").disabled = false;
    }
  }

  // ---------- Web Push: warnings, anomaly alerts and SOS confirmations on this device ----------
  const fromB64url = (text) => Uint8Array.from(atob(text.replace(/-/g, "+").replace(/_/g, "/")), (c) => c.charCodeAt(0));

  async function onPushToggle() {
    const s = session;
    try {
      if (!("serviceWorker" in navigator) || !("PushManager" in window)) throw new Error("this browser has no Web Push");
      const registration = await navigator.serviceWorker.ready;
      const existing = await registration.pushManager.getSubscription();
      if (existing) {
        await api("/me/push-subscriptions/remove", { method: "POST", body: { endpoint: existing.endpoint } }).catch(() => {});
        await existing.unsubscribe();
        say("push-status", "Notifications are off on this device.", "info");
        $("push-toggle").textContent = "Notify me on this device";
        return;
      }
      if ((await Notification.requestPermission()) !== "granted") throw new Error("notifications are not allowed");
      const { public_key: key } = await api("/push/key");
      const subscription = await registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: fromB64url(key) });
      if (s !== session) return;
      await api("/me/push-subscriptions", { method: "POST", body: subscription.toJSON() });
      say("push-status", "Warnings and alerts will reach this device.", "ok");
      $("push-toggle").textContent = "Stop notifications on this device";
    } catch (error) {
      say("push-status", `Notifications not set up: ${error.message}`);
    }
  }

  // ---------- wiring ----------
  document.addEventListener("DOMContentLoaded", () => {
    $("login-form").addEventListener("submit", (event) => onLogin(event, false));
    $("register-submit").addEventListener("click", (event) => {
      if ($("login-form").reportValidity()) onLogin(event, true);
    });
    $("logout").addEventListener("click", stop);
    $("sos").addEventListener("click", onSos);
    $("language").addEventListener("change", onLanguage);
    $("contact-form").addEventListener("submit", onAddContact);
    $("push-toggle").addEventListener("click", onPushToggle);
    $("share-toggle").addEventListener("change", () => {
      if (!session) return;
      if ($("share-toggle").checked) { session.sentAt = 0; maybeSendFix(session, true); }
      say("share-status", $("share-toggle").checked ? "Sharing your position every minute." : "Not sharing: only an SOS sends your position.", "info");
    });
    window.addEventListener("online", () => setNetwork(true));
    window.addEventListener("offline", () => setNetwork(false));
    if ("serviceWorker" in navigator) navigator.serviceWorker.register("/app/sw.js", { scope: "/app/" }).catch(() => {});
    const token = sessionStorage.getItem(STORE.token);
    if (token) start(token);
  });
})();
