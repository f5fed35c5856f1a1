"""Create the standard appeal categories that are missing; edited ones are left as the district set them."""

from django.core.management.base import BaseCommand
from django.db import transaction

from gongzhi.appeals.models import Category
from gongzhi.appeals.taxonomy import CATEGORIES, NAMES_EN
from gongzhi.core import audit


class Command(BaseCommand):
    help = "Seed the standard appeal categories (idempotent: existing codes are kept as edited)."

    def add_arguments(self, parser):
        parser.add_argument("--reset-deadlines", action="store_true",
                            help="Also put every seeded category's deadlines back to the defaults.")

    def handle(self, *args, reset_deadlines=False, **options):
        created = reset = named = 0
        defaults = {f.name: f.default for f in Category._meta.fields if f.name.endswith("_hours")}
        with transaction.atomic():
            for sort, (code, name, description) in enumerate(CATEGORIES, start=1):
                cat, made = Category.objects.get_or_create(
                    code=code, defaults={"name": name, "name_en": NAMES_EN.get(code, ""), "description": description,
                                         "sort": sort})
                created += made
                if not made and not cat.name_en and NAMES_EN.get(code):
                    # An English name is filled where none was set; one the district wrote is kept.
                    named += Category.objects.filter(pk=cat.pk, name_en="").update(name_en=NAMES_EN[code])
                if reset_deadlines and not made and any(getattr(cat, k) != v for k, v in defaults.items()):
                    Category.objects.filter(pk=cat.pk).update(**defaults)
                    reset += 1
            if created or reset or named:
                audit.record(None, "category.seed", object_type="appeals.category",
                             after={"created": created, "reset": reset, "named": named})
        total = Category.objects.count()
        if options.get("verbosity", 1) >= 1:
            self.stdout.write(self.style.SUCCESS(
                f"categories: {created} created, {reset} reset, {total} in all"))
