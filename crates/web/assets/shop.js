// borderless storefront — progressive enhancement. Every page works without this file; with it: "use my
// location" for pickup today near the shopper, the payment QR renews itself before it expires, an order page
// waiting for the store refreshes itself, a product's per-store stock follows the stock live, and a
// product's 3D model opens in the vendored viewer on request, and the assistant's chat answers in place.
(function () {
  "use strict";

  function near(button) {
    if (!("geolocation" in navigator)) return;
    var form = button.form;
    var status = form.querySelector("[data-near-status]");
    button.hidden = false;
    button.addEventListener("click", function () {
      if (status) status.textContent = button.getAttribute("data-wait") || "…";
      navigator.geolocation.getCurrentPosition(function (pos) {
        var input = form.querySelector("input[name=near]");
        if (!input) {
          input = document.createElement("input");
          input.type = "hidden";
          input.name = "near";
          form.appendChild(input);
        }
        input.value = pos.coords.latitude.toFixed(4) + "," + pos.coords.longitude.toFixed(4);
        var store = form.querySelector("select[name=store]");
        if (store) store.value = "";
        form.submit();
      }, function () {
        if (status) status.textContent = button.getAttribute("data-denied") || "";
      }, { maximumAge: 600000, timeout: 10000 });
    });
  }

  // The payment QR: ask for a new code a few seconds before this one expires, while the page is visible.
  function rotate(box) {
    var form = document.querySelector("form[data-rotate-form]");
    if (!form || !window.fetch || !window.DOMParser) return;
    function schedule(seconds) {
      setTimeout(function () {
        if (document.hidden) { schedule(5); return; }
        fetch(form.action, { method: "POST", body: new URLSearchParams(new FormData(form)), credentials: "same-origin" })
          .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
          .then(function (html) {
            var doc = new DOMParser().parseFromString(html, "text/html");
            var fresh = doc.getElementById("paycode");
            if (!fresh) return;
            box.innerHTML = fresh.innerHTML;
            schedule(Math.max(5, parseInt(fresh.getAttribute("data-rotate"), 10) - 5 || 55));
          })
          .catch(function () { schedule(15); });
      }, seconds * 1000);
    }
    schedule(Math.max(5, (parseInt(box.getAttribute("data-rotate"), 10) || 60) - 5));
  }

  // The 3D viewer: its script (large) is fetched only when the shopper asks to see the model.
  function viewer(button) {
    var box = document.getElementById(button.getAttribute("data-model-viewer"));
    if (!box) return;
    button.hidden = false;
    button.addEventListener("click", function () {
      button.disabled = true;
      function show() {
        var mv = document.createElement("model-viewer");
        mv.setAttribute("src", box.getAttribute("data-src"));
        mv.setAttribute("alt", box.getAttribute("data-alt") || "");
        mv.setAttribute("camera-controls", "");
        mv.setAttribute("touch-action", "pan-y");
        mv.setAttribute("auto-rotate", "");
        mv.setAttribute("shadow-intensity", "1");
        mv.setAttribute("ar", "");
        mv.setAttribute("ar-modes", "webxr scene-viewer quick-look");
        box.appendChild(mv);
        button.hidden = true;
      }
      if (window.customElements && window.customElements.get("model-viewer")) { show(); return; }
      var s = document.createElement("script");
      s.src = box.getAttribute("data-script");
      s.onload = show;
      s.onerror = function () { button.disabled = false; };
      document.head.appendChild(s);
    });
  }

  // Per-store availability on a product page follows the stock: the API's answer every few seconds while
  // the page is visible, the labels in the page's language.
  function live(list) {
    if (!window.fetch) return;
    var lang = document.documentElement.lang === "en" ? "en" : "ko";
    var seconds = Math.max(5, parseInt(list.getAttribute("data-live"), 10) || 20);
    function apply(p) {
      var v = (p.availability || []).filter(function (a) { return a.sku === list.getAttribute("data-availability"); })[0];
      if (!v) return;
      var online = list.querySelector("li[data-online]");
      if (online) {
        var n = v.online_available;
        online.querySelector(".l").textContent = n > 0
          ? list.getAttribute("data-online-some").replace("{n}", n) : list.getAttribute("data-online-none");
        online.classList.toggle("ok", n > 0);
      }
      v.stores.forEach(function (s) {
        var li = list.querySelector('li[data-loc="' + s.location_id + '"]');
        if (!li) return;
        li.querySelector(".l").textContent = s.label[lang];
        li.classList.toggle("ok", s.available > 0 && s.pickup_enabled);
      });
    }
    setInterval(function () {
      if (document.hidden) return;
      fetch("/store/products/" + encodeURIComponent(list.getAttribute("data-product")), { credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (j) { if (j && j.product) apply(j.product); })
        .catch(function () {});
    }, seconds * 1000);
  }

  // The card processor's form (Stripe Elements, from js.stripe.com: the card never reaches this server). On
  // submit, when the card is the chosen way to pay, the card becomes a token in `card_token` first.
  function cardForm(el) {
    var form = el.closest("form");
    var errors = document.getElementById("card-errors");
    var token = form && form.querySelector("input[name=card_token]");
    if (!form || !token) return;
    var s = document.createElement("script");
    s.src = "https://js.stripe.com/v3/";
    s.onerror = function () { if (errors) errors.textContent = el.getAttribute("data-unavailable"); };
    s.onload = function () {
      var stripe = window.Stripe(el.getAttribute("data-card-key"));
      var card = stripe.elements({ locale: document.documentElement.lang === "en" ? "en" : "ko" }).create("card");
      card.mount(el);
      form.addEventListener("submit", function (e) {
        var chosen = form.querySelector("input[name=method]:checked");
        if ((chosen && chosen.value !== "card") || token.value) return;
        e.preventDefault();
        stripe.createPaymentMethod({ type: "card", card: card }).then(function (r) {
          if (r.error) { if (errors) errors.textContent = r.error.message; return; }
          token.value = r.paymentMethod.id;
          form.submit();
        });
      });
    };
    document.head.appendChild(s);
  }

  // The assistant's chat: messages are sent in place (the server answers with the conversation so far), and
  // while staff have the conversation their replies appear by themselves. Any problem falls back to the
  // form's own page, which explains it.
  function chat(box) {
    if (!window.fetch || !window.URLSearchParams) return;
    var status = document.querySelector("[data-chat-status]");
    var poll = null;
    function end() {
      var last = document.getElementById("chat-end");
      if (last) last.scrollIntoView({ block: "end" });
    }
    function watch() {
      if (poll) return;
      poll = setInterval(function () {
        if (document.hidden) return;
        fetch(box.getAttribute("data-chat-log"), { credentials: "same-origin" })
          .then(function (r) { return r.ok ? r.text() : null; })
          .then(function (h) { if (h && h.trim() !== box.innerHTML.trim()) { box.innerHTML = h; bind(); end(); } })
          .catch(function () {});
      }, 10000);
    }
    function bind() {
      document.querySelectorAll("form[data-chat]").forEach(function (form) {
        if (form.getAttribute("data-bound")) return;
        form.setAttribute("data-bound", "1");
        form.addEventListener("submit", function (e) {
          e.preventDefault();
          var input = form.querySelector("input[name=text]:not([type=hidden])");
          var body = new URLSearchParams(new FormData(form));
          if (status) status.textContent = "…";
          fetch(form.action, { method: "POST", body: body, credentials: "same-origin", headers: { "X-Chat": "1" } })
            .then(function (r) {
              if (!r.ok) { form.submit(); return; }
              return r.text().then(function (h) {
                box.innerHTML = h;
                bind();
                end();
                if (input) { input.value = ""; input.focus(); }
                if (status) status.textContent = "";
                if (r.headers.get("x-chat-waiting") === "1") watch();
              });
            })
            .catch(function () { form.submit(); });
        });
      });
    }
    bind();
    end();
    if (box.getAttribute("data-waiting") === "true") watch();
  }

  function refresh(el) {
    var seconds = Math.max(10, parseInt(el.getAttribute("data-refresh"), 10) || 20);
    setInterval(function () { if (!document.hidden) window.location.reload(); }, seconds * 1000);
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-near]").forEach(near);
    document.querySelectorAll("[data-model-viewer]").forEach(viewer);
    document.querySelectorAll("[data-card-key]").forEach(cardForm);
    document.querySelectorAll("ul[data-availability][data-live]").forEach(live);
    var box = document.querySelector("#paycode[data-rotate]");
    if (box) rotate(box);
    var c = document.querySelector("[data-chat-log]");
    if (c) chat(c);
    var r = document.querySelector("[data-refresh]");
    if (r) refresh(r);
  });
})();
