"""A person's data export (PIPL art. 45) as files: JSON, and Excel with one sheet per list."""

from __future__ import annotations

import io
import json

from openpyxl import Workbook

from gongzhi.core.exports import _safe


def person_json(data: dict) -> bytes:
    return json.dumps(data, ensure_ascii=False, indent=2, default=str).encode("utf-8")


def _tables(prefix: str, value, out: dict) -> None:
    """Flatten the export into named tables: a list of records is a table, a record a key/value table."""
    if isinstance(value, list):
        out[prefix] = value
    elif isinstance(value, dict):
        scalars = {k: v for k, v in value.items() if not isinstance(v, (list, dict))}
        if scalars:
            out[prefix] = [scalars]
        for k, v in value.items():
            if isinstance(v, (list, dict)):
                _tables(f"{prefix}.{k}" if prefix else k, v, out)
    else:
        out.setdefault("summary", []).append({"field": prefix, "value": value})


def person_xlsx(data: dict) -> bytes:
    tables: dict = {}
    for key, value in data.items():
        _tables(key, value, tables)
    wb = Workbook(write_only=True)
    for i, (name, rows) in enumerate(tables.items()):
        # Titles from our own keys, made safe anyway: at most 31 characters, none of []:*?/\ .
        title = "".join(c for c in name if c not in "[]:*?/\\")[:28] or "sheet"
        ws = wb.create_sheet(title=f"{i + 1}-{title}"[:31])
        heads = list(dict.fromkeys(k for r in rows if isinstance(r, dict) for k in r))
        ws.append(heads)
        for r in rows:
            ws.append([_cell(r.get(h)) for h in heads] if isinstance(r, dict) else [_cell(r)])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _cell(value):
    if value is None or isinstance(value, (int, float, str)):
        return _safe(value)
    if isinstance(value, (list, dict)):
        return json.dumps(value, ensure_ascii=False, default=str)
    return str(value)
