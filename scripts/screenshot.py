"""Render the README's screenshot from the snapshot tests' seed (tests/tui/seed.py): a fixed
clock and seeded data, so it changes only when the screen does.

Run: .venv/bin/python scripts/screenshot.py docs/tui-overview.svg
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the seed is in tests/
from tests.tui.seed import seeded_app

SIZE = (120, 25)
"""Every organisation with the full summary above it."""


async def main(target: Path) -> None:
    app = seeded_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause(0.3)
        app.save_screenshot(target.name, str(target.parent))


if __name__ == "__main__":
    os.environ["TZ"] = "UTC"  # the seed's clock times, as the snapshots show them
    time.tzset()
    asyncio.run(main(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/tui-overview.svg")))
