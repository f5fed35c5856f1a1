"""Hotspot warnings (未诉先办): detection thresholds, repeats, conversion into one proactive appeal,
dismissal, permissions and bad input, through the services and the `gongzhi hotspots` command."""

from __future__ import annotations

import datetime as dt
import math

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from gongzhi.appeals import hotspots, selectors, services
from gongzhi.appeals.models import Appeal, Hotspot, HotspotState, Level, Source, State
from gongzhi.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from gongzhi.core.models import AuditEntry
from gongzhi.places.models import PlaceKind
from tests.appeals.conftest import IN_GRID, submit
from tests.factories import grid_tree, place, user

pytestmark = pytest.mark.django_db


def near(dx_m: float, dy_m: float, origin=IN_GRID) -> tuple[float, float]:
    """The point dx metres east and dy metres north of origin."""
    lon, lat = origin
    return (lon + dx_m / (selectors.M_PER_DEG * math.cos(math.radians(lat))), lat + dy_m / selectors.M_PER_DEG)


# Five points within 60 m of IN_GRID, all in 北宁's first micro grid.
SPOTS = [near(0, 0), near(40, 0), near(-40, 10), near(0, 50), near(20, -30), near(-25, -25)]


def repeats(city, n, *, category="noise", who=None, start=0):
    return [submit(who or city.jumin, point=SPOTS[(start + i) % len(SPOTS)], category=category,
                   text=f"第 {start + i + 1} 次反映：夜间烧烤噪声扰民") for i in range(n)]


def test_one_fewer_than_the_threshold_makes_no_hotspot(city):
    repeats(city, 4)
    result = hotspots.detect_hotspots()
    assert result.created == [] and Hotspot.objects.count() == 0
    assert not Appeal.objects.filter(hotspot__isnull=False).exists()


def test_the_threshold_makes_one_hotspot_and_a_rerun_keeps_it(city):
    made = repeats(city, 5)
    first = hotspots.detect_hotspots()
    assert len(first.created) == 1 and first.linked == 5
    h = Hotspot.objects.get()
    assert (h.state, h.appeal_count, h.threshold, h.radius_m, h.window_days) == ("open", 5, 5, 300, 14)
    assert h.category.code == "noise" and h.grid_id == city.micros[0].id
    assert set(Appeal.objects.filter(hotspot=h).values_list("pk", flat=True)) == {a.pk for a in made}
    for a in made:  # every repeat lies within R of the centre
        assert selectors.distance_m(h.lon, h.lat, a.lon, a.lat) <= h.radius_m
    audits = AuditEntry.objects.filter(action="hotspot.detect").count()
    assert audits == 1

    again = hotspots.detect_hotspots()
    assert (again.created, again.extended, again.linked) == ([], [], 0)
    assert Hotspot.objects.count() == 1 and Hotspot.objects.get().appeal_count == 5
    assert AuditEntry.objects.filter(action__startswith="hotspot.").count() == audits


def test_other_categories_far_points_and_old_appeals_do_not_count(city):
    repeats(city, 3)
    repeats(city, 1, category="property_management")  # another category
    submit(city.jumin, point=near(0, 500), category="noise")  # 500 m north, still in 北宁
    old = submit(city.jumin, point=near(10, 10), category="noise")
    Appeal.objects.filter(pk=old.pk).update(submitted_at=timezone.now() - dt.timedelta(days=15))
    assert hotspots.detect_hotspots().created == []
    # The same appeals with the old one back inside the window make five of one category.
    Appeal.objects.filter(pk=old.pk).update(submitted_at=timezone.now() - dt.timedelta(days=13))
    assert hotspots.detect_hotspots().created == []  # still four near ones (the far one is 500 m off)
    repeats(city, 1, start=3)
    assert len(hotspots.detect_hotspots().created) == 1
    assert Hotspot.objects.get().appeal_count == 5


def test_settings_choose_the_threshold_radius_and_window(city, settings):
    settings.APPEAL_HOTSPOT_MIN_COUNT = 3
    settings.APPEAL_HOTSPOT_RADIUS_M = 20
    repeats(city, 3)  # 40 m and more apart: no three within 20 m of one centre
    assert hotspots.detect_hotspots().created == []
    settings.APPEAL_HOTSPOT_RADIUS_M = 100
    assert len(hotspots.detect_hotspots().created) == 1
    assert Hotspot.objects.get().threshold == 3


def test_a_later_repeat_extends_the_open_hotspot_instead_of_making_another(city):
    repeats(city, 5)
    hotspots.detect_hotspots()
    h = Hotspot.objects.get()
    late = submit(city.linju, point=near(15, 15), text="又吵了一晚上")
    result = hotspots.detect_hotspots()
    assert result.created == [] and result.extended == [h.pk] and result.linked == 1
    h.refresh_from_db()
    assert h.appeal_count == 6 and h.last_at == Appeal.objects.get(pk=late.pk).submitted_at
    assert Appeal.objects.get(pk=late.pk).hotspot_id == h.pk
    assert AuditEntry.objects.filter(action="hotspot.extend").count() == 1


def test_merged_and_rejected_appeals_do_not_count(city):
    made = repeats(city, 5)
    services.appeal_merge(actor=city.cw, appeal=made[4], into=made[0].number)
    assert hotspots.detect_hotspots().created == []
    repeats(city, 1, start=4)
    assert len(hotspots.detect_hotspots().created) == 1


def _hotspot(city, n=5) -> Hotspot:
    made = repeats(city, n)
    hotspots.detect_hotspots()
    h = Hotspot.objects.get()
    assert h.appeal_count == len(made)
    return h


def test_converting_opens_one_proactive_appeal_at_street_level_linking_the_repeats(city):
    h = _hotspot(city)
    done = hotspots.hotspot_convert(city.so, h, "北宁夜市噪声集中整治", "联合城管、市监对夜市烧烤摊噪声集中整治。",
                                    version=h.version)
    assert (done.state, done.version, done.handled_by, done.proactive_appeal_id is not None) == (
        "converted", 2, city.so, True)
    p = Appeal.objects.get(pk=done.proactive_appeal_id)
    assert (p.source, p.state, p.owner, p.owner_level) == (Source.PROACTIVE, State.ACCEPTED, city.so, Level.STREET)
    assert (p.lon, p.lat, p.grid_id, p.category_id) == (h.lon, h.lat, h.grid_id, h.category_id)
    assert p.title == "北宁夜市噪声集中整治" and p.hotspot_id is None
    assert set(p.repeats.values_list("hotspot_id", flat=True)) == {h.pk} and p.repeats.count() == 5
    assert list(p.events.values_list("action", flat=True)) == ["submit", "accept"]
    entry = AuditEntry.objects.get(action="hotspot.convert")
    assert entry.actor == city.so and entry.after["appeal"] == p.number and len(entry.after["repeats"]) == 5
    # The repeats keep their own state and owner: nobody's work is taken away.
    assert set(Appeal.objects.filter(hotspot=h).values_list("state", flat=True)) == {"submitted"}
    # The street officer can whistle the proactive appeal like any appeal at street level.
    assert "whistle" in services.allowed_actions(city.so, p)
    # Nobody below the street is told they are its first responder: the officer opened it themself.
    from gongzhi.notifications.models import Notification
    assert not Notification.objects.filter(link__contains=p.number).exists()


def test_only_a_street_officer_may_open_a_proactive_appeal(city):
    for who in (city.jumin, city.gw1, city.cw):
        with pytest.raises(PermissionDenied):
            submit(who, source=Source.PROACTIVE)
    assert not Appeal.objects.filter(source=Source.PROACTIVE).exists()
    p = submit(city.so, source=Source.PROACTIVE)
    assert (p.owner, p.owner_level, p.state) == (city.so, Level.STREET, State.SUBMITTED)


def test_a_repeat_after_conversion_links_to_the_proactive_appeal(city):
    h = _hotspot(city)
    h = hotspots.hotspot_convert(city.so, h, "北宁夜市噪声集中整治", "集中整治", version=h.version)
    late = submit(city.linju, point=near(5, 5), text="整治前又吵了一晚")
    result = hotspots.detect_hotspots()
    assert result.created == [] and result.linked == 1
    late.refresh_from_db()
    assert (late.hotspot_id, late.proactive_id) == (h.pk, h.proactive_appeal_id)
    assert Hotspot.objects.get(pk=h.pk).appeal_count == 6


def test_once_the_proactive_appeal_is_resolved_new_repeats_warn_again(city, settings):
    settings.APPEAL_HOTSPOT_MIN_COUNT = 3
    h = _hotspot(city, 3)
    h = hotspots.hotspot_convert(city.so, h, "集中整治", "集中整治", version=h.version)
    services.appeal_resolve(actor=city.so, appeal=h.proactive_appeal_id, note="已整治")
    repeats(city, 3, who=city.linju)
    result = hotspots.detect_hotspots()
    assert len(result.created) == 1 and Hotspot.objects.count() == 2


def test_dismissing_needs_a_reason_and_keeps_the_appeals_out_of_new_warnings(city):
    h = _hotspot(city)
    with pytest.raises(ValidationFailed) as exc:
        hotspots.hotspot_dismiss(city.so, h, "   ", version=h.version)
    assert exc.value.message == "请填写忽略原因。"
    assert Hotspot.objects.get(pk=h.pk).state == "open"
    done = hotspots.hotspot_dismiss(city.so, h, "夜市已于本周撤摊", version=h.version)
    assert (done.state, done.dismissed_reason, done.version) == ("dismissed", "夜市已于本周撤摊", 2)
    assert AuditEntry.objects.filter(action="hotspot.dismiss", actor=city.so).count() == 1
    assert hotspots.detect_hotspots().created == []  # its appeals stay with it
    repeats(city, 4, who=city.linju)
    assert hotspots.detect_hotspots().created == []  # four fresh ones: below the threshold
    repeats(city, 1, who=city.linju, start=4)
    assert len(hotspots.detect_hotspots().created) == 1


def test_an_empty_title_or_a_stale_version_changes_nothing(city):
    h = _hotspot(city)
    appeals_before = Appeal.objects.count()
    with pytest.raises(ValidationFailed) as exc:
        hotspots.hotspot_convert(city.so, h, "  ", "集中整治", version=h.version)
    assert exc.value.message == "请填写标题。"
    with pytest.raises(ValidationFailed):
        hotspots.hotspot_convert(city.so, h, "集中整治", "", version=h.version)
    with pytest.raises(ValidationFailed) as exc:
        hotspots.hotspot_convert(city.so, h, "集中整治", "说明", version="x")
    assert exc.value.code == "bad_version"
    with pytest.raises(Conflict) as exc:
        hotspots.hotspot_convert(city.so, h, "集中整治", "说明", version=h.version + 1)
    assert exc.value.message == "该热点预警已被他人处理，请刷新后查看。"
    assert exc.value.extra["state"] == "open" and exc.value.extra["version"] == 1
    h.refresh_from_db()
    assert (h.state, h.version, h.proactive_appeal_id) == ("open", 1, None)
    assert Appeal.objects.count() == appeals_before
    assert not AuditEntry.objects.filter(action="hotspot.convert").exists()


def test_a_handled_hotspot_cannot_be_converted_or_dismissed_again(city):
    h = _hotspot(city)
    hotspots.hotspot_convert(city.so, h, "集中整治", "说明", version=1)
    for call in (lambda: hotspots.hotspot_convert(city.so, h, "再来一次", "说明", version=2),
                 lambda: hotspots.hotspot_dismiss(city.so, h, "原因", version=2)):
        with pytest.raises(Conflict) as exc:
            call()
        assert exc.value.extra["state"] == "converted" and exc.value.extra["proactive_appeal"]
    assert Appeal.objects.filter(source=Source.PROACTIVE).count() == 1


def test_only_a_street_officer_in_scope_converts(city):
    h = _hotspot(city)
    for staff in (city.gw1, city.cw, city.leader, city.auditor):
        with pytest.raises(PermissionDenied):
            hotspots.hotspot_convert(staff, h, "集中整治", "说明", version=1)
        with pytest.raises(PermissionDenied):
            hotspots.hotspot_dismiss(staff, h, "原因", version=1)
    for outsider in (city.jumin, city.gw_x, city.cw_x):
        with pytest.raises(NotFound):
            hotspots.hotspot_convert(outsider, h, "集中整治", "说明", version=1)
    other_street = place(PlaceKind.STREET, "450102002000", "朝阳街道", city.tree["district"])
    with pytest.raises(NotFound):
        hotspots.hotspot_convert(user("so_far", ("street_officer", other_street)), h, "集中整治", "说明", version=1)
    h.refresh_from_db()
    assert (h.state, h.version) == ("open", 1)
    assert hotspots.allowed_actions(city.so, h) == ["convert", "dismiss"]
    assert hotspots.allowed_actions(city.cw, h) == []


def test_a_hotspot_belongs_to_its_centres_community(city, tree):
    """A cluster in another community is seen by that community's staff and the street, not by 北宁's."""
    far_community = place(PlaceKind.COMMUNITY, "450102001009", "滨江社区", tree["street"])
    _top, micros = grid_tree(far_community, 108.36, 22.82, size=0.01)
    centre = (108.3625, 22.8225)
    for i in range(5):
        submit(city.jumin, point=near(i * 10, 0, origin=centre), text=f"滨江夜间噪声 {i}")
    hotspots.detect_hotspots()
    h = Hotspot.objects.get()
    assert h.grid_id == micros[0].id
    assert list(selectors.hotspots_for(city.so)) == [h]
    assert list(selectors.hotspots_for(city.cw)) == []


def test_the_command_detects_as_of_a_given_time(city, capsys):
    repeats(city, 5)
    later = timezone.localtime() + dt.timedelta(days=20)
    call_command("hotspots", now=later.strftime("%Y-%m-%dT%H:%M"))
    assert "0 created" in capsys.readouterr().out and not Hotspot.objects.exists()  # all too old by then
    call_command("hotspots")
    out = capsys.readouterr().out
    assert "1 created" in out and "5 appeals linked" in out
    assert Hotspot.objects.get().state == HotspotState.OPEN
    with pytest.raises(CommandError):
        call_command("hotspots", now="下周一")


def test_the_sweep_detects_hotspots_once(city):
    from gongzhi.appeals.sweep import sweep

    repeats(city, 5)
    assert sweep(dry_run=True).hotspots_created == 0 and not Hotspot.objects.exists()
    first = sweep()
    assert (first.hotspots_created, first.errors) == (1, 0)
    assert Hotspot.objects.get().appeal_count == 5
    again = sweep()
    assert (again.hotspots_created, again.hotspots_extended, again.hotspot_repeats_linked) == (0, 0, 0)
    assert Hotspot.objects.count() == 1
