"""Photos kept across a failed form (appeals.staging): owner only, expiry, forged tokens, the limit,
the sweep; and through the pages: a photo posted with a form that fails is shown again and attached
by the next valid submit, on the resident's form and on the staff entry form."""

import datetime as dt
import re
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from gongzhi.appeals import services, staging
from gongzhi.appeals.models import Appeal, AppealPhoto, StagedPhoto
from gongzhi.appeals.sweep import sweep
from gongzhi.core.errors import ValidationFailed
from tests.appeals.conftest import IN_GRID, JPEG, NOT_AN_IMAGE, PNG, submit
from tests.photos import exif_of, jpeg_with_gps

pytestmark = pytest.mark.django_db


def upload(name="lamp.jpg", data=JPEG, ctype="image/jpeg"):
    return SimpleUploadedFile(name, data, ctype)


def stage(actor, *uploads, **kw):
    return staging.carry(actor, uploads=list(uploads), **kw)


def read(f) -> bytes:
    with f.open("rb") as fh:
        return fh.read()


# ---- the service ----

def test_a_staged_photo_is_re_encoded_at_once_and_owned_by_its_uploader(city):
    c = stage(city.jumin, upload("home.jpg", jpeg_with_gps()))
    assert c.problems == [] and len(c.photos) == 1
    s = StagedPhoto.objects.get()
    assert (s.owner, s.name, s.content_type) == (city.jumin, "home.jpg", "image/jpeg")
    exif, gps, _size, _info = exif_of(read(s.file))
    assert exif == {} and gps == {}  # stripped when staged, not only when attached
    assert len(s.token) >= 32 and s.token not in s.file.name  # the file name does not give the token away
    assert dt.timedelta(hours=23) < s.expires_at - timezone.now() <= dt.timedelta(hours=24)


def test_a_submit_attaches_the_staged_photos_and_removes_them(city, django_capture_on_commit_callbacks):
    c = stage(city.jumin, upload(), upload("b.png", PNG, "image/png"))
    files = [Path(s.file.path) for s in c.photos]
    with django_capture_on_commit_callbacks(execute=True):  # the files go once the submit commits
        a = submit(city.jumin, staged_photos=c.tokens)
    assert [p.content_type for p in a.photos.order_by("id")] == ["image/jpeg", "image/png"]
    assert not StagedPhoto.objects.exists() and not any(f.exists() for f in files)
    assert a.photos.filter(event__action="submit").count() == 2  # on the submit event, as photos sent with it


def test_the_bytes_attached_are_the_re_encoded_ones(city):
    c = stage(city.jumin, upload("home.jpg", jpeg_with_gps()))
    staged = read(c.photos[0].file)
    a = submit(city.jumin, staged_photos=c.tokens)
    assert read(a.photos.get().file) == staged


@pytest.mark.parametrize("whose", ["other user", "forged", "malformed", "expired"])
def test_a_token_not_the_users_own_live_one_is_refused_with_nothing_changed(city, whose):
    mine = stage(city.jumin, upload()).photos[0]
    theirs = stage(city.linju, upload()).photos[0]
    token = {"other user": theirs.token, "forged": "A" * 32, "malformed": "../../etc/passwd",
             "expired": mine.token}[whose]
    if whose == "expired":
        StagedPhoto.objects.filter(pk=mine.pk).update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    with pytest.raises(ValidationFailed) as e:
        submit(city.jumin, staged_photos=[token])
    assert e.value.code == "staged_photo_invalid"
    with pytest.raises(ValidationFailed):
        stage(city.jumin, upload(), tokens=[token])  # nor can it be carried on a form
    with pytest.raises(ValidationFailed):
        stage(city.jumin, drop=[token])  # nor removed
    assert not Appeal.objects.exists()
    assert StagedPhoto.objects.count() == 2  # nothing staged, attached or removed
    assert Path(theirs.file.path).exists()


def test_the_thumbnail_is_served_to_its_owner_only(client, city):
    s = stage(city.jumin, upload()).photos[0]
    url = f"/appeals/staged/{s.token}/"
    client.force_login(city.linju)
    assert client.get(url).status_code == 404
    client.force_login(city.cw)
    assert client.get(url).status_code == 404  # staff neither: it is no appeal's photo yet
    client.force_login(city.jumin)
    r = client.get(url)
    assert r.status_code == 200 and r["Content-Type"] == "image/jpeg" and "no-store" in r["Cache-Control"]
    StagedPhoto.objects.update(expires_at=timezone.now())
    assert client.get(url).status_code == 404
    client.logout()
    assert client.get(url).status_code == 302  # to sign in


def test_the_limit_counts_staged_and_new_photos_together(city):
    kept = stage(city.jumin, *[upload(f"{i}.jpg") for i in range(7)]).photos
    over = stage(city.jumin, upload("8.jpg"), upload("9.jpg"), upload("10.jpg"), tokens=[s.token for s in kept])
    assert len(over.photos) == 7 and "最多 9 张" in over.problems[-1]  # no new one kept past the limit
    assert StagedPhoto.objects.count() == 7
    ok = stage(city.jumin, upload("8.jpg"), upload("9.jpg"), tokens=[s.token for s in kept])
    assert len(ok.photos) == 9 and ok.problems == []
    # At submit: nine staged plus one sent directly is one too many, and nothing is created.
    with pytest.raises(ValidationFailed) as e:
        submit(city.jumin, staged_photos=ok.tokens, photos=[upload("10.jpg")])
    assert e.value.code == "too_many_photos" and not Appeal.objects.exists()
    assert StagedPhoto.objects.count() == 9
    a = submit(city.jumin, staged_photos=ok.tokens)
    assert a.photos.count() == 9


def test_a_bad_upload_is_named_and_the_good_ones_are_kept(city):
    c = stage(city.jumin, upload("fake.jpg", NOT_AN_IMAGE), upload("lamp.jpg"))
    assert [s.name for s in c.photos] == ["lamp.jpg"]
    assert len(c.problems) == 1 and "「fake.jpg」不是 JPEG、PNG 或 WebP 图片" in c.problems[0]


def test_a_removed_photo_is_deleted_and_not_attached(city, django_capture_on_commit_callbacks):
    c = stage(city.jumin, upload("a.jpg"), upload("b.jpg"))
    gone = Path(c.photos[0].file.path)
    with django_capture_on_commit_callbacks(execute=True):
        after = stage(city.jumin, tokens=c.tokens, drop=[c.tokens[0]])
    assert [s.name for s in after.photos] == ["b.jpg"] and not gone.exists()
    assert submit(city.jumin, staged_photos=after.tokens).photos.count() == 1


def test_a_staged_photo_is_attached_once_only(city):
    c = stage(city.jumin, upload())
    submit(city.jumin, staged_photos=c.tokens)
    with pytest.raises(ValidationFailed):
        submit(city.jumin, staged_photos=c.tokens, idempotency_key="another-submit")
    assert AppealPhoto.objects.count() == 1


def test_the_sweep_removes_expired_staged_photos_only(city, django_capture_on_commit_callbacks):
    old = stage(city.jumin, upload("old.jpg")).photos[0]
    fresh = stage(city.jumin, upload("fresh.jpg")).photos[0]
    StagedPhoto.objects.filter(pk=old.pk).update(expires_at=timezone.now() - dt.timedelta(minutes=1))
    with django_capture_on_commit_callbacks(execute=True):
        report = sweep()
    assert report.staged_photos_removed == 1
    assert list(StagedPhoto.objects.values_list("name", flat=True)) == ["fresh.jpg"]
    assert not Path(old.file.path).exists() and Path(fresh.file.path).exists()
    assert sweep().staged_photos_removed == 0
    with django_capture_on_commit_callbacks(execute=True):
        assert sweep(now=timezone.now() + dt.timedelta(hours=25)).staged_photos_removed == 1
    assert not StagedPhoto.objects.exists() and not Path(fresh.file.path).exists()


def test_the_lifetime_is_a_setting(city, settings):
    settings.APPEAL_STAGED_PHOTO_HOURS = 1
    s = stage(city.jumin, upload()).photos[0]
    assert s.expires_at - s.created_at == dt.timedelta(hours=1)


# ---- through the pages (no JavaScript: a plain form post) ----

def _key(html):
    return re.search(r'name="idempotency_key" value="([0-9a-f]{32})"', html).group(1)


def _tokens(html):
    return re.findall(r'name="staged_photo" value="([A-Za-z0-9_-]+)"', html)


RESIDENT = {"category": "noise", "urgency": "normal", "title": "噪声", "text": "楼下烧烤店营业到凌晨。"}
ENTRY = {"source": "hotline", "reporter_name": "张大爷", "reporter_phone": "13912345678", "consent_recorded": "on",
         "category": "noise", "urgency": "normal", "title": "噪声", "text": "来电：楼下烧烤店营业到凌晨。"}


@pytest.mark.parametrize("url,who,fields", [("/appeals/new/", "jumin", RESIDENT), ("/appeals/entry/", "cw", ENTRY)])
def test_a_photo_posted_with_a_failing_form_is_kept_and_attached_by_the_next_submit(client, city, url, who, fields):
    client.force_login(getattr(city, who))
    key = _key(client.get(url).content.decode())
    # No location: refused with a clear message, the photo kept and shown with its thumbnail.
    r = client.post(url, {**fields, "idempotency_key": key, "photos": [upload("lamp.jpg")]})
    html = r.content.decode()
    assert r.status_code == 400 and not Appeal.objects.exists()
    assert "请在地图上点选问题发生的位置" in html
    tokens = _tokens(html)
    assert len(tokens) == 1 and f"/appeals/staged/{tokens[0]}/" in html and "lamp.jpg" in html
    # Another failure (text emptied) keeps it again, with a second photo added.
    r = client.post(url, {**fields, "text": "", "lon": IN_GRID[0], "lat": IN_GRID[1], "idempotency_key": key,
                          "staged_photo": tokens, "photos": [upload("b.png", PNG, "image/png")]})
    assert r.status_code == 400
    tokens = _tokens(r.content.decode())
    assert len(tokens) == 2
    # Valid: the appeal gets both photos; nothing stays staged.
    r = client.post(url, {**fields, "lon": IN_GRID[0], "lat": IN_GRID[1], "idempotency_key": key,
                          "staged_photo": tokens})
    assert r.status_code == 302, r.content.decode()[:3000]
    a = Appeal.objects.get()
    assert sorted(p.content_type for p in a.photos.all()) == ["image/jpeg", "image/png"]
    assert not StagedPhoto.objects.exists()


def test_removing_a_kept_photo_on_the_page(client, city):
    client.force_login(city.jumin)
    key = _key(client.get("/appeals/new/").content.decode())
    r = client.post("/appeals/new/", {**RESIDENT, "idempotency_key": key,
                                      "photos": [upload("a.jpg"), upload("b.jpg")]})
    a_tok, b_tok = _tokens(r.content.decode())
    r = client.post("/appeals/new/", {**RESIDENT, "lon": IN_GRID[0], "lat": IN_GRID[1], "idempotency_key": key,
                                      "staged_photo": [a_tok, b_tok], "unstage": [a_tok]})
    assert r.status_code == 302
    assert Appeal.objects.get().photos.count() == 1 and not StagedPhoto.objects.exists()


def test_another_users_token_on_the_page_is_a_clear_error_and_nothing_changes(client, city):
    theirs = stage(city.linju, upload()).photos[0]
    client.force_login(city.jumin)
    key = _key(client.get("/appeals/new/").content.decode())
    r = client.post("/appeals/new/", {**RESIDENT, "lon": IN_GRID[0], "lat": IN_GRID[1], "idempotency_key": key,
                                      "staged_photo": [theirs.token], "photos": [upload("mine.jpg")]})
    html = r.content.decode()
    assert r.status_code == 400 and "照片已失效" in html
    assert theirs.token not in html and not Appeal.objects.exists()
    assert list(StagedPhoto.objects.all()) == [theirs]


def test_a_bad_photo_on_an_otherwise_valid_form_is_named_and_the_good_one_kept(client, city):
    client.force_login(city.jumin)
    key = _key(client.get("/appeals/new/").content.decode())
    r = client.post("/appeals/new/", {**RESIDENT, "lon": IN_GRID[0], "lat": IN_GRID[1], "idempotency_key": key,
                                      "photos": [upload("fake.jpg", NOT_AN_IMAGE), upload("lamp.jpg")]})
    html = r.content.decode()
    assert r.status_code == 400 and not Appeal.objects.exists()
    assert "「fake.jpg」不是 JPEG、PNG 或 WebP 图片" in html and len(_tokens(html)) == 1


def test_services_submit_still_takes_photos_directly(city):
    # The JSON API and the intake send photos with the submit; staging is the forms' way.
    a = services.appeal_submit(actor=city.jumin, category="noise", text="噪声", lon=IN_GRID[0], lat=IN_GRID[1],
                               photos=[upload()])
    assert a.photos.count() == 1


def test_the_kept_photos_speak_english_too(client, city, settings):
    theirs = stage(city.linju, upload()).photos[0]
    client.force_login(city.jumin)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    key = _key(client.get("/appeals/new/").content.decode())
    r = client.post("/appeals/new/", {**RESIDENT, "idempotency_key": key, "photos": [upload("lamp.jpg")]})
    html = r.content.decode()
    assert "already uploaded and will be saved when you submit" in html and "Remove this one" in html
    r = client.post("/appeals/new/", {**RESIDENT, "idempotency_key": key, "staged_photo": [theirs.token]})
    assert "The photos uploaded earlier are no longer valid" in r.content.decode()


def test_a_resent_submit_with_its_staged_photos_replays_the_appeal(city):
    # A double tap: the first request took the photos; the second gets the same appeal, not an error.
    c = stage(city.jumin, upload())
    first = submit(city.jumin, staged_photos=c.tokens, idempotency_key="tap-1")
    again = submit(city.jumin, staged_photos=c.tokens, idempotency_key="tap-1")
    assert again.replayed and again.pk == first.pk and AppealPhoto.objects.count() == 1


@pytest.mark.parametrize("url,who,fields", [("/appeals/new/", "jumin", RESIDENT), ("/appeals/entry/", "cw", ENTRY)])
def test_the_same_valid_form_posted_twice_shows_the_one_appeal(client, city, url, who, fields):
    client.force_login(getattr(city, who))
    key = _key(client.get(url).content.decode())
    r = client.post(url, {**fields, "idempotency_key": key, "photos": [upload("lamp.jpg")]})
    post = {**fields, "lon": IN_GRID[0], "lat": IN_GRID[1], "idempotency_key": key,
            "staged_photo": _tokens(r.content.decode())}
    first, second = client.post(url, post), client.post(url, post)
    assert first.status_code == second.status_code == 302 and first["Location"] == second["Location"]
    assert Appeal.objects.get().photos.count() == 1
