"""Exceptions for bad input. Each message is a sentence a person understands.

Nodes catch these at their edge and answer with an ERROR or REFUSED plan; nothing
below the ROS layer decides how a failure is reported.
"""


class VlmRosError(Exception):
    """Base of every error this package raises on purpose."""


class InputError(VlmRosError):
    """The input (image, depth, camera info, instruction) is unusable: the plan is ERROR."""


class ImageConversionError(InputError):
    """A ROS image could not be turned into an array (unknown encoding, wrong size, ...)."""


class InstructionError(InputError):
    """The instruction is empty, too long or otherwise unusable."""


class GroundingRefusal(VlmRosError):
    """The instruction was understood but cannot be carried out: the plan is REFUSED."""


class ModelOutputError(VlmRosError):
    """The model's output could not be parsed into primitives."""


class ModelLoadError(VlmRosError):
    """Model files are missing or inconsistent; the message names the path."""


class BackendError(VlmRosError):
    """The model backend could not answer (remote server down, timed out, HTTP error, malformed
    reply): the plan is ERROR, or the request is grounded by the fallback backend."""
