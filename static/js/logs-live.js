// Live mode of /logs/ (first page only): every few seconds, fetch the rows newer than the
// newest one shown that match the page's filters, and put them on top, briefly
// highlighted. Off by default; live=1 in the URL keeps it on; it pauses while the tab is
// hidden. The server renders the rows (GET /logs/rows/?after=<id>&<filters>).
(function () {
  "use strict";
  var toggle = document.getElementById("live-toggle");
  var table = document.getElementById("log-table");
  if (!toggle || !table || toggle.disabled) return;
  var tbody = table.tBodies[0];
  var status = document.getElementById("live-status");
  var POLL_MS = 3000;
  var HIGHLIGHT_MS = 4000;
  var NOT_FILTERS = ["before", "after", "live"];
  var timer = null;
  var running = false;

  function say(text) {
    if (status) status.textContent = text;
  }

  function newestId() {
    var row = tbody.querySelector("tr[data-id]");
    return row ? row.getAttribute("data-id") : "0";
  }

  function rowsUrl() {
    var params = new URLSearchParams(window.location.search);
    NOT_FILTERS.forEach(function (name) { params.delete(name); });
    params.set("after", newestId());
    return table.getAttribute("data-rows-url") + "?" + params.toString();
  }

  function keepUrl(on) {
    var url = new URL(window.location.href);
    if (on) url.searchParams.set("live", "1");
    else url.searchParams.delete("live");
    window.history.replaceState(null, "", url.toString());
  }

  function highlight(count) {
    var fresh = Array.prototype.slice.call(tbody.querySelectorAll("tr[data-id]"), 0, count);
    fresh.forEach(function (row) { row.classList.add("is-new"); });
    window.setTimeout(function () {
      fresh.forEach(function (row) { row.classList.remove("is-new"); });
    }, HIGHLIGHT_MS);
  }

  // More new rows than a page: show just the newest page, as a reload would.
  function pointOlderLink() {
    var older = document.getElementById("older");
    var rows = tbody.querySelectorAll("tr[data-id]");
    if (!older || !rows.length) return;
    var url = new URL(older.href);
    url.searchParams.set("before", rows[rows.length - 1].getAttribute("data-id"));
    older.href = url.toString();
  }

  function show(data) {
    if (!data.count) return;
    var empty = tbody.querySelector("td.empty");
    if (empty) empty.parentNode.remove();
    if (data.more) {
      tbody.innerHTML = data.html;
      pointOlderLink();
    } else {
      tbody.insertAdjacentHTML("afterbegin", data.html);
    }
    highlight(data.count);
  }

  function stamp() {
    return new Date().toISOString().slice(11, 19) + " UTC";
  }

  function poll() {
    timer = null;
    if (!running) return;
    fetch(rowsUrl(), { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.json();
      })
      .then(function (data) {
        if (!running) return;
        show(data);
        say("Live · checked " + stamp() + (data.count ? " · " + data.count + " new" : ""));
        timer = window.setTimeout(poll, POLL_MS);
      })
      .catch(function (error) {
        stop();
        toggle.checked = false;
        keepUrl(false);
        say("Live stopped (" + error.message + "): reload the page to sign in again.");
      });
  }

  function start() {
    if (running) return;
    running = true;
    say("Live · watching for new attempts");
    poll();
  }

  function stop() {
    running = false;
    if (timer !== null) window.clearTimeout(timer);
    timer = null;
  }

  toggle.addEventListener("change", function () {
    keepUrl(toggle.checked);
    if (toggle.checked) {
      start();
    } else {
      stop();
      say("");
    }
  });

  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "hidden") {
      if (running) say("Live · paused while the tab is hidden");
      stop();
    } else if (toggle.checked) {
      start();
    }
  });

  if (toggle.checked && document.visibilityState === "visible") start();
})();
