"""A small registry on the test place tree: committees, a joint committee, people and users."""

from types import SimpleNamespace

import pytest

from gongzhi.org import services
from gongzhi.org.models import Organization
from tests.factories import user
from tests.org.helpers import id_number


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    # Six users per test: the production hasher would spend most of the suite's time on them.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def reg(tree):
    district = Organization.objects.create(kind="district_committee", name="中共兴宁区委", place=tree["district"])
    street = Organization.objects.create(kind="street_committee", name="民生街道党工委", parent=district,
                                         place=tree["street"])
    beining = Organization.objects.create(kind="community_committee", name="北宁社区党委", parent=street,
                                          place=tree["beining"])
    joint = Organization.objects.create(kind="joint_committee", name="北宁社区联合党委", parent=beining,
                                        place=tree["beining"])
    xingning = Organization.objects.create(kind="community_committee", name="兴宁社区党委", parent=street,
                                           place=tree["xingning"])
    xjoint = Organization.objects.create(kind="joint_committee", name="兴宁社区联合党委", parent=xingning,
                                         place=tree["xingning"])
    admin = user("admin", ("district_admin", tree["district"]))
    zhang = services.person_create(actor=admin, name="张三", phone="13812345678", id_number=id_number(1),
                                   gender="M", registered_community=tree["beining"], home_organization=beining,
                                   party_status="in_service")
    li = services.person_create(actor=admin, name="李四", phone="13987654321", id_number=id_number(2),
                                registered_community=tree["xingning"])
    return SimpleNamespace(
        tree=tree, district=district, street=street, beining=beining, joint=joint, xingning=xingning, xjoint=xjoint,
        zhang=zhang, li=li, admin=admin,
        worker=user("worker_b", ("community_worker", tree["beining"])),
        worker_x=user("worker_x", ("community_worker", tree["xingning"])),
        resident=user("resident", ("resident", tree["beining"])),
        grid_worker=user("grid_worker", ("grid_worker", tree["beining"])),
    )
