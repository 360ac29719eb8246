// Reference frames for tests. The kernel ones were captured with tcpdump in a lab namespace
// (arping and ndisc6 asking a Linux 6.1 host for its own address); the others were computed
// with an independent Python implementation of the ICMPv6 checksum.
// Client MAC 02:00:00:00:01:00 (198.18.0.100, fe80::ff:fe00:100); node MAC 02:00:00:00:00:11.
#pragma once

namespace l2a::testing {

// arping: who-has 198.18.0.11 tell 198.18.0.100, padded to 60 bytes.
inline constexpr const char* kKernelArpRequest =
    "ffffffffffff 020000000100 0806 0001 0800 06 04 0001 020000000100 c6120064"
    "000000000000 c612000b 000000000000000000000000000000000000";
// Linux's answer to it.
inline constexpr const char* kKernelArpReply =
    "020000000100 020000000011 0806 0001 0800 06 04 0002 020000000011 c612000b"
    "020000000100 c6120064";
// ndisc6: NS for 2001:db8::11 from fe80::ff:fe00:100 with a source link-layer option.
inline constexpr const char* kKernelNeighborSolicitation =
    "3333ff000011 020000000100 86dd 60033071 0020 3a ff fe800000000000000000 00fffe000100"
    "ff020000000000000000 0001ff000011 87 00 4a43 00000000 20010db8000000000000000000000011"
    "0101 020000000100";
// Linux's solicited NA answering it (S and O set).
inline constexpr const char* kKernelNeighborAdvertisement =
    "020000000100 020000000011 86dd 60000000 0020 3a ff 20010db8000000000000000000000011"
    "fe800000000000000000 00fffe000100 88 00 b97d 60000000 20010db8000000000000000000000011"
    "0201 020000000011";
// Unsolicited NA for 2001:db8::200 from 02:00:00:00:00:11 (O set) to ff02::1.
inline constexpr const char* kUnsolicitedAdvertisement =
    "333300000001 020000000011 86dd 60000000 0020 3a ff 20010db8000000000000000000000200"
    "ff020000000000000000000000000001 88 00 f51c 20000000 20010db8000000000000000000000200"
    "0201 020000000011";
// NS for 2001:db8::200 from fe80::ff:fe00:100 with a source link-layer option.
inline constexpr const char* kNeighborSolicitationFor200 =
    "3333ff000200 020000000100 86dd 60000000 0020 3a ff fe80000000000000000000fffe000100"
    "ff0200000000000000000001ff000200 87 00 4665 00000000 20010db8000000000000000000000200"
    "0101 020000000100";
// DAD-style NS for 2001:db8::200 from :: (no option).
inline constexpr const char* kDadNeighborSolicitationFor200 =
    "3333ff000200 020000000100 86dd 60000000 0018 3a ff 00000000000000000000000000000000"
    "ff0200000000000000000001ff000200 87 00 48ef 00000000 20010db8000000000000000000000200";

}  // namespace l2a::testing
