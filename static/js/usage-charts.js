// Developer portal and workbench: draws the usage charts from the JSON the page embeds
// (json_script). Each <canvas data-usage-chart="ID"> names the script element with its data:
// {labels: [...], datasets: [{label, data, kind: "bar"|"line", axis: "count"|"ms"}]}.
// Without JavaScript the same figures are in the table under each chart.
(function () {
  "use strict";
  var COLOURS = ["#0071c5", "#c62828", "#2e7d32", "#e65100", "#6a1b9a", "#00838f"];

  function draw(canvas) {
    if (typeof window.Chart === "undefined") { return; }
    var source = document.getElementById(canvas.getAttribute("data-usage-chart"));
    if (!source) { return; }
    var spec = JSON.parse(source.textContent);
    var hasMs = spec.datasets.some(function (d) { return d.axis === "ms"; });
    var scales = { x: { ticks: { maxRotation: 0, autoSkip: true } }, count: { type: "linear", position: "left", beginAtZero: true, ticks: { precision: 0 } } };
    if (hasMs) {
      scales.ms = { type: "linear", position: "right", beginAtZero: true, grid: { drawOnChartArea: false }, title: { display: true, text: "ms" } };
    }
    if (canvas._chart) { canvas._chart.destroy(); }
    canvas._chart = new window.Chart(canvas, {
      data: {
        labels: spec.labels,
        datasets: spec.datasets.map(function (d, i) {
          var colour = COLOURS[i % COLOURS.length];
          return { type: d.kind || "bar", label: d.label, data: d.data, yAxisID: d.axis || "count", backgroundColor: colour, borderColor: colour, pointRadius: 2, tension: 0.2 };
        })
      },
      options: { responsive: true, maintainAspectRatio: false, animation: false, interaction: { mode: "index", intersect: false }, scales: scales }
    });
  }

  function drawAll(root) {
    (root || document).querySelectorAll("canvas[data-usage-chart]").forEach(draw);
  }

  document.addEventListener("DOMContentLoaded", function () {
    drawAll(document);
    // htmx swaps in a new chart fragment when the period or capability changes.
    document.body.addEventListener("htmx:afterSwap", function (event) { drawAll(event.target); });
  });
})();
