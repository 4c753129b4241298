package io.courier.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.courier.CallMetadata;
import io.courier.RpcException;
import java.math.BigInteger;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult.HandshakeStatus;
import javax.net.ssl.SSLSession;
import javax.net.ssl.TrustManagerFactory;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.ContentSigner;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The built-in authenticators: bearer tokens parsed and looked up, and the identity of a client
 * certificate read from the session of a real TLS handshake between two {@link SSLEngine}s with
 * certificates made for the test.
 */
class AuthenticatorTest {

  static final char[] PASSWORD = "changeit".toCharArray();
  static KeyPair caKeys;
  static X509Certificate ca;
  static KeyPair serverKeys;
  static X509Certificate serverCert;

  /** A request with an authorization value and a TLS session, either possibly null. */
  static AuthRequest request(String authorization, SSLSession session) {
    return new AuthRequest() {
      @Override
      public String protocol() {
        return "courier";
      }

      @Override
      public String service() {
        return "test.Vault";
      }

      @Override
      public String method() {
        return "read";
      }

      @Override
      public String metadata(String key) {
        return key.equals(AUTHORIZATION) ? authorization : null;
      }

      @Override
      public SSLSession sslSession() {
        return session;
      }

      @Override
      public SocketAddress remoteAddress() {
        return new InetSocketAddress("127.0.0.1", 40000);
      }
    };
  }

  // ------------------------------------------------------------------ bearer tokens

  @Test
  void bearerTokensAreLookedUpWithTheSchemeInAnyCase() throws Exception {
    Identity rita = Identity.of("rita", "reader");
    Authenticator a = Authenticator.bearer(Map.of("tok-123.abc_~+/=", rita));
    assertThat(a.authenticate(request("Bearer tok-123.abc_~+/=", null))).isEqualTo(rita);
    assertThat(a.authenticate(request("  bearer   tok-123.abc_~+/=  ", null))).isEqualTo(rita);
    assertThat(a.authenticate(request(null, null))).isNull();
    assertThat(a.authenticate(request("Basic cml0YTpwdw==", null)))
        .as("another scheme is left to other authenticators").isNull();
  }

  @Test
  void unknownAndMalformedTokensAreRefusedWithoutShowingThem() {
    Authenticator a = Authenticator.bearer(Map.of("good-token", Identity.of("rita")));
    assertThatThrownBy(() -> a.authenticate(request("Bearer other-token", null)))
        .isInstanceOf(AuthenticationException.class)
        .hasMessage("the bearer token was not accepted");
    for (String bad : new String[] {"Bearer", "Bearer  ", "Bearer two words", "Bearer a\"b",
        "Bearer =abc"}) {
      assertThatThrownBy(() -> a.authenticate(request(bad, null)))
          .as(bad).isInstanceOf(AuthenticationException.class)
          .hasMessageStartingWith("malformed bearer credentials")
          .hasMessageNotContaining("words").hasMessageNotContaining("abc");
    }
    assertThatThrownBy(() -> Authenticator.bearer(Map.of("no spaces allowed", Identity.of("x"))))
        .isInstanceOf(IllegalArgumentException.class).hasMessageNotContaining("allowed");
  }

  @Test
  void aVerifierSeesTheTokenAndFirstOfTakesTheFirstIdentity() throws Exception {
    AtomicInteger asked = new AtomicInteger();
    Authenticator verifier = Authenticator.bearer(token -> {
      asked.incrementAndGet();
      return token.startsWith("jwt-") ? Identity.of(token.substring(4)) : null;
    });
    Authenticator none = request -> null;
    Authenticator both = Authenticator.firstOf(none, verifier);
    assertThat(both.authenticate(request("Bearer jwt-ada", null)).name()).isEqualTo("ada");
    assertThat(asked).hasValue(1);
    assertThatThrownBy(() -> both.authenticate(request("Bearer nope", null)))
        .isInstanceOf(AuthenticationException.class);
    assertThat(both.authenticate(request(null, null))).isNull();
  }

  @Test
  void callCredentialsSendTheBearerValueAndHideIt() {
    CallMetadata md = new CallMetadata();
    CallCredentials c = CallCredentials.bearer("tok-42");
    c.applyTo(md);
    assertThat(md.get("authorization")).isEqualTo("Bearer tok-42");
    assertThat(md.toString()).isEqualTo("CallMetadata{authorization=<redacted>}");
    assertThat(c.toString()).doesNotContain("tok-42");
    assertThatThrownBy(() -> CallCredentials.bearer("zq9 x7w"))
        .isInstanceOf(IllegalArgumentException.class).hasMessageNotContaining("zq9");
    CallCredentials empty = CallCredentials.bearer(() -> null);
    assertThatThrownBy(() -> empty.applyTo(new CallMetadata()))
        .isInstanceOf(RpcException.class).hasMessageContaining("gave no token");
  }

  // ------------------------------------------------------------------ mutual TLS

  static KeyPair keys() throws Exception {
    KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
    g.initialize(256);
    return g.generateKeyPair();
  }

  static X509Certificate certificate(String subject, KeyPair subjectKeys, X500Name issuer,
      PrivateKey issuerKey, boolean isCa, GeneralName... sans) throws Exception {
    Instant now = Instant.now();
    X509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(issuer,
        BigInteger.valueOf(now.toEpochMilli()), Date.from(now.minus(Duration.ofHours(1))),
        Date.from(now.plus(Duration.ofDays(1))), new X500Name(subject), subjectKeys.getPublic());
    b.addExtension(Extension.basicConstraints, true, new BasicConstraints(isCa));
    if (isCa) {
      b.addExtension(Extension.keyUsage, true,
          new KeyUsage(KeyUsage.keyCertSign | KeyUsage.digitalSignature));
    }
    if (sans.length > 0) {
      b.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(sans));
    }
    ContentSigner signer = new JcaContentSignerBuilder("SHA256withECDSA").build(issuerKey);
    return new JcaX509CertificateConverter().getCertificate(b.build(signer));
  }

  @BeforeAll
  static void makeCertificates() throws Exception {
    caKeys = keys();
    X500Name caName = new X500Name("CN=Courier Test CA");
    ca = certificate("CN=Courier Test CA", caKeys, caName, caKeys.getPrivate(), true);
    serverKeys = keys();
    serverCert = certificate("CN=localhost", serverKeys, caName, caKeys.getPrivate(), false,
        new GeneralName(GeneralName.dNSName, "localhost"));
  }

  static SSLContext context(KeyPair keys, X509Certificate cert) throws Exception {
    KeyManagerFactory kmf = null;
    if (keys != null) {
      KeyStore ks = KeyStore.getInstance("PKCS12");
      ks.load(null, null);
      ks.setKeyEntry("key", keys.getPrivate(), PASSWORD, new Certificate[] {cert, ca});
      kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
      kmf.init(ks, PASSWORD);
    }
    KeyStore trust = KeyStore.getInstance("PKCS12");
    trust.load(null, null);
    trust.setCertificateEntry("ca", ca);
    TrustManagerFactory tmf =
        TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    tmf.init(trust);
    SSLContext ctx = SSLContext.getInstance("TLS");
    ctx.init(kmf == null ? null : kmf.getKeyManagers(), tmf.getTrustManagers(), null);
    return ctx;
  }

  /**
   * Runs a TLS handshake between a client with {@code clientKeys}/{@code clientCert} (none when
   * null) and a server that asks for a client certificate; returns the server's session.
   */
  static SSLSession handshake(KeyPair clientKeys, X509Certificate clientCert) throws Exception {
    SSLEngine client = context(clientKeys, clientCert).createSSLEngine("localhost", 9000);
    client.setUseClientMode(true);
    SSLEngine server = context(serverKeys, serverCert).createSSLEngine();
    server.setUseClientMode(false);
    if (clientKeys != null) {
      server.setNeedClientAuth(true);
    } else {
      server.setWantClientAuth(true);
    }
    ByteBuffer toServer = ByteBuffer.allocate(1 << 17);
    ByteBuffer toClient = ByteBuffer.allocate(1 << 17);
    ByteBuffer empty = ByteBuffer.allocate(0);
    ByteBuffer sink = ByteBuffer.allocate(1 << 17);
    client.beginHandshake();
    server.beginHandshake();
    for (int i = 0; i < 100; i++) {
      pump(client, empty, toServer, toClient, sink);
      pump(server, empty, toClient, toServer, sink);
      if (i > 4 && client.getHandshakeStatus() == HandshakeStatus.NOT_HANDSHAKING
          && server.getHandshakeStatus() == HandshakeStatus.NOT_HANDSHAKING
          && toServer.position() == 0 && toClient.position() == 0) {
        break;
      }
    }
    assertThat(server.getHandshakeStatus()).isEqualTo(HandshakeStatus.NOT_HANDSHAKING);
    return server.getSession();
  }

  /** One step of an engine: write what it has to send, read what it was sent. */
  private static void pump(SSLEngine engine, ByteBuffer empty, ByteBuffer out, ByteBuffer in,
      ByteBuffer sink) throws Exception {
    engine.wrap(empty, out);
    runTasks(engine);
    in.flip();
    while (in.hasRemaining()) {
      int before = in.remaining();
      engine.unwrap(in, sink);
      runTasks(engine);
      sink.clear();
      if (in.remaining() == before) {
        break;
      }
    }
    in.compact();
  }

  private static void runTasks(SSLEngine engine) {
    Runnable task;
    while ((task = engine.getDelegatedTask()) != null) {
      task.run();
    }
  }

  @Test
  void aClientCertificateIsNamedByItsCommonNameWithItsAlternativeNames() throws Exception {
    KeyPair k = keys();
    X509Certificate cert = certificate("O=Shop,OU=Orders,CN=orders-service", k,
        new X500Name("CN=Courier Test CA"), caKeys.getPrivate(), false,
        new GeneralName(GeneralName.dNSName, "orders.internal"),
        new GeneralName(GeneralName.dNSName, "orders"),
        new GeneralName(GeneralName.uniformResourceIdentifier, "spiffe://shop/orders"));
    SSLSession session = handshake(k, cert);
    Identity id = Authenticator.mutualTls().authenticate(request(null, session));
    assertThat(id.name()).isEqualTo("orders-service");
    assertThat(id.attribute("x509.san.dns")).isEqualTo("orders.internal,orders");
    assertThat(id.attribute("x509.san.uri")).isEqualTo("spiffe://shop/orders");
    assertThat(id.attribute("x509.subject")).contains("CN=orders-service").contains("O=Shop");
    assertThat(id.attribute("x509.serial")).isEqualTo(cert.getSerialNumber().toString(16));
  }

  @Test
  void withoutACommonNameTheFirstAlternativeNameNamesThePeer() throws Exception {
    KeyPair k = keys();
    X509Certificate cert = certificate("O=Shop,OU=Billing", k, new X500Name("CN=Courier Test CA"),
        caKeys.getPrivate(), false, new GeneralName(GeneralName.dNSName, "billing.internal"));
    Identity id = Authenticator.mutualTls().authenticate(request(null, handshake(k, cert)));
    assertThat(id.name()).isEqualTo("billing.internal");
  }

  @Test
  void aMapperNamesThePeerAndCanRefuseIt() throws Exception {
    KeyPair k = keys();
    X509Certificate cert = certificate("CN=batch-job", k, new X500Name("CN=Courier Test CA"),
        caKeys.getPrivate(), false);
    SSLSession session = handshake(k, cert);
    Authenticator byOu = Authenticator.mutualTls(chain -> {
      assertThat(chain[0]).isEqualTo(cert);
      return chain[0].getSubjectX500Principal().getName().contains("batch-job")
          ? Identity.of("batch", "jobs") : null;
    });
    assertThat(byOu.authenticate(request(null, session))).isEqualTo(Identity.of("batch", "jobs"));
    Authenticator refuses = Authenticator.mutualTls(chain -> null);
    assertThatThrownBy(() -> refuses.authenticate(request(null, session)))
        .isInstanceOf(AuthenticationException.class)
        .hasMessage("the client certificate was not accepted");
  }

  @Test
  void plaintextAndSessionsWithoutAClientCertificateCarryNoCredentials() throws Exception {
    assertThat(Authenticator.mutualTls().authenticate(request(null, null))).isNull();
    SSLSession anonymousPeer = handshake(null, null);
    assertThat(Authenticator.mutualTls().authenticate(request(null, anonymousPeer))).isNull();
    // so a bearer token can still authenticate such a connection
    Authenticator either = Authenticator.firstOf(Authenticator.mutualTls(),
        Authenticator.bearer(Map.of("tok", Identity.of("rita"))));
    assertThat(either.authenticate(request("Bearer tok", anonymousPeer)).name())
        .isEqualTo("rita");
  }
}
