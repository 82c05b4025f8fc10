"""`idp terms`: publish a version of the terms of use and privacy policy, list versions.

A version is a folder templates/terms/<version>/ with four documents (terms and privacy,
French and English). Publishing puts it in force: everyone's next sign-in asks them to read
and accept it (issue 3, Terms of use and privacy policy).
"""

from __future__ import annotations

import click

from idp.cli.base import error_message, in_app, json_option, print_json, services


def terms_service():
    from idp.terms.services import TermsService

    session, context = services()
    return TermsService(session, context.settings, context.clock)


@click.group()
def terms() -> None:
    """Terms of use and privacy policy versions."""


@terms.command("publish")
@click.argument("version")
@in_app
def publish(version: str) -> None:
    """Put VERSION (a folder of templates/terms/) in force now."""
    from idp.extensions import db
    from idp.terms.errors import TermsError

    try:
        published = terms_service().publish(version)
    except TermsError as error:
        db.session.rollback()
        raise click.ClickException(f"{version}: {error_message(error)}") from None
    db.session.commit()
    click.echo(f"published {published.version} at {published.published_at.isoformat()}: "
               "people accept it at their next sign-in")


@terms.command("list")
@json_option
@in_app
def list_versions(as_json: bool) -> None:
    """Published versions, newest first, then bundled versions never published."""
    versions = terms_service().list_versions()
    if as_json:
        print_json([
            {"version": info.version, "published_at": info.published_at, "is_current": info.is_current,
             "has_documents": info.has_documents}
            for info in versions
        ])
        return
    for info in versions:
        published = info.published_at.isoformat() if info.published_at else "not published"
        marks = [mark for mark, flag in (("in force", info.is_current), ("documents missing", not info.has_documents)) if flag]
        click.echo(f"{info.version}\t{published}" + (f"\t({', '.join(marks)})" if marks else ""))
