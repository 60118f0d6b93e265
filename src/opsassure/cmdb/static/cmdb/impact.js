// CI page: the impact graph (ECharts force layout) fed by GET /api/v1/cmdb/cis/<id>/impact/.
// Nodes are coloured by CI type; clicking a node opens that CI's page.
(function () {
  "use strict";
  var element = document.getElementById("impact-graph");
  if (!element || !window.echarts) { return; }
  var echarts = window.echarts;
  var encode = echarts.format.encodeHTML;
  function data(id) {
    var node = document.getElementById(id);
    return node ? JSON.parse(node.textContent) : {};
  }
  var typeNames = data("ci-type-names");
  var relationLabels = data("relation-labels");
  var statusLabels = data("status-labels");
  var rootId = Number(element.dataset.root);
  var status = document.getElementById("impact-status");
  var depthSelect = document.getElementById("impact-depth");
  var chart = echarts.init(element);
  var request = 0;

  function direction() {
    var checked = document.querySelector('input[name="impact-direction"]:checked');
    return checked ? checked.value : "downstream";
  }

  function detailUrl(id) {
    return element.dataset.detailUrl.replace(/\/0\/$/, "/" + id + "/");
  }

  function render(graph) {
    var codes = [];
    graph.nodes.forEach(function (node) {
      if (codes.indexOf(node.type) < 0) { codes.push(node.type); }
    });
    var categories = codes.map(function (code) { return { name: typeNames[code] || code }; });
    var nodes = graph.nodes.map(function (node) {
      var isRoot = node.id === rootId;
      return {
        id: String(node.id),
        name: node.name,
        ciId: node.id,
        category: codes.indexOf(node.type),
        typeName: typeNames[node.type] || node.type,
        statusName: statusLabels[node.status] || node.status,
        level: node.level,
        symbolSize: isRoot ? 44 : Math.max(18, 32 - 3 * node.level),
        itemStyle: isRoot ? { borderColor: "#1d273b", borderWidth: 3 } : undefined,
        label: { show: true, fontWeight: isRoot ? "bold" : "normal" }
      };
    });
    var links = graph.edges.map(function (edge) {
      return {
        source: String(edge.from),
        target: String(edge.to),
        relation: relationLabels[edge.type] || edge.type
      };
    });
    chart.setOption({
      tooltip: {
        formatter: function (item) {
          if (item.dataType === "edge") { return encode(item.data.relation); }
          var d = item.data;
          return "<strong>" + encode(d.name) + "</strong><br>" + encode(d.typeName) + " · " +
            encode(d.statusName) + "<br>" + encode(element.dataset.levelText) + ": " + d.level;
        }
      },
      legend: [{ data: categories.map(function (c) { return c.name; }), bottom: 0, type: "scroll" }],
      animationDurationUpdate: 300,
      series: [{
        type: "graph",
        layout: "force",
        roam: true,
        draggable: true,
        categories: categories,
        data: nodes,
        links: links,
        edgeSymbol: ["none", "arrow"],
        edgeSymbolSize: 8,
        label: { position: "right", formatter: "{b}" },
        edgeLabel: { show: links.length <= 30, formatter: function (e) { return e.data.relation; }, fontSize: 10, color: "#667382" },
        lineStyle: { color: "source", curveness: 0.15, width: 1.5, opacity: 0.8 },
        emphasis: { focus: "adjacency", lineStyle: { width: 3 } },
        force: { repulsion: 260, edgeLength: [70, 150], gravity: 0.08 }
      }]
    }, true);
    var notes = [];
    if (graph.nodes.length <= 1) { notes.push(element.dataset.emptyText); }
    if (graph.truncated) { notes.push(element.dataset.truncatedText); }
    status.textContent = notes.join(" ");
  }

  function load() {
    var mine = ++request;
    var url = element.dataset.url + "?direction=" + encodeURIComponent(direction()) +
      "&depth=" + encodeURIComponent(depthSelect.value);
    chart.showLoading();
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) { throw new Error(String(response.status)); }
        return response.json();
      })
      .then(function (graph) {
        if (mine !== request) { return; }
        chart.hideLoading();
        render(graph);
      })
      .catch(function () {
        if (mine !== request) { return; }
        chart.hideLoading();
        status.textContent = element.dataset.errorText;
      });
  }

  chart.on("click", function (item) {
    if (item.dataType === "node" && item.data.ciId !== rootId) {
      window.location.href = detailUrl(item.data.ciId);
    }
  });
  document.querySelectorAll('input[name="impact-direction"]').forEach(function (input) {
    input.addEventListener("change", load);
  });
  depthSelect.addEventListener("change", load);
  window.addEventListener("resize", function () { chart.resize(); });
  load();
})();
