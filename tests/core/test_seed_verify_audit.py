"""`seed_demo` then `verify_audit`: the demo's services run with back-dated +08:00 clocks, and the
chain they write must still verify (the hashed form is canonical, docs/audit.md).

Every scale is tested, city included (about a minute to seed on an idle 2-core machine).
"""

from io import StringIO

import pytest
from django.core.management import call_command

from gongzhi.core import geo
from gongzhi.core.models import AuditEntry
from gongzhi.demo import plan

TESTED_SCALES = tuple(plan.SCALES)


def test_every_scale_is_tested():
    assert set(TESTED_SCALES) == {"small", "district", "city"}


@pytest.mark.django_db
@pytest.mark.parametrize("scale", TESTED_SCALES)
def test_verify_audit_passes_after_seed_demo(scale):
    try:
        call_command("seed_demo", "--scale", scale, stdout=StringIO(), stderr=StringIO())
    finally:
        geo.invalidate()
    out = StringIO()
    call_command("verify_audit", stdout=out)  # exits with SystemExit(1) when tampered
    n = AuditEntry.objects.count()
    assert n > 100 and out.getvalue().strip() == f"audit log intact: {n} entries verified"
