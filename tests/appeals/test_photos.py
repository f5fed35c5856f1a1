"""Uploaded photos: EXIF (GPS, camera) stripped by re-encoding, upright, bombs and broken files refused."""

import re
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from gongzhi.appeals import services
from gongzhi.appeals.models import Appeal, AppealPhoto
from gongzhi.core.errors import ValidationFailed
from tests.appeals.conftest import IN_GRID, bearer, submit
from tests.photos import CAMERA, exif_of, jpeg_with_gps, png_declaring, tiny_image

pytestmark = pytest.mark.django_db


def stored_bytes(photo: AppealPhoto) -> bytes:
    with photo.file.open("rb") as f:
        return f.read()


def assert_clean(data: bytes):
    exif, gps, size, info = exif_of(data)
    assert exif == {} and gps == {}, (exif, gps)
    assert size == (20, 40)  # turned upright by the orientation tag before the tag was dropped
    assert "exif" not in info and "comment" not in info
    assert CAMERA.encode() not in data and b"GongzhiPhone" not in data and b"shot at home" not in data


def test_the_gps_test_photo_really_carries_gps():
    exif, gps, size, _info = exif_of(jpeg_with_gps())
    assert exif[0x0110] == CAMERA and gps[2] == (22.0, 49.0, 12.5) and size == (40, 20)


def test_a_photo_uploaded_through_the_api_is_stored_without_exif(client, city):
    a = submit(city.jumin)
    r = client.post(f"/api/v1/appeals/{a.number}/photos",
                    {"file": SimpleUploadedFile("home.jpg", jpeg_with_gps(), "image/jpeg")}, **bearer(city.jumin))
    assert r.status_code == 201, r.content
    photo = AppealPhoto.objects.get(appeal=a)
    data = stored_bytes(photo)
    assert_clean(data)
    assert photo.size == len(data) and photo.content_type == "image/jpeg"
    served = b"".join(client.get(r.json()["url"], **bearer(city.jumin)).streaming_content)
    assert served == data


def test_a_photo_uploaded_on_the_page_is_stored_without_exif(client, city):
    client.force_login(city.jumin)
    html = client.get("/appeals/new/").content.decode()
    key = re.search(r'name="idempotency_key" value="([0-9a-f]{32})"', html).group(1)
    r = client.post("/appeals/new/", {
        "category": "noise", "urgency": "normal", "title": "噪声", "text": "楼下烧烤店营业到凌晨。",
        "lon": IN_GRID[0], "lat": IN_GRID[1], "idempotency_key": key,
        "photos": [SimpleUploadedFile("home.jpg", jpeg_with_gps(), "image/jpeg")]})
    assert r.status_code == 302, r.content.decode()[:2000]
    assert_clean(stored_bytes(AppealPhoto.objects.get()))


@pytest.mark.parametrize("fmt", ["PNG", "WEBP"])
def test_png_and_webp_are_re_encoded_in_their_own_format(city, fmt):
    checked = services.check_photo(SimpleUploadedFile("p", tiny_image(fmt, size=(6, 5))))
    exif, gps, size, _info = exif_of(checked.data)
    assert (exif, gps, size) == ({}, {}, (6, 5))
    assert checked.content_type == f"image/{fmt.lower()}"


def test_a_decompression_bomb_is_refused_through_the_api_and_nothing_is_stored(client, city, settings):
    a = submit(city.jumin)
    for bomb in (png_declaring(100_000, 100_000), png_declaring(8_000, 6_000)):  # over Pillow's and ours
        assert len(bomb) < 2000
        r = client.post(f"/api/v1/appeals/{a.number}/photos",
                        {"file": SimpleUploadedFile("bomb.png", bomb, "image/png")}, **bearer(city.jumin))
        assert r.status_code == 400, r.content
        error = r.json()["error"]
        assert error["code"] == "photo_too_many_pixels" and "4000 万像素" in error["message"]
    assert not AppealPhoto.objects.exists()
    media = Path(settings.MEDIA_ROOT)
    assert not media.exists() or not [f for f in media.rglob("*") if f.is_file()]


def test_the_pixel_limit_is_a_setting(city, settings):
    settings.PHOTO_MAX_PIXELS = 100
    with pytest.raises(ValidationFailed) as e:
        services.check_photo(SimpleUploadedFile("big.png", tiny_image("PNG", size=(11, 10))))
    assert e.value.code == "photo_too_many_pixels"
    assert services.check_photo(SimpleUploadedFile("ok.png", tiny_image("PNG", size=(10, 10)))).data


def test_a_bomb_in_the_page_form_is_refused_with_a_message_and_no_appeal(client, city):
    client.force_login(city.jumin)
    html = client.get("/appeals/new/").content.decode()
    key = re.search(r'name="idempotency_key" value="([0-9a-f]{32})"', html).group(1)
    r = client.post("/appeals/new/", {
        "category": "noise", "urgency": "normal", "title": "噪声", "text": "楼下烧烤店营业到凌晨。",
        "lon": IN_GRID[0], "lat": IN_GRID[1], "idempotency_key": key,
        "photos": [SimpleUploadedFile("bomb.png", png_declaring(100_000, 100_000), "image/png")]})
    assert r.status_code == 400 and "万像素" in r.content.decode()
    assert not Appeal.objects.exists() and not AppealPhoto.objects.exists()


def test_a_broken_image_is_refused_with_a_clear_message(client, city):
    a = submit(city.jumin)
    broken = tiny_image("JPEG")[:40]  # the magic bytes of a JPEG, then the file ends
    r = client.post(f"/api/v1/appeals/{a.number}/photos",
                    {"file": SimpleUploadedFile("cut.jpg", broken, "image/jpeg")}, **bearer(city.jumin))
    assert r.status_code == 400
    assert r.json()["error"]["code"] == "photo_unreadable" and "「cut.jpg」无法识别为图片" in r.json()["error"]["message"]
    assert not AppealPhoto.objects.exists()
