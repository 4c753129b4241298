package io.courier.metrics.micrometer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.courier.client.CourierClient;
import io.courier.server.CourierServer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.net.ConnectException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpRequest.BodyPublishers;
import java.net.http.HttpResponse;
import java.net.http.HttpResponse.BodyHandlers;
import java.util.Collections;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The admin port, scraped over real HTTP with the JDK's client. */
class AdminServerTest {

  final PrometheusMeterRegistry prometheus = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
  CourierServer server;
  AdminServer admin;

  @AfterEach
  void close() {
    if (admin != null) {
      admin.close();
    }
    if (server != null) {
      server.close();
    }
  }

  private HttpResponse<String> get(String path) throws Exception {
    return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + admin.port() + path))
        .build(), BodyHandlers.ofString());
  }

  private void start() {
    server = CourierServer.builder().host("127.0.0.1").port(0)
        .service(MetricsTest.Calc.class, new MetricsTest.CalcImpl())
        .observer(CourierMetrics.of(prometheus)).drainTimeout(java.time.Duration.ofSeconds(1))
        .build().start();
    admin = AdminServer.builder().prometheus(prometheus).server(server).build().start();
  }

  @Test
  void metricsAreScrapedInThePrometheusTextFormat() throws Exception {
    start();
    try (CourierClient c = CourierClient.builder().address("127.0.0.1:" + server.port())
        .build()) {
      c.stub(MetricsTest.Calc.class).add(1, 2);
    }
    HttpResponse<String> r = get("/metrics");
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.headers().firstValue("content-type")).hasValueSatisfying(
        t -> assertThat(t).startsWith("text/plain"));
    assertThat(r.body())
        .contains("courier_server_calls_total{method=\"add\",protocol=\"courier\","
            + "service=\"test.Calc\",status=\"OK\"} 1")
        .contains("courier_server_call_duration_seconds_bucket{")
        .contains("courier_server_connections_accepted_total 1")
        .contains("courier_server_calls_active{method=\"add\",protocol=\"courier\","
            + "service=\"test.Calc\"} 0");
  }

  @Test
  void healthFollowsTheServerAndServicesAreListed() throws Exception {
    start();
    HttpResponse<String> health = get("/health");
    assertThat(health.statusCode()).isEqualTo(200);
    assertThat(health.body()).isEqualTo("{\"status\":\"SERVING\"}");
    HttpResponse<String> services = get("/admin/services");
    assertThat(services.statusCode()).isEqualTo(200);
    assertThat(services.body()).startsWith("{\"services\":[{\"name\":\"test.Calc\",\"methods\":[")
        .contains("{\"name\":\"add\",\"kind\":\"SYNC\",\"signature\":\"test.Calc/add(int,int)\"}");
    server.shutdown();
    HttpResponse<String> draining = get("/health");
    assertThat(draining.statusCode()).isEqualTo(503);
    assertThat(draining.body()).isEqualTo("{\"status\":\"DRAINING\"}");
  }

  @Test
  void otherPathsAndMethodsAreRefused() throws Exception {
    start();
    assertThat(get("/").statusCode()).isEqualTo(404);
    assertThat(get("/metrics/x").statusCode()).isEqualTo(404);
    HttpResponse<String> post = http.send(HttpRequest.newBuilder(
        URI.create("http://127.0.0.1:" + admin.port() + "/metrics"))
        .POST(BodyPublishers.ofString("x")).build(), BodyHandlers.ofString());
    assertThat(post.statusCode()).isEqualTo(405);
    assertThat(post.headers().firstValue("allow")).hasValue("GET, HEAD");
    assertThat(get("/health").statusCode()).as("still serving").isEqualTo(200);
  }

  @Test
  void itListensOnLoopbackOnlyUnlessToldOtherwise() throws Exception {
    admin = AdminServer.builder().build().start();
    assertThat(admin.address().isLoopbackAddress()).isTrue();
    assertThat(get("/health").body()).isEqualTo("{\"status\":\"SERVING\"}");
    assertThat(get("/metrics").statusCode()).as("no registry configured").isEqualTo(404);
    InetAddress other = nonLoopbackAddress();
    assumeTrue(other != null, "this host has no address but loopback");
    try (Socket s = new Socket()) {
      assertThatThrownBy(() -> s.connect(new InetSocketAddress(other, admin.port()), 2000))
          .isInstanceOf(ConnectException.class);
    }
  }

  @Test
  void anotherAddressMustBeAskedFor() throws Exception {
    InetAddress other = nonLoopbackAddress();
    assumeTrue(other != null, "this host has no address but loopback");
    admin = AdminServer.builder().bindAddress(other.getHostAddress()).build().start();
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress(other, admin.port()), 2000);
      assertThat(s.isConnected()).isTrue();
    }
    assertThatThrownBy(() -> AdminServer.builder().port(70000))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("port: 70000 (expected: 0 to 65535)");
  }

  private static InetAddress nonLoopbackAddress() throws Exception {
    for (NetworkInterface n : Collections.list(NetworkInterface.getNetworkInterfaces())) {
      if (!n.isUp() || n.isLoopback()) {
        continue;
      }
      for (InetAddress a : Collections.list(n.getInetAddresses())) {
        if (a instanceof Inet4Address && !a.isLoopbackAddress()) {
          return a;
        }
      }
    }
    return null;
  }
}
