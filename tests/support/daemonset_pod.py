#!/usr/bin/env python3
"""What the chart's agent DaemonSet asks of its container, read from `helm template` output on
stdin, for running the agent as a podman container the way a kubelet runs the pod.

  daemonset_pod.py args      the container's arguments, one per line
  daemonset_pod.py podman    podman options for its securityContext, one per line: every
                             capability dropped and added, read-only root, no privilege
                             escalation, the user — nothing the chart does not grant
  daemonset_pod.py probes    one line per probe: KIND PATH PORT (liveness, readiness)
  daemonset_pod.py resources requests and limits: memory_request memory_limit (MiB), cpu_request (millicores)
"""
import sys

import yaml


def mib(quantity):
    units = {"Ki": 1 / 1024, "Mi": 1, "Gi": 1024}
    for suffix, factor in units.items():
        if quantity.endswith(suffix):
            return int(float(quantity[: -len(suffix)]) * factor)
    return int(int(quantity) / 1024 / 1024)


def millicores(quantity):
    return int(quantity[:-1]) if quantity.endswith("m") else int(float(quantity) * 1000)


def main():
    what = sys.argv[1]
    daemonset = next(d for d in yaml.safe_load_all(sys.stdin) if d and d["kind"] == "DaemonSet")
    container = daemonset["spec"]["template"]["spec"]["containers"][0]
    lines = []
    if what == "args":
        lines = container["args"]
    elif what == "podman":
        security = container.get("securityContext", {})
        capabilities = security.get("capabilities", {})
        lines += [f"--cap-drop={c}" for c in capabilities.get("drop", [])]
        lines += [f"--cap-add={c}" for c in capabilities.get("add", [])]
        if security.get("readOnlyRootFilesystem"):
            lines.append("--read-only")
        if security.get("allowPrivilegeEscalation") is False:
            lines.append("--security-opt=no-new-privileges")
        if "runAsUser" in security:
            lines.append(f"--user={security['runAsUser']}")
    elif what == "probes":
        for kind in ("liveness", "readiness"):
            probe = container[kind + "Probe"]["httpGet"]
            lines.append(f"{kind} {probe['path']} {probe['port']}")
    elif what == "resources":
        resources = container["resources"]
        lines.append(f"{mib(resources['requests']['memory'])} {mib(resources['limits']['memory'])} "
                     f"{millicores(resources['requests']['cpu'])}")
    else:
        sys.exit(f"daemonset_pod.py: unknown question '{what}' (args, podman, probes, resources)")
    print("\n".join(lines))


main()
