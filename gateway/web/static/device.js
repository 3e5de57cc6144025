// The device page: live hex/ASCII traffic (over /ws, only while this page
// watches), the write console, connected clients, serial settings and the
// parse error log. Plain browser JavaScript, no libraries: works offline.
"use strict";

const MAX_ROWS = 600;                  // hex rows kept in the page
const REFRESH = 2000;                  // ms between two /api/device requests
const name = decodeURIComponent(location.pathname.replace(/\/+$/, "").split("/").pop());
// The gateway's root, from this page's address (/.../device/NAME), without
// any user:password@ part: fetch() refuses URLs carrying credentials.
const root = location.origin + location.pathname.replace(/device\/[^/]*\/?$/, "");
const $ = (id) => document.getElementById(id);
let paused = false;
let held = [];                         // chunks that came while paused
let rows = 0;

function pad(n, w) { return String(n).padStart(w, "0"); }
function clock(ts) {
  const d = new Date(ts * 1000);
  return pad(d.getHours(), 2) + ":" + pad(d.getMinutes(), 2) + ":" + pad(d.getSeconds(), 2) + "." + pad(d.getMilliseconds(), 3);
}
function bytesShown(n) {
  if (n === null || n === undefined) return "–";
  if (n < 10000) return n + " B";
  if (n < 10e6) return (n / 1024).toFixed(1) + " KiB";
  return (n / 1048576).toFixed(1) + " MiB";
}
function ago(ts) {
  if (!ts) return "–";
  const s = Math.max(0, Date.now() / 1000 - ts);
  const when = clock(ts).slice(0, 8);
  if (s < 60) return when + " (" + Math.round(s) + " s)";
  if (s < 3600) return when + " (" + Math.round(s / 60) + " min)";
  return new Date(ts * 1000).toLocaleDateString() + " " + when + " (" + (s / 3600).toFixed(1) + " h)";
}

// -- hex view ---------------------------------------------------------------
function perRow() { return $("hex").clientWidth < 520 ? 8 : 16; }

function addChunk(ts, dir, hex, cut) {
  const view = $("hex");
  const stick = view.scrollTop + view.clientHeight >= view.scrollHeight - 4;
  const block = document.createElement("div");
  block.className = "chunk " + dir;
  const head = document.createElement("div");
  head.className = "when";
  const n = hex.length / 2;
  const t = document.createElement("span"); t.textContent = clock(ts);
  const d = document.createElement("span"); d.className = "dir " + dir; d.textContent = dir === "rx" ? "RX" : "TX";
  const c = document.createElement("span"); c.className = "count";
  c.textContent = n + (n === 1 ? " byte" : " bytes") + (cut ? " (first " + cut + " not kept)" : "");
  head.append(t, d, c);
  block.appendChild(head);
  const width = perRow();
  for (let off = 0; off < n; off += width) {
    const line = document.createElement("div");
    line.className = "line";
    let hx = "", asc = "";
    for (let i = off; i < Math.min(n, off + width); i++) {
      const b = parseInt(hex.substr(i * 2, 2), 16);
      hx += hex.substr(i * 2, 2) + (i - off === 7 && width === 16 ? "  " : " ");
      asc += b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : "·";
    }
    const h = document.createElement("span"); h.className = "hx"; h.textContent = hx.padEnd(width * 3 + (width === 16 ? 1 : 0));
    const a = document.createElement("span"); a.className = "asc"; a.textContent = asc;
    line.append(h, a);
    block.appendChild(line);
    rows++;
  }
  view.appendChild(block);
  while (rows > MAX_ROWS && view.firstChild) {
    rows -= view.firstChild.querySelectorAll(".line").length;
    view.removeChild(view.firstChild);
  }
  if (stick) view.scrollTop = view.scrollHeight;
}

function onTraffic(msg) {
  if (msg.backlog) { $("hex").textContent = ""; rows = 0; held = []; }
  if (msg.skipped) $("traffic-note").textContent = msg.skipped + " chunks skipped: more came than the page is sent.";
  for (const [ts, dir, hex, cut] of msg.chunks || []) {
    if (paused) held.push([ts, dir, hex, cut]);
    else addChunk(ts, dir, hex, cut);
  }
  if (paused) held = held.slice(-MAX_ROWS);
}

$("pause").addEventListener("click", (e) => {
  paused = !paused;
  e.target.setAttribute("aria-pressed", paused ? "true" : "false");
  e.target.textContent = paused ? "Resume" : "Pause";
  if (!paused) { for (const c of held) addChunk(...c); held = []; }
});
$("clear").addEventListener("click", () => { $("hex").textContent = ""; rows = 0; held = []; });

// -- live connection ----------------------------------------------------------
function connect() {
  const link = $("link");
  const ws = new WebSocket(root.replace(/^http/, "ws") + "ws");
  ws.onopen = () => {
    link.textContent = "live"; link.className = "pill online";
    ws.send(JSON.stringify({ type: "watch", device: name }));
  };
  ws.onclose = () => {
    link.textContent = "reconnecting…"; link.className = "pill offline";
    setTimeout(connect, 2000);
  };
  ws.onmessage = (m) => {
    let msg;
    try { msg = JSON.parse(m.data); } catch (e) { return; }
    if (msg.device !== name) return;
    if (msg.type === "traffic") onTraffic(msg);
    else if (msg.type === "status") setStatus(msg.status || (msg.online ? "online" : "offline"), msg.detail);
  };
}

function setStatus(status, detail) {
  const pill = $("state");
  const online = status === "online";
  pill.textContent = status;
  pill.className = "pill state " + (online ? "online" : "offline");
  const reason = $("reason");
  reason.textContent = online ? "" : (detail || "");
  reason.hidden = online || !detail;
  document.body.dataset.online = online ? "1" : "0";
}

// -- details ----------------------------------------------------------------
function fillClients(list) {
  const body = $("clients").tBodies[0];
  body.textContent = "";
  for (const c of list) {
    const tr = body.insertRow();
    tr.dataset.kind = c.kind;
    const cells = [c.kind + (c.watching ? " · watching" : ""), c.address, ago(c.since),
                   bytesShown(c.bytes_from), bytesShown(c.bytes_to)];
    cells.forEach((text, i) => { const td = tr.insertCell(); td.textContent = text; if (i >= 3) td.className = "num"; });
  }
  $("clients").hidden = list.length === 0;
  $("no-clients").hidden = list.length > 0;
}

function fillSettings(s) {
  const dl = $("settings");
  dl.textContent = "";
  const shown = { baudrate: "Baud rate", bytesize: "Data bits", parity: "Parity", stopbits: "Stop bits",
                  rtscts: "RTS/CTS", xonxoff: "XON/XOFF" };
  for (const [key, label] of Object.entries(shown)) {
    if (!(key in s)) continue;
    const dt = document.createElement("dt"); dt.textContent = label;
    const dd = document.createElement("dd"); dd.dataset.setting = key;
    const v = s[key];
    dd.textContent = v === true ? "on" : v === false ? "off" : String(v);
    dl.append(dt, dd);
  }
  $("settings-source").textContent = s.source === "port" ? "As the open port has them now." : "As configured (the port is not open).";
}

function fillErrors(list) {
  const ol = $("errors");
  ol.textContent = "";
  for (const e of list.slice().reverse()) {
    const li = document.createElement("li");
    const head = document.createElement("div");
    const t = document.createElement("span"); t.className = "when"; t.textContent = ago(e.ts);
    const r = document.createElement("span"); r.textContent = " " + e.reason;
    head.append(t, r);
    li.appendChild(head);
    if (e.hex) {
      const code = document.createElement("code");
      code.className = "bytes";
      code.textContent = e.hex.match(/../g).join(" ");
      li.appendChild(code);
    }
    ol.appendChild(li);
  }
  $("no-errors").hidden = list.length > 0;
}

function fillConsole(write) {
  const why = $("console-why");
  if (write.allowed) {
    $("console").hidden = false;
    why.hidden = true;
  } else {
    // Absent, not just disabled (the server refuses these writes anyway).
    $("console").remove();
    why.textContent = write.why || "Writing is not allowed here.";
    why.hidden = false;
  }
}

let consoleSettled = false;
async function refresh() {
  try {
    const res = await fetch(root + "api/device/" + encodeURIComponent(name), { credentials: "same-origin" });
    if (!res.ok) throw new Error("api/device: " + res.status);
    const d = await res.json();
    setStatus(d.status, d.status === "online" ? "" : d.detail);
    $("title").textContent = d.name;
    document.title = d.name + " · gateway";
    if (!consoleSettled) {
      fillConsole(d.write);
      consoleSettled = true;
    }
    fillClients(d.clients || []);
    fillSettings(d.settings || {});
    fillErrors(d.errors || []);
  } catch (e) { console.warn("device page:", e.message); }
}

function setupConsole() {
  const mode = $("mode"), eol = $("eol"), data = $("data"), out = $("sent");
  mode.addEventListener("change", () => {
    eol.disabled = mode.value === "hex";
    data.placeholder = mode.value === "hex" ? "hex bytes, e.g. 01 03 00 00" : "text to send";
  });
  $("console").addEventListener("submit", async (e) => {
    e.preventDefault();
    out.textContent = "sending…";
    out.className = "";
    try {
      const res = await fetch(root + "api/device/" + encodeURIComponent(name) + "/write", {
        method: "POST", credentials: "same-origin", headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ data: data.value, mode: mode.value, eol: eol.value }) });
      const body = await res.json().catch(() => ({}));
      if (!res.ok) throw new Error(body.error || String(res.status));
      out.textContent = "sent " + body.sent + (body.sent === 1 ? " byte" : " bytes");
      data.select();
    } catch (err) {
      out.textContent = "not sent: " + err.message;
      out.className = "bad";
    }
  });
}

$("title").textContent = name;
document.title = name + " · gateway";
setupConsole();
connect();
refresh();
setInterval(refresh, REFRESH);
