"""GeoReport v2 documents as HTTP responses: JSON, or XML with the spec's element names.

A document is plain data (dicts, lists, str, numbers, bools, None). JSON writes it as it is. XML
wraps it in the spec's root element and names each list item after its list, the way the spec's
examples do: <services><service>…, <service_requests><request>…, <errors><error>….
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET

from django.http import HttpResponse

FORMATS = {"json": "application/json; charset=utf-8", "xml": "text/xml; charset=utf-8"}
DEFAULT_FORMAT = "json"

# The element name of one item of each list, as in the spec.
ITEM = {
    "services": "service",
    "service_requests": "request",
    "errors": "error",
    "attributes": "attribute",
    "values": "value",
    "endpoints": "endpoint",
    "formats": "format",
    "notes": "note",
}

XML_DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>\n'
# Characters XML 1.0 cannot carry at all (ElementTree would write them and break the whole feed).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _text(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return _NOT_XML.sub("", str(value))


def _fill(elem: ET.Element, value) -> None:
    if isinstance(value, dict):
        for key, sub in value.items():
            _fill(ET.SubElement(elem, key), sub)
    elif isinstance(value, list | tuple):
        item = ITEM.get(elem.tag, "item")
        for sub in value:
            _fill(ET.SubElement(elem, item), sub)
    else:
        elem.text = _text(value)


def to_xml(root: str, data) -> bytes:
    elem = ET.Element(root)
    _fill(elem, data)
    return XML_DECLARATION + ET.tostring(elem, encoding="unicode").encode("utf-8")


def to_json(data) -> bytes:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def respond(fmt: str, root: str, data, status: int = 200) -> HttpResponse:
    """`root` names the XML root element (services, service_definition, service_requests, …)."""
    fmt = fmt if fmt in FORMATS else DEFAULT_FORMAT
    body = to_xml(root, data) if fmt == "xml" else to_json(data)
    return HttpResponse(body, status=status, content_type=FORMATS[fmt])


def errors(fmt: str, status: int, description) -> HttpResponse:
    """The spec's error document: a list of {code, description}; the code is the HTTP status."""
    return respond(fmt, "errors", [{"code": status, "description": str(description)}], status=status)
