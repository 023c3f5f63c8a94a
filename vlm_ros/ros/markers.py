"""A plan as RViz markers in the base frame: a sphere per target and its label."""

from __future__ import annotations

from builtin_interfaces.msg import Duration
from visualization_msgs.msg import Marker, MarkerArray

from vlm_ros.core.types import Plan
from vlm_ros.ros.msg_conversion import time_msg

NAMESPACE = "vlm_ros_plan"


def plan_markers(plan: Plan) -> MarkerArray:
    array = MarkerArray()
    clear = Marker(action=Marker.DELETEALL, ns=NAMESPACE)
    clear.header.frame_id = plan.frame_id
    array.markers.append(clear)
    for index, step in enumerate(plan.steps):
        if step.position is None:
            continue
        x, y, z = (float(v) for v in step.position)
        for kind in (Marker.SPHERE, Marker.TEXT_VIEW_FACING):
            marker = Marker(ns=NAMESPACE, id=2 * index + (kind == Marker.TEXT_VIEW_FACING), type=kind,
                            action=Marker.ADD, lifetime=Duration(sec=30))
            marker.header.frame_id = plan.frame_id
            marker.header.stamp = time_msg(plan.stamp_ns)
            marker.pose.position.x, marker.pose.position.y = x, y
            marker.pose.position.z = z + (0.05 if kind == Marker.TEXT_VIEW_FACING else 0.0)
            marker.pose.orientation.w = 1.0
            marker.scale.x = marker.scale.y = marker.scale.z = 0.03
            marker.color.r, marker.color.g, marker.color.b, marker.color.a = 0.1, 0.9, 0.2, 0.9
            if kind == Marker.TEXT_VIEW_FACING:
                marker.text = f"{index + 1}: {step.type.value} {step.target_label}"
            array.markers.append(marker)
    return array
