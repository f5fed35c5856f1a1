"""A project's done photos are stored without EXIF, like an appeal's (one check_photo for both)."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from gongzhi.lists.models import ProjectPhoto
from tests.lists.conftest import bearer, wish
from tests.photos import CAMERA, exif_of, jpeg_with_gps, png_declaring

pytestmark = pytest.mark.django_db


def _accepted_project(city) -> str:
    n = wish(city)
    c = Client()
    number = c.post(f"/api/v1/needs/{n.number}/claim", content_type="application/json",
                    **bearer(city.dangyuan)).json()["number"]
    r = c.post(f"/api/v1/projects/{number}/accept", {"plan": "周六送去"}, content_type="application/json",
               **bearer(city.dangyuan))
    assert r.status_code == 200, r.content
    return number


def test_done_photos_are_stored_without_exif_and_bombs_are_refused(city):
    number = _accepted_project(city)
    c = Client()
    bomb = c.post(f"/api/v1/projects/{number}/done", {"beneficiaries_served": "1", "hours": "2", "summary": "送到了",
                                                      "photos": [SimpleUploadedFile("b.png", png_declaring(9000, 9000))]},
                  **bearer(city.dangyuan))
    assert bomb.status_code == 400 and bomb.json()["error"]["code"] == "photo_too_many_pixels"
    assert not ProjectPhoto.objects.exists()
    r = c.post(f"/api/v1/projects/{number}/done", {"beneficiaries_served": "1", "hours": "2", "summary": "送到了",
                                                   "photos": [SimpleUploadedFile("p.jpg", jpeg_with_gps())]},
               **bearer(city.dangyuan))
    assert r.status_code == 200, r.content
    photo = ProjectPhoto.objects.get()
    with photo.file.open("rb") as f:
        data = f.read()
    exif, gps, size, _info = exif_of(data)
    assert (exif, gps, size) == ({}, {}, (20, 40)) and CAMERA.encode() not in data
