"""Character encodings: agencies send UTF-8, UTF-8 with a BOM, UTF-16 and Latin-1."""

from __future__ import annotations

import codecs

_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
SAMPLE = 1 << 20
# Agencies here write English, French and Portuguese: the detector chooses only among
# Western code pages, which keeps it from reading Latin-1 as an Asian multi-byte set.
CANDIDATES = ["cp1252", "latin_1", "iso8859_15", "cp850", "mac_roman"]


def _is_utf8(data: bytes) -> bool:
    """Checked a slice at a time: decoding a 1.4 GB payload whole would hold a 1.4 GB str."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    view = memoryview(data)
    try:
        for start in range(0, len(view), SAMPLE):
            decoder.decode(view[start : start + SAMPLE])
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def detect_encoding(data: bytes) -> str:
    """The payload's encoding: its BOM, else UTF-8 if it is valid, else a detector's guess."""
    for bom, name in _BOMS:
        if data.startswith(bom):
            return name
    if _is_utf8(data):
        return "utf-8"
    from charset_normalizer import from_bytes

    # The detector only ever sees non-UTF-8 data here; where it cannot decide, the
    # Windows Western code page is what spreadsheet exports of French and English use.
    best = from_bytes(data[:SAMPLE], cp_isolation=CANDIDATES).best()
    guess = best.encoding if best is not None else "cp1252"
    if guess.replace("_", "-").lower() in ("utf-8", "ascii"):
        guess = "cp1252"
    try:
        data.decode(guess)
    except (UnicodeDecodeError, LookupError):
        return "latin-1"  # decodes any byte sequence
    return guess


def to_text(data: bytes, encoding: str | None = None) -> tuple[str, str]:
    """Decode bytes to text with the given or detected encoding."""
    enc = encoding or detect_encoding(data)
    try:
        return data.decode(enc), enc
    except UnicodeDecodeError as err:
        from ingest.feeds.decode.model import DecodeError

        raise DecodeError(f"payload is not valid {enc}: {err}") from None


def to_utf8(data: bytes, encoding: str | None = None) -> tuple[bytes, str]:
    """The payload as UTF-8 bytes without BOM, and the encoding it came in."""
    enc = encoding or detect_encoding(data)
    if enc == "utf-8":
        return data, enc
    if enc == "utf-8-sig":
        return data[len(codecs.BOM_UTF8) :], enc
    text, enc = to_text(data, enc)
    return text.encode("utf-8"), enc
