"""`gongzhi seed_demo --scale small|district|city`: the demo city, from real Nanning division codes."""

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError

from gongzhi.demo import plan, seed


class Command(BaseCommand):
    help = (
        "Seed the demo city: places with real 2023 division codes, grids, organisations, member units "
        "with agreements, party members, grid staff and nine demo accounts (password gongzhi-demo). "
        "small = 2 communities (for tests), district = 兴宁区 with 35 communities, city = 260 communities "
        "and 6,764 grids. Idempotent: a second run creates nothing; a larger scale adds what is missing "
        "(a community that already has grids keeps them). Exit code 0 = seeded, 1 = failed (nothing "
        "written), 2 = bad arguments."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--scale", choices=plan.SCALES, default="small", help="how much to seed (default: small)"
        )

    def handle(self, *args, scale, verbosity=1, **opts):
        log = self.stdout.write if verbosity > 0 else (lambda _line: None)
        try:
            created = seed.seed(scale, log=log)
        except DatabaseError as exc:
            raise CommandError(
                f"seeding {scale} failed, nothing was written: {exc}. Is the database migrated? "
                "Run `gongzhi migrate` first."
            ) from exc
        except Exception as exc:  # one transaction: on any failure nothing is written
            raise CommandError(f"seeding {scale} failed, nothing was written: {exc}") from exc
        if verbosity > 0:
            self.stdout.write(
                self.style.SUCCESS(
                    f"seed_demo {scale}: "
                    + (
                        ", ".join(f"{k} +{v}" for k, v in sorted(created.items()) if v)
                        or "already seeded, nothing new"
                    )
                )
            )
