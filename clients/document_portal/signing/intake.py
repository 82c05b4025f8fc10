"""Checks on an uploaded PDF before the portal signs it: refuse, never neutralise.

Every active or hidden part is refused rather than stripped: removing JavaScript or an
attachment means rewriting the school's document, and the portal's signature would then
vouch for a file the school never produced. A school re-exports a clean PDF (the refusal
says what to remove); the sentence shown is the view's, from the reason code.

The checks run on the objects reachable from the document catalog of the last revision
(what a reader displays), parsed by pyHanko with its limits for untrusted input; names are
compared after the parser has decoded them, so `/J#61vaScript` is JavaScript too.
"""

from __future__ import annotations

from io import BytesIO

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.reader import PdfFileReader

from clients.document_portal.signing.errors import PdfRefused, RefusalReason

MAX_PDF_BYTES = 10 * 1024 * 1024
# A transcript has a few hundred objects; a file with more than this is refused as unreadable
# rather than walked for seconds.
MAX_OBJECTS = 200_000
# ISO 32000-2 §12.6.4: actions that run code, open or submit other files, or play media.
ACTIVE_ACTIONS = frozenset({"/Launch", "/SubmitForm", "/ImportData", "/GoToE", "/GoToR", "/RichMediaExecute",
                            "/Rendition", "/Movie", "/Sound", "/GoTo3DView"})
ACTIVE_ANNOTATIONS = frozenset({"/RichMedia", "/Movie", "/Sound", "/Screen", "/3D"})
# When a file has several problems, the refusal names the most serious.
PRIORITY = (RefusalReason.JAVASCRIPT, RefusalReason.EMBEDDED_FILES, RefusalReason.ACTIVE_CONTENT)


def check_pdf(data: bytes, max_bytes: int = MAX_PDF_BYTES) -> None:
    """Raise PdfRefused with the reason when `data` is not a PDF the portal will sign.

    Refused: empty, over `max_bytes`, not starting with %PDF-, unparseable (or with hybrid
    cross-reference sections, or no page), encrypted (even with an empty user password),
    with JavaScript, with embedded files or file attachments, or with other active content
    (launch, submit, import, remote go-to and media actions, triggers (/AA), XFA forms,
    rich media, movie, sound, screen and 3D annotations).
    """
    if not data:
        raise PdfRefused(RefusalReason.EMPTY)
    if len(data) > max_bytes:
        raise PdfRefused(RefusalReason.TOO_LARGE)
    if not data.startswith(b"%PDF-"):
        raise PdfRefused(RefusalReason.NOT_PDF)
    try:
        reader = PdfFileReader(BytesIO(data), strict=True)
        if "/Encrypt" in reader.trailer_view:
            raise PdfRefused(RefusalReason.ENCRYPTED)
        if reader.xrefs.hybrid_xrefs_present:
            raise PdfRefused(RefusalReason.UNPARSEABLE)
        found = _scan(reader)
        pages = reader.trailer_view["/Root"]["/Pages"]
        if int(pages.get("/Count", 0)) < 1:
            raise PdfRefused(RefusalReason.UNPARSEABLE)
    except PdfRefused:
        raise
    except Exception:  # noqa: BLE001 - malformed input raises anything from the parser: a refusal, never a 500
        raise PdfRefused(RefusalReason.UNPARSEABLE) from None
    for reason in PRIORITY:
        if reason in found:
            raise PdfRefused(reason)


def _scan(reader: PdfFileReader) -> set[RefusalReason]:
    """The problems found in every object reachable from the trailer's /Root and /Info."""
    trailer = reader.trailer_view
    stack = [trailer.raw_get(key) for key in ("/Root", "/Info") if key in trailer]
    seen: set[tuple[int, int]] = set()
    found: set[RefusalReason] = set()
    while stack:
        obj = stack.pop()
        if isinstance(obj, generic.IndirectObject):
            ref = (obj.reference.idnum, obj.reference.generation)
            if ref in seen:
                continue
            seen.add(ref)
            if len(seen) > MAX_OBJECTS:
                raise PdfRefused(RefusalReason.UNPARSEABLE)
            obj = obj.get_object()
        if isinstance(obj, generic.DictionaryObject):
            found |= _problems(obj)
            stack.extend(obj.raw_get(key) for key in obj)
        elif isinstance(obj, generic.ArrayObject):
            stack.extend(obj.raw_get(index) for index in range(len(obj)))
    return found


def _problems(obj: generic.DictionaryObject) -> set[RefusalReason]:
    problems: set[RefusalReason] = set()
    kind = obj.get("/S")
    if "/JS" in obj or "/JavaScript" in obj or kind == "/JavaScript":
        problems.add(RefusalReason.JAVASCRIPT)
    if ("/EmbeddedFiles" in obj or "/EF" in obj or obj.get("/Type") == "/EmbeddedFile"
            or obj.get("/Subtype") == "/FileAttachment"):
        problems.add(RefusalReason.EMBEDDED_FILES)
    if kind in ACTIVE_ACTIONS or "/AA" in obj or "/XFA" in obj or obj.get("/Subtype") in ACTIVE_ANNOTATIONS:
        problems.add(RefusalReason.ACTIVE_CONTENT)
    return problems
