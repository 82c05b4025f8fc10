"""Email bodies from templates/clients/institution_portal/email/<name>/ (subject.txt,
body.txt, body.html), in one language or in French and English together. No Flask: the
`periods run` command and the views render the same way, with the shared catalog.

Each template holds only its message; the layout (_base/layout.txt, _base/layout.html) puts
one section per language around it, with the footer, so a bilingual message is one email
with the French first, then the English (the ministry's practice), each marked with its lang.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path

from babel.dates import format_date
from babel.support import Translations
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

PROJECT_ROOT = Path(__file__).resolve().parents[3]
TEMPLATES = PROJECT_ROOT / "templates"
TRANSLATIONS = PROJECT_ROOT / "translations"
EMAIL_FOLDER = "clients/institution_portal/email"
LOCALES = ("fr", "en")
# Dates as people in Canada write them: « 31 décembre 2026 », "December 31, 2026".
BABEL_LOCALES = {"fr": "fr_CA", "en": "en_CA"}


def N_(message: str) -> str:
    """Marks a string for extraction (Babel's default keywords); translated when rendered."""
    return message


# Here rather than in templates/.../_base/: Babel does not extract from "_" folders.
FOOTER = N_("This message was sent by the Portal for designated learning institutions. Help: %(url)s")


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    text: str
    html: str
    locales: tuple[str, ...]


def locales_for(locale: str | None) -> tuple[str, ...]:
    """The person's language when it is known, else French and English together."""
    return (locale,) if locale in LOCALES else LOCALES


def long_date(value: date, locale: str) -> str:
    return format_date(value, format="long", locale=BABEL_LOCALES[locale])


@lru_cache(maxsize=4)
def translations(locale: str) -> Translations:
    return Translations.load(str(TRANSLATIONS), [locale])


@lru_cache(maxsize=4)
def environment(locale: str) -> Environment:
    """A Jinja environment whose gettext is this language's catalog."""
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        extensions=["jinja2.ext.i18n"],
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        keep_trailing_newline=False,
    )
    env.policies["ext.i18n.trimmed"] = True
    env.install_gettext_translations(translations(locale), newstyle=True)
    env.filters["long_date"] = lambda value: long_date(value, locale)
    return env


def render_email(name: str, locales: tuple[str, ...], context: dict) -> RenderedEmail:
    """The message `name` in these languages (one, or fr then en). context is the same for
    every language; `locale` is added. Raises jinja2's TemplateNotFound for a wrong name."""
    sections = []
    for locale in locales:
        env = environment(locale)
        values = {**context, "locale": locale}
        sections.append({
            "locale": locale,
            "subject": " ".join(env.get_template(f"{EMAIL_FOLDER}/{name}/subject.txt").render(values).split()),
            "text": env.get_template(f"{EMAIL_FOLDER}/{name}/body.txt").render(values).strip(),
            "html": env.get_template(f"{EMAIL_FOLDER}/{name}/body.html").render(values),
            "footer": translations(locale).gettext(FOOTER) % {"url": context["help_url"]},
        })
    layout = environment(locales[0])
    subject = " / ".join(section["subject"] for section in sections)
    text = layout.get_template(f"{EMAIL_FOLDER}/_base/layout.txt").render(sections=sections)
    html = layout.get_template(f"{EMAIL_FOLDER}/_base/layout.html").render(
        sections=sections, subject=subject, locale=locales[0])
    return RenderedEmail(subject=subject, text=text.strip() + "\n", html=html, locales=tuple(locales))
