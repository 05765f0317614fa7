"""Checks on files before a library opens them: regular files only, detached data files only
inside the header's own folder, and gzip streams read to their end with their CRC verified.

Libraries follow a header's `data file:` / `ElementDataFile` anywhere (/etc/passwd, /dev/zero,
a FIFO that blocks `open` forever) and zero-fill a gzip stream that ends early; these checks run
first so that such files give a LoadError naming the file instead.
"""

from __future__ import annotations

import bz2
import gzip
import os
import re
import stat
import zlib
from dataclasses import dataclass

from viewer.errors import LoadError

HEADER_LIMIT = 1 << 20  # a text header longer than 1 MB is not a header
# except a segmentation's: Slicer-style .seg.nrrd headers hold ~10 fields per segment, and
# 65535 segments (every label value) need ~25 MB; read piece by piece up to the blank line
NRRD_HEADER_LIMIT = 64 << 20
NRRD_HEADER_END = re.compile(rb"\n\r?\n")
MAX_DATA_FILES = 100_000
_GZIP_PIECE = 1 << 18  # decompressed bytes per read: cache-sized pieces inflate fastest

_KINDS = (
    (stat.S_ISFIFO, "FIFO"),
    (stat.S_ISCHR, "character device"),
    (stat.S_ISBLK, "block device"),
    (stat.S_ISSOCK, "socket"),
    (stat.S_ISDIR, "folder"),
)


def file_kind(st: os.stat_result) -> str:
    for test, name in _KINDS:
        if test(st.st_mode):
            return name
    return "special file"


def regular_file_size(path: str, what: str = "", report_as: str | None = None) -> int:
    """Size of `path` (symlinks followed); LoadError (naming `report_as`, default `path`)
    unless it is a regular file: opening a FIFO blocks forever, a device never ends."""
    name = path if report_as is None else report_as
    try:
        st = os.stat(path)
    except OSError as e:
        raise LoadError(f"{what}cannot read file ({e.strerror or e})", name) from None
    if not stat.S_ISREG(st.st_mode):
        raise LoadError(f"{what}not a regular file ({file_kind(st)})", name)
    return int(st.st_size)


@dataclass
class DetachedData:
    """The data files a detached header points at (all checked), and how they are encoded."""

    files: list[str]
    total_bytes: int
    compressed: bool
    gzip: bool


def detached_data(path: str) -> DetachedData | None:
    """The checked data files of a NRRD (.nrrd/.nhdr) or MetaImage (.mhd/.mha) header, or None
    when the pixels are in the header file itself. Raises LoadError for a data file outside the
    header's folder, missing, or not a regular file."""
    lower = path.lower()
    if lower.endswith((".nrrd", ".nhdr")):
        fields, rest = _nrrd_fields(path)
        ref = fields.get("data file", fields.get("datafile"))
        if ref is None:
            return None
        encoding = fields.get("encoding", "raw").lower()
        names = _expand(ref, rest, path)
        gz = encoding in ("gzip", "gz")
        compressed = gz or encoding in ("bzip2", "bz2")
    elif lower.endswith((".mhd", ".mha")):
        fields, rest = _meta_fields(path)
        ref = fields.get("elementdatafile")
        if ref is None or ref.upper() == "LOCAL":
            return None
        names = _expand(ref, rest, path)
        compressed = fields.get("compresseddata", "false").lower() == "true"
        gz = False  # MetaIO compresses with raw zlib; ITK checks the stream itself
    elif lower.endswith(".hdr"):
        stem = path[:-4]
        names = [n for n in (stem + ".img", stem + ".img.gz") if os.path.lexists(n)]
        if not names:
            return None
        names = [os.path.basename(names[0])]
        gz = compressed = names[0].lower().endswith(".gz")
    else:
        return None
    files = [inside_folder(path, name) for name in names]
    total = sum(
        regular_file_size(f, f"data file '{name}': ", report_as=path)
        for f, name in zip(files, names)
    )
    return DetachedData(files, total, compressed, gz)


def inside_folder(header: str, name: str) -> str:
    """The real path of data file `name` of `header`, which must lie in the header's folder."""
    if os.path.isabs(name):
        raise LoadError(
            f"data file '{name}' is outside the header's folder (absolute paths are refused)",
            header,
        )
    folder = os.path.realpath(os.path.dirname(os.path.abspath(header)))
    real = os.path.realpath(os.path.join(folder, name))
    if os.path.commonpath([folder, real]) != folder:
        raise LoadError(f"data file '{name}' is outside the header's folder", header)
    if not os.path.exists(real):
        raise LoadError(f"data file '{name}' not found", header)
    return real


def _expand(ref: str, rest: list[str], header: str) -> list[str]:
    """The file names of a data-file field: one name, `LIST` + following lines, or a printf
    pattern `fmt min max step`."""
    parts = ref.split()
    if parts and parts[0].upper() == "LIST":
        names = [line.strip() for line in rest if line.strip()]
        if not names:
            raise LoadError("data file LIST names no files", header)
        if len(names) > MAX_DATA_FILES:
            raise LoadError(f"data file LIST names more than {MAX_DATA_FILES} files", header)
        return names
    if len(parts) >= 4 and "%" in parts[0]:
        try:
            lo, hi, step = int(parts[1]), int(parts[2]), int(parts[3])
        except ValueError:
            raise LoadError(f"unreadable data file pattern '{ref}'", header) from None
        if step == 0 or (hi - lo) // step + 1 > MAX_DATA_FILES or (hi - lo) * step < 0:
            raise LoadError(f"unusable data file pattern '{ref}'", header)
        try:
            return [parts[0] % i for i in range(lo, hi + (1 if step > 0 else -1), step)]
        except (TypeError, ValueError):
            raise LoadError(f"unreadable data file pattern '{ref}'", header) from None
    return [ref.strip()]


def _read_header_text(
    path: str, limit: int = HEADER_LIMIT, end: re.Pattern | None = None
) -> tuple[str, bool]:
    """The header region of `path` as text (`read_head`) and whether the file goes on past it."""
    size = regular_file_size(path)
    head = read_head(path, limit, end)
    return head.decode("latin-1"), size > len(head)


def read_head(path: str | os.PathLike, limit: int, end: re.Pattern | None = None) -> bytes:
    """The first `limit` bytes of `path`, or less when `end` (a header's closing pattern) turns
    up sooner: read in pieces, so a big file with its data attached is not read whole."""
    chunks: list[bytes] = []
    total = 0
    with open(path, "rb") as f:
        while total < limit:
            piece = f.read(min(HEADER_LIMIT, limit - total))
            if not piece:
                break
            chunks.append(piece)
            total += len(piece)
            if end is not None and end.search(b"".join(chunks[-2:])):  # may span two pieces
                break
    return b"".join(chunks)


# Every byte some reader takes as the end of a header line (Python's splitlines, Teem's \r);
# the strict parsers below split on \n (NRRD) or \r/\n (MetaIO) like the libraries do, and a
# data-file field that only a looser split would see is refused instead of missed.
_ANY_LINE_START = r"(?:^|[\r\n\x0b\x0c\x1c\x1d\x1e\x85])[ \t]*"
_NRRD_DATA_KEY = re.compile(_ANY_LINE_START + r"data ?file[ \t]*:", re.IGNORECASE)
_META_DATA_KEY = re.compile(_ANY_LINE_START + r"elementdatafile[ \t]*[=:]", re.IGNORECASE)


def _one_data_field(pattern: re.Pattern, region: str, found: bool, path: str) -> None:
    """LoadError unless `region` names a data file exactly as often as the parser found one
    (0 or 1): pynrrd, Teem and MetaIO differ in separators, case and line breaks, and a header
    that any of them could read two ways is refused rather than guessed."""
    count = len(pattern.findall(region))
    if count > 1:
        raise LoadError("the header names its data file more than once", path)
    if count != int(found):
        raise LoadError("the header's data file field is written in an unreadable form", path)


def _nrrd_fields(path: str) -> tuple[dict[str, str], list[str]]:
    """NRRD fields (lower-case keys) up to the blank line, and the lines after a data-file
    field (the names of a LIST). Lines end at \n (a \r before it dropped), as in Teem and
    pynrrd."""
    text, more = _read_header_text(path, NRRD_HEADER_LIMIT, NRRD_HEADER_END)
    end = re.search(r"\n\r?\n", text)
    if end is None and more:
        raise LoadError(f"the header does not end within its first {NRRD_HEADER_LIMIT} bytes", path)
    region = text if end is None else text[: end.start() + 1]
    fields: dict[str, str] = {}
    rest: list[str] = []
    in_list = False
    data_key = False
    for raw in region.split("\n")[1:]:
        line = raw[:-1] if raw.endswith("\r") else raw
        if in_list:
            if not line.strip():
                break
            rest.append(line)
            continue
        if not line.strip():
            break
        if line.startswith("#") or ":=" in line:
            continue
        key, sep, value = line.partition(":")
        if sep:
            key = key.strip().lower()
            fields[key] = value.strip()
            if key in ("data file", "datafile"):
                data_key = True
                in_list = value.split()[:1] == ["LIST"]
    _one_data_field(_NRRD_DATA_KEY, region, data_key, path)
    return fields, rest


def _meta_fields(path: str) -> tuple[dict[str, str], list[str]]:
    """MetaImage fields (lower-case keys) up to ElementDataFile (MetaIO stops reading at it),
    and the lines after it (a LIST's names; binary pixels for LOCAL, which are not used).
    As in MetaIO, a key ends at the first '=' or ':' and ElementDataFile is matched exactly."""
    text, more = _read_header_text(path)
    fields: dict[str, str] = {}
    pieces = re.split(r"(\r\n|\r|\n)", text)
    lines, breaks = pieces[0::2], [*pieces[1::2], ""]
    consumed = 0
    for i, line in enumerate(lines):
        consumed += len(line) + len(breaks[i])
        m = re.match(r"\s*([^=:]*?)\s*[=:](.*)", line)
        if m is None:
            continue
        key, value = m.group(1), m.group(2)
        fields[key.lower()] = value.strip()
        if key == "ElementDataFile":
            _one_data_field(_META_DATA_KEY, text[:consumed], True, path)
            return fields, lines[i + 1 :] if value.split()[:1] == ["LIST"] else []
    if more:
        raise LoadError(f"no ElementDataFile within the header's first {HEADER_LIMIT} bytes", path)
    _one_data_field(_META_DATA_KEY, text, False, path)
    return fields, []


def nrrd_data_offset(path: str) -> int | None:
    """Byte offset of an attached NRRD's data (just past the blank line), None if not found."""
    with open(path, "rb") as f:
        head = f.read(HEADER_LIMIT)
    m = re.search(rb"\r?\n\r?\n", head)
    return m.end() if m else None


def verify_gzip(path: str, offset: int = 0, enough: int | None = None) -> int:
    """Decompress the gzip stream of `path` from `offset` to its end (CRC and length checked by
    Python's gzip) and return its decompressed size. Stops early once more than `enough` bytes
    came out: the pixels a header needs are all there. LoadError for a stream that ends early,
    fails its CRC or is not gzip."""
    return verify_stream(path, "gzip", offset, enough)


def verify_stream(path: str, kind: str, offset: int = 0, enough: int | None = None) -> int:
    """`verify_gzip` for a `kind` "gzip" or "bzip2" stream: decompressed piece by piece, so a
    small file that would unpack to gigabytes is measured, never held."""
    total = 0
    try:
        with open(path, "rb") as raw:
            raw.seek(offset)
            opened = (
                gzip.GzipFile(fileobj=raw, mode="rb") if kind == "gzip" else bz2.BZ2File(raw, "rb")
            )
            with opened as stream:
                while True:
                    chunk = stream.read(_GZIP_PIECE)
                    if not chunk:
                        break
                    total += len(chunk)
                    if enough is not None and total > enough:
                        break
    except EOFError:
        raise LoadError(
            f"file is truncated: the {kind} stream ends early (after {total} bytes)", path
        ) from None
    except gzip.BadGzipFile as e:
        if "crc" in str(e).lower():
            raise LoadError("file is corrupt: gzip CRC check failed", path) from None
        raise LoadError(f"file is corrupt: not a valid gzip stream ({e})", path) from None
    except zlib.error as e:
        raise LoadError(f"file is corrupt: gzip data cannot be decompressed ({e})", path) from None
    except OSError as e:
        if kind == "bzip2" and not e.errno:  # bz2 reports bad data as a bare OSError
            raise LoadError(f"file is corrupt: not a valid bzip2 stream ({e})", path) from None
        raise LoadError(f"cannot read file ({e.strerror or e})", path) from None
    return total
