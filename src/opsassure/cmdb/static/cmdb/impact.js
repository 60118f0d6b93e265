// CI page: the impact graph (ECharts graph) fed by GET /api/v1/cmdb/cis/<id>/impact/.
// Nodes are coloured by CI type, one column per hop; clicking a node opens that CI's page.
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
  var impactDirections = data("impact-directions");
  var rootId = Number(element.dataset.root);
  var status = document.getElementById("impact-status");
  var depthSelect = document.getElementById("impact-depth");
  var chart = echarts.init(element);
  var request = 0;
  var MARGIN = { top: 30, bottom: 50, left: 60, right: 140 };
  // One colour per CI type, the same on every page (types in their display order).
  var PALETTE = ["#206bc4", "#2fb344", "#f76707", "#ae3ec9", "#d63939", "#0ca678", "#f59f00",
    "#4263eb", "#17a2b8", "#74b816", "#d6336c", "#495057"];
  var typeCodes = Object.keys(typeNames);
  function typeColour(code) {
    var index = typeCodes.indexOf(code);
    return PALETTE[(index < 0 ? typeCodes.length : index) % PALETTE.length];
  }

  function direction() {
    var checked = document.querySelector('input[name="impact-direction"]:checked');
    return checked ? checked.value : "downstream";
  }

  function detailUrl(id) {
    return element.dataset.detailUrl.replace(/\/0\/$/, "/" + id + "/");
  }

  // Layered layout: one column per hop, the failing CI on the left (downstream) or the CIs it
  // needs on the left (upstream), so arrows always point the way a failure travels.
  function positions(graph, upstream) {
    var levels = {};
    graph.nodes.forEach(function (node) {
      (levels[node.level] = levels[node.level] || []).push(node);
    });
    var levelKeys = Object.keys(levels).map(Number).sort(function (a, b) { return a - b; });
    var tallest = Math.max.apply(null, levelKeys.map(function (l) { return levels[l].length; }));
    // Spacing in screen pixels of the panel, so a small graph fills it and a big one stays legible.
    var width = Math.max(element.clientWidth - MARGIN.left - MARGIN.right, 200);
    var height = Math.max(element.clientHeight - MARGIN.top - MARGIN.bottom, 100);
    var columnGap = Math.min(Math.max((width - 200) / Math.max(levelKeys.length - 1, 1), 160), 320);
    var rowGap = Math.min(Math.max(height / Math.max(tallest, 1), 44), 110);
    var predecessors = {};
    graph.edges.forEach(function (edge) {
      (predecessors[edge.to] = predecessors[edge.to] || []).push(edge.from);
    });
    var rowOf = {};
    var place = {};
    levelKeys.forEach(function (level) {
      var column = levels[level];
      column.forEach(function (node) {
        var rows = (predecessors[node.id] || []).map(function (id) { return rowOf[id]; })
          .filter(function (row) { return row !== undefined; });
        node.sortKey = rows.length ? rows.reduce(function (a, b) { return a + b; }, 0) / rows.length : 0;
      });
      column.sort(function (a, b) { return a.sortKey - b.sortKey || a.name.localeCompare(b.name); });
      column.forEach(function (node, index) {
        rowOf[node.id] = index - (column.length - 1) / 2;
        place[node.id] = { x: (upstream ? -1 : 1) * level * columnGap, y: rowOf[node.id] * rowGap };
      });
    });
    return place;
  }

  // ECharts fits the nodes' bounding box into the panel, scaling x and y separately; two
  // invisible corner nodes give the box the panel's aspect ratio, so the scale is uniform.
  function aspectPadding(nodes) {
    var width = Math.max(element.clientWidth - MARGIN.left - MARGIN.right, 100);
    var height = Math.max(element.clientHeight - MARGIN.top - MARGIN.bottom, 100);
    var xs = nodes.map(function (n) { return n.x; });
    var ys = nodes.map(function (n) { return n.y; });
    var minX = Math.min.apply(null, xs) - 110, maxX = Math.max.apply(null, xs) + 110;
    var minY = Math.min.apply(null, ys) - 50, maxY = Math.max.apply(null, ys) + 50;
    var ratio = width / height;
    if ((maxX - minX) / (maxY - minY) > ratio) {
      var extraY = ((maxX - minX) / ratio - (maxY - minY)) / 2;
      minY -= extraY; maxY += extraY;
    } else {
      var extraX = ((maxY - minY) * ratio - (maxX - minX)) / 2;
      minX -= extraX; maxX += extraX;
    }
    function corner(id, x, y) {
      return { id: id, name: "", x: x, y: y, symbolSize: 0, silent: true,
        label: { show: false }, tooltip: { show: false }, emphasis: { disabled: true } };
    }
    return [corner("pad-a", minX, minY), corner("pad-b", maxX, maxY)];
  }

  function relationText(edge, upstream) {
    // The API gives edges in the direction of the walk; say who relates to whom.
    var toSource = impactDirections[edge.type] === "to_source";
    var sourceId = (toSource !== upstream) ? edge.to : edge.from;
    var targetId = sourceId === edge.to ? edge.from : edge.to;
    return [sourceId, relationLabels[edge.type] || edge.type, targetId];
  }

  var shown = null;

  function render(graph) {
    shown = graph;
    var upstream = graph.direction === "upstream";
    var codes = [];
    var names = {};
    graph.nodes.forEach(function (node) {
      names[node.id] = node.name;
      if (codes.indexOf(node.type) < 0) { codes.push(node.type); }
    });
    var categories = codes.map(function (code) {
      return { name: typeNames[code] || code, itemStyle: { color: typeColour(code) } };
    });
    var place = positions(graph, upstream);
    var nodes = graph.nodes.map(function (node) {
      var isRoot = node.id === rootId;
      return {
        id: String(node.id),
        name: node.name,
        ciId: node.id,
        x: place[node.id].x,
        y: place[node.id].y,
        category: codes.indexOf(node.type),
        typeName: typeNames[node.type] || node.type,
        statusName: statusLabels[node.status] || node.status,
        level: node.level,
        symbolSize: isRoot ? 44 : 30,
        itemStyle: isRoot ? { borderColor: "#1d273b", borderWidth: 3 } : undefined,
        label: { show: true, fontWeight: isRoot ? "bold" : "normal" }
      };
    });
    nodes = nodes.concat(aspectPadding(nodes));
    var links = graph.edges.map(function (edge) {
      var parts = relationText(edge, upstream);
      return {
        // Arrows follow the failure: from what breaks to what is affected.
        source: String(upstream ? edge.to : edge.from),
        target: String(upstream ? edge.from : edge.to),
        relation: relationLabels[edge.type] || edge.type,
        sentence: names[parts[0]] + " " + parts[1] + " " + names[parts[2]]
      };
    });
    chart.setOption({
      tooltip: {
        formatter: function (item) {
          if (item.dataType === "edge") { return encode(item.data.sentence); }
          var d = item.data;
          return "<strong>" + encode(d.name) + "</strong><br>" + encode(d.typeName) + " · " +
            encode(d.statusName) + "<br>" + encode(element.dataset.levelText) + ": " + d.level;
        }
      },
      legend: [{ data: categories.map(function (c) { return c.name; }), bottom: 0, type: "scroll" }],
      animationDurationUpdate: 300,
      series: [{
        type: "graph",
        layout: "none",
        roam: true,
        draggable: true,
        top: MARGIN.top,
        bottom: MARGIN.bottom,
        left: MARGIN.left,
        right: MARGIN.right,
        categories: categories,
        data: nodes,
        links: links,
        edgeSymbol: ["none", "arrow"],
        edgeSymbolSize: 9,
        label: { position: "bottom", distance: 4, formatter: "{b}", fontSize: 12 },
        edgeLabel: {
          show: links.length <= 30,
          formatter: function (e) { return e.data.relation; },
          fontSize: 10,
          color: "#667382"
        },
        lineStyle: { color: "#9aa0ac", curveness: 0, width: 1.5 },
        emphasis: { focus: "adjacency", lineStyle: { width: 3, color: "#206bc4" } }
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
    if (item.dataType === "node" && item.data.ciId && item.data.ciId !== rootId) {
      window.location.href = detailUrl(item.data.ciId);
    }
  });
  document.querySelectorAll('input[name="impact-direction"]').forEach(function (input) {
    input.addEventListener("change", load);
  });
  depthSelect.addEventListener("change", load);
  window.addEventListener("resize", function () {
    chart.resize();
    if (shown) { render(shown); }
  });
  load();
})();
