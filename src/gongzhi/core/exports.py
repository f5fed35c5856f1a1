"""Excel ledgers (台账): every list exports through here, so every later module gets it for free."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from urllib.parse import quote

from django.http import HttpResponse
from django.utils import timezone
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass
class Column:
    header: str
    value: Callable[[object], object]
    width: int = 16


def _safe(value):
    # A cell starting with = + - @ would run as a formula in Excel: keep it text (CSV/XLSX injection).
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


_SHEET_FORBIDDEN = str.maketrans({c: " " for c in "/\\?*:[]"})
SHEET_TITLE_MAX = 31


def sheet_title(title, taken: Iterable[str] = ()) -> str:
    """A title Excel (and openpyxl) accepts, made from any text: the characters / \\ ? * : [ ] become
    spaces, no leading or trailing apostrophe, at most 31 characters, never empty, and different
    (case-insensitively, as Excel compares) from every title in `taken`. Every workbook this
    platform writes names its sheets through here."""
    text = " ".join(str(title).translate(_SHEET_FORBIDDEN).split()).strip("'").strip()
    text = "".join(ch for ch in text if ch.isprintable()) or "Sheet"
    base = text[:SHEET_TITLE_MAX].rstrip()
    used = {t.lower() for t in taken}
    out, n = base, 1
    while out.lower() in used:
        n += 1
        suffix = f" ({n})"
        out = base[:SHEET_TITLE_MAX - len(suffix)].rstrip() + suffix
    return out


def build_xlsx(title: str, columns: list[Column], rows: Iterable[object]) -> bytes:
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title=sheet_title(title))
    for i, col in enumerate(columns):
        ws.column_dimensions[chr(ord("A") + i) if i < 26 else "A"].width = col.width
    head = []
    for col in columns:
        c = WriteOnlyCell(ws, value=str(col.header))
        c.font = Font(bold=True)
        head.append(c)
    ws.append(head)
    for row in rows:
        ws.append([_safe(col.value(row)) for col in columns])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def xlsx_response(title: str, columns: list[Column], rows: Iterable[object]) -> HttpResponse:
    data = build_xlsx(title, columns, rows)
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    filename = f"{title}-{stamp}.xlsx"
    resp = HttpResponse(data, content_type=XLSX_MIME)
    resp["Content-Disposition"] = f"attachment; filename=\"ledger.xlsx\"; filename*=UTF-8''{quote(filename)}"
    return resp


def read_xlsx(fileobj, required: list[str]) -> tuple[list[str], list[tuple[int, dict]]]:
    """Read the first sheet: header row then data rows, as (excel row number, {header: value})."""
    from openpyxl import load_workbook

    wb = load_workbook(fileobj, read_only=True, data_only=True)
    ws = wb.worksheets[0]
    rows = ws.iter_rows(values_only=True)
    header = [str(h).strip() if h is not None else "" for h in next(rows, [])]
    out = []
    for n, values in enumerate(rows, start=2):
        if values is None or all(v is None or str(v).strip() == "" for v in values):
            continue
        rec = {h: (str(v).strip() if v is not None else "") for h, v in zip(header, values, strict=False) if h}
        out.append((n, rec))
    missing = [h for h in required if h not in header]
    return missing, out
