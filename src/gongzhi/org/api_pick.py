"""The pickers' search in the JSON API: the same service (org.search) the pages' pickers call."""

from ninja import Query, Router, Schema
from ninja.errors import AuthenticationError

from gongzhi.accounts.authentication import OPTIONAL_AUTH

from . import search

router = Router(tags=["pickers"])


class PickItem(Schema):
    value: str
    id: int
    label: str
    detail: str
    type: str
    code: str | None = None  # places and grids: their code, which the registry's forms take


class PickOut(Schema):
    kind: str
    purpose: str
    results: list[PickItem]


@router.get("/pick/{kind}", auth=OPTIONAL_AUTH, response=PickOut,
            summary="Search what the actor may choose (organisation, department, member_unit, person, grid, place, "
                    "community, taker, team) by name, full pinyin or pinyin initials, scoped to a purpose "
                    "(for=registry|edit|public|whistle|dispatch|organise|board|team|leader|grant); signing in is needed for "
                    "all but for=public communities")
def pick(request, kind: str, q: str = "", purpose: str = Query("", alias="for"), appeal: str = "", need: str = "",
         team: str = "", community: str = "", limit: str = ""):
    """`for=whistle&appeal=<number>`: departments and member units the appeal may summon;
    `for=dispatch&need=<number>`: units, party members and teams of the need's community (kind=taker
    gives values "org:<id>", "person:<id>", "team:<id>"); `for=team&team=<id>`: the team's members
    (to choose its leader); `for=leader&community=<id>`: who may lead a new team of that community;
    `for=grant`: places, grids and organisations a role may be granted on; `for=organise`: communities, member units and teams a volunteering form
    may name; `for=board`: communities of the dispatch board. Each result has a detail line (organisation,
    community, masked phone tail) that tells namesakes apart."""
    purpose = purpose or "registry"
    if not request.user.is_authenticated and not (purpose == "public" and kind == "community"):
        raise AuthenticationError()  # only the public community search is open to everyone
    context = {"whistle": appeal, "dispatch": need, "team": team, "leader": community}.get(purpose)
    results = search.pick(request.user, kind, q=q, purpose=purpose, context=context, limit=limit)
    return {"kind": kind, "purpose": purpose, "results": results}
