package io.courier.auth;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * Who made a call, as an {@link Authenticator} established it: a name, roles and attributes.
 * Immutable; holds no secret (never put a token or password in it: identities appear in logs
 * and error messages).
 *
 * <pre>{@code
 * Identity ada = Identity.builder("ada").role("admin").attribute("tenant", "t1").build();
 * Identity bob = Identity.of("bob", "reader");
 * }</pre>
 *
 * <p>Inside a service method the caller's identity is {@link io.courier.CallContext#identity()}.
 */
public final class Identity {

  private final String name;
  private final Set<String> roles;
  private final Map<String, String> attributes;

  private Identity(Builder b) {
    this.name = b.name;
    this.roles = Collections.unmodifiableSet(new LinkedHashSet<>(b.roles));
    this.attributes = Collections.unmodifiableMap(new LinkedHashMap<>(b.attributes));
  }

  /** An identity with a name and roles, and no attributes. */
  public static Identity of(String name, String... roles) {
    Builder b = builder(name);
    for (String r : roles) {
      b.role(r);
    }
    return b.build();
  }

  /** A builder of an identity called {@code name}. */
  public static Builder builder(String name) {
    return new Builder(name);
  }

  /** The name: a user, a service account, a certificate's subject. */
  public String name() {
    return name;
  }

  /** The roles, in the order given (unmodifiable). */
  public Set<String> roles() {
    return roles;
  }

  /** Whether the identity has {@code role}. */
  public boolean hasRole(String role) {
    return roles.contains(role);
  }

  /** Whether the identity has at least one of {@code roles}. */
  public boolean hasAnyRole(String... roles) {
    for (String r : roles) {
      if (this.roles.contains(r)) {
        return true;
      }
    }
    return false;
  }

  /** Attributes such as a tenant or the names of a certificate (unmodifiable). */
  public Map<String, String> attributes() {
    return attributes;
  }

  /** The attribute {@code key}, or {@code null}. */
  public String attribute(String key) {
    return attributes.get(key);
  }

  /** A builder that starts from this identity. */
  public Builder toBuilder() {
    Builder b = new Builder(name);
    b.roles.addAll(roles);
    b.attributes.putAll(attributes);
    return b;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Identity i && i.name.equals(name) && i.roles.equals(roles)
        && i.attributes.equals(attributes);
  }

  @Override
  public int hashCode() {
    return Objects.hash(name, roles, attributes);
  }

  @Override
  public String toString() {
    return "Identity{" + name + (roles.isEmpty() ? "" : ", roles=" + roles)
        + (attributes.isEmpty() ? "" : ", attributes=" + attributes) + '}';
  }

  /** Builds an {@link Identity}. Not thread-safe. */
  public static final class Builder {
    private final String name;
    private final Set<String> roles = new LinkedHashSet<>();
    private final Map<String, String> attributes = new LinkedHashMap<>();

    private Builder(String name) {
      Objects.requireNonNull(name, "name");
      if (name.isBlank()) {
        throw new IllegalArgumentException("name: '" + name + "' (expected: not blank)");
      }
      this.name = name;
    }

    /** Adds a role; returns this. */
    public Builder role(String role) {
      Objects.requireNonNull(role, "role");
      if (role.isBlank()) {
        throw new IllegalArgumentException("role: '" + role + "' (expected: not blank)");
      }
      roles.add(role);
      return this;
    }

    /** Sets an attribute; returns this. */
    public Builder attribute(String key, String value) {
      attributes.put(Objects.requireNonNull(key, "key"), Objects.requireNonNull(value, "value"));
      return this;
    }

    /** The identity. */
    public Identity build() {
      return new Identity(this);
    }
  }
}
