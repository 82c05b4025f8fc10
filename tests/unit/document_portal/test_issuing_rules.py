"""The document portal's rules without a server: who is staff (the organization claim and
two-factor), what a learner's fields may hold, the transcript form's courses, the bulk CSV
and ZIP, the settings it refuses to start with, and CSV that cannot run formulas."""

from __future__ import annotations

import csv
import io
import zipfile

import pytest

from clients.document_portal import config
from clients.document_portal.claims import check_identity
from clients.document_portal.errors import BulkRefused, InvalidField, InvalidIdToken, StaffNeedsTwoFactor
from clients.document_portal.issuing import bulk
from clients.document_portal.issuing.services import DocumentRequest, clean, clean_email, parse_courses
from clients.portal_kit.spreadsheet import csv_bytes, safe_cell

MFA, PWD = "urn:passerelle:acr:mfa", "urn:passerelle:acr:pwd"
ORDER = ["urn:passerelle:acr:pwd", "urn:passerelle:acr:pwd-email", MFA, "urn:passerelle:acr:mfa-phr"]
SCHOOL = {"id": "org-1", "kind": "issuer", "number": "E000000000001", "role": "secondary",
          "name": {"fr": "École Imaginaire", "en": "Imaginary School"}}


def test_a_member_of_an_issuer_with_two_factor_is_staff_of_that_school():
    identity = check_identity({"sub": "s1", "acr": MFA, "amr": ["pwd", "otp", "mfa"], "organization": SCHOOL},
                              MFA, ORDER)
    assert identity.role == "staff" and identity.organization_id == "org-1"
    assert identity.organization_number == "E000000000001" and identity.organization_name_en == "Imaginary School"


def test_a_higher_level_also_makes_staff():
    claims = {"sub": "s1", "acr": "urn:passerelle:acr:mfa-phr", "amr": ["pwd", "hwk", "mfa"], "organization": SCHOOL}
    assert check_identity(claims, MFA, ORDER).role == "staff"


@pytest.mark.parametrize("claims", [
    {"acr": PWD, "amr": ["pwd"]},
    {"acr": "urn:passerelle:acr:pwd-email", "amr": ["pwd", "email"]},
    {"acr": MFA, "amr": ["pwd"]},  # no mfa in amr
])
def test_staff_below_two_factor_are_stepped_up_not_let_in(claims):
    with pytest.raises(StaffNeedsTwoFactor):
        check_identity({"sub": "s1", "organization": SCHOOL, **claims}, MFA, ORDER)


@pytest.mark.parametrize("organization", [None, {**SCHOOL, "kind": "dli"}, "issuer"])
def test_anyone_else_is_a_learner_at_any_level(organization):
    claims = {"sub": "s2", "acr": PWD, "amr": ["pwd"], "given_name": "Zoé"}
    if organization is not None:
        claims["organization"] = organization
    identity = check_identity(claims, MFA, ORDER)
    assert identity.role == "learner" and identity.organization_id is None and identity.given_name == "Zoé"


def test_a_token_without_sub_or_with_a_malformed_school_is_refused():
    with pytest.raises(InvalidIdToken):
        check_identity({"acr": MFA, "amr": ["mfa"]}, MFA, ORDER)
    with pytest.raises(InvalidIdToken):
        check_identity({"sub": "s", "acr": MFA, "amr": ["mfa"], "organization": {"kind": "issuer"}}, MFA, ORDER)


@pytest.mark.parametrize(("address", "reason"), [
    ("<script>@example.ca", "markup"), ("Zoé <zoe@example.ca>", "markup"), ("zoe@example.ca\nBcc: x@y.z", "markup"),
    ("zoe @example.ca", "markup"), ("zoe\u200b@example.ca", "markup"), ("zoe@", "email"), ("", "missing"),
    ("a" * 250 + "@example.ca", "email"),
])
def test_an_address_with_markup_spaces_or_no_domain_is_refused(address, reason):
    with pytest.raises(InvalidField) as refused:
        clean_email("email", address)
    assert refused.value.reason == reason


def test_an_address_is_kept_in_lower_case():
    assert clean_email("email", "  Zoe.Citoyenne@Example.CA ") == "zoe.citoyenne@example.ca"


def request(**fields) -> DocumentRequest:
    values = {"kind": "transcript", "title_fr": "Relevé de notes", "title_en": "Transcript", "given_name": "Zoé",
              "family_name": "Citoyenne", "email": "zoe@example.ca", "locale": "fr",
              "contact_email": "info@ecole.example"}
    return DocumentRequest(**{**values, **fields})


@pytest.mark.parametrize(("fields", "field", "reason"), [
    ({"kind": "passport"}, "kind", "choice"), ({"locale": "de"}, "locale", "choice"),
    ({"given_name": "<b>Zoé</b>"}, "given_name", "characters"), ({"family_name": "Ci\u202etoyenne"}, "family_name", "characters"),
    ({"title_fr": "x" * 201}, "title_fr", "too_long"), ({"title_en": "  "}, "title_en", "missing"),
    ({"contact_email": "info at ecole"}, "contact_email", "markup"),
])
def test_each_field_is_checked(fields, field, reason):
    with pytest.raises(InvalidField) as refused:
        clean(request(**fields))
    assert (refused.value.field, refused.value.reason) == (field, reason)


def test_names_with_accents_apostrophes_and_hyphens_are_kept():
    cleaned = clean(request(given_name="  Marie-Ève ", family_name="O'Neil-Côté"))
    assert (cleaned.given_name, cleaned.family_name) == ("Marie-Ève", "O'Neil-Côté")


def test_courses_are_read_one_per_line():
    courses = parse_courses("MAT101; Calcul I; A; 3; Automne 2026\n\nHIS110;Histoire;B+;1,5")
    assert [(course.code, str(course.credits), course.term) for course in courses] == [
        ("MAT101", "3", "Automne 2026"), ("HIS110", "1.5", "")]
    for text in ("", "MAT101; Calcul", "MAT101; Calcul; A; trois", "MAT101; Calcul; A; NaN", "X; <b>y</b>; A; 3"):
        with pytest.raises(InvalidField):
            parse_courses(text)


HEADER = "email,given_name,family_name,locale,kind,title_fr,title_en,file\n"


def zip_bytes(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def check(csv_text: str, files: dict[str, bytes], max_member: int = 1000, max_total: int = 5000):
    return bulk.check_batch(csv_text.encode("utf-8"), zip_bytes(files), "info@ecole.example", lambda data: None,
                            max_member, max_total)


def test_a_good_batch_is_read_with_a_bom_and_semicolons():
    text = "\ufeff" + HEADER.replace(",", ";") + "zoe@example.ca;Zoé;Citoyenne;;Diploma;Diplôme;Diploma;z.pdf\n"
    [row] = check(text, {"z.pdf": b"%PDF-1.7"})
    assert row.line == 2 and row.request.kind == "diploma" and row.request.locale == "fr" and row.pdf == b"%PDF-1.7"


def test_every_problem_of_a_batch_is_listed_by_line():
    text = HEADER + ("<b>x</b>@example.ca,A,B,fr,transcript,R,T,a.pdf\n"
                     "ok@example.ca,A,B,fr,transcript,R,T,missing.pdf\n"
                     "ok2@example.ca,A,B,fr,transcript,R,T,a.pdf\n"
                     "ok3@example.ca,A,B,fr,transcript,R,T,a.pdf\n")
    with pytest.raises(BulkRefused) as refused:
        check(text, {"a.pdf": b"%PDF-1.7"})
    assert refused.value.problems == [(2, "email", "markup"), (3, "file", "missing_file"), (5, "file", "file_twice")]


@pytest.mark.parametrize(("csv_data", "reason"), [
    (b"", "csv_size"), (b"\xff\xfe\x00n", "csv_encoding"), (b"email,name\nx,y\n", "csv_columns"),
    (HEADER.encode(), "csv_empty"),
])
def test_an_unusable_csv_is_refused_as_a_whole(csv_data, reason):
    with pytest.raises(BulkRefused) as refused:
        bulk.check_batch(csv_data, zip_bytes({}), "info@ecole.example", lambda data: None, 1000, 5000)
    assert refused.value.problems == [(0, "csv", reason)]


def test_too_many_lines_are_refused():
    lines = "".join(f"p{n}@example.ca,A,B,fr,transcript,R,T,{n}.pdf\n" for n in range(bulk.MAX_ROWS + 1))
    with pytest.raises(BulkRefused) as refused:
        check(HEADER + lines, {})
    assert refused.value.problems == [(0, "csv", "csv_rows")]


@pytest.mark.parametrize(("files", "reason"), [
    ({"../evil.pdf": b"%PDF"}, "zip_names"), ({"dir/a.pdf": b"%PDF"}, "zip_names"), ({".hidden": b"x"}, "zip_names"),
    ({"big.pdf": b"0" * 2000}, "zip_size"),  # over one member's limit
    ({f"{n}.pdf": b"0" * 900 for n in range(7)}, "zip_size"),  # over the total
])
def test_unsafe_or_oversized_zip_members_are_refused(files, reason):
    with pytest.raises(BulkRefused) as refused:
        check(HEADER + "a@example.ca,A,B,fr,transcript,R,T,a.pdf\n", files)
    assert refused.value.problems == [(0, "zip", reason)]


def test_a_zip_bomb_stops_at_the_limit():
    bomb = zip_bytes({"bomb.pdf": b"0" * (50 * 1024 * 1024)})  # 50 MB that compress to ~50 kB
    assert len(bomb) < 200_000
    with pytest.raises(BulkRefused) as refused:
        bulk.read_zip(bomb, max_member_bytes=1024 * 1024, max_total_bytes=5 * 1024 * 1024)
    assert refused.value.problems == [(0, "zip", "zip_size")]


def test_not_a_zip_is_refused():
    with pytest.raises(BulkRefused) as refused:
        bulk.read_zip(b"PK\x03\x04 broken", 1000, 5000)
    assert refused.value.problems == [(0, "zip", "zip_unreadable")]


@pytest.mark.parametrize("value", ["=1+1", "+33", "-2", "@SUM(A1)", "\tx", "\rx", "＝1"])
def test_formula_cells_are_neutralised(value):
    assert safe_cell(value) == "'" + value
    rows = list(csv.reader(io.StringIO(csv_bytes(["a"], [[value]]).decode("utf-8-sig"))))
    assert rows[1] == ["'" + value]


def test_plain_cells_are_kept():
    assert safe_cell("Zoé") == "Zoé" and safe_cell(None) == "" and safe_cell(3) == "3"


BASE = {"DOCUMENT_PORTAL_ISSUER": "https://login.example.ca", "DOCUMENT_PORTAL_CLIENT_ID": "document-portal",
        "DOCUMENT_PORTAL_CLIENT_SECRET": "s", "DOCUMENT_PORTAL_BASE_URL": "https://documents.example.ca/",
        "DOCUMENT_PORTAL_SECRET_KEY": "k" * 40, "DOCUMENT_PORTAL_DATABASE_URL": "sqlite://"}


def settings(**overrides):
    return config.validate(config.load({**BASE, **overrides}, environ={}))


def test_good_settings_are_normalised():
    good = settings()
    assert good.DOCUMENT_PORTAL_BASE_URL == "https://documents.example.ca"
    assert good.redirect_uri == "https://documents.example.ca/callback"
    assert good.faq_url == "https://documents.example.ca/help"
    assert good.DOCUMENT_PORTAL_SESSION_COOKIE_NAME == "document_portal_session"
    assert "k" * 40 not in repr(good) and "'s'" not in repr(good)  # secrets stay out of logs


@pytest.mark.parametrize(("overrides", "words"), [
    ({"DOCUMENT_PORTAL_ISSUER": None}, "missing settings: DOCUMENT_PORTAL_ISSUER"),
    ({"DOCUMENT_PORTAL_SECRET_KEY": "short"}, "at least 32"),
    ({"DOCUMENT_PORTAL_BASE_URL": "http://documents.example.ca"}, "https"),
    ({"DOCUMENT_PORTAL_SESSION_COOKIE_NAME": "institution_portal_session"}, "cookie"),
    ({"DOCUMENT_PORTAL_SESSION_COOKIE_NAME": "passerelle_session"}, "cookie"),
    ({"DOCUMENT_PORTAL_MAX_BULK_BYTES": "lots"}, "DOCUMENT_PORTAL_MAX_BULK_BYTES"),
    ({"DOCUMENT_PORTAL_SMTP_SECURITY": "none", "DOCUMENT_PORTAL_SMTP_HOST": "mail.example.ca"}, "clear"),
    ({"DOCUMENT_PORTAL_MAIL_FROM": "nobody"}, "MAIL_FROM"),
    ({"DOCUMENT_PORTAL_ENV": "staging"}, "DOCUMENT_PORTAL_ENV"),
])
def test_the_portal_refuses_to_start_on_a_wrong_setting(overrides, words):
    with pytest.raises(config.ConfigError) as refused:
        settings(**overrides)
    assert words in str(refused.value)
