// borderless — the analytics console's charts, drawn with the vendored uPlot from the numbers each chart
// element carries (`data-chart`). Loaded on every console page (it is small); it fetches uPlot only when a
// page has a chart, and draws charts in pages htmx swaps in. Without it the tables beside each chart
// carry the same figures.
(function () {
  "use strict";
  var palette = ["#0b5cad", "#e07b00", "#2e8b57", "#8e44ad", "#c0392b", "#16a085", "#7f8c8d"];
  var loading = null;

  function loadUplot(host) {
    if (window.uPlot) return Promise.resolve();
    if (loading) return loading;
    loading = new Promise(function (resolve, reject) {
      var css = document.createElement("link");
      css.rel = "stylesheet";
      css.href = host.getAttribute("data-uplot-css");
      document.head.appendChild(css);
      var s = document.createElement("script");
      s.src = host.getAttribute("data-uplot-js");
      s.onload = function () { resolve(); };
      s.onerror = function () { loading = null; reject(new Error("uPlot did not load")); };
      document.head.appendChild(s);
    });
    return loading;
  }

  function width(el) {
    return Math.max(260, Math.min(el.clientWidth || el.parentNode.clientWidth || 640, 1100));
  }

  // A heat colour from pale yellow (0) to deep red (1).
  function heat(t) {
    var r = Math.round(255 - 60 * t), g = Math.round(237 - 200 * t), b = Math.round(160 - 140 * t);
    return "rgb(" + r + "," + g + "," + b + ")";
  }

  function series(spec, bars) {
    var out = [{ label: "", value: function (u, v) { return v == null ? "" : spec.labels[v]; } }];
    spec.series.forEach(function (s, i) {
      var c = palette[i % palette.length];
      var one = { label: s.label, stroke: c, width: 2, spanGaps: false, points: { show: true, size: 5 } };
      if (bars) {
        one.fill = c + "cc";
        one.paths = uPlot.paths.bars({ size: [0.6, 80] });
        one.points = { show: false };
      }
      out.push(one);
    });
    return out;
  }

  function xy(el, spec, bars) {
    var xs = spec.labels.map(function (_, i) { return i; });
    var data = [xs].concat(spec.series.map(function (s) { return s.values; }));
    var opts = {
      width: width(el),
      height: 240,
      scales: { x: { time: false, range: [-0.5, Math.max(0.5, xs.length - 0.5)] } },
      axes: [
        { values: function (u, ticks) { return ticks.map(function (t) { return spec.labels[t] == null ? "" : spec.labels[t]; }); },
          splits: function () { return xs; } },
        { label: spec.y_label, size: 70 }
      ],
      series: series(spec, bars)
    };
    return new uPlot(opts, data, el);
  }

  function floor(el, spec) {
    var w = width(el);
    var h = Math.max(180, Math.min(520, Math.round(w * spec.depth_m / Math.max(spec.width_m, 0.1))));
    var max = 0;
    spec.cells.forEach(function (c) { if (c.v != null && c.v > max) max = c.v; });
    var caption = document.createElement("p");
    caption.className = "small muted";
    caption.setAttribute("aria-live", "polite");
    function cellAt(x, y) {
      for (var i = 0; i < spec.cells.length; i++) {
        var c = spec.cells[i];
        if (x >= c.x && x <= c.x + c.w && y >= c.y && y <= c.y + c.d) return c;
      }
      return null;
    }
    var opts = {
      width: w,
      height: h,
      legend: { show: false },
      cursor: { points: { show: false }, drag: { x: false, y: false } },
      scales: { x: { time: false, range: [0, spec.width_m] }, y: { range: [0, spec.depth_m] } },
      axes: [{ label: spec.x_label }, { label: spec.y_label, size: 60 }],
      series: [{}, { stroke: "transparent", points: { show: false } }],
      hooks: {
        draw: [function (u) {
          var ctx = u.ctx;
          ctx.save();
          spec.cells.forEach(function (c) {
            var x0 = u.valToPos(c.x, "x", true), x1 = u.valToPos(c.x + c.w, "x", true);
            var y0 = u.valToPos(c.y, "y", true), y1 = u.valToPos(c.y + c.d, "y", true);
            ctx.fillStyle = c.v == null ? "#e5e5e5" : heat(max > 0 ? c.v / max : 0);
            ctx.strokeStyle = "#666";
            ctx.lineWidth = 1;
            ctx.fillRect(Math.min(x0, x1), Math.min(y0, y1), Math.abs(x1 - x0), Math.abs(y1 - y0));
            ctx.strokeRect(Math.min(x0, x1), Math.min(y0, y1), Math.abs(x1 - x0), Math.abs(y1 - y0));
          });
          ctx.restore();
        }],
        setCursor: [function (u) {
          var l = u.cursor.left, t = u.cursor.top;
          if (l == null || l < 0) { caption.textContent = ""; return; }
          var c = cellAt(u.posToVal(l, "x"), u.posToVal(t, "y"));
          caption.textContent = c ? c.label + ": " + (c.v == null ? spec.empty : c.v.toFixed(1) + " s") : "";
        }]
      }
    };
    var u = new uPlot(opts, [[0, spec.width_m], [null, null]], el);
    el.appendChild(caption);
    return u;
  }

  function draw(el) {
    if (el.getAttribute("data-drawn")) return;
    var spec;
    try { spec = JSON.parse(el.getAttribute("data-chart")); } catch (e) { return; }
    el.setAttribute("data-drawn", "1");
    if (spec.kind === "floor") floor(el, spec);
    else xy(el, spec, spec.kind === "bars");
  }

  function onLoad(root) {
    var hosts = root.querySelectorAll ? root.querySelectorAll("[data-chart]") : [];
    if (!hosts.length) return;
    loadUplot(hosts[0]).then(function () { hosts.forEach(draw); }, function () {});
  }

  if (window.htmx) window.htmx.onLoad(onLoad);
  else document.addEventListener("DOMContentLoaded", function () { onLoad(document); });
})();
