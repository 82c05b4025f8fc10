/* Progressive enhancement of the password rules checklist (templates/_macros/password.html).

   Each <li data-check> says how to test its rule: "length" (data-min, data-max code points
   after NFKC, as the server counts) or "pattern" (data-pattern, a Unicode character class
   from idp/security/password_policy.py). Like the server, both leave out the invisible
   characters named by the list's data-invisible (zero-width spaces, bidi controls...), so
   they neither pad the length nor count as a special character. "server" rules (the
   common-password list, the person's name and address, guessability, breaches) are left
   alone: only the server knows them. The server's check is the authority; this only helps
   while typing.

   Each rule gets a visible check or cross (a shape, not a colour alone) and a hidden
   "(done)"/"(not yet)" for screen readers; a polite summary is announced once the person
   pauses. No inline script or style: CSP allows neither. */
(function () {
  "use strict";
  if (window.passerellePasswordRules) { return; }  /* the macro may be used twice on a page */
  window.passerellePasswordRules = true;

  var CHECK = "\u2713";
  var CROSS = "\u2717";
  var ANNOUNCE_AFTER_MS = 1000;

  var invisible = null;  /* set by enhance() from data-invisible */

  function visible(value) {
    var stripped = invisible ? value.replace(invisible, "") : value;
    return typeof stripped.normalize === "function" ? stripped.normalize("NFKC") : stripped;
  }

  function codePoints(value) {
    return Array.from(visible(value)).length;
  }

  function makeTest(item) {
    var check = item.getAttribute("data-check");
    if (check === "length") {
      var min = parseInt(item.getAttribute("data-min"), 10);
      var max = parseInt(item.getAttribute("data-max"), 10);
      return function (value) {
        var length = codePoints(value);
        return length >= min && length <= max;
      };
    }
    if (check === "pattern") {
      try {
        var pattern = new RegExp(item.getAttribute("data-pattern"), "u");
      } catch (error) {
        return null;  /* an old browser without Unicode property escapes: leave the line as text */
      }
      return function (value) {
        return pattern.test(visible(value));
      };
    }
    return null;
  }

  function enhance(list) {
    var input = document.getElementById(list.getAttribute("data-password-rules-for"));
    if (!input) { return; }
    try {
      invisible = list.getAttribute("data-invisible") ? new RegExp(list.getAttribute("data-invisible"), "gu") : null;
    } catch (error) {
      invisible = null;  /* no Unicode property escapes: count as typed; the server decides */
    }
    var summary = document.getElementById(list.getAttribute("data-summary-id"));
    var metLabel = list.getAttribute("data-met-label") || "";
    var unmetLabel = list.getAttribute("data-unmet-label") || "";
    var summaryTemplate = list.getAttribute("data-summary") || "";
    var rules = [];
    Array.prototype.forEach.call(list.querySelectorAll("li[data-check]"), function (item) {
      var test = makeTest(item);
      if (test) {
        rules.push({
          item: item,
          test: test,
          mark: item.querySelector(".password-rules__mark"),
          status: item.querySelector(".password-rules__status")
        });
      }
    });
    if (!rules.length) { return; }
    var timer = null;
    var metCount = 0;

    function update() {
      var value = input.value || "";
      metCount = 0;
      rules.forEach(function (rule) {
        var met = rule.test(value);
        if (met) { metCount += 1; }
        rule.item.setAttribute("data-state", met ? "met" : "unmet");
        if (rule.mark) { rule.mark.textContent = met ? CHECK : CROSS; }
        if (rule.status) { rule.status.textContent = " " + (met ? metLabel : unmetLabel); }
      });
    }

    function announce() {
      if (!summary) { return; }
      summary.textContent = summaryTemplate
        .replace("%(met)s", String(metCount))
        .replace("%(total)s", String(rules.length));
    }

    input.addEventListener("input", function () {
      update();
      if (timer) { window.clearTimeout(timer); }
      timer = window.setTimeout(announce, ANNOUNCE_AFTER_MS);
    });
    if (input.value) { update(); }
  }

  Array.prototype.forEach.call(document.querySelectorAll("ul[data-password-rules-for]"), enhance);
})();
