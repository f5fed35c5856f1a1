"""A reporter adds a comment or a photo while the appeal is open; staff see it in the timeline; the
owner hears of it. Through the service, the JSON API and the appeal's page. Bad input is a clear
error and changes nothing."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from gongzhi.appeals import comments, services
from gongzhi.appeals.models import AppealEvent, AppealPhoto
from gongzhi.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from gongzhi.core.models import AuditEntry
from gongzhi.notifications.models import Notification
from tests.appeals.conftest import JPEG, NOT_AN_IMAGE, bearer, submit

pytestmark = pytest.mark.django_db


def comment_events(a):
    return list(AppealEvent.objects.filter(appeal=a, action="comment").order_by("id"))


def test_the_reporter_comments_with_a_photo_and_the_owner_hears_of_it(city):
    a = submit(city.jumin)
    version = a.version
    ev = comments.appeal_comment(actor=city.jumin, appeal=a, text="  晚上十一点后更吵了  ",
                                 photos=[SimpleUploadedFile("p.jpg", JPEG)])
    assert (ev.action, ev.note, ev.actor, ev.from_state, ev.to_state) == (
        "comment", "晚上十一点后更吵了", city.jumin, "submitted", "submitted")
    (photo,) = AppealPhoto.objects.filter(event=ev)
    assert photo.content_type == "image/jpeg" and photo.uploaded_by == city.jumin
    a.refresh_from_db()
    assert (a.state, a.version) == ("submitted", version)  # a comment is no transition
    n = Notification.objects.filter(recipient=city.gw1, kind="comment").get()
    assert a.number in n.title and "晚上" not in n.title + n.body  # the text itself is not copied
    assert not Notification.objects.filter(recipient=city.jumin, kind="comment").exists()  # not to oneself
    entry = AuditEntry.objects.filter(action="appeal.comment").get()
    assert entry.actor_id == city.jumin.pk


def test_staff_comment_tells_the_reporter(city):
    a = services.appeal_accept(actor=city.gw1, appeal=submit(city.jumin))
    comments.appeal_comment(actor=city.cw, appeal=a, text="已约店主明天面谈")
    assert Notification.objects.filter(recipient=city.jumin, kind="comment").count() == 1
    assert Notification.objects.filter(recipient=city.gw1, kind="comment").count() == 1


@pytest.mark.parametrize("text, code", [("", "required"), ("   ", "required"), ("长" * 1001, "too_long")])
def test_bad_text_is_refused_and_nothing_is_written(city, text, code):
    a = submit(city.jumin)
    with pytest.raises(ValidationFailed) as e:
        comments.appeal_comment(actor=city.jumin, appeal=a, text=text)
    assert e.value.code == code and "补充说明" in str(e.value.message)
    assert comment_events(a) == [] and not Notification.objects.filter(kind="comment").exists()


def test_a_bad_photo_is_refused_and_nothing_is_written(city):
    a = submit(city.jumin)
    with pytest.raises(ValidationFailed):
        comments.appeal_comment(actor=city.jumin, appeal=a, text="补一张图",
                                photos=[SimpleUploadedFile("x.jpg", NOT_AN_IMAGE)])
    assert comment_events(a) == [] and not AppealPhoto.objects.filter(appeal=a).exists()


def test_a_closed_appeal_takes_no_comment(city):
    a = submit(city.jumin)
    services.appeal_reject(actor=city.cw, appeal=a, reason="属于司法诉讼事项", redirect_to="兴宁区人民法院")
    with pytest.raises(Conflict) as e:
        comments.appeal_comment(actor=city.jumin, appeal=a, text="为什么不受理？")
    assert e.value.code == "appeal_closed"
    assert comment_events(a) == []


def test_someone_else_cannot_comment(city):
    a = submit(city.jumin)
    with pytest.raises((NotFound, PermissionDenied)):
        comments.appeal_comment(actor=city.linju, appeal=a, text="我也觉得吵")
    with pytest.raises((NotFound, PermissionDenied)):
        comments.appeal_comment(actor=city.auditor, appeal=a, text="审计")
    assert comment_events(a) == []


def test_api_json_and_multipart(city, client):
    a = submit(city.jumin)
    r = client.post(f"/api/v1/appeals/{a.number}/comments", data=json.dumps({"text": "补充：周末也吵"}),
                    content_type="application/json", **bearer(city.jumin))
    assert r.status_code == 201, r.content
    assert (r.json()["action"], r.json()["note"]) == ("comment", "补充：周末也吵")
    assert r.json()["action_label"] == "补充说明"

    buf = SimpleUploadedFile("p.png", _png())
    r = client.post(f"/api/v1/appeals/{a.number}/comments", data={"text": "附照片", "photos": [buf]},
                    **bearer(city.jumin))
    assert r.status_code == 201, r.content
    assert len(r.json()["photos"]) == 1

    r = client.post(f"/api/v1/appeals/{a.number}/comments", data=json.dumps({"text": ""}),
                    content_type="application/json", **bearer(city.jumin))
    assert r.status_code == 400 and r.json()["error"]["code"] == "required"
    r = client.post(f"/api/v1/appeals/{a.number}/comments", data=json.dumps({"text": "我也觉得"}),
                    content_type="application/json", **bearer(city.linju))
    assert r.status_code in (403, 404)
    # Staff read it in the timeline the API gives them.
    timeline = client.get(f"/api/v1/appeals/{a.number}", **bearer(city.gw1)).json()["timeline"]
    assert [e["note"] for e in timeline if e["action"] == "comment"] == ["补充：周末也吵", "附照片"]
    assert len(comment_events(a)) == 2


def test_page_form_and_errors(city, client):
    a = submit(city.jumin)
    client.force_login(city.jumin)
    page = client.get(f"/appeals/{a.number}/").content.decode()
    assert 'data-testid="comment-form"' in page
    r = client.post(f"/appeals/{a.number}/comments/", {"text": ""})
    assert r.status_code == 400 and 'data-testid="comment-error"' in r.content.decode()
    r = client.post(f"/appeals/{a.number}/comments/", {"text": "门口又摆摊了",
                                                       "photos": SimpleUploadedFile("p.jpg", JPEG)})
    assert r.status_code == 302
    client.force_login(city.gw1)
    page = client.get(f"/appeals/{a.number}/").content.decode()
    assert 'data-action="comment"' in page and "门口又摆摊了" in page
    services.appeal_reject(actor=city.cw, appeal=a, reason="不属于受理范围", redirect_to="12345")
    client.force_login(city.jumin)
    assert 'data-testid="comment-form"' not in client.get(f"/appeals/{a.number}/").content.decode()
    r = client.post(f"/appeals/{a.number}/comments/", {"text": "还在吗"})
    assert r.status_code == 409 and "已结束" in r.content.decode()


def _png() -> bytes:
    import io

    buf = io.BytesIO()
    Image.new("RGB", (4, 4), "red").save(buf, "PNG")
    return buf.getvalue()
