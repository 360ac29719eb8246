// LoadBalancerClasses: which Services of type LoadBalancer l2announcer serves, by their
// spec.loadBalancerClass. By default those without a class and those naming
// l2announcer.io/l2 or Cilium's io.cilium/l2-announcer; with `ownClassOnly`, only
// l2announcer.io/l2 — to run beside another implementation that takes class-less Services
// (Cilium's LB-IPAM, MetalLB, kube-vip, k3s ServiceLB). Plain value.
#pragma once

#include <string>

namespace l2a::k8s {

inline constexpr const char* kClassOwn = "l2announcer.io/l2";
inline constexpr const char* kClassCilium = "io.cilium/l2-announcer";

struct LoadBalancerClasses {
  bool ownClassOnly = false;
  // `loadBalancerClass`: spec.loadBalancerClass, "" when unset.
  bool serves(const std::string& loadBalancerClass) const {
    if (ownClassOnly) return loadBalancerClass == kClassOwn;
    return loadBalancerClass.empty() || loadBalancerClass == kClassOwn || loadBalancerClass == kClassCilium;
  }
};

}  // namespace l2a::k8s
