"""The README and docs/: a short README that opens with its picture, and links that resolve."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.helpers import assert_one_line_error, run_module

README = REPO / "README.md"
PICTURE = "docs/images/eyes-open-closed.png"
PAGES = [README, REPO / "CHANGELOG.md", *sorted((REPO / "docs").glob("*.md"))]
# [text](target) or ![alt](target "title"): the target up to a space or the closing bracket.
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
FENCE = re.compile(r"^\s*(```|~~~)")


def prose_lines(path: Path) -> list[str]:
    """The file's lines outside fenced code blocks."""
    lines, fenced = [], False
    for line in path.read_text(encoding="utf-8").splitlines():
        if FENCE.match(line):
            fenced = not fenced
        elif not fenced:
            lines.append(line)
    return lines


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def anchors(path: Path) -> set[str]:
    """Every heading anchor of a Markdown file, repeated headings numbered as GitHub does."""
    found, seen = set(), {}
    for line in prose_lines(path):
        match = re.match(r"#{1,6}\s+(.*?)\s*#*\s*$", line)
        if match:
            base = slug(match.group(1))
            count = seen.get(base, 0)
            found.add(f"{base}-{count}" if count else base)
            seen[base] = count + 1
    return found


def relative_links(path: Path) -> list[str]:
    """Link targets in the file that point into the repository (no scheme, no mail)."""
    targets = [t for line in prose_lines(path) for t in LINK.findall(line)]
    return [t for t in targets if not re.match(r"^[a-z][a-z0-9+.-]*:", t)]


def test_the_readme_is_short():
    lines = README.read_text(encoding="utf-8").splitlines()
    assert len(lines) <= 150, f"README.md has {len(lines)} lines; the rest belongs in docs/"


def test_the_readme_opens_with_its_picture():
    first = next(line for line in README.read_text(encoding="utf-8").splitlines()
                 if line.strip())
    assert re.fullmatch(rf"!\[[^\]]+\]\({re.escape(PICTURE)}\)", first.strip()), first
    assert (REPO / PICTURE).is_file()
    assert (REPO / PICTURE).stat().st_size < 1_600_000, "keep the picture near a megabyte"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(REPO)))
def test_every_relative_link_resolves(page: Path):
    assert page.is_file()
    broken = []
    for target in relative_links(page):
        file_part, _, anchor = target.partition("#")
        linked = (page.parent / file_part).resolve() if file_part else page
        if not linked.exists():
            broken.append(f"{target}: no such file")
        elif anchor and linked.suffix == ".md" and anchor not in anchors(linked):
            broken.append(f"{target}: no heading #{anchor} in {linked.name}")
    assert not broken, broken


def test_the_slugs_follow_github():
    assert slug("The default's training campaign") == "the-defaults-training-campaign"
    assert slug("Feeds for other software: OSC, LSL, NDI") == "feeds-for-other-software-osc-lsl-ndi"
    assert slug("Calibration (the operator's screen)") == "calibration-the-operators-screen"


def test_the_picture_script_without_shared_data_is_one_sentence(tmp_path, monkeypatch):
    monkeypatch.setenv("EEG_PAINTING_SHARED_DATA", str(tmp_path / "absent"))
    result = run_module("benchmarks.readme_picture", "--out", tmp_path / "picture.png")
    assert_one_line_error(result, "absent")
    assert not (tmp_path / "picture.png").exists()
