"""Whole-window screenshot of the GUI as the app builds it (editing and AI panels) on the demo
study, for the README and for checking the layout at a given window size. Runs headless:

    QT_QPA_PLATFORM=offscreen .venv/bin/python docs/screenshots/window_screenshot.py \
        --size 1280x800 --out docs/screenshots/window.png
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DEMO = REPO / "resources" / "demo"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", default="1280x800", help="window size WxH (default 1280x800)")
    parser.add_argument("--out", default="window.png", help="PNG to write")
    args = parser.parse_args(argv)
    width, height = (int(v) for v in args.size.lower().split("x"))
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ["RADLABEL_DATA_DIR"] = tempfile.mkdtemp(prefix="radlabel-shot-")  # no user settings
    sys.path.insert(0, str(REPO))
    from viewer.qt.ai_controller import install_ai
    from viewer.qt.app import ensure_app
    from viewer.qt.main_window import MainWindow
    from viewer.qt.panels import install_editing

    app = ensure_app()
    window = MainWindow()
    install_editing(window, autosave=False)
    ai = install_ai(window, engine="classic")
    window.show()
    window.resize(width, height)
    ok = window.open_path(str(DEMO / "ct_abdomen_demo.nii.gz"))
    ok = ok and window.open_label(str(DEMO / "ct_abdomen_demo_label.nii.gz"))
    end = time.monotonic() + 1.0  # statistics and 3D surfaces update after a short delay
    while time.monotonic() < end:
        app.processEvents()
        time.sleep(0.02)
    saved = ok and window.grab().save(args.out)
    ai.service.shutdown()
    window.close()
    print(f"{args.out}: {width}x{height}" if saved else "screenshot failed", file=sys.stderr)
    return 0 if saved else 1


if __name__ == "__main__":
    sys.exit(main())
