"""Browser helpers shared by the Chromium tests: sign in through the login page as a user does."""

from tests.factories import PASSWORD


def login(page, base, username, password=PASSWORD):
    page.goto(base + "/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_url(base + "/")
