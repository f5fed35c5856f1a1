from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DeliberationConfig(AppConfig):
    name = "gongzhi.deliberation"
    label = "deliberation"
    verbose_name = _("联席会议与民主议事")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from . import jobs

        jobs.register()
