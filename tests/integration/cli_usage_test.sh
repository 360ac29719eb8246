#!/usr/bin/env bash
# The command-line contract: bad arguments give one line on stderr and exit 64, never a crash.
set -u
L2A=${L2A:-build/l2a}
source "$(dirname "$0")/../support/netns_lab.sh"

one_line_error() {  # one_line_error CMD...: exit 64, exactly one stderr line starting "l2a: error:"
  local err rc=0
  err=$("$@" 2>&1 >/dev/null) || rc=$?
  [[ $rc == 64 && $(printf '%s\n' "$err" | wc -l) == 1 && $err == "l2a: error:"* ]] || {
    echo "exit $rc, stderr: $err"
    return 1
  }
}

check "no subcommand" one_line_error "$L2A"
check "unknown subcommand" one_line_error "$L2A" frobnicate
check "announce: invalid IP" one_line_error "$L2A" announce -i eth0 198.18.0.300
check "announce: IP with a prefix" one_line_error "$L2A" announce -i eth0 198.18.0.1/32
check "announce: bad regex" one_line_error "$L2A" announce -i 'eth[' 198.18.0.1
check "announce: no interface" one_line_error "$L2A" announce 198.18.0.1
check "agent: a lease that is not whole seconds (1500 ms would act as 2 s)" one_line_error "$L2A" agent --node-name n --lease-duration-ms 1500
check "operator: the same" one_line_error "$L2A" operator --lease-duration-ms 2500
check "announce: no address" one_line_error "$L2A" announce -i eth0
check "announce: bad --announce-count" one_line_error "$L2A" announce -i eth0 --announce-count x 198.18.0.1
check "agent: negative --announce-refresh-ms" one_line_error "$L2A" agent --node-name n1 --announce-refresh-ms -5
check "whohas: invalid IP" one_line_error "$L2A" whohas not-an-ip
check "whohas: unknown interface" one_line_error "$L2A" whohas --interface nosuch0 198.18.0.1
check "whohas: bad --output" one_line_error "$L2A" whohas --output xml 198.18.0.1
check "whohas: bad --timeout" one_line_error "$L2A" whohas --timeout -5 198.18.0.1
check "version prints the version" lab_output_has "^l2a [0-9]+\.[0-9]+\.[0-9]+$" "$L2A" version
check_status "--help exits 0" 0 "$L2A" --help
check "works as a kubectl plugin (kubectl l2 version)" lab_output_has "^l2a [0-9]" \
  env PATH="$(dirname "$L2A"):$PATH" kubectl l2 version
check "explain without a target is a usage error" one_line_error "$L2A" explain
check "agent without a node name is a usage error" one_line_error env -u NODE_NAME "$L2A" agent --kubeconfig /dev/null
check "operator with a bad lease timing is a usage error" one_line_error "$L2A" operator --lease-duration-ms 2000 --renew-deadline-ms 3000
check "--help lists the subcommands" lab_output_has "whohas" "$L2A" --help
json_logs() {
  "$L2A" --log-format json announce -i '^nomatch$' 198.18.0.1 2>"/tmp/l2a-jsonlog.$$" &
  local pid=$!
  sleep 0.3
  kill -TERM $pid
  wait $pid
  python3 -c 'import json,sys; rows=[json.loads(l) for l in open(sys.argv[1])]; assert any(r.get("event")=="claimed" and r.get("address")=="198.18.0.1" for r in rows), rows' "/tmp/l2a-jsonlog.$$"
  local rc=$?
  rm -f "/tmp/l2a-jsonlog.$$"
  return $rc
}
check "--log-format json: one JSON object per line, key=value pairs as fields" json_logs
check "bad --log-format is a usage error" one_line_error "$L2A" --log-format xml version
# Every library l2a loads is one it uses: the API server is reached through cpp-httplib and
# OpenSSL, not libcurl (whose Debian build brings LDAP, Kerberos, SSH, RTMP and GnuTLS along:
# 3.5 MiB more resident in every agent, docs/benchmarks.md).
no_unused_libraries() {
  local loaded
  loaded=$(LD_DEBUG=libs "$L2A" version 2>&1 >/dev/null | grep -oE "calling init: [^ ]+" | sed 's/calling init: //')
  echo "$loaded" | grep -q libcpp-httplib && ! echo "$loaded" | grep -E "libcurl|libgnutls|libldap|libkrb5|librtmp|libssh2"
}
check "l2a loads no library it does not use (no libcurl, GnuTLS, LDAP, Kerberos)" no_unused_libraries
lab_finish
