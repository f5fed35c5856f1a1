"""Pages of the owners' register (included by deliberation.urls under register/)."""

from django.urls import path

from . import views_register

urlpatterns: list = [
    path("", views_register.register_index, name="register_index"),
    path("<int:compound_id>/", views_register.register, name="register"),
    path("<int:compound_id>/import/", views_register.register_import, name="register_import"),
    path("<int:compound_id>/template.xlsx", views_register.register_template, name="register_template"),
    path("<int:compound_id>/export.xlsx", views_register.register_export, name="register_export"),
]
