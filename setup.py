"""ament_python package for colcon on a full ROS 2 install; pip-installable in a venv too."""

from glob import glob

from setuptools import find_packages, setup

PACKAGE = "vlm_ros"


def data_files() -> list[tuple[str, list[str]]]:
    files = [
        ("share/ament_index/resource_index/packages", [f"resource/{PACKAGE}"]),
        (f"share/{PACKAGE}", ["package.xml"]),
        (f"share/{PACKAGE}/launch", glob("launch/*.yaml")),
        (f"share/{PACKAGE}/config", glob("config/*.yaml")),
    ]
    return files


setup(
    name=PACKAGE,
    version="0.1.0",
    packages=find_packages(include=[PACKAGE, f"{PACKAGE}.*"]),
    package_data={PACKAGE: ["weights/**/*", "speech/grammars/*", "training/templates/**/*", "ros/*.xml"]},
    include_package_data=True,
    data_files=data_files(),
    python_requires=">=3.10",
    install_requires=["numpy", "PyYAML"],
    # vlm-ros serve (Ray Serve); pinned in requirements/serve.txt, which tools/setup_env.sh installs
    extras_require={"serve": ["ray[serve]==2.60.0", "fastapi==0.165.0"]},
    zip_safe=False,
    maintainer="vlm_ros maintainers",
    maintainer_email="maintainers@vlm-ros.dev",
    description="Vision-language grounding node for ROS 2 with a PyBullet proving ground.",
    license="Apache-2.0",
    entry_points={
        "console_scripts": [
            "vlm-ros = vlm_ros.cli:main",
            "grounding_node = vlm_ros.ros.grounding_node:main",
            "speech_node = vlm_ros.ros.speech_node:main",
            "sim_bridge = vlm_ros.sim.bridge_node:main",
        ],
    },
)
