"""Registration by invitation (issue 3): the link journey (seed 000: form, activation link,
"Almost there", signed in) and the code journey (seed 001: form with the invitation code,
emailed verification code, then sign in). Invitations themselves live in idp/invitations."""
