#include "kube/client_config.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

namespace l2a::kube {
namespace {

const char* kKubeconfig = R"(
apiVersion: v1
kind: Config
current-context: lab
clusters:
- name: lab
  cluster:
    server: https://198.18.0.1:6443/
    certificate-authority-data: LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCmNhCg==
- name: other
  cluster:
    server: http://127.0.0.1:8080
    insecure-skip-tls-verify: true
contexts:
- name: lab
  context: {cluster: lab, user: admin, namespace: kube-system}
- name: other
  context: {cluster: other, user: tokenfile}
users:
- name: admin
  user:
    client-certificate-data: Y2VydA==
    client-key-data: a2V5
    token: abc
- name: tokenfile
  user:
    tokenFile: token.txt
)";

TEST(Kubeconfig, CurrentContextWithInlineData) {
  auto config = parseKubeconfig(kKubeconfig, "/etc/k");
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->server, "https://198.18.0.1:6443");
  EXPECT_EQ(config->certificateAuthority, "-----BEGIN CERTIFICATE-----\nca\n");
  EXPECT_EQ(config->clientCertificate, "cert");
  EXPECT_EQ(config->clientKey, "key");
  EXPECT_EQ(config->bearerToken, "abc");
  EXPECT_EQ(config->namespace_, "kube-system");
  EXPECT_FALSE(config->insecureSkipTlsVerify);
}

TEST(Kubeconfig, NamedContextAndRelativeTokenFile) {
  auto config = parseKubeconfig(kKubeconfig, "/etc/k", "other");
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->server, "http://127.0.0.1:8080");
  EXPECT_TRUE(config->insecureSkipTlsVerify);
  EXPECT_EQ(config->tokenFile, "/etc/k/token.txt");
}

TEST(Kubeconfig, ErrorsNameWhatIsWrong) {
  EXPECT_NE(parseKubeconfig(kKubeconfig, "/", "nope").error().message.find("'nope'"), std::string::npos);
  EXPECT_FALSE(parseKubeconfig("::: not yaml [", "/").ok());
  EXPECT_FALSE(parseKubeconfig("apiVersion: v1\nkind: Config\n", "/").ok());
  std::string badData = kKubeconfig;
  badData.replace(badData.find("Y2VydA=="), 8, "Y2Vy!!!");
  EXPECT_FALSE(parseKubeconfig(badData, "/").ok());
}

TEST(Kubeconfig, FilePathsAreReadRelativeToTheKubeconfig) {
  auto dir = std::filesystem::temp_directory_path() / ("l2a-kc-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "ca.pem") << "CA-PEM";
  std::ofstream(dir / "config") << "current-context: c\nclusters:\n- name: x\n  cluster:\n"
                                   "    server: https://h\n    certificate-authority: ca.pem\n"
                                   "contexts:\n- name: c\n  context: {cluster: x}\n";
  auto config = loadKubeconfig((dir / "config").string());
  std::filesystem::remove_all(dir);
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->certificateAuthority, "CA-PEM");
}

TEST(InCluster, ServiceHostPortAndAccountFiles) {
  auto dir = std::filesystem::temp_directory_path() / ("l2a-sa-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "ca.crt") << "CA";
  std::ofstream(dir / "namespace") << "l2a-system";
  auto config = loadInCluster({{"KUBERNETES_SERVICE_HOST", "2001:db8::1"}, {"KUBERNETES_SERVICE_PORT", "443"}},
                              dir.string());
  std::filesystem::remove_all(dir);
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->server, "https://[2001:db8::1]:443");
  EXPECT_EQ(config->tokenFile, (dir / "token").string());
  EXPECT_EQ(config->namespace_, "l2a-system");
  EXPECT_FALSE(loadInCluster({}).ok());
}

TEST(ResolveClientConfig, FlagThenEnvironmentThenInCluster) {
  auto missing = resolveClientConfig("/nonexistent/flag", "", {{"KUBECONFIG", "/nonexistent/env"}});
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message.find("/nonexistent/flag"), std::string::npos);
  auto env = resolveClientConfig("", "", {{"KUBECONFIG", "/nonexistent/env:/other"}});
  EXPECT_NE(env.error().message.find("/nonexistent/env"), std::string::npos);
  auto cluster = resolveClientConfig("", "", {});
  EXPECT_NE(cluster.error().message.find("KUBERNETES_SERVICE_HOST"), std::string::npos);
}

}  // namespace
}  // namespace l2a::kube
