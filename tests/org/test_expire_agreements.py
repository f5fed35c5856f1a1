"""`gongzhi expire_agreements`: signed agreements past their end become expired, once; one audit entry a run."""

import datetime as dt
import io

import pytest
from django.core.management import CommandError, call_command

from gongzhi.core.audit import verify
from gongzhi.org import services
from gongzhi.org.models import Agreement
from tests.org.edit_helpers import entries, unit_agreement
from tests.org.helpers import days

pytestmark = pytest.mark.django_db


def run(*args) -> str:
    out = io.StringIO()
    call_command("expire_agreements", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def agreements(reg):
    return {
        "lapsed": unit_agreement(reg, number="LAPSED-1", starts_on=days(-400), ends_on=days(-1)),
        "today": unit_agreement(reg, number="TODAY-1", name="兴宁区医院", starts_on=days(-400), ends_on=days(0)),
        "current": unit_agreement(reg, number="CURRENT-1", name="南宁三中", starts_on=days(-10), ends_on=days(300)),
        "terminated": unit_agreement(reg, number="GONE-1", name="南宁水务", starts_on=days(-400), ends_on=days(-5)),
        "elsewhere": unit_agreement(reg, number="XN-1", name="兴宁书店", starts_on=days(-400), ends_on=days(-2),
                                    organization=reg.xjoint),
    }


def test_expire_marks_only_signed_agreements_past_their_end_and_is_idempotent(reg, agreements):
    services.agreement_terminate(actor=reg.admin, agreement=agreements["terminated"], version=1, reason="退出")
    out = run()
    assert "已将 2 份协议标记为已到期，2 份仍有效" in out
    status = dict(Agreement.objects.values_list("number", "status"))
    assert status == {"LAPSED-1": "expired", "XN-1": "expired", "TODAY-1": "signed", "CURRENT-1": "signed",
                      "GONE-1": "terminated"}
    assert Agreement.objects.get(number="LAPSED-1").version == 2
    e = entries("agreement.expire")
    assert len(e) == 1 and e[0].actor_name == "cli"
    assert e[0].after["count"] == 2 and sorted(e[0].after["ids"]) == sorted(
        [agreements["lapsed"].pk, agreements["elsewhere"].pk])

    out = run()  # the second run finds nothing and writes nothing
    assert "已将 0 份协议标记为已到期，2 份仍有效" in out
    assert len(entries("agreement.expire")) == 1
    assert verify()[0]


def test_dry_run_lists_and_writes_nothing(reg, agreements):
    out = run("--dry-run")
    assert "LAPSED-1" in out and "XN-1" in out and "试运行：3 份协议已过期待标记，2 份仍有效（未写入）" in out
    assert not Agreement.objects.filter(status="expired").exists() and entries("agreement.expire") == []


def test_today_can_be_given(reg, agreements):
    assert "已将 5 份协议标记为已到期" in run("--today", (dt.date.today() + dt.timedelta(days=400)).isoformat())
    with pytest.raises(CommandError):
        run("--today", "2025-02-30")


def test_a_scoped_actor_only_expires_their_own_committees(reg, agreements):
    result = services.agreements_expire(actor=reg.worker)
    assert result["numbers"] == ["GONE-1", "LAPSED-1"]
    assert Agreement.objects.get(number="XN-1").status == "signed"


def test_an_expired_agreement_can_no_longer_be_edited_or_terminated(reg, agreements):
    run()
    a = Agreement.objects.get(number="LAPSED-1")
    with pytest.raises(services.Conflict) as exc:
        services.agreement_update(actor=reg.admin, agreement=a, version=a.version, ends_on=days(30))
    assert exc.value.code == "agreement_closed"
