"""The map's cluster names: what each label says, and where it goes."""

from __future__ import annotations

import numpy as np


def short_name(row) -> str:
    """A map label: the city of a named cluster ('Hefei smart voice cluster' -> 'Hefei'),
    '<macro-region> hub' for a hub, the name itself for 'Rest of ...'."""
    kind, name = str(row.get("kind", "")), str(row["name"])
    if kind == "hub":
        return f"{row['macro_region']} hub"
    if kind == "rest" or name.lower().startswith("rest of"):
        return name
    return name.split(" (")[0].split(" ")[0]


def label_positions(lon, lat, names, radius, bbox, aspect, char_deg, line_deg, avoid=()):
    """Where to write each cluster's name: beside its circle, clear of other circles and labels.

    Greedy, largest cluster first: eight directions at growing distances, the first spot whose
    text box overlaps nothing placed so far. radius: circle radii; char_deg, line_deg: width of
    a character and height of a line; all in degrees of latitude. avoid: boxes (lon0, lat0,
    lon1, lat1) to keep clear (the key). Depends only on the region table: runs once per panel.
    """
    lon0, lat0, lon1, lat1 = bbox
    boxes: list[tuple[float, float, float, float]] = list(avoid)
    spots: dict[int, tuple[float, float]] = {}
    directions = [(1, 0), (-1, 0), (0, 1), (0, -1), (1, 1), (-1, 1), (1, -1), (-1, -1)]

    def free(x0, y0, x1, y1) -> bool:
        if x0 < lon0 + 0.1 or x1 > lon1 - 0.1 or y0 < lat0 + 0.1 or y1 > lat1 - 0.1:
            return False
        if any(not (x1 < b[0] or x0 > b[2] or y1 < b[1] or y0 > b[3]) for b in boxes):
            return False
        for cx, cy, r in zip(lon, lat, radius):
            nx, ny = min(max(cx, x0), x1), min(max(cy, y0), y1)
            if ((nx - cx) / aspect) ** 2 + (ny - cy) ** 2 < r ** 2:
                return False
        return True

    for i in np.argsort(-np.asarray(radius), kind="stable"):
        w, h = char_deg * len(names[i]) * aspect, line_deg
        spot = None
        for gap in (0.1, 0.4, 0.8, 1.3, 1.9, 2.6):
            for dx, dy in directions:
                cx = lon[i] + dx * ((radius[i] + gap) * aspect + w / 2)
                cy = lat[i] + dy * (radius[i] + gap + h / 2)
                if free(cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2):
                    spot = (cx, cy)
                    break
            if spot:
                break
        if spot is None:
            spot = (lon[i] + radius[i] * aspect + w / 2, lat[i])
        boxes.append((spot[0] - w / 2, spot[1] - h / 2, spot[0] + w / 2, spot[1] + h / 2))
        spots[int(i)] = spot
    return [spots[i] for i in range(len(names))]
