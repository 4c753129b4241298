package io.courier.transport.netty;

import io.courier.TlsConfig;
import io.netty.handler.codec.DecoderException;
import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.NotSslRecordException;
import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import java.io.File;
import java.nio.file.Path;
import java.security.cert.CertificateExpiredException;
import java.util.Locale;
import javax.net.ssl.SSLException;

/**
 * Netty {@link SslContext}s from a {@link TlsConfig}, and the words for a failed handshake.
 * Internal.
 */
public final class TlsContexts {

  /** ALPN name of HTTP/2, which gRPC clients over TLS insist on. */
  static final String H2 = "h2";
  /** ALPN name of HTTP/1.1. */
  static final String HTTP_1_1 = "http/1.1";

  private TlsContexts() {}

  /** The provider {@code config} asks for, checked against what can run here. */
  static SslProvider provider(TlsConfig config) {
    switch (config.provider()) {
      case JDK:
        return SslProvider.JDK;
      case OPENSSL:
        if (!OpenSsl.isAvailable()) {
          throw new IllegalStateException("TLS provider OPENSSL is not available here: "
              + OpenSsl.unavailabilityCause() + " (use Provider.AUTO or JDK, or add"
              + " io.netty:netty-tcnative-boringssl-static for this platform)");
        }
        return SslProvider.OPENSSL;
      default:
        return OpenSsl.isAvailable() ? SslProvider.OPENSSL : SslProvider.JDK;
    }
  }

  /** Whether OpenSSL (BoringSSL) can be used here. */
  public static boolean openSslAvailable() {
    return OpenSsl.isAvailable();
  }

  /**
   * A server context from the PEM files of {@code config}, offering the given ALPN protocols in
   * the server's order of preference (a client offering none of them connects without ALPN).
   *
   * @throws IllegalStateException naming the files when they cannot be read or do not match
   */
  static SslContext server(TlsConfig config, String... alpn) {
    File chain = file(config.certChain().orElseThrow(() -> new IllegalStateException(
        "a TLS server needs its certificate chain and key: TlsConfig.keyCertChain(...)")));
    File key = file(config.privateKey().orElseThrow());
    try {
      SslContextBuilder b = SslContextBuilder.forServer(chain, key,
          config.keyPassword().orElse(null)).sslProvider(provider(config));
      if (config.trustCertificates().isPresent()) {
        b.trustManager(file(config.trustCertificates().get()));
      }
      b.clientAuth(switch (config.clientAuth()) {
        case NONE -> ClientAuth.NONE;
        case OPTIONAL -> ClientAuth.OPTIONAL;
        case REQUIRE -> ClientAuth.REQUIRE;
      });
      if (alpn.length > 0) {
        b.applicationProtocolConfig(new ApplicationProtocolConfig(
            ApplicationProtocolConfig.Protocol.ALPN,
            ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
            ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT, alpn));
      }
      return b.build();
    } catch (SSLException | RuntimeException e) {
      throw new IllegalStateException("cannot load the TLS certificate chain " + chain
          + " and key " + key + describeTrust(config) + ": " + rootMessage(e), e);
    }
  }

  /**
   * A client context from {@code config}: its trust certificates (or the JDK's), its own
   * certificate if it has one, host name verification unless turned off, and the given ALPN
   * protocols offered (none: no ALPN).
   *
   * @throws IllegalStateException naming the files when they cannot be read
   */
  public static SslContext client(TlsConfig config, String... alpn) {
    try {
      SslContextBuilder b = SslContextBuilder.forClient().sslProvider(provider(config))
          .endpointIdentificationAlgorithm(config.hostnameVerification() ? "HTTPS" : null);
      if (config.trustCertificates().isPresent()) {
        b.trustManager(file(config.trustCertificates().get()));
      }
      if (config.certChain().isPresent()) {
        b.keyManager(file(config.certChain().get()), file(config.privateKey().orElseThrow()),
            config.keyPassword().orElse(null));
      }
      if (alpn.length > 0) {
        b.applicationProtocolConfig(new ApplicationProtocolConfig(
            ApplicationProtocolConfig.Protocol.ALPN,
            ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
            ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT, alpn));
      }
      return b.build();
    } catch (SSLException | RuntimeException e) {
      throw new IllegalStateException("cannot load the client's TLS files (certificate chain "
          + config.certChain().orElse(null) + ", key " + config.privateKey().orElse(null)
          + describeTrust(config) + "): " + rootMessage(e), e);
    }
  }

  private static String describeTrust(TlsConfig config) {
    return config.trustCertificates().map(p -> ", trust certificates " + p).orElse("");
  }

  private static File file(Path p) {
    return p.toFile();
  }

  private static String rootMessage(Throwable e) {
    Throwable t = e;
    while (t.getCause() != null && t.getCause() != t) {
      t = t.getCause();
    }
    return t == e ? String.valueOf(e.getMessage()) : e.getMessage() + " (" + t + ")";
  }

  /** Whether {@code cause}, or one of its causes, is a TLS failure. */
  static boolean isTlsFailure(Throwable cause) {
    for (Throwable t = cause; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (t instanceof SSLException || t instanceof NotSslRecordException) {
        return true;
      }
    }
    return false;
  }

  /**
   * What went wrong in a client's handshake with {@code peer}, in words that name the cause and
   * the fix: the server's certificate is untrusted, expired or names another host, the server
   * wants a client certificate or refused this one, or the peer does not speak TLS.
   */
  static String describeClientFailure(String peer, Throwable cause, TlsConfig config) {
    StringBuilder all = new StringBuilder();
    boolean expired = false;
    boolean notTls = false;
    for (Throwable t = unwrap(cause); t != null; t = t.getCause() == t ? null : t.getCause()) {
      all.append(' ').append(t.getMessage());
      expired |= t instanceof CertificateExpiredException;
      notTls |= t instanceof NotSslRecordException;
    }
    String m = all.toString().toLowerCase(Locale.ROOT);
    String why;
    if (notTls || m.contains("not an ssl/tls record") || m.contains("wrong_version_number")
        || m.contains("unsupported or unrecognized ssl message")) {
      why = "the server does not speak TLS on this port (is it a plaintext port?)";
    } else if (m.contains("no subject alternative") || m.contains("no name matching")
        || m.contains("does not match") && m.contains("name")) {
      why = "host name mismatch: the server's certificate does not name the host connected to"
          + " (set TlsConfig.serverName(...) to the name it holds, or fix the certificate)";
    } else if (expired || m.contains("expired")) {
      why = "the server's certificate has expired or is not yet valid";
    } else if (m.contains("unable to find valid certification path")
        || m.contains("certificate_verify_failed") || m.contains("path building failed")
        || m.contains("signature check failed") || m.contains("pkix")) {
      why = "the server's certificate is not trusted: no trusted certificate issued it (check"
          + " TlsConfig.trustCertificates(...))";
    } else if (m.contains("certificate_required") || m.contains("certificate required")
        || m.contains("peer_did_not_return_a_certificate") || m.contains("bad_certificate")
        || m.contains("unknown_ca") || m.contains("certificate_unknown")
        || m.contains("bad certificate") || m.contains("unknown ca")
        || m.contains("certificate unknown")) {
      // a client whose certificate the server's CAs did not issue may send none at all
      why = config.certChain().isEmpty()
          ? "the server requires a client certificate and this client has none (set"
              + " TlsConfig.keyCertChain(...))"
          : "the server refused this client's certificate " + config.certChain().get()
              + " (it wants one issued by a certificate it trusts, and not expired)";
    } else {
      why = "the TLS handshake failed";
    }
    return "TLS handshake with " + peer + " failed: " + why + " [" + unwrap(cause) + "]";
  }

  private static Throwable unwrap(Throwable cause) {
    return cause instanceof DecoderException && cause.getCause() != null ? cause.getCause()
        : cause;
  }
}
