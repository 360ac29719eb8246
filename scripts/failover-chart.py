#!/usr/bin/env python3
"""The fail-over timeline: for each scenario, how long nobody answered ARP/NDP (median bar, max
whisker) per system, against the bound l2a documents, as an SVG (no plotting library: a few
rectangles). Input: a TSV of `scenario system median_ms max_ms`, with `bound` as the system for the
documented bound. Usage: failover-chart.py FIGURES.tsv OUT.svg"""
import sys
from collections import OrderedDict

COLORS = {"l2a": "#2e7d32", "keepalived tuned": "#757575", "keepalived default": "#bdbdbd"}


def main():
    figures, path_out = sys.argv[1], sys.argv[2]
    rows = OrderedDict()
    bounds = {}
    with open(figures) as f:
        for line in f:
            if not line.strip() or line.startswith("#"):
                continue
            scenario, system, median, maximum = line.rstrip("\n").split("\t")
            if system == "bound":
                bounds[scenario] = float(median)
            else:
                rows.setdefault(scenario, []).append((system, float(median), float(maximum)))
    top = max([m for bars in rows.values() for _, _, m in bars] + list(bounds.values()))
    scale_max = 500 * (int(top) // 500 + 1)
    left, width, bar, gap = 90, 520, 9, 12
    height_of = {s: len(bars) * (bar + 2) + gap for s, bars in rows.items()}
    total = sum(height_of.values()) + 70
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{left + width + 60}" height="{total}" '
           'font-family="Helvetica, Arial, sans-serif" font-size="11">',
           '<rect width="100%" height="100%" fill="white"/>',
           f'<text x="10" y="16" font-size="12">Nobody answering ARP/NDP after the failure, ms '
           '(bar: median, line: max; red: l2a\'s bound)</text>']
    x = lambda ms: left + width * ms / scale_max
    y = 30
    for tick in range(0, scale_max + 1, scale_max // 5):
        out.append(f'<line x1="{x(tick):.1f}" y1="{y}" x2="{x(tick):.1f}" y2="{total - 35}" stroke="#eeeeee"/>')
        out.append(f'<text x="{x(tick):.1f}" y="{total - 22}" text-anchor="middle" fill="#555555">{tick}</text>')
    for scenario, bars in rows.items():
        out.append(f'<text x="{left - 8}" y="{y + height_of[scenario] / 2}" text-anchor="end">{scenario}</text>')
        top_y = y
        for system, median, maximum in bars:
            color = COLORS.get(system, "#90a4ae")
            out.append(f'<rect x="{left}" y="{y}" width="{max(x(median) - left, 1):.1f}" height="{bar}" fill="{color}">'
                       f'<title>{scenario}, {system}: median {median:g} ms, max {maximum:g} ms</title></rect>')
            out.append(f'<line x1="{x(median):.1f}" y1="{y + bar / 2}" x2="{x(maximum):.1f}" y2="{y + bar / 2}" '
                       f'stroke="{color}" stroke-width="1.5"/>')
            y += bar + 2
        if scenario in bounds:
            out.append(f'<line x1="{x(bounds[scenario]):.1f}" y1="{top_y - 2}" x2="{x(bounds[scenario]):.1f}" '
                       f'y2="{y}" stroke="#c62828" stroke-width="2"/>')
        y += gap
    legend_x = left
    present = {system for bars in rows.values() for system, _, _ in bars}
    for system, color in COLORS.items():
        if system not in present:
            continue
        out.append(f'<rect x="{legend_x}" y="{total - 12}" width="10" height="9" fill="{color}"/>')
        out.append(f'<text x="{legend_x + 14}" y="{total - 4}">{system}</text>')
        legend_x += 140
    out.append("</svg>")
    with open(path_out, "w") as f:
        f.write("\n".join(out) + "\n")


main()
