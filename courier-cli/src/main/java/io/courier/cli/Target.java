package io.courier.cli;

import io.courier.ErrorReason;
import io.courier.RpcException;
import io.courier.TlsConfig;
import io.courier.auth.CallCredentials;
import io.courier.client.CourierClient;
import io.courier.core.Registries;
import io.courier.registry.Registry;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletionException;
import java.util.regex.Pattern;

/**
 * Where the commands that call a service send their calls ({@code --registry} or
 * {@code --address}) and how ({@code --timeout}, a bearer token, TLS): the options they share,
 * and the client built from them.
 */
final class Target {

  /** Reasons of a call that never reached a server: the command exits with status 3. */
  private static final Set<ErrorReason> UNREACHABLE = Set.of(ErrorReason.CONNECT_FAILED,
      ErrorReason.NO_PROVIDER, ErrorReason.TLS_HANDSHAKE_FAILED, ErrorReason.NOT_SENT);

  private static final Pattern REFLECTION_METHOD =
      Pattern.compile("^ServerReflection\\.\\w+\\([^)]*\\): ");

  private Target() {}

  /** The options of the target, the timeout, the credentials and TLS. */
  static List<Option> options(String defaultTimeout) {
    List<Option> options = new ArrayList<>(List.of(
        Option.value("registry", "<uri>", null,
            "find the service in this registry, e.g. zookeeper://127.0.0.1:2181/courier"),
        Option.value("address", "<host:port>", null, "call this server directly")));
    options.addAll(connectionOptions(defaultTimeout));
    return options;
  }

  /** The timeout, the credentials and TLS: how to call, whoever is called. */
  static List<Option> connectionOptions(String defaultTimeout) {
    return List.of(
        Option.value("timeout", "<duration>", defaultTimeout,
            "deadline of each call, e.g. 500ms, 2s, 1m"),
        Option.value("token", "<token>", null, "send this bearer token with each call"),
        Option.value("token-file", "<file>", null,
            "send the bearer token in this file (first line) with each call"),
        Option.value("tls-ca", "<pem>", null,
            "connect with TLS, trusting the certificates in this PEM file"),
        Option.value("tls-cert", "<pem>", null,
            "client certificate chain for mutual TLS (with --tls-key)"),
        Option.value("tls-key", "<pem>", null, "client private key for mutual TLS"),
        Option.value("tls-server-name", "<name>", null,
            "the name the server's certificate must have (default: the host)"));
  }

  /**
   * Builds a client for the target the arguments name.
   *
   * @throws UsageException when neither or both of --registry and --address is given, or an
   *     option's value is malformed
   */
  static CourierClient client(String command, Arguments args) throws UsageException {
    String prefix = "courier " + command;
    if (args.has("registry") == args.has("address")) {
      throw new UsageException(prefix + ": give --registry <uri> or --address <host:port>"
          + (args.has("registry") ? ", not both" : ""));
    }
    CourierClient.Builder b = builder(command, args);
    if (args.has("registry")) {
      b.registry(args.value("registry"));
    } else {
      String address = args.value("address");
      int colon = address.lastIndexOf(':');
      if (colon <= 0 || !address.substring(colon + 1).matches("\\d{1,5}")) {
        throw new UsageException(prefix + ": --address: " + address
            + " (expected: host:port, e.g. 127.0.0.1:9000)");
      }
      b.address(address);
    }
    try {
      return b.build();
    } catch (IllegalArgumentException | IllegalStateException e) {
      throw new UsageException(prefix + ": " + e.getMessage());
    }
  }

  /**
   * A client builder with the timeout, credentials and TLS the arguments give, and no target.
   *
   * @throws UsageException when an option's value is malformed
   */
  static CourierClient.Builder builder(String command, Arguments args) throws UsageException {
    String prefix = "courier " + command;
    CourierClient.Builder b = CourierClient.builder()
        // a one-off command: no provider list left behind in the home directory
        .registryCacheDir(null)
        // the call is tried once: the command reports its first failure as it is
        .maxAttempts(1)
        .timeout(duration(prefix, "timeout", args.value("timeout")))
        .connectTimeout(Duration.ofSeconds(3));
    if (args.has("token") && args.has("token-file")) {
      throw new UsageException(prefix + ": give --token or --token-file, not both");
    }
    String token = args.has("token") ? args.value("token")
        : args.has("token-file") ? tokenFile(prefix, args.value("token-file")) : null;
    if (token != null) {
      try {
        b.credentials(CallCredentials.bearer(token));
      } catch (IllegalArgumentException e) {
        throw new UsageException(prefix + ": " + (args.has("token") ? "--token" : "--token-file")
            + ": not a valid bearer token (" + e.getMessage() + ")");
      }
    }
    TlsConfig tls = tls(prefix, args);
    if (tls != null) {
      b.tls(tls);
    }
    return b;
  }

  private static String tokenFile(String prefix, String file) throws UsageException {
    try {
      List<String> lines = Files.readAllLines(Path.of(file), StandardCharsets.UTF_8);
      String token = lines.isEmpty() ? "" : lines.get(0).strip();
      if (token.isEmpty()) {
        throw new UsageException(prefix + ": --token-file: " + file + " is empty");
      }
      return token;
    } catch (IOException e) {
      throw new UsageException(prefix + ": --token-file: cannot read " + file + " (" + e + ")");
    }
  }

  private static TlsConfig tls(String prefix, Arguments args) throws UsageException {
    boolean any = args.has("tls-ca") || args.has("tls-cert") || args.has("tls-key")
        || args.has("tls-server-name");
    if (!any) {
      return null;
    }
    if (args.has("tls-cert") != args.has("tls-key")) {
      throw new UsageException(prefix + ": --tls-cert and --tls-key go together");
    }
    TlsConfig.Builder tls = TlsConfig.builder();
    try {
      if (args.has("tls-ca")) {
        tls.trustCertificates(readable(prefix, "tls-ca", args.value("tls-ca")));
      }
      if (args.has("tls-cert")) {
        tls.keyCertChain(readable(prefix, "tls-cert", args.value("tls-cert")),
            readable(prefix, "tls-key", args.value("tls-key")));
      }
      if (args.has("tls-server-name")) {
        tls.serverName(args.value("tls-server-name"));
      }
      return tls.build();
    } catch (IllegalArgumentException | IllegalStateException e) {
      throw new UsageException(prefix + ": TLS: " + e.getMessage());
    }
  }

  private static Path readable(String prefix, String option, String file)
      throws UsageException {
    Path p = Path.of(file);
    if (!Files.isReadable(p)) {
      throw new UsageException(prefix + ": --" + option + ": cannot read " + file);
    }
    return p;
  }

  /**
   * A duration as written on the command line: a number and a unit, {@code ms}, {@code s},
   * {@code m} or {@code h}; {@code 0} for none.
   */
  static Duration duration(String prefix, String option, String value) throws UsageException {
    String v = value.strip();
    try {
      if (v.equals("0")) {
        return Duration.ZERO;
      }
      int split = 0;
      while (split < v.length() && (Character.isDigit(v.charAt(split)) || v.charAt(split) == '.')) {
        split++;
      }
      if (split > 0) {
        double n = Double.parseDouble(v.substring(0, split));
        long unit = switch (v.substring(split)) {
          case "ms" -> 1_000_000L;
          case "s" -> 1_000_000_000L;
          case "m" -> 60_000_000_000L;
          case "h" -> 3_600_000_000_000L;
          default -> -1;
        };
        if (unit > 0 && n >= 0 && n * unit < Long.MAX_VALUE) {
          return Duration.ofNanos(Math.round(n * unit));
        }
      }
    } catch (NumberFormatException e) {
      // reported below
    }
    throw new UsageException(prefix + ": --" + option + ": " + value
        + " (expected: a number and a unit, ms, s, m or h, e.g. 2s)");
  }

  /** Whether the call failed before reaching any server. */
  static boolean unreachable(RpcException e) {
    return UNREACHABLE.contains(e.reason());
  }

  /** The exit status for a failed call. */
  static int exitStatus(RpcException e) {
    return unreachable(e) ? CourierCli.EXIT_UNAVAILABLE : CourierCli.EXIT_FAILURE;
  }

  /** The reasons that make {@link #exitStatus} answer 3, for the help. */
  static List<String> unreachableReasons() {
    List<String> names = new ArrayList<>();
    for (ErrorReason r : ErrorReason.values()) {
      if (UNREACHABLE.contains(r)) {
        names.add(r.name());
      }
    }
    return names;
  }

  /**
   * Reports a failed call or lookup on {@code err} and answers the exit status: 3 when no server
   * or registry could be reached, else 1.
   */
  static int failed(String prefix, String what, Throwable t, Arguments args, PrintStream err) {
    if (t instanceof CompletionException && t.getCause() != null) {
      t = t.getCause();
    }
    if (t instanceof RpcException e) {
      String hint = "";
      if (e.reason() == ErrorReason.NO_PROVIDER && args.has("registry")) {
        hint = "\n" + prefix + ": " + registryServices(args.value("registry"));
      } else if (e.reason() == ErrorReason.TLS_HANDSHAKE_FAILED && !args.has("tls-ca")
          && !args.has("tls-cert")) {
        hint = "\n" + prefix + ": to connect with TLS, give --tls-ca <pem> (and --tls-cert"
            + " <pem> --tls-key <pem> for mutual TLS)";
      }
      err.println(prefix + ": " + what + ": " + describe(e) + hint);
      return exitStatus(e);
    }
    if (args.has("registry") && t instanceof IllegalStateException) {
      // the registry could not be read
      err.println(prefix + ": " + what + ": " + t.getMessage());
      return CourierCli.EXIT_UNAVAILABLE;
    }
    err.println(prefix + ": " + what + ": " + t);
    return CourierCli.EXIT_FAILURE;
  }

  /**
   * A failed call as a person reads it: code, reason, message, remote exception class, endpoint
   * (without the timing breakdown of {@link RpcException#getMessage()}).
   */
  static String describe(RpcException e) {
    StringBuilder b = new StringBuilder(e.status().code().name());
    if (!e.reason().name().equals(e.status().code().name())
        && e.reason() != ErrorReason.UNKNOWN_REASON) {
      b.append(" (").append(e.reason().name()).append(')');
    }
    String description = e.status().description();
    if (description != null) {
      // the reflection service is how the command calls, not what the user called
      b.append(": ").append(REFLECTION_METHOD.matcher(description).replaceFirst(""));
    }
    if (e.remoteClassName() != null) {
      b.append(" [remote ").append(e.remoteClassName()).append(']');
    }
    if (e.endpoint() != null) {
      b.append("; endpoint ").append(e.endpoint());
    }
    return b.toString();
  }

  /** What the registry holds, to go with a NO_PROVIDER failure. */
  private static String registryServices(String uri) {
    try (Registry registry = Registries.open(uri)) {
      List<String> names = registry.services();
      return names.isEmpty() ? "the registry has no services"
          : "services in the registry: " + String.join(", ", names);
    } catch (RuntimeException e) {
      return "cannot list the services in the registry: " + e.getMessage();
    }
  }
}
