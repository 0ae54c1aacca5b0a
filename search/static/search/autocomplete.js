// Autocomplete for every search box that names its suggestion endpoint (data-suggest-url): the
// suggestions fill a <datalist>, so the browser draws the dropdown and keyboard navigation for us.
(function () {
  "use strict";
  var DEBOUNCE_MS = 120; // a keystroke burst makes one request

  function attach(input, index) {
    var list = document.createElement("datalist");
    list.id = "search-suggestions-" + index;
    input.setAttribute("list", list.id);
    input.insertAdjacentElement("afterend", list);
    var timer = null;
    var controller = null;
    input.addEventListener("input", function () {
      clearTimeout(timer);
      var prefix = input.value.trim();
      if (!prefix) { list.replaceChildren(); return; }
      timer = setTimeout(function () {
        if (controller) controller.abort();
        controller = new AbortController();
        fetch(input.dataset.suggestUrl + "?q=" + encodeURIComponent(prefix), {
          headers: { Accept: "application/json" }, signal: controller.signal,
        })
          .then(function (response) { return response.ok ? response.json() : { suggestions: [] }; })
          .then(function (body) {
            list.replaceChildren.apply(list, body.suggestions.map(function (text) {
              var option = document.createElement("option");
              option.value = text;
              return option;
            }));
          })
          .catch(function () { /* aborted or offline: keep the last suggestions */ });
      }, DEBOUNCE_MS);
    });
  }

  document.querySelectorAll("input[data-suggest-url]").forEach(attach);
})();
