"""\"Can't sign in?\": a new activation email or a single-use password reset link (issue 3)."""
