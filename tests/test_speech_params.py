"""speech_node parameters are declared once: config/speech.yaml and the docs/SPEECH.md table must match."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from vlm_ros.speech.config import parameters

ROOT = Path(__file__).resolve().parents[1]


def test_config_file_lists_every_parameter_with_its_default():
    params = yaml.safe_load((ROOT / "config" / "speech.yaml").read_text())["/**"]["ros__parameters"]
    assert params == {p.name: p.default for p in parameters()}


def test_docs_table_lists_every_parameter_with_its_default():
    section = (ROOT / "docs" / "SPEECH.md").read_text().split("## speech_node parameters", 1)[1]
    rows = dict(re.findall(r"^\| `([a-z_]+)` \| `([^`]*)` \|", section, flags=re.M))
    assert set(rows) == {p.name for p in parameters()}
    for p in parameters():
        assert yaml.safe_load(rows[p.name]) == p.default, p.name


def test_every_parameter_is_described_and_named_once():
    names = [p.name for p in parameters()]
    assert len(names) == len(set(names))
    assert all(len(p.description) > 10 for p in parameters())


def test_launch_file_arguments_are_parameters_or_remaps():
    launch = yaml.safe_load((ROOT / "launch" / "speech.launch.yaml").read_text())["launch"]
    node = next(item["node"] for item in launch if "node" in item)
    params = {p["name"] for p in node["param"] if "name" in p}
    assert params <= {p.name for p in parameters()}
    assert node["exec"] == "speech_node"
