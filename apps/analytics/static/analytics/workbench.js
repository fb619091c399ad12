// Workbench lists: a bulk action asks for confirmation (what, on how many rows) before it runs.
// Django's own delete asks on a page of its own, so it is let through.
(function () {
  "use strict";
  function init() {
    var form = document.getElementById("changelist-form");
    if (!form) return;
    form.addEventListener("submit", function (event) {
      var submitter = event.submitter;
      if (!submitter || submitter.name !== "index") return; // not the action button
      var select = form.querySelectorAll("select[name=action]")[Number(submitter.value) || 0];
      if (!select || !select.value || select.value === "delete_selected") return;
      var label = select.options[select.selectedIndex].text;
      var across = form.querySelector("input[name=select_across]");
      var counter = document.querySelector(".action-counter");
      var count = across && across.value === "1" ? (document.querySelector(".question a, .all") || {}).textContent : null;
      var chosen = form.querySelectorAll("input.action-select:checked").length;
      var what = count || (counter ? counter.textContent.trim() : String(chosen));
      var template = document.documentElement.lang && document.documentElement.lang.indexOf("zh") === 0
        ? "确定对所选项（{n}）执行「{a}」吗？" : "Apply “{a}” to the selected rows ({n})?";
      if (!window.confirm(template.replace("{a}", label).replace("{n}", what))) event.preventDefault();
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
