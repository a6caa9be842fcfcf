// Filters the rows of a table as you type, on the page already loaded; the form's submit button searches every
// page on the server. Progressive enhancement: without this script the form works the same, one submit at a time.
(function () {
  "use strict";
  var input = document.querySelector("input[data-filter-table]");
  if (!input) { return; }
  var table = document.getElementById(input.getAttribute("data-filter-table"));
  var status = document.getElementById(input.getAttribute("data-filter-status"));
  if (!table || !table.tBodies.length) { return; }
  var rows = Array.prototype.slice.call(table.tBodies[0].rows);
  var original = status ? status.textContent : "";
  var template = table.getAttribute("data-filter-template") || "";

  function normalise(text) {
    return text.toLocaleLowerCase().normalize("NFD").replace(/[\u0300-\u036f]/g, "");
  }

  var texts = rows.map(function (row) { return normalise(row.textContent); });

  function apply() {
    var words = normalise(input.value).split(/\s+/).filter(Boolean);
    var shown = 0;
    rows.forEach(function (row, index) {
      var match = words.every(function (word) { return texts[index].indexOf(word) !== -1; });
      row.hidden = !match;
      if (match) { shown += 1; }
    });
    if (status) {
      status.textContent = words.length && template
        ? template.replace("{shown}", shown.toLocaleString(document.documentElement.lang)).replace(
            "{total}", rows.length.toLocaleString(document.documentElement.lang))
        : original;
    }
  }

  input.addEventListener("input", apply);
}());
