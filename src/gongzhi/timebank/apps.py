from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TimebankConfig(AppConfig):
    name = "gongzhi.timebank"
    label = "timebank"
    verbose_name = _("时间银行")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from gongzhi.core import retention

        from . import retention as section

        retention.register_export(section.NAME, section.export)
