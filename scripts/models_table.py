"""Write the model table of docs/ARCHITECTURE.md from scout_assets/models.py."""

import re
from pathlib import Path

from scout_assets.models import markdown_table

DOC = Path(__file__).resolve().parent.parent / "docs" / "ARCHITECTURE.md"
START, END = "<!-- models:start -->", "<!-- models:end -->"
SECTION = re.compile(f"{START}.*?{END}", re.DOTALL)


def with_table(text: str) -> str:
    """``text`` with the section between the markers replaced by the current table."""
    return SECTION.sub(lambda _: f"{START}\n{markdown_table()}\n{END}", text)


def main() -> None:
    DOC.write_text(with_table(DOC.read_text(encoding="utf-8")), encoding="utf-8")


if __name__ == "__main__":
    main()
