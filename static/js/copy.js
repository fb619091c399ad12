/* Copy buttons: a button with data-copy="ID" copies the text of the element with that id.
   The buttons are hidden until this script shows them, so a page without JavaScript shows
   only the text to select. The status line says whether the copy worked. */
(function () {
  "use strict";
  var status = document.getElementById("copy-status");

  function say(key) {
    if (status) { status.textContent = status.getAttribute(key) || ""; }
  }

  function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text);
    }
    // Plain HTTP (a local run): the older selection copy.
    return new Promise(function (resolve, reject) {
      var area = document.createElement("textarea");
      area.value = text;
      area.setAttribute("readonly", "");
      area.style.position = "fixed";
      area.style.opacity = "0";
      document.body.appendChild(area);
      area.select();
      var ok = false;
      try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
      document.body.removeChild(area);
      if (ok) { resolve(); } else { reject(new Error("copy refused")); }
    });
  }

  document.querySelectorAll("button[data-copy]").forEach(function (button) {
    var source = document.getElementById(button.getAttribute("data-copy"));
    if (!source) { return; }
    button.hidden = false;
    button.addEventListener("click", function () {
      copyText(source.textContent.trim()).then(
        function () { say("data-copied"); },
        function () { say("data-failed"); }
      );
    });
  });
})();
