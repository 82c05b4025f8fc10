"""pyHanko's synchronous calls run an event loop of their own (asyncio.run). Called from a
thread where one already runs (an asynchronous server, or the browser tests' Playwright),
they would fail with "asyncio.run() cannot be called from a running event loop": signing,
verifying and the trust check must work there too."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

from clients.document_portal.signing.pades import sign_pdf
from clients.document_portal.signing.verification import VerificationStatus, check_signer_trusted, verify
from tests.unit.document_portal.signing.conftest import SIGNED_AT


def inside_a_running_loop(function, *args, **kwargs):
    """Call `function` synchronously from a coroutine, as a view would under an asynchronous
    server: in a thread of its own, whose loop is the only one there (the main thread may
    already run Playwright's)."""
    async def call():
        return function(*args, **kwargs)

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, call()).result()


def test_sign_verify_and_the_trust_check_work_where_an_event_loop_runs(transcript_pdf, credentials, trust_roots,
                                                                       clock):
    signed = inside_a_running_loop(sign_pdf, transcript_pdf, credentials, reason="Relevé", clock=clock)
    result = inside_a_running_loop(verify, signed, trust_roots, at=SIGNED_AT)
    assert result.status is VerificationStatus.VALID
    inside_a_running_loop(check_signer_trusted, credentials, trust_roots, SIGNED_AT)  # no exception
