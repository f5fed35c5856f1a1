"""Print a new API token for a user (last line of output)."""

from django.core.management.base import BaseCommand, CommandError

from gongzhi.accounts.services import token_create
from gongzhi.core.errors import GongzhiError


class Command(BaseCommand):
    help = "Create an API token for USERNAME; the token is printed as the last line (shown only once)."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--name", default="cli")

    def handle(self, username, name, **opts):
        try:
            key = token_create(actor=None, username=username, name=name)
        except GongzhiError as e:
            raise CommandError(str(e.message)) from e
        self.stderr.write(f"Token for {username} (store it now; it is not shown again):")
        self.stdout.write(key)
