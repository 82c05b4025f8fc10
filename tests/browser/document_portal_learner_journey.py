"""The second half of the document portal's browser journey (issue 13, Done when), from a
learner signed in to the portal: views and verifies a document → shares it → a third party
opens the link in a fresh browser and sees "valid" → the learner revokes → the link is dead.
axe-core on every page. tests/browser/test_document_portal.py's end-to-end journey calls it
once the learner lands in the portal."""

from __future__ import annotations

from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.browser.axe import AxeChecker
from tests.browser.conftest import TIMEOUT_MS

TEXT = {
    "fr": {
        "my_documents": "Mes documents",
        "document": "Relevé de notes",
        "valid": "Valide : ce document a été émis par ce portail",
        "signed_by": "Signé par",
        "download": "Télécharger le PDF signé",
        "days": "Durée de validité du lien (en jours)",
        "with_code": "Exiger aussi un code d'accès",
        "create": "Créer un lien de partage",
        "ready": "Votre lien de partage est prêt",
        "code_heading": "Entrez le code d'accès",
        "code_label": "Code d'accès",
        "see": "Voir le document",
        "wrong_code": "Ce code d'accès n'est pas le bon.",
        "revoke": "Révoquer",
        "revoked": "Le lien est révoqué",
        "not_available": "Ce lien n'est pas disponible",
        "verify": "Vérifier un document",
        "verify_button": "Vérifier",
        "file": "Fichier PDF",
        "not_pdf": "Ce fichier n'est pas un PDF.",
        "result": "Résultat de la vérification",
    },
    "en": {
        "my_documents": "My documents",
        "document": "Transcript",
        "valid": "Valid: this document was issued through this portal",
        "signed_by": "Signed by",
        "download": "Download the signed PDF",
        "days": "Link valid for (days)",
        "with_code": "Also require an access code",
        "create": "Create a share link",
        "ready": "Your share link is ready",
        "code_heading": "Enter the access code",
        "code_label": "Access code",
        "see": "See the document",
        "wrong_code": "This access code is not the right one.",
        "revoke": "Revoke",
        "revoked": "The link is revoked",
        "not_available": "This link is not available",
        "verify": "Verify a document",
        "verify_button": "Verify",
        "file": "PDF file",
        "not_pdf": "This file is not a PDF.",
        "result": "Result of the verification",
    },
}


def third_party(browser: Browser, locale: str) -> BrowserContext:
    """A fresh browser profile: no cookie, no account at the portal."""
    context = browser.new_context(locale="fr-CA" if locale == "fr" else "en-CA", accept_downloads=True)
    context.set_default_timeout(TIMEOUT_MS)
    return context


def create_share(page: Page, text: dict[str, str], axe: AxeChecker, *, with_code: bool) -> tuple[str, str | None]:
    """On the document's page: make a share link; returns (link, code or None)."""
    page.get_by_label(text["days"]).fill("7")
    if with_code:
        page.get_by_label(text["with_code"]).check()
    page.get_by_role("button", name=text["create"]).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(text["ready"])
    axe.assert_accessible(page, f"share created ({'with' if with_code else 'without'} code)")
    link = page.locator("#share-link").inner_text()
    code = page.locator("#share-code").inner_text() if with_code else None
    return link, code


def learner_views_verifies_shares_and_revokes(browser: Browser, learner: Page, portal_url: str, axe: AxeChecker,
                                              locale: str) -> None:
    """The learner's page is signed in to the portal at portal_url, in `locale`."""
    text = TEXT[locale]
    refusals: list[str] = []  # the policy must let the viewer frame the PDF, and nothing else be refused
    learner.on("console", lambda message: refusals.append(message.text) if "Content Security Policy" in message.text else None)
    learner.goto(f"{portal_url}/documents")
    expect(learner.get_by_role("heading", level=1)).to_have_text(text["my_documents"])
    axe.assert_accessible(learner, "my documents")

    # Views and verifies.
    learner.get_by_role("link", name=text["document"]).first.click()
    expect(learner.locator("#verdict")).to_contain_text(text["valid"])
    expect(learner.locator("#verification")).to_contain_text(text["signed_by"])
    expect(learner.locator("iframe.viewer__frame")).to_have_count(1)
    with learner.expect_download() as download:
        learner.get_by_role("link", name=text["download"]).click()
    signed_pdf = download.value.path().read_bytes()
    assert signed_pdf.startswith(b"%PDF-")
    axe.assert_accessible(learner, "the document with its verification")
    assert refusals == [], refusals
    document_url = learner.url

    # Shares: one plain link, one with an access code.
    link, _ = create_share(learner, text, axe, with_code=False)
    learner.goto(document_url)
    coded_link, code = create_share(learner, text, axe, with_code=True)

    # A third party, in a fresh browser, opens the link and sees "valid".
    visitor = third_party(browser, locale)
    stranger = visitor.new_page()
    stranger.goto(link)
    expect(stranger.locator("#verdict")).to_contain_text(text["valid"])
    expect(stranger.locator('meta[name="robots"]')).to_have_attribute("content", "noindex, nofollow")
    axe.assert_accessible(stranger, "the shared document")

    # The coded link asks for its code; a wrong one is told, the right one opens.
    stranger.goto(coded_link)
    expect(stranger.get_by_role("heading", level=1)).to_have_text(text["code_heading"])
    axe.assert_accessible(stranger, "the access code page")
    stranger.get_by_label(text["code_label"]).fill("WRONG123")
    stranger.get_by_role("button", name=text["see"]).click()
    expect(stranger.locator(".error-summary")).to_contain_text(text["wrong_code"])
    axe.assert_accessible(stranger, "a wrong access code")
    stranger.get_by_label(text["code_label"]).fill(code)
    stranger.get_by_role("button", name=text["see"]).click()
    expect(stranger.locator("#verdict")).to_contain_text(text["valid"])

    # The third party also checks the downloaded copy on « Vérifier un document ».
    stranger.get_by_role("link", name=text["verify"]).first.click()
    expect(stranger.get_by_role("heading", level=1)).to_have_text(text["verify"])
    axe.assert_accessible(stranger, "verify a document")
    stranger.get_by_label(text["file"]).set_input_files(
        files=[{"name": "notes.txt", "mimeType": "text/plain", "buffer": b"not a pdf"}])
    stranger.get_by_role("button", name=text["verify_button"], exact=True).click()
    expect(stranger.locator(".error-summary")).to_contain_text(text["not_pdf"])
    axe.assert_accessible(stranger, "verify: a refused file")
    stranger.get_by_label(text["file"]).set_input_files(
        files=[{"name": "document.pdf", "mimeType": "application/pdf", "buffer": signed_pdf}])
    stranger.get_by_role("button", name=text["verify_button"], exact=True).click()
    expect(stranger.get_by_role("heading", level=1)).to_have_text(text["result"])
    expect(stranger.locator("#verdict")).to_contain_text(text["valid"])
    axe.assert_accessible(stranger, "verify: the result")

    # The learner sees the openings, then revokes the plain link.
    learner.goto(document_url)
    expect(learner.locator("#shares .share-opens").first).to_have_text("1")
    # From the keyboard: the PDF viewer above may still be laying itself out, and a click
    # aimed at where the button was could land beside it.
    learner.get_by_role("button", name=text["revoke"]).last.press("Enter")
    expect(learner.locator("#flash")).to_contain_text(text["revoked"])
    axe.assert_accessible(learner, "after revoking")

    # The revoked link is dead.
    stranger.goto(link)
    expect(stranger.get_by_role("heading", level=1)).to_have_text(text["not_available"])
    axe.assert_accessible(stranger, "a dead link")
    visitor.close()
