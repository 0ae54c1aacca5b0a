/*
 * Sandbox card tokenizer: turns a test card number into a sandbox payment token in the browser, so
 * no card number is ever posted to the shop.
 *
 * Contract (the page provides):
 *   <form data-sandbox-tokenize> ... </form>           the payment form; the script handles its submit
 *     <input data-sandbox-card-number>                 card number field, WITHOUT a name attribute
 *     <input data-sandbox-card-expiry>                 optional, WITHOUT a name attribute
 *     <input data-sandbox-card-cvc>                    optional, WITHOUT a name attribute
 *     <input type="hidden" name="payment_token">       filled with the token
 *     <p data-sandbox-card-error aria-live="polite">   where the message for a bad number appears
 * Fields without a name are never submitted by the browser; the script also clears them before the
 * form is sent. When payment_token already holds a token (a wallet button set it), the form is sent
 * as is. Test numbers (spaces or dashes allowed):
 *   4242 4242 4242 4242 -> tok_visa               5555 5555 5555 4444 -> tok_mastercard
 *   4000 0000 0000 0002 -> tok_chargeDeclined     4000 0000 0000 9995 -> tok_insufficientFunds
 *   4000 0000 0000 0119 -> tok_gatewayError
 */
(function () {
  "use strict";

  var TEST_CARDS = {
    "4242424242424242": "tok_visa",
    "5555555555554444": "tok_mastercard",
    "4000000000000002": "tok_chargeDeclined",
    "4000000000009995": "tok_insufficientFunds",
    "4000000000000119": "tok_gatewayError",
  };

  function luhnValid(digits) {
    var sum = 0;
    for (var i = 0; i < digits.length; i++) {
      var d = parseInt(digits.charAt(digits.length - 1 - i), 10);
      if (i % 2 === 1) {
        d *= 2;
        if (d > 9) d -= 9;
      }
      sum += d;
    }
    return sum % 10 === 0;
  }

  /* The token for a typed number, or {error: message}. */
  function tokenize(typed) {
    var digits = (typed || "").replace(/[\s-]/g, "");
    if (!/^\d{13,19}$/.test(digits)) return { error: "Enter the card number: 13 to 19 digits." };
    if (!luhnValid(digits)) return { error: "That card number is not valid. Check the digits." };
    var token = TEST_CARDS[digits];
    if (!token) {
      return { error: "The sandbox accepts only test cards, such as 4242 4242 4242 4242." };
    }
    return { token: token };
  }

  function setup(form) {
    var number = form.querySelector("[data-sandbox-card-number]");
    var tokenField = form.querySelector('input[name="payment_token"]');
    var errorBox = form.querySelector("[data-sandbox-card-error]");
    if (!number || !tokenField) return;
    var cardFields = form.querySelectorAll(
      "[data-sandbox-card-number], [data-sandbox-card-expiry], [data-sandbox-card-cvc]"
    );
    for (var i = 0; i < cardFields.length; i++) cardFields[i].removeAttribute("name"); // never submitted

    form.addEventListener("submit", function (event) {
      if (tokenField.value && !number.value) return; // already tokenized (wallet button)
      var result = tokenize(number.value);
      if (result.error) {
        event.preventDefault();
        if (errorBox) errorBox.textContent = result.error;
        number.setAttribute("aria-invalid", "true");
        number.focus();
        return;
      }
      tokenField.value = result.token;
      for (var j = 0; j < cardFields.length; j++) cardFields[j].value = "";
      number.removeAttribute("aria-invalid");
      if (errorBox) errorBox.textContent = "";
    });
  }

  window.shopSandboxTokenize = tokenize; // for the page's own checks and for tests
  document.addEventListener("DOMContentLoaded", function () {
    var forms = document.querySelectorAll("form[data-sandbox-tokenize]");
    for (var i = 0; i < forms.length; i++) setup(forms[i]);
  });
})();
