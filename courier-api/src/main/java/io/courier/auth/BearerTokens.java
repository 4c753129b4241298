package io.courier.auth;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import javax.naming.InvalidNameException;
import javax.naming.ldap.LdapName;
import javax.naming.ldap.Rdn;

/**
 * Parsing and hashing of bearer tokens, and naming of certificates, for the built-in
 * authenticators.
 */
final class BearerTokens {
  private static final String SCHEME = "bearer";

  private BearerTokens() {}

  /**
   * The token of an {@code authorization} value with the Bearer scheme; {@code null} when the
   * value is absent or has another scheme.
   *
   * @throws AuthenticationException when the scheme is Bearer but the token is missing or
   *     malformed
   */
  static String parse(String authorization) throws AuthenticationException {
    if (authorization == null) {
      return null;
    }
    String v = authorization.trim();
    int space = v.indexOf(' ');
    String scheme = space < 0 ? v : v.substring(0, space);
    if (!scheme.toLowerCase(Locale.ROOT).equals(SCHEME)) {
      return null;
    }
    String token = space < 0 ? "" : v.substring(space + 1).trim();
    if (token.isEmpty() || !isToken68(token)) {
      throw new AuthenticationException("malformed bearer credentials (expected: "
          + "authorization: Bearer <token>, the token of A-Z a-z 0-9 - . _ ~ + / and trailing"
          + " =)");
    }
    return token;
  }

  /** Throws when {@code token} cannot travel as a bearer token (RFC 6750 b64token). */
  static void check(String token) {
    if (token.isEmpty() || !isToken68(token)) {
      throw new IllegalArgumentException("not a valid bearer token (expected: one or more of"
          + " A-Z a-z 0-9 - . _ ~ + / then optional =; the token is not shown)");
    }
  }

  static boolean isToken68(String s) {
    int i = 0;
    int n = s.length();
    while (i < n) {
      char c = s.charAt(i);
      if (c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-'
          || c == '.' || c == '_' || c == '~' || c == '+' || c == '/') {
        i++;
      } else {
        break;
      }
    }
    if (i == 0) {
      return false;
    }
    while (i < n && s.charAt(i) == '=') {
      i++;
    }
    return i == n;
  }

  static String digest(String token) {
    try {
      MessageDigest md = MessageDigest.getInstance("SHA-256");
      return HexFormat.of().formatHex(md.digest(token.getBytes(StandardCharsets.US_ASCII)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is not available", e);
    }
  }

  static Identity certificateIdentity(X509Certificate cert) throws AuthenticationException {
    String subject = cert.getSubjectX500Principal().getName();
    String cn = null;
    try {
      List<Rdn> rdns = new LdapName(subject).getRdns();
      // LdapName lists the most significant RDN first; the CN is usually the last
      for (int i = rdns.size() - 1; i >= 0 && cn == null; i--) {
        if (rdns.get(i).getType().equalsIgnoreCase("CN")) {
          cn = String.valueOf(rdns.get(i).getValue());
        }
      }
    } catch (InvalidNameException e) {
      throw new AuthenticationException("the client certificate's subject cannot be read");
    }
    List<String> dns = new ArrayList<>();
    List<String> uris = new ArrayList<>();
    try {
      var sans = cert.getSubjectAlternativeNames();
      if (sans != null) {
        for (List<?> san : sans) {
          int type = (Integer) san.get(0);
          if (type == 2) {
            dns.add(String.valueOf(san.get(1)));
          } else if (type == 6) {
            uris.add(String.valueOf(san.get(1)));
          }
        }
      }
    } catch (CertificateParsingException e) {
      throw new AuthenticationException("the client certificate's alternative names cannot be"
          + " read");
    }
    String name = cn != null && !cn.isBlank() ? cn
        : !dns.isEmpty() ? dns.get(0) : !uris.isEmpty() ? uris.get(0) : null;
    if (name == null) {
      throw new AuthenticationException("the client certificate names no one (expected: a"
          + " subject CN, or a DNS or URI subject alternative name)");
    }
    Identity.Builder b = Identity.builder(name)
        .attribute("x509.subject", subject)
        .attribute("x509.serial", cert.getSerialNumber().toString(16));
    if (!dns.isEmpty()) {
      b.attribute("x509.san.dns", String.join(",", dns));
    }
    if (!uris.isEmpty()) {
      b.attribute("x509.san.uri", String.join(",", uris));
    }
    return b.build();
  }
}
