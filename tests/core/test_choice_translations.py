"""Every choice label of every enum (each workflow's states included) has an English translation, so a
state added later cannot be forgotten in the English interface."""

import re

from django.apps import apps
from django.db import models
from django.utils import translation

HAN = re.compile(r"[\u4e00-\u9fff]")


def _subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def _ours():
    enums = [c for c in _subclasses(models.Choices) if c.__module__.startswith("gongzhi.")]
    fields = [(f"{m.__name__}.{f.name}", f.choices) for m in apps.get_models() if m.__module__.startswith("gongzhi.")
              for f in m._meta.get_fields() if getattr(f, "choices", None)]
    return enums, fields


def test_the_workflow_state_enums_are_all_found():
    enums, _fields = _ours()
    names = {c.__name__ for c in enums}
    # appeals, work orders (summons), needs, projects, activities, sign-ups, dual reports, time bank
    assert {"State", "SummonsState", "NeedState", "ProjectState", "ActivityState", "SignUpState", "ReportState",
            "CreditRequestState", "HotspotState", "IntakeState"} <= names


def test_every_choice_label_has_an_english_translation():
    enums, fields = _ours()
    missing = []
    with translation.override("en"):
        for cls in enums:
            missing += [f"{cls.__module__}.{cls.__name__}.{v}: {label}" for v, label in cls.choices
                        if HAN.search(str(label))]
        for name, choices in fields:
            missing += [f"{name}={v}: {label}" for v, label in choices if HAN.search(str(label))]
    assert not missing, "untranslated choices (add them to locale/en/LC_MESSAGES/django.po):\n" + "\n".join(missing)


def test_the_check_is_not_vacuous():
    enums, _fields = _ours()
    with translation.override("zh-hans"):
        assert any(HAN.search(str(label)) for cls in enums for _v, label in cls.choices)
