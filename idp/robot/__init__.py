"""The "not a robot" check: a self-hosted ALTCHA proof of work on registration and on
"can't sign in?" (issue 3). Challenges are signed, expire and are single use; nothing is
sent to a third party."""
