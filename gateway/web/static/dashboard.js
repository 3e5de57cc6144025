// Live dashboard: one card per device, updated over the /ws WebSocket.
// Plain browser JavaScript, no libraries, so it works with no internet.
"use strict";
const HISTORY = 120;                       // points kept per chart
const devices = new Map();                 // name -> {card, values: Map(field -> [numbers])}
const $ = (root, sel) => root.querySelector(sel);

function card(name) {
  let d = devices.get(name);
  if (d) return d;
  const node = document.getElementById("card").content.firstElementChild.cloneNode(true);
  node.dataset.device = name;
  $(node, ".name").textContent = name;
  document.getElementById("devices").appendChild(node);
  d = { card: node, values: new Map(), fields: new Map(), charts: new Map() };
  devices.set(name, d);
  setOnline(name, false);
  return d;
}

function setOnline(name, online) {
  const pill = $(card(name).card, ".state");
  pill.textContent = online ? "online" : "offline";
  pill.className = "pill state " + (online ? "online" : "offline");
  card(name).card.dataset.online = online ? "1" : "0";
}

function setCounters(name, c) {
  const node = card(name).card;
  if (c.readings !== undefined) $(node, ".readings").textContent = c.readings;
  if (c.parse_errors !== undefined) $(node, ".errors").textContent = c.parse_errors;
  if (c.tcp_clients !== undefined) $(node, ".clients").textContent = c.tcp_clients;
}

function showField(d, key, value) {
  let dd = d.fields.get(key);
  if (!dd) {
    const dl = $(d.card, ".fields");
    const dt = document.createElement("dt");
    dt.textContent = key;
    dd = document.createElement("dd");
    dd.dataset.field = key;
    dl.append(dt, dd);
    d.fields.set(key, dd);
  }
  dd.textContent = typeof value === "number" ? fmt(value) : (typeof value === "object" ? JSON.stringify(value) : String(value));
}

function chart(d, key) {
  let c = d.charts.get(key);
  if (!c) {
    const box = document.createElement("div");
    box.className = "chart";
    const label = document.createElement("div");
    label.className = "label";
    const name = document.createElement("span");
    name.textContent = key;
    const range = document.createElement("span");
    range.className = "range";
    label.append(name, range);
    const canvas = document.createElement("canvas");
    box.append(label, canvas);
    $(d.card, ".charts").appendChild(box);
    c = { canvas, range, dirty: true };
    d.charts.set(key, c);
  }
  return c;
}

function fmt(v) { return String(Math.round(v * 1000) / 1000); }
function short(v) { return String(Number(v.toPrecision(4))); }   // chart ranges: 4 significant digits

function addReading(r, live) {
  const d = card(r.device);
  if (typeof r.ts === "number") {
    $(d.card, ".seen").textContent = "last reading " + new Date(r.ts * 1000).toLocaleTimeString();
  }
  for (const [key, value] of Object.entries(r.fields || {})) {
    showField(d, key, value);
    if (typeof value !== "number") continue;
    let series = d.values.get(key);
    if (!series) { series = []; d.values.set(key, series); }
    series.push(value);
    if (series.length > HISTORY) series.shift();
    chart(d, key).dirty = true;
  }
  if (live) {
    const el = $(d.card, ".readings");
    el.textContent = String((parseInt(el.textContent, 10) || 0) + 1);
  }
}

let lineColour = "#58a6ff";

function draw() {
  for (const d of devices.values()) {
    for (const [key, c] of d.charts) {
      if (!c.dirty) continue;
      c.dirty = false;
      const series = d.values.get(key) || [];
      const cv = c.canvas, ratio = window.devicePixelRatio || 1;
      const w = cv.clientWidth * ratio, h = cv.clientHeight * ratio;
      if (cv.width !== w || cv.height !== h) { cv.width = w; cv.height = h; }
      const g = cv.getContext("2d");
      g.clearRect(0, 0, w, h);
      if (series.length < 2) continue;
      let lo = Math.min(...series), hi = Math.max(...series);
      c.range.textContent = lo === hi ? short(lo) : short(lo) + " … " + short(hi);
      if (hi === lo) { hi += 1; lo -= 1; }
      g.strokeStyle = lineColour;
      g.lineWidth = 2 * ratio;
      g.lineJoin = "round";
      g.beginPath();
      // The points span the whole width, newest on the right.
      const step = w / (series.length - 1);
      series.forEach((v, i) => {
        const x = i * step, y = h - ((v - lo) / (hi - lo)) * (h - 4 * ratio) - 2 * ratio;
        if (i === 0) g.moveTo(x, y); else g.lineTo(x, y);
      });
      g.stroke();
    }
  }
  requestAnimationFrame(draw);
}

// URLs relative to the page, built without any user:password@ part of the
// page's address: fetch() refuses URLs carrying credentials.
function here(path) { return location.origin + location.pathname.replace(/[^/]*$/, "") + path; }

async function loadInitial() {
  const res = await fetch(here("api/devices"), { credentials: "same-origin" });
  if (!res.ok) return;
  const body = await res.json();
  if (body.gateway) { document.getElementById("title").textContent = body.gateway; document.title = body.gateway; }
  for (const dev of body.devices || body) {
    const d = card(dev.name);
    $(d.card, ".port").textContent = dev.port || "";
    setOnline(dev.name, !!dev.online);
    setCounters(dev.name, dev.counters || {});
    const hist = await fetch(here("api/readings?device=" + encodeURIComponent(dev.name) + "&limit=" + HISTORY),
                             { credentials: "same-origin" });
    if (hist.ok) for (const r of await hist.json()) addReading(r, false);
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
    if (msg.type === "reading") addReading(msg, true);
    else if (msg.type === "status") setOnline(msg.device, !!msg.online);
    else if (msg.type === "counters") setCounters(msg.device, msg.counters || {});
  };
}

lineColour = getComputedStyle(document.documentElement).getPropertyValue("--line").trim() || lineColour;
loadInitial().finally(connect);
requestAnimationFrame(draw);
