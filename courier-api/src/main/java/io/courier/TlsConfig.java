package io.courier;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;

/**
 * TLS settings of a server or a client, read from PEM files. Immutable; build one with
 * {@link #builder()}.
 *
 * <pre>{@code
 * // server: its certificate chain and key; clients must show a certificate issued by ca.pem
 * TlsConfig server = TlsConfig.builder()
 *     .keyCertChain(Path.of("server.pem"), Path.of("server.key"))
 *     .trustCertificates(Path.of("ca.pem"))
 *     .clientAuth(TlsConfig.ClientAuth.REQUIRE)
 *     .build();
 *
 * // client: trusts ca.pem, shows its own certificate, verifies the server's host name
 * TlsConfig client = TlsConfig.builder()
 *     .trustCertificates(Path.of("ca.pem"))
 *     .keyCertChain(Path.of("client.pem"), Path.of("client.key"))
 *     .build();
 * }</pre>
 *
 * <p>The files are read when the server or client is built (and again when a server reloads
 * them), not when this value is built.
 */
public final class TlsConfig {

  /** Whether a server asks clients for a certificate. */
  public enum ClientAuth {
    /** No client certificate is asked for (default). */
    NONE,
    /** A client certificate is asked for and checked if given; a client without one is served. */
    OPTIONAL,
    /** A client without a certificate issued by the trusted certificates is refused. */
    REQUIRE
  }

  /** Which TLS implementation runs the handshakes and the encryption. */
  public enum Provider {
    /** OpenSSL (BoringSSL, from netty-tcnative) when its native library loads, else the JDK. */
    AUTO,
    /** OpenSSL (BoringSSL); building fails when its native library cannot be loaded. */
    OPENSSL,
    /** The JDK's own TLS ({@code SSLEngine}). */
    JDK
  }

  private final Path certChain;
  private final Path privateKey;
  private final String keyPassword;
  private final Path trustCertificates;
  private final ClientAuth clientAuth;
  private final boolean hostnameVerification;
  private final String serverName;
  private final Provider provider;
  private final Duration reloadInterval;

  private TlsConfig(Builder b) {
    this.certChain = b.certChain;
    this.privateKey = b.privateKey;
    this.keyPassword = b.keyPassword;
    this.trustCertificates = b.trustCertificates;
    this.clientAuth = b.clientAuth;
    this.hostnameVerification = b.hostnameVerification;
    this.serverName = b.serverName;
    this.provider = b.provider;
    this.reloadInterval = b.reloadInterval;
  }

  /** A new builder. */
  public static Builder builder() {
    return new Builder();
  }

  /** The PEM file of this side's certificate chain (leaf first), if any. */
  public Optional<Path> certChain() {
    return Optional.ofNullable(certChain);
  }

  /** The PEM file of this side's private key (PKCS#8), if any. */
  public Optional<Path> privateKey() {
    return Optional.ofNullable(privateKey);
  }

  /** The password of an encrypted private key, if any. */
  public Optional<String> keyPassword() {
    return Optional.ofNullable(keyPassword);
  }

  /**
   * The PEM file of the certificates trusted to verify the peer; absent: a client trusts the
   * JDK's default trust store, a server trusts no client certificate.
   */
  public Optional<Path> trustCertificates() {
    return Optional.ofNullable(trustCertificates);
  }

  /** Whether a server asks for client certificates; ignored by clients. */
  public ClientAuth clientAuth() {
    return clientAuth;
  }

  /**
   * Whether a client checks that the server's certificate names the host it connects to (or
   * {@link #serverName()}); ignored by servers. Default true.
   */
  public boolean hostnameVerification() {
    return hostnameVerification;
  }

  /**
   * The host name a client expects in the server's certificate and sends as SNI, instead of the
   * host of the address it connects to; ignored by servers.
   */
  public Optional<String> serverName() {
    return Optional.ofNullable(serverName);
  }

  /** The TLS implementation; default {@link Provider#AUTO}. */
  public Provider provider() {
    return provider;
  }

  /**
   * How often a server looks at the modification times of its PEM files and reloads them when
   * they changed; zero (default) never, see {@code CourierServer.reloadTls()}. Ignored by
   * clients.
   */
  public Duration reloadInterval() {
    return reloadInterval;
  }

  @Override
  public String toString() {
    return "TlsConfig{certChain=" + certChain + ", privateKey=" + privateKey
        + ", trustCertificates=" + trustCertificates + ", clientAuth=" + clientAuth
        + ", hostnameVerification=" + hostnameVerification + ", serverName=" + serverName
        + ", provider=" + provider + ", reloadInterval=" + reloadInterval + "}";
  }

  /** Builds a {@link TlsConfig}. Not thread-safe. */
  public static final class Builder {
    private Path certChain;
    private Path privateKey;
    private String keyPassword;
    private Path trustCertificates;
    private ClientAuth clientAuth = ClientAuth.NONE;
    private boolean hostnameVerification = true;
    private String serverName;
    private Provider provider = Provider.AUTO;
    private Duration reloadInterval = Duration.ZERO;

    private Builder() {}

    /**
     * This side's certificate chain (PEM, leaf first) and its private key (PEM, PKCS#8).
     * Required on a server; on a client, the certificate shown to servers that ask for one.
     */
    public Builder keyCertChain(Path certChainPem, Path privateKeyPem) {
      this.certChain = Objects.requireNonNull(certChainPem, "certChainPem");
      this.privateKey = Objects.requireNonNull(privateKeyPem, "privateKeyPem");
      return this;
    }

    /** Like {@link #keyCertChain(Path, Path)}, for a private key encrypted with a password. */
    public Builder keyCertChain(Path certChainPem, Path privateKeyPem, String keyPassword) {
      keyCertChain(certChainPem, privateKeyPem);
      this.keyPassword = Objects.requireNonNull(keyPassword, "keyPassword");
      return this;
    }

    /**
     * The certificates (PEM, one or more) trusted to verify the peer: on a client, instead of
     * the JDK's default trust store; on a server, the issuers of accepted client certificates.
     */
    public Builder trustCertificates(Path certificatesPem) {
      this.trustCertificates = Objects.requireNonNull(certificatesPem, "certificatesPem");
      return this;
    }

    /** Whether a server asks clients for a certificate; default {@link ClientAuth#NONE}. */
    public Builder clientAuth(ClientAuth clientAuth) {
      this.clientAuth = Objects.requireNonNull(clientAuth, "clientAuth");
      return this;
    }

    /**
     * Whether a client checks the host name in the server's certificate; default true. Turning
     * it off accepts any certificate the trusted certificates issued, for whatever host: only
     * for tests or networks where every such certificate belongs to a server you trust.
     */
    public Builder hostnameVerification(boolean verify) {
      this.hostnameVerification = verify;
      return this;
    }

    /**
     * The host name a client expects in the server's certificate (and sends as SNI), for
     * example when it connects to an IP address or through a tunnel; default: the host of the
     * address.
     */
    public Builder serverName(String hostName) {
      Objects.requireNonNull(hostName, "hostName");
      if (hostName.isBlank()) {
        throw new IllegalArgumentException("serverName: '" + hostName
            + "' (expected: a host name)");
      }
      this.serverName = hostName;
      return this;
    }

    /** The TLS implementation; default {@link Provider#AUTO}. */
    public Builder provider(Provider provider) {
      this.provider = Objects.requireNonNull(provider, "provider");
      return this;
    }

    /**
     * How often a server checks its PEM files' modification times and reloads them when they
     * changed (zero: never, the default; else at least 100 ms). New connections get the new
     * certificate, open ones keep theirs; files that do not load leave the old certificate in
     * force, and the error is logged.
     */
    public Builder reloadInterval(Duration interval) {
      Objects.requireNonNull(interval, "interval");
      if (interval.isNegative() || !interval.isZero() && interval.toMillis() < 100) {
        throw new IllegalArgumentException("reloadInterval: " + interval
            + " (expected: zero to disable, or at least 100 ms)");
      }
      this.reloadInterval = interval;
      return this;
    }

    /**
     * Builds the settings.
     *
     * @throws IllegalStateException when client certificates are required or optional but no
     *     trusted certificates are given to verify them
     */
    public TlsConfig build() {
      if (clientAuth != ClientAuth.NONE && trustCertificates == null) {
        throw new IllegalStateException("clientAuth " + clientAuth + " needs trustCertificates"
            + "(...): the certificates that issue the clients' certificates");
      }
      return new TlsConfig(this);
    }
  }
}
