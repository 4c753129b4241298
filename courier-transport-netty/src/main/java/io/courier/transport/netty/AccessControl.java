package io.courier.transport.netty;

import io.courier.ErrorReason;
import io.courier.auth.AccessRules;
import io.courier.auth.AuthRequest;
import io.courier.auth.AuthenticationException;
import io.courier.auth.Authenticator;
import io.courier.auth.Identity;
import io.courier.internal.server.ServerMethod;
import io.netty.channel.Channel;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.collection.IntObjectHashMap;
import java.net.SocketAddress;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import javax.net.ssl.SSLSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Authentication and authorization of one server: runs the authenticator on a call's
 * credentials and the method's access rule on the identity, the same way for every protocol,
 * before the request body is decoded. The rule of each method is resolved once, at build time.
 * Thread-safe; not changed once bound.
 *
 * <p>Messages never hold the call's credential: the authenticator's own message is cleaned of
 * it, and exceptions from user code are logged by class and cleaned message only.
 *
 * <p>Internal; used by {@code CourierServer}: made from the builder's settings, then
 * {@link #bind bound} to the methods served (which checks the rules' names), then handed to the
 * server and its built-in reflection service.
 */
public final class AccessControl {

  private static final Logger log = LoggerFactory.getLogger(AccessControl.class);
  private static final String REDACTED = "<redacted>";
  private static final AccessRules.Rule DENY =
      AccessRules.builder().build().ruleFor("", "");

  private final Authenticator authenticator;
  private final AccessRules accessRules;
  /** The rule of each method by call ID; filled once by {@link #bind}, read-only after. */
  private final IntObjectHashMap<AccessRules.Rule> rules = new IntObjectHashMap<>();

  private AccessControl(Authenticator authenticator, AccessRules accessRules) {
    this.authenticator = authenticator;
    this.accessRules = accessRules;
  }

  /**
   * The access control of a server; {@link #enabled()} is false when it has no authenticator
   * (then no call is checked).
   *
   * @throws IllegalArgumentException when rules are given without an authenticator
   */
  public static AccessControl create(Authenticator authenticator, AccessRules accessRules) {
    if (authenticator == null && accessRules != null) {
      throw new IllegalArgumentException("accessRules without an authenticator: rules need to"
          + " know who calls (set authenticator(...) too)");
    }
    return new AccessControl(authenticator,
        accessRules != null ? accessRules : AccessRules.authenticated());
  }

  /** Whether calls are checked (the server has an authenticator). */
  public boolean enabled() {
    return authenticator != null;
  }

  /**
   * Resolves the rule of every method served (built-in ones included). Once, before the server
   * starts.
   *
   * @throws IllegalArgumentException when a rule names a service or method not served
   */
  public void bind(Collection<ServerMethod> methods) {
    if (authenticator == null) {
      return;
    }
    Map<String, Set<String>> served = new LinkedHashMap<>();
    for (ServerMethod m : methods) {
      served.computeIfAbsent(m.descriptor().serviceName(), k -> new LinkedHashSet<>())
          .add(m.descriptor().name()); // overloads share a name, and a rule
    }
    accessRules.checkNames(served);
    for (ServerMethod m : methods) {
      rules.put(m.descriptor().callId(),
          accessRules.ruleFor(m.descriptor().serviceName(), m.descriptor().name()));
    }
  }

  /** A call refused; stackless, it carries what the answer needs. */
  static final class Refused extends Exception {
    private static final long serialVersionUID = 1L;
    final transient ErrorReason reason;
    /** The call presented credentials (which were not valid): HTTP says {@code invalid_token}. */
    final boolean credentialsPresented;

    Refused(ErrorReason reason, String description, boolean credentialsPresented) {
      super(description, null, false, false);
      this.reason = reason;
      this.credentialsPresented = credentialsPresented;
    }
  }

  /**
   * Authenticates a call to {@code method} and applies its rule.
   *
   * @return the caller's identity; {@code null} for a public method called without credentials
   * @throws Refused with {@code UNAUTHENTICATED} or {@code PERMISSION_DENIED}
   */
  Identity check(ServerMethod method, AuthRequest request) throws Refused {
    AccessRules.Rule rule = ruleOf(method);
    String display = method.descriptor().serviceName() + "/" + method.descriptor().name();
    String authorization = request.authorization();
    Identity id;
    try {
      id = authenticator.authenticate(request);
    } catch (AuthenticationException e) {
      throw refuse(request, ErrorReason.UNAUTHENTICATED, "credentials not accepted for "
          + display + ": " + redact(e.getMessage(), authorization), true);
    } catch (RuntimeException e) {
      log.warn("[COURIER-A01] the authenticator failed on a {} call to {} from {}: {}: {}",
          request.protocol(), display, request.remoteAddress(), e.getClass().getName(),
          redact(e.getMessage(), authorization));
      throw refuse(request, ErrorReason.UNAUTHENTICATED, "the credentials for " + display
          + " could not be verified", authorization != null);
    }
    if (id == null) {
      if (rule.isPublic()) {
        return null;
      }
      throw refuse(request, ErrorReason.UNAUTHENTICATED, display + " requires an authenticated"
          + " caller; " + (authorization == null
              ? "the call carries no credentials"
              : "no authenticator accepted the call's credentials"), authorization != null);
    }
    boolean permitted;
    try {
      permitted = rule.permits(id);
    } catch (RuntimeException e) {
      log.warn("[COURIER-A02] the access rule of {} failed for {}: {}: {}", display, id.name(),
          e.getClass().getName(), redact(e.getMessage(), authorization));
      permitted = false;
    }
    if (!permitted) {
      throw refuse(request, ErrorReason.PERMISSION_DENIED, id.name() + " may not call "
          + display, false);
    }
    return id;
  }

  /**
   * Applies the rule of {@code method} to a caller authenticated already (a call by name through
   * {@code courier.Reflection/invoke}, whose caller passed the reflection service's own check).
   *
   * @throws Refused with {@code UNAUTHENTICATED} (no identity, method not public) or
   *     {@code PERMISSION_DENIED}
   */
  void authorize(ServerMethod method, Identity identity) throws Refused {
    AccessRules.Rule rule = ruleOf(method);
    String display = method.descriptor().serviceName() + "/" + method.descriptor().name();
    if (rule.isPublic()) {
      return;
    }
    if (identity == null) {
      throw new Refused(ErrorReason.UNAUTHENTICATED, display + " requires an authenticated"
          + " caller; the call carries no credentials", false);
    }
    boolean permitted;
    try {
      permitted = rule.permits(identity);
    } catch (RuntimeException e) {
      log.warn("[COURIER-A02] the access rule of {} failed for {}: {}", display,
          identity.name(), e.getClass().getName());
      permitted = false;
    }
    if (!permitted) {
      throw new Refused(ErrorReason.PERMISSION_DENIED, identity.name() + " may not call "
          + display, false);
    }
  }

  private AccessRules.Rule ruleOf(ServerMethod method) {
    AccessRules.Rule rule = rules.get(method.descriptor().callId());
    // a method the server did not serve when it was bound: the strictest rule there is
    return rule != null ? rule : DENY;
  }

  private static Refused refuse(AuthRequest request, ErrorReason reason, String description,
      boolean credentialsPresented) {
    if (log.isDebugEnabled()) {
      log.debug("{} call from {} refused: {} {}", request.protocol(), request.remoteAddress(),
          reason, description);
    }
    return new Refused(reason, description, credentialsPresented);
  }

  /**
   * {@code message} with the credential, and each part of it (the scheme aside), replaced by
   * {@code <redacted>}.
   */
  static String redact(String message, String authorization) {
    if (message == null || authorization == null) {
      return message;
    }
    String out = message;
    String value = authorization.trim();
    if (value.length() >= 4) {
      out = out.replace(value, REDACTED);
    }
    String[] parts = value.split("[\\s,]+");
    for (int i = 0; i < parts.length; i++) {
      // the first word is the scheme ("Bearer"); anything else of 4 characters or more may be
      // a secret or part of one
      if (i > 0 || parts.length == 1) {
        if (parts[i].length() >= 4) {
          out = out.replace(parts[i], REDACTED);
        }
      }
    }
    return out;
  }

  /** A call's credentials as an authenticator sees them. */
  static final class Request implements AuthRequest {
    private final String protocol;
    private final ServerMethod method;
    private final Function<String, String> metadata;
    private final Channel channel;

    Request(String protocol, ServerMethod method, Function<String, String> metadata,
        Channel channel) {
      this.protocol = protocol;
      this.method = method;
      this.metadata = metadata;
      this.channel = channel;
    }

    @Override
    public String protocol() {
      return protocol;
    }

    @Override
    public String service() {
      return method.descriptor().serviceName();
    }

    @Override
    public String method() {
      return method.descriptor().name();
    }

    @Override
    public String metadata(String key) {
      return metadata.apply(key);
    }

    @Override
    public SSLSession sslSession() {
      SslHandler ssl = channel.pipeline().get(SslHandler.class);
      return ssl == null ? null : ssl.engine().getSession();
    }

    @Override
    public SocketAddress remoteAddress() {
      return channel.remoteAddress();
    }

    @Override
    public String toString() {
      return protocol + " call to " + service() + "/" + method() + " from " + remoteAddress();
    }
  }
}
