// Donor and provider pages: small enhancements; every page works without them.
// - moves focus to the summary of mistakes, so screen-reader and keyboard users hear it first;
// - after "Add another lot", moves focus to the new lot's first field;
// - asks before an action that cannot be undone (forms with data-confirm).
(function () {
  "use strict";
  var summary = document.getElementById("error-summary");
  if (summary) {
    summary.focus();
  } else {
    var target = document.querySelector("[data-focus-first]");
    if (target) {
      var field = target.querySelector("select, input:not([type=hidden]), textarea");
      if (field) { field.focus(); }
    }
  }
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var question = form.getAttribute && form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) {
      event.preventDefault();
    }
  });
}());
