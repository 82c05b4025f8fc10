"""The challenge endpoint the widget calls, and check_robot() for the forms that use it.

Forms declare `altcha = RobotCheckField()` (idp/robot/forms.py), pages render it with
robot_check(form.altcha) from templates/_macros/robot.html, and views call
check_robot(form.altcha) after form.validate() and before anything else that writes: it
commits the spent answer at once.
"""

from __future__ import annotations

from flask import Blueprint, abort, current_app, jsonify
from flask_babel import lazy_gettext as _l
from wtforms import Field

from idp.context import app_context
from idp.extensions import db, limiter
from idp.robot.errors import RobotCheckFailed
from idp.robot.services import RobotCheckService
from idp.web.text import ROBOT_TEXT, ROBOT_WIDGET_TEXT

bp = Blueprint("robot", __name__)

ERROR_MESSAGES = {
    RobotCheckFailed: _l(
        "We could not confirm you are not a robot. Check the box, wait until it says you are "
        "verified, then submit the form again."
    ),
}


def get_robot_service() -> RobotCheckService:
    ctx = app_context()
    return RobotCheckService(db.session, ctx.settings, ctx.clock)


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


def check_robot(field: Field) -> bool:
    """Verify the answer in field.data; on failure add the translated message to field.errors.

    Returns True when the check passed (or ROBOT_CHECK_ENABLED is off). An accepted answer
    is spent and committed at once, on its own: whatever the rest of the form does next
    (a field error, a refused code, a rollback), that answer has had its one submission.
    Call it after form.validate() (which clears field errors) and before the view changes
    anything else, since the commit takes whatever the session holds.
    """
    try:
        get_robot_service().verify(field.data)
    except RobotCheckFailed as error:
        if not isinstance(field.errors, list):
            field.errors = list(field.errors)
        field.errors.append(str(ERROR_MESSAGES[type(error)]))
        current_app.logger.info("not-a-robot check refused: %s", error.reason)
        return False
    db.session.commit()
    return True
