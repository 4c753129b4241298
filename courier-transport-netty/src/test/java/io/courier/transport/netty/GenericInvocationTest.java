package io.courier.transport.netty;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.courier.ErrorReason;
import io.courier.RpcException;
import io.courier.client.CourierClient;
import io.courier.client.GenericService;
import io.courier.core.CallIds;
import io.courier.core.reflect.MethodInfo;
import io.courier.core.reflect.ServerReflection;
import io.courier.core.reflect.ServiceInfo;
import io.courier.registry.embedded.EmbeddedZooKeeper;
import io.courier.server.CourierServer;
import io.courier.testing.fixtures.Calculator;
import io.courier.testing.fixtures.CalculatorImpl;
import io.courier.testing.fixtures.Shop;
import io.courier.testing.fixtures.ShopImpl;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Calls by service and method name over the Courier protocol, from a client that uses no
 * interface of the service, against a real server.
 */
class GenericInvocationTest {

  static ShopImpl impl;
  static CourierServer server;
  static CourierClient client;
  static GenericService shop;

  @BeforeAll
  static void start() {
    impl = new ShopImpl();
    server = CourierServer.builder().host("127.0.0.1").port(0)
        .service(Shop.class, impl)
        .build().start();
    client = CourierClient.builder().address("127.0.0.1:" + server.port()).build();
    shop = client.generic("test.Shop");
  }

  @AfterAll
  static void stop() {
    client.close();
    server.close();
  }

  @Test
  void positionalAndNamedArguments() {
    assertThat(shop.call("add", List.of(1, 2))).isEqualTo(3);
    assertThat(shop.call("add", new Object[] {1, 2, 3})).isEqualTo(6);
    Map<String, Object> named = new LinkedHashMap<>();
    named.put("b", 2);
    named.put("a", 40);
    assertThat(shop.call("add", named)).isEqualTo(42);
    assertThat(shop.call("move", Map.of("p", Map.of("x", 1, "y", 2), "dx", 10, "dy", 20)))
        .isEqualTo(Map.of("x", 11, "y", 22));
    assertThat(shop.call("counts", List.of(List.of("b", "a", "b"))))
        .isEqualTo(Map.of("a", 1, "b", 2));
    assertThat(shop.call("points", List.of(2)))
        .isEqualTo(List.of(Map.of("x", 0, "y", 0), Map.of("x", 1, "y", -1)));
  }

  @Test
  void jsonTextInAndOut() throws Exception {
    assertThat(shop.invokeJson("move", "[{\"x\": 1, \"y\": 2}, 10, 20]")
        .get(5, TimeUnit.SECONDS)).isEqualTo("{\"x\":11,\"y\":22}");
    assertThat(shop.invokeJson("later", "[\"x\"]").get(5, TimeUnit.SECONDS))
        .isEqualTo("\"later x\"");
    assertThat(shop.invokeJson("ping", null).get(5, TimeUnit.SECONDS)).isEqualTo("null");
    assertThat(shop.call("add", "[5, 6]")).isEqualTo(11);
  }

  @Test
  void oneWayMethodAnswersOnceAccepted() throws Exception {
    assertThat(shop.call("record", List.of("generic"))).isNull();
    assertThat(impl.events.poll(5, TimeUnit.SECONDS)).isEqualTo("generic");
  }

  @Test
  void unknownServiceOrMethodIsUnknownMethodNamingWhatExists() {
    RpcException service = catchThrowableOfType(RpcException.class,
        () -> client.generic("no.Such").call("add", List.of(1, 2)));
    assertThat(service.reason()).isEqualTo(ErrorReason.UNKNOWN_METHOD);
    assertThat(service.getMessage()).contains("no service 'no.Such'").contains("test.Shop")
        .doesNotContain("is not served by");
    RpcException method = catchThrowableOfType(RpcException.class,
        () -> shop.call("subtract", List.of(1, 2)));
    assertThat(method.reason()).isEqualTo(ErrorReason.UNKNOWN_METHOD);
    assertThat(method.getMessage()).contains("has no method 'subtract'").contains("add");
    RpcException stream = catchThrowableOfType(RpcException.class,
        () -> shop.call("watch", List.of("q")));
    assertThat(stream.reason()).isEqualTo(ErrorReason.UNKNOWN_METHOD);
    assertThat(stream.getMessage()).contains("streaming");
  }

  @Test
  void badArgumentsAreRefusedBeforeTheMethodRuns() {
    String[][] cases = {
        {"add", "[\"one\", 2]"}, {"add", "[null, 2]"}, {"add", "[1]"}, {"add", "[1,"},
        {"move", "[{\"x\": 1, \"y\": 2, \"z\": 3}, 1, 2]"}, {"add", "{\"a\": 1, \"z\": 2}"},
        {"label", "[\"x\"]"}};
    for (String[] c : cases) {
      RpcException e = catchThrowableOfType(RpcException.class, () -> shop.call(c[0], c[1]));
      assertThat(e).as(c[1]).isNotNull();
      assertThat(e.reason()).as(c[1]).isEqualTo(ErrorReason.BAD_ARGUMENTS);
    }
    RpcException ambiguous = catchThrowableOfType(RpcException.class,
        () -> shop.call("label", List.of("x")));
    assertThat(ambiguous.getMessage()).contains("ambiguous")
        .contains("test.Shop/label(java.lang.String)");
  }

  @Test
  void payloadsCannotNameClasses() {
    String canary = HttpJsonTest.Canary.class.getName();
    Object r = shop.call("describe", "[{\"@class\": \"" + canary + "\"}]");
    assertThat((String) r).startsWith("java.util.LinkedHashMap");
    assertThat(HttpJsonTest.canaryInitialized).isFalse();
  }

  @Test
  void applicationExceptionsKeepTheirClassAndMessage() {
    RpcException e = catchThrowableOfType(RpcException.class,
        () -> shop.call("boom", List.of("broken")));
    assertThat(e.reason()).isEqualTo(ErrorReason.APPLICATION_ERROR);
    assertThat(e.remoteClassName()).isEqualTo("java.lang.IllegalStateException");
    assertThat(e.getMessage()).contains("broken");
  }

  @Test
  void theCallsDeadlineIsInForceInTheMethod() {
    Number left = (Number) shop.call("remainingMillis", null);
    assertThat(left.longValue()).isBetween(1L, 5000L); // the client's default timeout: 5 s
  }

  @Test
  void describesMethodsWithCallIdsAndParameterNames() {
    List<MethodInfo> methods = shop.methods();
    MethodInfo add = methods.stream().filter(m -> m.signature().equals("test.Shop/add(int,int)"))
        .findFirst().orElseThrow();
    assertThat(add.name()).isEqualTo("add");
    assertThat(add.callId()).isEqualTo(CallIds.callId("test.Shop", "add",
        new Class<?>[] {int.class, int.class}));
    assertThat(add.parameterNames()).containsExactly("a", "b");
    assertThat(add.parameterTypes()).containsExactly("int", "int");
    assertThat(add.resultType()).isEqualTo("int");
    assertThat(add.kind()).isEqualTo("SYNC");
    assertThat(add.annotations()).isEmpty();
    assertThat(methods.stream().filter(m -> m.name().equals("loopThreadName")).findFirst()
        .orElseThrow().annotations()).containsExactly("@NonBlocking");
    MethodInfo counts = methods.stream().filter(m -> m.name().equals("counts")).findFirst()
        .orElseThrow();
    assertThat(counts.parameterTypes()).containsExactly("java.util.List<java.lang.String>");
    assertThat(counts.resultType())
        .isEqualTo("java.util.Map<java.lang.String, java.lang.Integer>");
    List<ServiceInfo> all = client.stub(ServerReflection.class).services();
    assertThat(all).extracting(ServiceInfo::name).containsExactly("test.Shop");
    RpcException none = catchThrowableOfType(RpcException.class,
        () -> client.generic("no.Such").methods());
    assertThat(none.reason()).isEqualTo(ErrorReason.UNKNOWN_METHOD);
  }

  @Test
  void onARegistryEachServiceFollowsItsOwnProviders(@TempDir Path data) {
    EmbeddedZooKeeper zk = EmbeddedZooKeeper.start("127.0.0.1", 0, data);
    try (CourierServer shops = CourierServer.builder().host("127.0.0.1").registry(zk.uri())
            .unregisterDelay(Duration.ZERO).service(Shop.class, new ShopImpl()).build().start();
        CourierServer calcs = CourierServer.builder().host("127.0.0.1").registry(zk.uri())
            .unregisterDelay(Duration.ZERO).service(Calculator.class, new CalculatorImpl())
            .build().start();
        CourierClient consumer = CourierClient.builder().registry(zk.uri())
            .registryCacheDir(null).build()) {
      assertThat(consumer.generic("test.Shop").call("add", List.of(1, 2, 3))).isEqualTo(6);
      assertThat(consumer.generic("test.Calculator").call("echo", List.of("hi")))
          .isEqualTo("hi");
      assertThat(consumer.generic("test.Shop").call("add", List.of(1, 2))).isEqualTo(3);
    } finally {
      zk.close();
    }
  }

  @Test
  void worksWhateverTheClientsSerializer() {
    try (CourierClient json = CourierClient.builder().address("127.0.0.1:" + server.port())
        .serializer("json").build()) {
      assertThat(json.generic("test.Shop").call("add", List.of(2, 3))).isEqualTo(5);
    }
  }
}
