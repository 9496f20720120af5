"""A drawing of the autograd graph as SVG, written here: no graphviz, no system package.

A simple layered layout: the output's node on top (backward starts there), each node one
layer below its deepest parent, nodes of a layer side by side in the order the walk met
them. An edge to the next layer is a straight line; one that skips layers runs down its
own lane right of the boxes, so no two edges share a line, and every rule's label is put
where it touches no box, no line and no other label. Each box holds torch's node name,
what the node computed and the gradient that flows into it; each arrow points the way
the gradient flows, labelled with the rule.
The text is the same as the terminal tree's (`graph.texts`), and the output is
deterministic, so docs/seed-graph.svg can be checked for staleness.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

from gradexplain.teach import graph

CHAR = 7.2  # width of one character of the 12px monospace font
LINE = 16  # line height
PAD = 10
GAP_X = 30
GAP_Y = 70
FONT = 'font-family="DejaVu Sans Mono, Menlo, Consolas, monospace" font-size="12"'


def layers(built: graph.Graph) -> list[list[int]]:
    """Node ids by layer: a node sits one below its deepest parent (the graph is a DAG)."""
    depth = {built.nodes[0].id: 0}
    changed = True
    while changed:  # longest path from the root; at most len(nodes) rounds
        changed = False
        for edge in built.edges:
            if edge.parent in depth and depth.get(edge.child, -1) < depth[edge.parent] + 1:
                depth[edge.child] = depth[edge.parent] + 1
                changed = True
    rows: list[list[int]] = [[] for _ in range(max(depth.values()) + 1)]
    for node in built.nodes:
        if node.id in depth:
            rows[depth[node.id]].append(node.id)
    return rows


def _lines(built: graph.Graph, node: graph.GraphNode) -> list[str]:
    label, grad = graph.texts(built, node)
    return [node.name, label, graph.flow(node, grad)]


Box = tuple[float, float, float, float]  # x0, y0, x1, y1
LANE = 14  # between two lanes of long edges
TURN = 18  # between the rows where long edges turn, in the gap between two layers


def draw(built: graph.Graph, title: str = "") -> str:
    """The SVG document, as text."""
    texts = {node.id: _lines(built, node) for node in built.nodes}
    size: dict[int, tuple[float, float]] = {
        i: (max(len(t) for t in lines) * CHAR + 2 * PAD, 3 * LINE + 2.0 * PAD)
        for i, lines in texts.items()
    }
    rows = layers(built)
    widths = [sum(size[i][0] for i in row) + GAP_X * (len(row) - 1) for row in rows]
    area = max(widths)  # boxes are centred in it; lanes and labels go to the right
    top = PAD + (2 * LINE if title else 0)
    layer = {i: r for r, row in enumerate(rows) for i in row}
    gaps = _gaps(built, layer, len(rows))
    place: dict[int, tuple[float, float]] = {}
    y: float = top
    for row, width, gap in zip(rows, widths, gaps):
        x = PAD + (area - width) / 2
        for i in row:
            place[i] = (x, y)
            x += size[i][0] + GAP_X
        y += 3 * LINE + 2 * PAD + gap
    height = y - gaps[-1] + PAD
    widest = max((len(edge.rule) * CHAR for edge in built.edges), default=0)
    routes = _routes(built, place, size, layer, PAD + area + GAP_X + widest)
    boxes = [(x, y, x + size[i][0], y + size[i][1]) for i, (x, y) in place.items()]
    labels = _labels(routes, boxes)
    right = max([b[2] for b in boxes] + [x for r in routes for x, _ in r.points])
    right = max([right] + [at[0] + len(r.rule) * CHAR for r, at in zip(routes, labels)])
    total = max(right, PAD + len(title) * CHAR) + PAD
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{total:.0f}" '
        f'height="{height:.0f}" viewBox="0 0 {total:.0f} {height:.0f}">',
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" '
        'markerWidth="8" markerHeight="8" orient="auto-start-reverse">'
        '<path d="M 0 0 L 10 5 L 0 10 z" fill="#555"/></marker></defs>',
        '<rect width="100%" height="100%" fill="white"/>',
    ]
    if title:
        out.append(
            f'<text x="{PAD}" y="{PAD + LINE}" {FONT} font-weight="bold">{escape(title)}</text>'
        )
    for route, at in zip(routes, labels):
        out += _edge(route, at)
    for node in built.nodes:
        if node.id in place:
            out += _box(place[node.id], size[node.id], texts[node.id], node.name == graph.DATA)
    out.append("</svg>")
    return "\n".join(out) + "\n"


def _gaps(built: graph.Graph, layer: dict[int, int], count: int) -> list[float]:
    """The space below each layer: GAP_Y, or more where long edges turn in it (each on
    its own row, TURN apart), so a turn never runs through a box."""
    turns = [0] * count
    for edge in built.edges:
        drawn = edge.parent in layer and edge.child in layer
        if drawn and layer[edge.child] - layer[edge.parent] > 1:
            turns[layer[edge.parent]] += 1  # its turn below the parent
            turns[layer[edge.child] - 1] += 1  # and above the child
    return [max(GAP_Y, TURN * (n + 1) + 2 * LINE) for n in turns]


@dataclass(frozen=True)
class Route:
    """An edge as drawn: a straight line to the next layer, or, for an edge that skips
    layers, a path through its own lane right of the boxes (so no two share a line)."""

    points: tuple[tuple[float, float], ...]
    rule: str
    lane: bool  # True: its label goes beside the lane's vertical run


def _routes(
    built: graph.Graph,
    place: dict[int, tuple[float, float]],
    size: dict[int, tuple[float, float]],
    layer: dict[int, int],
    lanes_from: float,
) -> list[Route]:
    """Ports spread along each box's bottom (edges out) and top (edges in); an edge that
    skips a layer turns in the gap below its parent and above its child, each on its own
    row, and runs down its own lane."""
    drawn = [e for e in built.edges if e.parent in place and e.child in place]
    outs: dict[int, list[graph.GraphEdge]] = {}
    ins: dict[int, list[graph.GraphEdge]] = {}
    for edge in drawn:
        outs.setdefault(edge.parent, []).append(edge)
        ins.setdefault(edge.child, []).append(edge)

    def port(node: int, edge: graph.GraphEdge, side: dict[int, list[graph.GraphEdge]]) -> float:
        x, _ = place[node]
        k = side[node].index(edge)
        return x + size[node][0] * (k + 1) / (len(side[node]) + 1)

    routes: list[Route] = []
    long = sorted(
        (e for e in drawn if layer[e.child] - layer[e.parent] > 1),
        key=lambda e: (place[e.parent][1], -place[e.child][1]),
    )
    turns: dict[float, int] = {}  # how many turns each gap holds so far
    for edge in drawn:
        x1, x2 = port(edge.parent, edge, outs), port(edge.child, edge, ins)
        y1 = place[edge.parent][1] + size[edge.parent][1]
        y2 = place[edge.child][1]
        if edge not in long:
            routes.append(Route(((x1, y1), (x2, y2)), edge.rule, False))
            continue
        lane = lanes_from + LANE * long.index(edge)
        below = y1 + TURN * (1 + turns.get(y1, 0))
        turns[y1] = turns.get(y1, 0) + 1
        above = y2 - TURN * (1 + turns.get(y2, 0))
        turns[y2] = turns.get(y2, 0) + 1
        points = ((x1, y1), (x1, below), (lane, below), (lane, above), (x2, above), (x2, y2))
        routes.append(Route(points, edge.rule, True))
    return routes


def _labels(routes: list[Route], boxes: list[Box]) -> list[tuple[float, float]]:
    """Where each rule's text goes (x, baseline): the first spot beside its own line that
    touches no box, no line (its own included) and no label placed before it; else
    right of it all."""
    segments = [(a, b) for r in routes for a, b in zip(r.points, r.points[1:])]
    taken: list[Box] = list(boxes)
    found: list[tuple[float, float]] = []
    for route in routes:
        width = len(route.rule) * CHAR
        spot = next(
            (
                at
                for at in _candidates(route)
                if not any(_overlap(_text_box(at, width), box) for box in taken)
                and not any(_crosses(_text_box(at, width), a, b) for a, b in segments)
            ),
            None,
        )
        if spot is None:  # beside everything drawn so far, on the route's first row
            far = max([box[2] for box in taken] + [x for a, b in segments for x in (a[0], b[0])])
            spot = (far + GAP_X, route.points[0][1] + LINE)
        found.append(spot)
        taken.append(_text_box(spot, width))
    return found


def _candidates(route: Route) -> list[tuple[float, float]]:
    """Spots for the label's start and baseline. A long edge's label sits on its turn
    below the parent, then on its turn above the child, from the box out towards the
    lane; a straight line's beside it, from its middle outwards, right and then left,
    level with the point or above or below it (a slanted line leaves one of them free)."""
    width = len(route.rule) * CHAR
    if route.lane:
        spots = []
        for (x1, y), (x2, _) in (route.points[1:3], route.points[3:5]):
            low, high = sorted((x1, x2))
            spots += [(x, y - 4) for x in _steps(low + 6, high - 6 - width, 8)]
        return spots
    (x1, y1), (x2, y2) = route.points
    spots = []
    for t in (0.5, 0.4, 0.6, 0.3, 0.7, 0.2, 0.8):
        x, y = x1 + (x2 - x1) * t, y1 + (y2 - y1) * t
        for rise in (4, -6, 16):
            spots += [(x + 6, y + rise), (x - 6 - width, y + rise)]
    return spots


def _crosses(box: Box, a: tuple[float, float], b: tuple[float, float]) -> bool:
    """Whether the segment a-b passes through the box (Liang-Barsky clipping)."""
    (x1, y1), (x2, y2) = a, b
    low, high = 0.0, 1.0
    for p, q in (
        (x1 - x2, x1 - box[0]),
        (x2 - x1, box[2] - x1),
        (y1 - y2, y1 - box[1]),
        (y2 - y1, box[3] - y1),
    ):
        if p == 0:
            if q < 0:
                return False
        elif p < 0:
            low = max(low, q / p)
        else:
            high = min(high, q / p)
        if low > high:
            return False
    return True


def _steps(start: float, stop: float, step: float) -> list[float]:
    count = int((stop - start) // step) + 1 if stop >= start else 0
    return [start + step * k for k in range(count)]


def _text_box(at: tuple[float, float], width: float) -> Box:
    """A 12px label's extent around its baseline."""
    return (at[0] - 1, at[1] - 11, at[0] + width + 1, at[1] + 3)


def _overlap(a: Box, b: Box) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _edge(route: Route, at: tuple[float, float]) -> list[str]:
    dash = ' stroke-dasharray="4 3"' if route.rule == graph.DATA_RULE else ""
    if len(route.points) == 2:
        (x1, y1), (x2, y2) = route.points
        line = (
            f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" stroke="#555"'
            f'{dash} marker-end="url(#arrow)"/>'
        )
    else:
        points = " ".join(f"{x:.1f},{y:.1f}" for x, y in route.points)
        line = (
            f'<polyline points="{points}" fill="none" stroke="#555"{dash} '
            f'marker-end="url(#arrow)"/>'
        )
    return [
        line,
        f'<text x="{at[0]:.1f}" y="{at[1]:.1f}" {FONT} fill="#555">{escape(route.rule)}</text>',
    ]


def _box(
    at: tuple[float, float], size: tuple[float, float], lines: list[str], data: bool
) -> list[str]:
    x, y = at
    fill = "#f2f2f2" if data else "#eef4ff"
    out = [
        f'<rect x="{x:.1f}" y="{y:.1f}" width="{size[0]:.1f}" height="{size[1]:.1f}" '
        f'rx="6" fill="{fill}" stroke="#35598f"/>'
    ]
    for k, text in enumerate(lines):
        weight = ' font-weight="bold"' if k == 0 else ""
        out.append(
            f'<text x="{x + PAD:.1f}" y="{y + PAD + LINE * (k + 1) - 4:.1f}" '
            f"{FONT}{weight}>{escape(text)}</text>"
        )
    return out
