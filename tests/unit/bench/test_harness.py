"""The pure parts of the benchmark harness (bench/run.py, bench/signin_flow.py): what it
reads, how it sums up, how the sign-in walk keeps its cookies. The harness itself runs
servers and wrk; docs/performance.md records its runs."""

from __future__ import annotations

import importlib.util
import sys
from email.message import EmailMessage
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[3] / "bench"


def _load(name: str, filename: str):
    spec = importlib.util.spec_from_file_location(name, BENCH / filename)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


run = _load("bench_run", "run.py")
signin_flow = _load("bench_signin_flow", "signin_flow.py")


def make_run(server, endpoint, rps, cpu, *, valid=True, round_no=1, p99=10.0):
    return run.Run(server=server, endpoint=endpoint, round=round_no, rps=rps, p50_ms=1.0, p99_ms=p99, requests=100,
                   errors=0, exhausted=0, cpu_ms_per_req=cpu, wrk_cpu_pct=5, other_cpu_pct=3, valid=valid)


def test_the_committed_granian_settings_are_read_as_systemd_reads_them():
    values = run.read_env_file((BENCH.parent / "config" / "granian.env").read_text())
    assert values["GRANIAN_INTERFACE"] == "wsgi" and values["GRANIAN_FACTORY"] == "true"
    assert run.read_env_file("# note\n\nA=1\nB='two words'\n") == {"A": "1", "B": "two words"}


def test_granian_env_puts_each_server_on_its_port_and_worker_count(tmp_path):
    env = run.granian_env(4, 5123, tmp_path / "metrics", factory=False)
    assert (env["GRANIAN_PORT"], env["GRANIAN_WORKERS"], env["GRANIAN_HOST"]) == ("5123", "4", "127.0.0.1")
    assert env["GRANIAN_FACTORY"] == "false" and (tmp_path / "metrics").is_dir()
    assert env["GRANIAN_BACKPRESSURE"]  # the rest as committed


@pytest.mark.parametrize(("text", "counts"), [("2", [2]), ("1,2,4", [1, 2, 4]), (" 4 , 1 ", [4, 1])])
def test_worker_counts(text, counts):
    assert run.parse_workers(text) == counts


@pytest.mark.parametrize("text", ["", "0", "1,,2", "two", "100"])
def test_worker_counts_refused(text):
    with pytest.raises(ValueError):
        run.parse_workers(text)


def test_arguments_default_to_both_servers_and_every_row():
    args = run.parse_args(["--quick", "--workers", "1,2"])
    assert args.servers == ["granian", "gunicorn"] and args.worker_counts == [1, 2]
    assert {"userinfo", "introspection", "signin"} <= set(args.endpoints)
    assert (args.rounds, args.duration) == (2, 3)
    with pytest.raises(SystemExit):
        run.parse_args(["--servers", "uwsgi"])


def test_summary_takes_medians_of_valid_rounds_only_and_ratios_compare_to_oidc_provider():
    runs = [make_run("passerelle-granian", "jwks", rps, cpu, round_no=i) for i, (rps, cpu) in
            enumerate([(900, 0.3), (1100, 0.2), (1000, 0.25)], start=1)]
    runs += [make_run("passerelle-granian", "jwks", 5, 9.0, valid=False)]
    runs += [make_run("oidc-provider", "jwks", 2000, 0.5)]
    mine = run.summarise(runs, "passerelle-granian", "jwks")
    assert (mine["rounds"], mine["rps"], mine["cpu_ms_per_req"]) == (3, 1000, 0.25)
    ratio, cpu_ratio = run.ratios(mine, run.summarise(runs, "oidc-provider", "jwks"))
    assert ratio == pytest.approx(0.5) and cpu_ratio == pytest.approx(2.0)
    assert run.ratios(mine, None) == (None, None)
    assert run.summarise(runs, "passerelle-gunicorn", "jwks") is None


def test_signin_rate_per_core_and_latency_percentiles():
    assert run.signins_per_core(50.0) == pytest.approx(20.0)
    assert run.signins_per_core(0) == 0
    assert run.percentile([5, 1, 4, 2, 3], 0.5) == 3
    assert run.percentile(list(range(1, 101)), 0.99) == 99


def test_rss_growth_is_the_largest_worker_from_first_to_last_sample():
    samples = [{"requests": 1000, "worker_rss_mb": [90.0, 95.5]}, {"requests": 50_000, "worker_rss_mb": []},
               {"requests": 101_000, "worker_rss_mb": [92.0, 97.0]}]
    summary = run.rss_summary(samples)
    assert summary["first_mb"] == 95.5 and summary["last_mb"] == 97.0 and summary["growth_mb"] == 1.5
    assert summary["requests_between"] == 100_000
    assert run.rss_summary([]) is None


def test_introspection_body_escapes_the_token():
    prefix, suffix = run.token_body("introspection", "a+b/c=")
    assert prefix + suffix == "token_type_hint=access_token&token=a%2Bb%2Fc%3D"


def test_the_smtp_sink_keeps_the_last_code_per_recipient():
    sink = signin_flow.SmtpSink()
    try:
        message = EmailMessage()
        message["Subject"] = "Your Passerelle sign-in code"
        message.set_content("Your code is 123456. It works for 3 minutes.")
        message.add_alternative("<p>Your code is <b>123456</b></p>", subtype="html")
        sink.deliver(["zoe@example.ca"], message.as_bytes())
        assert sink.wait_code("zoe@example.ca", timeout=1) == "123456"
        sink.forget("zoe@example.ca")
        with pytest.raises(signin_flow.SignInError):
            sink.wait_code("zoe@example.ca", timeout=0.05)
    finally:
        sink.server.server_close()


def test_the_walk_keeps_cookies_by_hand_and_drops_deleted_ones():
    found = signin_flow.cookies_from([
        "session=abc; Secure; HttpOnly; Path=/; SameSite=Lax",
        "__Host-signin=xyz; Secure; Path=/",
        "old=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Path=/",
    ])
    assert found == {"session": "abc", "__Host-signin": "xyz", "old": None}


def test_the_walk_reads_the_csrf_token_in_either_attribute_order():
    assert signin_flow.csrf_token('<input type="hidden" name="csrf_token" value="t1">') == "t1"
    assert signin_flow.csrf_token('<input value="t2" type="hidden" name="csrf_token">') == "t2"
    with pytest.raises(signin_flow.SignInError):
        signin_flow.csrf_token("<form></form>")


def test_the_walk_talks_to_loopback_only():
    with pytest.raises(signin_flow.SignInError):
        signin_flow.SignInWalk("http://example.com", "c", "s", "http://127.0.0.1:9/cb")


def test_granian_settings_changed_for_one_run(tmp_path):
    changes = run.parse_assignments(["GRANIAN_BACKPRESSURE=8", "MALLOC_ARENA_MAX=2"])
    env = run.granian_env(2, 5000, tmp_path, factory=True, changes=changes)
    assert env["GRANIAN_BACKPRESSURE"] == "8" and env["MALLOC_ARENA_MAX"] == "2"
    with pytest.raises(ValueError):
        run.parse_assignments(["GRANIAN BACKPRESSURE"])


def test_a_row_with_no_valid_round_is_shown_from_its_invalid_rounds_and_marked():
    runs = [make_run("passerelle-granian", "refresh", 300, 2.0, valid=False),
            make_run("passerelle-granian", "refresh", 500, 2.2, valid=False, round_no=2)]
    assert run.summarise(runs, "passerelle-granian", "refresh") is None
    shown = run.summarise(runs, "passerelle-granian", "refresh", or_invalid=True)
    assert shown["valid"] is False and shown["rps"] == 400
    runs.append(make_run("passerelle-granian", "refresh", 900, 1.0, round_no=3))
    assert run.summarise(runs, "passerelle-granian", "refresh", or_invalid=True)["rps"] == 900


def test_each_run_of_the_harness_draws_its_own_secrets():
    first, second = run.instance_secrets(), run.instance_secrets()
    assert set(first) == {"IDP_SECRET_KEY", "IDP_SECRETS_HASH_KEY", "IDP_KEYS_ENCRYPTION_KEY", "IDP_OIDC_PAIRWISE_SALT"}
    assert all(len(value) >= 32 for value in first.values()) and first != second
