"""民议民决: proposals, their discussion, ballots (online, on paper, open or secret) and the result.

A proposal is discussed until `discussion_until`, voted on from `opens_at` to `closes_at`, and decided
once after the close: the tally (deliberation.tally: exact fractions, Civil Code art. 278 for owners,
by head for residents) is stored with the rule that decided it and published; it never changes
afterwards, a correction is a new audited recount beside it.

One ballot per voter is the database's rule (VoterRoll unique on proposal and voter): fifty
simultaneous ballots of one voter leave one. A secret ballot writes who voted (VoterRoll, without the
choice) and how (SecretBallot: a random id, no voter, no time) in one transaction, so nothing joins them.
"""

from __future__ import annotations

import uuid
from fractions import Fraction

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop as N_

from gongzhi.core import audit, scopes
from gongzhi.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from gongzhi.core.text import checked_text
from gongzhi.core.times import parse_when
from gongzhi.notifications.messages import Msg
from gongzhi.notifications.services import notify
from gongzhi.org.models import Person
from gongzhi.places.models import Place, PlaceKind

from .. import tally
from ..models import (
    AgendaItem,
    BallotChoice,
    BallotWay,
    Proposal,
    ProposalComment,
    ProposalElectorate,
    ProposalMatter,
    ProposalState,
    Recount,
    SecretBallot,
    VoterRoll,
)
from .common import MANAGE, busy

TITLE_MAX, BODY_MAX, COMMENT_MAX, REASON_MAX = 100, 5000, 1000, 500


def _signed_in(actor) -> bool:
    return actor is not None and getattr(actor, "is_authenticated", False) and getattr(actor, "pk", None)


def person_of(actor) -> Person | None:
    return Person.objects.filter(user=actor).first() if _signed_in(actor) else None


def _lives_in(actor, place: Place) -> bool:
    """A resident of the place: registered in its community (a compound's residents are its community's)."""
    person = person_of(actor)
    if person is None or not person.place_path:
        return False
    community_path = place.path if place.kind == PlaceKind.COMMUNITY else (place.parent.path if place.parent_id else "")
    return bool(community_path) and person.place_path.startswith(community_path)


def _place(value) -> Place:
    pid = getattr(value, "pk", value)
    try:
        return Place.objects.select_related("parent").get(pk=int(pid), kind__in=(PlaceKind.COMMUNITY,
                                                                                  PlaceKind.COMPOUND))
    except (Place.DoesNotExist, TypeError, ValueError, OverflowError):
        raise ValidationFailed("place_invalid", _("请选择议题所在的社区或小区。"), {"field": "place"}) from None


def proposal_of(proposal_id) -> Proposal:
    try:
        return Proposal.objects.select_related("place", "place__parent").get(pk=int(getattr(proposal_id, "pk",
                                                                                             proposal_id)))
    except (Proposal.DoesNotExist, TypeError, ValueError, OverflowError):
        raise NotFound("proposal_not_found", _("找不到该议题。")) from None


def proposal_create(*, actor, place, title, body, electorate, matter="", discussion_until, opens_at, closes_at,
                    secret=False, allow_change=False, threshold=(1, 2), threshold_inclusive=False,
                    agenda_item=None, now=None) -> Proposal:
    """A resident of the place, or its staff, puts a proposal up for discussion and a vote."""
    if not _signed_in(actor):
        raise PermissionDenied("login_required", _("请先登录。"))
    host = _place(place)
    if not (scopes.can(actor, MANAGE, host) or _lives_in(actor, host)):
        raise PermissionDenied("not_resident", _("只有本社区的居民或工作人员可以提出议题。"))
    now = now or timezone.now()
    item = None
    if agenda_item:
        item = AgendaItem.objects.filter(pk=getattr(agenda_item, "pk", agenda_item)).select_related("meeting").first() \
            if str(getattr(agenda_item, "pk", agenda_item)).isdigit() else None
        if item is None:
            raise ValidationFailed("agenda_invalid", _("找不到该议题。"), {"field": "agenda_item"})
        title = title or item.title
        body = body or item.detail or item.title
    title = checked_text(title, field_label=_("标题"), max_len=TITLE_MAX)
    body = checked_text(body, field_label=_("内容"), max_len=BODY_MAX)
    if electorate not in ProposalElectorate.values:
        raise ValidationFailed("electorate_invalid", _("请选择由业主还是居民表决。"), {"field": "electorate"})
    if electorate == ProposalElectorate.OWNERS:
        if host.kind != PlaceKind.COMPOUND:
            raise ValidationFailed("owners_need_compound", _("业主表决须在小区进行（按小区业主名册计票）。"),
                                   {"field": "place"})
        if matter not in (ProposalMatter.ORDINARY, ProposalMatter.MAJOR):
            raise ValidationFailed("matter_invalid", _("业主表决须选择一般事项或重大事项。"), {"field": "matter"})
    else:
        matter = ProposalMatter.HEAD
    try:
        num, den = (int(threshold[0]), int(threshold[1]))
    except (TypeError, ValueError, IndexError):
        num, den = 0, 0
    if not (0 < den <= 100 and 0 < num <= den):
        raise ValidationFailed("threshold_invalid", _("通过比例应为不大于 1 的正分数，如 1/2、2/3。"), {"field": "threshold"})
    disc = parse_when(discussion_until, field_label=_("讨论截止时间"))
    opens = parse_when(opens_at, field_label=_("投票开始时间"))
    closes = parse_when(closes_at, field_label=_("投票截止时间"))
    if not (disc <= opens < closes):
        raise ValidationFailed("times_invalid", _("时间顺序应为：讨论截止 ≤ 投票开始 < 投票截止。"), {"field": "opens_at"})
    if closes <= now:
        raise ValidationFailed("closes_past", _("投票截止时间须晚于现在。"), {"field": "closes_at"})
    if secret and allow_change:
        raise ValidationFailed("secret_no_change", _("无记名投票无法找回选票，不能设置为可改票。"), {"field": "allow_change"})

    def run():
        p = Proposal.objects.create(place=host, title=title, body=body, author=actor, agenda_item=item,
                                    electorate=electorate, matter=matter, threshold_num=num, threshold_den=den,
                                    threshold_inclusive=bool(threshold_inclusive), secret=bool(secret),
                                    allow_change=bool(allow_change), discussion_until=disc, opens_at=opens,
                                    closes_at=closes, place_path=host.path)
        audit.record(actor, "deliberation.proposal_create", p, after={"title": title, "electorate": electorate,
                                                                      "matter": matter, "secret": bool(secret)})
        return p

    return busy(run)


def comment_add(*, actor, proposal, text, now=None) -> ProposalComment:
    p = proposal_of(proposal)
    if not (scopes.can(actor, MANAGE, p) or _lives_in(actor, p.place)):
        raise PermissionDenied("not_resident", _("只有本社区的居民或工作人员可以参与讨论。"))
    now = now or timezone.now()
    if p.state == ProposalState.WITHDRAWN or now >= p.closes_at:
        raise ValidationFailed("discussion_closed", _("讨论已结束。"))
    text = checked_text(text, field_label=_("意见"), max_len=COMMENT_MAX)
    person = person_of(actor)
    name = person.name if person else (actor.get_full_name() or actor.username)

    def run():
        c = ProposalComment.objects.create(proposal=p, author=actor, author_name=name, text=text)
        audit.record(actor, "deliberation.comment_add", p, after={"comment": c.pk})
        return c

    return busy(run)


def comment_hide(*, actor, comment, reason) -> ProposalComment:
    """Moderation: the place's staff hide a comment with a reason (it stays for the audit)."""
    c = ProposalComment.objects.select_related("proposal").filter(pk=getattr(comment, "pk", comment)).first() \
        if str(getattr(comment, "pk", comment)).isdigit() else None
    if c is None:
        raise NotFound("comment_not_found", _("找不到该意见。"))
    scopes.require(actor, MANAGE, c.proposal)
    reason = checked_text(reason, field_label=_("原因"), max_len=200)

    def run():
        ProposalComment.objects.filter(pk=c.pk).update(hidden=True, hidden_reason=reason)
        audit.record(actor, "deliberation.comment_hide", c.proposal, after={"comment": c.pk, "reason": reason})
        c.refresh_from_db()
        return c

    return busy(run)


def _voter_key(actor, p: Proposal) -> str:
    """Whose ballot the actor casts: an owner's (the register's representative) or a resident's."""
    if p.electorate == ProposalElectorate.OWNERS:
        from .register import voter_key_of

        key = voter_key_of(actor, p.place)
        if key is None:
            raise ValidationFailed("not_in_register", _("您不在本小区业主名册中（或不是所登记房屋的投票代表），不能参加业主表决。"))
        return key
    person = person_of(actor)
    if person is None or not _lives_in(actor, p.place):
        raise PermissionDenied("not_resident", _("只有本社区登记的居民可以参加表决。"))
    return f"person:{person.pk}"


def _check_open(p: Proposal, now) -> None:
    if p.state == ProposalState.WITHDRAWN:
        raise ValidationFailed("withdrawn", _("该议题已撤回。"))
    if now < p.opens_at:
        raise ValidationFailed("not_open", _("投票尚未开始（%(t)s 开始）。") % {
            "t": timezone.localtime(p.opens_at).strftime("%Y-%m-%d %H:%M")})
    if now >= p.closes_at or p.state == ProposalState.DECIDED:
        raise ValidationFailed("closed", _("投票已于 %(t)s 截止。") % {
            "t": timezone.localtime(p.closes_at).strftime("%Y-%m-%d %H:%M")})


def _already(row: VoterRoll) -> Conflict:
    way = row.get_way_display()
    return Conflict("already_voted", _("已于 %(t)s 以%(w)s方式投票，每人只有一票。") % {
        "t": timezone.localtime(row.cast_at).strftime("%Y-%m-%d %H:%M"), "w": way}, {"first_way": row.way})


def _owners(p: Proposal) -> dict[str, tally.Owner]:
    from .register import register_rows

    return tally.owners_from_register(register_rows(p.place))


def _record(p: Proposal, key: str, name: str, choice: str, way: str, now, *, actor, photo="") -> VoterRoll:
    """Insert the voter's one ballot (and, if secret, its choice apart). IntegrityError if they voted."""
    weight = None
    if p.secret and p.electorate == ProposalElectorate.OWNERS:
        weight = _owners(p)[key].area_centi
    with transaction.atomic():  # a savepoint: a second ballot fails here and leaves the caller's work
        row = VoterRoll.objects.create(proposal=p, voter_key=key, voter_name=name, way=way,
                                       choice="" if p.secret else choice, paper_photo=photo,
                                       entered_by=actor if way == BallotWay.PAPER else None, cast_at=now)
        if p.secret:
            SecretBallot.objects.create(id=uuid.uuid4(), proposal=p, choice=choice, area_centi=weight)
    return row


def _choice(value) -> str:
    if value not in BallotChoice.values:
        raise ValidationFailed("choice_invalid", _("表决意见只能是同意、反对或弃权。"), {"field": "choice"})
    return value


def ballot_cast(*, actor, proposal, choice, now=None) -> VoterRoll:
    """An owner or resident votes online. A second ballot is refused, naming the first; where the
    proposal allows it, an online ballot may be changed until the close."""
    p = proposal_of(proposal)
    now = now or timezone.now()
    _check_open(p, now)
    choice = _choice(choice)
    key = _voter_key(actor, p)
    person = person_of(actor)
    name = person.name if person else actor.username

    def run():
        try:
            row = _record(p, key, name, choice, BallotWay.ONLINE, now, actor=actor)
        except IntegrityError:
            first = VoterRoll.objects.select_for_update().get(proposal=p, voter_key=key)
            if not (p.allow_change and first.way == BallotWay.ONLINE and not p.secret):
                raise _already(first) from None
            VoterRoll.objects.filter(pk=first.pk).update(choice=choice, cast_at=now, version=first.version + 1)
            audit.record(actor, "deliberation.ballot_change", p)
            first.refresh_from_db()
            return first
        audit.record(actor, "deliberation.ballot_cast", p, after={"way": "online"})  # never the choice
        return row

    return busy(run)


def ballot_paper(*, actor, proposal, voter_key, choice, photo, now=None) -> VoterRoll:
    """Staff enter a paper ballot with the sheet's photo, for an owner of the register (voter_key as
    the register gives it) or a resident ("person:ID")."""
    p = proposal_of(proposal)
    scopes.require(actor, MANAGE, p)
    now = now or timezone.now()
    _check_open(p, now)
    choice = _choice(choice)
    key = _paper_key(p, str(voter_key or "").strip())
    name = _eligible_name(p, key)
    if photo is None:
        raise ValidationFailed("photo_required", _("纸质选票须上传选票照片。"), {"field": "photo"})
    from gongzhi.appeals.services.photos import check_photo

    checked = check_photo(photo)

    def run():
        stored = default_storage.save(f"ballots/{uuid.uuid4().hex}.{checked.ext}", ContentFile(checked.data))
        try:
            row = _record(p, key, name, choice, BallotWay.PAPER, now, actor=actor, photo=stored)
        except IntegrityError:
            default_storage.delete(stored)
            raise _already(VoterRoll.objects.get(proposal=p, voter_key=key)) from None
        audit.record(actor, "deliberation.ballot_paper", p, after={"voter": key})
        return row

    return busy(run)


def _electorate(p: Proposal) -> dict[str, str]:
    """voter key → name, for everyone who may vote on the proposal."""
    if p.electorate == ProposalElectorate.OWNERS:
        from .register import register_rows

        keys = {key for _unit, key, _area in register_rows(p.place)}
        names = dict(Person.objects.filter(pk__in=[int(k.split(":")[1]) for k in keys if k.startswith("person:")])
                     .values_list("pk", "name"))
        return {k: (_("开发商（未售房屋）") if k == "developer" else names.get(int(k.split(":")[1]), k)) for k in keys}
    community = p.place if p.place.kind == PlaceKind.COMMUNITY else p.place.parent
    rows = Person.objects.filter(place_path__startswith=community.path).values_list("pk", "name")
    return {f"person:{pk}": name for pk, name in rows}


def _paper_key(p: Proposal, key: str) -> str:
    """The voter a paper sheet names: its register key, or (owners) the unit as written on the sheet,
    "和美楼-301", which the unit's representative votes for."""
    if p.electorate == ProposalElectorate.OWNERS and not key.startswith("person:") and key != "developer":
        from .register import register_rows

        by_unit = {unit.replace(" ", ""): voter for unit, voter, _area in register_rows(p.place)}
        return by_unit.get(key.replace(" ", ""), key)
    return key


def can_vote(actor, p: Proposal) -> bool:
    try:
        _voter_key(actor, p)
    except (ValidationFailed, PermissionDenied):
        return False
    return True


def _eligible_name(p: Proposal, key: str) -> str:
    name = _electorate(p).get(key)
    if name is None:
        code = "not_in_register" if p.electorate == ProposalElectorate.OWNERS else "not_resident"
        raise ValidationFailed(code, _("该投票人不在本次表决的名册中。"), {"field": "voter_key"})
    return name


def compute(p: Proposal) -> tally.Tally:
    """The tally from the ballots as they stand (the register or the residents as the electorate).

    A secret ballot's choices name no voter: those who voted are taken out of the electorate and each
    secret choice stands in as an anonymous voter of its own weight (its area for owners, one head for
    residents), so totals, participation and the shares come out as with an open ballot."""
    if p.electorate == ProposalElectorate.OWNERS:
        owners = _owners(p)
    else:
        owners = {k: None for k in _electorate(p)}
    if p.secret:
        voted = set(VoterRoll.objects.filter(proposal=p).values_list("voter_key", flat=True))
        owners = {k: v for k, v in owners.items() if k not in voted}
        ballots = {}
        for n, (choice, area) in enumerate(SecretBallot.objects.filter(proposal=p).values_list("choice", "area_centi")):
            key = f"secret:{n}"
            owners[key] = tally.Owner(key, area, (key,)) if area is not None else None
            ballots[key] = choice
    else:
        ballots = dict(VoterRoll.objects.filter(proposal=p).values_list("voter_key", "choice"))
    if p.electorate == ProposalElectorate.OWNERS:
        return tally.tally_art278(owners, ballots, p.matter)
    return tally.tally_by_head(owners.keys(), ballots, Fraction(p.threshold_num, p.threshold_den),
                               inclusive=p.threshold_inclusive)


def decide_due(*, now=None, pacer=None) -> int:
    """Move proposals on by the clock: discussion → voting at the opening, and after the close the
    result computed once and published. Compare-and-set on the state: two sweeps decide once."""
    now = now or timezone.now()
    Proposal.objects.filter(state=ProposalState.DISCUSSION, opens_at__lte=now, closes_at__gt=now).update(
        state=ProposalState.VOTING)
    decided = 0
    for p in Proposal.objects.filter(state__in=(ProposalState.DISCUSSION, ProposalState.VOTING),
                                     closes_at__lte=now).order_by("closes_at", "id"):
        if pacer is not None:
            pacer()
        with transaction.atomic():
            locked = Proposal.objects.select_for_update().get(pk=p.pk)
            if locked.state not in (ProposalState.DISCUSSION, ProposalState.VOTING):
                continue
            result = compute(locked)
            Proposal.objects.filter(pk=p.pk).update(state=ProposalState.DECIDED, result=result.as_dict(),
                                                    passed=result.passed, published_at=now,
                                                    version=locked.version + 1)
            audit.record(None, "deliberation.proposal_decided", locked,
                         after={"passed": result.passed, "rule": result.rule})
            if locked.author_id:
                notify([locked.author], kind="vote",
                       title=Msg(N_("议题表决结果已公布：%(t)s"), t=locked.title),
                       body=Msg(N_("表决通过。") if result.passed else N_("表决未通过。")),
                       link=f"/deliberation/proposals/{locked.pk}/", now=now)
        decided += 1
    return decided


def recount(*, actor, proposal, reason, now=None) -> Recount:
    """A correction after publication: a new tally from the ballots, kept beside the published one."""
    p = proposal_of(proposal)
    scopes.require(actor, MANAGE, p)
    if p.state != ProposalState.DECIDED:
        raise ValidationFailed("not_decided", _("结果公布后才能复核。"))
    reason = checked_text(reason, field_label=_("复核原因"), max_len=REASON_MAX)
    now = now or timezone.now()

    def run():
        result = compute(p)
        r = Recount.objects.create(proposal=p, reason=reason, result=result.as_dict(), passed=result.passed, by=actor,
                                   at=now)
        audit.record(actor, "deliberation.recount", p, after={"reason": reason, "passed": result.passed,
                                                              "published_passed": p.passed})
        return r

    return busy(run)


def proposal_withdraw(*, actor, proposal) -> Proposal:
    p = proposal_of(proposal)
    if not (getattr(actor, "pk", None) == p.author_id or scopes.can(actor, MANAGE, p)):
        raise PermissionDenied("forbidden", _("您没有权限执行此操作。"))

    def run():
        n = Proposal.objects.filter(pk=p.pk, state__in=(ProposalState.DISCUSSION, ProposalState.VOTING),
                                    published_at__isnull=True).update(state=ProposalState.WITHDRAWN)
        if not n:
            raise Conflict("proposal_decided", _("表决结果已公布，不能撤回。"))
        audit.record(actor, "deliberation.proposal_withdraw", p)
        return proposal_of(p.pk)

    return busy(run)


def my_ballot(actor, p: Proposal) -> VoterRoll | None:
    try:
        key = _voter_key(actor, p)
    except (ValidationFailed, PermissionDenied):
        return None
    return VoterRoll.objects.filter(proposal=p, voter_key=key).first()


def phase(p: Proposal, now=None) -> str:
    """What the clock says (the stored state lags by at most a worker round)."""
    now = now or timezone.now()
    if p.state in (ProposalState.DECIDED, ProposalState.WITHDRAWN):
        return p.state
    if now >= p.closes_at:
        return "closing"
    return ProposalState.VOTING if now >= p.opens_at else ProposalState.DISCUSSION



