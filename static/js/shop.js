/*
 * The storefront's small scripts. Loaded with `defer` from our own origin: the CSP allows no inline
 * script, so behaviour is attached here from data attributes in the markup. Every page works without it.
 */
(function () {
  "use strict";

  // Alerts (django.contrib.messages): the close button removes its alert, and focus moves somewhere
  // sensible rather than being lost with the removed button.
  document.addEventListener("click", function (event) {
    var button = event.target.closest('[data-dismiss="alert"]');
    if (!button) {
      return;
    }
    var alert = button.closest(".alert");
    if (!alert) {
      return;
    }
    var container = alert.parentElement;
    alert.remove();
    if (container && container.classList.contains("messages") && !container.querySelector(".alert")) {
      container.remove();
    }
    var main = document.getElementById("main");
    if (main) {
      main.focus({ preventScroll: true });
    }
  });

  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") {
      return;
    }
    var focused = document.activeElement;
    var alert = focused && focused.closest ? focused.closest(".alert") : null;
    var close = alert && alert.querySelector('[data-dismiss="alert"]');
    if (close) {
      close.click();
    }
  });
})();
