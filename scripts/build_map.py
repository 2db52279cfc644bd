"""Build the member map's shapes, once, from Natural Earth country outlines.

The outlines come from the `world-atlas` package of the npm registry (Natural Earth's 1:50m
Admin 0 countries, public domain, as TopoJSON). Install it into a folder outside the repository
and point this script at it:

    npm install --prefix /tmp/map world-atlas@2
    .venv/bin/python scripts/build_map.py /tmp/map/node_modules/world-atlas/countries-50m.json

It writes static/map/region.json: the smallest frame around every state of fixtures/02_states.json
(from Serbia to Chukotka, from the Arctic to Arabia) with the countries visible in it, in an
Albers equal-area conic projection, simplified to about a pixel, one SVG path per country keyed by
its ISO 3166 alpha-2 code. The site draws the map from that file
(catalog/map.py); this script is not needed at run time.
"""

import argparse
import json
import math
from pathlib import Path

import django
from django.conf import settings

WIDTH = 960
LON0, LAT0, PARALLEL_1, PARALLEL_2 = 75.0, 45.0, 30.0, 62.0
MARGIN = 0.02  # of the frame's width, around the catalog's states
TOLERANCE = 1.0  # pixels, for the catalog's states
CONTEXT_TOLERANCE = 2.5  # for the countries around them, drawn only for orientation
ROOT = Path(__file__).resolve().parent.parent
SOURCE = "Natural Earth (public domain), 1:50m Admin 0 countries, via the world-atlas npm package"
OUTPUT = ROOT / "static" / "map" / "region.json"
STATES = ROOT / "fixtures" / "02_states.json"


def albers():
    phi1, phi2, phi0 = (math.radians(v) for v in (PARALLEL_1, PARALLEL_2, LAT0))
    n = (math.sin(phi1) + math.sin(phi2)) / 2
    c = math.cos(phi1) ** 2 + 2 * n * math.sin(phi1)
    rho0 = math.sqrt(c - 2 * n * math.sin(phi0)) / n

    def project(lon, lat):
        delta = ((lon - LON0 + 180) % 360) - 180
        theta = n * math.radians(delta)
        rho = math.sqrt(c - 2 * n * math.sin(math.radians(lat))) / n
        return rho * math.sin(theta), rho0 - rho * math.cos(theta)

    return project


def decode_arcs(topology):
    scale, translate = topology["transform"]["scale"], topology["transform"]["translate"]
    arcs = []
    for arc in topology["arcs"]:
        x = y = 0
        points = []
        for dx, dy in arc:
            x, y = x + dx, y + dy
            points.append((x * scale[0] + translate[0], y * scale[1] + translate[1]))
        arcs.append(points)
    return arcs


def ring_points(ring, arcs):
    points = []
    for index in ring:
        arc = arcs[index] if index >= 0 else arcs[~index][::-1]
        points.extend(arc if not points else arc[1:])
    return points


def polygons(geometry):
    if geometry["type"] == "Polygon":
        return [geometry["arcs"]]
    if geometry["type"] == "MultiPolygon":
        return geometry["arcs"]
    return []


def simplify(points, tolerance):
    """Douglas-Peucker."""
    if len(points) < 3:
        return points
    start, end = points[0], points[-1]
    dx, dy = end[0] - start[0], end[1] - start[1]
    length = math.hypot(dx, dy)
    farthest, index = 0.0, 0
    for i in range(1, len(points) - 1):
        px, py = points[i]
        if length:
            distance = abs(dy * px - dx * py + end[0] * start[1] - end[1] * start[0]) / length
        else:
            distance = math.hypot(px - start[0], py - start[1])
        if distance > farthest:
            farthest, index = distance, i
    if farthest <= tolerance:
        return [start, end]
    return simplify(points[: index + 1], tolerance)[:-1] + simplify(points[index:], tolerance)


def area(points):
    return (
        abs(
            sum(x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in zip(points, points[1:] + points[:1], strict=True))
        )
        / 2
    )


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("topojson", type=Path, help="world-atlas countries-50m.json")
    args = parser.parse_args()
    settings.configure(USE_I18N=False)
    django.setup()
    from django_countries import countries

    topology = json.loads(args.topojson.read_text())
    arcs = decode_arcs(topology)
    project = albers()

    # The frame: the catalog's states, projected, with a margin, WIDTH pixels wide.
    numeric = {countries.numeric(state["fields"]["code"]) for state in json.loads(STATES.read_text())}
    framed = [
        project(lon, lat)
        for geometry in topology["objects"]["countries"]["geometries"]
        if geometry.get("id", "").isdigit() and int(geometry["id"]) in numeric
        for polygon in polygons(geometry)
        for ring in polygon
        for lon, lat in ring_points(ring, arcs)
    ]
    min_x, max_x = min(x for x, _y in framed), max(x for x, _y in framed)
    min_y, max_y = min(y for _x, y in framed), max(y for _x, y in framed)
    pad = (max_x - min_x) * MARGIN
    min_x, max_x, min_y, max_y = min_x - pad, max_x + pad, min_y - pad, max_y + pad
    scale = WIDTH / (max_x - min_x)
    height = round((max_y - min_y) * scale)

    def pixel(lon, lat):
        x, y = project(lon, lat)
        return (x - min_x) * scale, (max_y - y) * scale

    shapes = {}
    for geometry in topology["objects"]["countries"]["geometries"]:
        in_catalog = geometry.get("id", "").isdigit() and int(geometry["id"]) in numeric
        rings = []
        for polygon in polygons(geometry):
            for ring in polygon:
                points = [pixel(lon, lat) for lon, lat in ring_points(ring, arcs)]
                if not any(0 <= x <= WIDTH and 0 <= y <= height for x, y in points):
                    continue
                points = simplify(points, TOLERANCE if in_catalog else CONTEXT_TOLERANCE)
                if len(points) >= 4 and area(points) >= (3 if in_catalog else 12):
                    rings.append(points)
        if not rings:
            continue
        code = countries.alpha2(int(geometry["id"])) if geometry.get("id", "").isdigit() else ""
        key = code or geometry.get("properties", {}).get("name", geometry.get("id", "?"))
        path = "".join("M" + "L".join(f"{x:.1f},{y:.1f}" for x, y in ring) + "Z" for ring in rings)
        shapes[key] = shapes.get(key, "") + path

    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    OUTPUT.write_text(
        json.dumps(
            {"source": SOURCE, "width": WIDTH, "height": height, "shapes": shapes},
            ensure_ascii=False,
            separators=(",", ":"),
            sort_keys=True,
        )
        + "\n"
    )
    print(f"Wrote {len(shapes)} shapes, {OUTPUT.stat().st_size:,} bytes, to {OUTPUT}")


if __name__ == "__main__":
    main()
