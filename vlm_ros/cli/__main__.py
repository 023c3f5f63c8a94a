import sys

from vlm_ros.cli import main

sys.exit(main())
