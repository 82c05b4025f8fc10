"""The form field that carries the "not a robot" answer. Shape only: the service decides."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from markupsafe import Markup
from wtforms import HiddenField


def _render_nothing(field, **kwargs) -> Markup:
    # The widget writes its own hidden input with this field's name once solved; a second,
    # empty input of the same name would shadow it. Render with robot_check() instead.
    return Markup("")


class RobotCheckField(HiddenField):
    """Declare `altcha = RobotCheckField()` on a form; render it with robot_check(form.altcha)
    from templates/_macros/robot.html; in the view call check_robot(form.altcha) from
    idp.robot.views after form.validate() and before anything else writes (it commits)."""

    widget = staticmethod(_render_nothing)

    def __init__(self, label=None, validators=None, **kwargs):
        super().__init__(label if label is not None else _l("Confirm you are not a robot"), validators, **kwargs)
