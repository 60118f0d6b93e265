// CI list: select-all checkbox and the selected count of the bulk edit panel.
(function () {
  "use strict";
  var all = document.getElementById("select-all");
  var boxes = Array.prototype.slice.call(document.querySelectorAll("input.ci-select"));
  var count = document.getElementById("selected-count");
  var submit = document.getElementById("bulk-submit");
  if (!all || !boxes.length) { return; }
  function update() {
    var selected = boxes.filter(function (box) { return box.checked; }).length;
    if (count) { count.textContent = String(selected); }
    if (submit) { submit.disabled = selected === 0; }
    all.checked = selected === boxes.length;
    all.indeterminate = selected > 0 && selected < boxes.length;
  }
  all.addEventListener("change", function () {
    boxes.forEach(function (box) { box.checked = all.checked; });
    update();
  });
  boxes.forEach(function (box) { box.addEventListener("change", update); });
  update();
})();
