"""The closed world the default model, the simulator and the speech grammar share.

Directions are the user's, standing where the robot stands and looking over the
table: "left" is +y, "right" is -y, "top"/"far" is +x, "bottom"/"near" is -x
(REP 103 base frame: x forward, y left, z up).
"""

from __future__ import annotations

# name -> RGB in 0..1 (Ravens/CLIPort palette, plus black for an 11th hue family).
COLORS: dict[str, tuple[float, float, float]] = {
    "red": (0.85, 0.10, 0.10),
    "green": (0.15, 0.70, 0.20),
    "blue": (0.12, 0.30, 0.90),
    "yellow": (0.95, 0.85, 0.10),
    "orange": (1.00, 0.50, 0.05),
    "purple": (0.50, 0.15, 0.65),
    "pink": (1.00, 0.55, 0.75),
    "cyan": (0.10, 0.85, 0.85),
    "brown": (0.50, 0.30, 0.12),
    "white": (0.96, 0.96, 0.96),
    "gray": (0.50, 0.50, 0.50),
}

# canonical object kind -> words a user may say for it
OBJECT_KINDS: dict[str, tuple[str, ...]] = {
    "block": ("block", "cube", "box"),
    "bowl": ("bowl", "dish", "container"),
}

# words that ask for every object of a colour ("all the red blocks", "every red block", "the red cubes")
ALL_OF_A_COLOR_WORDS: frozenset[str] = frozenset({"all", "every", "each", "blocks", "cubes", "boxes"})

# named table locations -> (x, y) in the base frame [m], on the table surface
LOCATIONS: dict[str, tuple[float, float]] = {
    "center": (0.50, 0.00),
    "left side": (0.50, 0.22),
    "right side": (0.50, -0.22),
    "top side": (0.64, 0.00),
    "bottom side": (0.36, 0.00),
    "top left corner": (0.64, 0.22),
    "top right corner": (0.64, -0.22),
    "bottom left corner": (0.36, 0.22),
    "bottom right corner": (0.36, -0.22),
}

# words a user may say for a location -> canonical LOCATIONS key
LOCATION_SYNONYMS: dict[str, str] = {
    "center": "center",
    "centre": "center",
    "middle": "center",
    "left": "left side",
    "left side": "left side",
    "right": "right side",
    "right side": "right side",
    "top": "top side",
    "top side": "top side",
    "far side": "top side",
    "bottom": "bottom side",
    "bottom side": "bottom side",
    "near side": "bottom side",
    "top left": "top left corner",
    "top left corner": "top left corner",
    "top right": "top right corner",
    "top right corner": "top right corner",
    "bottom left": "bottom left corner",
    "bottom left corner": "bottom left corner",
    "bottom right": "bottom right corner",
    "bottom right corner": "bottom right corner",
}

# push directions -> unit (dx, dy) in the base frame
DIRECTIONS: dict[str, tuple[float, float]] = {
    "left": (0.0, 1.0),
    "right": (0.0, -1.0),
    "forward": (1.0, 0.0),
    "away": (1.0, 0.0),
    "back": (-1.0, 0.0),
    "backward": (-1.0, 0.0),
    "toward me": (-1.0, 0.0),
}


def object_label(color: str, kind: str) -> str:
    """Canonical label, e.g. ("red", "block") -> "red block"."""
    return f"{color} {kind}"
