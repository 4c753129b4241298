package io.courier.auth;

import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;

/**
 * Turns a call's credentials into the caller's {@link Identity}. (SPI, thread-safe.)
 *
 * <p>A server with an authenticator ({@code CourierServer.Builder.authenticator}) runs it for
 * every call, on every protocol, after the method is found and before the request body is
 * decoded. It runs on the connection's event loop: it must not block (verify signatures, look
 * tokens up in memory; cache what a remote service says).
 *
 * <p>Three outcomes: an identity; {@code null} when the call carries no credentials this
 * authenticator understands (a public method may still be called, any other is answered
 * {@code UNAUTHENTICATED}); or {@link AuthenticationException} when the credentials are there but
 * not valid ({@code UNAUTHENTICATED} whatever the method).
 *
 * <pre>{@code
 * Authenticator auth = Authenticator.firstOf(
 *     Authenticator.bearer(Map.of(System.getenv("SHOP_TOKEN"), Identity.of("shop", "writer"))),
 *     Authenticator.mutualTls());
 * }</pre>
 */
@FunctionalInterface
public interface Authenticator {

  /**
   * The caller's identity, or {@code null} when the call carries no credentials this
   * authenticator understands.
   *
   * @throws AuthenticationException when the credentials are present but not valid; its message
   *     goes to the caller and must not contain the credential
   */
  Identity authenticate(AuthRequest request) throws AuthenticationException;

  /** Checks a bearer token. (Thread-safe; must not block.) */
  @FunctionalInterface
  interface TokenVerifier {
    /**
     * The identity the token stands for, or {@code null} when the token is not valid.
     *
     * @throws AuthenticationException to refuse the token with a message of its own
     */
    Identity verify(String token) throws AuthenticationException;
  }

  /** Names the peer of a verified client certificate. (Thread-safe; must not block.) */
  @FunctionalInterface
  interface CertificateMapper {
    /**
     * The identity of the certificate's holder, or {@code null} to refuse it.
     *
     * @param chain the peer's certificate chain, its own certificate first
     */
    Identity map(X509Certificate[] chain) throws AuthenticationException;
  }

  /**
   * Bearer tokens from a fixed table: {@code authorization: Bearer <token>} is looked up in
   * {@code tokens}. The table keeps SHA-256 digests of the tokens, not the tokens.
   *
   * @throws IllegalArgumentException when a token is empty or not a valid bearer token
   */
  static Authenticator bearer(Map<String, Identity> tokens) {
    Objects.requireNonNull(tokens, "tokens");
    Map<String, Identity> byDigest = new HashMap<>();
    for (Map.Entry<String, Identity> e : tokens.entrySet()) {
      String token = Objects.requireNonNull(e.getKey(), "token");
      BearerTokens.check(token);
      byDigest.put(BearerTokens.digest(token), Objects.requireNonNull(e.getValue(), "identity"));
    }
    int size = byDigest.size();
    return bearer(new TokenVerifier() {
      @Override
      public Identity verify(String token) {
        return byDigest.get(BearerTokens.digest(token));
      }

      @Override
      public String toString() {
        return "a table of " + size + " bearer tokens";
      }
    });
  }

  /**
   * Bearer tokens checked by {@code verifier} (a JWT library, a cache of an introspection
   * endpoint, ...): {@code authorization: Bearer <token>} is handed to it. A call whose
   * {@code authorization} has another scheme is left to other authenticators ({@code null}); a
   * malformed bearer value, and a token the verifier returns {@code null} for, are refused.
   */
  static Authenticator bearer(TokenVerifier verifier) {
    Objects.requireNonNull(verifier, "verifier");
    return request -> {
      String token = BearerTokens.parse(request.authorization());
      if (token == null) {
        return null;
      }
      Identity id = verifier.verify(token);
      if (id == null) {
        throw new AuthenticationException("the bearer token was not accepted");
      }
      return id;
    };
  }

  /**
   * The client certificate of a mutual-TLS connection: its subject's common name (CN), or its
   * first DNS or URI subject alternative name when it has no CN, is the identity's name;
   * attributes {@code x509.subject}, {@code x509.serial}, {@code x509.san.dns} and
   * {@code x509.san.uri} (comma-separated) describe it. {@code null} on a plaintext connection or
   * when the peer sent no certificate.
   *
   * <p>Trust is the TLS configuration's job: the server's TLS must require client certificates
   * and verify them against the trusted issuers; this only names the verified peer.
   */
  static Authenticator mutualTls() {
    return mutualTls(chain -> BearerTokens.certificateIdentity(chain[0]));
  }

  /**
   * The client certificate of a mutual-TLS connection, named by {@code mapper} (for example by
   * looking its fingerprint up, or giving roles by organisational unit).
   */
  static Authenticator mutualTls(CertificateMapper mapper) {
    Objects.requireNonNull(mapper, "mapper");
    return request -> {
      X509Certificate[] chain = peerCertificates(request.sslSession());
      if (chain == null) {
        return null;
      }
      Identity id = mapper.map(chain);
      if (id == null) {
        throw new AuthenticationException("the client certificate was not accepted");
      }
      return id;
    };
  }

  /**
   * The verified X.509 chain of a TLS session's peer, its own certificate first, or
   * {@code null} when there is no session or the peer sent no certificate.
   */
  static X509Certificate[] peerCertificates(SSLSession session) {
    if (session == null) {
      return null;
    }
    Certificate[] certs;
    try {
      certs = session.getPeerCertificates();
    } catch (SSLPeerUnverifiedException e) {
      return null;
    }
    if (certs == null || certs.length == 0) {
      return null;
    }
    List<X509Certificate> out = new ArrayList<>(certs.length);
    for (Certificate c : certs) {
      if (c instanceof X509Certificate x) {
        out.add(x);
      }
    }
    return out.isEmpty() ? null : out.toArray(new X509Certificate[0]);
  }

  /**
   * Tries each authenticator in order: the first identity wins; a refusal
   * ({@link AuthenticationException}) ends the search; {@code null} when none found credentials.
   */
  static Authenticator firstOf(Authenticator... authenticators) {
    List<Authenticator> list = List.of(authenticators);
    if (list.isEmpty()) {
      throw new IllegalArgumentException("authenticators: none (expected: at least one)");
    }
    return request -> {
      for (Authenticator a : list) {
        Identity id = a.authenticate(request);
        if (id != null) {
          return id;
        }
      }
      return null;
    };
  }
}
