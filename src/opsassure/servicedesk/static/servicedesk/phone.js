/* Quick create: Ctrl+Enter (or Cmd+Enter) saves from any field. */
(function () {
  "use strict";
  var form = document.getElementById("phone-form");
  if (!form) return;
  form.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      form.requestSubmit();
    }
  });
})();
