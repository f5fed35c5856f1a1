from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class VolunteeringConfig(AppConfig):
    name = "gongzhi.volunteering"
    label = "volunteering"
    verbose_name = _("双报到与志愿服务")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from gongzhi.core import retention

        from . import retention as section

        retention.register_export(section.NAME, section.export)
