// A small time-series chart on a canvas: time axis with readable ticks,
// min/max/last, and a hover/touch/keyboard cursor that reads one point.
// Our own code (no library, nothing from a CDN: the gateway may be offline).
"use strict";

const Chart = (() => {
  const TICK_STEPS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400];

  function pad(n) { return String(n).padStart(2, "0"); }
  function clock(t, seconds) {
    const d = new Date(t * 1000);
    return pad(d.getHours()) + ":" + pad(d.getMinutes()) + (seconds ? ":" + pad(d.getSeconds()) : "");
  }

  // Tick times for [t0, t1] at about one per 70 CSS pixels, on round clock values.
  function ticks(t0, t1, width) {
    const want = Math.max(2, Math.floor(width / 70));
    const span = Math.max(t1 - t0, 1);
    const step = TICK_STEPS.find((s) => span / s <= want) || 86400;
    const offset = new Date().getTimezoneOffset() * 60;   // round in local time
    const out = [];
    for (let t = Math.ceil((t0 - offset) / step) * step + offset; t <= t1; t += step) out.push(t);
    return { times: out, seconds: step < 60 };
  }

  class TimeChart {
    // box: the element to fill; opts: {unit, decimals, min, max, colour, label}
    constructor(box, opts) {
      this.opts = opts;
      this.points = [];          // [ts, value], oldest first
      this.cursor = -1;          // index of the point read, or -1
      this.canvas = document.createElement("canvas");
      this.canvas.tabIndex = 0;
      this.canvas.setAttribute("role", "img");
      this.canvas.setAttribute("aria-label", "chart of " + opts.label + " (arrow keys read the points)");
      this.tip = document.createElement("div");
      this.tip.className = "tip";
      this.tip.hidden = true;
      box.append(this.canvas, this.tip);
      // The pointer's place is kept so the tip follows new data (and appears once the first
      // points arrive) without the pointer having to move again.
      this.pointerX = null;
      const move = (e) => { this.pointerX = e.clientX; this.hover(e.clientX); };
      this.canvas.addEventListener("pointermove", move);
      this.canvas.addEventListener("pointerdown", move);
      this.canvas.addEventListener("pointerleave", () => { this.pointerX = null; this.setCursor(-1); });
      this.canvas.addEventListener("blur", () => this.setCursor(-1));
      this.canvas.addEventListener("keydown", (e) => this.key(e));
      this.view = [];
      this.dirty = true;
    }

    format(v) { return formatValue(v, this.opts.decimals) + (this.opts.unit ? " " + this.opts.unit : ""); }

    setPoints(points) { this.points = points; this.dirty = true; }

    hover(clientX) {
      if (this.view.length) this.setCursor(this.nearest(clientX));
    }

    // The index in the drawn view of the point nearest to a pointer at clientX.
    nearest(clientX) {
      const r = this.canvas.getBoundingClientRect();
      const t = this.t0 + ((clientX - r.left) / r.width) * (this.t1 - this.t0);
      let best = 0;
      for (let i = 1; i < this.view.length; i++) {
        if (Math.abs(this.view[i][0] - t) <= Math.abs(this.view[best][0] - t)) best = i;  // ties: the newer
      }
      return best;
    }

    key(e) {
      if (!this.view.length) return;
      if (e.key === "ArrowLeft") this.setCursor(this.cursor < 0 ? this.view.length - 1 : Math.max(0, this.cursor - 1));
      else if (e.key === "ArrowRight") this.setCursor(Math.min(this.view.length - 1, this.cursor + 1));
      else if (e.key === "Escape") this.setCursor(-1);
      else return;
      e.preventDefault();
    }

    setCursor(i, redraw = true) {
      this.cursor = i;
      if (redraw) this.dirty = true;
      if (i < 0 || !this.view[i]) { this.tip.hidden = true; return; }
      const [t, v] = this.view[i];
      this.tip.textContent = clock(t, true) + "  " + this.format(v);
      this.tip.hidden = false;
    }

    // Draws the points of the last `windowSeconds` (up to `now`); returns {min, max, last} or null.
    draw(now, windowSeconds, style) {
      const cv = this.canvas, ratio = window.devicePixelRatio || 1;
      const w = Math.round(cv.clientWidth * ratio), h = Math.round(cv.clientHeight * ratio);
      if (!w || !h) return null;
      if (cv.width !== w || cv.height !== h) { cv.width = w; cv.height = h; }
      const g = cv.getContext("2d");
      g.clearRect(0, 0, w, h);
      const from = now - windowSeconds;
      this.view = this.points.filter((p) => p[0] >= from);
      this.t0 = from; this.t1 = now;
      if (this.pointerX !== null && this.view.length) this.setCursor(this.nearest(this.pointerX), false);
      else if (this.cursor >= this.view.length) this.setCursor(-1, false);
      const axis = 14 * ratio;                // room for the time labels
      const plotH = h - axis;
      g.font = (10 * ratio) + "px system-ui, sans-serif";
      g.fillStyle = style.dim;
      g.strokeStyle = style.grid;
      g.lineWidth = 1;
      const tk = ticks(from, now, w / ratio);
      g.textAlign = "center";
      for (const t of tk.times) {
        const x = ((t - from) / windowSeconds) * w;
        g.beginPath(); g.moveTo(x, 0); g.lineTo(x, plotH); g.stroke();
        g.fillText(clock(t, tk.seconds), Math.min(Math.max(x, 16 * ratio), w - 16 * ratio), h - 3 * ratio);
      }
      if (!this.view.length) return null;
      const values = this.view.map((p) => p[1]);
      const lo0 = Math.min(...values), hi0 = Math.max(...values);
      let lo = this.opts.min ?? lo0, hi = this.opts.max ?? hi0;
      if (hi === lo) { hi += 1; lo -= 1; }
      const x = (t) => ((t - from) / windowSeconds) * w;
      const y = (v) => plotH - ((v - lo) / (hi - lo)) * (plotH - 4 * ratio) - 2 * ratio;
      g.strokeStyle = style.line;
      g.lineWidth = 2 * ratio;
      g.lineJoin = "round";
      g.beginPath();
      this.view.forEach((p, i) => { if (i === 0) g.moveTo(x(p[0]), y(p[1])); else g.lineTo(x(p[0]), y(p[1])); });
      if (this.view.length === 1) g.arc(x(this.view[0][0]), y(this.view[0][1]), 2 * ratio, 0, 7);
      g.stroke();
      if (this.cursor >= 0) {
        const [t, v] = this.view[this.cursor];
        g.strokeStyle = style.dim;
        g.lineWidth = 1;
        g.beginPath(); g.moveTo(x(t), 0); g.lineTo(x(t), plotH); g.stroke();
        g.fillStyle = style.line;
        g.beginPath(); g.arc(x(t), y(v), 4 * ratio, 0, 7); g.fill();
      }
      return { min: lo0, max: hi0, last: values[values.length - 1] };
    }
  }

  return { TimeChart, clock };
})();

// A value with the configured decimals, else at most 3 (no "0.30000000000000004").
function formatValue(v, decimals) {
  if (typeof v !== "number") return String(v);
  if (decimals !== undefined && decimals !== null) return v.toFixed(decimals);
  return String(Math.round(v * 1000) / 1000);
}
