/*
 * The payment page's reservation countdown: <p data-expires-in="SECONDS"> with a <strong data-countdown>
 * inside. Counts down every second; at zero it says so (the server refuses a late payment anyway, and
 * the page works without this script: it shows the minutes left when it was rendered).
 */
(function () {
  "use strict";

  function format(seconds) {
    var minutes = Math.floor(seconds / 60);
    var rest = seconds % 60;
    return minutes + ":" + (rest < 10 ? "0" : "") + rest + " min";
  }

  document.addEventListener("DOMContentLoaded", function () {
    var box = document.querySelector("[data-expires-in]");
    var out = box && box.querySelector("[data-countdown]");
    if (!out) return;
    var deadline = Date.now() + parseInt(box.getAttribute("data-expires-in"), 10) * 1000;
    function tick() {
      var left = Math.max(0, Math.round((deadline - Date.now()) / 1000));
      if (left === 0) {
        box.textContent = "Your reservation has lapsed. Reload the page to start again.";
        return;
      }
      out.textContent = format(left);
      window.setTimeout(tick, 1000);
    }
    tick();
  });
})();
