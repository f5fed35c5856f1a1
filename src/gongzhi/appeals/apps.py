from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AppealsConfig(AppConfig):
    name = "gongzhi.appeals"
    label = "appeals"
    verbose_name = _("诉求")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from gongzhi.core import retention

        from . import retention as step

        retention.register(step.NAME, step.step)
        retention.register_export(step.NAME, step.export)

        from . import jobs

        jobs.register()
