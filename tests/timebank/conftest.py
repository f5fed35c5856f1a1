"""A small community for the time bank: residents with accounts, a worker, an officer, an outsider."""

from decimal import Decimal
from types import SimpleNamespace

import pytest

from gongzhi.org.models import Person
from gongzhi.timebank import services
from tests.factories import place_tree, user


def person(name, community, account=None, phone=""):
    from gongzhi.core import pii

    return Person.objects.create(name=name, registered_community=community, user=account,
                                 phone_enc=pii.encrypt(phone), phone_hash=pii.lookup_hash(phone),
                                 phone_masked=pii.mask_phone(phone))


def make_town():
    t = place_tree()
    bn, xn = t["beining"], t["xingning"]
    ns = SimpleNamespace(**t)
    ns.u_li = user("li")
    ns.u_wang = user("wang")
    ns.li = person("李秀英", bn, ns.u_li, "13800000001")
    ns.wang = person("王建国", bn, ns.u_wang, "13800000002")
    ns.son = person("李明", bn, None, "13800000003")
    ns.far = person("赵六", xn, None, "13800000004")
    ns.worker = user("cw", ("community_worker", bn))
    ns.worker_xn = user("cw_xn", ("community_worker", xn))
    ns.both = user("cw_both", ("community_worker", bn), ("community_worker", xn))
    ns.officer = user("so", ("street_officer", t["street"]))
    ns.resident = user("res", ("resident", bn))
    return ns


@pytest.fixture
def town(db):
    return make_town()


def credit(p, hours, ref=None):
    import uuid

    return services.credit_hours(person=p, hours=Decimal(str(hours)), source="test", source_ref=ref or uuid.uuid4().hex)
