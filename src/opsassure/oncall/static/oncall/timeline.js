// The on-call week as a timeline: one row per day, 00:00–24:00, a bar per shift coloured by
// person; overrides are hatched. Data comes from json_script (already escaped); labels too.
(function () {
  "use strict";
  const box = document.getElementById("shift-timeline");
  const source = document.getElementById("shift-timeline-data");
  if (!box || !source || typeof echarts === "undefined") return;
  const data = JSON.parse(source.textContent);
  const labels = JSON.parse(document.getElementById("shift-timeline-labels").textContent);
  const palette = ["#206bc4", "#2fb344", "#ae3ec9", "#f59f00", "#17a2b8", "#d63939", "#4263eb", "#0ca678"];
  const rows = data.days.map((day, i) => `${labels.weekdays[data.weekdays[i]]} ${day}`);
  const chart = echarts.init(box);
  const hhmm = (m) => `${String(Math.floor(m / 60)).padStart(2, "0")}:${String(m % 60).padStart(2, "0")}`;
  chart.setOption({
    animation: false,
    grid: { left: 90, right: 16, top: 8, bottom: 28 },
    tooltip: {
      formatter: (p) => echarts.format.encodeHTML(p.data.label + (p.data.override ? ` · ${labels.override}` : "")),
    },
    xAxis: {
      type: "value", min: 0, max: 1440, interval: 180,
      axisLabel: { formatter: hhmm },
      splitLine: { lineStyle: { type: "dashed" } },
    },
    yAxis: { type: "category", data: rows, inverse: true },
    series: [{
      type: "custom",
      encode: { x: [1, 2], y: 0 },
      data: data.bars.map((b) => ({ value: [b.row, b.start, b.end], label: b.label, override: b.override, person: b.person })),
      renderItem: (params, api) => {
        const item = data.bars[params.dataIndex];
        const start = api.coord([api.value(1), api.value(0)]);
        const end = api.coord([api.value(2), api.value(0)]);
        const height = api.size([0, 1])[1] * 0.6;
        const shape = echarts.graphic.clipRectByRect(
          { x: start[0], y: start[1] - height / 2, width: Math.max(end[0] - start[0], 1), height },
          { x: params.coordSys.x, y: params.coordSys.y, width: params.coordSys.width, height: params.coordSys.height },
        );
        if (!shape) return null;
        const colour = palette[item.person % palette.length];
        return {
          type: "group",
          children: [
            {
              type: "rect", shape,
              style: {
                fill: colour, opacity: item.override ? 0.55 : 0.85,
                stroke: item.override ? "#f76707" : null, lineWidth: item.override ? 2 : 0,
              },
            },
            {
              type: "text",
              style: {
                text: shape.width > 60 ? item.label.split(" ").slice(1).join(" ") : "",
                x: shape.x + 4, y: shape.y + shape.height / 2, verticalAlign: "middle",
                fill: "#fff", fontSize: 11, width: shape.width - 8, overflow: "truncate",
              },
            },
          ],
        };
      },
    }],
  });
  window.addEventListener("resize", () => chart.resize());
})();
