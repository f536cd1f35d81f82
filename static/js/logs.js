// Filter bar of /logs/: rows of column · operator · value become the §7 query string
// (<column>, <column>__not, <column>__contains), so the URL is shareable as is.
(function () {
  "use strict";
  var form = document.getElementById("filter-form");
  if (!form) return;
  var rows = document.getElementById("filter-rows");
  var template = document.getElementById("filter-row-template");
  var SUFFIX = { is: "", not: "__not", contains: "__contains" };
  var CHOICES = {
    status: "choices-status",
    postback_type: "choices-postback_type",
    trigger: "choices-trigger",
  };

  // Some columns take fewer operators (trigger: Is and Is not): offer only those.
  function syncOperators(row) {
    var columnSelect = row.querySelector(".f-column");
    var operatorSelect = row.querySelector(".f-operator");
    var option = columnSelect.options[columnSelect.selectedIndex];
    var allowed = (option.getAttribute("data-operators") || "is not contains").split(" ");
    Array.prototype.forEach.call(operatorSelect.options, function (choice) {
      choice.disabled = allowed.indexOf(choice.value) === -1;
      choice.hidden = choice.disabled;
    });
    if (allowed.indexOf(operatorSelect.value) === -1) operatorSelect.value = allowed[0];
  }

  function sync(row) {
    syncOperators(row);
    var column = row.querySelector(".f-column").value;
    var operator = row.querySelector(".f-operator").value;
    var input = row.querySelector(".f-value");
    input.name = column + SUFFIX[operator];
    if (CHOICES[column] && operator !== "contains") {
      input.setAttribute("list", CHOICES[column]);
    } else {
      input.removeAttribute("list");
    }
    input.placeholder = operator === "contains" ? "part of the value" : "value";
  }

  function addRow() {
    var fragment = template.content.cloneNode(true);
    var row = fragment.querySelector(".filter-row");
    rows.appendChild(fragment);
    sync(row);
    row.querySelector(".f-column").focus();
    return row;
  }

  rows.addEventListener("change", function (event) {
    var row = event.target.closest(".filter-row");
    if (row) sync(row);
  });

  rows.addEventListener("click", function (event) {
    var button = event.target.closest(".f-remove");
    if (!button) return;
    var row = button.closest(".filter-row");
    if (rows.querySelectorAll(".filter-row").length > 1) {
      row.remove();
    } else {
      row.querySelector(".f-value").value = "";
    }
  });

  document.getElementById("add-filter").addEventListener("click", addRow);

  Array.prototype.forEach.call(form.querySelectorAll("[data-range]"), function (chip) {
    chip.addEventListener("click", function () {
      var hours = Number(chip.getAttribute("data-range"));
      var from = new Date(Date.now() - hours * 3600 * 1000);
      document.getElementById("created_after").value = from.toISOString().slice(0, 16) + "Z";
      document.getElementById("created_before").value = "";
      form.requestSubmit();
    });
  });

  // Empty inputs stay out of the URL: only real filters are shared.
  form.addEventListener("submit", function () {
    Array.prototype.forEach.call(rows.querySelectorAll(".filter-row"), sync);
    Array.prototype.forEach.call(form.querySelectorAll("input"), function (input) {
      if (input.value === "") input.disabled = true;
    });
  });

  // Coming back with the browser's Back button: re-enable what submit disabled (the Live
  // toggle stays as the server rendered it: disabled away from the newest page).
  window.addEventListener("pageshow", function () {
    Array.prototype.forEach.call(form.querySelectorAll("input"), function (input) {
      if (input.id !== "live-toggle") input.disabled = false;
    });
  });

  Array.prototype.forEach.call(rows.querySelectorAll(".filter-row"), sync);
})();
