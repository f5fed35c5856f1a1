from django.apps import AppConfig


class OrgConfig(AppConfig):
    name = "gongzhi.org"
    label = "org"
