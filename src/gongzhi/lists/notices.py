"""Notifications on needs and projects (the outbox rows are written here, in the cause's transaction).

Who hears:
  the taker's people   a dispatch to them (the member, the team leader, the unit's liaisons)
  each requester       every step of their need (a wish, or any need): taken (claimed), dispatched,
                       accepted by the taker it was dispatched to, done (with the request to rate)
Nobody is told of their own action; the text names no person (the taker is not named to the
requester). Titles and bodies are message codes rendered in the reader's language when shown.
"""

from __future__ import annotations

from django.utils.translation import gettext_noop as N_

from gongzhi.notifications import services as notes
from gongzhi.notifications.messages import Msg
from gongzhi.notifications.models import Kind

from .models import NeedKind

TAKEN, DISPATCHED, ACCEPTED, DONE = "taken", "dispatched", "accepted", "done"

_TEXTS = {
    # step: (kind, title for a wish, title for another need, body)
    TAKEN: (Kind.PROGRESS, N_("您的心愿已被认领：%(t)s"), N_("您的需求已被认领：%(t)s"),
            N_("认领方将与社区联系，尽快为您办理。")),
    DISPATCHED: (Kind.PROGRESS, N_("您的心愿已派单：%(t)s"), N_("您的需求已派单：%(t)s"),
                 N_("社区已把它派给服务方，等待对方接单。")),
    ACCEPTED: (Kind.PROGRESS, N_("您的心愿已有人接单：%(t)s"), N_("您的需求已有人接单：%(t)s"),
               N_("服务方已接单，将按计划为您服务。")),
    DONE: (Kind.RESULT, N_("您的心愿已完成：%(t)s"), N_("您的需求已完成：%(t)s"), N_("请对这次服务作出评价。")),
}


def requesters_hear(project, actor, step: str) -> None:
    """Tell each requester of the project's live needs about `step` (one of TAKEN … DONE)."""
    kind, wish_title, need_title, body = _TEXTS[step]
    needs = project.needs.filter(links__live=True, requester__isnull=False).select_related("requester")
    for need in needs:
        title = wish_title if need.kind == NeedKind.MICRO_WISH else need_title
        notes.notify([need.requester], kind=kind, exclude=actor, title=Msg(title, t=need.title), body=Msg(body),
                     link=f"/lists/needs/{need.number}/", target=f"need:{need.number}")


def taker_hears(project, actor, users) -> None:
    """Tell the taker's people about a dispatch."""
    notes.notify(users, kind=Kind.ASSIGNED, exclude=actor,
                 title=Msg(N_("新派单：%(t)s"), t=project.title),
                 body=Msg(N_("社区把项目 %(n)s 派给了您，请及时接单或谢绝。"), n=project.number),
                 link=f"/lists/projects/{project.number}/", target=f"project:{project.number}")
