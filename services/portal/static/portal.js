// Progressive enhancement only: every page works without this file.
(function () {
  "use strict";
  // Warn before the session ends, in a live region the screen reader announces.
  var box = document.getElementById("session");
  if (box) {
    var ends = parseInt(box.getAttribute("data-expires-at"), 10) * 1000;
    var before = parseInt(box.getAttribute("data-warn-before"), 10) * 1000;
    var warning = box.querySelector(".warning");
    var warn = function () { warning.textContent = warning.getAttribute("data-warning-text"); };
    var wait = ends - before - Date.now();
    if (wait <= 0) { warn(); } else { setTimeout(warn, Math.min(wait, 2147483000)); }
  }
  // A refused form: move the focus to the list of what to correct.
  var summary = document.getElementById("error-summary");
  if (summary) { summary.focus(); }
  document.addEventListener("click", function (event) {
    if (event.target && event.target.hasAttribute && event.target.hasAttribute("data-print")) { window.print(); }
  });
})();
