"""Write the model table of docs/ARCHITECTURE.md from scout_assets/models.py."""

import re
from pathlib import Path

from scout_assets.models import markdown_table

DOC = Path(__file__).resolve().parent.parent / "docs" / "ARCHITECTURE.md"
SECTION = re.compile(r"(<!-- models:start -->\n).*?(\n<!-- models:end -->)", re.DOTALL)


def main() -> None:
    text = DOC.read_text(encoding="utf-8")
    DOC.write_text(SECTION.sub(lambda m: m[1] + markdown_table() + m[2], text), encoding="utf-8")


if __name__ == "__main__":
    main()
