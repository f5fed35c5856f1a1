"""How statement lines read, on pages, in the API and in the Excel ledger (one wording for all)."""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext as _

from gongzhi.core import exports, pii

from . import selectors
from .models import AccountKind, TimeAccount, TxnKind


def _other_name(acc: TimeAccount) -> str:
    if acc.kind == AccountKind.ISSUING:
        return _("%(place)s时间银行") % {"place": acc.place.name if acc.place_id else _("平台")}
    # Another person's name is shown masked: a statement may be exported and passed around.
    return pii.mask_name(acc.person.name)


def describe(entry, others) -> str:
    txn = entry.transaction
    other = [o for o in others if o.account_id != entry.account_id]
    who = "、".join(_other_name(o.account) for o in other)
    if txn.kind == TxnKind.CREDIT:
        text = _("服务入账")
    elif txn.kind == TxnKind.SPEND:
        text = _("兑换服务：支付给 %(who)s") % {"who": who} if entry.amount < 0 else \
            _("提供服务：收到 %(who)s 支付") % {"who": who}
    elif txn.kind == TxnKind.TRANSFER:
        text = _("转赠给家人 %(who)s") % {"who": who} if entry.amount < 0 else \
            _("收到家人 %(who)s 转赠") % {"who": who}
    else:
        text = _("冲正第 %(n)s 笔交易") % {"n": txn.reverses_id}
    return f"{text}（{txn.memo}）" if txn.memo else text


def rows(entries) -> list[dict]:
    """Statement lines as plain dicts: the API returns them, pages and the ledger show them."""
    entries = list(entries)
    others = selectors.counterparties(entries)
    out = []
    for e in entries:
        txn = e.transaction
        out.append({
            "entry_id": e.pk,
            "transaction_id": txn.pk,
            "kind": txn.kind,
            "kind_label": str(txn.get_kind_display()),
            "at": timezone.localtime(e.created_at),
            "amount": e.amount,
            "balance_after": e.balance_after,
            "description": describe(e, others.get(txn.pk, [])),
            "reversed": _reversed(txn),
        })
    return out


def _reversed(txn) -> bool:
    try:
        return txn.reversed_by is not None
    except Exception:  # RelatedObjectDoesNotExist
        return False


def statement_xlsx(person, entries):
    cols = [
        exports.Column(_("时间"), lambda r: r["at"].strftime("%Y-%m-%d %H:%M"), 18),
        exports.Column(_("交易号"), lambda r: r["transaction_id"], 10),
        exports.Column(_("类型"), lambda r: r["kind_label"], 12),
        exports.Column(_("摘要"), lambda r: r["description"], 40),
        exports.Column(_("收入(时间币)"), lambda r: r["amount"] if r["amount"] > 0 else None, 12),
        exports.Column(_("支出(时间币)"), lambda r: -r["amount"] if r["amount"] < 0 else None, 12),
        exports.Column(_("余额(时间币)"), lambda r: r["balance_after"], 12),
    ]
    title = _("时间银行对账单-%(name)s") % {"name": person.name}
    return exports.xlsx_response(title, cols, rows(entries))
