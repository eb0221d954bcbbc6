// Review Queue, live: every few seconds the rows are read again from the API (with the
// session's cookie) and each cell is written with textContent, never as HTML.
(function () {
  "use strict";
  var table = document.getElementById("jobs");
  if (!table) { return; }
  var cells = ["collection", "institution", "filename", "status"];
  function progress(job) {
    var total = job.records === null ? 0 : job.records;
    return { validated: job.staged, posted: job.posted, total: total };
  }
  function show(job) {
    var row = document.getElementById("job-" + job.id);
    if (!row) { return; }
    cells.forEach(function (name) {
      var cell = row.querySelector("[data-cell=" + name + "]");
      if (cell) { cell.textContent = job[name]; }
    });
    var status = row.querySelector("[data-cell=status]");
    if (status) { status.className = "status-" + job.status; }
    var p = progress(job);
    var bar = row.querySelector("progress");
    if (bar) { bar.max = Math.max(p.total, 1); bar.value = p.validated; }
    var counts = row.querySelector("[data-cell=counts]");
    if (counts) {
      counts.textContent = p.validated + " of " + (job.records === null ? "?" : job.records) +
        " validated, " + p.posted + " posted, " + job.rejected + " with errors";
    }
  }
  function refresh() {
    fetch("/api/v1/submissions?limit=50", { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (page) {
        if (!page) { return; }
        page.items.forEach(show);
        var unseen = page.items.some(function (j) { return !document.getElementById("job-" + j.id); });
        if (unseen) { window.location.reload(); }
      })
      .catch(function () { /* the next round tries again */ });
  }
  setInterval(refresh, 2000);
}());
