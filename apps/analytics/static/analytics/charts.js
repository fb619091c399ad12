// Draws the analytics page's charts with ECharts from the JSON the server rendered.
(function () {
  "use strict";
  function option(chart, emptyText) {
    var series = chart.series;
    var empty = !series.some(function (s) { return s.values.some(function (v) { return v; }); });
    var base = {
      title: empty ? { text: emptyText, left: "center", top: "middle", textStyle: { color: "#999", fontSize: 14 } } : undefined,
      tooltip: { trigger: chart.type === "pie" || chart.type === "funnel" ? "item" : "axis" },
      legend: { top: 0, type: "scroll" },
      animation: false,
    };
    if (chart.type === "pie" || chart.type === "funnel") {
      base.series = [{
        type: chart.type, name: series[0] ? series[0].name : "", top: 40,
        radius: chart.type === "pie" ? ["30%", "65%"] : undefined,
        sort: chart.type === "funnel" ? "none" : undefined,
        data: chart.x.map(function (x, i) { return { name: x, value: series[0] ? series[0].values[i] : 0 }; }),
      }];
      return base;
    }
    base.grid = { left: 60, right: 20, top: 40, bottom: 40 };
    base.xAxis = { type: "category", data: chart.x };
    // Yuan and counts side by side get an axis each (yuan left, counts right).
    var mixed = series.some(function (s) { return s.money; }) && series.some(function (s) { return !s.money; });
    base.yAxis = mixed ? [{ type: "value", name: "¥" }, { type: "value" }] : { type: "value" };
    if (mixed) base.grid.right = 60;
    base.series = series.map(function (s) {
      return {
        type: chart.type, name: s.name, data: s.values, connectNulls: false,
        showSymbol: chart.x.length < 40, yAxisIndex: mixed && !s.money ? 1 : 0,
      };
    });
    return base;
  }
  function draw() {
    var data = JSON.parse(document.getElementById("analytics-charts").textContent);
    var emptyText = document.getElementById("analytics-empty-text").textContent;
    var drawn = [];
    document.querySelectorAll("[data-chart]").forEach(function (el) {
      var chart = data[Number(el.dataset.chart)];
      var instance = window.echarts.init(el, null, { renderer: "canvas" });
      instance.setOption(option(chart, emptyText));
      el.dataset.rendered = "1";
      drawn.push(instance);
    });
    window.addEventListener("resize", function () { drawn.forEach(function (c) { c.resize(); }); });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", draw);
  else draw();
})();
