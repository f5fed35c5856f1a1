"""Every template stays within the Content-Security-Policy: an inline <script> carries the request's
nonce (or is a JSON data block), and no element has an inline event handler (onclick=…), which a
nonce-based policy blocks. The browser tests walk the pages; this finds the template nobody walked."""

import re
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src" / "gongzhi"
TEMPLATES = sorted(p for p in SRC.rglob("*.html") if "templates" in p.parts)
SCRIPT_TAG = re.compile(r"<script\b([^>]*)>", re.I)
HANDLER = re.compile(r"<[a-z][^>]*\son[a-z]+\s*=", re.I | re.S)


def test_templates_are_found():
    assert len(TEMPLATES) > 50


def test_inline_scripts_carry_the_nonce():
    bad = []
    for path in TEMPLATES:
        for m in SCRIPT_TAG.finditer(path.read_text(encoding="utf-8")):
            attrs = m.group(1)
            if "src=" in attrs or 'nonce="{{ request.csp_nonce }}"' in attrs or "application/json" in attrs:
                continue
            bad.append(f"{path.relative_to(SRC)}: <script{attrs}>")
    assert bad == []


def test_no_inline_event_handlers():
    bad = [str(p.relative_to(SRC)) for p in TEMPLATES if HANDLER.search(p.read_text(encoding="utf-8"))]
    assert bad == []
