// Counts a product page view after the page (possibly from the page cache) has loaded.
(function () {
  "use strict";
  var el = document.querySelector("[data-view-beacon]");
  if (!el || !navigator.sendBeacon) return;
  navigator.sendBeacon(el.getAttribute("data-view-beacon"));
})();
