"""The challenge endpoint the widget calls, and the widget's words for the pages.

Forms declare `altcha = RobotCheckField()` (idp/robot/forms.py), pages render it with
robot_check(form.altcha) from templates/_macros/robot.html, and views call
idp.robot.web.check_robot(form.altcha).
"""

from __future__ import annotations

from flask import Blueprint, abort, current_app, jsonify

from idp.extensions import limiter
from idp.robot.web import get_robot_service
from idp.web.text import ROBOT_TEXT, ROBOT_WIDGET_TEXT

bp = Blueprint("robot", __name__)


def robot_widget_strings() -> dict[str, str]:
    """The widget's words in the page's language, for its `strings` attribute (JSON)."""
    return {key: str(value) for key, value in ROBOT_WIDGET_TEXT.items()}


# Globals, not context variables: macros imported without context still see them.
bp.record_once(
    lambda state: state.app.jinja_env.globals.update(robot_text=ROBOT_TEXT, robot_widget_strings=robot_widget_strings)
)


@bp.route("/robot/challenge")
@limiter.limit(lambda: current_app.config["ROBOT_CHECK_RATE_LIMIT"])
def challenge():
    """A fresh signed challenge (JSON). Never cached: each one is single use."""
    service = get_robot_service()
    if not service.is_enabled:
        abort(404)
    response = jsonify(service.new_challenge())
    response.headers["Cache-Control"] = "no-store"
    return response
