"""Invitations: registration is by invitation only (issue 3). An invitation belongs to one
address, has a kind (link or code), an expiry and a state, and is consumed when the
registration it opened completes."""
