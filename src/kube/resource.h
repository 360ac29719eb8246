// Resource: where a Kubernetes kind lives in the REST API (group, version, plural, scope), and
// the paths of its collection, objects and subresources. Plain value; the well-known ones are
// constants.
#pragma once

#include <string>

namespace l2a::kube {

struct Resource {
  std::string group;  // "" for the core group
  std::string version;
  std::string plural;
  bool namespaced = true;
  std::string kind;

  std::string apiVersion() const { return group.empty() ? version : group + "/" + version; }
  // /api/v1/namespaces/NS/services[/NAME[/SUB]]; NS ignored for cluster-scoped resources and
  // omitted when empty (all namespaces).
  std::string path(const std::string& ns = "", const std::string& name = "",
                   const std::string& subresource = "") const {
    std::string p = group.empty() ? "/api/" + version : "/apis/" + group + "/" + version;
    if (namespaced && !ns.empty()) p += "/namespaces/" + ns;
    p += "/" + plural;
    if (!name.empty()) p += "/" + name;
    if (!subresource.empty()) p += "/" + subresource;
    return p;
  }
  // group/plural, as counters and logs name it ("services", "coordination.k8s.io/leases").
  std::string displayName() const { return group.empty() ? plural : group + "/" + plural; }
};

namespace resources {
inline const Resource kNamespaces{"", "v1", "namespaces", false, "Namespace"};
inline const Resource kNodes{"", "v1", "nodes", false, "Node"};
inline const Resource kServices{"", "v1", "services", true, "Service"};
inline const Resource kEndpoints{"", "v1", "endpoints", true, "Endpoints"};
inline const Resource kEvents{"", "v1", "events", true, "Event"};
inline const Resource kEndpointSlices{"discovery.k8s.io", "v1", "endpointslices", true,
                                      "EndpointSlice"};
inline const Resource kLeases{"coordination.k8s.io", "v1", "leases", true, "Lease"};
inline const Resource kCustomResourceDefinitions{"apiextensions.k8s.io", "v1",
                                                 "customresourcedefinitions", false,
                                                 "CustomResourceDefinition"};
// MetalLB's, read unchanged when their CRDs are installed (optional kinds).
inline const Resource kMetallbAddressPools{"metallb.io", "v1beta1", "ipaddresspools", true, "IPAddressPool"};
inline const Resource kMetallbL2Advertisements{"metallb.io", "v1beta1", "l2advertisements", true,
                                               "L2Advertisement"};
}  // namespace resources

}  // namespace l2a::kube
