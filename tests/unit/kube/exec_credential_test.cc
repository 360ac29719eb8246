#include "kube/exec_credential.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "kube/client_config.h"

namespace l2a::kube {
namespace {

using namespace std::chrono;
using Json = nlohmann::json;

constexpr const char* kV1 = "client.authentication.k8s.io/v1";

std::string credential(const Json& status, const std::string& apiVersion = kV1) {
  return Json{{"apiVersion", apiVersion}, {"kind", "ExecCredential"}, {"status", status}}.dump();
}

TEST(ExecCredential, Rfc3339AsPluginsPrintIt) {
  auto base = system_clock::from_time_t(1520299820);  // 2018-03-06T01:30:20Z
  EXPECT_EQ(parseRfc3339("2018-03-06T01:30:20Z"), base);
  EXPECT_EQ(parseRfc3339("2018-03-05T17:30:20-08:00"), base);  // client-go's own example
  EXPECT_EQ(parseRfc3339("2018-03-06T03:00:20+01:30"), base);
  EXPECT_EQ(parseRfc3339("2018-03-06T01:30:20.25Z"), base + milliseconds(250));
  for (const char* bad : {"", "2018-03-06", "2018-03-06T01:30:20", "2018-13-06T01:30:20Z", "2018-03-06T01:30:20.Z",
                          "2018-03-06T01:30:20+0100", "2018-03-06T01:30:20Zjunk", "tomorrow"}) {
    EXPECT_FALSE(parseRfc3339(bad).has_value()) << bad;
  }
}

TEST(ExecCredential, TokenOrCertificateWithExpiry) {
  auto token = parseExecCredential(credential({{"token", "abc"}, {"expirationTimestamp", "2018-03-06T01:30:20Z"}}), kV1);
  ASSERT_TRUE(token.ok()) << token.error().message;
  EXPECT_EQ(token->token, "abc");
  EXPECT_EQ(token->expires, system_clock::from_time_t(1520299820));
  auto cert = parseExecCredential(credential({{"clientCertificateData", "CERT"}, {"clientKeyData", "KEY"}},
                                             "client.authentication.k8s.io/v1beta1"),
                                  "client.authentication.k8s.io/v1beta1");
  ASSERT_TRUE(cert.ok()) << cert.error().message;
  EXPECT_EQ(cert->clientCertificate, "CERT");
  EXPECT_EQ(cert->clientKey, "KEY");
  EXPECT_FALSE(cert->expires.has_value());
}

// Whatever a plugin prints is an error with a reason, never an exception.
TEST(ExecCredential, MalformedOutputIsAnErrorNamingWhy) {
  std::vector<std::pair<std::string, std::string>> cases{
      {"not json", "not a JSON object"},
      {"[]", "not a JSON object"},
      {R"({"apiVersion":"client.authentication.k8s.io/v1","kind":"Pod","status":{"token":"a"}})", "not an ExecCredential"},
      {credential({{"token", "a"}}, "client.authentication.k8s.io/v1beta1"), "configured for client.authentication.k8s.io/v1 but returned client.authentication.k8s.io/v1beta1"},
      {R"({"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential"})", "has no status"},
      {credential(Json::array()), "has no status"},
      {credential({{"token", 5}}), "status.token is not a string"},
      {credential(Json::object()), "neither a token nor a client certificate"},
      {credential({{"clientCertificateData", "CERT"}}), "without its key"},
      {credential({{"token", "a"}, {"expirationTimestamp", "soon"}}), "is not RFC 3339"},
      {credential({{"token", "a"}, {"expirationTimestamp", 12}}), "is not RFC 3339"},
  };
  for (const auto& [output, why] : cases) {
    Result<ExecCredential> r = fail("unset", "");
    ASSERT_NO_THROW(r = parseExecCredential(output, kV1)) << output;
    ASSERT_FALSE(r.ok()) << output;
    EXPECT_EQ(r.error().code, "credentials");
    EXPECT_NE(r.error().message.find(why), std::string::npos) << r.error().message;
  }
}

struct FakePlugin {
  std::vector<std::string> infos;
  std::vector<Result<std::string>> outputs;
  ExecCredentialSource::Runner runner() {
    return [this](const ExecConfig&, const std::string& info) -> Result<std::string> {
      infos.push_back(info);
      auto next = outputs.front();
      if (outputs.size() > 1) outputs.erase(outputs.begin());
      return next;
    };
  }
};

TEST(ExecCredentialSource, CachedUntilItExpiresOrIsRefused) {
  auto now = system_clock::from_time_t(1520299820);
  FakePlugin plugin;
  plugin.outputs = {credential({{"token", "first"}, {"expirationTimestamp", "2018-03-06T01:31:20Z"}}),
                    credential({{"token", "second"}}), credential({{"token", "third"}})};
  ExecCredentialSource source(ExecConfig{.command = "p", .apiVersion = kV1, .interactiveMode = "Never"}, "https://api", "",
                              plugin.runner(), [&] { return now; });
  EXPECT_EQ(source.get()->token, "first");
  now += seconds(59);
  EXPECT_EQ(source.get()->token, "first");
  EXPECT_EQ(source.runs(), 1u);
  now += seconds(1);  // expired
  EXPECT_EQ(source.get()->token, "second");
  now += hours(100);  // no expiry: kept
  EXPECT_EQ(source.get()->token, "second");
  EXPECT_EQ(source.runs(), 2u);
  source.invalidate();  // the API server said 401
  EXPECT_EQ(source.get()->token, "third");
  EXPECT_EQ(source.runs(), 3u);
  Json info = Json::parse(plugin.infos[0]);
  EXPECT_EQ(info["apiVersion"], kV1);
  EXPECT_EQ(info["kind"], "ExecCredential");
  EXPECT_EQ(info["spec"]["interactive"], false);
  EXPECT_FALSE(info["spec"].contains("cluster"));
}

TEST(ExecCredentialSource, FailuresAreNotCachedAndClusterInfoIsGivenWhenAsked) {
  FakePlugin plugin;
  plugin.outputs = {fail("credentials", "exec plugin 'p' failed (exit 1): login required"), credential({{"token", "t"}})};
  ExecCredentialSource source(ExecConfig{.command = "p", .apiVersion = kV1, .interactiveMode = "Never", .provideClusterInfo = true},
                              "https://api:6443", "PEM", plugin.runner());
  auto first = source.get();
  ASSERT_FALSE(first.ok());
  EXPECT_NE(first.error().message.find("login required"), std::string::npos);
  EXPECT_EQ(source.get()->token, "t");
  Json info = Json::parse(plugin.infos[1]);
  EXPECT_EQ(info["spec"]["cluster"]["server"], "https://api:6443");
  EXPECT_EQ(info["spec"]["cluster"]["certificate-authority-data"], "UEVN");  // base64 of PEM
}

// The real thing: a shell script as the plugin.
class ExecPluginProcess : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("l2a-exec-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string script(const std::string& name, const std::string& body) {
    auto path = dir_ / name;
    std::ofstream(path) << "#!/bin/sh\n" << body;
    std::filesystem::permissions(path, std::filesystem::perms::owner_all);
    return path.string();
  }
  std::filesystem::path dir_;
};

TEST_F(ExecPluginProcess, EnvironmentArgumentsAndOutput) {
  ExecConfig c{.command = script("ok", "printf '%s|%s|%s' \"$KUBERNETES_EXEC_INFO\" \"$REGION\" \"$1\"\n"),
               .args = {"--flag"}, .env = {{"REGION", "eu"}}, .apiVersion = kV1, .interactiveMode = "Never"};
  auto out = runExecPlugin(c, R"({"x":1})");
  ASSERT_TRUE(out.ok()) << out.error().message;
  EXPECT_EQ(*out, R"({"x":1}|eu|--flag)");
}

TEST_F(ExecPluginProcess, FailureShowsTheLastLinesOfItsStderr) {
  ExecConfig c{.command = script("bad", "echo one >&2\necho two >&2\necho 'run kubelogin' >&2\necho four >&2\nexit 3\n"),
               .apiVersion = kV1};
  auto out = runExecPlugin(c, "{}");
  ASSERT_FALSE(out.ok());
  EXPECT_NE(out.error().message.find("failed (exit 3): two; run kubelogin; four"), std::string::npos) << out.error().message;
  EXPECT_EQ(out.error().message.find('\n'), std::string::npos);
}

TEST_F(ExecPluginProcess, MissingCommandGivesTheInstallHint) {
  ExecConfig c{.command = "l2a-no-such-plugin", .apiVersion = kV1, .installHint = "install it with\napt install it"};
  auto out = runExecPlugin(c, "{}");
  ASSERT_FALSE(out.ok());
  EXPECT_NE(out.error().message.find("cannot run 'l2a-no-such-plugin'"), std::string::npos) << out.error().message;
  EXPECT_NE(out.error().message.find("install it with; apt install it"), std::string::npos) << out.error().message;
}

TEST_F(ExecPluginProcess, AHungPluginIsKilledAtTheTimeout) {
  ExecConfig c{.command = script("hang", "exec sleep 30\n"), .apiVersion = kV1};
  auto start = steady_clock::now();
  auto out = runExecPlugin(c, "{}", milliseconds(300));
  ASSERT_FALSE(out.ok());
  EXPECT_NE(out.error().message.find("did not finish"), std::string::npos) << out.error().message;
  EXPECT_LT(steady_clock::now() - start, seconds(10));
}

const char* kExecKubeconfig = R"(
apiVersion: v1
kind: Config
current-context: c
clusters: [{name: x, cluster: {server: "https://198.18.0.1:6443"}}]
contexts: [{name: c, context: {cluster: x, user: u}}]
users:
- name: u
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1
      command: bin/get-token
      args: [--cluster, lab]
      env: [{name: REGION, value: eu}]
      interactiveMode: IfAvailable
      provideClusterInfo: true
      installHint: install get-token
)";

TEST(KubeconfigExec, TheStanzaIsReadAndTheCommandResolvedAgainstTheKubeconfig) {
  auto c = parseKubeconfig(kExecKubeconfig, "/home/me/.kube");
  ASSERT_TRUE(c.ok()) << c.error().message;
  ASSERT_TRUE(c->exec.has_value());
  EXPECT_EQ(c->exec->command, "/home/me/.kube/bin/get-token");
  EXPECT_EQ(c->exec->args, (std::vector<std::string>{"--cluster", "lab"}));
  EXPECT_EQ(c->exec->env, (std::vector<std::pair<std::string, std::string>>{{"REGION", "eu"}}));
  EXPECT_EQ(c->exec->interactiveMode, "IfAvailable");
  EXPECT_TRUE(c->exec->provideClusterInfo);
  EXPECT_EQ(c->exec->installHint, "install get-token");
}

TEST(KubeconfigExec, UnusableFormsAreOneLineErrors) {
  auto with = [](const std::string& from, const std::string& to) {
    std::string text = kExecKubeconfig;
    text.replace(text.find(from), from.size(), to);
    return parseKubeconfig(text, "/");
  };
  std::vector<std::pair<Result<ClientConfig>, std::string>> cases;
  cases.emplace_back(with("      interactiveMode: IfAvailable\n", ""), "interactiveMode must be set");
  cases.emplace_back(with("IfAvailable", "Always"), "needs a terminal");
  cases.emplace_back(with("IfAvailable", "Sometimes"), "'Sometimes' is not Never, IfAvailable or Always");
  cases.emplace_back(with("client.authentication.k8s.io/v1", "client.authentication.k8s.io/v1alpha1"), "is not client.authentication");
  cases.emplace_back(with("command: bin/get-token", "command: ''"), "exec has no command");
  cases.emplace_back(with("    exec:\n", "    auth-provider: {name: oidc, config: {}}\n    exec:\n"),
                     "uses auth-provider 'oidc', which kubectl removed in 1.26");
  for (const auto& [result, why] : cases) {
    ASSERT_FALSE(result.ok()) << why;
    EXPECT_NE(result.error().message.find(why), std::string::npos) << result.error().message;
    EXPECT_EQ(result.error().message.find('\n'), std::string::npos);
  }
}

}  // namespace
}  // namespace l2a::kube
