(function () {
  "use strict";
  var table = document.getElementById("findings-table");
  if (!table) { return; }
  var body = table.tBodies[0];
  var rows = Array.prototype.slice.call(body.rows);
  var search = document.getElementById("findings-search");
  var shown = document.getElementById("findings-shown");
  var chips = Array.prototype.slice.call(document.querySelectorAll("button[data-status]"));

  rows.forEach(function (row, i) { row.setAttribute("data-pos", String(i)); });

  function cellKey(row, col) {
    var cell = row.cells[col];
    var key = cell.getAttribute("data-key");
    return key === null ? cell.textContent.trim().toLowerCase() : key;
  }

  function compare(a, b, col, numeric) {
    var x = cellKey(a, col), y = cellKey(b, col);
    if (numeric) { return Number(x) - Number(y); }
    return x < y ? -1 : (x > y ? 1 : 0);
  }

  Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, col) {
    var button = th.querySelector("button.sort");
    if (!button) { return; }
    button.addEventListener("click", function () {
      var ascending = th.getAttribute("aria-sort") !== "ascending";
      Array.prototype.forEach.call(table.tHead.rows[0].cells, function (other) { other.removeAttribute("aria-sort"); });
      th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
      var numeric = th.getAttribute("data-type") === "number";
      rows.sort(function (a, b) {
        var c = compare(a, b, col, numeric);
        if (!ascending) { c = -c; }
        return c !== 0 ? c : Number(a.getAttribute("data-pos")) - Number(b.getAttribute("data-pos"));
      });
      rows.forEach(function (row) { body.appendChild(row); });
    });
  });

  function applyFilter() {
    var wanted = {};
    chips.forEach(function (chip) { wanted[chip.getAttribute("data-status")] = chip.getAttribute("aria-pressed") === "true"; });
    var text = search ? search.value.trim().toLowerCase() : "";
    var count = 0;
    rows.forEach(function (row) {
      var visible = wanted[row.getAttribute("data-status")] !== false &&
        (text === "" || row.textContent.toLowerCase().indexOf(text) !== -1);
      row.hidden = !visible;
      if (visible) { count += 1; }
    });
    if (shown) { shown.textContent = "Showing " + count + " of " + rows.length + " checks"; }
  }

  chips.forEach(function (chip) {
    chip.addEventListener("click", function () {
      chip.setAttribute("aria-pressed", chip.getAttribute("aria-pressed") === "true" ? "false" : "true");
      applyFilter();
    });
  });
  if (search) { search.addEventListener("input", applyFilter); }

  var gapsOnly = document.getElementById("filter-gaps");
  var showAll = document.getElementById("filter-all");
  function setChips(predicate) {
    chips.forEach(function (chip) { chip.setAttribute("aria-pressed", predicate(chip) ? "true" : "false"); });
    applyFilter();
  }
  if (gapsOnly) {
    gapsOnly.addEventListener("click", function () {
      setChips(function (chip) { return chip.getAttribute("data-gap") === "true"; });
    });
  }
  if (showAll) { showAll.addEventListener("click", function () { setChips(function () { return true; }); }); }

  window.addEventListener("beforeprint", function () {
    Array.prototype.forEach.call(document.querySelectorAll("details"), function (d) { d.open = true; });
  });
  applyFilter();
}());
