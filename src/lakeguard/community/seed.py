"""A model of West Lake's liaison groups (pure): 85 groups, 18,000 members, about 88 %.

MODEL DATA, not the real groups: the news report gives the totals (85 groups, 18,000+
members, about 88 % of the reachable population; one station 20+ groups at 90 %+); how they
split over stations and communities is invented here, deterministically.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from lakeguard.forces.deployment import apportion

TOTAL_GROUPS = 85
TOTAL_MEMBERS = 18_000
# station: (groups, members, coverage aimed at, zh name); yuemiao is the station at 90 %+.
STATIONS: dict[str, tuple[int, int, float, str]] = {
    "yuemiao": (22, 4_800, 0.91, "岳庙"),
    "liulang": (18, 3_900, 0.87, "柳浪"),
    "hubin": (18, 3_900, 0.87, "湖滨"),
    "lingyin": (15, 3_000, 0.87, "灵隐"),
    "xixi": (12, 2_400, 0.87, "西溪"),
}
COMMUNITIES_PER_STATION = 4
CHANNELS = ("wecom", "wecom", "dingtalk", "wecom", "feishu")


@dataclass(frozen=True)
class GroupSpec:
    name: str
    channel: str
    members: int


@dataclass(frozen=True)
class CommunitySpec:
    name: str
    station_id: str
    registered_population: int
    reachable_population: int
    groups: tuple[GroupSpec, ...]


def westlake_communities(stations: list[str] | None = None) -> list[CommunitySpec]:
    """The model communities of the given stations (default: all five)."""
    found = []
    for station, (groups, members, aim, zh) in STATIONS.items():
        if stations is not None and station not in stations:
            continue
        n = COMMUNITIES_PER_STATION
        group_counts = apportion(groups, [1.0] * n, [1] * n)
        member_counts = apportion(members, [float(g) for g in group_counts], [0] * n)
        for i in range(n):
            reachable = math.ceil(member_counts[i] / aim)
            per_group = apportion(member_counts[i], [1.0] * group_counts[i], [0] * group_counts[i])
            found.append(
                CommunitySpec(
                    name=f"{zh}第{i + 1}社区（模型）",
                    station_id=station,
                    registered_population=math.ceil(reachable / 0.95),
                    reachable_population=reachable,
                    groups=tuple(
                        GroupSpec(f"{zh}{i + 1}-{j + 1} 警民联系群", CHANNELS[j % 5], m)
                        for j, m in enumerate(per_group)
                    ),
                )
            )
    return found
