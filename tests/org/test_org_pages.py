"""Organisation tree, organisation detail with member units and reminders, and the create forms."""

import pytest
from django.urls import reverse

from gongzhi.core.models import AuditEntry
from gongzhi.org import services
from gongzhi.org.models import Agreement, Membership, Organization
from tests.org.helpers import days

pytestmark = pytest.mark.django_db


def _join(reg, name, number, starts, ends, **kw):
    return services.member_unit_join(actor=reg.admin, organization=reg.joint, unit_name=name,
                                     unit_kind="state_enterprise", number=number, starts_on=starts, ends_on=ends, **kw)


def test_tree_is_indented_by_depth_and_limited_to_scope(client, reg):
    client.force_login(reg.worker)
    html = client.get(reverse("org:tree")).content.decode()
    assert "北宁社区党委" in html and "北宁社区联合党委" in html
    # The worker's top organisation starts flush; the joint committee sits one step under it.
    assert f'<td><a href="/org/{reg.beining.pk}/">北宁社区党委</a>' in html
    assert f'<td>└ <a href="/org/{reg.joint.pk}/">北宁社区联合党委</a>' in html
    assert "兴宁社区党委" not in html and "中共兴宁区委" not in html


def test_tree_filters_by_kind_and_searches_by_name(client, reg):
    client.force_login(reg.admin)
    html = client.get(reverse("org:tree"), {"kind": "joint_committee"}).content.decode()
    assert "北宁社区联合党委" in html and "兴宁社区联合党委" in html and "民生街道党工委" not in html
    html = client.get(reverse("org:tree"), {"q": "兴宁社区"}).content.decode()
    assert "兴宁社区党委" in html and "北宁社区党委" not in html


def test_detail_shows_member_units_with_agreement_terms_duties_and_commitments(client, reg):
    _join(reg, "南宁供电局", "BN-2025-001", "2025-01-01", "2027-12-31",
          duties=["认领微心愿", "开放会议室"], commitments=["每年志愿服务 200 小时"])
    client.force_login(reg.worker)
    html = client.get(reverse("org:detail", args=[reg.joint.pk])).content.decode()
    assert "南宁供电局" in html and "BN-2025-001" in html
    assert "2025-01-01 – 2027-12-31" in html
    assert "认领微心愿" in html and "开放会议室" in html and "每年志愿服务 200 小时" in html
    assert "已签订" in html


def test_detail_reminds_of_agreements_expiring_within_the_reminder_window(client, reg, settings):
    settings.AGREEMENT_REMINDER_DAYS = 30
    _join(reg, "南宁供电局", "SOON-1", days(-300), days(10))
    _join(reg, "兴宁区医院", "LATER-1", days(-300), days(100))
    client.force_login(reg.worker)
    html = client.get(reverse("org:detail", args=[reg.joint.pk])).content.decode()
    box = html[html.index('data-testid="reminders"'):]
    box = box[: box.index("</section>")]
    assert "30 天内到期的协议" in box
    assert "SOON-1" in box and "LATER-1" not in box


def test_detail_of_an_organisation_out_of_scope_is_404(client, reg):
    client.force_login(reg.worker)
    assert client.get(reverse("org:detail", args=[reg.xingning.pk])).status_code == 404


def test_create_organisation_page_saves_and_audits(client, reg):
    client.force_login(reg.worker)
    r = client.post(reverse("org:org_create"), {"kind": "compound_branch", "name": "金湖小区党支部",
                                                "parent": reg.beining.pk, "place_code": "450102001004"})
    org = Organization.objects.get(name="金湖小区党支部")
    assert r.status_code == 302 and r["Location"] == reverse("org:detail", args=[org.pk])
    assert org.parent == reg.beining and org.path.startswith(reg.beining.path)
    assert AuditEntry.objects.filter(action="organization.create", object_id=str(org.pk)).count() == 1


def test_create_organisation_with_an_unknown_place_shows_the_message_and_saves_nothing(client, reg):
    client.force_login(reg.worker)
    before = Organization.objects.count()
    r = client.post(reverse("org:org_create"), {"kind": "compound_branch", "name": "金湖小区党支部",
                                                "place_code": "450102001999"})
    assert r.status_code == 400
    assert "区划代码 450102001999 不存在" in r.content.decode()
    assert Organization.objects.count() == before


# ---- a member unit joins with its agreement ----

def _unit_form(reg, **over):
    data = {"organization": reg.joint.pk, "unit_name": "广西北部湾银行南宁分行", "unit_kind": "state_enterprise",
            "credit_code": "", "role": "member_unit", "number": "BN-2025-009", "starts_on": "2025-01-01",
            "ends_on": "2027-12-31", "duties": "认领微心愿；开放会议室\n结对帮扶", "commitments": "资金 2 万元"}
    data.update(over)
    return data


def test_member_unit_form_registers_the_unit_and_its_agreement(client, reg):
    client.force_login(reg.worker)
    r = client.post(reverse("org:unit_create"), _unit_form(reg))
    assert r.status_code == 302
    a = Agreement.objects.get(number="BN-2025-009")
    assert a.membership.organization == reg.joint
    assert a.membership.member.name == "广西北部湾银行南宁分行"
    assert a.membership.member.place == reg.tree["beining"]
    assert a.duties == ["认领微心愿", "开放会议室", "结对帮扶"] and a.commitments == ["资金 2 万元"]


def test_agreement_ending_before_it_starts_is_refused_and_nothing_is_saved(client, reg):
    client.force_login(reg.worker)
    orgs = Organization.objects.count()
    r = client.post(reverse("org:unit_create"), _unit_form(reg, starts_on="2025-06-01", ends_on="2025-01-01"))
    assert r.status_code == 400
    assert "协议结束日期必须晚于开始日期" in r.content.decode()
    assert not Agreement.objects.exists() and not Membership.objects.exists()
    assert Organization.objects.count() == orgs  # the new unit was rolled back with the agreement


def test_duplicate_agreement_number_is_refused_and_nothing_is_saved(client, reg):
    _join(reg, "南宁供电局", "BN-2025-009", "2025-01-01", "2026-01-01")
    client.force_login(reg.worker)
    orgs = Organization.objects.count()
    r = client.post(reverse("org:unit_create"), _unit_form(reg))
    assert r.status_code == 400
    assert "协议编号 BN-2025-009 已存在" in r.content.decode()
    assert Agreement.objects.count() == 1 and Organization.objects.count() == orgs


def test_a_unit_already_registered_is_found_by_credit_code_not_duplicated(client, reg):
    _join(reg, "南宁供电局", "BN-1", "2025-01-01", "2026-01-01", credit_code="91450100MA5KXXXX1A")
    client.force_login(reg.admin)
    r = client.post(reverse("org:unit_create"), _unit_form(reg, organization=reg.xjoint.pk, number="XN-1",
                                                           unit_name="供电局", credit_code="91450100MA5KXXXX1A"))
    assert r.status_code == 302
    assert Organization.objects.filter(credit_code="91450100MA5KXXXX1A").count() == 1
    assert Membership.objects.filter(member__credit_code="91450100MA5KXXXX1A").count() == 2


def test_units_list_shows_agreements_in_scope_with_reminders(client, reg, settings):
    settings.AGREEMENT_REMINDER_DAYS = 30
    _join(reg, "南宁供电局", "SOON-2", days(-10), days(5))
    services.member_unit_join(actor=reg.admin, organization=reg.xjoint, unit_name="兴宁区医院",
                              unit_kind="institution", number="XN-9", starts_on="2025-01-01", ends_on="2030-01-01")
    client.force_login(reg.worker)
    html = client.get(reverse("org:units")).content.decode()
    assert "南宁供电局" in html and "SOON-2" in html and 'data-testid="reminders"' in html
    assert "兴宁区医院" not in html and "XN-9" not in html
