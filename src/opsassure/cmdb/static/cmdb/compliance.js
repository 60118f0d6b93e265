(function () {
  "use strict";
  var element = document.getElementById("compliance-trend");
  if (!element || !window.echarts) { return; }
  var labels = JSON.parse(document.getElementById("compliance-trend-labels").textContent);
  var values = JSON.parse(document.getElementById("compliance-trend-values").textContent);
  var chart = window.echarts.init(element);
  chart.setOption({
    grid: { left: 48, right: 16, top: 16, bottom: 32 },
    tooltip: { trigger: "axis", valueFormatter: function (v) { return v === null ? "—" : v + " %"; } },
    xAxis: { type: "category", data: labels },
    yAxis: { type: "value", min: function (range) { return Math.max(0, Math.floor(range.min - 5)); }, max: 100,
             axisLabel: { formatter: "{value} %" } },
    series: [{ type: "line", data: values, smooth: false, symbolSize: 6, connectNulls: true,
               itemStyle: { color: "#2fb344" }, areaStyle: { opacity: 0.08 } }]
  });
  window.addEventListener("resize", function () { chart.resize(); });
})();
