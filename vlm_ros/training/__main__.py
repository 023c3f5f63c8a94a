"""`python -m vlm_ros.training [--steps N ...]`: the same as `vlm-ros train`."""

import sys

from vlm_ros.cli.train import main

sys.exit(main())
