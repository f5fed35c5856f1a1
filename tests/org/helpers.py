"""Builders for the registry tests: valid ID numbers, spreadsheets, a small registry, API clients."""

from __future__ import annotations

import datetime as dt
import io

from openpyxl import Workbook, load_workbook

from gongzhi.accounts.models import ApiToken

ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]


def id_number(seq: int, born: str = "19900101") -> str:
    """A valid 18-digit ID number (GB 11643 check digit) for sequence `seq`."""
    body = f"450102{born}{seq % 1000:03d}"
    return body + "10X98765432"[sum(int(c) * w for c, w in zip(body, ID_WEIGHTS, strict=True)) % 11]


def bad_check_digit(number: str) -> str:
    last = "0" if number[-1] != "0" else "1"
    return number[:-1] + last


def phone(seq: int) -> str:
    return f"139{seq:08d}"


def xlsx(headers: list[str], rows: list[list]) -> io.BytesIO:
    wb = Workbook()
    ws = wb.active
    ws.append(headers)
    for row in rows:
        ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    buf.seek(0)
    buf.name = "upload.xlsx"
    return buf


def open_xlsx(data: bytes):
    return load_workbook(io.BytesIO(data)).worksheets[0]


def all_cells(ws) -> list:
    return [c for row in ws.iter_rows() for c in row]


def bearer(u) -> dict:
    _tok, key = ApiToken.issue(u)
    return {"HTTP_AUTHORIZATION": f"Bearer {key}"}


def days(n: int) -> dt.date:
    from django.utils import timezone

    return timezone.localdate() + dt.timedelta(days=n)
