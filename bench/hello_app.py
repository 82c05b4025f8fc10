"""The bare-Flask ceiling: one route, no database, no extensions.

bench/run.py serves it with the same gunicorn settings as Passerelle, so its req/s is the most
any Flask endpoint can reach on this machine with that server configuration.
"""

from flask import Flask

app = Flask(__name__)


@app.get("/hello")
def hello():
    return {"hello": "world"}
