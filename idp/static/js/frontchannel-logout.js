// The signed-out page after a relying party's sign-out request: once every front-channel
// logout iframe has loaded (or after 5 seconds), go back to the relying party, as the link
// on the page does without JavaScript (Front-Channel Logout 1.0 §3, RP-Initiated Logout §3).
(function () {
  "use strict";
  var link = document.getElementById("frontchannel-continue");
  if (!link) {
    return;
  }
  var frames = document.querySelectorAll("[data-frontchannel-logout] iframe");
  var waiting = frames.length;
  var done = false;
  function go() {
    if (!done) {
      done = true;
      window.location.replace(link.href);
    }
  }
  Array.prototype.forEach.call(frames, function (frame) {
    frame.addEventListener("load", function () {
      waiting -= 1;
      if (waiting <= 0) {
        go();
      }
    });
    frame.addEventListener("error", function () {
      waiting -= 1;
      if (waiting <= 0) {
        go();
      }
    });
  });
  window.setTimeout(go, 5000);
})();
