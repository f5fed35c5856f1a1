"""Two submits carrying the same staged photos at once (a double tap, two tabs): the photos go to
one appeal only. Real transactions, one connection per thread (on PostgreSQL the staged rows' lock
decides; on SQLite the IMMEDIATE transactions queue)."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from gongzhi.appeals import staging
from gongzhi.appeals.models import Appeal, AppealPhoto, StagedPhoto
from gongzhi.core.errors import ValidationFailed
from tests.appeals.conftest import JPEG, submit
from tests.race import run_all

pytestmark = pytest.mark.django_db(transaction=True)


def _staged(city, n=2):
    return staging.carry(city.jumin, uploads=[SimpleUploadedFile(f"{i}.jpg", JPEG, "image/jpeg")
                                              for i in range(n)]).tokens


@pytest.mark.parametrize("round_", range(2))
def test_the_same_key_twice_at_once_gives_one_appeal_with_the_photos(city, round_):
    tokens = _staged(city)
    results = run_all([lambda: submit(city.jumin, staged_photos=tokens, idempotency_key="tap")] * 2)
    assert all(not isinstance(r, BaseException) for r in results), results
    assert results[0].pk == results[1].pk and sorted(r.replayed for r in results) == [False, True]
    assert Appeal.objects.count() == 1 and AppealPhoto.objects.count() == 2 and not StagedPhoto.objects.exists()


def test_two_different_submits_at_once_cannot_both_take_the_photos(city):
    tokens = _staged(city)
    results = run_all([lambda k=k: submit(city.jumin, staged_photos=tokens, idempotency_key=k) for k in ("a", "b")])
    lost = [r for r in results if isinstance(r, BaseException)]
    assert len(lost) == 1 and isinstance(lost[0], ValidationFailed) and lost[0].code == "staged_photo_invalid", results
    assert Appeal.objects.count() == 1 and AppealPhoto.objects.count() == 2
