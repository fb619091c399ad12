// CarrierHub: small progressive enhancements. Pages work without it, except forms on cached
// pages: those carry no per-visitor token, so the CSRF cookie is fetched when a form is about
// to be used (GET /csrf/ sets it) and copied into the form and htmx's requests from there.
(function () {
  "use strict";
  function cookie(name) {
    var match = document.cookie.match(new RegExp("(?:^|; )" + name + "=([^;]*)"));
    return match ? decodeURIComponent(match[1]) : "";
  }
  // Banners: previous/next buttons and dots move the scroll-snapped track (a phone swipes it);
  // it turns every 5 s, pausing while pointed at or focused, and not at all when reduced
  // motion is asked for.
  function carousel(root) {
    var track = root.querySelector("[data-track]");
    var slides = track ? track.children : [];
    if (slides.length < 2) { return; }
    var dots = root.querySelectorAll("[data-dot]");
    var paused = false;
    function current() { return Math.round(track.scrollLeft / track.clientWidth); }
    function show(index) {
      var n = (index + slides.length) % slides.length;
      track.scrollTo({ left: n * track.clientWidth, behavior: "smooth" });
    }
    track.addEventListener("scroll", function () {
      var n = current();
      dots.forEach(function (dot, i) { dot.setAttribute("aria-current", i === n ? "true" : "false"); });
    }, { passive: true });
    root.querySelector("[data-prev]").addEventListener("click", function () { show(current() - 1); });
    root.querySelector("[data-next]").addEventListener("click", function () { show(current() + 1); });
    dots.forEach(function (dot) {
      dot.addEventListener("click", function () { show(Number(dot.getAttribute("data-dot"))); });
    });
    ["mouseenter", "focusin"].forEach(function (e) { root.addEventListener(e, function () { paused = true; }); });
    ["mouseleave", "focusout"].forEach(function (e) { root.addEventListener(e, function () { paused = false; }); });
    if (window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches) { return; }
    setInterval(function () { if (!paused && !document.hidden) { show(current() + 1); } }, 5000);
  }
  var pending = null;
  function ensureToken() {
    if (cookie("csrftoken")) return Promise.resolve(cookie("csrftoken"));
    if (!pending) {
      pending = fetch("/csrf/", { credentials: "same-origin" }).then(function () {
        pending = null;
        return cookie("csrftoken");
      });
    }
    return pending;
  }
  function fill(form, token) {
    form.querySelectorAll("input[data-csrf]").forEach(function (input) { input.value = token; });
  }
  // A random idempotency key (hex), for forms whose page is cached and so shared.
  function freshKey() {
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }
  document.addEventListener("DOMContentLoaded", function () {
    // One key per page view: the same form sent again (a retry after an error) is applied once.
    document.querySelectorAll("input[data-fresh-key]").forEach(function (input) {
      if (!input.value) { input.value = freshKey(); }
    });
    // Fetch the token as soon as a form with one is touched, so that submitting never waits.
    document.addEventListener("focusin", function (event) {
      var form = event.target.closest && event.target.closest("form");
      if (form && form.querySelector("input[data-csrf]")) {
        ensureToken().then(function (token) { fill(form, token); });
      }
    });
    document.addEventListener("submit", function (event) {
      var form = event.target;
      if (!form.querySelector("input[data-csrf]")) return;
      var token = cookie("csrftoken");
      if (token) { fill(form, token); return; }
      event.preventDefault();
      ensureToken().then(function (fresh) { fill(form, fresh); form.submit(); });
    }, true);
    document.body.addEventListener("htmx:confirm", function (event) {
      var verb = (event.detail.verb || "get").toLowerCase();
      if (verb === "get" || cookie("csrftoken")) return;
      event.preventDefault();
      ensureToken().then(function () { event.detail.issueRequest(); });
    });
    // A chip that fills an input (the recharge box's numbers used before).
    document.body.addEventListener("click", function (event) {
      var chip = event.target.closest ? event.target.closest("[data-fill]") : null;
      if (!chip) { return; }
      var input = document.querySelector(chip.getAttribute("data-fill"));
      if (!input) { return; }
      input.value = chip.getAttribute("data-value");
      input.dispatchEvent(new Event("input", { bubbles: true }));
    });
    document.querySelectorAll("[data-carousel]").forEach(carousel);
    // "Send code" waits out the resend cooldown, counting down on the button.
    document.querySelectorAll("button[data-countdown]").forEach(function (button) {
      var left = Number(button.getAttribute("data-countdown"));
      var label = button.textContent;
      var wait = button.getAttribute("data-wait-text") || "%s";
      function tick() {
        if (left <= 0) { button.disabled = false; button.textContent = label; return; }
        button.disabled = true;
        button.textContent = wait.replace("%s", String(left));
        left -= 1;
        setTimeout(tick, 1000);
      }
      tick();
    });
    // Filter panels start folded on a phone (the results come first) and open on a desktop.
    if (window.matchMedia && window.matchMedia("(min-width: 640px)").matches) {
      document.querySelectorAll("details[data-open-wide]").forEach(function (d) { d.open = true; });
    }
    document.body.addEventListener("htmx:configRequest", function (event) {
      event.detail.headers["X-CSRFToken"] = cookie("csrftoken");
    });
  });
})();
