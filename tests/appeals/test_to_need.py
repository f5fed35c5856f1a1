"""诉求转化: staff turn what an appeal reveals into a need on the needs list, linked both ways."""

import datetime as dt
import re

import pytest
from django.utils import timezone

from gongzhi.core.errors import ValidationFailed
from gongzhi.lists import services as lists
from gongzhi.lists.models import Need
from tests.appeals.conftest import submit

pytestmark = pytest.mark.django_db


def test_a_community_worker_turns_an_appeal_into_a_need_from_its_page(client, city):
    a = submit(city.jumin, title="独居老人家中灯泡坏了")
    client.force_login(city.cw)
    page = client.get(f"/appeals/{a.number}/").content.decode()
    link = re.search(r'href="([^"]+)">转入需求清单</a>', page).group(1).replace("&amp;", "&")
    form = client.get(link).content.decode()
    assert 'value="独居老人家中灯泡坏了"' in form and f'value="{a.number}"' in form
    due = (timezone.localdate() + dt.timedelta(days=7)).isoformat()
    r = client.post("/lists/needs/new/", {"kind": "service", "title": "独居老人家中灯泡坏了", "source": "appeal",
                                          "source_ref": a.number, "place": str(a.community_id), "due_on": due,
                                          "category": "elderly", "skill": "repair", "urgency": "normal",
                                          "beneficiaries_count": 1})
    need = Need.objects.get()
    assert r.status_code == 302 and r.url == f"/lists/needs/{need.number}/"
    # The appeal's reporter becomes the requester (they can follow and rate it); its grid comes along.
    assert (need.source, need.source_ref, need.requester, need.place_id, need.grid_id) == (
        "appeal", a.number, city.jumin, a.community_id, a.grid_id)
    detail = client.get(r.url).content.decode()
    assert f'href="/appeals/{a.number}/" data-testid="source-appeal"' in detail


def test_only_list_staff_see_the_link_and_the_appeal_must_be_theirs_to_read(client, city):
    a = submit(city.jumin)
    client.force_login(city.jumin)
    assert 'data-testid="make-need"' not in client.get(f"/appeals/{a.number}/").content.decode()
    client.force_login(city.gw1)  # a grid worker records needs too
    assert 'data-testid="make-need"' in client.get(f"/appeals/{a.number}/").content.decode()
    due = timezone.localdate() + dt.timedelta(days=3)
    for actor, ref, code in ((city.cw, "SQ19990101000001", "bad_appeal"), (city.cw, "", "appeal_required"),
                             (city.cw_x, a.number, "bad_appeal")):  # another community cannot read it
        with pytest.raises(ValidationFailed) as exc:
            lists.need_create(actor=actor, title="x", due_on=due, source="appeal", source_ref=ref)
        assert exc.value.code == code
    assert not Need.objects.exists()
