package io.courier.demo;

import io.courier.server.CourierServer;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/**
 * The demo's provider process: serves {@link Greeter} on a free loopback port (registering it when
 * given a registry), prints {@code LISTENING <port>}, and shuts down gracefully when its standard
 * input closes or says {@code stop}.
 */
public final class ProviderMain {

  private ProviderMain() {}

  /**
   * Arguments: the provider's name, then optionally a registry URI to register in.
   */
  public static void main(String[] args) throws Exception {
    String name = args.length > 0 ? args[0] : "provider";
    CourierServer.Builder builder = CourierServer.builder()
        .host("127.0.0.1")
        .port(0)
        .unregisterDelay(Duration.ofMillis(300))
        .service(Greeter.class, new GreeterImpl(name));
    if (args.length > 1) {
      builder.registry(args[1]);
    }
    CourierServer server = builder.build().start();
    System.out.println("LISTENING " + server.port());
    System.out.flush();
    try (BufferedReader in = new BufferedReader(
        new InputStreamReader(System.in, StandardCharsets.UTF_8))) {
      String line;
      while ((line = in.readLine()) != null && !line.equals("stop")) {
        // wait
      }
    }
    server.close();
  }
}
