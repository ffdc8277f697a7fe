// borderless — progressive enhancement for the console and the storefront. Every page works without this
// file; with it: codes scanned with the camera (BarcodeDetector, where the browser has it), filters that
// apply on change, a print button, "/" to jump to search, and focus kept where staff type.
(function () {
  "use strict";

  function onLoad(root) {
    // Filters apply as soon as a select changes (the form's own button stays for keyboards and no-JS).
    root.querySelectorAll("form[data-autosubmit] select").forEach(function (s) {
      s.addEventListener("change", function () { s.form.requestSubmit(); });
    });
    root.querySelectorAll("[data-print]").forEach(function (b) {
      b.hidden = false;
      b.addEventListener("click", function () { window.print(); });
    });
    root.querySelectorAll("[data-autofocus]").forEach(function (el) { el.focus(); });
    if ("BarcodeDetector" in window && navigator.mediaDevices) {
      root.querySelectorAll("[data-scan]").forEach(setupScanner);
    }
  }

  // A "Scan" button beside an input: opens the camera, fills the input with the first code it reads and
  // submits the form.
  function setupScanner(button) {
    var input = document.getElementById(button.getAttribute("data-scan"));
    var box = document.getElementById(button.getAttribute("data-scan") + "-camera");
    if (!input || !box) return;
    button.hidden = false;
    var stream = null;
    function stop() {
      if (stream) stream.getTracks().forEach(function (t) { t.stop(); });
      stream = null;
      box.hidden = true;
      box.innerHTML = "";
    }
    button.addEventListener("click", function () {
      if (stream) { stop(); return; }
      var detector;
      try { detector = new window.BarcodeDetector({ formats: ["qr_code", "ean_13", "ean_8", "code_128", "upc_a"] }); }
      catch (e) { return; }
      navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } }).then(function (s) {
        stream = s;
        var video = document.createElement("video");
        video.setAttribute("playsinline", "");
        video.muted = true;
        video.srcObject = s;
        box.appendChild(video);
        box.hidden = false;
        video.play();
        (function tick() {
          if (!stream) return;
          detector.detect(video).then(function (codes) {
            if (codes.length) {
              input.value = codes[0].rawValue;
              stop();
              input.form.requestSubmit();
            } else {
              setTimeout(tick, 200);
            }
          }).catch(function () { setTimeout(tick, 400); });
        })();
      }).catch(function () {
        box.hidden = false;
        box.textContent = button.getAttribute("data-denied") || "Camera not available";
      });
    });
  }

  document.addEventListener("keydown", function (e) {
    if (e.key !== "/" || e.ctrlKey || e.metaKey || e.altKey) return;
    var t = e.target;
    if (t && (t.tagName === "INPUT" || t.tagName === "TEXTAREA" || t.tagName === "SELECT" || t.isContentEditable)) return;
    var s = document.querySelector("[data-search]");
    if (s) { e.preventDefault(); s.focus(); }
  });

  if (window.htmx) {
    window.htmx.onLoad(onLoad);
  } else {
    document.addEventListener("DOMContentLoaded", function () { onLoad(document); });
  }
})();

// A live panel that refreshes itself (hx-trigger="every …") waits while staff are working in it: an open
// <details> (a review being split between shoppers), a ticked box (payment taken at the pickup desk; Safari
// does not focus a clicked checkbox) or a focused field would be wiped by the refresh.
document.addEventListener("htmx:beforeRequest", function (e) {
  var el = e.detail && e.detail.elt;
  if (!el || !el.matches || !el.matches("[hx-trigger^='every']")) return;
  if (el.querySelector("details[open], input[type=checkbox]:checked") ||
      el.contains(document.activeElement) && document.activeElement !== el &&
      /^(SELECT|INPUT|TEXTAREA)$/.test(document.activeElement.tagName)) {
    e.preventDefault();
  }
});

// Upload progress for forms marked data-progress="<id of a <progress>>" (catalog imports).
document.addEventListener("htmx:xhr:progress", function (e) {
  var form = e.target && e.target.closest ? e.target.closest("form[data-progress]") : null;
  if (!form || !e.detail.lengthComputable) return;
  var bar = document.getElementById(form.getAttribute("data-progress"));
  if (!bar) return;
  bar.hidden = false;
  bar.value = Math.round((e.detail.loaded / e.detail.total) * 100);
});
