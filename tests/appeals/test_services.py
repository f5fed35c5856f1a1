"""The appeal services: the whole loop, first-responder routing, deadlines, refusals that change nothing."""

import datetime as dt
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models import F

from gongzhi.appeals import services
from gongzhi.appeals.models import Appeal, AppealEvent, AppealPhoto, Category
from gongzhi.core import pii
from gongzhi.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from gongzhi.core.models import AuditEntry
from gongzhi.org.models import Post
from tests.appeals.conftest import IN_XINGNING, JPEG, NOT_AN_IMAGE, OUTSIDE, PNG, WEBP, submit

pytestmark = pytest.mark.django_db


def test_the_whole_loop_through_the_services(city):
    a = submit(city.jumin)
    assert (a.state, a.owner, a.owner_level, a.grid, a.reporter) == ("submitted", city.gw1, "grid", city.micros[0],
                                                                      city.jumin)
    a = services.appeal_accept(actor=city.gw1, appeal=a, version=a.version)
    a = services.appeal_hand_on(actor=city.gw1, appeal=a, reason="涉及多家商户，需社区协调", version=a.version)
    assert (a.state, a.owner, a.owner_level, a.handon_count) == ("escalated", city.cw, "community", 1)
    a = services.appeal_accept(actor=city.cw, appeal=a, version=a.version)
    a = services.appeal_resolve(actor=city.cw, appeal=a, note="约谈店主，22点后停止营业", version=a.version)
    a = services.appeal_rate(actor=city.jumin, appeal=a, resolved=False, satisfaction="unsatisfied",
                             comment="还是很吵", version=a.version)
    assert (a.state, a.reopen_count, a.owner) == ("reopened", 1, city.cw)  # the owner keeps it
    a = services.appeal_accept(actor=city.cw, appeal=a, version=a.version)
    a = services.appeal_resolve(actor=city.cw, appeal=a, note="加装隔音设施并复查", version=a.version)
    a = services.appeal_rate(actor=city.jumin, appeal=a, resolved=True, satisfaction="satisfied", version=a.version)
    assert a.state == "rated"
    a = services.appeal_close(actor=city.cw, appeal=a, version=a.version)
    assert (a.state, a.version) == ("closed", 10)
    assert a.closed_at is not None and a.rating_resolved is True and a.satisfaction == "satisfied"
    actions = list(a.events.values_list("action", flat=True))
    assert actions == ["submit", "accept", "hand_on", "accept", "resolve", "rate", "accept", "resolve", "rate",
                       "close"]
    audited = list(AuditEntry.objects.filter(object_type="appeals.appeal", object_id=str(a.pk))
                   .values_list("action", flat=True))
    assert audited == [f"appeal.{x}" for x in actions]


def test_number_is_sq_day_and_sequence(city):
    a, b = submit(city.jumin), submit(city.linju)
    assert a.number[:2] == "SQ" and len(a.number) == 16
    assert a.number[2:10] == a.submitted_at.astimezone(dt.timezone(dt.timedelta(hours=8))).strftime("%Y%m%d")
    assert int(b.number[10:]) == int(a.number[10:]) + 1


def test_deadlines_follow_category_and_urgency(city):
    cat = Category.objects.get(code="fire_safety")
    a = submit(city.jumin, category="fire_safety", urgency="urgent")
    assert a.respond_due - a.submitted_at == dt.timedelta(hours=cat.urgent_respond_hours) == dt.timedelta(hours=2)
    assert a.resolve_due - a.submitted_at == dt.timedelta(hours=24)
    assert a.step_due == a.respond_due
    Category.objects.filter(code="noise").update(normal_respond_hours=12, normal_resolve_hours=72)
    b = submit(city.jumin)
    assert (b.respond_due - b.submitted_at, b.resolve_due - b.submitted_at) == (dt.timedelta(hours=12),
                                                                                dt.timedelta(hours=72))
    b = services.appeal_accept(actor=city.gw1, appeal=b)
    assert b.step_due == b.resolve_due and b.accepted_at is not None


def test_first_responder_falls_back_from_worker_to_leader_to_community_worker(city):
    assert submit(city.jumin).owner == city.gw1  # lowest post id among the grid workers
    Post.objects.filter(title="grid_worker", grid=city.micros[0]).update(ends_on="2020-06-01")
    assert submit(city.jumin).owner == city.leader
    Post.objects.filter(title="grid_leader", grid=city.micros[0]).update(ends_on="2020-06-01")
    a = submit(city.jumin)
    assert (a.owner, a.owner_level) == (city.cw, "community")
    # The other community's grids have their own staff; a grid with none goes to its community worker.
    assert submit(city.jumin, point=IN_XINGNING).owner == city.gw_x
    b = submit(city.jumin, point=(108.3425, 22.8275))
    assert (b.grid, b.owner, b.owner_level) == (city.xmicros[1], city.cw_x, "community")


def test_point_outside_every_grid_is_refused_and_nothing_is_created(city):
    with pytest.raises(ValidationFailed) as exc:
        submit(city.jumin, point=OUTSIDE)
    assert exc.value.code == "outside_grids" and "不在任何网格内" in str(exc.value.message)
    with pytest.raises(ValidationFailed) as exc:
        submit(city.jumin, point=("abc", 22.8))
    assert exc.value.code == "bad_point"
    with pytest.raises(ValidationFailed) as exc:
        submit(city.jumin, point=(None, None))
    assert exc.value.code == "point_required"
    assert not Appeal.objects.exists() and not AppealEvent.objects.exists()


@pytest.mark.parametrize("field,value,code", [
    ("text", "", "required"),
    ("text", "长" * 2001, "too_long"),
    ("title", "长" * 101, "too_long"),
    ("category", "ufo", "bad_category"),
    ("urgency", "extreme", "bad_urgency"),
    ("source", "pigeon", "bad_source"),
    ("idempotency_key", "键" * 3, "bad_idempotency_key"),
])
def test_bad_input_gets_a_clear_message_and_changes_nothing(city, field, value, code):
    with pytest.raises(ValidationFailed) as exc:
        submit(city.jumin, **{field: value})
    assert exc.value.code == code
    assert str(exc.value.message)
    assert not Appeal.objects.exists()


def test_title_defaults_to_the_start_of_the_text(city):
    a = submit(city.jumin, title="", text="小区门口路灯坏了一个月\n晚上很黑")
    assert a.title == "小区门口路灯坏了一个月"


def test_control_characters_are_dropped_on_every_backend(city):
    # PostgreSQL refuses NUL in text; the service cleans it so both backends store the same.
    a = submit(city.jumin, title="路灯\x00坏了", text="噪声\x00很大\x0b\n凌晨\x1f两点")
    a.refresh_from_db()
    assert (a.title, a.text) == ("路灯坏了", "噪声很大\n凌晨两点")


def test_idempotent_retry_returns_the_first_appeal(city):
    a = submit(city.jumin, idempotency_key="k-123")
    b = submit(city.jumin, idempotency_key="k-123", text="重复提交")
    assert (a.pk, a.replayed, b.replayed) == (b.pk, False, True)
    assert Appeal.objects.count() == 1 and AppealEvent.objects.count() == 1
    # The key is the submitter's: another resident using the same key gets their own appeal.
    c = submit(city.linju, idempotency_key="k-123")
    assert c.pk != a.pk and Appeal.objects.count() == 2


def test_anonymous_appeal_keeps_its_reporter_for_rating(city):
    a = submit(city.jumin, anonymous=True)
    assert a.reporter == city.jumin and a.anonymous
    a = services.appeal_accept(actor=city.gw1, appeal=a)
    a = services.appeal_resolve(actor=city.gw1, appeal=a, note="已处理")
    a = services.appeal_rate(actor=city.jumin, appeal=a, resolved=True, satisfaction="basic")
    assert a.state == "rated"


def test_rating_by_anyone_but_the_reporter_is_refused(city):
    a = submit(city.jumin)
    a = services.appeal_accept(actor=city.gw1, appeal=a)
    a = services.appeal_resolve(actor=city.gw1, appeal=a, note="已处理")
    for staff in (city.gw1, city.cw, city.so):  # can see it, may not rate it
        with pytest.raises(PermissionDenied):
            services.appeal_rate(actor=staff, appeal=a, resolved=True, satisfaction="satisfied")
    with pytest.raises(NotFound):  # another resident cannot even see it: the same 404 as a missing number
        services.appeal_rate(actor=city.linju, appeal=a, resolved=True, satisfaction="satisfied")
    a.refresh_from_db()
    assert (a.state, a.satisfaction) == ("resolved", "")


def test_rating_needs_an_answer(city):
    a = submit(city.jumin)
    a = services.appeal_accept(actor=city.gw1, appeal=a)
    a = services.appeal_resolve(actor=city.gw1, appeal=a, note="已处理")
    with pytest.raises(ValidationFailed):
        services.appeal_rate(actor=city.jumin, appeal=a, resolved=None, satisfaction="satisfied")
    with pytest.raises(ValidationFailed):
        services.appeal_rate(actor=city.jumin, appeal=a, resolved=True, satisfaction="great")


@pytest.mark.parametrize("action,fields", [
    ("hand_on", {"reason": " "}),
    ("reject", {"reason": "不属于社区职责", "redirect_to": ""}),
    ("reject", {"reason": "", "redirect_to": "12345 热线"}),
])
def test_reasons_are_required(city, action, fields):
    a = submit(city.jumin)
    actor = city.gw1 if action == "hand_on" else city.cw
    with pytest.raises(ValidationFailed) as exc:
        services.appeal_act(actor=actor, appeal=a.number, action=action, version=a.version, **fields)
    assert exc.value.code == "required"
    a.refresh_from_db()
    assert (a.state, a.version) == ("submitted", 1)


def test_rejection_names_who_and_where_to_turn(city):
    a = submit(city.jumin)
    a = services.appeal_reject(actor=city.cw, appeal=a, reason="属于房屋买卖合同纠纷，须通过诉讼解决",
                               redirect_to="兴宁区人民法院诉讼服务中心 0771-1234567")
    assert (a.state, a.redirect_to) == ("rejected", "兴宁区人民法院诉讼服务中心 0771-1234567")
    assert a.events.get(action="reject").actor == city.cw
    assert a.closed_at is not None and a.step_due is None


def test_merge_into_an_open_appeal_of_the_same_category(city):
    target = submit(city.jumin)
    dup = submit(city.linju)
    other = submit(city.linju, category="fire_safety")
    with pytest.raises(ValidationFailed) as exc:
        services.appeal_merge(actor=city.cw, appeal=other, into=target.number)
    assert exc.value.code == "merge_category"
    with pytest.raises(ValidationFailed):
        services.appeal_merge(actor=city.cw, appeal=dup, into=dup.number)
    with pytest.raises(NotFound):
        services.appeal_merge(actor=city.cw, appeal=dup, into="SQ00000000000000")
    dup = services.appeal_merge(actor=city.cw, appeal=dup, into=target.number)
    target.refresh_from_db()
    assert (dup.state, dup.merged_into, target.merged_count) == ("merged", target, 1)
    assert target.events.filter(action="merged_in").exists()
    closed = submit(city.jumin)
    closed = services.appeal_reject(actor=city.cw, appeal=closed, reason="重复", redirect_to="无")
    third = submit(city.linju)
    with pytest.raises(ValidationFailed) as exc:
        services.appeal_merge(actor=city.cw, appeal=third, into=closed.number)
    assert exc.value.code == "merge_closed"


def test_stale_version_is_409_and_changes_nothing(city):
    a = submit(city.jumin)
    services.appeal_accept(actor=city.gw2, appeal=a, version=1)
    with pytest.raises(Conflict) as exc:
        services.appeal_accept(actor=city.gw1, appeal=a, version=1)
    assert exc.value.code == "stale" and str(exc.value.message) == "该诉求已被他人处理，请刷新后查看。"
    a.refresh_from_db()
    assert (a.owner, a.version) == (city.gw2, 2)


def test_compare_and_set_loses_to_a_write_between_read_and_update(city, monkeypatch):
    """Another writer commits after our checks but before our UPDATE: zero rows, 409, nothing written."""
    a = submit(city.jumin)
    real = services._check_photos

    def sneak_in(appeal_pk, uploads):
        Appeal.objects.filter(pk=appeal_pk).update(version=F("version") + 1)
        return real(appeal_pk, uploads)

    monkeypatch.setattr(services.transitions, "_check_photos", sneak_in)  # where the transition looks it up
    with pytest.raises(Conflict) as exc:
        services.appeal_accept(actor=city.gw1, appeal=a, version=1)
    assert exc.value.code == "stale"
    a.refresh_from_db()
    assert a.state == "submitted" and a.events.count() == 1


def test_assisted_entry_stores_the_resident_encrypted_with_consent(city):
    with pytest.raises(ValidationFailed) as exc:
        submit(city.gw1, source="hotline", reporter_name="王奶奶", reporter_phone="13800001111")
    assert exc.value.code == "consent_required"
    with pytest.raises(PermissionDenied):  # a resident cannot enter on behalf of others
        submit(city.jumin, source="hotline", reporter_name="王奶奶", consent_recorded=True)
    with pytest.raises(PermissionDenied):  # nor can staff of another community
        submit(city.gw_x, source="hotline", reporter_name="王奶奶", consent_recorded=True)
    a = submit(city.gw1, source="hotline", reporter_name="王奶奶", reporter_phone="138 0000 1111",
               consent_recorded=True)
    assert a.reporter is None and a.submitted_by == city.gw1 and a.consent_recorded
    assert (a.reporter_name_masked, a.reporter_phone_masked) == ("王**", "138****1111")
    assert "王奶奶" not in a.reporter_name_enc and pii.decrypt(a.reporter_phone_enc) == "13800001111"
    assert "13800001111" not in str(AuditEntry.objects.last().after)


def test_patrol_report_is_staff_only(city):
    with pytest.raises(PermissionDenied):
        submit(city.jumin, source="patrol")
    a = submit(city.gw2, source="patrol")
    assert (a.reporter, a.source, a.owner) == (city.gw2, "patrol", city.gw1)


def _upload(data, name="photo.jpg"):
    return SimpleUploadedFile(name, data, content_type="image/jpeg")


def test_photos_checked_by_their_bytes(city):
    a = submit(city.jumin, photos=[_upload(JPEG), _upload(PNG, "a.png"), _upload(WEBP, "b.webp")])
    assert sorted(AppealPhoto.objects.values_list("content_type", flat=True)) == ["image/jpeg", "image/png",
                                                                                  "image/webp"]
    photo = AppealPhoto.objects.first()
    assert photo.event.action == "submit" and photo.file.name.endswith((".jpg", ".png", ".webp"))
    assert "photo" not in photo.file.name  # our name, not the uploader's
    with pytest.raises(ValidationFailed) as exc:
        services.appeal_photo_add(actor=city.jumin, appeal=a, upload=_upload(NOT_AN_IMAGE))
    assert exc.value.code == "photo_type"
    big = _upload(JPEG + b"\x00" * (5 * 1024 * 1024))
    with pytest.raises(ValidationFailed) as exc:
        services.appeal_photo_add(actor=city.jumin, appeal=a, upload=big)
    assert exc.value.code == "photo_too_large"
    assert AppealPhoto.objects.count() == 3


def test_a_bad_photo_refuses_the_whole_submission(city):
    with pytest.raises(ValidationFailed):
        submit(city.jumin, photos=[_upload(JPEG), _upload(NOT_AN_IMAGE, "x.png")])
    assert not Appeal.objects.exists() and not AppealPhoto.objects.exists()


def test_at_most_nine_photos(city):
    a = submit(city.jumin, photos=[_upload(JPEG) for _ in range(8)])
    services.appeal_photo_add(actor=city.gw1, appeal=a, upload=_upload(PNG))
    with pytest.raises(ValidationFailed) as exc:
        services.appeal_photo_add(actor=city.jumin, appeal=a, upload=_upload(JPEG))
    assert exc.value.code == "too_many_photos"
    with pytest.raises(ValidationFailed):
        submit(city.jumin, photos=[_upload(JPEG) for _ in range(10)])
    assert AppealPhoto.objects.count() == 9


def test_photo_by_a_stranger_is_404_and_result_photos_go_on_the_resolve_event(city):
    a = submit(city.jumin)
    with pytest.raises(NotFound):
        services.appeal_photo_add(actor=city.linju, appeal=a, upload=io.BytesIO(JPEG))
    a = services.appeal_accept(actor=city.gw1, appeal=a)
    a = services.appeal_resolve(actor=city.gw1, appeal=a, note="已清理", photos=[_upload(PNG)])
    assert AppealPhoto.objects.get().event.action == "resolve"


def test_timeline_events_are_append_only(city):
    event = submit(city.jumin).events.get()
    event.note = "rewritten"
    with pytest.raises(ValueError):
        event.save()
    with pytest.raises(ValueError):
        event.delete()
