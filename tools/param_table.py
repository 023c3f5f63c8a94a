"""Print the README's grounding_node parameter table from the declarations."""

from __future__ import annotations

import json

from vlm_ros.ros.parameters import GROUNDING_PARAMETERS


def table() -> str:
    rows = ["| name | default | description |", "|---|---|---|"]
    for spec in GROUNDING_PARAMETERS:
        default = json.dumps(spec.default) if not isinstance(spec.default, str) else (spec.default or "''")
        rows.append(f"| `{spec.name}` | `{default}` | {spec.description} |")
    return "\n".join(rows)


if __name__ == "__main__":
    print(table())
