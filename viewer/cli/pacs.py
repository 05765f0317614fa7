"""`pacs`: search a DICOMweb server, retrieve a study or series into a folder, store files.

  pacs search URL [--patient-id ID] [--patient-name NAME] [--modality CT] [--json]
  pacs get URL STUDY_UID [SERIES_UID] --out DIR
  pacs store URL FILE...

Authentication: `--user NAME` with the password from RADLABEL_PACS_PASSWORD, the system keyring,
or a prompt on a terminal (never an argument: other users see arguments in the process list);
or `--token-env VAR` for a bearer token held in the environment variable VAR.
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
from dataclasses import asdict
from pathlib import Path

from viewer.errors import LoadError, SaveError
from viewer.io.atomic_save import atomic_copy_file
from viewer.io.pacs import Credentials, PacsClient, PacsConnection
from viewer.io.pacs.credentials import PASSWORD_ENV, resolve_password


def add_parser(subparsers) -> None:
    p = subparsers.add_parser(
        "pacs",
        help="search, retrieve from and store to a PACS over DICOMweb",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    actions = p.add_subparsers(dest="pacs_action", required=True)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("url", help="the server's DICOMweb root, e.g. https://pacs/dicom-web")
    common.add_argument(
        "--user", help=f"HTTP basic user; the password comes from {PASSWORD_ENV}, keyring, prompt"
    )
    common.add_argument("--token-env", metavar="VAR", help="bearer token in environment var VAR")
    common.add_argument("--ca-bundle", default="", help="PEM file of the CA that signs the server")
    common.add_argument(
        "--insecure", action="store_true", help="do not verify the server's TLS certificate"
    )
    common.add_argument("--timeout", type=float, default=30.0, help="seconds per request")

    s = actions.add_parser("search", parents=[common], help="find studies and their series")
    s.add_argument("--patient-id", default="")
    s.add_argument("--patient-name", default="", help="a prefix, or a pattern with * and ?")
    s.add_argument("--modality", default="", help="only series of this modality (CT, MR, SEG..)")
    s.add_argument("--accession", default="")
    s.add_argument("--date-from", default="", help="study date from (YYYYMMDD or YYYY-MM-DD)")
    s.add_argument("--date-to", default="", help="study date to")
    s.add_argument("--json", action="store_true", help="print the result as JSON")

    g = actions.add_parser("get", parents=[common], help="retrieve a study or one series")
    g.add_argument("study_uid")
    g.add_argument("series_uid", nargs="?")
    g.add_argument("--out", required=True, help="folder: one sub-folder per series")

    t = actions.add_parser("store", parents=[common], help="send DICOM files (STOW-RS)")
    t.add_argument("files", nargs="+")
    p.set_defaults(func=run)


def _ask_password(user: str, url: str):
    if not sys.stdin.isatty():
        return None
    return lambda: getpass.getpass(f"Password for {user} at {url}: ")


def client_from_args(args: argparse.Namespace) -> PacsClient:
    """A client for args.url with the credentials the options name."""
    url = args.url.rstrip("/")
    if args.user and args.token_env:
        raise LoadError("give either --user or --token-env, not both", url)
    creds = Credentials()
    auth = "none"
    if args.user:
        auth = "basic"
        password = resolve_password(url, args.user, _ask_password(args.user, url))
        if not password:
            raise LoadError(
                f"no password for {args.user}: set {PASSWORD_ENV}, store it in the keyring "
                "(File > PACS... in the app) or run on a terminal to be asked",
                url,
            )
        creds = Credentials(args.user, password)
    elif args.token_env:
        auth = "bearer"
        token = os.environ.get(args.token_env, "")
        if not token:
            raise LoadError(f"the environment variable {args.token_env} is not set", url)
        creds = Credentials(token=token)
    conn = PacsConnection(
        name=url,
        url=url,
        auth=auth,
        username=args.user or "",
        verify_tls=not args.insecure,
        ca_bundle=args.ca_bundle,
        timeout_s=args.timeout,
    )
    return PacsClient(conn, creds)


def run(args: argparse.Namespace) -> int:
    client = client_from_args(args)
    if args.pacs_action == "search":
        return _search(client, args)
    if args.pacs_action == "get":
        return _get(client, args)
    return _store(client, args)


def _search(client: PacsClient, args: argparse.Namespace) -> int:
    studies = client.search(
        patient_id=args.patient_id,
        patient_name=args.patient_name,
        modality=args.modality,
        accession=args.accession,
        date_from=args.date_from,
        date_to=args.date_to,
    )
    if args.json:
        print(json.dumps([asdict(s) for s in studies], indent=2))
        return 0
    for st in studies:
        print(
            f"{st.patient_id}  {st.patient_name}  {st.date}  {st.description or '(study)'}  "
            f"{st.study_uid}"
        )
        for se in st.series:
            number = f"#{se.number}" if se.number is not None else "#-"
            print(
                f"  {se.modality:<4} {number:>6} {se.instances or '?':>5} images  "
                f"{se.description or '(no description)'}  {se.series_uid}"
            )
    print(f"{len(studies)} stud{'y' if len(studies) == 1 else 'ies'} found")
    return 0


def _get(client: PacsClient, args: argparse.Namespace) -> int:
    studies = client.search(study_uid=args.study_uid)
    series = [s for st in studies for s in st.series]
    if args.series_uid:
        series = [s for s in series if s.series_uid == args.series_uid]
    if not series:
        what = f"series {args.series_uid}" if args.series_uid else f"study {args.study_uid}"
        raise LoadError(f"{what} is not on the server", client.url)
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise SaveError("not a folder", out)
    for s in series:
        folder = client.retrieve_series(s)
        dest = out / s.series_uid
        dest.mkdir(parents=True, exist_ok=True)
        files = sorted(folder.glob("*.dcm"))
        for f in files:  # each file whole or not at all; a failure names the file and why
            atomic_copy_file(f, dest / f.name)
        print(f"wrote {len(files)} files to {dest}")
    return 0


def _store(client: PacsClient, args: argparse.Namespace) -> int:
    for f in args.files:
        if not os.path.isfile(f):
            raise LoadError("no such file", f)
    result = client.store_files(args.files)
    for failure in result.failed:
        print(f"refused: {failure}")
    print(f"stored {len(result.stored)} of {len(args.files)} instances at {client.url}")
    return 0 if not result.failed else 1
