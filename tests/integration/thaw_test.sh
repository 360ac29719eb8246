#!/usr/bin/env bash
# A node stalled past its Lease, then thawed (SIGSTOP for 6 s, SIGCONT), while the others still
# write the records of their take-over: every address must end up announced by exactly one node
# again. Three nodes, 300 single-stack Services and the probe's two addresses: about 100 per node,
# more than a heartbeat lists (64), so who holds what beyond that is in the L2Announcement
# records, written at --record-qps 5 here so that they lag as thousands do at 20 a second.
# Before 0c675f6 this lost addresses: the survivors wrote records from the plans their passes
# started with (naming themselves for what they had handed back), the thawed node believed
# them, handed those addresses over and released them — announced by nobody; and pairs of
# nodes each announced an address the other was not seen holding, over each other, for good.
set -u
cd "$(dirname "$0")/../.."
source tests/support/netns_lab.sh
source tests/support/failover_lab.sh
lab_require_root
lab_init thaw
SERVICES=300
FO_AGENT_ARGS=(--record-qps 5)
fo_setup 3 || { echo "FAIL - the fail-over lab did not come up"; exit 1; }
lab_kubectl apply -f - >/dev/null <<'YAML'
apiVersion: l2announcer.io/v1alpha1
kind: LoadBalancerIPPool
metadata: {name: many-pool}
spec:
  blocks: [{cidr: 198.19.0.0/23}]
  serviceSelector: {matchLabels: {tier: many}}
YAML
for ((i = 0; i < SERVICES; i++)); do
  printf -- '---\napiVersion: v1\nkind: Service\nmetadata: {name: s%d, namespace: default, labels: {tier: many}}\n' "$i"
  printf 'spec: {type: LoadBalancer, ipFamilyPolicy: SingleStack, ipFamilies: [IPv4], ports: [{port: 80, protocol: TCP}]}\n'
done | lab_kubectl apply -f - >/dev/null
TOTAL=$((SERVICES + 2))  # and the probe Service's two addresses
allocated() { [[ $(lab_kubectl get svc -n default -l tier=many -o jsonpath='{range .items[*]}{.status.loadBalancer.ingress[0].ip}{"\n"}{end}' | grep -c .) -eq $SERVICES ]]; }
check "the operator gives each of $SERVICES Services an address" lab_wait_for 90 allocated
fo_start_agents || { echo "FAIL - the agents did not become ready"; exit 1; }

announced() {  # the sum of every agent's l2a_announced_addresses
  local n sum=0
  for n in "${FO_NODES[@]}"; do sum=$((sum + $(fo_metric "$n" '^l2a_announced_addresses'))); done
  echo "$sum"
}
# Every address announced once, three polls a second apart.
once() {
  local k
  for k in 1 2 3; do [[ $(announced) -eq $TOTAL ]] || return 1; sleep 1; done
}
check "every one of the $TOTAL addresses is announced once" lab_wait_for 120 once
records() { lab_kubectl get l2announcements -A --no-headers 2>/dev/null | wc -l; }
all_recorded() { [[ $(records) -eq $TOTAL ]]; }
check "  ...and recorded (an L2Announcement each)" lab_wait_for 180 all_recorded
STALLED=${FO_NODES[0]}
HELD=$(fo_metric "$STALLED" '^l2a_announced_addresses')
echo "     $STALLED announces $HELD addresses; stalled for 6 s"

fo_stop_agent "$STALLED" STOP
sleep 6
fo_stop_agent "$STALLED" CONT
SUMS=()
settled() {
  local sum
  sum=$(announced)
  SUMS+=("$sum")
  [[ $sum -eq $TOTAL ]]
}
# Still every address once, 20 polls in a row a second apart: a loss shows as a sum that falls
# away from TOTAL while the records are written, two nodes on one address as one above it.
steady() {
  local k
  for k in $(seq 20); do settled || return 1; sleep 1; done
}
check "thawed, every address is announced once again within 60 s" lab_wait_for 60 settled
check "  ...and stays so for 20 s while the records are written" steady
echo "     sums after the thaw (every poll): ${SUMS[*]}"
owners_ok() {  # a sample of the addresses on the wire: one MAC answers each
  local ip bad=0
  for ip in $(lab_kubectl get svc -n default -l tier=many -o jsonpath='{range .items[*]}{.status.loadBalancer.ingress[0].ip}{"\n"}{end}' | shuf -n 15 --random-source=<(yes)); do
    fo_owner "$ip" >/dev/null || { echo "$ip: not exactly one node answers"; bad=1; }
  done
  return "$bad"
}
check "  ...one node answers ARP for each of 15 addresses, from the client" owners_ok
lab_finish
