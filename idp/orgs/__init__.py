"""Organizations (issue 11): institutions whose primary user invites secondary users."""
