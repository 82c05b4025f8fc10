"""check_robot() for the forms of every feature that asks for the not-a-robot check.

Views call check_robot(form.altcha) after form.validate() and before anything else that
writes: it commits the spent answer at once. Kept out of robot/views.py so that other
features' views never import a views module.
"""

from __future__ import annotations

from flask import current_app
from flask_babel import lazy_gettext as _l
from wtforms import Field

from idp.context import app_context
from idp.extensions import db
from idp.robot.errors import RobotCheckFailed
from idp.robot.services import RobotCheckService

ERROR_MESSAGES = {
    RobotCheckFailed: _l(
        "We could not confirm you are not a robot. Check the box, wait until it says you are "
        "verified, then submit the form again."
    ),
}


def get_robot_service() -> RobotCheckService:
    ctx = app_context()
    return RobotCheckService(db.session, ctx.settings, ctx.clock)


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
