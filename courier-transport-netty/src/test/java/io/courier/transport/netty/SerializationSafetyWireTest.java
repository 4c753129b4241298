package io.courier.transport.netty;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.fasterxml.jackson.annotation.JsonTypeInfo;
import io.courier.ErrorReason;
import io.courier.RpcException;
import io.courier.annotation.ServiceName;
import io.courier.client.CourierClient;
import io.courier.client.GenericService;
import io.courier.core.CallIds;
import io.courier.serialization.fory.ForySerializerProvider;
import io.courier.server.CourierServer;
import io.courier.spi.GadgetLoader;
import io.courier.spi.SafetyCanaryFlag;
import io.courier.spi.Serializer;
import io.courier.spi.SerializerConfig;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.lang.reflect.Field;
import java.lang.reflect.Type;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpRequest.BodyPublishers;
import java.net.http.HttpResponse;
import java.net.http.HttpResponse.BodyHandlers;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Hostile payloads sent to a real server: over the Courier protocol with the Fory and JSON
 * serializer ids, by generic invocation and over the HTTP/JSON bridge. Each is refused with
 * INVALID_ARGUMENT naming the class (or the limit), the method never runs, no canary's static
 * initializer runs, and the same connection answers the next call.
 */
class SerializationSafetyWireTest {

  /** A class-named field and a map keyed by class: the JSON places that can name a class. */
  public static final class Holder {
    @JsonTypeInfo(use = JsonTypeInfo.Id.CLASS)
    public Object any;
    public Map<Class<?>, String> keys;
  }

  @ServiceName("test.Vault")
  public interface Vault {
    String take(Object o);

    String keep(Holder h);

    int depth(List<Object> nested);
  }

  static final class VaultImpl implements Vault {
    final AtomicInteger calls = new AtomicInteger();

    @Override
    public String take(Object o) {
      calls.incrementAndGet();
      return o == null ? "null" : o.getClass().getName();
    }

    @Override
    public String keep(Holder h) {
      calls.incrementAndGet();
      return "kept";
    }

    @Override
    public int depth(List<Object> nested) {
      calls.incrementAndGet();
      int d = 0;
      for (Object o = nested; o instanceof List<?> l && !l.isEmpty(); o = l.get(0)) {
        d++;
      }
      return d;
    }
  }

  static final int TAKE = CallIds.callId("test.Vault", "take", new Class<?>[] {Object.class});
  static final int KEEP = CallIds.callId("test.Vault", "keep", new Class<?>[] {Holder.class});
  static final int DEPTH = CallIds.callId("test.Vault", "depth", new Class<?>[] {List.class});
  static final int FORY = 1;
  static final int JSON = 3;

  static final List<String> GADGETS = List.of(
      "org.apache.commons.collections.functors.InvokerTransformer",
      "com.sun.org.apache.xalan.internal.xsltc.trax.TemplatesImpl",
      "com.sun.rowset.JdbcRowSetImpl",
      "io.courier.spi.SafetyCanary",
      "io.courier.spi.SafetyCanaryInvokerTransformer");

  static VaultImpl impl;
  static CourierServer server;
  static CourierClient client;

  @BeforeAll
  static void start() {
    impl = new VaultImpl();
    server = CourierServer.builder().host("127.0.0.1").port(0).httpPort(0)
        .serializers("fory", "json").service(Vault.class, impl).build().start();
    client = CourierClient.builder().address("127.0.0.1:" + server.port()).build();
  }

  @AfterAll
  static void stop() {
    client.close();
    server.close();
  }

  @AfterEach
  void noCanaryRanAndNothingWasCalled() {
    assertThat(SafetyCanaryFlag.ran).as("a canary's static initializer ran").isFalse();
  }

  /** A Fory body for take(arg), written by a serializer that allows what it writes. */
  private static byte[] foryArgs(Object arg, ClassLoader loader, List<Class<?>> allow)
      throws Exception {
    // Fory's list of known gadgets is an unmodifiable view; its backing set is edited for the write
    Field theUnsafe = sun.misc.Unsafe.class.getDeclaredField("theUnsafe");
    theUnsafe.setAccessible(true);
    sun.misc.Unsafe unsafe = (sun.misc.Unsafe) theUnsafe.get(null);
    Field backing = Class.forName("java.util.Collections$UnmodifiableCollection")
        .getDeclaredField("c");
    @SuppressWarnings("unchecked")
    Set<String> disallowed = (Set<String>) unsafe.getObject(
        org.apache.fory.resolver.DisallowedList.getDisallowedClasses(),
        unsafe.objectFieldOffset(backing));
    List<String> lifted = new ArrayList<>();
    for (Class<?> c : allow) {
      if (disallowed.remove(c.getName())) { // Fory will not write its own known gadgets
        lifted.add(c.getName());
      }
    }
    try {
      Serializer writer = new ForySerializerProvider().create(SerializerConfig.builder()
          .allow(allow).classLoader(loader).maxDepth(30_000).build());
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      writer.writeArguments(new Object[] {arg}, new Type[] {Object.class}, out);
      return out.toByteArray();
    } finally {
      disallowed.addAll(lifted);
    }
  }

  private static void assertRefused(RawFrames.Reply r, int id, String reason, String... words) {
    assertThat(r.requestId()).isEqualTo(id);
    assertThat(r.status()).as(r.bodyText()).isEqualTo(3); // INVALID_ARGUMENT
    assertThat(r.reason()).isEqualTo(reason);
    for (String w : words) {
      assertThat(r.description()).contains(w);
    }
  }

  private static void assertServes(RawFrames c, int id) throws IOException {
    c.send(RawFrames.request(0, JSON, id, TAKE, "[\"fine\"]".getBytes(StandardCharsets.UTF_8)));
    RawFrames.Reply r = c.read();
    assertThat(r.requestId()).isEqualTo(id);
    assertThat(r.status()).as(r.bodyText()).isZero();
    assertThat(r.bodyText()).isEqualTo("\"java.lang.String\"");
  }

  @Test
  void foryGadgetsAtTheTopOrInsideAListAreRejectedByName() throws Exception {
    int before = impl.calls.get();
    try (RawFrames c = new RawFrames(server.port())) {
      int id = 1;
      for (String gadget : GADGETS) {
        GadgetLoader loader = new GadgetLoader(getClass().getClassLoader(), List.of(gadget));
        Object instance = loader.instance(gadget);
        for (Object arg : List.of(instance, new ArrayList<>(List.of("x", instance)))) {
          byte[] body = foryArgs(arg, loader, List.of(instance.getClass(), Class.class,
              Class[].class, Object[].class));
          c.send(RawFrames.request(0, FORY, id, TAKE, body));
          assertRefused(c.read(), id, "SERIALIZATION_REJECTED", gadget);
          assertServes(c, id + 1);
          id += 2;
        }
      }
    }
    assertThat(impl.calls.get() - before).as("calls that ran").isEqualTo(GADGETS.size() * 2);
  }

  @Test
  void jsonClassNamesAndClassKeysAreRejectedByName() throws Exception {
    try (RawFrames c = new RawFrames(server.port())) {
      int id = 1;
      for (String gadget : GADGETS) {
        for (String holder : List.of("{\"any\":{\"@class\":\"" + gadget + "\"}}",
            "{\"keys\":{\"" + gadget + "\":\"v\"}}")) {
          c.send(RawFrames.request(0, JSON, id, KEEP,
              ("[" + holder + "]").getBytes(StandardCharsets.UTF_8)));
          assertRefused(c.read(), id, "SERIALIZATION_REJECTED", gadget);
          assertServes(c, id + 1);
          id += 2;
        }
      }
    }
  }

  @Test
  void deepNestingAndHugeLengthsAreBadArgumentsAndTheConnectionStays() throws Exception {
    StringBuilder deep = new StringBuilder("[");
    deep.append("[".repeat(10_000)).append("]".repeat(10_000)).append("]");
    List<Object> root = new ArrayList<>();
    List<Object> cur = root;
    for (int i = 0; i < 10_000; i++) {
      List<Object> next = new ArrayList<>();
      cur.add(next);
      cur = next;
    }
    byte[][] foryDeep = new byte[1][];
    Thread encode = new Thread(null, () -> {
      try {
        foryDeep[0] = foryArgs(root, getClass().getClassLoader(), List.of());
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    }, "deep-encode", 512L << 20);
    encode.start();
    encode.join();
    // a byte[] declaring 100 million elements in a body of a few bytes
    byte[] empty = foryArgs(new byte[0], getClass().getClassLoader(), List.of());
    byte[] one = foryArgs(new byte[1], getClass().getClassLoader(), List.of());
    int at = 0;
    while (empty[at] == one[at]) {
      at++;
    }
    byte[] huge = java.util.Arrays.copyOf(empty, at + 12);
    System.arraycopy(new byte[] {(byte) 0x80, (byte) 0xC2, (byte) 0xD7, 0x2F}, 0, huge, at, 4);
    try (RawFrames c = new RawFrames(server.port())) {
      c.send(RawFrames.request(0, JSON, 1, DEPTH,
          deep.toString().getBytes(StandardCharsets.UTF_8)));
      assertRefused(c.read(), 1, "BAD_ARGUMENTS", "nesting depth");
      assertServes(c, 2);
      c.send(RawFrames.request(0, FORY, 3, TAKE, foryDeep[0]));
      assertRefused(c.read(), 3, "BAD_ARGUMENTS");
      assertServes(c, 4);
      c.send(RawFrames.request(0, FORY, 5, TAKE, huge));
      assertRefused(c.read(), 5, "BAD_ARGUMENTS", "declared length 100000000",
          "bytes that remain");
      assertServes(c, 6);
    }
  }

  @Test
  void genericInvocationRefusesClassNamesAndAnswersTheNextCall() {
    GenericService vault = client.generic("test.Vault");
    for (String gadget : GADGETS) {
      RpcException e = catchThrowableOfType(RpcException.class,
          () -> vault.call("keep", "[{\"any\":{\"@class\":\"" + gadget + "\"}}]"));
      assertThat(e).isNotNull();
      assertThat(e.reason()).isEqualTo(ErrorReason.SERIALIZATION_REJECTED);
      assertThat(e.getMessage()).contains(gadget);
      RpcException key = catchThrowableOfType(RpcException.class,
          () -> vault.call("keep", Map.of("h", Map.of("keys", Map.of(gadget, "v")))));
      assertThat(key).isNotNull();
      assertThat(key.reason()).isEqualTo(ErrorReason.SERIALIZATION_REJECTED);
      assertThat(key.getMessage()).contains(gadget);
      assertThat(vault.call("take", List.of("after"))).isEqualTo("java.lang.String");
    }
  }

  @Test
  void theHttpBridgeAnswers400NamingTheClassAndServesTheNextRequest() throws Exception {
    HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    for (String gadget : GADGETS) {
      for (String body : List.of("[{\"any\":{\"@class\":\"" + gadget + "\"}}]",
          "{\"h\":{\"keys\":{\"" + gadget + "\":\"v\"}}}")) {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(
                HttpJsonTest.uri(server, "/test.Vault/keep"))
            .header("content-type", "application/json")
            .POST(BodyPublishers.ofString(body)).build(), BodyHandlers.ofString());
        assertThat(r.statusCode()).as(body).isEqualTo(400);
        assertThat(r.body()).contains("\"reason\":\"SERIALIZATION_REJECTED\"").contains(gadget);
      }
      HttpResponse<String> next = http.send(HttpRequest.newBuilder(
              HttpJsonTest.uri(server, "/test.Vault/depth"))
          .header("content-type", "application/json")
          .POST(BodyPublishers.ofString("[[[[]]]]")).build(), BodyHandlers.ofString());
      assertThat(next.statusCode()).isEqualTo(200);
      assertThat(next.body()).isEqualTo("2");
    }
    HttpResponse<String> deep = http.send(HttpRequest.newBuilder(
            HttpJsonTest.uri(server, "/test.Vault/depth"))
        .header("content-type", "application/json")
        .POST(BodyPublishers.ofString("[" + "[".repeat(10_000) + "]".repeat(10_000) + "]"))
        .build(), BodyHandlers.ofString());
    assertThat(deep.statusCode()).isEqualTo(400);
    assertThat(deep.body()).contains("BAD_ARGUMENTS");
  }
}
