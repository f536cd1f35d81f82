// Re-fire matching: the confirm page's count follows "Include succeeded", and a job's
// page polls its progress JSON until the job is done or failed. No inline scripts (CSP).
(function () {
  "use strict";
  var POLL_MS = 1000;

  function confirmPage() {
    var summary = document.getElementById("refire-summary");
    var box = document.getElementById("include-succeeded");
    if (!summary || !box) return;
    var unfinished = Number(summary.getAttribute("data-unfinished"));
    var succeeded = Number(summary.getAttribute("data-succeeded"));
    var limit = Number(summary.getAttribute("data-limit"));
    var confirm = document.getElementById("confirm-refire");
    var nothing = document.getElementById("refire-nothing");
    box.addEventListener("change", function () {
      var count = unfinished + (box.checked ? succeeded : 0);
      document.getElementById("refire-count").textContent = String(count);
      // Nothing to re-open, or more than one re-fire may take: the server refuses both.
      confirm.disabled = count === 0 || count > limit;
      nothing.hidden = count !== 0;
    });
  }

  function show(progress) {
    var bar = document.getElementById("job-progress");
    bar.max = progress.total || 1;
    bar.value = progress.done;
    bar.textContent = progress.percent + " %";
    ["done", "total", "percent", "reopened"].forEach(function (name) {
      document.getElementById("job-" + name).textContent = String(progress[name]);
    });
    var state = document.getElementById("job-state");
    state.textContent = progress.state_label;
    state.className = "badge badge-job-" + progress.state;
    var error = document.getElementById("job-error");
    error.textContent = progress.error;
    error.hidden = !progress.error;
    document.getElementById("job-links").hidden = !progress.finished;
  }

  function jobPage() {
    var panel = document.getElementById("refire-job");
    if (!panel || panel.getAttribute("data-finished") === "1") return;
    var url = panel.getAttribute("data-progress-url");
    function poll() {
      fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
        .then(function (response) {
          if (!response.ok) throw new Error("HTTP " + response.status);
          return response.json();
        })
        .then(function (progress) {
          show(progress);
          if (!progress.finished) window.setTimeout(poll, POLL_MS);
        })
        .catch(function () {
          window.setTimeout(poll, POLL_MS * 5); // a blip: try again, more slowly
        });
    }
    window.setTimeout(poll, POLL_MS);
  }

  confirmPage();
  jobPage();
})();
