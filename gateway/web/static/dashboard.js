// Live dashboard: one card per device, updated over the /ws WebSocket.
// Plain browser JavaScript, no libraries, so it works with no internet.
// Load order: /ws first (statuses render at once), then one /api/devices
// (names, ports, field presentation) and one /api/history for every chart.
"use strict";

const KEEP = 2000;                          // points kept per chart
const HISTORY = 1000;                       // readings asked of /api/history per device
const WINDOWS = { "5 min": 300, "1 h": 3600, "24 h": 86400 };
const COUNTER_NAMES = /(^|_)(uptime|total|count|counter|kwh|wh|energy|odometer|seq)($|_)/i;
const devices = new Map();                  // name -> device state (see card())
const $ = (root, sel) => root.querySelector(sel);
let windowSeconds = 300;
let historyLoaded = false;
let style = {};

function card(name) {
  let d = devices.get(name);
  if (d) return d;
  const node = document.getElementById("card").content.firstElementChild.cloneNode(true);
  node.dataset.device = name;
  const link = $(node, ".name a");
  link.textContent = name;
  link.href = "device/" + encodeURIComponent(name);
  document.getElementById("devices").appendChild(node);
  document.getElementById("empty").hidden = true;
  d = { name, card: node, fields: new Map(), charts: new Map(), series: new Map(), shown: {},
        last: null, gaps: [], online: false, live: historyLoaded ? null : [] };
  devices.set(name, d);
  setStatus(name, "starting", "");
  return d;
}

function setStatus(name, status, detail) {
  const d = card(name);
  const online = status === "online";
  d.online = online;
  const pill = $(d.card, ".state");
  pill.textContent = status === "starting" ? "starting" : (online ? "online" : "offline");
  pill.className = "pill state " + (online ? "online" : "offline");
  d.card.dataset.online = online ? "1" : "0";
  const reason = $(d.card, ".reason");
  reason.textContent = online ? "" : (detail || "");
  reason.hidden = online || !detail;
  age(d);
}

function setCounters(name, c) {
  const node = card(name).card;
  if (c.readings !== undefined) $(node, ".readings").textContent = c.readings;
  if (c.parse_errors !== undefined) $(node, ".errors").textContent = c.parse_errors;
  if (c.tcp_clients !== undefined) $(node, ".clients").textContent = c.tcp_clients;
}

// A device's RFC 2217 listener: its clients and the line settings the port
// has now (from /api/devices, then "rfc2217" messages as they change).
function setRfc2217(name, r) {
  const node = $(card(name).card, ".rfc2217");
  const s = r.settings || {};
  const clients = (r.clients || []).length;
  node.textContent = "RFC 2217 " + r.listen + " · " + clients + (clients === 1 ? " client" : " clients") +
    " · " + s.baudrate + " " + s.bytesize + s.parity + s.stopbits + " · " + r.policy;
  node.title = (r.clients || []).join(", ");
  node.dataset.clients = String(clients);
  node.dataset.baudrate = String(s.baudrate);
  node.hidden = false;
}

// Polled Modbus units that stopped answering (from /api/devices, re-read
// while the page is open): "unit 2 stale: holding 0..3: timeout".
function setModbusUnits(name, units) {
  const d = card(name);
  const node = $(d.card, ".modbus-units");
  const stale = Object.entries(units).filter(([, u]) => u.stale);
  node.textContent = stale.map(([unit, u]) => "unit " + unit + " stale: " + (u.last_error || "no answer")).join("; ");
  node.hidden = stale.length === 0;
  d.card.dataset.unitsStale = stale.length ? "1" : "0";
}

async function refreshModbusUnits() {
  const body = await getJson("api/devices");
  for (const dev of body.devices || []) if (dev.modbus_units) setModbusUnits(dev.name, dev.modbus_units);
}

// Is this field worth a chart? What the config says, else numeric fields
// that vary and are not ever-rising counters.
function wantsChart(d, key) {
  const shown = d.shown[key] || {};
  if (shown.chart === true || shown.chart === false) return shown.chart;
  if (COUNTER_NAMES.test(key)) return false;
  const s = d.series.get(key) || [];
  if (s.length >= 10) {
    let rising = true, same = true;
    for (let i = 1; i < s.length; i++) {
      if (s[i][1] < s[i - 1][1]) rising = false;
      if (s[i][1] !== s[0][1]) same = false;
    }
    if (same || (rising && s[s.length - 1][1] > s[0][1])) return false;
  }
  return true;
}

function fieldCell(d, key) {
  let dd = d.fields.get(key);
  if (dd) return dd;
  const shown = d.shown[key] || {};
  const dl = $(d.card, ".fields");
  const dt = document.createElement("dt");
  dt.textContent = shown.label || key;
  if (shown.label) dt.title = key;
  dd = document.createElement("dd");
  dd.dataset.field = key;
  dl.append(dt, dd);
  d.fields.set(key, dd);
  return dd;
}

function showField(d, key, value) {
  const shown = d.shown[key] || {};
  const dd = fieldCell(d, key);
  const numericField = d.series.has(key) || shown.unit || shown.min !== undefined || shown.warn_above !== undefined
    || shown.warn_below !== undefined;
  dd.replaceChildren();
  delete dd.dataset.warn;
  delete dd.dataset.problem;
  dd.title = "";
  if (typeof value === "number") {
    dd.append(formatValue(value, shown.decimals));
    if (shown.unit) {
      const unit = document.createElement("span");
      unit.className = "unit";
      unit.textContent = " " + shown.unit;
      dd.append(unit);
    }
    if (shown.warn_above !== undefined && value > shown.warn_above) {
      dd.dataset.warn = "above"; dd.title = "above " + shown.warn_above;
    } else if (shown.warn_below !== undefined && value < shown.warn_below) {
      dd.dataset.warn = "below"; dd.title = "below " + shown.warn_below;
    }
  } else if (numericField && typeof value === "string") {
    // Not a number where numbers were seen or configured: a parse problem, not plotted.
    dd.dataset.problem = "1";
    dd.textContent = "⚠ " + value;
    dd.title = "parse problem: not a number";
  } else {
    dd.textContent = typeof value === "object" ? JSON.stringify(value) : String(value);
  }
}

function chart(d, key) {
  let c = d.charts.get(key);
  if (c) return c;
  const shown = d.shown[key] || {};
  const box = document.createElement("div");
  box.className = "chart";
  box.dataset.field = key;
  const label = document.createElement("div");
  label.className = "label";
  const name = document.createElement("span");
  name.textContent = (shown.label || key) + (shown.unit ? " (" + shown.unit + ")" : "");
  const range = document.createElement("span");
  range.className = "range";
  label.append(name, range);
  box.append(label);
  $(d.card, ".charts").appendChild(box);
  c = new Chart.TimeChart(box, { unit: shown.unit, decimals: shown.decimals, min: shown.min, max: shown.max,
                                 label: shown.label || key });
  c.box = box;
  c.range = range;
  d.charts.set(key, c);
  return c;
}

function addReading(r, counted) {
  const d = card(r.device);
  if (typeof r.ts === "number") {
    if (d.last !== null && r.ts > d.last) {
      d.gaps.push(r.ts - d.last);
      if (d.gaps.length > 20) d.gaps.shift();
    }
    if (d.last === null || r.ts > d.last) d.last = r.ts;
  }
  for (const [key, value] of Object.entries(r.fields || {})) {
    if (typeof value === "number" && typeof r.ts === "number") {
      let s = d.series.get(key);
      if (!s) { s = []; d.series.set(key, s); }
      s.push([r.ts, value]);
      if (s.length > KEEP) s.shift();
    }
    showField(d, key, value);
    if (d.series.has(key)) {
      const want = wantsChart(d, key);
      const c = d.charts.get(key);
      if (want) chart(d, key).setPoints(d.series.get(key));
      else if (c) { c.box.remove(); d.charts.delete(key); }
    }
  }
  if (counted) {
    const el = $(d.card, ".readings");
    el.textContent = String((parseInt(el.textContent, 10) || 0) + 1);
  }
  age(d);
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.floor(s.length / 2)] : null;
}

function ago(seconds) {
  if (seconds < 60) return Math.max(0, Math.round(seconds)) + " s ago";
  if (seconds < 3600) return Math.round(seconds / 60) + " min ago";
  if (seconds < 86400) return Math.round(seconds / 3600) + " h ago";
  return Math.round(seconds / 86400) + " d ago";
}

// "last reading 12:01:02 (5 s ago)"; stale when 3x the usual interval passed.
function age(d) {
  const seen = $(d.card, ".seen");
  if (d.last === null) { seen.textContent = "no reading yet"; d.card.dataset.stale = "0"; return; }
  const since = Date.now() / 1000 - d.last;
  const usual = median(d.gaps);
  const stale = d.online && usual !== null && since > Math.max(3 * usual, 2);
  d.card.dataset.stale = stale ? "1" : "0";
  seen.textContent = (stale ? "stale: " : "") + "last reading " + Chart.clock(d.last, true) + " (" + ago(since) + ")";
}

function draw() {
  const now = Date.now() / 1000;
  for (const d of devices.values()) {
    for (const c of d.charts.values()) {
      const stats = c.draw(now, windowSeconds, style);
      c.range.textContent = stats ? "min " + c.format(stats.min) + " · max " + c.format(stats.max)
        + " · last " + c.format(stats.last) : "no data in this window";
    }
  }
}

// URLs relative to the page, built without any user:password@ part of the
// page's address: fetch() refuses URLs carrying credentials.
function here(path) { return location.origin + location.pathname.replace(/[^/]*$/, "") + path; }

async function getJson(path) {
  const res = await fetch(here(path), { credentials: "same-origin" });
  if (!res.ok) throw new Error(path + ": " + res.status);
  return res.json();
}

async function loadInitial() {
  const body = await getJson("api/devices");
  let polled = false;
  if (body.gateway) { document.getElementById("title").textContent = body.gateway; document.title = body.gateway; }
  for (const dev of body.devices || []) {
    const d = card(dev.name);
    d.shown = dev.fields || {};
    $(d.card, ".port").textContent = dev.port || "";
    setStatus(dev.name, dev.status || (dev.online ? "online" : "offline"), dev.detail || "");
    setCounters(dev.name, dev.counters || {});
    if (dev.rfc2217) setRfc2217(dev.name, dev.rfc2217);
    if (dev.modbus_units) { setModbusUnits(dev.name, dev.modbus_units); polled = true; }
  }
  if (polled) setInterval(() => refreshModbusUnits().catch(() => {}), 5000);
  document.getElementById("empty").hidden = (body.devices || []).length > 0;
  const history = await getJson("api/history?limit=" + HISTORY);
  for (const [name, readings] of Object.entries(history)) {
    const d = card(name);
    const live = d.live || [];          // readings that came over /ws meanwhile
    d.live = null;
    d.series.clear();
    d.gaps = [];
    d.last = null;
    const firstLive = live.length ? live[0].seq : Infinity;
    for (const r of readings) if (!(r.seq >= firstLive)) addReading(r, false);
    for (const r of live) addReading(r, false);
  }
}

function connect() {
  const link = document.getElementById("link");
  const url = here("ws").replace(/^http/, "ws");   // http -> ws, https -> wss
  const ws = new WebSocket(url);
  ws.onopen = () => { link.textContent = "live"; link.className = "pill online"; };
  ws.onclose = () => {
    link.textContent = "reconnecting…"; link.className = "pill offline";
    setTimeout(connect, 2000);             // the gateway may be restarting
  };
  ws.onmessage = (m) => {
    let msg;
    try { msg = JSON.parse(m.data); } catch (e) { return; }
    if (msg.type === "reading") {
      const d = card(msg.device);
      if (d.live) d.live.push(msg);        // history not loaded yet: merged then
      addReading(msg, true);
    } else if (msg.type === "status") setStatus(msg.device, msg.status || (msg.online ? "online" : "offline"), msg.detail);
    else if (msg.type === "counters") setCounters(msg.device, msg.counters || {});
    else if (msg.type === "rfc2217") setRfc2217(msg.device, msg.rfc2217 || {});
  };
}

function windowButtons() {
  const box = document.getElementById("window");
  for (const [label, seconds] of Object.entries(WINDOWS)) {
    const b = document.createElement("button");
    b.type = "button";
    b.textContent = label;
    b.setAttribute("aria-pressed", seconds === windowSeconds ? "true" : "false");
    b.addEventListener("click", () => {
      windowSeconds = seconds;
      for (const other of box.children) other.setAttribute("aria-pressed", other === b ? "true" : "false");
      draw();
    });
    box.appendChild(b);
  }
}

function readStyle() {
  const css = getComputedStyle(document.documentElement);
  style = { line: css.getPropertyValue("--line").trim() || "#58a6ff", dim: css.getPropertyValue("--dim").trim() || "#888",
            grid: css.getPropertyValue("--grid").trim() || "#333" };
}

readStyle();
matchMedia("(prefers-color-scheme: light)").addEventListener("change", () => { readStyle(); draw(); });
windowButtons();
connect();
loadInitial().catch((e) => console.warn("dashboard:", e.message)).finally(() => {
  historyLoaded = true;
  for (const d of devices.values()) d.live = null;
});
setInterval(() => { for (const d of devices.values()) age(d); }, 1000);
(function frame() { draw(); setTimeout(() => requestAnimationFrame(frame), 250); })();
