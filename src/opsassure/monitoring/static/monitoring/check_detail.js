/* A check's response-time and availability charts (ECharts, vendored).
 *
 * Times arrive as wall-clock milliseconds in the user's zone (see monitoring/charts.py), so
 * both charts run with useUTC: ticks and labels are the user's local hours and days whatever
 * zone the browser is in. The window buttons fetch the other periods without a reload.
 */
(function () {
  "use strict";
  var config = document.getElementById("check-chart-config");
  var dataNode = document.getElementById("check-chart-data");
  var responseNode = document.getElementById("response-chart");
  var availabilityNode = document.getElementById("availability-chart");
  if (!config || !dataNode || !responseNode || !availabilityNode || !window.echarts) { return; }
  var echarts = window.echarts;
  var text = config.dataset;
  var status = document.getElementById("chart-status");
  var responseChart = echarts.init(responseNode);
  var availabilityChart = echarts.init(availabilityNode);
  var GREEN = "#2fb344", YELLOW = "#f59f00", ORANGE = "#f76707", RED = "#d63939", BLUE = "#206bc4";

  function fmt(t, withDate) {
    return echarts.time.format(t, withDate ? "{yyyy}-{MM}-{dd} {HH}:{mm}" : "{HH}:{mm}", true);
  }

  function colourFor(pct) {
    if (pct === null || pct === undefined) { return "#dce1e7"; }
    if (pct >= 99.9) { return GREEN; }
    if (pct >= 99) { return YELLOW; }
    if (pct >= 95) { return ORANGE; }
    return RED;
  }

  function render(data) {
    var daily = data.window !== "24h";
    var series;
    if (daily) {
      series = [
        {
          name: text.average, type: "line", showSymbol: false, smooth: true,
          data: data.response.map(function (p) { return [p[0], p[1]]; }),
          lineStyle: { width: 2, color: BLUE }, itemStyle: { color: BLUE },
          areaStyle: { opacity: 0.12, color: BLUE }
        },
        {
          name: text.maximum, type: "line", showSymbol: false,
          data: data.response.map(function (p) { return [p[0], p[2]]; }),
          lineStyle: { width: 1, type: "dashed", color: ORANGE }, itemStyle: { color: ORANGE }
        }
      ];
    } else {
      series = [{
        name: text.response, type: "line", showSymbol: false, connectNulls: false,
        data: data.response, sampling: "lttb",
        lineStyle: { width: 1.5, color: BLUE }, itemStyle: { color: BLUE },
        areaStyle: { opacity: 0.12, color: BLUE }
      }];
    }
    series.push({
      name: text.down, type: "scatter", symbol: "rect", symbolSize: [4, 10],
      data: data.down.map(function (p) { return [p[0], 0]; }),
      itemStyle: { color: RED }, z: 5
    });
    responseChart.setOption({
      useUTC: true,
      animation: false,
      grid: { left: 56, right: 20, top: 30, bottom: 30 },
      legend: { top: 0, right: 0 },
      tooltip: {
        trigger: "axis",
        valueFormatter: function (v) { return v === null || v === undefined ? "—" : Math.round(v) + " ms"; }
      },
      xAxis: { type: "time", min: data.start, max: data.end, axisLabel: { hideOverlap: true } },
      yAxis: { type: "value", name: "ms", min: 0, splitLine: { lineStyle: { type: "dashed" } } },
      series: series
    }, true);
    var bucket = daily ? 86400000 : 3600000;
    availabilityChart.setOption({
      useUTC: true,
      animation: false,
      grid: { left: 56, right: 20, top: 10, bottom: 30 },
      tooltip: {
        trigger: "axis",
        formatter: function (items) {
          var item = items[0];
          var value = item.value[1];
          return fmt(item.value[0], true) + "<br>" + text.availability + ": " +
            (value === null ? "—" : value.toFixed(3) + "%");
        }
      },
      xAxis: { type: "time", min: data.start - bucket / 2, max: data.end + bucket / 2, axisLabel: { hideOverlap: true } },
      yAxis: {
        type: "value", max: 100,
        min: function (range) { return Math.max(0, Math.floor(Math.min(range.min, 99) - 1)); },
        axisLabel: { formatter: "{value}%" }
      },
      series: [{
        type: "bar", barMaxWidth: 24, barMinHeight: 2,
        data: data.availability.map(function (p) {
          return { value: p, itemStyle: { color: colourFor(p[1]), borderRadius: [3, 3, 0, 0] } };
        })
      }]
    }, true);
    var unit = document.getElementById("availability-unit");
    if (unit) { unit.textContent = "(" + (daily ? unit.dataset.day : unit.dataset.hour) + ")"; }
    status.textContent = data.response.length ? "" : text.empty;
    summary(data.summary);
    responseNode.dataset.rendered = data.window;
    availabilityNode.dataset.rendered = data.window;
  }

  function summary(values) {
    var box = document.querySelector('[data-testid="chart-summary"]');
    if (!box) { return; }
    box.querySelectorAll("[data-field]").forEach(function (node) {
      var value = values[node.dataset.field];
      if (value === null || value === undefined) { node.textContent = "—"; return; }
      if (node.dataset.field === "availability") { node.textContent = value.toFixed(3) + "%"; return; }
      if (node.dataset.field.slice(-3) === "_ms") { node.textContent = Math.round(value) + " ms"; return; }
      node.textContent = String(value);
    });
  }

  function load(name) {
    var url = config.dataset.url + "?window=" + encodeURIComponent(name);
    fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (response) {
        if (!response.ok) { throw new Error(String(response.status)); }
        return response.json();
      })
      .then(function (data) {
        render(data);
        history.replaceState(null, "", "?window=" + encodeURIComponent(name));
      })
      .catch(function () { status.textContent = text.error; });
  }

  document.querySelectorAll('[data-testid="windows"] [data-window]').forEach(function (link) {
    link.addEventListener("click", function (event) {
      event.preventDefault();
      document.querySelectorAll('[data-testid="windows"] [data-window]').forEach(function (other) {
        var active = other === link;
        other.classList.toggle("btn-primary", active);
        other.classList.toggle("active", active);
        other.setAttribute("aria-pressed", active ? "true" : "false");
      });
      load(link.dataset.window);
    });
  });

  render(JSON.parse(dataNode.textContent));
  window.addEventListener("resize", function () { responseChart.resize(); availabilityChart.resize(); });
})();
