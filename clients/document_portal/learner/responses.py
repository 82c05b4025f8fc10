"""The signed PDF as a response: shown inline in the portal's own viewer frame, or downloaded;
and the Content-Security-Policy of the pages that hold that frame (issue 13: "CSP allowing
the viewer only where needed")."""

from __future__ import annotations

import re
import unicodedata

from flask import Response

from clients.document_portal.documents.models import Document
from clients.portal_kit.web import apply_security_headers


def download_name(document: Document, locale: str) -> str:
    """« Releve-de-notes-2026-12-07.pdf »: the title in the page's language, ASCII only."""
    ascii_title = unicodedata.normalize("NFKD", document.title(locale)).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^A-Za-z0-9]+", "-", ascii_title).strip("-")[:80] or "document"
    return f"{slug}-{document.issued_at:%Y-%m-%d}.pdf"


def pdf_response(document: Document, locale: str, *, inline: bool) -> Response:
    """The PDF exactly as signed. Inline, only the portal's own pages may frame it (the viewer);
    as a download, nothing may. Never cached, never sniffed as anything else."""
    disposition = "inline" if inline else "attachment"
    response = Response(document.pdf, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'{disposition}; filename="{download_name(document, locale)}"'
    response.headers["Content-Security-Policy"] = "frame-ancestors 'self'" if inline else "frame-ancestors 'none'"
    response.headers["X-Frame-Options"] = "SAMEORIGIN" if inline else "DENY"
    response.headers["Cross-Origin-Resource-Policy"] = "same-origin"
    response.headers["Cache-Control"] = "no-store"
    return response


def allow_viewer(response: Response, *, form_action_origin: str, https: bool) -> Response:
    """The portal's usual headers, its policy widened by one source only: frames from this
    portal (the PDF viewer). Set before the app's defaults, which then leave it alone."""
    apply_security_headers(response, form_action_origin=form_action_origin, https=https)
    policy = response.headers["Content-Security-Policy"]
    response.headers["Content-Security-Policy"] = policy.replace("default-src 'none';", "default-src 'none'; frame-src 'self';", 1)
    return response
