package io.courier.testing;

import java.io.IOException;
import java.io.InputStream;
import java.math.BigInteger;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Date;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * A certificate authority made at test time: issues server certificates for given host names and
 * addresses, client certificates, expired ones, and writes them as PEM files (certificate chain,
 * PKCS#8 key) as a TLS server or client reads them.
 */
public final class TestCa {

  private static final AtomicLong SERIALS = new AtomicLong(System.currentTimeMillis());

  private final String name;
  private final KeyPair keys;
  private final X509Certificate certificate;

  /** A certificate and its key, written as PEM files. */
  public record Pem(Path cert, Path key, X509Certificate certificate) {}

  private TestCa(String name, KeyPair keys, X509Certificate certificate) {
    this.name = name;
    this.keys = keys;
    this.certificate = certificate;
  }

  /** A new self-signed CA named {@code CN=<name>}. */
  public static TestCa create(String name) {
    try {
      KeyPair keys = newKeys();
      X500Name subject = new X500Name("CN=" + name);
      Instant now = Instant.now();
      X509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(subject, serial(),
          Date.from(now.minus(Duration.ofDays(1))), Date.from(now.plus(Duration.ofDays(30))),
          subject, keys.getPublic());
      b.addExtension(Extension.basicConstraints, true, new BasicConstraints(true));
      b.addExtension(Extension.keyUsage, true,
          new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
      return new TestCa(name, keys, sign(b, keys.getPrivate()));
    } catch (GeneralSecurityException | IOException e) {
      throw new IllegalStateException(e);
    }
  }

  /** The CA's certificate. */
  public X509Certificate certificate() {
    return certificate;
  }

  /** Writes the CA's certificate to {@code file} (PEM) and returns it. */
  public Path writeCert(Path file) throws IOException {
    Files.writeString(file, pem("CERTIFICATE", encoded(certificate)));
    return file;
  }

  /**
   * A server certificate {@code CN=<cn>} naming {@code hosts} (host names, or IP addresses) in
   * its subject alternative names, valid now, written to {@code <dir>/<cn>.pem} and
   * {@code <dir>/<cn>.key}.
   */
  public Pem server(Path dir, String cn, String... hosts) {
    Instant now = Instant.now();
    return issue(dir, cn, List.of(hosts), KeyPurposeId.id_kp_serverAuth,
        now.minus(Duration.ofDays(1)), now.plus(Duration.ofDays(10)));
  }

  /** A client certificate {@code CN=<cn>}, valid now. */
  public Pem client(Path dir, String cn) {
    Instant now = Instant.now();
    return issue(dir, cn, List.of(), KeyPurposeId.id_kp_clientAuth,
        now.minus(Duration.ofDays(1)), now.plus(Duration.ofDays(10)));
  }

  /** A server certificate for {@code hosts} that expired yesterday. */
  public Pem expiredServer(Path dir, String cn, String... hosts) {
    Instant now = Instant.now();
    return issue(dir, cn, List.of(hosts), KeyPurposeId.id_kp_serverAuth,
        now.minus(Duration.ofDays(10)), now.minus(Duration.ofDays(1)));
  }

  private Pem issue(Path dir, String cn, List<String> hosts, KeyPurposeId purpose,
      Instant notBefore, Instant notAfter) {
    try {
      KeyPair leaf = newKeys();
      X509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(
          new X500Name("CN=" + name), serial(), Date.from(notBefore), Date.from(notAfter),
          new X500Name("CN=" + cn), leaf.getPublic());
      b.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
      b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature));
      b.addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(purpose));
      if (!hosts.isEmpty()) {
        List<GeneralName> names = new ArrayList<>();
        for (String h : hosts) {
          boolean ip = Character.isDigit(h.charAt(0)) || h.contains(":");
          names.add(ip ? new GeneralName(GeneralName.iPAddress,
              new org.bouncycastle.asn1.DEROctetString(InetAddress.getByName(h).getAddress()))
              : new GeneralName(GeneralName.dNSName, h));
        }
        b.addExtension(Extension.subjectAlternativeName, false,
            new GeneralNames(names.toArray(new GeneralName[0])));
      }
      X509Certificate cert = sign(b, keys.getPrivate());
      Files.createDirectories(dir);
      Path certFile = dir.resolve(cn + ".pem");
      Path keyFile = dir.resolve(cn + ".key");
      Files.writeString(certFile, pem("CERTIFICATE", encoded(cert)));
      Files.writeString(keyFile, pem("PRIVATE KEY", leaf.getPrivate().getEncoded()));
      return new Pem(certFile, keyFile, cert);
    } catch (GeneralSecurityException | IOException e) {
      throw new IllegalStateException(e);
    }
  }

  /** An SSLContext (JDK) that trusts this CA only, for JDK clients such as HttpClient. */
  public SSLContext trustingContext() {
    try {
      KeyStore ks = KeyStore.getInstance(KeyStore.getDefaultType());
      ks.load(null, null);
      ks.setCertificateEntry("ca", certificate);
      TrustManagerFactory tmf =
          TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      tmf.init(ks);
      SSLContext ctx = SSLContext.getInstance("TLS");
      ctx.init(null, tmf.getTrustManagers(), null);
      return ctx;
    } catch (GeneralSecurityException | IOException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Reads the first certificate of a PEM file. */
  public static X509Certificate read(Path pem) throws IOException, GeneralSecurityException {
    try (InputStream in = Files.newInputStream(pem)) {
      return (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in);
    }
  }

  private static KeyPair newKeys() throws GeneralSecurityException {
    KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
    g.initialize(new ECGenParameterSpec("secp256r1"));
    return g.generateKeyPair();
  }

  private static BigInteger serial() {
    return BigInteger.valueOf(SERIALS.incrementAndGet());
  }

  private static X509Certificate sign(X509v3CertificateBuilder b, PrivateKey key)
      throws GeneralSecurityException {
    try {
      return new JcaX509CertificateConverter().getCertificate(
          b.build(new JcaContentSignerBuilder("SHA256withECDSA").build(key)));
    } catch (org.bouncycastle.operator.OperatorCreationException e) {
      throw new GeneralSecurityException(e);
    }
  }

  private static byte[] encoded(X509Certificate c) {
    try {
      return c.getEncoded();
    } catch (java.security.cert.CertificateEncodingException e) {
      throw new IllegalStateException(e);
    }
  }

  private static String pem(String type, byte[] der) {
    return "-----BEGIN " + type + "-----\n"
        + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII))
            .encodeToString(der)
        + "\n-----END " + type + "-----\n";
  }
}
