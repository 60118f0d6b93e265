(function () {
  "use strict";
  var source = document.getElementById("kpi-charts");
  if (!source || !window.echarts) { return; }
  var data = JSON.parse(source.textContent);
  var charts = [];

  function draw(id, option) {
    var element = document.getElementById(id);
    if (!element) { return; }
    var chart = window.echarts.init(element);
    chart.setOption(option);
    charts.push(chart);
  }
  function percent(v) { return v === null || v === undefined ? "—" : v + " %"; }

  draw("kpi-weekly", {
    grid: { left: 40, right: 16, top: 32, bottom: 32 },
    legend: { top: 0 },
    tooltip: { trigger: "axis" },
    xAxis: { type: "category", data: data.weekly.weeks },
    yAxis: { type: "value", minInterval: 1 },
    series: data.weekly.series.map(function (s) {
      return { name: s.name, type: "bar", stack: "kind", data: s.data };
    })
  });
  draw("kpi-sla", {
    grid: { left: 48, right: 16, top: 32, bottom: 32 },
    legend: { top: 0 },
    tooltip: { trigger: "axis", valueFormatter: percent },
    xAxis: { type: "category", data: data.sla_by_priority.priorities },
    yAxis: { type: "value", min: 0, max: 100, axisLabel: { formatter: "{value} %" } },
    series: data.sla_by_priority.series.map(function (s) {
      return { name: s.name, type: "bar", data: s.data };
    })
  });
  draw("kpi-mttr", {
    grid: { left: 48, right: 16, top: 32, bottom: 32 },
    legend: { top: 0 },
    tooltip: { trigger: "axis" },
    xAxis: { type: "category", data: data.mttr_trend.months },
    yAxis: { type: "value", axisLabel: { formatter: "{value} h" } },
    series: data.mttr_trend.series.map(function (s) {
      return { name: s.name, type: "line", data: s.data, connectNulls: true, symbolSize: 6 };
    })
  });
  draw("kpi-satisfaction", {
    grid: { left: 40, right: 16, top: 16, bottom: 32 },
    tooltip: { trigger: "axis" },
    xAxis: { type: "category", data: data.satisfaction.scores },
    yAxis: { type: "value", minInterval: 1 },
    series: [{ type: "bar", data: data.satisfaction.data, itemStyle: { color: "#2fb344" } }]
  });
  draw("kpi-backlog", {
    grid: { left: 40, right: 16, top: 16, bottom: 48 },
    tooltip: { trigger: "axis" },
    xAxis: { type: "category", data: data.backlog.buckets, axisLabel: { interval: 0, rotate: 20 } },
    yAxis: { type: "value", minInterval: 1 },
    series: [{ type: "bar", data: data.backlog.data, itemStyle: { color: "#f59f00" } }]
  });
  window.addEventListener("resize", function () {
    charts.forEach(function (chart) { chart.resize(); });
  });
})();
