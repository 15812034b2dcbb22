"""`shop-checks links`: a relative link that leads nowhere is a line and an exit of 1."""

from __future__ import annotations

from pathlib import Path

import pytest
from shop_checks.cli import main
from shop_checks.links import broken_links, links

ROOT = Path(__file__).resolve().parents[3]


def test_the_repositorys_docs_link_only_to_what_exists(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["links", "--root", str(ROOT)]) == 0
    assert "every relative link of" in capsys.readouterr().out


def test_links_in_code_to_the_web_and_to_anchors_are_not_followed() -> None:
    # Given a page with links of every kind
    text = "\n".join(
        [
            "[a](docs/a.md) and [b](../b.md#part 'x') and `[code](nowhere.md)`",
            "[web](https://example.com) [mail](mailto:x@example.com) [here](#top)",
            "```",
            "[fenced](nowhere.md)",
            "```",
            "[label]: docs/c.md",
        ]
    )

    # When its links are read
    found = list(links(text))

    # Then only the relative ones outside code are, each with its line
    assert [target for _, target in found if not target.startswith(("http", "mailto", "#"))] == [
        "docs/a.md",
        "../b.md#part",
        "docs/c.md",
    ]
    assert (1, "docs/a.md") in found
    assert (6, "docs/c.md") in found


def test_a_broken_link_is_one_line_naming_the_page_and_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a README linking to a page that exists and one that does not, and a docs page linking
    # back up with an anchor
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "guide.md").write_text("[home](../README.md#quick-start)\n")
    (tmp_path / "README.md").write_text("# x\n[guide](docs/guide.md)\n[gone](docs/gone.md)\n")

    # When the links are checked
    status = main(["links", "--root", str(tmp_path)])

    # Then the missing one is reported with its page and line, and the exit is 1
    assert status == 1
    assert broken_links(tmp_path) == ["README.md:3: docs/gone.md does not exist"]
    err = capsys.readouterr().err.splitlines()
    assert err == ["link: README.md:3: docs/gone.md does not exist", "links: 1 broken link(s)"]
