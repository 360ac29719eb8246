#!/usr/bin/env python3
"""Prints the values table of a Helm chart from its values.yaml: every leaf key with its default
and the `# -- ` comment right above it (the helm-docs convention). Usage: values-table.py CHART"""
import json
import pathlib
import sys

import yaml

chart = pathlib.Path(sys.argv[1])
lines = (chart / "values.yaml").read_text().splitlines()
values = yaml.safe_load("\n".join(lines))

# Comments by dotted key: walk the file, tracking the indentation path of keys.
comments, path, pending = {}, [], ""
for line in lines:
    stripped = line.strip()
    if stripped.startswith("# -- "):
        pending = stripped[5:]
        continue
    if not stripped or stripped.startswith("#") or stripped.startswith("- "):
        continue
    indent = (len(line) - len(line.lstrip())) // 2
    key = stripped.split(":", 1)[0]
    path = path[:indent] + [key]
    if pending:
        comments[".".join(path)] = pending
        pending = ""


def leaves(node, prefix=""):
    if isinstance(node, dict) and node and not all(k in ("cpu", "memory") for k in node):
        for k, v in node.items():
            if k in ("requests", "limits") and prefix.endswith("resources"):
                continue
            yield from leaves(v, f"{prefix}.{k}" if prefix else k)
        if prefix.endswith("resources"):
            yield prefix, node
    else:
        yield prefix, node


print("| value | default | meaning |")
print("|---|---|---|")
for key, default in leaves(values):
    if isinstance(default, (dict, list)):
        text = yaml.safe_dump(default, default_flow_style=True, width=1000).strip()
    else:
        text = json.dumps(default)
    text = text.replace("|", "\\|")  # a pipe would end the table cell, even in code
    print(f"| `{key}` | `{text}` | {comments.get(key, '')} |")
