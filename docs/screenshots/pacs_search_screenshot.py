"""Screenshot of the study browser's PACS tab after a search, as the app draws it, for the
README. Starts a private Orthanc (as the tests do), stores the tests/data DICOM files in it
(and ../shared/data/dicom/mr_head_120_slices when present) with STOW-RS, searches and waits for the server-rendered thumbnails. Runs headless:

    QT_QPA_PLATFORM=offscreen .venv/bin/python docs/screenshots/pacs_search_screenshot.py \
        --out docs/screenshots/pacs_search.png
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DICOM = REPO / "tests" / "data" / "dicom"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", default="860x700", help="dialog size WxH")
    parser.add_argument("--out", default="pacs_search.png", help="PNG to write")
    args = parser.parse_args(argv)
    width, height = (int(v) for v in args.size.lower().split("x"))
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ["RADLABEL_DATA_DIR"] = tempfile.mkdtemp(prefix="radlabel-shot-")  # no user settings
    sys.path.insert(0, str(REPO))
    sys.path.insert(0, str(REPO / "tests" / "pacs"))
    from pacs_orthanc import PASSWORD, USER, OrthancServer, find_orthanc

    found = find_orthanc()
    if isinstance(found, str):
        print(found, file=sys.stderr)
        return 1
    from viewer.io.pacs import Credentials, PacsClient, PacsConnection, save_connections
    from viewer.qt import pacs_auth
    from viewer.qt.app import ensure_app
    from viewer.qt.study_browser import StudyBrowser

    server = OrthancServer().start()
    try:
        conn = PacsConnection("Hospital PACS (Orthanc)", server.dicomweb_url, "basic", USER)
        files = sorted((DICOM / "non_isotropic").glob("*.dcm"))
        files += [DICOM / "CT_small.dcm", DICOM / "MR_small.dcm"]
        head = REPO.parent / "shared" / "data" / "dicom" / "mr_head_120_slices"
        if head.is_dir():  # a real clinical series when the shared data is there
            files += sorted(head.glob("*.dcm"))
        client = PacsClient(conn, Credentials(USER, PASSWORD))
        for i in range(0, len(files), 20):
            client.store_files(files[i : i + 20])
        save_connections([conn])
        pacs_auth.remember_for_session(conn, PASSWORD)
        app = ensure_app()
        browser = StudyBrowser(None)
        browser.resize(width, height)
        browser.show()
        panel = browser.pacs_panel
        panel.date_from.setText("1990-01-01")
        panel.search()
        end = time.monotonic() + 20
        while time.monotonic() < end:
            app.processEvents()
            thumbs = panel.thumb_job
            if not panel.busy() and thumbs is not None and thumbs.isFinished():
                break
            time.sleep(0.02)
        biggest = max(panel.series.values(), key=lambda s: s.instances or 0)
        panel.tree.setCurrentItem(panel.item_for(biggest.series_uid))
        for _ in range(5):
            app.processEvents()
        saved = browser.grab().save(args.out)
        browser.close()
    finally:
        server.stop()
    print(f"{args.out}: {width}x{height}" if saved else "screenshot failed", file=sys.stderr)
    return 0 if saved else 1


if __name__ == "__main__":
    sys.exit(main())
