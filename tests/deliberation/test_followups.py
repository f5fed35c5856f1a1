"""A topic raised at a meeting goes on without retyping (to a proposal, an appeal or a need), a proposal
goes on an agenda, overdue action items show in red on the desk, and meetings export as a ledger."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.utils import timezone
from openpyxl import load_workbook

from gongzhi.deliberation import services
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def meeting(w):
    start = timezone.localtime() - dt.timedelta(minutes=10)
    return services.meeting_create(actor=w.cw, kind="deliberation", form="feng_si", title="逢四说事", starts_at=start,
                                   ends_at=start + dt.timedelta(hours=2), place=w.beining.pk, location="议事厅")


def test_a_typed_topic_links_on_to_a_proposal_an_appeal_and_a_need_prefilled(client, world):
    w = world
    m = meeting(w)
    services.agenda_add(actor=w.cw, meeting=m, title="3 号楼电动车乱停放", detail="希望增设车棚", raised_by="张阿姨")
    assert client.login(username="cw", password=PASSWORD)
    page = client.get(f"/deliberation/meetings/{m.pk}/").content.decode()
    for testid in ("to-proposal", "to-appeal", "to-need"):
        assert f'data-testid="{testid}"' in page
    entry = client.get("/appeals/entry/?source=deliberation&title=3%20号楼电动车乱停放&text=希望增设车棚")
    html = entry.content.decode()
    assert entry.status_code == 200 and 'value="3 号楼电动车乱停放"' in html and "希望增设车棚" in html
    need = client.get(f"/lists/needs/new/?source=deliberation&title=3%20号楼电动车乱停放&description=希望增设车棚"
                      f"&place={w.beining.pk}&source_ref=meeting-{m.pk}").content.decode()
    assert "3 号楼电动车乱停放" in need and "希望增设车棚" in need


def test_a_proposal_goes_on_an_agenda_by_its_number(world):
    w = world
    now = timezone.now()
    p = services.proposal_create(actor=w.cw, place=w.beining.pk, title="社区春节联欢会节目", body="征集节目",
                                 electorate="residents", discussion_until=now, opens_at=now,
                                 closes_at=now + dt.timedelta(days=3))
    item = services.agenda_add(actor=w.cw, meeting=meeting(w), proposal=str(p.pk))
    assert item.source == "proposal" and item.title == "社区春节联欢会节目" and item.ref == f"#{p.pk}"


def test_overdue_action_items_are_red_on_the_desk_and_listed_behind_the_figure(client, world):
    w = world
    m = meeting(w)
    services.meeting_hold(actor=w.cw, meeting=m, minutes="纪要")
    today = timezone.localdate()
    services.resolution_add(actor=w.cw, meeting=m, text="决议", actions=[
        {"title": "修路灯", "owner": f"org:{w.units[0].pk}", "due_on": (today + dt.timedelta(days=5)).isoformat()}])
    from gongzhi.deliberation.models import ActionItem

    ActionItem.objects.update(due_on=today - dt.timedelta(days=1))  # a week passes
    assert client.login(username="cw", password=PASSWORD)
    home = client.get("/").content.decode()
    assert ('href="/deliberation/actions/?state=overdue" class="figure alert" data-testid="figure-actions-overdue">'
            '<b data-testid="count">1</b>') in home
    listing = client.get("/deliberation/actions/?state=overdue").content.decode()
    assert "修路灯" in listing and "已逾期" in listing


def test_meetings_export_with_attendance_for_those_who_oversee(client, world):
    w = world
    m = meeting(w)
    services.attendance_mark(actor=w.cw, meeting=m, name="李大爷")
    assert client.login(username="cw", password=PASSWORD)
    r = client.get("/deliberation/meetings/?format=xlsx")
    assert r.status_code == 200
    rows = list(load_workbook(io.BytesIO(r.content)).active.iter_rows(values_only=True))
    assert rows[0][1] == "会议" and rows[1][1] == "逢四说事" and rows[1][7] == 1 and rows[1][8] == "李大爷"
    client.logout()
    assert client.login(username="jumin", password=PASSWORD)
    assert client.get("/deliberation/meetings/?format=xlsx").status_code == 403
