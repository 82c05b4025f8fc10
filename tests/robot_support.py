"""Passing the "not a robot" check in tests, the way the widget does: fetch a challenge from
the app, solve it with the altcha library's solver, and post the base64 JSON payload as the
form's `altcha` field. config/test.toml keeps ROBOT_CHECK_MAX_NUMBER small, so it is quick.

    form["altcha"] = solve_robot_check(client)              # a Flask test client
    form["altcha"] = solve_robot_check(live_server.url)     # a live server's base URL
"""

from __future__ import annotations

import base64
import json
from typing import Any

import altcha

CHALLENGE_PATH = "/robot/challenge"


def fetch_robot_challenge(client_or_base_url: Any) -> dict[str, Any]:
    if isinstance(client_or_base_url, str):
        import requests

        response = requests.get(client_or_base_url.rstrip("/") + CHALLENGE_PATH, timeout=10)
        assert response.status_code == 200, response.text
        return response.json()
    response = client_or_base_url.get(CHALLENGE_PATH)
    assert response.status_code == 200, response.text
    return response.get_json()


def solve(challenge: dict[str, Any]) -> str:
    """The payload for one challenge, as the widget builds it (altcha.js, v1 payload)."""
    solution = altcha.solve_challenge_v1(
        challenge["challenge"], challenge["salt"], challenge["algorithm"], challenge["maxnumber"]
    )
    assert solution is not None, "the challenge has no solution below maxnumber"
    payload = {
        "algorithm": challenge["algorithm"],
        "challenge": challenge["challenge"],
        "number": solution.number,
        "salt": challenge["salt"],
        "signature": challenge["signature"],
        "took": int(solution.took * 1000),
    }
    return base64.b64encode(json.dumps(payload).encode()).decode()


def solve_robot_check(client_or_base_url: Any) -> str:
    """A fresh, valid payload to post as `altcha` (single use: solve again for each post)."""
    return solve(fetch_robot_challenge(client_or_base_url))
