"""Unbound extension instances, bound to the app in create_app()."""

from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect

from idp.db import Base

db = SQLAlchemy(model_class=Base)
babel = Babel()
csrf = CSRFProtect()
# Per-address limits on guessable endpoints (ASVS 2.2.1). Counters live in
# RATELIMIT_STORAGE_URI: memory:// for one process, redis:// for several workers or hosts.
# Per-account counters live in the database instead (idp.accounts.throttle).
limiter = Limiter(key_func=get_remote_address, default_limits=[])
