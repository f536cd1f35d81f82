// Postback config form: a live preview of the request (rendered on the server by the one
// macro engine) and a macro list whose entries insert `{macro}` at the cursor. No inline
// scripts, no CDN.
(function () {
  "use strict";
  var DEBOUNCE_MS = 300;
  // The form fields the preview endpoint reads; nothing else (never the signing secret).
  var FIELDS = ["url", "method", "content_type", "body", "postback_type", "publisher", "offer", "event"];

  function ready(callback) {
    if (document.readyState !== "loading") callback();
    else document.addEventListener("DOMContentLoaded", callback);
  }

  function field(form, name) {
    return form.elements.namedItem(name);
  }

  function labelOf(name) {
    var label = document.querySelector('label[for="id_' + name + '"]');
    return label ? label.textContent.replace(/:\s*$/, "").trim() : name;
  }

  // Insert text at the cursor of a textarea (replacing a selection) and tell listeners.
  function insertAtCursor(input, text) {
    var start = input.selectionStart, end = input.selectionEnd;
    input.focus();
    input.setRangeText(text, start, end, "end");
    input.dispatchEvent(new Event("input", { bubbles: true }));
  }

  function setupTemplates(form, schedule) {
    var url = field(form, "url");
    var body = field(form, "body");
    var target = url;
    [url, body].forEach(function (input) {
      if (!input) return;
      input.addEventListener("focus", function () { target = input; });
      input.addEventListener("input", schedule);
    });
    // A URL is one line: Enter does not add a line break, and pasted ones are dropped.
    url.addEventListener("keydown", function (event) {
      if (event.key === "Enter") event.preventDefault();
    });
    url.addEventListener("input", function () {
      if (!/[\r\n]/.test(url.value)) return;
      var cursor = url.selectionStart - (url.value.slice(0, url.selectionStart).match(/[\r\n]/g) || []).length;
      url.value = url.value.replace(/[\r\n]+/g, "");
      url.setSelectionRange(cursor, cursor);
    });
    document.querySelectorAll("#config-macros button[data-macro]").forEach(function (button) {
      button.addEventListener("click", function () {
        insertAtCursor(target || url, button.getAttribute("data-macro"));
      });
    });
  }

  // Show the macros that have a value in postbacks of the selected type.
  function filterMacros(form) {
    var select = field(form, "postback_type");
    if (!select) return;
    var type = select.value;
    document.querySelectorAll("#config-macros li[data-types]").forEach(function (item) {
      item.hidden = item.getAttribute("data-types").split(" ").indexOf(type) < 0;
    });
    var option = select.options[select.selectedIndex];
    document.getElementById("macro-type").textContent = option ? "for " + option.text + " postbacks" : "";
  }

  function showProblems(problems, isError) {
    var list = document.getElementById("preview-problems");
    list.textContent = "";
    problems.forEach(function (text) {
      var item = document.createElement("li");
      item.className = isError ? "problem problem-error" : "problem";
      item.textContent = text;
      list.appendChild(item);
    });
    if (!problems.length) {
      var fine = document.createElement("li");
      fine.className = "no-problem";
      fine.textContent = "No problems found.";
      list.appendChild(fine);
    }
  }

  function showRequest(preview) {
    document.getElementById("preview-method").textContent = preview.method || "—";
    document.getElementById("preview-url").textContent = preview.url || "—";
    var hasBody = Boolean(preview.body);
    document.querySelectorAll("#config-preview .preview-body-row").forEach(function (row) {
      row.hidden = !hasBody;
    });
    document.getElementById("preview-content-type").textContent = preview.content_type || "";
    document.getElementById("preview-body").textContent = preview.body || "";
  }

  function setupPreview(form, panel) {
    var status = document.getElementById("preview-status");
    var timer = null;
    var latest = 0;

    function refresh() {
      var url = field(form, "url");
      if (!url.value.trim()) {
        showRequest({});
        showProblems(["Type a URL template to see what would be sent."], false);
        status.textContent = "";
        return;
      }
      var data = new URLSearchParams();
      data.append("csrfmiddlewaretoken", field(form, "csrfmiddlewaretoken").value);
      FIELDS.forEach(function (name) {
        var input = field(form, name);
        if (input) data.append(name, input.value);
      });
      var number = ++latest;
      status.textContent = "Updating…";
      fetch(panel.getAttribute("data-preview-url"), {
        method: "POST",
        body: data,
        credentials: "same-origin",
        headers: { "X-Requested-With": "XMLHttpRequest", Accept: "application/json" },
      })
        .then(function (response) {
          return response.json().then(function (json) { return { status: response.status, json: json }; },
            function () { return { status: response.status, json: null }; });
        })
        .then(function (answer) {
          if (number !== latest) return; // a newer preview is on its way
          status.textContent = "";
          if (answer.status === 200 && answer.json) {
            showRequest(answer.json);
            showProblems(answer.json.problems, false);
            return;
          }
          showRequest({});
          var errors = (answer.json && answer.json.errors) || {};
          var words = Object.keys(errors).map(function (name) {
            return labelOf(name) + ": " + errors[name].join(" ");
          });
          showProblems(words.length ? words : ["Preview unavailable (HTTP " + answer.status + ")."], true);
        })
        .catch(function () {
          if (number !== latest) return;
          status.textContent = "";
          showProblems(["Preview unavailable: the server did not answer."], true);
        });
    }

    function schedule() {
      window.clearTimeout(timer);
      timer = window.setTimeout(refresh, DEBOUNCE_MS);
    }
    return { refresh: refresh, schedule: schedule };
  }

  ready(function () {
    var panel = document.getElementById("config-preview");
    var form = document.getElementById("postbackconfig_form");
    if (!panel || !form || !field(form, "url")) return;
    var preview = setupPreview(form, panel);
    setupTemplates(form, preview.schedule);
    ["method", "content_type", "postback_type", "publisher", "offer", "event"].forEach(function (name) {
      var input = field(form, name);
      if (input) input.addEventListener("change", preview.schedule);
    });
    var type = field(form, "postback_type");
    if (type) type.addEventListener("change", function () { filterMacros(form); });
    filterMacros(form);
    preview.refresh();
  });
})();
