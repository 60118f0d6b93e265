(function () {
  "use strict";
  var element = document.getElementById("activity-chart");
  if (!element || !window.echarts) { return; }
  var days = JSON.parse(document.getElementById("activity-days").textContent);
  var counts = JSON.parse(document.getElementById("activity-counts").textContent);
  var chart = window.echarts.init(element);
  chart.setOption({
    grid: { left: 40, right: 16, top: 16, bottom: 32 },
    tooltip: { trigger: "axis" },
    xAxis: { type: "category", data: days },
    yAxis: { type: "value", minInterval: 1 },
    series: [{ type: "bar", data: counts, itemStyle: { color: "#206bc4" } }]
  });
  window.addEventListener("resize", function () { chart.resize(); });
})();
