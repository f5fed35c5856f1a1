"""Browser helper: choose in a searchable picker (static/js/picker.js over Tom Select) as a user does,
by typing a query (name, pinyin or initials) and taking the wanted row with the keyboard."""


def picker_of(select):
    """The Tom Select wrapper that stands in for a <select data-picker> (it follows the select)."""
    return select.locator("xpath=following-sibling::div[contains(@class,'ts-wrapper')][1]")


def pick(select, query: str, label: str, detail: str | None = None):
    """Type `query` into the picker of `select`, move with ArrowDown to the option showing `label`
    (and `detail`, for namesakes), press Enter. Returns the option's text."""
    box = picker_of(select)
    box.locator(".ts-control").click()
    field = box.locator(".ts-control input")
    field.press_sequentially(query, delay=40)
    wanted = box.locator(".ts-dropdown .option", has_text=label)
    if detail:
        wanted = wanted.filter(has_text=detail)
    wanted.first.wait_for()
    options = box.locator(".ts-dropdown .option")
    for _ in range(options.count() + 1):
        active = box.locator(".ts-dropdown .option.active")
        if active.count() and label in active.inner_text() and (not detail or detail in active.inner_text()):
            break
        field.press("ArrowDown")
    text = box.locator(".ts-dropdown .option.active").inner_text()
    field.press("Enter")
    return text
