"""Versions and licences of what RadLabel ships, read from installed package metadata
(importlib.metadata): `--version` prints them, the bundle build writes THIRD_PARTY.md from them.

Nothing here imports the components themselves (Paddle and VTK take seconds to import).
"""

from __future__ import annotations

import importlib.metadata as md
import platform
from collections.abc import Iterable

# (shown name, distribution) of the components the product is built on, in the order shown
CORE_COMPONENTS: tuple[tuple[str, str], ...] = (
    ("PyQt5", "PyQt5"),
    ("Qt", "PyQt5-Qt5"),
    ("VTK", "vtk"),
    ("pyqtgraph", "pyqtgraph"),
    ("PaddlePaddle", "paddlepaddle"),
    ("SimpleITK", "SimpleITK"),
    ("pydicom", "pydicom"),
    ("highdicom", "highdicom"),
    ("numpy", "numpy"),
    ("scipy", "scipy"),
    ("scikit-image", "scikit-image"),
)

# the data the bundle carries (resources/), with where each one's provenance is written
DATA = (
    (
        "Demo study (resources/demo)",
        "CT from TotalSegmentator's test data; its label is TotalSegmentator model output",
        "Apache-2.0",
        "resources/demo/README.md, resources/demo/LICENSE",
    ),
    (
        "Base interactive model (resources/models/base)",
        "trained by RadLabel's own code (train-base) on the project's shared data",
        "same terms as RadLabel; training data licences in the model card",
        "resources/models/MODEL_CARD.md",
    ),
)

_SHORT = 40  # a License field longer than this is the licence's full text, not its name


def licence_of(dist: md.Distribution) -> str:
    """The licence name a distribution declares: its SPDX expression, else a short License
    field, else its "License ::" classifiers; "unknown" when it says nothing."""
    meta = dist.metadata
    expression = (meta.get("License-Expression") or "").strip()
    if expression:
        return expression
    field = (meta.get("License") or "").strip()
    if field and len(field) <= _SHORT and "\n" not in field:
        return field
    names = [
        c.split("::")[-1].strip()
        for c in meta.get_all("Classifier") or []
        if c.startswith("License ::") and c.split("::")[-1].strip() != "OSI Approved"
    ]
    if names:
        return " / ".join(dict.fromkeys(names))
    return (field.splitlines()[0][:_SHORT] + "...") if field else "unknown"


def component_rows(
    components: Iterable[tuple[str, str]] = CORE_COMPONENTS,
) -> list[tuple[str, str, str]]:
    """(name, version, licence) for Python and each component ("not installed" when absent)."""
    rows = [("Python", platform.python_version(), "PSF-2.0")]
    for name, dist_name in components:
        try:
            dist = md.distribution(dist_name)
        except md.PackageNotFoundError:
            rows.append((name, "not installed", "-"))
            continue
        rows.append((name, dist.version, licence_of(dist)))
    return rows


def versions_report(radlabel_version: str) -> str:
    """`--version`: RadLabel, each component with its version and licence, and the data."""
    rows = component_rows()
    width = max(len(f"{n} {v}") for n, v, _ in rows) + 2
    lines = [f"RadLabel {radlabel_version}"]
    lines += [f"{n} {v}".ljust(width) + f"({lic})" for n, v, lic in rows]
    lines += [f"{name}: {licence}" for name, _what, licence, _where in DATA]
    lines.append("Every bundled package with its licence: THIRD_PARTY.md (in the bundle)")
    return "\n".join(lines)


def distributions_of(top_level_modules: Iterable[str]) -> list[md.Distribution]:
    """The installed distributions that provide any of these top-level modules, by name."""
    provided = md.packages_distributions()
    names = {d for m in top_level_modules for d in provided.get(m, [])}
    out = {}
    for name in names:
        try:
            dist = md.distribution(name)
        except md.PackageNotFoundError:
            continue
        out[dist.metadata["Name"].lower()] = dist
    return [out[k] for k in sorted(out)]


def third_party_markdown(dists: Iterable[md.Distribution], radlabel_version: str) -> str:
    """THIRD_PARTY.md: every bundled distribution with its version and licence, then the data."""
    lines = [
        f"# Third-party components in RadLabel {radlabel_version}",
        "",
        "Generated when the bundle was built, from the installed packages' metadata. The full "
        "licence texts are in each package's metadata folder (`*.dist-info`) where the package "
        "ships one, and at the project pages named below.",
        "",
        "| Component | Version | Licence | Home page |",
        "|---|---|---|---|",
        f"| Python | {platform.python_version()} | PSF-2.0 | https://www.python.org |",
    ]
    for dist in dists:
        meta = dist.metadata
        home = meta.get("Home-page") or ""
        if not home:
            urls = [u.split(",", 1)[-1].strip() for u in meta.get_all("Project-URL") or []]
            home = urls[0] if urls else ""
        name = meta["Name"]
        lines.append(f"| {name} | {dist.version} | {licence_of(dist)} | {home} |")
    lines += [
        "",
        "## Data",
        "",
        "| Data | What it is | Licence | Provenance |",
        "|---|---|---|---|",
    ]
    lines += [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in DATA]
    return "\n".join(lines) + "\n"
