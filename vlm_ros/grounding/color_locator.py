"""Find vocabulary objects ("red block", "green bowl") in an RGB-D frame by colour and height.

Why it exists: the shipped tabletop model was trained on scenes before anything moved, and on
scenes after execution it does not see a block inside a bowl (its presence classifier refuses
it in 5 of 6 scenes, and its pointer lands up to 30 cm off; numbers in the README). The
verifier needs a measurement it can trust there, so for the closed vocabulary it measures:
pixels whose colour matches the label's palette colour under top lighting, lifted to the base
frame with depth, split by height into block tops (above a bowl's rim) and bowl parts (below),
then clustered into objects. Labels outside the vocabulary go to the grounder instead.
"""

from __future__ import annotations

import numpy as np

from vlm_ros.core.types import RGBDFrame
from vlm_ros.core.vocabulary import COLORS
from vlm_ros.geometry.projection import Projector

TABLE_RGB = (0.70, 0.64, 0.52)  # the sim's table; a colour no label may match
TOP_SHADE = 0.93  # a surface facing up renders at about this fraction of its palette colour (measured)
MAX_RGB_DISTANCE = 45.0  # a pixel matches its nearest palette colour only this close (0..255 units)
MIN_POINTS = 12  # clusters with fewer pixels are noise


def label_parts(label: str) -> tuple[str, str] | None:
    """("red", "block") for a vocabulary label, else None."""
    words = label.lower().split()
    if len(words) == 2 and words[0] in COLORS and words[1] in ("block", "bowl"):
        return words[0], words[1]
    return None


class ColorDepthLocator:
    """Locates blocks (top-surface centres) and bowls (rim centres) of the closed vocabulary."""

    def __init__(self, projector: Projector, block_size: float = 0.04, bowl_diameter: float = 0.14,
                 bowl_height: float = 0.035, table_height: float = 0.0):
        self.projector = projector
        self.block_size = block_size  # [m]
        self.bowl_diameter = bowl_diameter  # [m]
        self.split_height = bowl_height + 0.002  # above: block tops; below: bowl floor and rim [m]
        self.table_height = table_height  # [m]
        names = list(COLORS)
        self._names = names
        self._palette = np.array([COLORS[n] for n in names] + [TABLE_RGB]) * 255.0 * TOP_SHADE  # [K+1, 3]
        self._cache: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None

    def _analyse(self, frame: RGBDFrame) -> tuple[np.ndarray, np.ndarray]:
        """(colour index per pixel [H, W], -1 none; base-frame points [H, W, 3]), cached per frame."""
        if self._cache is not None and self._cache[0] is frame.rgb:  # the cache holds the array, so `is` is safe
            return self._cache[1], self._cache[2]
        assert frame.depth is not None and frame.intrinsics is not None
        k = frame.intrinsics
        h, w = frame.depth.shape
        v, u = np.mgrid[0:h, 0:w].astype(np.float32)
        z = frame.depth.astype(np.float32)
        cam = np.stack([(u - k.cx) * z / k.fx, (v - k.cy) * z / k.fy, z], axis=-1)  # [H, W, 3]
        m = self.projector.camera_to_base
        points = cam @ m[:3, :3].T.astype(np.float32) + m[:3, 3].astype(np.float32)
        height = points[..., 2] - self.table_height
        # only what stands on the table can be an object: classify those pixels' colours alone (~10x less work)
        candidates = np.isfinite(z) & (z > 0) & (height > 0.002) & (height < 4.0 * self.block_size)
        rgb = frame.rgb[candidates].astype(np.float32)  # [N, 3]
        distance = np.linalg.norm(rgb[:, None, :] - self._palette[None], axis=-1)  # [N, K+1]
        nearest = distance.argmin(-1)
        nearest[(distance.min(-1) > MAX_RGB_DISTANCE) | (nearest == len(self._names))] = -1
        index = np.full(z.shape, -1, dtype=np.int64)
        index[candidates] = nearest
        self._cache = (frame.rgb, index, points)
        return index, points

    def _mask(self, frame: RGBDFrame, color: str, kind: str) -> np.ndarray:
        index, points = self._analyse(frame)
        height = points[..., 2] - self.table_height
        mask = index == self._names.index(color)
        if kind == "block":
            return mask & (height > self.split_height) & (height < 4.0 * self.block_size)
        return mask & (height >= -0.01) & (height <= self.split_height)

    def locate(self, frame: RGBDFrame, label: str) -> list[np.ndarray]:
        """Block: each block's top-surface point [m, base frame]; bowl: each bowl's rim centre at its
        floor height. Empty when none is visible or the label is outside the vocabulary."""
        parts = label_parts(label)
        if parts is None:
            return []
        _, points = self._analyse(frame)
        selected = points[self._mask(frame, *parts)]  # [N, 3]
        if len(selected) < MIN_POINTS:
            return []
        radius = 0.6 * self.block_size if parts[1] == "block" else 0.75 * self.bowl_diameter
        found = []
        clusters = _clusters(selected, radius)
        if parts[1] == "block":  # two blocks' centres are at least an edge apart; a split block's are not
            clusters = _merge(clusters, 0.75 * self.block_size)
        for cluster in clusters:
            if len(cluster) < MIN_POINTS:
                continue
            if parts[1] == "block":
                centre = np.median(cluster[:, :2], axis=0)
                top = float(np.percentile(cluster[:, 2], 90))
            else:  # the rim ring is seen all round: its bounding box is centred on the bowl
                centre = (cluster[:, :2].min(0) + cluster[:, :2].max(0)) / 2.0
                top = float(cluster[:, 2].min())
            found.append(np.array([centre[0], centre[1], top]))
        return found


def _clusters(points: np.ndarray, radius: float, iterations: int = 5) -> list[np.ndarray]:
    """Greedy mean-shift in the horizontal plane: peel off the densest blob within `radius`, repeat."""
    remaining = points
    out = []
    while len(remaining):
        xy = remaining[:, :2]
        centre = xy[0]
        for _ in range(iterations):
            near = np.linalg.norm(xy - centre, axis=1) < radius
            centre = xy[near].mean(0)
        near = np.linalg.norm(xy - centre, axis=1) < radius
        out.append(remaining[near])
        remaining = remaining[~near]
        if len(out) > 50:
            break
    return out


def _merge(clusters: list[np.ndarray], distance: float) -> list[np.ndarray]:
    """Join clusters whose horizontal centres are closer than `distance`, until none are."""
    clusters = list(clusters)
    merged = True
    while merged:
        merged = False
        centres = [c[:, :2].mean(0) for c in clusters]
        for i in range(len(clusters)):
            for j in range(i + 1, len(clusters)):
                if np.linalg.norm(centres[i] - centres[j]) < distance:
                    clusters[i] = np.concatenate([clusters[i], clusters.pop(j)])
                    merged = True
                    break
            if merged:
                break
    return clusters
