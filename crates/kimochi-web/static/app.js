// Page behaviour that htmx attributes do not cover. A file of its own because the pages'
// Content-Security-Policy allows no inline script: what a customer writes can never run.
(function () {
  "use strict";

  // After a contact is saved: clear the form, say so, and move focus to the new history entry
  // so that a keyboard or screen-reader user lands where the change happened.
  document.addEventListener("htmx:afterRequest", function (event) {
    var form = event.detail.elt;
    if (!form || form.id !== "contact-form" || !event.detail.successful) {
      return;
    }
    if (event.detail.xhr.getResponseHeader("HX-Retarget")) {
      return; // the server answered with a validation message, keep what was typed
    }
    form.reset();
    var preview = document.getElementById("voc-tags");
    if (preview) {
      preview.textContent = "";
    }
    var errors = document.getElementById("contact-errors");
    if (errors) {
      errors.textContent = "";
    }
    var empty = document.getElementById("history-empty");
    if (empty) {
      empty.remove();
    }
    var status = document.getElementById("contact-status");
    if (status) {
      status.textContent = status.getAttribute("data-saved") || "";
    }
    var newest = document.querySelector("#history .thread");
    if (newest) {
      newest.setAttribute("tabindex", "-1");
      newest.focus();
    }
  });

  // When a heat map cell's list arrives, mark the chosen cell and move focus to the list.
  document.addEventListener("htmx:afterSwap", function (event) {
    if (event.detail.target && event.detail.target.id === "cell-list") {
      var cells = document.querySelectorAll(".rfm-cell[aria-current]");
      for (var i = 0; i < cells.length; i++) {
        cells[i].removeAttribute("aria-current");
      }
      var chosen = event.detail.requestConfig && event.detail.requestConfig.elt;
      if (chosen && chosen.classList && chosen.classList.contains("rfm-cell")) {
        chosen.setAttribute("aria-current", "true");
      }
      var heading = document.getElementById("cell-list-heading");
      if (heading) {
        heading.focus();
      }
    }
  });
})();
