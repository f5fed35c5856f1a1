from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ListsConfig(AppConfig):
    name = "gongzhi.lists"
    label = "lists"
    verbose_name = _("三张清单")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from gongzhi.core import retention

        from . import retention as step

        retention.register(step.NAME, step.step)
        retention.register_export(step.NAME, step.export)
