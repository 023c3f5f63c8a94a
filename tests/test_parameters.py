"""Parameters are declared once: config/grounding.yaml and the README table must match."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from vlm_ros.ros.parameters import GROUNDING_PARAMETERS

ROOT = Path(__file__).resolve().parents[1]


def test_config_file_lists_every_parameter_with_its_default():
    params = yaml.safe_load((ROOT / "config" / "grounding.yaml").read_text())["/**"]["ros__parameters"]
    assert params == {spec.name: spec.default for spec in GROUNDING_PARAMETERS}


def test_readme_table_lists_every_parameter():
    readme = (ROOT / "README.md").read_text()
    section = readme.split("### grounding_node parameters", 1)[1].split("\n#", 1)[0]
    rows = dict(re.findall(r"^\| `([a-z_]+)` \| `([^`]*)` \|", section, flags=re.M))
    assert set(rows) == {spec.name for spec in GROUNDING_PARAMETERS}
    for spec in GROUNDING_PARAMETERS:
        assert yaml.safe_load(rows[spec.name]) == spec.default, spec.name


def test_every_parameter_has_a_description():
    assert all(len(spec.description) > 10 for spec in GROUNDING_PARAMETERS)
