"""The rotating chair (轮值主席): generate a year's roster, publish months, swap two months.

Every write locks the committee's row first, so a generation, a publication and a swap of one
committee queue behind each other and never interleave. Published months are frozen: nothing here
changes them. Generation re-plans the year's open months from the current members and their
agreements (a unit whose agreement lapses leaves, a newcomer enters), keeping months already past
and months swapped by consent (while the unit may still chair).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop as N_

from gongzhi.core import audit, scopes
from gongzhi.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from gongzhi.core.text import clean_text
from gongzhi.notifications.messages import Msg
from gongzhi.notifications.services import notify
from gongzhi.org.models import Agreement, AgreementStatus, Membership, MembershipStatus, Organization

from .. import roster
from ..models import ChairSwap, ChairTerm, SwapState, TermSource
from .common import CHAIR, MANAGE, VIEW, busy, check_year, is_liaison_of, liaisons_of

REASON_MAX = 500
# Agreements that back a membership for the months they cover (a draft is not yet, a terminated one no longer).
BACKING = (AgreementStatus.SIGNED, AgreementStatus.EXPIRED)


@dataclass
class RosterResult:
    year: int
    assigned: dict[dt.date, int | None] = field(default_factory=dict)
    changed: list[dt.date] = field(default_factory=list)
    kept: list[dt.date] = field(default_factory=list)
    gaps: list[dt.date] = field(default_factory=list)


def units_of(committee) -> list[roster.Unit]:
    """The committee's member units with the spans in which each may chair: its membership (not
    suspended), cut to each signed (or since expired) agreement's term."""
    memberships = list(Membership.objects.filter(organization=committee)
                       .exclude(status=MembershipStatus.SUSPENDED)
                       .values_list("id", "member_id", "joined_on", "left_on"))
    terms: dict[int, list[tuple[dt.date, dt.date]]] = {}
    for mid, starts, ends in Agreement.objects.filter(
            membership__organization=committee, status__in=BACKING).values_list("membership_id", "starts_on",
                                                                                  "ends_on"):
        terms.setdefault(mid, []).append((starts, ends))
    out = []
    for mid, member_id, joined, left in memberships:
        windows = []
        for starts, ends in terms.get(mid, ()):
            lo = max(starts, joined)
            hi = min(ends, left) if left else ends
            if lo <= hi:
                windows.append(roster.Window(lo, hi))
        if windows:
            out.append(roster.Unit(member_id, joined, tuple(windows)))
    return out


def can_view(actor, committee) -> bool:
    """Managers and viewers in scope see drafts; so do the liaisons of the committee's members."""
    if scopes.can(actor, VIEW, committee):
        return True
    if not scopes.can(actor, CHAIR):
        return False
    unit_ids = Membership.objects.filter(organization=committee).values_list("member_id", flat=True)
    return any(scopes.can(actor, CHAIR, u) for u in Organization.objects.filter(pk__in=unit_ids))


def terms_of(committee, year: int, *, drafts: bool):
    qs = ChairTerm.objects.filter(committee=committee, month__year=year).select_related("unit")
    return qs if drafts else qs.filter(published_at__isnull=False)


def _lock(committee) -> Organization:
    return Organization.objects.select_for_update().get(pk=committee.pk)


def roster_generate(*, actor, committee, year, today: dt.date | None = None) -> RosterResult:
    """Plan (or re-plan) a committee's chair for each month of `year`."""
    scopes.require(actor, MANAGE, committee)
    year = check_year(year)
    today = today or timezone.localdate()

    def run():
        _lock(committee)
        units = units_of(committee)
        months = roster.months_of(year)
        eligible = {u.id: u for u in units}
        existing = {t.month: t for t in ChairTerm.objects.filter(committee=committee, month__year=year)}
        this_month = roster.month_start(today)
        kept = {}
        for month, t in existing.items():
            swapped_and_able = (t.source == TermSource.SWAPPED and t.unit_id in eligible
                                and eligible[t.unit_id].eligible(month))
            if t.published or month < this_month or swapped_and_able:
                kept[month] = t.unit_id
        open_months = [m for m in months if m not in kept]
        if open_months and not any(u.eligible(m) for u in units for m in open_months):
            raise ValidationFailed("roster_no_units", _("该联合党委在 %(y)s 年没有有效的成员单位（需有效的共建协议），无法生成轮值表。")
                                   % {"y": year})
        history = _history(committee, year)
        assigned = roster.plan(months, units, history=history, kept=kept)
        result = RosterResult(year=year, assigned=assigned, kept=sorted(kept))
        place_path = committee.place_path
        paths = dict(Organization.objects.filter(pk__in={u for u in assigned.values() if u}).values_list("pk", "path"))
        for month, unit_id in assigned.items():
            term = existing.get(month)
            if month in kept:
                continue
            if unit_id is None:
                result.gaps.append(month)
                if term is not None:
                    term.delete()
                    result.changed.append(month)
                continue
            if term is None:
                ChairTerm.objects.create(committee=committee, month=month, unit_id=unit_id, place_path=place_path,
                                         unit_path=paths[unit_id])
                result.changed.append(month)
            elif term.unit_id != unit_id or term.source != TermSource.GENERATED:
                ChairTerm.objects.filter(pk=term.pk).update(unit_id=unit_id, unit_path=paths[unit_id],
                                                            source=TermSource.GENERATED, version=term.version + 1)
                result.changed.append(month)
        # Asks about months that just changed hands can no longer be granted as asked.
        if result.changed:
            ChairSwap.objects.filter(Q(term_a__month__in=result.changed) | Q(term_b__month__in=result.changed),
                                     committee=committee, state=SwapState.PENDING).update(
                state=SwapState.WITHDRAWN, decided_at=timezone.now())
        audit.record(actor, "deliberation.roster_generate", committee, after={
            "year": year, "changed": [f"{m:%Y-%m}" for m in result.changed],
            "gaps": [f"{m:%Y-%m}" for m in result.gaps]})
        return result

    return busy(run)


def _history(committee, year: int) -> dict[int, dt.date]:
    """Each unit's last chaired month before `year` (the cycle carries over from year to year)."""
    out: dict[int, dt.date] = {}
    for unit_id, month in ChairTerm.objects.filter(committee=committee, month__lt=dt.date(year, 1, 1)).values_list(
            "unit_id", "month"):
        if month > out.get(unit_id, dt.date.min):
            out[unit_id] = month
    return out


def roster_publish(*, actor, committee, year, through=None) -> int:
    """Publish the year's unpublished months up to `through` (a month; default: all). Published
    months are frozen; each chairing unit's liaisons are told their month."""
    scopes.require(actor, MANAGE, committee)
    year = check_year(year)
    last = dt.date(year, 12, 1) if through in (None, "") else _month(through)
    if last.year != year:
        raise ValidationFailed("month_invalid", _("发布的截止月份应在 %(y)s 年内。") % {"y": year}, {"field": "through"})

    def run():
        _lock(committee)
        terms = list(ChairTerm.objects.filter(committee=committee, month__year=year, month__lte=last,
                                              published_at__isnull=True).select_related("unit"))
        if not terms:
            raise ValidationFailed("roster_nothing_to_publish", _("没有可发布的月份：请先生成轮值表，已发布的月份不会重复发布。"))
        now = timezone.now()
        ChairTerm.objects.filter(pk__in=[t.pk for t in terms]).update(published_at=now)
        ChairSwap.objects.filter(Q(term_a__in=terms) | Q(term_b__in=terms), state=SwapState.PENDING).update(
            state=SwapState.WITHDRAWN, decided_at=now)
        by_unit: dict[int, list[str]] = {}
        for t in terms:
            by_unit.setdefault(t.unit_id, []).append(f"{t.month:%Y-%m}")
        for unit_id, months in by_unit.items():
            notify(liaisons_of([unit_id]), kind="meeting",
                   title=Msg(N_("贵单位担任%(c)s轮值主席：%(m)s"), c=committee.name, m=months),
                   body=Msg(N_("请在当月牵头组织主题活动。")), link=f"/deliberation/committees/{committee.pk}/roster/{year}/",
                   exclude=actor, now=now)
        audit.record(actor, "deliberation.roster_publish", committee,
                     after={"year": year, "months": sorted(f"{t.month:%Y-%m}" for t in terms)})
        return len(terms)

    return busy(run)


def _month(value) -> dt.date:
    """A month from a date or from "YYYY-MM" / "YYYY-MM-DD" text (its first day)."""
    if isinstance(value, dt.date):
        return roster.month_start(value)
    text = str(value).strip()
    try:
        return roster.month_start(dt.date.fromisoformat(text + "-01" if len(text) == 7 else text))
    except ValueError:
        raise ValidationFailed("month_invalid", _("月份格式不正确，应为 YYYY-MM。"), {"field": "through"}) from None


def _term(term_id) -> ChairTerm:
    try:
        return ChairTerm.objects.select_related("committee", "unit").get(pk=int(term_id))
    except (ChairTerm.DoesNotExist, TypeError, ValueError):
        raise NotFound("term_not_found", _("找不到该月份的轮值安排。")) from None


def swap_request(*, actor, term_id, other_term_id, reason="") -> ChairSwap:
    """A liaison asks to swap its unit's month with another unit's; the other unit's liaison decides."""
    mine, other = _term(term_id), _term(other_term_id)
    if not is_liaison_of(actor, mine.unit):
        raise PermissionDenied("not_liaison", _("只有本单位的联络员可以申请调换本单位的轮值月份。"))
    if mine.committee_id != other.committee_id or mine.pk == other.pk or mine.unit_id == other.unit_id:
        raise ValidationFailed("swap_invalid", _("只能与同一联合党委中其他单位的月份调换。"))
    if mine.published or other.published:
        raise ValidationFailed("month_published", _("已发布的月份不能调换。"))
    reason = clean_text(reason)[:REASON_MAX]

    def run():
        _lock(mine.committee)
        if ChairSwap.objects.filter(term_a=mine, state=SwapState.PENDING).exists():
            raise Conflict("swap_pending", _("该月份已有一项待对方答复的调换申请。"))
        swap = ChairSwap.objects.create(committee=mine.committee, term_a=mine, term_b=other, unit_a=mine.unit,
                                        unit_b=other.unit, reason=reason, requested_by=actor,
                                        place_path=mine.place_path)
        notify(liaisons_of([other.unit_id]), kind="meeting",
               title=Msg(N_("%(u)s申请与贵单位调换轮值月份：%(a)s ↔ %(b)s"), u=mine.unit.name,
                         a=f"{mine.month:%Y-%m}", b=f"{other.month:%Y-%m}"),
               body=Msg.verbatim(reason), link=f"/deliberation/committees/{mine.committee_id}/roster/{mine.month.year}/",
               exclude=actor)
        audit.record(actor, "deliberation.swap_request", swap,
                     after={"a": f"{mine.month:%Y-%m}", "b": f"{other.month:%Y-%m}", "reason": reason})
        return swap

    return busy(run)


def _swap(swap_id) -> ChairSwap:
    try:
        return ChairSwap.objects.select_related("committee", "unit_a", "unit_b").get(pk=int(swap_id))
    except (ChairSwap.DoesNotExist, TypeError, ValueError):
        raise NotFound("swap_not_found", _("找不到该调换申请。")) from None


def swap_decide(*, actor, swap_id, accept: bool) -> ChairSwap:
    """The other unit's liaison consents (the two months change hands) or declines."""
    swap = _swap(swap_id)
    if not is_liaison_of(actor, swap.unit_b):
        raise PermissionDenied("not_liaison", _("只有被申请单位的联络员可以答复调换申请。"))

    def run():
        _lock(swap.committee)
        current = ChairSwap.objects.select_related("term_a", "term_b").get(pk=swap.pk)
        if current.state != SwapState.PENDING:
            raise Conflict("swap_decided", _("该调换申请已处理：%(s)s") % {"s": current.get_state_display()})
        a, b = current.term_a, current.term_b
        now = timezone.now()
        if accept:
            if a.published or b.published:
                raise Conflict("month_published", _("已发布的月份不能调换。"))
            if (a.unit_id, b.unit_id) != (current.unit_a_id, current.unit_b_id):
                raise Conflict("swap_stale", _("两个月份的轮值单位已有变化，请重新申请调换。"))
            for term, unit_id, unit_path in ((a, b.unit_id, b.unit_path), (b, a.unit_id, a.unit_path)):
                ChairTerm.objects.filter(pk=term.pk).update(unit_id=unit_id, unit_path=unit_path,
                                                            source=TermSource.SWAPPED, version=term.version + 1)
        state = SwapState.ACCEPTED if accept else SwapState.DECLINED
        ChairSwap.objects.filter(pk=current.pk).update(state=state, decided_by=actor, decided_at=now,
                                                       version=current.version + 1)
        if accept:  # other asks about these two months were asked of holders that are no more
            ChairSwap.objects.filter(Q(term_a__in=[a, b]) | Q(term_b__in=[a, b]), state=SwapState.PENDING).update(
                state=SwapState.WITHDRAWN, decided_at=now)
        title = (Msg(N_("调换轮值月份已同意：%(a)s ↔ %(b)s"), a=f"{a.month:%Y-%m}", b=f"{b.month:%Y-%m}") if accept
                 else Msg(N_("调换轮值月份未获同意：%(a)s ↔ %(b)s"), a=f"{a.month:%Y-%m}", b=f"{b.month:%Y-%m}"))
        notify([current.requested_by], kind="meeting", title=title,
               link=f"/deliberation/committees/{current.committee_id}/roster/{a.month.year}/", exclude=actor, now=now)
        audit.record(actor, "deliberation.swap_accept" if accept else "deliberation.swap_decline", current,
                     after={"a": f"{a.month:%Y-%m}", "b": f"{b.month:%Y-%m}"})
        current.refresh_from_db()
        return current

    return busy(run)


def swap_withdraw(*, actor, swap_id) -> ChairSwap:
    swap = _swap(swap_id)
    if not is_liaison_of(actor, swap.unit_a):
        raise PermissionDenied("not_liaison", _("只有申请单位的联络员可以撤回调换申请。"))

    def run():
        _lock(swap.committee)
        n = ChairSwap.objects.filter(pk=swap.pk, state=SwapState.PENDING).update(
            state=SwapState.WITHDRAWN, decided_by=actor, decided_at=timezone.now())
        if not n:
            raise Conflict("swap_decided", _("该调换申请已处理，不能撤回。"))
        audit.record(actor, "deliberation.swap_withdraw", swap)
        swap.refresh_from_db()
        return swap

    return busy(run)


def swaps_of(committee, year: int):
    return (ChairSwap.objects.filter(committee=committee, term_a__month__year=year)
            .select_related("term_a", "term_b", "unit_a", "unit_b").order_by("-created_at", "-id"))
