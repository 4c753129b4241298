package io.courier.transport.netty;

import static org.assertj.core.api.Assertions.assertThat;

import io.courier.client.CourierClient;
import io.courier.server.CourierServer;
import io.courier.testing.fixtures.Shop;
import io.courier.testing.fixtures.ShopImpl;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpRequest.BodyPublishers;
import java.net.http.HttpResponse;
import java.net.http.HttpResponse.BodyHandlers;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** HTTP/1.1 JSON calls with a real HTTP client against a real server's HTTP port. */
class HttpJsonTest {

  static ShopImpl impl;
  static CourierServer server;
  static HttpClient http;

  @BeforeAll
  static void start() {
    impl = new ShopImpl();
    server = CourierServer.builder().host("127.0.0.1").port(0).httpPort(0)
        .service(Shop.class, impl)
        .build().start();
    http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  static URI uri(CourierServer s, String path) {
    return URI.create("http://127.0.0.1:" + s.httpPort() + path);
  }

  static HttpResponse<String> post(String path, String json) throws Exception {
    return http.send(HttpRequest.newBuilder(uri(server, path))
        .header("content-type", "application/json")
        .POST(BodyPublishers.ofString(json)).build(), BodyHandlers.ofString());
  }

  static HttpResponse<String> send(HttpRequest.Builder b) throws Exception {
    return http.send(b.build(), BodyHandlers.ofString());
  }

  @Test
  void arrayOfArgumentsAnswersTheBareResult() throws Exception {
    HttpResponse<String> r = post("/test.Shop/add", "[1, 2]");
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.body()).isEqualTo("3");
    assertThat(r.headers().firstValue("content-type")).hasValue("application/json; charset=utf-8");
  }

  @Test
  void theServersOwnPortAnswersHttpBesideTheCourierProtocol() throws Exception {
    URI main = URI.create("http://127.0.0.1:" + server.port() + "/test.Shop/add");
    for (int i = 0; i < 2; i++) { // twice: keep-alive on the detected connection
      HttpResponse<String> r = http.send(HttpRequest.newBuilder(main)
          .header("content-type", "application/json")
          .POST(BodyPublishers.ofString("[40, 2]")).build(), BodyHandlers.ofString());
      assertThat(r.statusCode()).isEqualTo(200);
      assertThat(r.body()).isEqualTo("42");
    }
    HttpResponse<String> missing = http.send(HttpRequest.newBuilder(
        URI.create("http://127.0.0.1:" + server.port() + "/test.Shop/nope"))
        .header("content-type", "application/json")
        .POST(BodyPublishers.ofString("[]")).build(), BodyHandlers.ofString());
    assertThat(missing.statusCode()).isEqualTo(404);
    try (CourierClient client = CourierClient.builder()
        .address("127.0.0.1:" + server.port()).build()) {
      assertThat(client.stub(Shop.class).add(1, 2)).isEqualTo(3);
    }
  }

  @Test
  void namedArgumentsInAnyOrder() throws Exception {
    assertThat(post("/test.Shop/add", "{\"b\": 2, \"a\": 40}").body()).isEqualTo("42");
    HttpResponse<String> r = post("/test.Shop/move",
        "{\"dy\": 20, \"p\": {\"x\": 1, \"y\": 2}, \"dx\": 10}");
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.body()).isEqualTo("{\"x\":11,\"y\":22}");
  }

  @Test
  void genericParameterAndResultTypes() throws Exception {
    assertThat(post("/test.Shop/counts", "[[\"b\", \"a\", \"b\"]]").body())
        .isEqualTo("{\"a\":1,\"b\":2}");
    assertThat(post("/test.Shop/points", "[2]").body())
        .isEqualTo("[{\"x\":0,\"y\":0},{\"x\":1,\"y\":-1}]");
  }

  @Test
  void overloadsAreToldApartByArgumentCount() throws Exception {
    assertThat(post("/test.Shop/add", "[1, 2, 3]").body()).isEqualTo("6");
    assertThat(post("/test.Shop/add", "{\"a\": 1, \"b\": 2, \"c\": 4}").body()).isEqualTo("7");
    HttpResponse<String> none = post("/test.Shop/add", "[1]");
    assertThat(none.statusCode()).isEqualTo(400);
    assertThat(none.body()).contains("no overload takes 1 argument ")
        .contains("test.Shop/add(int,int)").contains("test.Shop/add(int,int,int)");
  }

  @Test
  void overloadsWithTheSameCountAreAmbiguous() throws Exception {
    HttpResponse<String> r = post("/test.Shop/label", "[\"x\"]");
    assertThat(r.statusCode()).isEqualTo(400);
    assertThat(r.body()).contains("\"code\":\"INVALID_ARGUMENT\"").contains("ambiguous")
        .contains("test.Shop/label(java.lang.String)")
        .contains("test.Shop/label(io.courier.testing.fixtures.Point)");
  }

  @Test
  void asyncVoidAndOneWayMethods() throws Exception {
    assertThat(post("/test.Shop/later", "[\"x\"]").body()).isEqualTo("\"later x\"");
    int before = impl.pings.get();
    HttpResponse<String> v = post("/test.Shop/ping", "[]");
    assertThat(v.statusCode()).isEqualTo(200);
    assertThat(v.body()).isEqualTo("null");
    assertThat(post("/test.Shop/ping", "").statusCode()).isEqualTo(200);
    assertThat(impl.pings.get()).isEqualTo(before + 2);
    HttpResponse<String> oneWay = post("/test.Shop/record", "[\"fired\"]");
    assertThat(oneWay.statusCode()).isEqualTo(202);
    assertThat(oneWay.body()).isEmpty();
    assertThat(impl.events.poll(5, TimeUnit.SECONDS)).isEqualTo("fired");
  }

  @ParameterizedTest
  @CsvSource({
      "INVALID_ARGUMENT, 400", "UNAUTHENTICATED, 401", "PERMISSION_DENIED, 403",
      "NOT_FOUND, 404", "DEADLINE_EXCEEDED, 504", "UNIMPLEMENTED, 501",
      "RESOURCE_EXHAUSTED, 429", "UNAVAILABLE, 503", "INTERNAL, 500", "ALREADY_EXISTS, 500",
      "CANCELLED, 500"})
  void statusCodesMapToHttpStatuses(String code, int http) throws Exception {
    HttpResponse<String> r = post("/test.Shop/failWith", "[\"" + code + "\"]");
    assertThat(r.statusCode()).isEqualTo(http);
    assertThat(r.headers().firstValue("content-type")).hasValue("application/json; charset=utf-8");
    assertThat(r.body()).startsWith("{\"code\":\"" + code + "\"")
        .contains("\"message\":\"failed with " + code + "\"");
  }

  @Test
  void applicationExceptionIs500WithItsClassAndMessage() throws Exception {
    HttpResponse<String> r = post("/test.Shop/boom", "[\"it \\\"broke\\\"\"]");
    assertThat(r.statusCode()).isEqualTo(500);
    assertThat(r.body()).isEqualTo("{\"code\":\"UNKNOWN\",\"reason\":\"APPLICATION_ERROR\","
        + "\"message\":\"it \\\"broke\\\"\",\"exception\":\"java.lang.IllegalStateException\"}\n");
  }

  @Test
  void unknownPathsAre404() throws Exception {
    HttpResponse<String> service = post("/no.Such/add", "[]");
    assertThat(service.statusCode()).isEqualTo(404);
    assertThat(service.body()).contains("\"code\":\"NOT_FOUND\"").contains("no service 'no.Such'")
        .contains("test.Shop");
    HttpResponse<String> method = post("/test.Shop/subtract", "[1, 2]");
    assertThat(method.statusCode()).isEqualTo(404);
    assertThat(method.body()).contains("has no method 'subtract'").contains("add");
    for (String path : new String[] {"/test.Shop", "/test.Shop/", "/test.Shop/add/x", "//add"}) {
      assertThat(post(path, "[]").statusCode()).as(path).isEqualTo(404);
    }
  }

  @Test
  void otherVerbsAre405WithAllow() throws Exception {
    HttpResponse<String> get = send(HttpRequest.newBuilder(uri(server, "/test.Shop/add")).GET());
    assertThat(get.statusCode()).isEqualTo(405);
    assertThat(get.headers().firstValue("allow")).hasValue("POST");
    HttpResponse<String> put = send(HttpRequest.newBuilder(uri(server, "/"))
        .PUT(BodyPublishers.ofString("[]")));
    assertThat(put.statusCode()).isEqualTo(405);
    assertThat(put.headers().firstValue("allow")).hasValue("GET, HEAD");
  }

  @Test
  void rootListsTheServices() throws Exception {
    HttpResponse<String> r = send(HttpRequest.newBuilder(uri(server, "/")).GET());
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.body()).contains("\"test.Shop\":[").contains("\"add(int a, int b) -> int\"")
        .contains("record(java.lang.String event) -> void [ONE_WAY]");
  }

  @Test
  void wrongOrMissingContentTypeIs415() throws Exception {
    HttpResponse<String> none = send(HttpRequest.newBuilder(uri(server, "/test.Shop/add"))
        .POST(BodyPublishers.ofString("[1, 2]")));
    assertThat(none.statusCode()).isEqualTo(415);
    assertThat(none.body()).contains("missing content-type");
    for (String type : new String[] {"application/x-www-form-urlencoded", "text/plain",
        "application/json; charset=iso-8859-1"}) {
      HttpResponse<String> r = send(HttpRequest.newBuilder(uri(server, "/test.Shop/add"))
          .header("content-type", type).POST(BodyPublishers.ofString("[1, 2]")));
      assertThat(r.statusCode()).as(type).isEqualTo(415);
    }
    HttpResponse<String> ok = send(HttpRequest.newBuilder(uri(server, "/test.Shop/add"))
        .header("content-type", "Application/JSON; charset=UTF-8")
        .POST(BodyPublishers.ofString("[1, 2]")));
    assertThat(ok.statusCode()).isEqualTo(200);
  }

  @Test
  void badJsonAndBadArgumentsAre400() throws Exception {
    String[][] cases = {
        {"/test.Shop/move", "[1,"},
        {"/test.Shop/move", "[{\"x\": 1, \"y\": 2}, 1, 2] x"},
        {"/test.Shop/move", "\"just a string\""},
        {"/test.Shop/move", "[{\"x\": 1, \"y\": 2}, 1]"},
        {"/test.Shop/move", "[{\"x\": 1, \"y\": 2, \"z\": 3}, 1, 2]"},
        {"/test.Shop/add", "[\"one\", 2]"},
        {"/test.Shop/add", "[null, 2]"},
        {"/test.Shop/add", "{\"a\": 1, \"z\": 2}"},
        {"/test.Shop/add", "{\"a\": 1, \"a\": 2}"},
        {"/test.Shop/move", ""},
    };
    for (String[] c : cases) {
      HttpResponse<String> r = post(c[0], c[1]);
      assertThat(r.statusCode()).as(c[1]).isEqualTo(400);
      assertThat(r.body()).as(c[1]).startsWith("{\"code\":\"INVALID_ARGUMENT\"");
    }
    assertThat(post("/test.Shop/move", "[{\"x\": 1, \"y\": 2}, 1]").body())
        .contains("expected 3 arguments");
    assertThat(post("/test.Shop/add", "{\"a\": 1, \"z\": 2}").body()).contains("'z'");
    assertThat(post("/test.Shop/add", "[1, 2]").statusCode()).isEqualTo(200); // still served
  }

  static volatile boolean canaryInitialized;

  /** Must never be initialized: no payload may make the server load it. */
  static final class Canary {
    static {
      canaryInitialized = true;
    }
  }

  @Test
  void payloadsCannotNameClasses() throws Exception {
    String canary = Canary.class.getName();
    HttpResponse<String> r = post("/test.Shop/describe",
        "[{\"@class\": \"" + canary + "\", \"@type\": \"" + canary + "\"}]");
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.body()).startsWith("\"java.util.LinkedHashMap");
    HttpResponse<String> typed = post("/test.Shop/describe", "[[\"" + canary + "\", {}]]");
    assertThat(typed.body()).startsWith("\"java.util.ArrayList");
    assertThat(canaryInitialized).isFalse();
  }

  @Test
  void deadlineHeaderIsEnforcedAndPropagated() throws Exception {
    HttpResponse<String> late = send(HttpRequest.newBuilder(uri(server, "/test.Shop/sleep"))
        .header("content-type", "application/json").header("courier-timeout-ms", "100")
        .POST(BodyPublishers.ofString("[3000]")));
    assertThat(late.statusCode()).isEqualTo(504);
    assertThat(late.body()).contains("\"code\":\"DEADLINE_EXCEEDED\"")
        .contains("within its timeout of 100 ms");
    HttpResponse<String> inside = send(HttpRequest.newBuilder(
            uri(server, "/test.Shop/remainingMillis"))
        .header("content-type", "application/json").header("courier-timeout-ms", "60000")
        .POST(BodyPublishers.ofString("[]")));
    assertThat(Long.parseLong(inside.body())).isBetween(1L, 60000L);
    assertThat(post("/test.Shop/remainingMillis", "[]").body()).isEqualTo("-1");
    HttpResponse<String> bad = send(HttpRequest.newBuilder(uri(server, "/test.Shop/ping"))
        .header("content-type", "application/json").header("courier-timeout-ms", "soon")
        .POST(BodyPublishers.ofString("[]")));
    assertThat(bad.statusCode()).isEqualTo(400);
    assertThat(bad.body()).contains("courier-timeout-ms: soon");
  }

  @Test
  void methodsRunOnTheirExecutorOrTheEventLoop() throws Exception {
    assertThat(post("/test.Shop/threadName", "[]").body()).startsWith("\"courier-server-")
        .doesNotContain("-io-");
    assertThat(post("/test.Shop/loopThreadName", "[]").body()).startsWith("\"courier-server-io-");
  }

  @Test
  void streamingMethodsAre501() throws Exception {
    HttpResponse<String> r = post("/test.Shop/watch", "[\"q\"]");
    assertThat(r.statusCode()).isEqualTo(501);
    assertThat(r.body()).contains("streaming method");
  }

  @Test
  void keepAliveServesManyCallsOnOneConnection() throws Exception {
    HttpClient own = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    long before = server.counters().connectionsAccepted();
    for (int i = 0; i < 5; i++) {
      HttpResponse<String> r = own.send(HttpRequest.newBuilder(uri(server, "/test.Shop/add"))
          .header("content-type", "application/json")
          .POST(BodyPublishers.ofString("[" + i + ", 1]")).build(), BodyHandlers.ofString());
      assertThat(r.body()).isEqualTo(Integer.toString(i + 1));
    }
    assertThat(server.counters().connectionsAccepted() - before).isEqualTo(1);
  }

  @Test
  void pipelinedRequestsAreAnsweredInOrder() throws Exception {
    String slow = request("/test.Shop/sleep", "[200]");
    String fast = request("/test.Shop/add", "[20, 22]");
    try (Socket s = new Socket("127.0.0.1", server.httpPort())) {
      s.setSoTimeout(5000);
      OutputStream out = s.getOutputStream();
      out.write((slow + fast).getBytes(StandardCharsets.UTF_8));
      out.flush();
      String answers = readUntil(s.getInputStream(), "\r\n\r\n42");
      assertThat(answers.indexOf("slept 200")).isPositive()
          .isLessThan(answers.indexOf("\r\n\r\n42"));
    }
  }

  static String request(String path, String body) {
    return "POST " + path + " HTTP/1.1\r\nHost: localhost\r\ncontent-type: application/json\r\n"
        + "content-length: " + body.length() + "\r\n\r\n" + body;
  }

  static String readUntil(InputStream in, String end) throws Exception {
    StringBuilder sb = new StringBuilder();
    byte[] buf = new byte[4096];
    while (sb.indexOf(end) < 0) {
      int n = in.read(buf);
      if (n < 0) {
        break;
      }
      sb.append(new String(buf, 0, n, StandardCharsets.UTF_8));
    }
    return sb.toString();
  }

  @Test
  void oversizedBodyIs413() throws Exception {
    try (CourierServer small = CourierServer.builder().host("127.0.0.1").port(0).httpPort(0)
        .maxFrameBytes(1024).service(Shop.class, new ShopImpl()).build().start()) {
      String big = "[\"" + "x".repeat(2000) + "\"]";
      HttpResponse<String> r = http.send(HttpRequest.newBuilder(uri(small, "/test.Shop/describe"))
          .header("content-type", "application/json")
          .POST(BodyPublishers.ofString(big)).build(), BodyHandlers.ofString());
      assertThat(r.statusCode()).isEqualTo(413);
      assertThat(r.body()).contains("\"code\":\"RESOURCE_EXHAUSTED\"").contains("1024 bytes");
      String fits = "[\"" + "x".repeat(1000) + "\"]";
      HttpResponse<String> ok = http.send(HttpRequest.newBuilder(uri(small, "/test.Shop/describe"))
          .header("content-type", "application/json")
          .POST(BodyPublishers.ofString(fits)).build(), BodyHandlers.ofString());
      assertThat(ok.statusCode()).isEqualTo(200);
    }
  }

  @Test
  void drainingServerAnswers503AndCloses() throws Exception {
    CourierServer s = CourierServer.builder().host("127.0.0.1").port(0).httpPort(0)
        .drainTimeout(Duration.ofSeconds(1)).service(Shop.class, new ShopImpl()).build().start();
    try (Socket socket = new Socket("127.0.0.1", s.httpPort())) {
      socket.setSoTimeout(5000);
      OutputStream out = socket.getOutputStream();
      out.write(request("/test.Shop/add", "[1, 2]").getBytes(StandardCharsets.UTF_8));
      out.flush();
      assertThat(readUntil(socket.getInputStream(), "\r\n\r\n3")).startsWith("HTTP/1.1 200");
      s.shutdown();
      out.write(request("/test.Shop/add", "[1, 2]").getBytes(StandardCharsets.UTF_8));
      out.flush();
      String answer = readUntil(socket.getInputStream(), "}\n");
      assertThat(answer).startsWith("HTTP/1.1 503").contains("connection: close")
          .contains("SHUTTING_DOWN");
    } finally {
      s.awaitTermination(Duration.ofSeconds(1));
    }
  }
}
