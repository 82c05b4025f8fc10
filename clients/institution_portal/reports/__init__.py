"""Compliance reports (issue 12, seed 002): an institution's list of its international
students with a study permit, for one reporting period; prepared as a draft (form or CSV),
reviewed, submitted by the primary user with a receipt, corrected within a window, each
version kept."""
