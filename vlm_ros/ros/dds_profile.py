"""Point Fast DDS at vlm_ros's large-data profile unless the user chose a profile of their own.

Camera frames are larger than Fast DDS's default shared-memory segment; without this profile a
best-effort image stream on one machine loses most frames (see fastdds_large_data.xml). It is set
in the environment before rclpy.init(), so the process and everything it launches use it.
"""

from __future__ import annotations

import os
from pathlib import Path

PROFILE_PATH = Path(__file__).with_name("fastdds_large_data.xml")
PROFILE_VARIABLES = ("FASTDDS_DEFAULT_PROFILES_FILE", "FASTRTPS_DEFAULT_PROFILES_FILE")  # new, deprecated name


def use_large_data_profile() -> str:
    """Set FASTDDS_DEFAULT_PROFILES_FILE to our profile when Fast DDS is the RMW and no profile is set.

    Returns the profile in effect ("" when another RMW is chosen, which ignores Fast DDS profiles).
    """
    rmw = os.environ.get("RMW_IMPLEMENTATION", "rmw_fastrtps_cpp")
    if not rmw.startswith("rmw_fastrtps"):
        return ""
    for name in PROFILE_VARIABLES:
        if os.environ.get(name):
            return os.environ[name]
    os.environ[PROFILE_VARIABLES[0]] = str(PROFILE_PATH)
    return str(PROFILE_PATH)
