"""The README's pictures of each role's home (bench/screenshots.py, `make screenshots`): every image the
README shows is in the repository, and docs/screenshots holds a phone and a desktop picture of every demo
role the tool knows, which are all the demo accounts."""

import importlib.util
import re
from pathlib import Path

from gongzhi.demo.seed import DEMO_ACCOUNTS

ROOT = Path(__file__).resolve().parents[2]
# Markdown images ![alt](path "title") and HTML <img src="path">.
IMAGE_LINK = re.compile(r"!\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)|<img\s[^>]*\bsrc=[\"']([^\"']+)[\"']")


def _tool():
    spec = importlib.util.spec_from_file_location("gongzhi_bench_screenshots", ROOT / "bench" / "screenshots.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def local_images(markdown: str) -> list[str]:
    links = [a or b for a, b in IMAGE_LINK.findall(markdown)]
    return [link.split("#")[0] for link in links if not re.match(r"^[a-z]+:", link)]


def test_every_image_the_readme_shows_exists():
    readme = ROOT / "README.md"
    missing = [link for link in local_images(readme.read_text(encoding="utf-8"))
               if not (readme.parent / link).is_file()]
    assert not missing, f"README.md shows images that are not in the repository: {missing}"


def test_the_tool_pictures_every_demo_account():
    assert [username for username, *_ in _tool().ROLES] == [a[0] for a in DEMO_ACCOUNTS]


def test_docs_screenshots_has_a_phone_and_a_desktop_picture_per_role():
    tool = _tool()
    folder = ROOT / "docs" / "screenshots"
    expected = {tool.image_name(username, kind) for username, *_ in tool.ROLES for kind in tool.SHOTS}
    assert set(tool.SHOTS) == {"phone", "desktop"}
    present = {p.name for p in folder.glob("*.jpg")}
    assert expected <= present, f"missing (run `make screenshots`): {sorted(expected - present)}"
    assert present <= expected, f"pictures of no role (left over?): {sorted(present - expected)}"
    for name in expected:
        assert (folder / name).read_bytes()[:3] == b"\xff\xd8\xff", f"{name} is not a JPEG"


def test_the_readme_block_the_tool_prints_links_exactly_the_pictures():
    tool = _tool()
    links = local_images(tool.readme_block())
    # The Chinese and the English table: each picture twice.
    assert sorted(links) == sorted(2 * [f"docs/screenshots/{tool.image_name(u, k)}" for u, *_ in tool.ROLES
                                        for k in tool.SHOTS])
    assert all((ROOT / link).is_file() for link in links)
