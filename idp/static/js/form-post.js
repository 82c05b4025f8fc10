// Form Post Response Mode: submit the response to the client at once. Without JavaScript,
// the page shows a Continue button that does the same.
document.getElementById("form-post-response").submit();
