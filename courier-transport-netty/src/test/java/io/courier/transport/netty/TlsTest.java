package io.courier.transport.netty;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.google.protobuf.StringValue;
import io.courier.CallContext;
import io.courier.ErrorReason;
import io.courier.RpcException;
import io.courier.Status;
import io.courier.TlsConfig;
import io.courier.TlsConfig.ClientAuth;
import io.courier.TlsConfig.Provider;
import io.courier.annotation.ServiceName;
import io.courier.auth.AccessRules;
import io.courier.auth.Authenticator;
import io.courier.client.CourierClient;
import io.courier.client.GrpcClient;
import io.courier.server.CourierServer;
import io.courier.testing.TestCa;
import io.courier.testing.fixtures.Calculator;
import io.courier.testing.fixtures.CalculatorImpl;
import io.netty.channel.Channel;
import io.netty.handler.ssl.SslHandler;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * TLS and mutual TLS on every protocol of a Courier port and on the HTTP port, with certificates
 * made at test time, real sockets and both TLS providers: calls that work, handshakes that must
 * fail with a precise reason, plaintext and TLS mix-ups, and certificate reload.
 */
class TlsTest {

  @TempDir
  static Path dir;
  static TestCa ca;
  static TestCa otherCa;
  static Path caPem;
  static Path otherCaPem;
  static TestCa.Pem server;
  static TestCa.Pem client;
  static TestCa.Pem strangerClient;

  /** A gRPC service of protobuf well-known types. */
  @ServiceName("test.Greeter")
  public interface Greeter {
    StringValue greet(StringValue name);
  }

  static final class GreeterImpl implements Greeter {
    @Override
    public StringValue greet(StringValue name) {
      return StringValue.of("hello " + name.getValue());
    }
  }

  @BeforeAll
  static void certificates() throws Exception {
    ca = TestCa.create("Courier Test CA");
    otherCa = TestCa.create("Another CA");
    caPem = ca.writeCert(dir.resolve("ca.pem"));
    otherCaPem = otherCa.writeCert(dir.resolve("other-ca.pem"));
    server = ca.server(dir, "server", "localhost", "127.0.0.1");
    client = ca.client(dir, "client");
    strangerClient = otherCa.client(dir, "stranger");
  }

  static TlsConfig.Builder serverTls(Provider provider) {
    return TlsConfig.builder().keyCertChain(server.cert(), server.key()).provider(provider);
  }

  static TlsConfig.Builder clientTls(Provider provider) {
    return TlsConfig.builder().trustCertificates(caPem).provider(provider);
  }

  static CourierServer.Builder serverBuilder(TlsConfig tls) {
    return CourierServer.builder().host("127.0.0.1").tls(tls)
        .drainTimeout(Duration.ofMillis(200))
        .service(Calculator.class, new CalculatorImpl())
        .service(Greeter.class, new GreeterImpl());
  }

  static CourierClient client(CourierServer s, TlsConfig tls) {
    CourierClient.Builder b = CourierClient.builder().address("127.0.0.1:" + s.port())
        .reconnectBackoff(Duration.ofMillis(10), Duration.ofMillis(20));
    return (tls == null ? b : b.tls(tls)).build();
  }

  static void assumeProvider(Provider p) {
    if (p == Provider.OPENSSL) {
      assumeTrue(TlsContexts.openSslAvailable(), "OpenSSL (netty-tcnative) does not load here");
    }
  }

  static RpcException tlsFailure(CourierClient c) {
    RpcException e = catchThrowableOfType(RpcException.class,
        () -> c.stub(Calculator.class).add(1, 2));
    assertThat(e).as("the call must fail").isNotNull();
    assertThat(e.status().code()).isEqualTo(Status.Code.UNAVAILABLE);
    assertThat(e.reason()).isEqualTo(ErrorReason.TLS_HANDSHAKE_FAILED);
    return e;
  }

  /** The server's connections, to look at their pipelines. */
  static List<Channel> serverConnections(CourierServer s) throws Exception {
    var f = CourierServer.class.getDeclaredField("server");
    f.setAccessible(true);
    return new ArrayList<>(((NettyServer) f.get(s)).connections());
  }

  /** The certificate a new raw TLS connection to {@code port} is shown, whoever issued it. */
  static X509Certificate certificateShownOn(int port) throws Exception {
    X509TrustManager anyIssuer = new X509TrustManager() {
      @Override
      public void checkClientTrusted(X509Certificate[] chain, String authType) {}

      @Override
      public void checkServerTrusted(X509Certificate[] chain, String authType) {}

      @Override
      public X509Certificate[] getAcceptedIssuers() {
        return new X509Certificate[0];
      }
    };
    SSLContext look = SSLContext.getInstance("TLS");
    look.init(null, new TrustManager[] {anyIssuer}, null);
    try (SSLSocket s = (SSLSocket) look.getSocketFactory().createSocket("127.0.0.1", port)) {
      s.startHandshake();
      return (X509Certificate) s.getSession().getPeerCertificates()[0];
    }
  }

  @ParameterizedTest
  @EnumSource(names = {"JDK", "OPENSSL"})
  void courierCallsOverTls(Provider provider) throws Exception {
    assumeProvider(provider);
    try (CourierServer s = serverBuilder(serverTls(provider).build()).build().start();
        CourierClient c = client(s, clientTls(provider).build())) {
      Calculator calc = c.stub(Calculator.class);
      assertThat(calc.add(1, 2)).isEqualTo(3);
      assertThat(calc.echoBytes(new byte[1 << 20])).hasSize(1 << 20); // many TLS records
      List<Channel> conns = serverConnections(s);
      assertThat(conns).hasSize(2); // the 1 MiB request went over the bulk lane
      for (Channel ch : conns) {
        assertThat(ch.pipeline().first()).isInstanceOf(SslHandler.class);
      }
    }
  }

  @ParameterizedTest
  @EnumSource(names = {"JDK", "OPENSSL"})
  void mutualTlsServesAClientWithACertificateAndRefusesOthersClearly(Provider provider)
      throws Exception {
    assumeProvider(provider);
    TlsConfig tls = serverTls(provider).trustCertificates(caPem)
        .clientAuth(ClientAuth.REQUIRE).build();
    try (CourierServer s = serverBuilder(tls).build().start()) {
      try (CourierClient none = client(s, clientTls(provider).build())) {
        RpcException e = tlsFailure(none);
        assertThat(e.getMessage()).contains("requires a client certificate");
      }
      try (CourierClient stranger = client(s, clientTls(provider)
          .keyCertChain(strangerClient.cert(), strangerClient.key()).build())) {
        RpcException e = tlsFailure(stranger);
        assertThat(e.getMessage()).contains("refused this client's certificate")
            .contains(strangerClient.cert().toString());
      }
      try (CourierClient good = client(s, clientTls(provider)
          .keyCertChain(client.cert(), client.key()).build())) {
        assertThat(good.stub(Calculator.class).add(2, 3)).isEqualTo(5);
        // the verified client identity is in the connection's pipeline, for authentication
        List<Channel> conns = serverConnections(s);
        assertThat(conns).hasSize(1);
        SslHandler ssl = conns.get(0).pipeline().get(SslHandler.class);
        Certificate[] peer = ssl.engine().getSession().getPeerCertificates();
        assertThat(((X509Certificate) peer[0]).getSubjectX500Principal().getName())
            .isEqualTo("CN=client");
      }
      assertThat(s.counters().protocolErrors()).isGreaterThanOrEqualTo(2);
    }
  }

  @ParameterizedTest
  @EnumSource(names = {"JDK", "OPENSSL"})
  void anUntrustedServerIsRefusedNamingTheCause(Provider provider) throws Exception {
    assumeProvider(provider);
    try (CourierServer s = serverBuilder(serverTls(provider).build()).build().start();
        CourierClient c = client(s, TlsConfig.builder().trustCertificates(otherCaPem)
            .provider(provider).build())) {
      assertThat(tlsFailure(c).getMessage()).contains("127.0.0.1:" + s.port())
          .contains("not trusted");
    }
  }

  @ParameterizedTest
  @EnumSource(names = {"JDK", "OPENSSL"})
  void aHostNameMismatchIsRefusedUnlessVerificationIsOffOrTheNameIsGiven(Provider provider)
      throws Exception {
    assumeProvider(provider);
    TestCa.Pem wrongHost = ca.server(dir.resolve("wrong"), "elsewhere", "elsewhere.example");
    TlsConfig tls = TlsConfig.builder().keyCertChain(wrongHost.cert(), wrongHost.key())
        .provider(provider).build();
    try (CourierServer s = serverBuilder(tls).build().start()) {
      try (CourierClient c = client(s, clientTls(provider).build())) {
        assertThat(tlsFailure(c).getMessage()).contains("host name mismatch");
      }
      try (CourierClient c = client(s, clientTls(provider).hostnameVerification(false)
          .build())) {
        assertThat(c.stub(Calculator.class).add(1, 1)).isEqualTo(2);
      }
      try (CourierClient c = client(s, clientTls(provider).serverName("elsewhere.example")
          .build())) {
        assertThat(c.stub(Calculator.class).add(2, 2)).isEqualTo(4);
      }
    }
  }

  @Test
  void anExpiredServerCertificateIsRefused() throws Exception {
    TestCa.Pem expired = ca.expiredServer(dir.resolve("expired"), "expired", "127.0.0.1");
    TlsConfig tls = TlsConfig.builder().keyCertChain(expired.cert(), expired.key()).build();
    try (CourierServer s = serverBuilder(tls).build().start();
        CourierClient c = client(s, clientTls(Provider.AUTO).build())) {
      assertThat(tlsFailure(c).getMessage()).contains("expired");
    }
  }

  @Test
  void plaintextOnATlsPortIsAnsweredWithWhyAndClosedAndTheServerServesOn() throws Exception {
    try (CourierServer s = serverBuilder(serverTls(Provider.AUTO).build()).build().start()) {
      try (CourierClient plain = client(s, null)) {
        RpcException e = tlsFailure(plain);
        assertThat(e.getMessage()).contains("requires TLS");
      }
      // plain HTTP: a 400 that says so, then the close
      try (Socket raw = new Socket("127.0.0.1", s.port())) {
        raw.getOutputStream().write(("POST /test.Calculator/add HTTP/1.1\r\nhost: x\r\n"
            + "content-type: application/json\r\ncontent-length: 5\r\n\r\n[1,2]")
            .getBytes(StandardCharsets.US_ASCII));
        String answer = new String(raw.getInputStream().readAllBytes(),
            StandardCharsets.UTF_8);
        assertThat(answer).startsWith("HTTP/1.1 400").contains("requires TLS");
      }
      // gRPC with prior knowledge (h2c): its preface is answered like an HTTP request
      try (GrpcClient h2c = GrpcClient.builder().address("127.0.0.1:" + s.port()).build()) {
        RpcException e = catchThrowableOfType(RpcException.class,
            () -> h2c.stub(Greeter.class).greet(StringValue.of("x")));
        assertThat(e).isNotNull();
        assertThat(e.reason()).isEqualTo(ErrorReason.TLS_HANDSHAKE_FAILED);
        assertThat(e.getMessage()).contains("INADEQUATE_SECURITY").contains("requires TLS");
      }
      try (CourierClient c = client(s, clientTls(Provider.AUTO).build())) {
        assertThat(c.stub(Calculator.class).add(3, 4)).isEqualTo(7);
      }
      assertThat(s.counters().protocolErrors()).isGreaterThanOrEqualTo(3);
    }
  }

  @Test
  void aTlsClientOnAPlaintextPortFailsFastNamingTheCause() throws Exception {
    try (CourierServer s = CourierServer.builder().host("127.0.0.1")
        .service(Calculator.class, new CalculatorImpl()).build().start()) {
      try (CourierClient c = client(s, clientTls(Provider.AUTO).build())) {
        assertThat(tlsFailure(c).getMessage()).contains("does not speak TLS");
      }
      try (CourierClient plain = client(s, null)) {
        assertThat(plain.stub(Calculator.class).add(5, 6)).isEqualTo(11);
      }
    }
  }

  @ParameterizedTest
  @EnumSource(names = {"JDK", "OPENSSL"})
  void httpJsonOverTlsOnThePortAndOnTheHttpPort(Provider provider) throws Exception {
    assumeProvider(provider);
    try (CourierServer s = serverBuilder(serverTls(provider).build()).httpPort(0).build()
        .start()) {
      // offers h2 and http/1.1 through ALPN: the server picks http/1.1 for JSON
      HttpClient http = HttpClient.newBuilder().sslContext(ca.trustingContext()).build();
      for (int port : new int[] {s.port(), s.httpPort()}) {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(
                URI.create("https://localhost:" + port + "/test.Calculator/add"))
            .header("content-type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString("[20, 22]")).build(),
            HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.body()).isEqualTo("42");
        assertThat(r.version()).isEqualTo(HttpClient.Version.HTTP_1_1);
      }
      for (Channel ch : serverConnections(s)) {
        assertThat(ch.pipeline().first()).isInstanceOf(SslHandler.class);
      }
    }
  }

  @ParameterizedTest
  @EnumSource(names = {"JDK", "OPENSSL"})
  void grpcOverTlsWithAlpnH2(Provider provider) throws Exception {
    assumeProvider(provider);
    TlsConfig tls = serverTls(provider).trustCertificates(caPem)
        .clientAuth(ClientAuth.OPTIONAL).build();
    try (CourierServer s = serverBuilder(tls).build().start();
        GrpcClient g = GrpcClient.builder().address("localhost:" + s.port())
            .tls(clientTls(provider).keyCertChain(client.cert(), client.key()).build())
            .build()) {
      assertThat(g.stub(Greeter.class).greet(StringValue.of("tls")).getValue())
          .isEqualTo("hello tls");
      List<Channel> conns = serverConnections(s);
      assertThat(conns).hasSize(1);
      SslHandler ssl = (SslHandler) conns.get(0).pipeline().first();
      assertThat(ssl.applicationProtocol()).isEqualTo("h2");
      assertThat(((X509Certificate) ssl.engine().getSession().getPeerCertificates()[0])
          .getSubjectX500Principal().getName()).isEqualTo("CN=client");
    }
  }

  @Test
  void grpcClientRefusesAnUntrustedServerNamingTheCause() throws Exception {
    try (CourierServer s = serverBuilder(serverTls(Provider.AUTO).build()).build().start();
        GrpcClient g = GrpcClient.builder().address("localhost:" + s.port())
            .tls(TlsConfig.builder().trustCertificates(otherCaPem).build()).build()) {
      RpcException e = catchThrowableOfType(RpcException.class,
          () -> g.stub(Greeter.class).greet(StringValue.of("x")));
      assertThat(e).isNotNull();
      assertThat(e.reason()).isEqualTo(ErrorReason.TLS_HANDSHAKE_FAILED);
      assertThat(e.status().code()).isEqualTo(Status.Code.UNAVAILABLE);
      assertThat(e.getMessage()).contains("not trusted");
    }
  }

  @ParameterizedTest
  @EnumSource(names = {"JDK", "OPENSSL"})
  void reloadServesNewConnectionsTheNewCertificateAndOldConnectionsGoOn(Provider provider)
      throws Exception {
    assumeProvider(provider);
    Path live = Files.createTempDirectory(dir, "live");
    TestCa.Pem first = ca.server(live.resolve("a"), "first", "127.0.0.1");
    TestCa.Pem second = otherCa.server(live.resolve("b"), "second", "127.0.0.1");
    Path cert = live.resolve("server.pem");
    Path key = live.resolve("server.key");
    Files.copy(first.cert(), cert);
    Files.copy(first.key(), key);
    TlsConfig tls = TlsConfig.builder().keyCertChain(cert, key).provider(provider).build();
    try (CourierServer s = serverBuilder(tls).build().start();
        CourierClient old = client(s, clientTls(provider).build());
        CourierClient next = client(s, TlsConfig.builder().trustCertificates(otherCaPem)
            .provider(provider).build())) {
      assertThat(old.stub(Calculator.class).add(1, 2)).isEqualTo(3);
      assertThat(tlsFailure(next).getMessage()).contains("not trusted");

      Files.copy(second.cert(), cert, StandardCopyOption.REPLACE_EXISTING);
      Files.copy(second.key(), key, StandardCopyOption.REPLACE_EXISTING);
      s.reloadTls();

      assertThat(certificateShownOn(s.port()).getSubjectX500Principal().getName())
          .isEqualTo("CN=second");
      assertThat(old.stub(Calculator.class).add(2, 2)).isEqualTo(4); // same connection
      try (CourierClient fresh = client(s, TlsConfig.builder().trustCertificates(otherCaPem)
          .provider(provider).build())) {
        assertThat(fresh.stub(Calculator.class).add(3, 3)).isEqualTo(6);
      }
    }
  }

  @Test
  void aBrokenReloadKeepsTheOldCertificateAndSaysWhy() throws Exception {
    Path live = Files.createTempDirectory(dir, "broken");
    Path cert = live.resolve("server.pem");
    Path key = live.resolve("server.key");
    Files.copy(server.cert(), cert);
    Files.copy(server.key(), key);
    TlsConfig tls = TlsConfig.builder().keyCertChain(cert, key).build();
    try (CourierServer s = serverBuilder(tls).build().start()) {
      Files.writeString(cert, "-----BEGIN CERTIFICATE-----\nnot a certificate\n"
          + "-----END CERTIFICATE-----\n");
      assertThatThrownBy(s::reloadTls).isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("previous certificate stays in force")
          .hasMessageContaining(cert.toString());
      assertThat(certificateShownOn(s.port()).getSubjectX500Principal().getName())
          .isEqualTo("CN=server");
      try (CourierClient c = client(s, clientTls(Provider.AUTO).build())) {
        assertThat(c.stub(Calculator.class).add(1, 1)).isEqualTo(2);
      }
    }
  }

  @Test
  void changedFilesAreReloadedByTheWatcher() throws Exception {
    Path live = Files.createTempDirectory(dir, "watched");
    TestCa.Pem second = ca.server(live.resolve("b"), "renewed", "127.0.0.1");
    Path cert = live.resolve("server.pem");
    Path key = live.resolve("server.key");
    Files.copy(server.cert(), cert);
    Files.copy(server.key(), key);
    TlsConfig tls = TlsConfig.builder().keyCertChain(cert, key)
        .reloadInterval(Duration.ofMillis(100)).build();
    try (CourierServer s = serverBuilder(tls).build().start()) {
      assertThat(certificateShownOn(s.port()).getSubjectX500Principal().getName())
          .isEqualTo("CN=server");
      // key first, then the certificate: a check between the two sees a mismatched pair, which
      // must leave the old certificate in force until the pair is whole
      Files.copy(second.key(), key, StandardCopyOption.REPLACE_EXISTING);
      Files.copy(second.cert(), cert, StandardCopyOption.REPLACE_EXISTING);
      String seen = "";
      for (int i = 0; i < 200 && !seen.equals("CN=renewed"); i++) {
        Thread.sleep(50);
        seen = certificateShownOn(s.port()).getSubjectX500Principal().getName();
      }
      assertThat(seen).isEqualTo("CN=renewed");
    }
  }

  /** The commands of the guide's recipe, run as they are written there. */
  static final String OPENSSL_RECIPE = String.join("\n",
      "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 365 \\",
      "  -subj '/CN=My Courier CA' -keyout ca.key -out ca.pem",
      "openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj '/CN=shop' \\",
      "  -keyout server.key -out server.csr",
      "openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 90 \\",
      "  -extfile <(printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\\nextendedKeyUsage="
          + "serverAuth') \\",
      "  -out server.pem",
      "openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj '/CN=checkout' \\",
      "  -keyout client.key -out client.csr",
      "openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 90 \\",
      "  -extfile <(printf 'extendedKeyUsage=clientAuth') -out client.pem", "");

  static String run(Path workDir, String... command) throws Exception {
    Process p = new ProcessBuilder(command).directory(workDir.toFile()).redirectErrorStream(true)
        .start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor()).as("%s: %s", String.join(" ", command), out).isZero();
    return out;
  }

  static boolean onPath(String tool) {
    for (String d : System.getenv().getOrDefault("PATH", "").split(":")) {
      if (Files.isExecutable(Path.of(d, tool))) {
        return true;
      }
    }
    return false;
  }

  @Test
  void theGuidesOpensslRecipeAndCurlWorkWithMutualTls() throws Exception {
    assumeTrue(onPath("openssl") && onPath("curl") && onPath("bash"),
        "needs openssl, curl and bash");
    Path work = Files.createTempDirectory(dir, "recipe");
    run(work, "bash", "-c", OPENSSL_RECIPE);
    TlsConfig tls = TlsConfig.builder()
        .keyCertChain(work.resolve("server.pem"), work.resolve("server.key"))
        .trustCertificates(work.resolve("ca.pem")).clientAuth(ClientAuth.REQUIRE).build();
    try (CourierServer s = serverBuilder(tls).httpPort(0).build().start()) {
      for (int port : new int[] {s.port(), s.httpPort()}) {
        assertThat(run(work, "curl", "-sS", "--cacert", "ca.pem", "--cert", "client.pem",
            "--key", "client.key", "--json", "[1, 2]",
            "https://localhost:" + port + "/test.Calculator/add")).isEqualTo("3");
      }
      try (CourierClient c = CourierClient.builder().address("localhost:" + s.port())
          .tls(TlsConfig.builder().trustCertificates(work.resolve("ca.pem"))
              .keyCertChain(work.resolve("client.pem"), work.resolve("client.key")).build())
          .build()) {
        assertThat(c.stub(Calculator.class).add(20, 22)).isEqualTo(42);
      }
    }
  }

  @Test
  void optionalClientAuthServesClientsWithAndWithoutACertificate() throws Exception {
    TlsConfig tls = serverTls(Provider.AUTO).trustCertificates(caPem)
        .clientAuth(ClientAuth.OPTIONAL).build();
    try (CourierServer s = serverBuilder(tls).build().start()) {
      try (CourierClient anonymous = client(s, clientTls(Provider.AUTO).build())) {
        assertThat(anonymous.stub(Calculator.class).add(1, 2)).isEqualTo(3);
        SslHandler ssl = serverConnections(s).get(0).pipeline().get(SslHandler.class);
        assertThatThrownBy(() -> ssl.engine().getSession().getPeerCertificates())
            .isInstanceOf(SSLPeerUnverifiedException.class);
      }
      try (CourierClient stranger = client(s, clientTls(Provider.AUTO)
          .keyCertChain(strangerClient.cert(), strangerClient.key()).build())) {
        // OPTIONAL still verifies a certificate that is shown: one from another CA is refused,
        // or (OpenSSL clients show only certificates the server's CAs issued) not shown at all
        Channel conn = null;
        try {
          stranger.stub(Calculator.class).add(1, 2);
          conn = serverConnections(s).get(0);
        } catch (RpcException e) {
          assertThat(e.reason()).isEqualTo(ErrorReason.TLS_HANDSHAKE_FAILED);
        }
        if (conn != null) {
          SslHandler ssl = conn.pipeline().get(SslHandler.class);
          assertThatThrownBy(() -> ssl.engine().getSession().getPeerCertificates())
              .isInstanceOf(SSLPeerUnverifiedException.class);
        }
      }
    }
  }

  /** Names the caller as authentication saw it. */
  @ServiceName("test.Who")
  public interface Who {
    String name();
  }

  @ServiceName("test.GrpcWho")
  public interface GrpcWho {
    StringValue name(StringValue ignored);
  }

  static final class WhoImpl implements Who, GrpcWho {
    final AtomicInteger runs = new AtomicInteger();

    @Override
    public String name() {
      runs.incrementAndGet();
      return CallContext.identity().name();
    }

    @Override
    public StringValue name(StringValue ignored) {
      return StringValue.of(name());
    }
  }

  @ParameterizedTest
  @EnumSource(names = {"JDK", "OPENSSL"})
  void clientCertificatesAuthenticateCallsOnTheCourierProtocolAndOnGrpc(Provider provider)
      throws Exception {
    assumeProvider(provider);
    TestCa.Pem intern = ca.client(dir, "intern");
    TlsConfig tls = serverTls(provider).trustCertificates(caPem)
        .clientAuth(ClientAuth.OPTIONAL).build();
    WhoImpl who = new WhoImpl();
    try (CourierServer s = CourierServer.builder().host("127.0.0.1").tls(tls)
            .drainTimeout(Duration.ofMillis(200))
            .service(Who.class, who).service(GrpcWho.class, who)
            .authenticator(Authenticator.mutualTls())
            .accessRules(AccessRules.builder()
                .allow("test.Who", id -> id.name().equals("client"))
                .allow("test.GrpcWho", id -> id.name().equals("client"))
                .build())
            .build().start();
        CourierClient anonymous = client(s, clientTls(provider).build());
        CourierClient certified = client(s, clientTls(provider)
            .keyCertChain(client.cert(), client.key()).build());
        CourierClient internClient = client(s, clientTls(provider)
            .keyCertChain(intern.cert(), intern.key()).build());
        GrpcClient grpcAnonymous = GrpcClient.builder().address("localhost:" + s.port())
            .tls(clientTls(provider).build()).build();
        GrpcClient grpcCertified = GrpcClient.builder().address("localhost:" + s.port())
            .tls(clientTls(provider).keyCertChain(client.cert(), client.key()).build())
            .build()) {
      RpcException none = catchThrowableOfType(RpcException.class,
          () -> anonymous.stub(Who.class).name());
      assertThat(none.status().code()).isEqualTo(Status.Code.UNAUTHENTICATED);
      RpcException denied = catchThrowableOfType(RpcException.class,
          () -> internClient.stub(Who.class).name());
      assertThat(denied.status().code()).isEqualTo(Status.Code.PERMISSION_DENIED);
      assertThat(denied.status().description()).contains("intern");
      assertThat(who.runs.get()).isZero();
      assertThat(certified.stub(Who.class).name()).isEqualTo("client");

      RpcException grpcNone = catchThrowableOfType(RpcException.class,
          () -> grpcAnonymous.stub(GrpcWho.class).name(StringValue.of("")));
      assertThat(grpcNone.status().code()).isEqualTo(Status.Code.UNAUTHENTICATED);
      assertThat(grpcCertified.stub(GrpcWho.class).name(StringValue.of("")).getValue())
          .isEqualTo("client");
      assertThat(who.runs.get()).isEqualTo(2);
    }
  }

  @Test
  void unixDomainSocketsDoNotTakeTls() throws Exception {
    assumeTrue(Transports.isEpoll(), "Unix domain sockets need the native epoll transport");
    assertThatThrownBy(() -> CourierServer.builder().unixSocket(dir.resolve("s.sock"))
        .tls(serverTls(Provider.AUTO).build()).service(Calculator.class, new CalculatorImpl())
        .build()).isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("unixSocket and tls cannot be combined");
    assertThatThrownBy(() -> CourierClient.builder().address("unix://" + dir.resolve("s.sock"))
        .tls(clientTls(Provider.AUTO).build()).build())
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("TLS is for TCP");
  }

  @Test
  void settingsThatCannotWorkAreRefusedWhenBuilt() throws Exception {
    assertThatThrownBy(() -> TlsConfig.builder().clientAuth(ClientAuth.REQUIRE).build())
        .isInstanceOf(IllegalStateException.class).hasMessageContaining("trustCertificates");
    assertThatThrownBy(() -> serverBuilder(TlsConfig.builder().trustCertificates(caPem).build())
        .build()).isInstanceOf(IllegalStateException.class).hasMessageContaining("keyCertChain");
    Path missing = dir.resolve("missing.pem");
    assertThatThrownBy(() -> serverBuilder(TlsConfig.builder().keyCertChain(missing,
        server.key()).build()).build()).isInstanceOf(IllegalStateException.class)
        .hasMessageContaining(missing.toString());
    assertThatThrownBy(() -> TlsConfig.builder().reloadInterval(Duration.ofMillis(5)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("reloadInterval: PT0.005S");
  }
}
