// Security keys and passkeys (WebAuthn): progressive enhancement of the form marked
// data-webauthn="get" (sign in) or "create" (set up). Without JavaScript or WebAuthn the
// page's notice stays visible and the button hidden. With them: ask the options endpoint
// for a challenge (POST, CSRF token in a header), let the browser talk to the key, then put
// the key's answer (JSON) in the form's hidden field and send the form. The server decides.
(function () {
  "use strict";
  var form = document.querySelector("form[data-webauthn]");
  if (!form) { return; }
  var mode = form.getAttribute("data-webauthn");
  var controls = form.querySelector("[data-webauthn-controls]");
  var button = form.querySelector("button[type=submit]");
  var field = form.querySelector("input[name=credential]");
  var status = form.querySelector("[data-webauthn-status]");
  var summary = document.querySelector("[data-webauthn-error]");
  var summaryText = document.querySelector("[data-webauthn-error-text]");
  var unsupported = document.querySelector("[data-webauthn-unsupported]");
  // A refusal the server rendered: announce it first, as the other forms do.
  if (summary && !summary.hidden) { summary.focus(); }
  var supported = window.PublicKeyCredential && navigator.credentials && window.fetch && window.JSON;
  if (!supported || !button || !field || !controls) { return; }
  if (unsupported) { unsupported.hidden = true; }
  controls.hidden = false;

  function toBytes(base64url) {
    var base64 = base64url.replace(/-/g, "+").replace(/_/g, "/");
    while (base64.length % 4) { base64 += "="; }
    var binary = window.atob(base64);
    var bytes = new Uint8Array(binary.length);
    for (var i = 0; i < binary.length; i++) { bytes[i] = binary.charCodeAt(i); }
    return bytes.buffer;
  }

  function toBase64url(buffer) {
    var bytes = new Uint8Array(buffer);
    var binary = "";
    for (var i = 0; i < bytes.length; i++) { binary += String.fromCharCode(bytes[i]); }
    return window.btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function withBytes(descriptors) {
    return (descriptors || []).map(function (descriptor) {
      var copy = Object.assign({}, descriptor);
      copy.id = toBytes(descriptor.id);
      return copy;
    });
  }

  function decodeOptions(options) {
    var decoded = Object.assign({}, options);
    decoded.challenge = toBytes(options.challenge);
    if (mode === "create") {
      decoded.user = Object.assign({}, options.user, {id: toBytes(options.user.id)});
      decoded.excludeCredentials = withBytes(options.excludeCredentials);
    } else {
      decoded.allowCredentials = withBytes(options.allowCredentials);
    }
    return decoded;
  }

  function encodeCredential(credential) {
    var response = credential.response;
    var encoded = {
      id: credential.id,
      rawId: toBase64url(credential.rawId),
      type: credential.type,
      authenticatorAttachment: credential.authenticatorAttachment || null,
      clientExtensionResults: credential.getClientExtensionResults ? credential.getClientExtensionResults() : {},
      response: {clientDataJSON: toBase64url(response.clientDataJSON)}
    };
    if (mode === "create") {
      encoded.response.attestationObject = toBase64url(response.attestationObject);
      encoded.response.transports = response.getTransports ? response.getTransports() : [];
    } else {
      encoded.response.authenticatorData = toBase64url(response.authenticatorData);
      encoded.response.signature = toBase64url(response.signature);
      encoded.response.userHandle = response.userHandle ? toBase64url(response.userHandle) : null;
    }
    return encoded;
  }

  function showProblem(message) {
    if (status) { status.textContent = ""; }
    button.disabled = false;
    if (!summary || !summaryText) { return; }
    var list = summary.querySelector("ul");
    if (list) { list.remove(); }
    summaryText.textContent = message;
    summary.hidden = false;
    summary.focus();
  }

  function messageFor(error) {
    if (error && error.serverMessage) { return error.serverMessage; }
    var name = error && error.name;
    if (name === "NotAllowedError" || name === "AbortError") { return form.getAttribute("data-message-cancelled"); }
    if (name === "InvalidStateError" && form.getAttribute("data-message-exists")) {
      return form.getAttribute("data-message-exists");
    }
    return form.getAttribute("data-message-failed");
  }

  function fetchOptions() {
    return window.fetch(form.getAttribute("data-options-url"), {
      method: "POST",
      credentials: "same-origin",
      headers: {"Accept": "application/json", "X-CSRFToken": form.getAttribute("data-csrf-token")}
    }).then(function (answer) {
      return answer.json().catch(function () { return {}; }).then(function (body) {
        if (answer.ok && body.publicKey) { return body.publicKey; }
        if (body.redirect) { window.location.assign(body.redirect); }
        var problem = new Error("options refused");
        problem.serverMessage = body.error || null;
        throw problem;
      });
    });
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    if (button.disabled) { return; }
    button.disabled = true;
    if (status) { status.textContent = form.getAttribute("data-message-waiting"); }
    fetchOptions().then(function (options) {
      var publicKey = decodeOptions(options);
      return mode === "create" ? navigator.credentials.create({publicKey: publicKey})
                               : navigator.credentials.get({publicKey: publicKey});
    }).then(function (credential) {
      if (!credential) { throw new Error("no credential"); }
      field.value = JSON.stringify(encodeCredential(credential));
      form.submit();
    }).catch(function (error) {
      showProblem(messageFor(error));
    });
  });
})();
