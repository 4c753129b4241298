package io.courier.registry;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * One provider of one service, as a registry records it. Immutable; build with
 * {@link #builder(String, String, int)}.
 */
public final class ServiceInstance {

  private final String service;
  private final String host;
  private final int port;
  private final String protocol;
  private final List<String> serializers;
  private final int weight;
  private final Set<String> tags;
  private final String version;
  private final Map<String, String> metadata;

  private ServiceInstance(Builder b) {
    this.service = b.service;
    this.host = b.host;
    this.port = b.port;
    this.protocol = b.protocol;
    this.serializers = List.copyOf(b.serializers);
    this.weight = b.weight;
    this.tags = Collections.unmodifiableSet(new LinkedHashSet<>(b.tags));
    this.version = b.version;
    this.metadata = Collections.unmodifiableMap(new LinkedHashMap<>(b.metadata));
  }

  /** A builder for a provider of {@code service} at {@code host:port}. */
  public static Builder builder(String service, String host, int port) {
    return new Builder(service, host, port);
  }

  public String service() {
    return service;
  }

  public String host() {
    return host;
  }

  public int port() {
    return port;
  }

  /** {@code host:port}. */
  public String address() {
    return host.indexOf(':') >= 0 ? "[" + host + "]:" + port : host + ":" + port;
  }

  /** The wire protocol, {@code courier} for now. */
  public String protocol() {
    return protocol;
  }

  /** Serializers the provider accepts for this service. */
  public List<String> serializers() {
    return serializers;
  }

  /** Load-balancing weight, 1 to 10000 (default 100). */
  public int weight() {
    return weight;
  }

  public Set<String> tags() {
    return tags;
  }

  /** The provider's version string, or empty. */
  public String version() {
    return version;
  }

  public Map<String, String> metadata() {
    return metadata;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof ServiceInstance s && s.service.equals(service) && s.host.equals(host)
        && s.port == port && s.protocol.equals(protocol) && s.serializers.equals(serializers)
        && s.weight == weight && s.tags.equals(tags) && s.version.equals(version)
        && s.metadata.equals(metadata);
  }

  @Override
  public int hashCode() {
    return Objects.hash(service, host, port, protocol, serializers, weight, tags, version,
        metadata);
  }

  @Override
  public String toString() {
    return service + "@" + address() + "[" + protocol + ", " + serializers + ", weight " + weight
        + (tags.isEmpty() ? "" : ", tags " + tags) + (version.isEmpty() ? "" : ", " + version)
        + "]";
  }

  /** Builds a {@link ServiceInstance}. Not thread-safe. */
  public static final class Builder {
    private final String service;
    private final String host;
    private final int port;
    private String protocol = "courier";
    private List<String> serializers = List.of();
    private int weight = 100;
    private final Set<String> tags = new LinkedHashSet<>();
    private String version = "";
    private final Map<String, String> metadata = new LinkedHashMap<>();

    private Builder(String service, String host, int port) {
      this.service = Objects.requireNonNull(service, "service");
      this.host = Objects.requireNonNull(host, "host");
      if (service.isEmpty() || service.indexOf('/') >= 0) {
        throw new IllegalArgumentException("service: '" + service + "' (expected: non-empty, no '/')");
      }
      if (port <= 0 || port > 65535) {
        throw new IllegalArgumentException("port: " + port + " (expected: 1 to 65535)");
      }
      this.port = port;
    }

    public Builder protocol(String protocol) {
      this.protocol = Objects.requireNonNull(protocol, "protocol");
      return this;
    }

    public Builder serializers(List<String> serializers) {
      this.serializers = List.copyOf(serializers);
      return this;
    }

    public Builder weight(int weight) {
      if (weight < 1 || weight > 10_000) {
        throw new IllegalArgumentException("weight: " + weight + " (expected: 1 to 10000)");
      }
      this.weight = weight;
      return this;
    }

    public Builder tag(String tag) {
      tags.add(Objects.requireNonNull(tag, "tag"));
      return this;
    }

    public Builder version(String version) {
      this.version = Objects.requireNonNull(version, "version");
      return this;
    }

    public Builder metadata(String key, String value) {
      metadata.put(Objects.requireNonNull(key, "key"), Objects.requireNonNull(value, "value"));
      return this;
    }

    public ServiceInstance build() {
      return new ServiceInstance(this);
    }
  }
}
