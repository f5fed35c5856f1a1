"""The pickers' search in the JSON API: the same service (org.search) the pages' pickers call."""

from ninja import Query, Router, Schema

from gongzhi.api import AUTH

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


@router.get("/pick/{kind}", auth=AUTH, response=PickOut,
            summary="Search what the actor may choose (organisation, department, member_unit, person, grid, place, "
                    "taker) by name, full pinyin or pinyin initials, scoped to a purpose (for=registry|edit|whistle|dispatch)")
def pick(request, kind: str, q: str = "", purpose: str = Query("", alias="for"), appeal: str = "", need: str = "",
         limit: str = ""):
    """`for=whistle&appeal=<number>`: departments and member units the appeal may summon;
    `for=dispatch&need=<number>`: units, party members and teams of the need's community (kind=taker
    gives values "org:<id>", "person:<id>", "team:<id>"). Each result has a detail line (organisation,
    community, masked phone tail) that tells namesakes apart."""
    purpose = purpose or "registry"
    context = appeal if purpose == "whistle" else need if purpose == "dispatch" else None
    results = search.pick(request.user, kind, q=q, purpose=purpose, context=context, limit=limit)
    return {"kind": kind, "purpose": purpose, "results": results}
