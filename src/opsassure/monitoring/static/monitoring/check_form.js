/* The check form shows only the options of the chosen kind, and a target example for it. */
(function () {
  "use strict";
  var kind = document.getElementById("id_kind");
  var target = document.getElementById("id_target");
  if (!kind) { return; }
  var hints = JSON.parse((document.getElementById("target-hints") || {}).textContent || "{}");
  function update() {
    document.querySelectorAll("[data-kind-field]").forEach(function (box) {
      var kinds = box.getAttribute("data-kind-field").split(" ");
      box.hidden = kinds.indexOf(kind.value) < 0;
      box.classList.add("mon-kind-field");
    });
    if (target && hints[kind.value]) { target.placeholder = hints[kind.value]; }
  }
  kind.addEventListener("change", update);
  update();
})();
