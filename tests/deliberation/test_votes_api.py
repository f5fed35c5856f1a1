"""Proposals and ballots through the JSON API: the same rules, errors in one shape (also in English)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from gongzhi.deliberation import services
from gongzhi.deliberation.models import VoterRoll
from gongzhi.org.models import Person

from .conftest import bearer
from .test_votes import compound, photo  # noqa: F401 - the fixture and the sheet's photo

pytestmark = pytest.mark.django_db
BASE = "/api/v1/deliberation"


def test_propose_vote_paper_and_result_through_the_api(client, world, compound):  # noqa: F811
    w, o = world, compound.owners
    now = timezone.now()
    body = {"place_id": compound.pk, "title": "加装电梯", "body": "2 栋加装电梯", "electorate": "owners",
            "matter": "ordinary", "discussion_until": now.isoformat(), "opens_at": now.isoformat(),
            "closes_at": (now + dt.timedelta(days=3)).isoformat()}
    r = client.post(f"{BASE}/proposals", body, content_type="application/json", **bearer(o["林业主"]))
    assert r.status_code == 201, r.content
    pid = r.json()["id"]
    assert client.post(f"{BASE}/proposals/{pid}/ballot", {"choice": "yes"}, content_type="application/json",
                       **bearer(o["陈业主"])).status_code == 201
    again = client.post(f"{BASE}/proposals/{pid}/ballot", {"choice": "no"}, content_type="application/json",
                        HTTP_ACCEPT_LANGUAGE="en", **bearer(o["陈业主"]))
    assert again.status_code == 409 and again.json()["error"]["code"] == "already_voted"
    assert "online" in again.json()["error"]["message"]
    outsider = client.post(f"{BASE}/proposals/{pid}/ballot", {"choice": "yes"}, content_type="application/json",
                           **bearer(w.resident))
    assert outsider.status_code == 400 and outsider.json()["error"]["code"] == "not_in_register"
    zhou = Person.objects.get(name="周业主")
    r = client.post(f"{BASE}/proposals/{pid}/paper", {"voter_key": f"person:{zhou.pk}", "choice": "yes",
                                                       "photo": photo()}, **bearer(w.cw))
    assert r.status_code == 201 and r.json()["way"] == "paper"
    denied = client.post(f"{BASE}/proposals/{pid}/paper", {"voter_key": f"person:{zhou.pk}", "choice": "yes",
                                                            "photo": photo()}, **bearer(o["林业主"]))
    assert denied.status_code == 403
    detail = client.get(f"{BASE}/proposals/{pid}", **bearer(o["陈业主"])).json()
    assert detail["my_ballot"]["way"] == "online" and detail["voted"] == 2 and detail["result"] is None
    services.decide_due(now=now + dt.timedelta(days=4))
    detail = client.get(f"{BASE}/proposals/{pid}", **bearer(w.resident)).json()
    assert detail["state"] == "decided" and detail["result"]["rule"] in ("quorum", "ordinary_over_half")
    assert client.post(f"{BASE}/proposals/{pid}/recount", {"reason": "复核"}, content_type="application/json",
                       **bearer(w.cw)).status_code == 201
    assert VoterRoll.objects.filter(proposal_id=pid).count() == 2


def test_bad_proposal_input_in_english(client, world, compound):  # noqa: F811
    now = timezone.now()
    body = {"place_id": compound.pk, "title": "x", "body": "x", "electorate": "owners", "matter": "ordinary",
            "discussion_until": now.isoformat(), "opens_at": (now + dt.timedelta(days=2)).isoformat(),
            "closes_at": (now + dt.timedelta(days=1)).isoformat()}
    r = client.post(f"{BASE}/proposals", body, content_type="application/json", HTTP_ACCEPT_LANGUAGE="en",
                    **bearer(world.cw))
    assert r.status_code == 400 and r.json()["error"]["code"] == "times_invalid"
    assert not any("\u4e00" <= ch <= "\u9fff" for ch in r.json()["error"]["message"])
