"""Personal data is encrypted at rest and masked for display."""

import pytest

from gongzhi.core import pii


def test_encrypt_round_trips_and_hides_the_value():
    token = pii.encrypt("13812345678")
    assert "13812345678" not in token
    assert pii.decrypt(token) == "13812345678"


def test_masks():
    assert pii.mask_phone("13812345678") == "138****5678"
    assert pii.mask_id("450102199001011234") == "4501**********1234"
    assert pii.mask_name("张三丰") == "张**"


def test_lookup_hash_is_stable_and_keyed():
    assert pii.lookup_hash("45010219900101123x") == pii.lookup_hash("45010219900101123X")
    assert pii.lookup_hash("13812345678") != "13812345678"


@pytest.mark.django_db
def test_person_phone_and_id_are_not_stored_in_clear(tree):
    from django.db import connection

    from gongzhi.org.models import Person
    from gongzhi.org.services import person_create
    from tests.factories import user

    worker = user(None, ("community_worker", tree["beining"]))
    p = person_create(actor=worker, name="李四", phone="13812345678", id_number="11010519491231002X",
                      registered_community=tree["beining"])
    with connection.cursor() as cur:
        cur.execute(f"SELECT * FROM {Person._meta.db_table} WHERE id = %s", [p.id])
        row = " ".join(str(v) for v in cur.fetchone())
    assert "13812345678" not in row and "11010519491231002X" not in row
    assert "138****5678" in row
