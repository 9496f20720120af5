"""A drawing of the autograd graph as SVG, written here: no graphviz, no system package.

A simple layered layout: the output's node on top (backward starts there), each node one
layer below its deepest parent, nodes of a layer side by side in the order the walk met
them. Each box holds torch's node name, what the node computed and the gradient that
flows into it; each arrow points the way the gradient flows, labelled with the rule.
The text is the same as the terminal tree's (`graph.texts`), and the output is
deterministic, so docs/seed-graph.svg can be checked for staleness.
"""

from __future__ import annotations

from html import escape

from gradexplain import graph

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


def draw(built: graph.Graph, title: str = "") -> str:
    """The SVG document, as text."""
    texts = {node.id: _lines(built, node) for node in built.nodes}
    size: dict[int, tuple[float, float]] = {
        i: (max(len(t) for t in lines) * CHAR + 2 * PAD, 3 * LINE + 2.0 * PAD)
        for i, lines in texts.items()
    }
    rows = layers(built)
    widths = [sum(size[i][0] for i in row) + GAP_X * (len(row) - 1) for row in rows]
    area = max(widths)  # boxes are centred in it; edge labels may run into the margin
    margin = max((len(edge.rule) * CHAR / 2 for edge in built.edges), default=0)
    total = max(area + margin, len(title) * CHAR) + 2 * PAD
    top = PAD + (2 * LINE if title else 0)
    place: dict[int, tuple[float, float]] = {}
    y = top
    for row, width in zip(rows, widths):
        x = PAD + (area - width) / 2
        for i in row:
            place[i] = (x, y)
            x += size[i][0] + GAP_X
        y += 3 * LINE + 2 * PAD + GAP_Y
    height = y - GAP_Y + PAD
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
    for edge in built.edges:
        out += _edge(place, size, edge)
    for node in built.nodes:
        if node.id in place:
            out += _box(place[node.id], size[node.id], texts[node.id], node.name == graph.DATA)
    out.append("</svg>")
    return "\n".join(out) + "\n"


def _edge(
    place: dict[int, tuple[float, float]],
    size: dict[int, tuple[float, float]],
    edge: graph.GraphEdge,
) -> list[str]:
    if edge.parent not in place or edge.child not in place:
        return []
    (px, py), (cx, cy) = place[edge.parent], place[edge.child]
    x1, y1 = px + size[edge.parent][0] / 2, py + size[edge.parent][1]
    x2, y2 = cx + size[edge.child][0] / 2, cy
    dash = ' stroke-dasharray="4 3"' if edge.rule == graph.DATA_RULE else ""
    mid_x, mid_y = (x1 + x2) / 2, (y1 + y2) / 2
    return [
        f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" stroke="#555"'
        f'{dash} marker-end="url(#arrow)"/>',
        f'<text x="{mid_x + 6:.1f}" y="{mid_y + 4:.1f}" {FONT} fill="#555">'
        f"{escape(edge.rule)}</text>",
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
