package io.courier.auth;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.Predicate;

/**
 * Who may call what, per service and per method. Immutable.
 *
 * <p>A method's rule is the one given for the method, else the one given for its service, else
 * the default: <b>denied</b>, or, after {@link Builder#requireAuthenticated()}, any authenticated
 * caller. Rules apply to every protocol and to every overload of a method name. A server with an
 * authenticator and no rules lets any authenticated caller call any method
 * ({@link #authenticated()}).
 *
 * <pre>{@code
 * AccessRules rules = AccessRules.builder()
 *     .permitAll("demo.Health")                                  // no credentials needed
 *     .allow("demo.Shop", id -> id.hasRole("customer"))          // the service's methods...
 *     .allow("demo.Shop", "refund", id -> id.hasRole("admin"))   // ...but this one
 *     .build();                                                  // anything else: denied
 * }</pre>
 *
 * <p>Unauthenticated calls to a method that is not public are answered {@code UNAUTHENTICATED};
 * authenticated calls a rule does not permit, {@code PERMISSION_DENIED}. A server refuses, when
 * it is built, rules that name a service or method it does not serve.
 */
public final class AccessRules {

  private static final Rule DENY = new Rule(false, id -> false, "denied");
  private static final Rule AUTHENTICATED = new Rule(false, id -> true, "any authenticated caller");
  private static final Rule PUBLIC = new Rule(true, id -> true, "public");
  private static final AccessRules AUTHENTICATED_ONLY = new AccessRules(Map.of(), Map.of(),
      AUTHENTICATED);

  private final Map<String, Rule> services;
  private final Map<String, Map<String, Rule>> methods;
  private final Rule otherwise;

  private AccessRules(Map<String, Rule> services, Map<String, Map<String, Rule>> methods,
      Rule otherwise) {
    this.services = services;
    this.methods = methods;
    this.otherwise = otherwise;
  }

  /** A new builder. */
  public static Builder builder() {
    return new Builder();
  }

  /** Every method open to any authenticated caller, none to others. */
  public static AccessRules authenticated() {
    return AUTHENTICATED_ONLY;
  }

  /** The rule in force for a method. */
  public Rule ruleFor(String service, String method) {
    Map<String, Rule> m = methods.get(service);
    Rule r = m == null ? null : m.get(method);
    if (r != null) {
      return r;
    }
    r = services.get(service);
    return r != null ? r : otherwise;
  }

  /**
   * Checks that every service and method these rules name is served.
   *
   * @param served the method names of each service served
   * @throws IllegalArgumentException naming the first rule that names something not served
   */
  public void checkNames(Map<String, ? extends Collection<String>> served) {
    for (String s : services.keySet()) {
      if (!served.containsKey(s)) {
        throw unknownService(s, served);
      }
    }
    for (Map.Entry<String, Map<String, Rule>> e : methods.entrySet()) {
      Collection<String> names = served.get(e.getKey());
      if (names == null) {
        throw unknownService(e.getKey(), served);
      }
      for (String m : e.getValue().keySet()) {
        if (!names.contains(m)) {
          throw new IllegalArgumentException("access rule for " + e.getKey() + "/" + m
              + ": service " + e.getKey() + " has no method '" + m + "' (methods: "
              + String.join(", ", names) + ")");
        }
      }
    }
  }

  private static IllegalArgumentException unknownService(String s,
      Map<String, ? extends Collection<String>> served) {
    return new IllegalArgumentException("access rule for service '" + s + "': not served here"
        + " (services: " + String.join(", ", served.keySet()) + ")");
  }

  @Override
  public String toString() {
    return "AccessRules{services=" + services + ", methods=" + methods + ", otherwise="
        + otherwise + '}';
  }

  /** The rule of one method: public, or a test of the caller's identity. Immutable. */
  public static final class Rule {
    private final boolean isPublic;
    private final Predicate<Identity> test;
    private final String description;

    private Rule(boolean isPublic, Predicate<Identity> test, String description) {
      this.isPublic = isPublic;
      this.test = test;
      this.description = description;
    }

    /** Whether callers without credentials may call the method. */
    public boolean isPublic() {
      return isPublic;
    }

    /** Whether an authenticated caller may call the method. */
    public boolean permits(Identity identity) {
      return isPublic || test.test(Objects.requireNonNull(identity, "identity"));
    }

    @Override
    public String toString() {
      return description;
    }
  }

  /** Builds {@link AccessRules}. Not thread-safe. */
  public static final class Builder {
    private final Map<String, Rule> services = new LinkedHashMap<>();
    private final Map<String, Map<String, Rule>> methods = new LinkedHashMap<>();
    private Rule otherwise = DENY;

    private Builder() {}

    /** Opens every method of {@code service} to everyone, with or without credentials. */
    public Builder permitAll(String service) {
      return service(service, PUBLIC);
    }

    /** Opens one method (every overload of the name) to everyone. */
    public Builder permitAll(String service, String method) {
      return method(service, method, PUBLIC);
    }

    /**
     * The methods of {@code service} without a rule of their own: authenticated callers
     * {@code test} accepts.
     */
    public Builder allow(String service, Predicate<Identity> test) {
      Objects.requireNonNull(test, "test");
      return service(service, new Rule(false, test, "a test"));
    }

    /** One method (every overload of the name): authenticated callers {@code test} accepts. */
    public Builder allow(String service, String method, Predicate<Identity> test) {
      Objects.requireNonNull(test, "test");
      return method(service, method, new Rule(false, test, "a test"));
    }

    /** One method: authenticated callers with at least one of {@code roles}. */
    public Builder allowRoles(String service, String method, String... roles) {
      List<String> list = List.copyOf(new ArrayList<>(List.of(roles)));
      if (list.isEmpty()) {
        throw new IllegalArgumentException("roles: none (expected: at least one)");
      }
      Set<String> set = Set.copyOf(list);
      return method(service, method, new Rule(false, id -> {
        for (String r : set) {
          if (id.hasRole(r)) {
            return true;
          }
        }
        return false;
      }, "roles " + list));
    }

    /**
     * Methods without a rule (of their own or of their service) are open to any authenticated
     * caller, instead of denied.
     */
    public Builder requireAuthenticated() {
      otherwise = AUTHENTICATED;
      return this;
    }

    private Builder service(String service, Rule rule) {
      checkName("service", service);
      if (services.putIfAbsent(service, rule) != null) {
        throw new IllegalArgumentException("access rule for service " + service
            + ": given twice (expected: one rule per service)");
      }
      return this;
    }

    private Builder method(String service, String method, Rule rule) {
      checkName("service", service);
      checkName("method", method);
      if (methods.computeIfAbsent(service, k -> new LinkedHashMap<>())
          .putIfAbsent(method, rule) != null) {
        throw new IllegalArgumentException("access rule for " + service + "/" + method
            + ": given twice (expected: one rule per method)");
      }
      return this;
    }

    private static void checkName(String what, String name) {
      Objects.requireNonNull(name, what);
      if (name.isBlank()) {
        throw new IllegalArgumentException(what + ": '" + name + "' (expected: not blank)");
      }
    }

    /** The rules. */
    public AccessRules build() {
      Map<String, Map<String, Rule>> m = new LinkedHashMap<>();
      methods.forEach((k, v) -> m.put(k, Map.copyOf(v)));
      return new AccessRules(Map.copyOf(services), Map.copyOf(m), otherwise);
    }
  }
}
