// The report's only script: sorting and filtering of the findings table. It reads and moves
// existing rows and sets text; it never parses markup. Without it the table reads as it is.
(function () {
  "use strict";
  var table = document.getElementById("findings");
  var form = document.getElementById("filters");
  if (!table || !form) {
    return;
  }
  var head = table.querySelector("thead");
  // the rows sit in several bodies (tables of 500 the browser lays out only when near)
  var bodies = Array.prototype.slice.call(table.querySelectorAll("tbody"));
  var sizes = bodies.map(function (body) { return body.rows.length; });
  var rows = [];
  bodies.forEach(function (body) {
    rows = rows.concat(Array.prototype.slice.call(body.rows));
  });
  var shown = document.getElementById("shown-count");
  var PATH = 4;  // the column the path filter reads

  function matches(row, values) {
    return (!values.provider || row.dataset.provider === values.provider) &&
      (!values.exposure || row.dataset.exposure === values.exposure) &&
      (!values.verdict || row.dataset.verdict === values.verdict) &&
      (!values.path || row.cells[PATH].textContent.toLowerCase().indexOf(values.path) !== -1);
  }

  function filter() {
    var values = {
      provider: form.elements.provider.value,
      exposure: form.elements.exposure.value,
      verdict: form.elements.verdict.value,
      path: form.elements.path.value.trim().toLowerCase()
    };
    var count = 0;
    rows.forEach(function (row) {
      var keep = matches(row, values);
      row.hidden = !keep;
      count += keep ? 1 : 0;
    });
    shown.textContent = String(count);
  }

  function sortKey(row, index, numeric) {
    var cell = row.cells[index];
    var value = cell.hasAttribute("data-sort") ? cell.getAttribute("data-sort") : cell.textContent;
    return numeric ? Number(value) : value.toLowerCase();
  }

  function sortBy(header, index) {
    var descending = header.getAttribute("aria-sort") === "ascending";
    var numeric = header.getAttribute("data-type") === "number";
    Array.prototype.forEach.call(header.parentNode.cells, function (cell) {
      cell.removeAttribute("aria-sort");
    });
    header.setAttribute("aria-sort", descending ? "descending" : "ascending");
    var keyed = rows.map(function (row, position) {
      return { row: row, key: sortKey(row, index, numeric), position: position };
    });
    keyed.sort(function (a, b) {
      var order = a.key < b.key ? -1 : (a.key > b.key ? 1 : a.position - b.position);
      return descending && a.key !== b.key ? -order : order;
    });
    rows = keyed.map(function (item) { return item.row; });
    // fill detached bodies and swap them in: one layout instead of one per moved row
    var start = 0;
    bodies = bodies.map(function (body, part) {
      var sorted = body.cloneNode(false);
      rows.slice(start, start + sizes[part]).forEach(function (row) { sorted.appendChild(row); });
      start += sizes[part];
      body.parentNode.replaceChild(sorted, body);
      return sorted;
    });
  }

  Array.prototype.forEach.call(head.rows[0].cells, function (header, index) {
    var button = document.createElement("button");
    button.type = "button";
    button.textContent = header.textContent;
    header.textContent = "";
    header.appendChild(button);
    button.addEventListener("click", function () { sortBy(header, index); });
  });
  form.addEventListener("input", filter);
  form.addEventListener("change", filter);
  form.addEventListener("submit", function (event) { event.preventDefault(); });
  form.hidden = false;
}());
