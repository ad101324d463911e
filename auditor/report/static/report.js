"use strict";
(function () {
  function cellValue(row, i) {
    var c = row.cells[i];
    if (!c) return "";
    var k = c.getAttribute("data-k");
    return k !== null ? k : c.textContent.trim();
  }
  function sortBy(table, i, th) {
    var body = table.tBodies[0];
    var asc = th.getAttribute("aria-sort") !== "ascending";
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var x = cellValue(a, i), y = cellValue(b, i), nx = parseFloat(x), ny = parseFloat(y);
      var r = (!isNaN(nx) && !isNaN(ny) && String(nx) === x && String(ny) === y) ? nx - ny : x.localeCompare(y);
      return asc ? r : -r;
    });
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (h) { h.removeAttribute("aria-sort"); });
    th.setAttribute("aria-sort", asc ? "ascending" : "descending");
    rows.forEach(function (r) { body.appendChild(r); });
  }
  document.querySelectorAll("table.sortable").forEach(function (table) {
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, i) {
      th.addEventListener("click", function () { sortBy(table, i, th); });
    });
  });
  document.querySelectorAll("[data-filter]").forEach(function (box) {
    var target = document.getElementById(box.getAttribute("data-filter"));
    var text = box.querySelector("input"), status = box.querySelector("select");
    function apply() {
      var q = text.value.trim().toLowerCase(), s = status ? status.value : "";
      target.querySelectorAll("[data-row]").forEach(function (el) {
        var ok = (!q || el.textContent.toLowerCase().indexOf(q) >= 0) &&
                 (!s || (" " + el.getAttribute("data-st") + " ").indexOf(" " + s + " ") >= 0);
        el.classList.toggle("hidden", !ok);
      });
    }
    text.addEventListener("input", apply);
    if (status) status.addEventListener("change", apply);
  });
  window.addEventListener("beforeprint", function () {
    document.querySelectorAll("details").forEach(function (d) { d.setAttribute("open", ""); });
  });
})();
