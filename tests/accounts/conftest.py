"""Two districts with their administrators, and staff and residents in the first one."""

from types import SimpleNamespace

import pytest

from gongzhi.places.models import PlaceKind
from tests.factories import place, user


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def acc(tree):
    qingxiu = place(PlaceKind.DISTRICT, "450103000000", "青秀区", tree["city"])
    xinzhu = place(PlaceKind.STREET, "450103001000", "新竹街道", qingxiu)
    taoyuan = place(PlaceKind.COMMUNITY, "450103001001", "桃源社区", xinzhu)
    return SimpleNamespace(
        tree=tree, qingxiu=qingxiu, taoyuan=taoyuan,
        admin=user("admin", ("district_admin", tree["district"]), first_name="兴宁管理员"),
        far_admin=user("far_admin", ("district_admin", qingxiu), first_name="青秀管理员"),
        worker=user("worker", ("community_worker", tree["beining"]), first_name="北宁社工"),
        resident=user("resident", ("resident", tree["beining"]), first_name="北宁居民"),
        far_worker=user("far_worker", ("community_worker", taoyuan), first_name="桃源社工"),
        # The account the permission matrices act on: a resident of 北宁社区.
        subject=user("zhangsan", ("resident", tree["beining"]), first_name="张三丰"),
    )
