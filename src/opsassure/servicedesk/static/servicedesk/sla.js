/* Ticks the SLA countdowns down once a second and recolours them as they pass the warning
   thresholds; the server computed the first value, this only keeps it current. */
(function () {
  "use strict";
  if (window.opsassureSlaTicking) return; // a boosted swap may run this script again
  window.opsassureSlaTicking = true;
  var TONES = {
    green: "bg-green-lt text-green",
    amber: "bg-yellow-lt text-yellow",
    red: "bg-red-lt text-red",
  };
  function format(seconds) {
    var sign = seconds < 0 ? "\u2212" : "";
    var total = Math.floor(Math.abs(seconds));
    var days = Math.floor(total / 86400);
    var hours = Math.floor((total % 86400) / 3600);
    var minutes = Math.floor((total % 3600) / 60);
    var secs = total % 60;
    var text;
    if (days) text = days + "d " + hours + "h";
    else if (hours) text = hours + "h " + (minutes < 10 ? "0" : "") + minutes + "m";
    else if (minutes) text = minutes + "m " + (secs < 10 ? "0" : "") + secs + "s";
    else text = secs + "s";
    return sign + text;
  }
  function tone(now, el, remaining) {
    var warn2 = el.dataset.warn2 ? Date.parse(el.dataset.warn2) : null;
    var warn1 = el.dataset.warn1 ? Date.parse(el.dataset.warn1) : null;
    if (remaining <= 0 || (warn2 !== null && now >= warn2)) return "red";
    if (warn1 !== null && now >= warn1) return "amber";
    return el.dataset.tone === "red" ? "red" : "green";
  }
  function tick() {
    var now = Date.now();
    document.querySelectorAll(".sla-clock[data-due]").forEach(function (el) {
      var due = Date.parse(el.dataset.due);
      if (isNaN(due)) return;
      var remaining = (due - now) / 1000;
      var target = el.querySelector(".sla-remaining");
      if (target) target.textContent = format(remaining);
      var next = tone(now, el, remaining);
      if (next !== el.dataset.tone) {
        Object.keys(TONES).forEach(function (key) {
          TONES[key].split(" ").forEach(function (css) { el.classList.remove(css); });
        });
        TONES[next].split(" ").forEach(function (css) { el.classList.add(css); });
        el.dataset.tone = next;
      }
    });
  }
  tick();
  setInterval(tick, 1000);
  document.addEventListener("htmx:afterSwap", tick);
})();
