/* Progressive enhancement: a "Show password" button after each password field that
   carries data-show-label (PW-05). Without JavaScript the field works as a plain one. */
(function () {
  "use strict";
  var fields = document.querySelectorAll("input[type=password][data-show-label]");
  Array.prototype.forEach.call(fields, function (input) {
    var showLabel = input.getAttribute("data-show-label");
    var hideLabel = input.getAttribute("data-hide-label") || showLabel;
    var button = document.createElement("button");
    button.type = "button";
    button.className = "button--link";
    button.textContent = showLabel;
    button.setAttribute("aria-controls", input.id);
    button.setAttribute("aria-pressed", "false");
    button.addEventListener("click", function () {
      var isHidden = input.type === "password";
      input.type = isHidden ? "text" : "password";
      button.textContent = isHidden ? hideLabel : showLabel;
      button.setAttribute("aria-pressed", isHidden ? "true" : "false");
    });
    input.insertAdjacentElement("afterend", button);
  });
  /* Move focus to the error summary so screen readers announce it first. */
  var summary = document.querySelector(".error-summary");
  if (summary) { summary.focus(); }
})();
