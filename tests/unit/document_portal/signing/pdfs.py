"""Small PDFs for the intake and verification tests: one page built byte by byte with whatever
extra objects or catalog entries a test needs (JavaScript, attachments, actions) and a
correct xref, and an encrypted one."""

from __future__ import annotations

from io import BytesIO

from reportlab.lib.pdfencrypt import StandardEncryption
from reportlab.pdfgen.canvas import Canvas


def build_pdf(catalog_extra: bytes = b"", page_extra: bytes = b"", objects: tuple[bytes, ...] = ()) -> bytes:
    """A one-page PDF. Extra objects are numbered from 4 on, so entries can refer to `4 0 R`."""
    bodies = [
        b"<< /Type /Catalog /Pages 2 0 R " + catalog_extra + b">>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] " + page_extra + b">>",
        *objects,
    ]
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(bodies, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(bodies) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(bodies) + 1, xref)
    return bytes(out)


def encrypted_pdf(user_password: str) -> bytes:
    """A one-page PDF encrypted by reportlab (an empty user password opens it without asking)."""
    output = BytesIO()
    canvas = Canvas(output, encrypt=StandardEncryption(user_password, ownerPassword="owner-secret"))
    canvas.drawString(72, 720, "Relevé de notes")
    canvas.save()
    return output.getvalue()
