#!/usr/bin/env python3
"""Writes every ```yaml block of the given Markdown files to OUT_DIR as PAGE-N.yaml, one per
block, and prints their paths: the docs' examples, for the deploy test to apply.
Usage: docs_yaml.py OUT_DIR PAGE.md..."""
import os
import re
import sys

out = sys.argv[1]
os.makedirs(out, exist_ok=True)
for page in sys.argv[2:]:
    blocks = re.findall(r"^```yaml\n(.*?)^```", open(page).read(), re.S | re.M)
    for n, block in enumerate(blocks, 1):
        path = os.path.join(out, f"{os.path.basename(page)[:-3]}-{n}.yaml")
        with open(path, "w") as f:
            f.write(block)
        print(path)
