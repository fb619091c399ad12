// CarrierHub: small progressive enhancements. Pages work without it, except forms on cached
// pages: those carry no per-visitor token, so the CSRF cookie is fetched when a form is about
// to be used (GET /csrf/ sets it) and copied into the form and htmx's requests from there.
(function () {
  "use strict";
  function cookie(name) {
    var match = document.cookie.match(new RegExp("(?:^|; )" + name + "=([^;]*)"));
    return match ? decodeURIComponent(match[1]) : "";
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
  document.addEventListener("DOMContentLoaded", function () {
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
    document.body.addEventListener("htmx:configRequest", function (event) {
      event.detail.headers["X-CSRFToken"] = cookie("csrftoken");
    });
  });
})();
