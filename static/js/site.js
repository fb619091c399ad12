// CarrierHub: small progressive enhancements. Pages work without it, except forms on cached
// pages, which take their CSRF token from the cookie here.
(function () {
  "use strict";
  function cookie(name) {
    var match = document.cookie.match(new RegExp("(?:^|; )" + name + "=([^;]*)"));
    return match ? decodeURIComponent(match[1]) : "";
  }
  document.addEventListener("DOMContentLoaded", function () {
    var token = cookie("csrftoken");
    document.querySelectorAll("input[data-csrf]").forEach(function (input) { input.value = token; });
    // A chip that fills an input (the recharge box's numbers used before).
    document.body.addEventListener("click", function (event) {
      var chip = event.target.closest ? event.target.closest("[data-fill]") : null;
      if (!chip) { return; }
      var input = document.querySelector(chip.getAttribute("data-fill"));
      if (!input) { return; }
      input.value = chip.getAttribute("data-value");
      input.dispatchEvent(new Event("input", { bubbles: true }));
    });
    document.body.addEventListener("htmx:configRequest", function (event) {
      event.detail.headers["X-CSRFToken"] = cookie("csrftoken");
    });
  });
})();
