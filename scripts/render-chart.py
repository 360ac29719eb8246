#!/usr/bin/env python3
"""Renders deploy/helm/l2announcer with its default values, as `helm template` would, for the
chart's one construct: {{ .Values.path }} substitutions. Debian 12 packages no helm; the test
uses this to keep deploy/manifests/l2announcer.yaml in step with the chart and to apply it to
the lab API server. Usage: render-chart.py CHART_DIR [VALUES_FILE]"""
import re, sys, pathlib, yaml

chart = pathlib.Path(sys.argv[1])
values = yaml.safe_load((chart / "values.yaml").read_text())
if len(sys.argv) > 2:
    values.update(yaml.safe_load(pathlib.Path(sys.argv[2]).read_text()))

def lookup(path):
    node = values
    for part in path.split("."):
        node = node[part]
    return str(node)

out = []
for template in sorted((chart / "templates").glob("*.yaml")):
    text = template.read_text()
    left = re.findall(r"{{(?!\s*\.Values\.[A-Za-z0-9_.]+\s*}})", text)
    if left:
        sys.exit(f"{template}: only {{{{ .Values.x }}}} is supported, found {left[0]}")
    out.append(f"---\n# Source: l2announcer/templates/{template.name}\n" +
               re.sub(r"{{\s*\.Values\.([A-Za-z0-9_.]+)\s*}}", lambda m: lookup(m.group(1)), text))
print("".join(out), end="")
