"""The registry edits through their services: only changed fields are written and audited, masked
values only for people, bad input and stale versions change nothing, scope is checked at both ends."""

import datetime as dt

import pytest

from gongzhi.core import pii
from gongzhi.core.errors import Conflict, PermissionDenied, ValidationFailed
from gongzhi.org import services
from gongzhi.org.models import Agreement, Membership, Organization, PartyMembership, Person, Post
from tests.factories import user
from tests.org.edit_helpers import entries, only_entry, secretary, snapshot, trail_text, unit_agreement
from tests.org.helpers import days, id_number

pytestmark = pytest.mark.django_db


def fresh(obj):
    return type(obj).objects.get(pk=obj.pk)


# ---- people ----

def test_person_update_writes_only_the_changed_fields_and_audits_them_masked(reg):
    p = services.person_update(actor=reg.worker, person=reg.zhang, version=1, name="张三丰", gender="M",
                               phone="13900000009", id_number=id_number(1))
    assert (p.name, p.version, p.phone_masked) == ("张三丰", 2, "139****0009")
    assert pii.decrypt(p.phone_enc) == "13900000009" and p.phone_hash == pii.lookup_hash("13900000009")
    e = only_entry("person.update")
    # gender and ID number were sent unchanged: they are not in the entry.
    assert e.before == {"name": "张三", "phone": "138****5678"}
    assert e.after == {"name": "张三丰", "phone": "139****0009"}
    assert (e.object_type, e.object_id, e.actor) == ("org.person", str(reg.zhang.pk), reg.worker)
    assert "13812345678" not in trail_text() and "13900000009" not in trail_text()


def test_a_new_id_number_is_reencrypted_rehashed_remasked_and_never_audited_in_clear(reg):
    new = id_number(77, born="19850303")
    p = services.person_update(actor=reg.worker, person=reg.zhang, version=1, id_number=new)
    assert pii.decrypt(p.id_enc) == new and p.id_hash == pii.lookup_hash(new) and p.id_masked == pii.mask_id(new)
    e = only_entry("person.update")
    assert e.before == {"id": pii.mask_id(id_number(1))} and e.after == {"id": pii.mask_id(new)}
    assert new not in trail_text() and id_number(1) not in trail_text()


def test_clearing_the_phone_removes_every_copy(reg):
    p = services.person_update(actor=reg.worker, person=reg.zhang, version=1, phone="")
    assert (p.phone_enc, p.phone_hash, p.phone_masked) == ("", "", "")
    assert only_entry("person.update").after == {"phone": ""}


def test_an_edit_that_changes_nothing_writes_nothing(reg):
    p = services.person_update(actor=reg.worker, person=reg.zhang, version=1, name="张三", phone="13812345678",
                               registered_community=reg.tree["beining"], party_status="in_service")
    assert p.version == 1 and fresh(reg.zhang).version == 1
    assert entries("person.update") == []


def test_a_duplicate_id_number_is_409_and_changes_nothing(reg):
    before = snapshot(reg.li)
    with pytest.raises(Conflict) as exc:
        services.person_update(actor=reg.admin, person=reg.li, version=1, name="李四四", id_number=id_number(1))
    assert exc.value.code == "duplicate_person" and id_number(1) not in str(exc.value.message)
    assert snapshot(reg.li) == before


@pytest.mark.parametrize("changes, code", [
    ({"phone": "1381234"}, "bad_phone"),
    ({"id_number": "45010219900101"}, "bad_id_number"),
    ({"name": "  "}, "bad_name"),
    ({"gender": "X"}, "bad_gender"),
    ({"registered_community": None}, "no_community"),
    ({"party_status": "emperor"}, "bad_party_status"),
    ({"party_status": "", "home_organization": "HOME"}, "party_status_required"),
    ({"joined_on": "2010-13-01"}, "bad_date"),
])
def test_bad_person_input_is_refused_with_a_message_and_changes_nothing(reg, changes, code):
    changes = {k: (reg.beining if v == "HOME" else v) for k, v in changes.items()}
    before = snapshot(reg.zhang)
    with pytest.raises(ValidationFailed) as exc:
        services.person_update(actor=reg.worker, person=reg.zhang, version=1, **{"gender": "F", **changes})
    assert exc.value.code == code and str(exc.value.message)
    assert snapshot(reg.zhang) == before


def test_the_registered_community_must_be_a_community(reg):
    before = snapshot(reg.zhang)
    with pytest.raises(ValidationFailed) as exc:
        services.person_update(actor=reg.admin, person=reg.zhang, version=1, registered_community=reg.tree["street"])
    assert exc.value.code == "no_community"
    assert snapshot(reg.zhang) == before


def test_unknown_community_code_is_refused_by_the_lookup():
    with pytest.raises(ValidationFailed) as exc:
        services.community_by_code("450102001999")
    assert exc.value.code == "no_community" and "450102001999" in str(exc.value.message)


def test_moving_a_person_needs_edit_rights_at_both_communities(reg):
    before = snapshot(reg.zhang)
    with pytest.raises(PermissionDenied):  # the 北宁 worker may not hand 张三 to 兴宁
        services.person_update(actor=reg.worker, person=reg.zhang, version=1, registered_community=reg.tree["xingning"])
    assert snapshot(reg.zhang) == before
    officer = user("officer", ("street_officer", reg.tree["street"]))
    p = services.person_update(actor=officer, person=reg.zhang, version=1, registered_community=reg.tree["xingning"])
    assert p.registered_community == reg.tree["xingning"] and p.place_path == reg.tree["xingning"].path
    e = only_entry("person.update")
    assert (e.before, e.after) == ({"community": "450102001004"}, {"community": "450102001003"})


def test_an_actor_outside_the_persons_scope_is_refused(reg):
    before = snapshot(reg.zhang)
    for actor in (reg.worker_x, reg.grid_worker, reg.resident):
        with pytest.raises(PermissionDenied):
            services.person_update(actor=actor, person=reg.zhang, version=1, name="张三丰")
    assert snapshot(reg.zhang) == before


def test_party_membership_can_be_added_changed_and_removed(reg):
    li = services.person_update(actor=reg.worker_x, person=reg.li, version=1, party_status="floating",
                                home_organization=reg.xingning, joined_on="2012-07-01")
    assert (li.party.status, li.party.home_organization, li.party.joined_on) == (
        "floating", reg.xingning, dt.date(2012, 7, 1))
    e = entries("person.update")[-1]
    assert e.before == {"party_status": None, "home_organization": None, "joined_on": None}
    assert e.after == {"party_status": "floating", "home_organization": reg.xingning.pk, "joined_on": "2012-07-01"}

    li = services.person_update(actor=reg.worker_x, person=li, version=2, party_status="retired")
    assert li.party.status == "retired" and li.party.joined_on == dt.date(2012, 7, 1)
    assert (entries("person.update")[-1].before, entries("person.update")[-1].after) == (
        {"party_status": "floating"}, {"party_status": "retired"})

    li = services.person_update(actor=reg.worker_x, person=li, version=3, party_status=None)
    assert not PartyMembership.objects.filter(person=li).exists() and li.version == 4
    assert entries("person.update")[-1].after == {"party_status": None, "home_organization": None, "joined_on": None}


def test_a_new_party_member_needs_a_home_organisation(reg):
    with pytest.raises(ValidationFailed) as exc:
        services.person_update(actor=reg.worker_x, person=reg.li, version=1, party_status="in_service")
    assert exc.value.code == "home_org_required"
    assert not PartyMembership.objects.filter(person=reg.li).exists() and fresh(reg.li).version == 1


def test_a_stale_person_edit_is_409_and_changes_nothing(reg):
    services.person_update(actor=reg.admin, person=reg.zhang, version=1, name="张三丰")
    before = snapshot(reg.zhang)
    with pytest.raises(Conflict) as exc:
        services.person_update(actor=reg.worker, person=reg.zhang, version=1, phone="13900000001")
    assert exc.value.code == "stale" and str(exc.value.message) == "该记录已被他人修改，请刷新后重试。"
    assert exc.value.status == 409
    assert snapshot(reg.zhang) == before


def test_a_missing_version_is_refused_in_words(reg):
    with pytest.raises(ValidationFailed) as exc:
        services.person_update(actor=reg.worker, person=reg.zhang, version=None, name="张三丰")
    assert exc.value.code == "version_required" and fresh(reg.zhang).name == "张三"


# ---- organisations ----

def test_organisation_rename_and_credit_code_are_audited_as_a_diff(reg):
    org = services.organization_update(actor=reg.worker, organization=reg.joint, version=1, name="北宁社区大党委",
                                       credit_code="91450100ma5l8xyz12", kind="joint_committee")
    assert (org.name, org.credit_code, org.version) == ("北宁社区大党委", "91450100MA5L8XYZ12", 2)
    e = only_entry("organization.update")
    assert e.before == {"name": "北宁社区联合党委", "credit_code": ""}
    assert e.after == {"name": "北宁社区大党委", "credit_code": "91450100MA5L8XYZ12"}


def test_moving_an_organisation_rewrites_the_paths_of_its_whole_subtree(reg):
    branch = services.organization_create(actor=reg.admin, kind="compound_branch", name="金湖小区党支部",
                                          parent=reg.joint, place=reg.tree["beining"])
    group = services.organization_create(actor=reg.admin, kind="building_group", name="1栋党小组", parent=branch,
                                         place=reg.tree["beining"])
    unrelated = sorted(Organization.objects.exclude(path__startswith=reg.joint.path).values_list("pk", "path"))
    org = services.organization_update(actor=reg.admin, organization=reg.joint, version=1, parent=reg.xingning)
    assert org.parent == reg.xingning and org.path == f"{reg.xingning.path}{reg.joint.pk}/"
    assert fresh(branch).path == f"{org.path}{branch.pk}/"
    assert fresh(group).path == f"{org.path}{branch.pk}/{group.pk}/"
    assert sorted(Organization.objects.exclude(path__startswith=org.path).values_list("pk", "path")) == unrelated
    for o in Organization.objects.all():  # every stored path is what the tree says it is
        assert o.path == o.compute_path()
    assert (only_entry("organization.update").before, only_entry("organization.update").after) == (
        {"parent": reg.beining.pk}, {"parent": reg.xingning.pk})


@pytest.mark.parametrize("target", ["self", "child", "grandchild"])
def test_an_organisation_cannot_move_under_itself_or_a_descendant(reg, target):
    branch = services.organization_create(actor=reg.admin, kind="compound_branch", name="金湖小区党支部",
                                          parent=reg.joint, place=reg.tree["beining"])
    parent = {"self": reg.beining, "child": reg.joint, "grandchild": branch}[target]
    before = snapshot(reg.beining)
    with pytest.raises(ValidationFailed) as exc:
        services.organization_update(actor=reg.admin, organization=reg.beining, version=1, parent=parent)
    assert exc.value.code == "org_cycle" and "下级组织" in str(exc.value.message)
    assert snapshot(reg.beining) == before


def test_a_duplicate_name_under_the_same_parent_is_refused(reg):
    before = snapshot(reg.xingning)
    with pytest.raises(ValidationFailed) as exc:
        services.organization_update(actor=reg.admin, organization=reg.xingning, version=1, name="北宁社区党委")
    assert exc.value.code == "duplicate_name" and "北宁社区党委" in str(exc.value.message)
    assert snapshot(reg.xingning) == before
    # Moving under a parent that already has a child of that name is the same refusal.
    twin = services.organization_create(actor=reg.admin, kind="joint_committee", name="北宁社区联合党委",
                                        parent=reg.xingning, place=reg.tree["xingning"])
    with pytest.raises(ValidationFailed) as exc:
        services.organization_update(actor=reg.admin, organization=twin, version=1, parent=reg.beining)
    assert exc.value.code == "duplicate_name"


@pytest.mark.parametrize("changes, code", [
    ({"name": ""}, "name_required"),
    ({"kind": "kingdom"}, "bad_kind"),
    ({"credit_code": "123"}, "bad_credit_code"),
    ({"kind": "private_enterprise"}, "kind_has_members"),
])
def test_bad_organisation_input_changes_nothing(reg, changes, code):
    unit_agreement(reg)
    before = snapshot(reg.joint)
    with pytest.raises(ValidationFailed) as exc:
        services.organization_update(actor=reg.admin, organization=reg.joint, version=1, **changes)
    assert exc.value.code == code
    assert snapshot(reg.joint) == before


def test_a_member_unit_must_keep_a_unit_kind(reg):
    unit = unit_agreement(reg).membership.member
    with pytest.raises(ValidationFailed) as exc:
        services.organization_update(actor=reg.admin, organization=unit, version=unit.version, kind="compound_branch")
    assert exc.value.code == "kind_is_member"


def test_moving_into_a_parent_or_place_outside_the_actors_scope_is_refused(reg):
    before = snapshot(reg.joint)
    with pytest.raises(PermissionDenied):
        services.organization_update(actor=reg.worker, organization=reg.joint, version=1, parent=reg.xingning)
    with pytest.raises(PermissionDenied):
        services.organization_update(actor=reg.worker, organization=reg.joint, version=1, place=reg.tree["xingning"])
    with pytest.raises(PermissionDenied):
        services.organization_update(actor=reg.worker_x, organization=reg.joint, version=1, name="甲")
    assert snapshot(reg.joint) == before


def test_changing_the_place_moves_the_organisation_into_the_new_scope(reg):
    officer = user("officer", ("street_officer", reg.tree["street"]))
    org = services.organization_update(actor=officer, organization=reg.joint, version=1, place=reg.tree["xingning"])
    assert org.place_path == reg.tree["xingning"].path
    assert services.scopes.can(reg.worker_x, "registry.edit", org) and not services.scopes.can(
        reg.worker, "registry.edit", org)


def test_a_stale_organisation_edit_is_409_and_changes_nothing(reg):
    services.organization_update(actor=reg.admin, organization=reg.joint, version=1, name="北宁大党委")
    before = snapshot(reg.joint)
    with pytest.raises(Conflict) as exc:
        services.organization_update(actor=reg.worker, organization=reg.joint, version=1, parent=reg.street)
    assert exc.value.code == "stale"
    assert snapshot(reg.joint) == before


# ---- agreements ----

def test_agreement_update_changes_term_duties_and_commitments(reg):
    a = unit_agreement(reg)
    a2 = services.agreement_update(actor=reg.worker, agreement=a, version=1, starts_on="2025-01-01",
                                   ends_on="2028-06-30", duties="认领微心愿；开放会议室", commitments=["会议室每月 4 次"])
    assert (a2.ends_on, a2.duties, a2.version) == (dt.date(2028, 6, 30), ["认领微心愿", "开放会议室"], 2)
    e = only_entry("agreement.update")
    assert e.before == {"ends_on": "2027-12-31", "duties": ["认领微心愿"]}
    assert e.after == {"ends_on": "2028-06-30", "duties": ["认领微心愿", "开放会议室"]}


@pytest.mark.parametrize("changes", [{"ends_on": "2024-12-31"}, {"starts_on": "2027-12-31"},
                                     {"starts_on": "2026-01-01", "ends_on": "2025-06-01"}, {"ends_on": "2027-02-30"}])
def test_an_agreement_ending_before_it_starts_is_refused_and_changes_nothing(reg, changes):
    a = unit_agreement(reg)
    before = snapshot(a)
    with pytest.raises(ValidationFailed) as exc:
        services.agreement_update(actor=reg.worker, agreement=a, version=1, **changes)
    assert exc.value.code in ("agreement_ends_before_start", "bad_date")
    assert snapshot(a) == before


def test_terminating_the_only_agreement_ends_the_membership(reg):
    a = unit_agreement(reg)
    t = services.agreement_terminate(actor=reg.worker, agreement=a, version=1, reason="单位搬迁出社区",
                                     today=dt.date(2026, 3, 1))
    assert t.status == "terminated" and t.version == 2
    m = Membership.objects.get(pk=a.membership_id)
    assert (m.status, m.left_on) == ("ended", dt.date(2026, 3, 1))
    e = only_entry("agreement.terminate")
    assert e.before == {"status": "signed", "membership_status": "active"}
    assert e.after == {"status": "terminated", "reason": "单位搬迁出社区", "membership_status": "ended"}


def test_terminating_one_of_two_signed_agreements_keeps_the_membership(reg):
    a = unit_agreement(reg)
    services.membership_join(actor=reg.admin, organization=reg.joint, member=a.membership.member, joined_on=None,
                             starts_on="2025-01-01", ends_on="2026-12-31", number="BN-2025-002")
    services.agreement_terminate(actor=reg.worker, agreement=a, version=1, reason="合并到新协议")
    assert Membership.objects.get(pk=a.membership_id).status == "active"
    assert "membership_status" not in only_entry("agreement.terminate").after


def test_termination_needs_a_reason_and_an_open_agreement(reg):
    a = unit_agreement(reg)
    before = snapshot(a)
    with pytest.raises(ValidationFailed) as exc:
        services.agreement_terminate(actor=reg.worker, agreement=a, version=1, reason="  ")
    assert exc.value.code == "reason_required" and snapshot(a) == before
    services.agreement_terminate(actor=reg.worker, agreement=a, version=1, reason="到期不续")
    with pytest.raises(Conflict) as exc:
        services.agreement_terminate(actor=reg.worker, agreement=a, version=2, reason="再次终止")
    assert exc.value.code == "agreement_closed"
    with pytest.raises(Conflict) as exc:
        services.agreement_update(actor=reg.worker, agreement=a, version=2, ends_on="2029-01-01")
    assert exc.value.code == "agreement_closed"


def test_renewal_starts_the_day_after_the_old_term_and_carries_the_duties_over(reg):
    a = unit_agreement(reg)
    new = services.agreement_renew(actor=reg.worker, agreement=a, version=1, number="BN-2028-001",
                                   ends_on="2030-12-31")
    assert (new.number, new.starts_on, new.ends_on, new.status) == (
        "BN-2028-001", dt.date(2028, 1, 1), dt.date(2030, 12, 31), "signed")
    assert (new.duties, new.commitments, new.membership_id) == (["认领微心愿"], ["会议室每月 4 次"], a.membership_id)
    assert fresh(a).version == 2 and fresh(a).status == "signed"
    e = only_entry("agreement.renew")
    assert e.object_id == str(new.pk) and e.after["renews"] == "BN-2025-001" and e.after["starts_on"] == "2028-01-01"


def test_renewal_refusals_change_nothing(reg):
    a = unit_agreement(reg)
    unit_agreement(reg, number="TAKEN-1", name="兴宁区医院")
    before = snapshot(a)
    cases = [({"number": "TAKEN-1", "ends_on": "2030-12-31"}, "duplicate_number"),
             ({"number": "", "ends_on": "2030-12-31"}, "number_required"),
             ({"number": "N-2", "ends_on": "2028-01-01"}, "agreement_ends_before_start"),
             ({"number": "N-2", "ends_on": None}, "dates_required")]
    for changes, code in cases:
        with pytest.raises(ValidationFailed) as exc:
            services.agreement_renew(actor=reg.worker, agreement=a, version=1, **changes)
        assert exc.value.code == code
    assert snapshot(a) == before


def test_an_agreement_is_renewed_once(reg):
    a = unit_agreement(reg)
    services.agreement_renew(actor=reg.worker, agreement=a, version=1, number="N-2", ends_on="2030-12-31")
    with pytest.raises(Conflict) as exc:  # an old form: stale
        services.agreement_renew(actor=reg.worker, agreement=a, version=1, number="N-3", ends_on="2030-12-31")
    assert exc.value.code == "stale"
    with pytest.raises(Conflict) as exc:  # a fresh form: already renewed, and says as what
        services.agreement_renew(actor=reg.worker, agreement=a, version=2, number="N-3", ends_on="2030-12-31")
    assert exc.value.code == "already_renewed" and "N-2" in str(exc.value.message)
    assert Agreement.objects.count() == 2


def test_agreement_edits_need_edit_rights_on_the_committee(reg):
    a = unit_agreement(reg)
    before = snapshot(a)
    with pytest.raises(PermissionDenied):
        services.agreement_update(actor=reg.worker_x, agreement=a, version=1, ends_on="2029-01-01")
    with pytest.raises(PermissionDenied):
        services.agreement_terminate(actor=reg.grid_worker, agreement=a, version=1, reason="无权")
    with pytest.raises(PermissionDenied):
        services.agreement_renew(actor=reg.resident, agreement=a, version=1, number="X", ends_on="2030-01-01")
    assert snapshot(a) == before


def test_a_stale_agreement_edit_is_409_and_changes_nothing(reg):
    a = unit_agreement(reg)
    services.agreement_update(actor=reg.admin, agreement=a, version=1, duties=["新职责"])
    before = snapshot(a)
    for call in (lambda: services.agreement_update(actor=reg.worker, agreement=a, version=1, ends_on="2029-01-01"),
                 lambda: services.agreement_terminate(actor=reg.worker, agreement=a, version=1, reason="旧页面")):
        with pytest.raises(Conflict) as exc:
            call()
        assert exc.value.code == "stale"
    assert snapshot(a) == before


# ---- posts ----

def test_post_term_update_is_audited(reg):
    p = secretary(reg, ends_on="2026-12-31")
    p2 = services.post_update(actor=reg.worker, post=p, version=1, starts_on="2024-01-01", ends_on="2027-12-31")
    assert (p2.ends_on, p2.version) == (dt.date(2027, 12, 31), 2)
    e = only_entry("post.update")
    assert (e.before, e.after) == ({"ends_on": "2026-12-31"}, {"ends_on": "2027-12-31"})


def test_a_term_change_that_would_overlap_another_single_holder_is_409(reg):
    wang = services.person_create(actor=reg.admin, name="王五", registered_community=reg.tree["beining"])
    first = secretary(reg, ends_on="2026-01-01")
    second = secretary(reg, wang, starts_on="2026-01-01")
    before = snapshot(first)
    with pytest.raises(Conflict) as exc:
        services.post_update(actor=reg.worker, post=first, version=1, ends_on="2026-06-01")
    assert exc.value.code == "post_taken" and "王*" in str(exc.value.message)
    with pytest.raises(Conflict):
        services.post_update(actor=reg.worker, post=second, version=1, starts_on="2025-06-01")
    assert snapshot(first) == before and fresh(second).starts_on == dt.date(2026, 1, 1)
    # A post that is not single-holder may overlap.
    m1 = services.post_assign(actor=reg.admin, person=reg.zhang, title="committee_member", starts_on="2024-01-01",
                              ends_on="2025-01-01", organization=reg.joint)
    services.post_assign(actor=reg.admin, person=wang, title="committee_member", starts_on="2025-01-01",
                         organization=reg.joint)
    assert services.post_update(actor=reg.worker, post=m1, version=1, ends_on="2026-01-01").version == 2


def test_post_update_refuses_an_end_before_the_start(reg):
    p = secretary(reg)
    with pytest.raises(ValidationFailed) as exc:
        services.post_update(actor=reg.worker, post=p, version=1, ends_on="2023-12-31")
    assert exc.value.code == "post_ends_before_start" and fresh(p).ends_on is None


def test_post_end_sets_the_end_and_refuses_bad_dates(reg):
    p = secretary(reg)
    with pytest.raises(ValidationFailed) as exc:
        services.post_end(actor=reg.worker, post=p, version=1, ends_on="2024-01-01")
    assert exc.value.code == "post_ends_before_start" and fresh(p).ends_on is None
    ended = services.post_end(actor=reg.worker, post=p, version=1, ends_on="2025-06-30")
    assert ended.ends_on == dt.date(2025, 6, 30) and ended.version == 2
    e = only_entry("post.end")
    assert (e.before, e.after) == ({"ends_on": None}, {"ends_on": "2025-06-30"})
    with pytest.raises(Conflict) as exc:
        services.post_end(actor=reg.worker, post=p, version=2)
    assert exc.value.code == "post_already_ended"


def test_post_end_defaults_to_today_and_only_shortens_a_term(reg):
    p = secretary(reg, ends_on=days(100))
    with pytest.raises(ValidationFailed) as exc:
        services.post_end(actor=reg.worker, post=p, version=1, ends_on=days(200))
    assert exc.value.code == "post_end_after_term"
    assert services.post_end(actor=reg.worker, post=p, version=1).ends_on == days(0)


def test_post_edits_are_scoped_and_versioned(reg):
    p = secretary(reg)
    with pytest.raises(PermissionDenied):
        services.post_end(actor=reg.worker_x, post=p, version=1)
    with pytest.raises(Conflict) as exc:
        services.post_update(actor=reg.worker, post=p, version=7, ends_on="2030-01-01")
    assert exc.value.code == "stale"
    assert Post.objects.get().ends_on is None and Post.objects.get().version == 1


def test_person_name_and_version_are_untouched_by_failed_writes(reg):
    assert Person.objects.get(pk=reg.zhang.pk).version == 1


def test_empty_party_fields_for_a_non_member_change_nothing(reg):
    li = services.person_update(actor=reg.worker_x, person=reg.li, version=1, home_organization=None, joined_on=None)
    assert li.version == 1 and entries("person.update") == []
    with pytest.raises(ValidationFailed) as exc:
        services.person_update(actor=reg.worker_x, person=reg.li, version=1, joined_on="2010-01-01")
    assert exc.value.code == "party_status_required"
    with pytest.raises(ValidationFailed) as exc:  # a member cannot lose the home organisation alone
        services.person_update(actor=reg.worker, person=reg.zhang, version=1, home_organization=None)
    assert exc.value.code == "home_org_required"
