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
  // A form sent back with errors: focus moves to the first field in error, so keyboard and screen
  // reader users start where the problem is (the field's aria-describedby reads its error out).
  var invalid = document.querySelector('main form [aria-invalid="true"]');
  if (invalid && !document.querySelector("[autofocus]")) {
    invalid.focus();
  }

  // Listing sort: choosing an order loads it at once; the Apply button stays for browsers without JS.
  document.querySelectorAll("[data-autosubmit]").forEach(function (select) {
    var form = select.form;
    var button = form && form.querySelector("[data-autosubmit-button]");
    if (button) {
      button.hidden = true;
    }
    select.addEventListener("change", function () {
      if (form) {
        form.submit();
      }
    });
  });

  // Product gallery: a thumbnail shows its image in the main frame; the main image opens the large
  // rendition in a lightbox. Without JS both are plain links to the large image.
  document.querySelectorAll("[data-gallery]").forEach(function (gallery) {
    var main = gallery.querySelector("[data-gallery-main]");
    var image = gallery.querySelector("[data-gallery-image]");
    var source = gallery.querySelector("[data-gallery-source]");
    if (!main || !image) {
      return;
    }
    gallery.addEventListener("click", function (event) {
      var thumb = event.target.closest(".gallery-thumb");
      if (!thumb || !gallery.contains(thumb)) {
        return;
      }
      event.preventDefault();
      if (source) {
        source.srcset = thumb.dataset.mediumWebp;
      }
      image.src = thumb.dataset.mediumJpeg;
      image.width = Number(thumb.dataset.mediumWidth);
      image.height = Number(thumb.dataset.mediumHeight);
      image.alt = thumb.dataset.alt || "";
      main.href = thumb.href;
      main.dataset.largeWebp = thumb.dataset.largeWebp;
      main.dataset.largeWidth = thumb.dataset.largeWidth;
      main.dataset.largeHeight = thumb.dataset.largeHeight;
      gallery.querySelectorAll(".gallery-thumb").forEach(function (other) {
        other.classList.toggle("is-active", other === thumb);
        if (other === thumb) {
          other.setAttribute("aria-current", "true");
        } else {
          other.removeAttribute("aria-current");
        }
      });
    });

    if (typeof HTMLDialogElement !== "function") {
      return; // old browsers keep the plain link
    }
    main.addEventListener("click", function (event) {
      event.preventDefault();
      var dialog = document.createElement("dialog");
      dialog.className = "lightbox";
      dialog.setAttribute("aria-label", image.alt || "Large image");
      var picture = document.createElement("picture");
      var webp = document.createElement("source");
      webp.type = "image/webp";
      webp.srcset = main.dataset.largeWebp;
      var large = document.createElement("img");
      large.src = main.href;
      large.alt = image.alt;
      large.width = Number(main.dataset.largeWidth) || image.width;
      large.height = Number(main.dataset.largeHeight) || image.height;
      picture.append(webp, large);
      var close = document.createElement("button");
      close.type = "button";
      close.className = "lightbox-close";
      close.setAttribute("aria-label", "Close");
      close.textContent = "\u00d7";
      dialog.append(picture, close);
      document.body.append(dialog);
      close.addEventListener("click", function () {
        dialog.close();
      });
      dialog.addEventListener("click", function (clickEvent) {
        if (clickEvent.target === dialog) {
          dialog.close(); // a click on the backdrop
        }
      });
      dialog.addEventListener("close", function () {
        dialog.remove();
        main.focus();
      });
      dialog.showModal();
      close.focus();
    });
  });

  // Variant picker: the attributes (size, colour) as radio buttons pick the variant in the <select>
  // that the form submits, and the price, stock and button follow it. Without JS the select is the control.
  document.querySelectorAll("[data-variant-picker]").forEach(function (form) {
    var select = form.querySelector('select[name="sku"]');
    var groups = Array.prototype.slice.call(form.querySelectorAll("[data-option]"));
    if (!select || !groups.length) {
      return;
    }
    var variants = Array.prototype.map.call(select.options, function (option) {
      var attributes = {};
      try {
        attributes = JSON.parse(option.dataset.variantAttributes || "{}");
      } catch (error) {
        attributes = {};
      }
      return { option: option, attributes: attributes };
    });
    var price = form.querySelector("[data-price]");
    var was = form.querySelector("[data-price-was]");
    var wasAmount = form.querySelector("[data-price-was-amount]");
    var stock = form.querySelector("[data-stock]");
    var button = form.querySelector("[data-add-to-cart]");
    var quantity = form.querySelector("[data-quantity]");
    var missing = form.querySelector("[data-option-missing]");
    var selectField = form.querySelector("[data-variant-select]");
    var maxQuantity = quantity ? Number(quantity.getAttribute("max")) || 99 : 99;

    function chosen() {
      var values = {};
      groups.forEach(function (group) {
        var checked = group.querySelector("input:checked");
        values[group.dataset.option] = checked ? checked.value : null;
      });
      return values;
    }

    function matches(variant, values) {
      return Object.keys(values).every(function (name) {
        return values[name] === null || variant.attributes[name] === values[name];
      });
    }

    function show(variant) {
      if (missing) {
        missing.hidden = Boolean(variant);
      }
      if (!variant) {
        if (button) {
          button.disabled = true;
        }
        return;
      }
      var option = variant.option;
      select.value = option.value;
      var available = Number(option.dataset.variantAvailable || 0);
      if (price) {
        price.textContent = option.dataset.variantPrice;
        price.classList.toggle("price-sale", Boolean(option.dataset.variantWas));
      }
      if (was && wasAmount) {
        wasAmount.textContent = option.dataset.variantWas || "";
        was.hidden = !option.dataset.variantWas;
      }
      if (stock) {
        stock.textContent = option.dataset.variantStock;
        stock.className = "stock stock-" + option.dataset.variantStockState;
      }
      if (button) {
        button.disabled = available < 1;
      }
      if (quantity && available > 0) {
        quantity.max = String(Math.min(available, maxQuantity));
        if (Number(quantity.value) > available) {
          quantity.value = String(available);
        }
      }
      // Values that would lead nowhere in stock look crossed out (still choosable, to see why).
      groups.forEach(function (group) {
        group.querySelectorAll("input").forEach(function (input) {
          var values = chosen();
          values[group.dataset.option] = input.value;
          var reachable = variants.some(function (candidate) {
            return matches(candidate, values) && Number(candidate.option.dataset.variantAvailable || 0) > 0;
          });
          input.closest(".option").classList.toggle("is-unavailable", !reachable);
        });
      });
    }

    groups.forEach(function (group) {
      group.hidden = false;
      group.addEventListener("change", function () {
        var values = chosen();
        var exact = variants.filter(function (variant) {
          return matches(variant, values);
        });
        show(exact[0] || null);
      });
    });
    if (selectField) {
      selectField.hidden = true;
    }
    // The select may hold disabled (sold-out) variants; the radios can still reach them to show so.
    Array.prototype.forEach.call(select.options, function (option) {
      option.disabled = false;
    });
    var current = variants.filter(function (variant) {
      return variant.option.selected;
    })[0];
    show(current || variants[0]);
  });
})();
