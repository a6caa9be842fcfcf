// The request form's size calculator: the total in H100-equivalent hours as the officer types (size x the
// factor of the chosen unit), and what it amounts to on each accepted hardware type. The server recomputes
// the same figures when the form is saved; without script, the form works the same.
(function () {
  "use strict";
  var form = document.getElementById("request-form");
  if (!form) { return; }
  var unit = form.querySelector("#id_size_unit");
  var size = form.querySelector("#id_size");
  var minimum = form.querySelector("#id_min_size");
  var box = document.getElementById("size-total-box");
  var total = document.getElementById("size-total");
  var minimumText = document.getElementById("size-minimum");
  var equivalents = document.getElementById("size-equivalents");
  var texts = document.getElementById("size-texts");
  var language = document.documentElement.lang || undefined;
  var numbers = new Intl.NumberFormat(language, { maximumFractionDigits: 2 });

  function text(name) { return texts.getAttribute("data-" + name); }

  function amount(input) {
    var value = parseFloat(String(input.value).replace(",", "."));
    return isFinite(value) && value >= 0 ? value : null;
  }

  function factor() {
    var option = unit.options[unit.selectedIndex];
    var value = option ? parseFloat(option.getAttribute("data-h100e")) : 1;
    return isFinite(value) && value > 0 ? value : 1;
  }

  function cents(value) { return Math.round(value * 100) / 100; }

  function update() {
    var asked = amount(size);
    if (asked === null || asked === 0) {
      total.textContent = text("none");
      minimumText.textContent = "";
      equivalents.textContent = "";
      return;
    }
    var hours = cents(asked * factor());
    total.textContent = text("total").replace("{hours}", numbers.format(hours));
    var least = amount(minimum);
    minimumText.textContent = least ? text("minimum").replace("{hours}", numbers.format(cents(least * factor()))) : "";
    var items = [];
    form.querySelectorAll("input[name=acceptable_hardware]:checked").forEach(function (box) {
      var h100e = parseFloat(box.getAttribute("data-h100e"));
      if (isFinite(h100e) && h100e > 0) {
        items.push(text("item").replace("{hours}", numbers.format(Math.round(hours / h100e)))
          .replace("{name}", box.getAttribute("data-name")));
      }
    });
    equivalents.textContent = items.length ? text("equivalents").replace("{list}", items.join("; ")) : "";
  }

  box.hidden = false;
  form.addEventListener("input", update);
  form.addEventListener("change", update);
  update();
})();

// After a refused save, take the keyboard and screen reader to the list of mistakes.
(function () {
  "use strict";
  var summary = document.getElementById("error-summary");
  if (summary) { summary.focus(); }
})();
