"""Parameters are declared once: config/*.yaml and the README tables must match the declarations."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from vlm_ros.ros.parameters import GROUNDING_PARAMETERS
from vlm_ros.sim.bridge_parameters import SIM_BRIDGE_PARAMETERS

ROOT = Path(__file__).resolve().parents[1]
NODES = [("grounding", "grounding_node", GROUNDING_PARAMETERS), ("sim_bridge", "sim_bridge", SIM_BRIDGE_PARAMETERS)]


@pytest.mark.parametrize("config,node,specs", NODES)
def test_config_file_lists_every_parameter_with_its_default(config, node, specs):
    params = yaml.safe_load((ROOT / "config" / f"{config}.yaml").read_text())["/**"]["ros__parameters"]
    assert params == {spec.name: spec.default for spec in specs}


@pytest.mark.parametrize("config,node,specs", NODES)
def test_readme_table_lists_every_parameter(config, node, specs):
    readme = (ROOT / "README.md").read_text()
    section = readme.split(f"### {node} parameters", 1)[1].split("\n#", 1)[0]
    rows = dict(re.findall(r"^\| `([a-z_]+)` \| `([^`]*)` \|", section, flags=re.M))
    assert set(rows) == {spec.name for spec in specs}
    for spec in specs:
        assert yaml.safe_load(rows[spec.name]) == spec.default, spec.name


@pytest.mark.parametrize("config,node,specs", NODES)
def test_every_parameter_has_a_description(config, node, specs):
    assert all(len(spec.description) > 10 for spec in specs)
