"""Staff tools: the district edits categories (routing and deadlines) here until a page exists."""

from django.contrib import admin

from .models import Category


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "name_en", "default_department", "urgent_respond_hours", "urgent_resolve_hours",
                    "normal_respond_hours", "normal_resolve_hours", "active", "sort")
    list_editable = ("urgent_respond_hours", "urgent_resolve_hours", "normal_respond_hours", "normal_resolve_hours",
                     "active", "sort")
    search_fields = ("code", "name", "name_en")
