"""Licence names read from package metadata (`--version`, THIRD_PARTY.md of the bundle)."""

from __future__ import annotations

import importlib.metadata as md

from viewer.licences import distributions_of, licence_of, third_party_markdown


def _dist(tmp_path, name: str, headers: str) -> md.Distribution:
    info = tmp_path / f"{name}-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n{headers}")
    return md.PathDistribution(info)


def test_licence_name_from_expression_field_or_classifier(tmp_path):
    assert licence_of(_dist(tmp_path, "a", "License-Expression: MIT OR Apache-2.0\n")) == (
        "MIT OR Apache-2.0"
    )
    assert licence_of(_dist(tmp_path, "b", "License: BSD\n")) == "BSD"
    # a License field holding the whole licence text: the classifier names it
    long_text = "License: Copyright (c) 2001 somebody, all rights reserved, redistribution\n"
    classifier = "Classifier: License :: OSI Approved :: BSD License\n"
    assert licence_of(_dist(tmp_path, "c", long_text + classifier)) == "BSD License"
    assert licence_of(_dist(tmp_path, "d", "")) == "unknown"


def test_third_party_lists_installed_distributions_and_the_data():
    dists = distributions_of(["numpy", "vtkmodules"])
    assert [d.metadata["Name"] for d in dists] == ["numpy", "vtk"]
    text = third_party_markdown(dists, "9.9")
    assert text.startswith("# Third-party components in RadLabel 9.9\n")
    assert f"| vtk | {md.version('vtk')} | BSD | https://vtk.org |" in text.splitlines()
    assert "| Demo study (resources/demo) |" in text
    assert "resources/models/MODEL_CARD.md" in text
