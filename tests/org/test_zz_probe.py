import threading
import pytest
from django.db import connection, connections
from gongzhi.org import services
from gongzhi.org.models import Organization, Post
from tests.factories import user


@pytest.mark.django_db(transaction=True)
def test_probe(tree):
    print(connection.settings_dict["NAME"], connection.settings_dict.get("OPTIONS"), connection.settings_dict.get("TEST"))
    admin = user(None, ("district_admin", tree["district"]))
    org = Organization.objects.create(kind="community_committee", name="北宁社区党委", place=tree["beining"])
    p1 = services.person_create(actor=admin, name="甲", registered_community=tree["beining"])
    p2 = services.person_create(actor=admin, name="乙", registered_community=tree["beining"])
    barrier = threading.Barrier(2)
    results = []

    def run(p):
        try:
            barrier.wait()
            services.post_assign(actor=admin, person=p, title="secretary", starts_on="2024-01-01", organization=org)
            results.append("ok")
        except Exception as e:
            results.append(repr(e))
        finally:
            connections.close_all()

    ts = [threading.Thread(target=run, args=(p,)) for p in (p1, p2)]
    for t in ts: t.start()
    for t in ts: t.join()
    print(results, Post.objects.count())
