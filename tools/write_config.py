"""Regenerate config/*.yaml and the README parameter tables from the parameter declarations."""

from __future__ import annotations

import re
from pathlib import Path

from vlm_ros.ros.parameters import GROUNDING_PARAMETERS, config_yaml, markdown_table
from vlm_ros.sim.bridge_parameters import SIM_BRIDGE_PARAMETERS

ROOT = Path(__file__).resolve().parents[1]
FILES = {
    "grounding": (GROUNDING_PARAMETERS, "vlm_ros/ros/parameters.py", "grounding_node"),
    "sim_bridge": (SIM_BRIDGE_PARAMETERS, "vlm_ros/sim/bridge_parameters.py", "sim_bridge"),
}


def main() -> None:
    readme = (ROOT / "README.md").read_text()
    for name, (specs, source, node) in FILES.items():
        (ROOT / "config" / f"{name}.yaml").write_text(config_yaml(specs, source))
        heading = f"### {node} parameters"
        if heading in readme:
            pattern = re.compile(re.escape(heading) + r"(.*?)(\| name \| default \| description \|.*?)(\n\n|\Z)", re.S)
            table = markdown_table(specs)
            readme = pattern.sub(lambda m, h=heading, t=table: h + m.group(1) + t + m.group(3), readme, count=1)
    (ROOT / "README.md").write_text(readme)


if __name__ == "__main__":
    main()
