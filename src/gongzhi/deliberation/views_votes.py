"""Proposal pages (民议民决): the list, a new proposal (also from a meeting's agenda item, without
retyping), one proposal with its discussion, the ballot, paper ballots for staff, and the result."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views.decorators.http import require_POST

from gongzhi.core import scopes
from gongzhi.core.errors import GongzhiError
from gongzhi.places.models import Place

from . import services
from .models import AgendaItem, BallotChoice, Proposal, ProposalElectorate, ProposalMatter, ProposalState


@login_required
def proposal_list(request):
    qs = Proposal.objects.select_related("place")
    place = request.GET.get("place")
    if place and place.isdigit():
        host = Place.objects.filter(pk=int(place)).first()
        qs = qs.filter(place_path__startswith=host.path) if host else qs.none()
    page = Paginator(qs.order_by("-created_at", "-id"), 30).get_page(request.GET.get("page"))
    return render(request, "deliberation/proposals.html", {"page": page, "filters": request.GET})


@login_required
def proposal_new(request):
    item = None
    agenda = request.GET.get("agenda") or request.POST.get("agenda_item")
    if agenda and str(agenda).isdigit():
        item = AgendaItem.objects.select_related("meeting").filter(pk=int(agenda)).first()
    now = timezone.localtime()
    fmt = "%Y-%m-%dT%H:%M"
    posted = dict(request.POST.items()) if request.method == "POST" else {
        "title": item.title if item else "", "body": (item.detail or item.title) if item else "",
        "place": str(item.meeting.place_id or "") if item else "", "electorate": ProposalElectorate.OWNERS,
        "matter": ProposalMatter.ORDINARY, "threshold": "1/2",
        "discussion_until": (now + timezone.timedelta(days=7)).strftime(fmt),
        "opens_at": (now + timezone.timedelta(days=7)).strftime(fmt),
        "closes_at": (now + timezone.timedelta(days=14)).strftime(fmt)}
    error, status = None, 200
    if request.method == "POST":
        num, _sep, den = posted.get("threshold", "1/2").partition("/")
        try:
            p = services.proposal_create(
                actor=request.user, place=posted.get("place"), title=posted.get("title", ""),
                body=posted.get("body", ""), electorate=posted.get("electorate"), matter=posted.get("matter", ""),
                discussion_until=posted.get("discussion_until"), opens_at=posted.get("opens_at"),
                closes_at=posted.get("closes_at"), secret=bool(posted.get("secret")),
                allow_change=bool(posted.get("allow_change")), threshold=(num, den),
                threshold_inclusive=bool(posted.get("threshold_inclusive")), agenda_item=item)
        except GongzhiError as exc:
            error, status = exc.message, exc.status
        else:
            messages.success(request, _("议题已发布，进入讨论。"))
            return redirect("deliberation:proposal", pk=p.pk)
    return render(request, "deliberation/proposal_new.html", {
        "posted": posted, "error": error, "item": item, "electorates": ProposalElectorate.choices,
        "matters": [(v, label) for v, label in ProposalMatter.choices if v != ProposalMatter.HEAD]}, status=status)


@login_required
def proposal_detail(request, pk: int):
    try:
        p = services.proposal_of(pk)
    except GongzhiError:
        from django.http import Http404

        raise Http404 from None
    manage = scopes.can(request.user, services.MANAGE, p)
    return render(request, "deliberation/proposal_detail.html", {
        "p": p, "phase": services.phase(p), "manage": manage, "mine": services.my_ballot(request.user, p),
        "can_vote": services.can_vote(request.user, p),
        "comments": list(p.comments.all()), "choices": BallotChoice.choices, "voted": p.roll.count(),
        "recounts": list(p.recounts.all()), "decided": p.state == ProposalState.DECIDED,
        "explain": _explain(p)})


def _explain(p: Proposal) -> str:
    """The published result in one line, in the reader's language (from the stored tally)."""
    from .tally import Tally

    return Tally.from_dict(p.result).explain() if p.result else ""


@login_required
@require_POST
def proposal_act(request, pk: int, action: str):
    post = request.POST
    try:
        if action == "vote":
            services.ballot_cast(actor=request.user, proposal=pk, choice=post.get("choice"))
            messages.success(request, _("投票成功。"))
        elif action == "comment":
            services.comment_add(actor=request.user, proposal=pk, text=post.get("text", ""))
            messages.success(request, _("意见已发表。"))
        elif action == "hide":
            services.comment_hide(actor=request.user, comment=post.get("comment"), reason=post.get("reason", ""))
            messages.success(request, _("该意见已隐藏。"))
        elif action == "paper":
            services.ballot_paper(actor=request.user, proposal=pk, voter_key=post.get("voter_key"),
                                  choice=post.get("choice"), photo=request.FILES.get("photo"))
            messages.success(request, _("纸质选票已录入。"))
        elif action == "recount":
            r = services.recount(actor=request.user, proposal=pk, reason=post.get("reason", ""))
            verdict = pgettext("vote result", "通过") if r.passed else pgettext("vote result", "未通过")
            messages.success(request, _("复核完成：%(r)s") % {"r": verdict})
        elif action == "withdraw":
            services.proposal_withdraw(actor=request.user, proposal=pk)
            messages.success(request, _("议题已撤回。"))
        else:
            messages.error(request, _("不支持的操作。"))
    except GongzhiError as exc:
        messages.error(request, str(exc.message))
    return redirect("deliberation:proposal", pk=pk)
