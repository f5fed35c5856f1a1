"""Search keys: a row's name with its full pinyin and its pinyin initials, so that "hzq",
"huangzhiqiang" and "黄志强" all find 黄志强. pypinyin (a kept library) does the reading; we keep
no table of our own. The key is stored on the row (org.Organization, org.Person, places.Place,
places.Grid: `search_key`), computed on save and by `fill_search_keys` for bulk writes.
"""

from __future__ import annotations

import re

from django.db.models import Case, IntegerField, Q, Value, When
from django.db.models.functions import Length
from pypinyin import Style, lazy_pinyin, pinyin

KEY_MAX = 500
QUERY_MAX = 50
# What a query keeps: letters, digits and CJK ideographs; everything else separates terms.
_TERM = re.compile(r"[0-9a-z\u3400-\u4dbf\u4e00-\u9fff]+")


def search_key(name: str) -> str:
    """"黄志强" -> "huangzhiqiang hzq 黄志强" (lower case; non-Chinese characters kept as they are).

    The first character's other readings are added too, since it is most often a surname read its
    own way (覃 is "qin" as a surname, "tan" in pypinyin's first reading): "覃小梅" is found by both
    "qxm" and "txm"."""
    name = (name or "").strip()
    if not name:
        return ""
    full = _squash("".join(lazy_pinyin(name, errors="default")))
    initials = _squash("".join(lazy_pinyin(name, style=Style.FIRST_LETTER, errors="default")))
    parts = [full, initials]
    first = pinyin(name[0], heteronym=True, style=Style.NORMAL, errors="default")[0]
    rest_full = _squash("".join(lazy_pinyin(name[1:], errors="default"))) if len(name) > 1 else ""
    rest_initials = initials[1:] if first and len(initials) == len(name) else None
    for reading in first[1:3]:
        reading = _squash(reading)
        if reading and reading.isascii() and rest_initials is not None:
            parts += [reading + rest_full, reading[0] + rest_initials]
    parts.append(name.lower())
    return " ".join(dict.fromkeys(p for p in parts if p))[:KEY_MAX]


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text).lower()


def query_terms(q: str) -> list[str]:
    """A typed query as lower-case terms, each of which must occur in the key. Spaces and
    punctuation separate terms; at most QUERY_MAX characters are read."""
    return _TERM.findall((q or "")[:QUERY_MAX].lower())[:5]


def filter_by_terms(qs, terms: list[str], field: str = "search_key"):
    """Rows whose key holds every term (the key is lower case, so a case-sensitive contains, which a
    trigram index serves on PostgreSQL)."""
    for term in terms:
        qs = qs.filter(**{f"{field}__contains": term})
    return qs


def ranked(qs, terms: list[str], limit: int, *, then_by=None) -> list:
    """Rows holding every term: whole-name and name-start matches first, then matches at a word's
    start, then the rest; within a rank `then_by` (an expression, e.g. a kind's order), then shorter
    names. One ranking for every picker and place search."""
    qs = filter_by_terms(qs, terms)
    if terms:
        first = terms[0]
        qs = qs.annotate(_rank=Case(
            When(Q(name=first) | Q(search_key__startswith=first), then=Value(0)),
            When(search_key__contains=" " + first, then=Value(1)),
            default=Value(2), output_field=IntegerField()))
    else:
        qs = qs.annotate(_rank=Value(0, output_field=IntegerField()))
    order = ["_rank"]
    if then_by is not None:
        qs = qs.annotate(_then=then_by)
        order.append("_then")
    return list(qs.annotate(_len=Length("name")).order_by(*order, "_len", "name", "pk")[:limit])


def fill_search_keys(model, *, name_field: str = "name", batch: int = 2000) -> int:
    """Fill `search_key` where it is missing or stale (bulk writes skip save()): seeds, imports, the
    data migration. Returns the number of rows written."""
    written, last = 0, 0
    while True:
        rows = list(model.objects.filter(pk__gt=last).order_by("pk").only("pk", name_field, "search_key")[:batch])
        if not rows:
            return written
        last = rows[-1].pk
        stale = []
        for row in rows:
            key = search_key(getattr(row, name_field))
            if row.search_key != key:
                row.search_key = key
                stale.append(row)
        if stale:
            model.objects.bulk_update(stale, ["search_key"], batch_size=500)
            written += len(stale)


def keep_search_key(row, save_kwargs: dict) -> None:
    """Called by the models' save(): the key follows the name (also under update_fields=["name"])."""
    row.search_key = search_key(row.name)
    fields = save_kwargs.get("update_fields")
    if fields is not None and "name" in fields and "search_key" not in fields:
        save_kwargs["update_fields"] = [*fields, "search_key"]


def trigram_index_sql(table: str) -> tuple[list[str], list[str]]:
    """PostgreSQL: a trigram index so that "contains" on the key is an index scan at city scale
    (80,000 people). pg_trgm is a trusted extension (a database owner may create it)."""
    name = f"{table}_search_key_trgm"
    return (["CREATE EXTENSION IF NOT EXISTS pg_trgm",
             f"CREATE INDEX IF NOT EXISTS {name} ON {table} USING gin (search_key gin_trgm_ops)"],
            [f"DROP INDEX IF EXISTS {name}"])


def migration_operations(app_label: str, models_and_tables: list[tuple[str, str]]):
    """The data migration's steps: fill the keys of existing rows, then (PostgreSQL only) index them."""
    from django.db import migrations, transaction

    def forwards(apps, schema_editor):
        for model_name, table in models_and_tables:
            fill_search_keys(apps.get_model(app_label, model_name))
            if schema_editor.connection.vendor == "postgresql":
                create, _drop = trigram_index_sql(table)
                try:
                    with transaction.atomic(using=schema_editor.connection.alias):
                        for sql in create:
                            schema_editor.execute(sql)
                except Exception:  # noqa: BLE001 — without pg_trgm the search still works, by scanning
                    pass

    def backwards(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            for _model, table in models_and_tables:
                for sql in trigram_index_sql(table)[1]:
                    schema_editor.execute(sql)

    return [migrations.RunPython(forwards, backwards)]
