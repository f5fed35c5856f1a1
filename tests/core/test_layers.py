"""The house's seams, checked on the source: which modules may import which (issue 16's "make room").

- Apps take authentication from gongzhi.accounts.authentication; only the root urls.py imports the
  root gongzhi.api (the router registry), so no app imports back from what mounts it.
- Background jobs live in core.jobs; each app registers its own, so the worker (core) and the
  notifications app import no appeals module.
"""

import ast
from pathlib import Path

import gongzhi

SRC = Path(gongzhi.__file__).parent


def imports(path: Path) -> set[str]:
    """Every module a file imports, at any depth (function-level imports too), as dotted names."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.add(node.module)
            out.update(f"{node.module}.{a.name}" for a in node.names)
    return out


def importers_of(module: str, under: Path = SRC) -> list[str]:
    return sorted(str(p.relative_to(SRC)) for p in under.rglob("*.py")
                  if "migrations" not in p.parts and any(m == module or m.startswith(module + ".")
                                                         for m in imports(p)))


def test_only_the_urls_import_the_api_registry():
    assert importers_of("gongzhi.api") == ["urls.py"]


def test_every_router_takes_its_authentication_from_accounts():
    users = importers_of("gongzhi.accounts.authentication")
    assert {"appeals/api.py", "lists/api.py", "places/api.py", "timebank/api.py"} <= set(users)


def test_the_worker_and_the_notifications_import_no_appeals_module():
    assert importers_of("gongzhi.appeals", SRC / "notifications") == []
    assert importers_of("gongzhi.appeals", SRC / "core") == []


def test_every_app_with_background_work_registers_it_with_core_jobs():
    from gongzhi.core import jobs

    names = {(j.name, j.every) for j in jobs.jobs(poll=True) + jobs.jobs()}
    assert names == {("appeals.intake", jobs.POLL), ("appeals.sweep", jobs.ROUND),
                     ("appeals.intake_prune", 3600), ("deliberation.occurrences", 3600),
                     ("deliberation.actions", jobs.ROUND), ("deliberation.proposals", jobs.ROUND),
                     ("notifications.deliver", jobs.ROUND)}
    assert [j.name for j in jobs.jobs()] == ["appeals.sweep", "appeals.intake_prune", "deliberation.occurrences",
                                             "deliberation.actions", "deliberation.proposals",
                                             "notifications.deliver"]


def test_the_checker_sees_function_level_imports(tmp_path):
    f = tmp_path / "m.py"
    f.write_text("def f():\n    from gongzhi.api import api\n    import gongzhi.appeals.services\n")
    assert {"gongzhi.api", "gongzhi.api.api", "gongzhi.appeals.services"} <= imports(f)
