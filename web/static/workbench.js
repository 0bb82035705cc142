// hegui 审核工作台: filters, finding ↔ cell, nothing else. Plain JavaScript, no libraries.
(function () {
  "use strict";
  var findings = Array.prototype.slice.call(document.querySelectorAll("li.finding"));

  function byId(id) { return id ? document.getElementById(id) : null; }

  function clearMarks() {
    document.querySelectorAll("td.focus, td.evidence").forEach(function (td) { td.classList.remove("focus", "evidence"); });
    findings.forEach(function (li) { li.classList.remove("selected"); });
  }

  function showCell(id) {
    var cell = byId(id);
    if (!cell) { return; }
    document.querySelectorAll("td.focus").forEach(function (td) { td.classList.remove("focus"); });
    void cell.offsetWidth; // restart the flash
    cell.classList.add("focus");
    cell.scrollIntoView({ block: "center", inline: "nearest"});
  }

  function select(li, jump) {
    clearMarks();
    li.classList.add("selected");
    (li.dataset.evidence || "").split(" ").forEach(function (id) { var c = byId(id); if (c) { c.classList.add("evidence"); } });
    var cells = (li.dataset.cells || "").split(" ").filter(Boolean);
    cells.forEach(function (id) { var c = byId(id); if (c) { c.classList.add("focus"); } });
    if (jump && cells.length) { showCell(cells[0]); }
  }

  findings.forEach(function (li) {
    var details = li.querySelector("details");
    details.addEventListener("toggle", function () {
      if (!details.open) { return; }
      select(li, true);
      var list = li.parentElement; // the list scrolls on its own: bring the explanation up, keep the cell in view
      list.scrollTop = li.offsetTop - 8;
    });
  });

  document.addEventListener("click", function (event) {
    var link = event.target.closest("a.cell-link, a.jump");
    if (link) {
      event.preventDefault();
      showCell(link.dataset.cell);
      return;
    }
    var cell = event.target.closest("td.hit");
    if (cell) {
      var first = (cell.dataset.findings || "").split(" ").filter(Boolean)[0];
      var li = byId(first);
      if (li) {
        li.hidden = false;
        li.querySelector("details").open = true;
        select(li, false);
        li.scrollIntoView({ block: "nearest"});
      }
    }
  });

  var filters = { severity: byId("filter-severity"), table: byId("filter-table"), rule: byId("filter-rule") };
  function applyFilters() {
    var shown = 0;
    findings.forEach(function (li) {
      var ok = Object.keys(filters).every(function (key) {
        var select = filters[key];
        return !select || !select.value || li.dataset[key] === select.value;
      });
      li.hidden = !ok;
      shown += ok ? 1 : 0;
    });
    var count = byId("filter-count");
    if (count) { count.textContent = "显示 " + shown + " / " + findings.length + " 项"; }
  }
  Object.keys(filters).forEach(function (key) { if (filters[key]) { filters[key].addEventListener("change", applyFilters); } });
  applyFilters();

  // After a decision is saved the page comes back at #decided-<finding id>: open that finding again.
  if (location.hash.indexOf("#decided-") === 0) {
    var id = decodeURIComponent(location.hash.slice("#decided-".length));
    var li = findings.filter(function (item) { return item.dataset.id === id; })[0];
    if (li) {
      li.querySelector("details").open = true;
      li.scrollIntoView({ block: "center" });
    }
  }
})();
