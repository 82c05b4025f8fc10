"""Single sign-out (issue 14): which relying parties each session signed into, and telling
them when the session ends (OpenID Connect Back-Channel Logout 1.0 from the outbox,
Front-Channel Logout 1.0 on the signed-out page)."""
