"""Every relative link in the docs a reader follows resolves to a file or folder of the checkout:
the top README, everything under docs/, and each member's README. A link to the web, a mail
address or an anchor of the same page is not followed; links inside code are not links."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from urllib.parse import unquote

# The pages a reader is sent through, relative to the repository root.
PAGES = (
    "README.md",
    "docs/**/*.md",
    "libs/*/README.md",
    "infra/*/README.md",
    "services/*/README.md",
    "tests-e2e/README.md",
    "frontend-stubs/*/README.md",
)
_FENCE = re.compile(r"^\s*(```|~~~)")
_CODE = re.compile(r"`[^`]*`")
# [text](target "title") and [label]: target
_INLINE = re.compile(r"\]\(\s*<?([^)\s>]+)>?(?:\s+(?:\"[^\"]*\"|'[^']*'))?\s*\)")
_REFERENCE = re.compile(r"^\s*\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+\"[^\"]*\")?\s*$")
_EXTERNAL = re.compile(r"^(?:[a-z][a-z0-9+.-]*:|//|#)", re.IGNORECASE)


def pages(root: Path) -> list[Path]:
    return sorted({page for pattern in PAGES for page in root.glob(pattern) if page.is_file()})


def links(text: str) -> Iterator[tuple[int, str]]:
    """Each link target outside code, with its line number."""
    fenced = False
    for number, line in enumerate(text.splitlines(), 1):
        if _FENCE.match(line):
            fenced = not fenced
            continue
        if fenced:
            continue
        prose = _CODE.sub("", line)
        reference = _REFERENCE.match(prose)
        if reference:
            yield number, reference.group(1)
        for inline in _INLINE.finditer(prose):
            yield number, inline.group(1)


def broken_links(root: Path, checked: Iterable[Path] | None = None) -> list[str]:
    """One line per relative link that resolves to nothing: `page:line: target`."""
    problems = []
    for page in pages(root) if checked is None else checked:
        for number, target in links(page.read_text()):
            if _EXTERNAL.match(target):
                continue
            path = unquote(target.split("#", 1)[0].split("?", 1)[0])
            resolved = (root / path.lstrip("/")) if path.startswith("/") else page.parent / path
            if not resolved.exists():
                problems.append(f"{page.relative_to(root)}:{number}: {target} does not exist")
    return problems
