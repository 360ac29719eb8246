#!/usr/bin/env python3
"""The differential test's client: the same requests to kube-apiserver and to the lab API server,
the answers compared after normalising what legitimately differs (uids, times, versions, the
cluster IPs and node ports each allocates, Status messages). Every remaining difference fails the
test; the ones the lab server keeps on purpose are listed in docs/lab.md and masked here by name.

Usage: differential.py KUBE_URL CA CERT KEY LAB_URL
"""
import http.client
import json
import ssl
import sys
import time
import urllib.parse

KUBE_URL, CA, CERT, KEY, LAB_URL = sys.argv[1:6]


class Server:
    def __init__(self, url, tls):
        self.url = urllib.parse.urlparse(url)
        self.tls = tls

    def connect(self, timeout=10):
        if self.url.scheme == "https":
            context = ssl.create_default_context(cafile=CA)
            context.load_cert_chain(CERT, KEY)
            return http.client.HTTPSConnection(self.url.hostname, self.url.port, context=context, timeout=timeout)
        return http.client.HTTPConnection(self.url.hostname, self.url.port, timeout=timeout)

    def request(self, method, path, body=None, content_type="application/json"):
        conn = self.connect()
        headers = {"Accept": "application/json"}
        data = None
        if body is not None:
            data = json.dumps(body)
            headers["Content-Type"] = content_type
        conn.request(method, path, body=data, headers=headers)
        response = conn.getresponse()
        text = response.read().decode()
        conn.close()
        try:
            return response.status, json.loads(text)
        except ValueError:
            return response.status, text

    def watch(self, path, during, seconds=3.0):
        """Events of a watch opened on `path` while `during()` runs, for `seconds` in all."""
        conn = self.connect(timeout=seconds)
        conn.request("GET", path, headers={"Accept": "application/json"})
        response = conn.getresponse()
        if response.status != 200:
            return [{"status": response.status, "body": json.loads(response.read().decode())}]
        time.sleep(0.3)
        during()
        events, buffer, end = [], b"", time.time() + seconds
        while time.time() < end:
            try:
                chunk = response.readline()  # the chunked framing undone
            except (TimeoutError, OSError, http.client.HTTPException):
                break
            if not chunk:
                break
            buffer += chunk
            if buffer.endswith(b"\n"):
                line = buffer.strip()
                buffer = b""
                if line:
                    events.append(json.loads(line))
        conn.close()
        return events


IGNORED_METADATA = ("uid", "creationTimestamp", "resourceVersion", "managedFields", "selfLink")


def normalise(value):
    """What may legitimately differ between two servers, replaced by placeholders."""
    if isinstance(value, (list, tuple)):
        return [normalise(v) for v in value]
    if not isinstance(value, dict):
        return value
    out = {}
    for key, v in value.items():
        if key == "metadata" and isinstance(v, dict):
            v = {k: x for k, x in v.items() if k not in IGNORED_METADATA}
            if "continue" in v:
                v["continue"] = "<token>"
            if not v:
                continue
        if key in ("clusterIP", "clusterIPs"):
            v = ["<ipv6>" if ":" in ip else "<ipv4>" for ip in v] if isinstance(v, list) else \
                ("<ipv6>" if ":" in v else "<ipv4>")
        if key == "nodePort":
            v = "<node-port>"
        out[key] = normalise(v)
    if out.get("kind") == "Status":
        # Messages word the same failure differently; what a client acts on is code and reason.
        out = {k: out.get(k) for k in ("kind", "status", "code", "reason")}
    return out


def bookmarks_only_resource_versions(events):
    return [normalise(e) for e in events if e.get("type") != "BOOKMARK"]


kube = Server(KUBE_URL, True)
lab = Server(LAB_URL, False)
failures = 0
checks = 0


def compare(name, run):
    """run(server) returns something JSON-like; both servers' answers must normalise alike."""
    global failures, checks
    checks += 1
    got_kube, got_lab = normalise(run(kube)), normalise(run(lab))
    if got_kube == got_lab:
        print(f"ok   - {name}")
        return
    failures += 1
    print(f"FAIL - {name}")
    print("       kube-apiserver: " + json.dumps(got_kube, sort_keys=True))
    print("       lab server:     " + json.dumps(got_lab, sort_keys=True))


NS = "/api/v1/namespaces/diff"
SVC = NS + "/services"


def service(name, spec, labels=None):
    return {"apiVersion": "v1", "kind": "Service",
            "metadata": {"name": name, "labels": labels or {"app": "diff"}}, "spec": spec}


for s in (kube, lab):
    s.request("POST", "/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "diff"}})

compare("create: a LoadBalancer Service with nothing but a port is defaulted alike",
        lambda s: s.request("POST", SVC, service("web", {"type": "LoadBalancer", "ports": [{"port": 80}]})))
compare("create: PreferDualStack with one family gets the other as well",
        lambda s: s.request("POST", SVC, service("dual", {"type": "LoadBalancer", "ipFamilyPolicy": "PreferDualStack",
                                                          "ipFamilies": ["IPv6"], "ports": [{"port": 80}]})))
compare("create: SingleStack with two families is invalid (422)",
        lambda s: s.request("POST", SVC, service("bad", {"ipFamilyPolicy": "SingleStack",
                                                         "ipFamilies": ["IPv4", "IPv6"], "ports": [{"port": 80}]})))
compare("create: a name taken is AlreadyExists (409)",
        lambda s: s.request("POST", SVC, service("web", {"ports": [{"port": 80}]})))
compare("create: an invalid name is Invalid (422)",
        lambda s: s.request("POST", SVC, service("Not_A_Name", {"ports": [{"port": 80}]})))


def node_ports(s):
    """A node port asked for: given; asked for again by another Service, or out of range: 422."""
    spec = lambda port: {"type": "NodePort", "ports": [{"port": 80, "nodePort": port}]}
    answers = [s.request("POST", SVC, service("np-a", spec(31234))),
               s.request("POST", SVC, service("np-b", spec(31234))),
               s.request("POST", SVC, service("np-c", spec(29999)))]
    s.request("DELETE", SVC + "/np-a")
    return answers


compare("create: a node port taken or out of range is Invalid (422)", node_ports)
compare("get", lambda s: s.request("GET", SVC + "/web"))
compare("get: a missing object is NotFound (404)", lambda s: s.request("GET", SVC + "/nosuch"))


def stale_update(s):
    _, current = s.request("GET", SVC + "/web")
    current["metadata"]["labels"]["changed"] = "yes"
    first = s.request("PUT", SVC + "/web", current)
    return first, s.request("PUT", SVC + "/web", current)  # the same resourceVersion again: 409


compare("update, then the same stale update: Conflict (409)", stale_update)
compare("JSON merge patch", lambda s: s.request("PATCH", SVC + "/web", {"metadata": {"labels": {"tier": "front"}}},
                                                "application/merge-patch+json"))
compare("JSON patch (RFC 6902)", lambda s: s.request(
    "PATCH", SVC + "/web", [{"op": "add", "path": "/metadata/annotations", "value": {"a": "b"}}],
    "application/json-patch+json"))
compare("strategic merge patch merges ports by port", lambda s: s.request(
    "PATCH", SVC + "/web", {"spec": {"ports": [{"port": 443, "name": "https"}, {"port": 80, "name": "http"}]}},
    "application/strategic-merge-patch+json"))
compare("status merge patch: ingress gets ipMode VIP", lambda s: s.request(
    "PATCH", SVC + "/web/status", {"status": {"loadBalancer": {"ingress": [{"ip": "198.18.0.128"}]}}},
    "application/merge-patch+json"))
compare("a write to the main resource keeps the status", lambda s: s.request(
    "PATCH", SVC + "/web", {"status": {"loadBalancer": {}}, "metadata": {"labels": {"x": "y"}}},
    "application/merge-patch+json"))
compare("list with a label selector", lambda s: s.request("GET", SVC + "?labelSelector=tier%3Dfront"))
compare("list with a field selector", lambda s: s.request("GET", SVC + "?fieldSelector=metadata.name%3Ddual"))
compare("list with a set-based selector", lambda s: s.request("GET", SVC + "?labelSelector=tier%20notin%20(back),app"))


def paged(s):
    first = s.request("GET", SVC + "?limit=1")
    token = first[1]["metadata"].get("continue", "")
    return first, s.request("GET", SVC + "?limit=1&continue=" + urllib.parse.quote(token))


compare("paging: limit and continue", paged)
compare("a bad continue token is BadRequest (400)", lambda s: s.request("GET", SVC + "?limit=1&continue=garbage"))


def selector_watch(s):
    """A watch with a label selector: an object that stops matching is DELETED for it."""
    _, listed = s.request("GET", SVC + "?labelSelector=tier%3Dfront")
    rv = listed["metadata"]["resourceVersion"]

    def changes():
        s.request("PATCH", SVC + "/dual", {"metadata": {"labels": {"tier": "front"}}}, "application/merge-patch+json")
        s.request("PATCH", SVC + "/web", {"metadata": {"labels": {"tier": "back"}}}, "application/merge-patch+json")
        s.request("DELETE", SVC + "/dual")

    return bookmarks_only_resource_versions(
        s.watch(SVC + f"?watch=1&labelSelector=tier%3Dfront&resourceVersion={rv}", changes))


compare("watch from a resourceVersion with a label selector: ADDED, DELETED on leaving it, DELETED", selector_watch)
compare("delete answers with the object", lambda s: s.request("DELETE", SVC + "/web"))


def consistent_pages(s):
    # A paged list is one snapshot: what changes after its first page does not show in the next.
    # (A label selector keeps kube-controller-manager's kube-root-ca.crt out of the list.)
    for i in range(12):
        s.request("POST", NS + "/configmaps", {"apiVersion": "v1", "kind": "ConfigMap",
                                                "metadata": {"name": f"c{i}", "labels": {"paged": "yes"}}})
    first = s.request("GET", NS + "/configmaps?limit=5&labelSelector=paged")
    token = first[1]["metadata"]["continue"]
    for i in range(12):
        s.request("PATCH", NS + f"/configmaps/c{i}", {"data": {"n": str(i)}}, "application/merge-patch+json")
    s.request("DELETE", NS + "/configmaps/c9")
    return first, s.request("GET", NS + "/configmaps?limit=5&labelSelector=paged&continue=" + urllib.parse.quote(token))


compare("paging is consistent: the second page is as the list was at the first", consistent_pages)

POLICY_CRD = {
    "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
    "metadata": {"name": "widgets.diff.example.com"},
    "spec": {"group": "diff.example.com", "scope": "Cluster",
             "names": {"kind": "Widget", "plural": "widgets", "singular": "widget", "listKind": "WidgetList"},
             "versions": [{"name": "v1", "served": True, "storage": True, "subresources": {"status": {}},
                           "schema": {"openAPIV3Schema": {"type": "object", "properties": {
                               "spec": {"type": "object", "properties": {"size": {"type": "integer"}}},
                               "status": {"type": "object", "properties": {"ready": {"type": "boolean"}}}}}}}]}}
BAD_CRD = json.loads(json.dumps(POLICY_CRD))
BAD_CRD["metadata"]["name"] = "gadgets.diff.example.com"
BAD_CRD["spec"]["names"] = {"kind": "Gadget", "plural": "gadgets", "singular": "gadget", "listKind": "GadgetList"}
BAD_CRD["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]["additionalProperties"] = False
CRDS = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions"
compare("a CRD whose schema is not structural is Invalid (422)", lambda s: s.request("POST", CRDS, BAD_CRD))


def custom_objects(s):
    s.request("POST", CRDS, POLICY_CRD)
    for _ in range(100):  # until Established
        status, _ = s.request("GET", "/apis/diff.example.com/v1/widgets")
        if status == 200:
            break
        time.sleep(0.1)
    widget = {"apiVersion": "diff.example.com/v1", "kind": "Widget", "metadata": {"name": "w"},
              "spec": {"size": 3, "colour": "blue"}}
    strict = s.request("POST", "/apis/diff.example.com/v1/widgets?fieldValidation=Strict", widget)
    pruned = s.request("POST", "/apis/diff.example.com/v1/widgets", widget)
    status = s.request("PATCH", "/apis/diff.example.com/v1/widgets/w/status",
                       {"status": {"ready": True, "extra": 1}}, "application/merge-patch+json")
    return strict, pruned, status


compare("a custom object: unknown fields refused under fieldValidation=Strict, else pruned (spec and status)",
        custom_objects)

print(f"# {checks} comparisons, {failures} differ")
sys.exit(1 if failures else 0)
