package io.courier.demo;

import io.courier.server.CourierServer;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;

/**
 * The demo's provider process: serves {@link Greeter} on a free loopback port, prints
 * {@code LISTENING <port>}, and shuts down gracefully when its standard input closes or says
 * {@code stop}.
 */
public final class ProviderMain {

  private ProviderMain() {}

  public static void main(String[] args) throws Exception {
    int port = args.length > 0 ? Integer.parseInt(args[0]) : 0;
    CourierServer server = CourierServer.builder()
        .host("127.0.0.1")
        .port(port)
        .service(Greeter.class, new GreeterImpl())
        .build()
        .start();
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
