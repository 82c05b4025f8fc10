"""Words the shared template macros show.

They live here, not in templates/_macros/, because Babel's extraction skips directories
whose names start with "_", so strings written there would never reach the catalogs.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

FORM_TEXT = {
    "summary_title": _l("There is a problem"),
    "error_prefix": _l("Error:"),
    # The page title of a form shown again with errors, e.g. "Error: Sign in".
    "error_title": _l("Error: %(title)s"),
}

# The footer of every email (templates/email/_base/).
EMAIL_TEXT = {
    "footer": _l("This message was sent automatically; replies are not read. Help: %(help_url)s"),
}
