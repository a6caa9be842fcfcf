// Follows a running allocation: polls the run's progress and reloads the page when it is done.
(function () {
  "use strict";
  var box = document.getElementById("run-progress");
  if (!box) { return; }
  var url = box.getAttribute("data-progress-url");
  var bar = document.getElementById("run-progress-bar");
  var text = document.getElementById("run-progress-text");

  function show(run) {
    var levels = run.levels || 0;
    var total = (run.frozen || 0) + (run.active || 0);
    if (total > 0) {
      bar.value = Math.round(100 * (run.frozen || 0) / total);
    } else {
      bar.removeAttribute("value");
    }
    text.textContent = box.getAttribute("data-template")
      .replace("{status}", run.status_label)
      .replace("{levels}", levels)
      .replace("{frozen}", run.frozen || 0)
      .replace("{total}", total);
  }

  function poll() {
    fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (response) { return response.json(); })
      .then(function (run) {
        show(run);
        if (run.status === "succeeded" || run.status === "failed") {
          window.location.reload();
        } else {
          window.setTimeout(poll, 1000);
        }
      })
      .catch(function () { window.setTimeout(poll, 3000); });
  }
  poll();
})();
