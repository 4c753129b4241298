package io.courier.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.courier.TlsConfig;
import io.courier.server.CourierServer;
import io.courier.testing.LeakDetectionExtension;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code courier call} over TLS and mutual TLS, against a real server whose certificates
 * {@code openssl} makes for the test.
 */
@ExtendWith(LeakDetectionExtension.class)
class TlsCommandsTest {

  @TempDir
  static Path dir;

  static CourierServer server;
  static String address;

  @BeforeAll
  static void start() throws Exception {
    assumeTrue(Tools.onPath("openssl") && Tools.onPath("bash"), "needs openssl and bash");
    // a CA, a server certificate for localhost, a client certificate, and a CA nobody uses
    String script = String.join("\n",
        "set -e",
        "ec='-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes'",
        "openssl req -x509 $ec -days 2 -subj '/CN=cli test CA' -keyout ca.key -out ca.pem",
        "openssl req -x509 $ec -days 2 -subj '/CN=stranger CA' -keyout other.key"
            + " -out other-ca.pem",
        "openssl req $ec -subj '/CN=greeter' -keyout server.key -out server.csr",
        "printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\\nextendedKeyUsage=serverAuth\\n'"
            + " > server.ext",
        "openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2"
            + " -extfile server.ext -out server.pem",
        "openssl req $ec -subj '/CN=operator' -keyout client.key -out client.csr",
        "printf 'extendedKeyUsage=clientAuth\\n' > client.ext",
        "openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2"
            + " -extfile client.ext -out client.pem", "");
    Process p = new ProcessBuilder("bash", "-c", script).directory(dir.toFile())
        .redirectErrorStream(true).start();
    String log = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor()).as(log).isZero();
    server = CourierServer.builder().host("127.0.0.1").port(0)
        .tls(TlsConfig.builder()
            .keyCertChain(dir.resolve("server.pem"), dir.resolve("server.key"))
            .trustCertificates(dir.resolve("ca.pem"))
            .clientAuth(TlsConfig.ClientAuth.REQUIRE).build())
        .service(Greeter.class, new GreeterImpl())
        .build().start();
    address = "localhost:" + server.port();
  }

  @AfterAll
  static void stop() {
    if (server != null) {
      server.close();
    }
  }

  private static String pem(String name) {
    return dir.resolve(name).toString();
  }

  @Test
  void callsOverMutualTls() {
    ServiceCommandsTest.Result r = ServiceCommandsTest.run("call", "cli.Greeter.add", "[20, 22]",
        "--address", address, "--tls-ca", pem("ca.pem"), "--tls-cert", pem("client.pem"),
        "--tls-key", pem("client.key"));
    assertThat(r).isEqualTo(new ServiceCommandsTest.Result(0, "42\n", ""));
    ServiceCommandsTest.Result described = ServiceCommandsTest.run("describe", "cli.Greeter",
        "--address", address, "--tls-ca", pem("ca.pem"), "--tls-cert", pem("client.pem"),
        "--tls-key", pem("client.key"));
    assertThat(described.status()).as(described.err()).isZero();
    assertThat(described.out()).startsWith("cli.Greeter: 5 methods");
  }

  @Test
  void anUntrustedServerIsAHandshakeFailureWithExitStatus3() {
    ServiceCommandsTest.Result r = ServiceCommandsTest.run("call", "cli.Greeter.add", "[1, 2]",
        "--address", address, "--tls-ca", pem("other-ca.pem"), "--tls-cert", pem("client.pem"),
        "--tls-key", pem("client.key"));
    assertThat(r.status()).isEqualTo(CourierCli.EXIT_UNAVAILABLE);
    assertThat(r.out()).isEmpty();
    assertThat(r.err()).startsWith("courier call: cli.Greeter.add failed: UNAVAILABLE"
        + " (TLS_HANDSHAKE_FAILED)").contains(address);
  }

  @Test
  void plaintextOnATlsPortSaysToGiveTheCa() {
    ServiceCommandsTest.Result r = ServiceCommandsTest.run("call", "cli.Greeter.add", "[1, 2]",
        "--address", address, "--timeout", "3s");
    assertThat(r.status()).isEqualTo(CourierCli.EXIT_UNAVAILABLE);
    assertThat(r.out()).isEmpty();
    assertThat(r.err()).startsWith("courier call: cli.Greeter.add failed: UNAVAILABLE"
        + " (TLS_HANDSHAKE_FAILED): " + address + ": this port requires TLS")
        .contains("courier call: to connect with TLS, give --tls-ca <pem>");
  }

  @Test
  void tlsOptionsAreChecked() {
    ServiceCommandsTest.Result half = ServiceCommandsTest.run("call", "cli.Greeter.add",
        "[1, 2]", "--address", address, "--tls-cert", pem("client.pem"));
    assertThat(half.status()).isEqualTo(CourierCli.EXIT_USAGE);
    assertThat(half.err()).startsWith("courier call: --tls-cert and --tls-key go together");
    ServiceCommandsTest.Result missing = ServiceCommandsTest.run("call", "cli.Greeter.add",
        "[1, 2]", "--address", address, "--tls-ca", pem("nothing.pem"));
    assertThat(missing.status()).isEqualTo(CourierCli.EXIT_USAGE);
    assertThat(missing.err()).startsWith("courier call: --tls-ca: cannot read "
        + pem("nothing.pem"));
    ServiceCommandsTest.Result notPem = ServiceCommandsTest.run("call", "cli.Greeter.add",
        "[1, 2]", "--address", address, "--tls-ca", pem("server.ext"));
    assertThat(notPem.status()).isEqualTo(CourierCli.EXIT_USAGE);
    assertThat(notPem.err()).startsWith("courier call: cannot load the client's TLS files")
        .contains("server.ext");
  }
}
