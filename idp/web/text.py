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

# The "not a robot" check (templates/_macros/robot.html, idp/robot).
ROBOT_TEXT = {
    "hint": _l(
        "Check the box. Your browser then solves a small calculation, which takes a few seconds; "
        "wait until it says you are verified. Nothing about you is sent to anyone else."
    ),
    "noscript": _l(
        "This check needs JavaScript, which is turned off in your browser. Turn it on and reload this page."
    ),
    "trouble": _l("If the check keeps failing, reload the page and try again in a few minutes."),
    "help_link": _l("Get help with the check"),
}

# The widget's own words, passed to <altcha-widget strings="…"> (keys are the widget's).
ROBOT_WIDGET_TEXT = {
    "label": _l("I am not a robot"),
    "verifying": _l("Verifying…"),
    "verified": _l("Verified"),
    "error": _l("The check did not work. Check the box to try again."),
    "expired": _l("The check expired. Check the box to try again."),
    "waitAlert": _l("Verifying… please wait."),
    "verificationRequired": _l("Verification required."),
    "ariaLinkLabel": _l("About the not-a-robot check"),
    "footer": "",
}

# The page around the legal documents (templates/terms/_document.html, idp/terms).
TERMS_TEXT = {
    "terms_title": _l("Terms of use"),
    "privacy_title": _l("Privacy policy"),
    "version": _l("Version %(version)s"),
    "version_published": _l("Version %(version)s, in force since %(date)s"),
    "earlier_version": _l("This is an earlier version, no longer in force."),
    "read_current": _l("Read the version in force."),
    "see_also": _l("See also"),
    "earlier_link": _l("Earlier version %(version)s"),
}
