"""The appeal tests' small city (staff, residents, departments) serves the notification tests too."""

from tests.appeals.conftest import city, depts, fast_password_hashing, media_in_tmp  # noqa: F401
