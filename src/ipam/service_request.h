// ServiceRequest: what LB-IPAM needs from a Service object — whether it is ours (type and
// class), requested addresses, sharing key and cross-namespace list, ports, traffic policy,
// families, and the addresses its status already holds. Pure parse; a plain value.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "ipam/address.h"
#include "k8s/label_selector.h"
#include "k8s/load_balancer_class.h"
#include "k8s/projection.h"

namespace l2a::ipam {

using k8s::kClassCilium;
using k8s::kClassOwn;
inline constexpr const char* kAnnotationIps = "l2announcer.io/ips";
inline constexpr const char* kAnnotationIpsCilium = "lbipam.cilium.io/ips";
inline constexpr const char* kAnnotationSharingKey = "l2announcer.io/sharing-key";
inline constexpr const char* kAnnotationSharingKeyCilium = "lbipam.cilium.io/sharing-key";
inline constexpr const char* kAnnotationSharingCrossNamespace = "l2announcer.io/sharing-cross-namespace";
inline constexpr const char* kAnnotationSharingCrossNamespaceCilium = "lbipam.cilium.io/sharing-cross-namespace";
// MetalLB's and kube-vip's, read unchanged (MetalLB's older metallb.universe.tf/ names too).
inline constexpr const char* kAnnotationIpsMetallb = "metallb.io/loadBalancerIPs";
inline constexpr const char* kAnnotationIpsMetallbOld = "metallb.universe.tf/loadBalancerIPs";
inline constexpr const char* kAnnotationIpsKubeVip = "kube-vip.io/loadbalancerIPs";
inline constexpr const char* kAnnotationSharingMetallb = "metallb.io/allow-shared-ip";
inline constexpr const char* kAnnotationSharingMetallbOld = "metallb.universe.tf/allow-shared-ip";
inline constexpr const char* kAnnotationPoolMetallb = "metallb.io/address-pool";
inline constexpr const char* kAnnotationPoolMetallbOld = "metallb.universe.tf/address-pool";

// What the operator reads of a Service (parseService, its status writes and Events): the rest of
// the object is not cached (k8s/projection.h).
const std::vector<k8s::Path>& operatorServiceFields();

struct ServicePort {
  int port = 0;
  std::string protocol = "TCP";
  bool operator==(const ServicePort&) const = default;
};

struct ServiceRequest {
  std::string key;  // namespace/name
  std::string ns;
  std::string name;
  k8s::Labels labels;  // with io.kubernetes.service.name / .namespace added
  k8s::Labels namespaceLabels;  // its Namespace's labels, set by the caller (MetalLB's namespaceSelectors)
  bool qualifies = false;  // type LoadBalancer with a handled class
  std::vector<Address> requested;
  std::string requestError;  // a malformed address annotation / loadBalancerIP
  bool wantV4 = false;
  bool wantV6 = false;
  bool requireDualStack = false;
  std::string sharingKey;
  std::string poolName;  // metallb.io/address-pool: only the pool of this name (any API group)
  std::vector<std::string> sharingNamespaces;  // "*" for any
  std::vector<ServicePort> ports;
  std::string externalTrafficPolicy = "Cluster";
  nlohmann::json selector;
  std::vector<Address> ingress;  // status.loadBalancer.ingress[].ip now
};

// `classes`: which loadBalancerClass values are ours (qualifies is false for the others).
ServiceRequest parseService(const nlohmann::json& service, const k8s::LoadBalancerClasses& classes = {});

}  // namespace l2a::ipam
