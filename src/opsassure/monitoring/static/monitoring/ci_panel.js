/* Host metric charts on the CI page (the monitoring panel, loaded by HTMX). Times are
 * wall-clock milliseconds in the user's zone, drawn with useUTC (see monitoring/charts.py). */
(function () {
  "use strict";
  var node = document.getElementById("ci-metric-data");
  if (!node) { return; }
  if (!window.echarts) {
    // The CI page loads ECharts already; elsewhere, fetch it once and draw then.
    var own = document.getElementById("ci-panel-script");
    var loader = document.createElement("script");
    loader.src = own ? own.dataset.echarts : "";
    loader.onload = draw;
    document.head.appendChild(loader);
    return;
  }
  draw();

  function compact(value) {
    if (value >= 1e9) { return (value / 1e9).toFixed(1) + "G"; }
    if (value >= 1e6) { return (value / 1e6).toFixed(0) + "M"; }
    if (value >= 1e4) { return (value / 1e3).toFixed(0) + "k"; }
    return String(value);
  }

  function draw() {
  var metrics = JSON.parse(node.textContent);
  var colours = ["#206bc4", "#2fb344", "#f76707", "#ae3ec9", "#0ca678", "#d63939"];
  document.querySelectorAll("[data-mon-metric]").forEach(function (box) {
    if (box.dataset.rendered) { return; }
    var chart = metrics[box.dataset.monMetric];
    if (!chart) { return; }
    var instance = window.echarts.init(box);
    var percent = box.dataset.monMetric.indexOf("percent") >= 0;
    instance.setOption({
      useUTC: true,
      animation: false,
      color: colours,
      grid: { left: 44, right: 10, top: 10, bottom: 24 },
      tooltip: { trigger: "axis" },
      xAxis: { type: "time", axisLabel: { hideOverlap: true } },
      yAxis: { type: "value", min: 0, max: percent ? 100 : null, axisLabel: { formatter: compact } },
      series: chart.lines.map(function (line) {
        return { name: line.name, type: "line", showSymbol: false, data: line.data, lineStyle: { width: 1.5 } };
      })
    });
    box.dataset.rendered = "1";
    window.addEventListener("resize", function () { instance.resize(); });
  });
  }
})();
