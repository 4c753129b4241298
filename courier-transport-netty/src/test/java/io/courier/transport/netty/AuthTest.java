package io.courier.transport.netty;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.google.protobuf.StringValue;
import io.courier.CallContext;
import io.courier.ErrorReason;
import io.courier.RpcException;
import io.courier.Status;
import io.courier.annotation.ServiceName;
import io.courier.auth.AccessRules;
import io.courier.auth.AuthenticationException;
import io.courier.auth.Authenticator;
import io.courier.auth.CallCredentials;
import io.courier.auth.Identity;
import io.courier.client.CourierClient;
import io.courier.client.GenericService;
import io.courier.client.GrpcClient;
import io.courier.core.ServiceDescriptor;
import io.courier.internal.protocol.Frame;
import io.courier.server.CourierServer;
import io.courier.stream.StreamObserver;
import io.netty.handler.codec.http2.Http2Headers;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Authentication and access rules on every protocol of a real server on loopback: the Courier
 * protocol (unary, streams, generic calls), gRPC and HTTP/JSON, each without credentials, with a
 * wrong token, with a right token on a forbidden method, and with a right token on an allowed one.
 */
class AuthTest {

  static final String READER_TOKEN = "reader-7f3a9c2e41";
  static final String ADMIN_TOKEN = "admin-91bd22c07e";
  static final String WRONG_TOKEN = "wrong-5e8d01aa93";

  @ServiceName("test.Vault")
  public interface Vault {
    /** The caller's identity as the method sees it. */
    String whoAmI();

    String read(String key);

    /** Admins only. */
    String wipe(String key);

    /** Public: callable without credentials. */
    String status();

    /** Sends the caller's name {@code n} times. */
    void watch(int n, StreamObserver<String> out);

    /** Answers each message with the caller's name and the message. */
    StreamObserver<String> chat(StreamObserver<String> out);
  }

  @ServiceName("test.GrpcVault")
  public interface GrpcVault {
    StringValue read(StringValue key);

    /** Admins only. */
    StringValue wipe(StringValue key);

    /** Sends the caller's name {@code n} times (n given as text). */
    void follow(StringValue n, StreamObserver<StringValue> out);
  }

  static final class VaultImpl implements Vault, GrpcVault {
    final Map<String, AtomicInteger> runs = new ConcurrentHashMap<>();

    int runs(String method) {
      AtomicInteger n = runs.get(method);
      return n == null ? 0 : n.get();
    }

    private void ran(String method) {
      runs.computeIfAbsent(method, k -> new AtomicInteger()).incrementAndGet();
    }

    private static String caller() {
      Identity id = CallContext.identity();
      return id == null ? "anonymous" : id.name() + id.roles();
    }

    @Override
    public String whoAmI() {
      ran("whoAmI");
      return caller();
    }

    @Override
    public String read(String key) {
      ran("read");
      return "value of " + key + " for " + caller();
    }

    @Override
    public String wipe(String key) {
      ran("wipe");
      return "wiped " + key;
    }

    @Override
    public String status() {
      ran("status");
      return "up, caller " + caller();
    }

    @Override
    public void watch(int n, StreamObserver<String> out) {
      ran("watch");
      String who = caller();
      for (int i = 0; i < n; i++) {
        out.onNext(who);
      }
      out.onCompleted();
    }

    @Override
    public StreamObserver<String> chat(StreamObserver<String> out) {
      ran("chat");
      String who = caller(); // kept: callbacks run outside the method
      return new StreamObserver<>() {
        @Override
        public void onNext(String value) {
          out.onNext(who + ":" + value);
        }

        @Override
        public void onError(Throwable t) {}

        @Override
        public void onCompleted() {
          out.onCompleted();
        }
      };
    }

    @Override
    public StringValue read(StringValue key) {
      ran("grpc.read");
      return StringValue.of("value of " + key.getValue() + " for " + caller());
    }

    @Override
    public StringValue wipe(StringValue key) {
      ran("grpc.wipe");
      return StringValue.of("wiped " + key.getValue());
    }

    @Override
    public void follow(StringValue n, StreamObserver<StringValue> out) {
      ran("grpc.follow");
      String who = caller();
      for (int i = 0; i < Integer.parseInt(n.getValue()); i++) {
        out.onNext(StringValue.of(who));
      }
      out.onCompleted();
    }
  }

  static VaultImpl impl;
  static CourierServer server;
  static CourierClient anonymous;
  static CourierClient wrong;
  static CourierClient reader;
  static CourierClient admin;

  static Authenticator tokens() {
    return Authenticator.bearer(Map.of(
        READER_TOKEN, Identity.of("rita", "reader"),
        ADMIN_TOKEN, Identity.of("adam", "admin")));
  }

  static AccessRules rules() {
    return AccessRules.builder()
        .permitAll("test.Vault", "status")
        .allow("test.Vault", id -> id.hasAnyRole("reader", "admin"))
        .allowRoles("test.Vault", "wipe", "admin")
        .allow("test.GrpcVault", id -> id.hasAnyRole("reader", "admin"))
        .allowRoles("test.GrpcVault", "wipe", "admin")
        .allow("courier.Reflection", id -> true)
        .build();
  }

  @BeforeAll
  static void start() {
    impl = new VaultImpl();
    server = CourierServer.builder().host("127.0.0.1").port(0).httpPort(0)
        .serializers("fory", "json")
        .service(Vault.class, impl)
        .service(GrpcVault.class, impl, "protobuf")
        .authenticator(tokens())
        .accessRules(rules())
        .build().start();
    anonymous = client(null);
    wrong = client(CallCredentials.bearer(WRONG_TOKEN));
    reader = client(CallCredentials.bearer(READER_TOKEN));
    admin = client(CallCredentials.bearer(ADMIN_TOKEN));
  }

  static CourierClient client(CallCredentials credentials) {
    CourierClient.Builder b = CourierClient.builder().address("127.0.0.1:" + server.port());
    if (credentials != null) {
      b.credentials(credentials);
    }
    return b.build();
  }

  @AfterAll
  static void stop() {
    for (CourierClient c : List.of(anonymous, wrong, reader, admin)) {
      c.close();
    }
    server.close();
  }

  static RpcException failure(Runnable call) {
    return catchThrowableOfType(RpcException.class, call::run);
  }

  // ------------------------------------------------------------------ Courier protocol, unary

  @Test
  void courierCallWithoutCredentialsIsUnauthenticatedAndNeverRuns() {
    int before = impl.runs("read");
    RpcException e = failure(() -> anonymous.stub(Vault.class).read("k"));
    assertThat(e.status().code()).isEqualTo(Status.Code.UNAUTHENTICATED);
    assertThat(e.reason()).isEqualTo(ErrorReason.UNAUTHENTICATED);
    assertThat(e.status().description()).contains("test.Vault/read")
        .contains("carries no credentials");
    assertThat(e.isRetryable()).isFalse();
    assertThat(impl.runs("read")).isEqualTo(before);
  }

  @Test
  void courierCallWithAWrongTokenIsUnauthenticatedAndTheTokenIsNotEchoed() {
    int before = impl.runs("read");
    RpcException e = failure(() -> wrong.stub(Vault.class).read("k"));
    assertThat(e.status().code()).isEqualTo(Status.Code.UNAUTHENTICATED);
    assertThat(e.status().description()).contains("not accepted").doesNotContain(WRONG_TOKEN);
    assertThat(e.toString()).doesNotContain(WRONG_TOKEN);
    assertThat(impl.runs("read")).isEqualTo(before);
    // bad credentials are refused even where none are needed
    RpcException onPublic = failure(() -> wrong.stub(Vault.class).status());
    assertThat(onPublic.status().code()).isEqualTo(Status.Code.UNAUTHENTICATED);
  }

  @Test
  void courierCallToAForbiddenMethodIsPermissionDeniedAndNeverRuns() {
    int before = impl.runs("wipe");
    RpcException e = failure(() -> reader.stub(Vault.class).wipe("k"));
    assertThat(e.status().code()).isEqualTo(Status.Code.PERMISSION_DENIED);
    assertThat(e.reason()).isEqualTo(ErrorReason.PERMISSION_DENIED);
    assertThat(e.status().description()).isEqualTo("rita may not call test.Vault/wipe");
    assertThat(impl.runs("wipe")).isEqualTo(before);
    assertThat(admin.stub(Vault.class).wipe("k")).isEqualTo("wiped k");
    assertThat(impl.runs("wipe")).isEqualTo(before + 1);
  }

  @Test
  void courierCallAllowedSeesTheCallersIdentity() {
    assertThat(reader.stub(Vault.class).read("k")).isEqualTo("value of k for rita[reader]");
    assertThat(admin.stub(Vault.class).whoAmI()).isEqualTo("adam[admin]");
  }

  @Test
  void aPublicMethodTakesCallsWithAndWithoutCredentials() {
    assertThat(anonymous.stub(Vault.class).status()).isEqualTo("up, caller anonymous");
    assertThat(reader.stub(Vault.class).status()).isEqualTo("up, caller rita[reader]");
  }

  @Test
  void rotatingTokensArePickedUpPerCallAndAMissingOneIsNeverSent() {
    AtomicReference<String> current = new AtomicReference<>(READER_TOKEN);
    try (CourierClient c = client(CallCredentials.bearer(current::get))) {
      Vault v = c.stub(Vault.class);
      assertThat(v.whoAmI()).isEqualTo("rita[reader]");
      current.set(ADMIN_TOKEN);
      assertThat(v.whoAmI()).isEqualTo("adam[admin]");
      current.set(null);
      int before = impl.runs("whoAmI");
      RpcException e = failure(v::whoAmI);
      assertThat(e.reason()).isEqualTo(ErrorReason.UNAUTHENTICATED);
      assertThat(e.status().description()).contains("not sent");
      assertThat(impl.runs("whoAmI")).isEqualTo(before);
    }
  }

  // ------------------------------------------------------------------ Courier protocol, streams

  static final class Recorder implements StreamObserver<String> {
    final List<String> values = Collections.synchronizedList(new ArrayList<>());
    final CountDownLatch done = new CountDownLatch(1);
    volatile Throwable error;

    @Override
    public void onNext(String value) {
      values.add(value);
    }

    @Override
    public void onError(Throwable t) {
      error = t;
      done.countDown();
    }

    @Override
    public void onCompleted() {
      done.countDown();
    }

    Recorder await() throws InterruptedException {
      assertThat(done.await(10, TimeUnit.SECONDS)).as("stream ended").isTrue();
      return this;
    }
  }

  @Test
  void serverStreamsAreAuthenticatedWhenTheyOpen() throws Exception {
    int before = impl.runs("watch");
    Recorder none = new Recorder();
    anonymous.stub(Vault.class).watch(3, none);
    assertThat(none.await().error).isInstanceOf(RpcException.class);
    assertThat(((RpcException) none.error).status().code())
        .isEqualTo(Status.Code.UNAUTHENTICATED);
    Recorder bad = new Recorder();
    wrong.stub(Vault.class).watch(3, bad);
    assertThat(((RpcException) bad.await().error).status().code())
        .isEqualTo(Status.Code.UNAUTHENTICATED);
    assertThat(impl.runs("watch")).isEqualTo(before);

    Recorder ok = new Recorder();
    reader.stub(Vault.class).watch(3, ok);
    assertThat(ok.await().error).isNull();
    assertThat(ok.values).containsExactly("rita[reader]", "rita[reader]", "rita[reader]");
  }

  @Test
  void bidirectionalStreamsAreAuthenticatedAndRefusedOnesNeverRun() throws Exception {
    int before = impl.runs("chat");
    Recorder none = new Recorder();
    StreamObserver<String> out = anonymous.stub(Vault.class).chat(none);
    out.onNext("hello");
    out.onCompleted();
    assertThat(((RpcException) none.await().error).status().code())
        .isEqualTo(Status.Code.UNAUTHENTICATED);
    assertThat(impl.runs("chat")).isEqualTo(before);

    Recorder ok = new Recorder();
    StreamObserver<String> in = admin.stub(Vault.class).chat(ok);
    in.onNext("a");
    in.onNext("b");
    in.onCompleted();
    assertThat(ok.await().error).isNull();
    assertThat(ok.values).containsExactly("adam[admin]:a", "adam[admin]:b");
  }

  // ------------------------------------------------------------------ generic invocation

  @Test
  void genericCallsNeedCredentialsAndTheTargetMethodsRule() {
    GenericService none = anonymous.generic("test.Vault");
    RpcException e = failure(() -> none.call("read", List.of("k")));
    assertThat(e.status().code()).isEqualTo(Status.Code.UNAUTHENTICATED);

    GenericService bad = wrong.generic("test.Vault");
    assertThat(failure(() -> bad.call("read", List.of("k"))).status().code())
        .isEqualTo(Status.Code.UNAUTHENTICATED);

    int wipes = impl.runs("wipe");
    GenericService asReader = reader.generic("test.Vault");
    RpcException denied = failure(() -> asReader.call("wipe", List.of("k")));
    assertThat(denied.status().code()).isEqualTo(Status.Code.PERMISSION_DENIED);
    assertThat(denied.status().description()).contains("rita may not call test.Vault/wipe");
    assertThat(impl.runs("wipe")).isEqualTo(wipes);

    assertThat(asReader.call("read", List.of("k"))).isEqualTo("value of k for rita[reader]");
    assertThat(asReader.methods()).isNotEmpty();
  }

  // ------------------------------------------------------------------ raw frames

  static int callId(String method) {
    return ServiceDescriptor.of(Vault.class).methods().stream()
        .filter(m -> m.name().equals(method)).findFirst().orElseThrow().callId();
  }

  static byte[] authorizationMetadata(String value) {
    byte[] k = "authorization".getBytes(StandardCharsets.US_ASCII);
    byte[] v = value.getBytes(StandardCharsets.UTF_8);
    return ByteBuffer.allocate(1 + k.length + 2 + v.length).put((byte) k.length).put(k)
        .putShort((short) v.length).put(v).array();
  }

  @Test
  void aRefusedRequestsBodyIsNeverDecoded() throws Exception {
    byte[] garbage = {(byte) 0xFF, 0x13, 0x37, 0x00, 0x42};
    int id = callId("read");
    try (RawFrames raw = new RawFrames(server.port())) {
      // no credentials: refused before the garbage would have failed to decode
      raw.send(RawFrames.request(0, 1, 1, id, garbage));
      RawFrames.Reply r = raw.read();
      assertThat(r.status()).isEqualTo(Status.Code.UNAUTHENTICATED.value());
      assertThat(r.reason()).isEqualTo("UNAUTHENTICATED");
      // the same garbage with a valid token reaches the decoder
      raw.send(RawFrames.frame(Frame.VERSION, 0, 1, 0, 0, 0, 2, id, 5_000,
          authorizationMetadata("Bearer " + READER_TOKEN), garbage, garbage.length));
      RawFrames.Reply decoded = raw.read();
      assertThat(decoded.reason()).isEqualTo("BAD_ARGUMENTS");
      // a malformed authorization value is refused without echoing it
      raw.send(RawFrames.frame(Frame.VERSION, 0, 1, 0, 0, 0, 3, id, 5_000,
          authorizationMetadata("Bearer " + WRONG_TOKEN + " {}"), garbage, garbage.length));
      RawFrames.Reply malformed = raw.read();
      assertThat(malformed.reason()).isEqualTo("UNAUTHENTICATED");
      assertThat(malformed.description()).contains("malformed bearer")
          .doesNotContain(WRONG_TOKEN);
    }
  }

  // ------------------------------------------------------------------ gRPC

  static GrpcClient grpc(CallCredentials credentials) {
    GrpcClient.Builder b = GrpcClient.builder().address("127.0.0.1:" + server.port());
    if (credentials != null) {
      b.credentials(credentials);
    }
    return b.build();
  }

  @Test
  void grpcCallsAreAuthenticatedAndAuthorized() {
    int reads = impl.runs("grpc.read");
    int wipes = impl.runs("grpc.wipe");
    try (GrpcClient none = grpc(null);
        GrpcClient bad = grpc(CallCredentials.bearer(WRONG_TOKEN));
        GrpcClient asReader = grpc(CallCredentials.bearer(READER_TOKEN));
        GrpcClient asAdmin = grpc(CallCredentials.bearer(ADMIN_TOKEN))) {
      RpcException e = failure(() -> none.stub(GrpcVault.class).read(StringValue.of("k")));
      assertThat(e.status().code()).isEqualTo(Status.Code.UNAUTHENTICATED);
      RpcException b = failure(() -> bad.stub(GrpcVault.class).read(StringValue.of("k")));
      assertThat(b.status().code()).isEqualTo(Status.Code.UNAUTHENTICATED);
      assertThat(b.status().description()).doesNotContain(WRONG_TOKEN);
      RpcException d = failure(() -> asReader.stub(GrpcVault.class).wipe(StringValue.of("k")));
      assertThat(d.status().code()).isEqualTo(Status.Code.PERMISSION_DENIED);
      assertThat(d.status().description()).isEqualTo("rita may not call test.GrpcVault/wipe");
      assertThat(impl.runs("grpc.read")).isEqualTo(reads);
      assertThat(impl.runs("grpc.wipe")).isEqualTo(wipes);

      assertThat(asReader.stub(GrpcVault.class).read(StringValue.of("k")).getValue())
          .isEqualTo("value of k for rita[reader]");
      assertThat(asAdmin.stub(GrpcVault.class).wipe(StringValue.of("k")).getValue())
          .isEqualTo("wiped k");
    }
  }

  static final class ValueRecorder implements StreamObserver<StringValue> {
    final List<String> values = Collections.synchronizedList(new ArrayList<>());
    final CountDownLatch done = new CountDownLatch(1);
    volatile Throwable error;

    @Override
    public void onNext(StringValue value) {
      values.add(value.getValue());
    }

    @Override
    public void onError(Throwable t) {
      error = t;
      done.countDown();
    }

    @Override
    public void onCompleted() {
      done.countDown();
    }

    ValueRecorder await() throws InterruptedException {
      assertThat(done.await(10, TimeUnit.SECONDS)).as("stream ended").isTrue();
      return this;
    }
  }

  @Test
  void grpcStreamsAreAuthenticatedWhenTheyOpen() throws Exception {
    int before = impl.runs("grpc.follow");
    try (GrpcClient none = grpc(null);
        GrpcClient asReader = grpc(CallCredentials.bearer(READER_TOKEN))) {
      ValueRecorder refused = new ValueRecorder();
      none.stub(GrpcVault.class).follow(StringValue.of("2"), refused);
      assertThat(refused.await().error).isInstanceOf(RpcException.class);
      assertThat(((RpcException) refused.error).status().code())
          .isEqualTo(Status.Code.UNAUTHENTICATED);
      assertThat(impl.runs("grpc.follow")).isEqualTo(before);

      ValueRecorder ok = new ValueRecorder();
      asReader.stub(GrpcVault.class).follow(StringValue.of("2"), ok);
      assertThat(ok.await().error).isNull();
      assertThat(ok.values).containsExactly("rita[reader]", "rita[reader]");
    }
  }

  @Test
  void grpcRefusesBeforeReadingTheMessage() throws Exception {
    byte[] garbage = {(byte) 0xFF, (byte) 0xFF, (byte) 0xFF};
    try (H2TestClient c = new H2TestClient(server.port())) {
      H2TestClient.Answer a = c.unary("/test.GrpcVault/Read", garbage);
      assertThat(a.trailers().get("grpc-status").toString()).isEqualTo("16");
      Http2Headers h = H2TestClient.grpcHeaders("/test.GrpcVault/Read");
      h.set("authorization", "Bearer " + READER_TOKEN);
      H2TestClient.Answer decoded = c.start(h, false)
          .data(H2TestClient.frame(garbage, false), true).await();
      // authorized: now the message is parsed, and fails as a bad message
      assertThat(decoded.trailers().get("grpc-status").toString())
          .isEqualTo(String.valueOf(Status.Code.INVALID_ARGUMENT.value()));
    }
  }

  // ------------------------------------------------------------------ HTTP/JSON, curl-style

  record HttpAnswer(int status, String head, String body) {}

  /** One raw HTTP/1.1 request, as curl sends it; the connection is closed after the answer. */
  static HttpAnswer http(String method, String path, String authorization, String body)
      throws Exception {
    try (Socket s = new Socket(InetAddress.getLoopbackAddress(), server.httpPort())) {
      s.setSoTimeout(5_000);
      byte[] b = body == null ? new byte[0] : body.getBytes(StandardCharsets.UTF_8);
      StringBuilder req = new StringBuilder(method).append(' ').append(path)
          .append(" HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: curl/8.5.0\r\nAccept: */*\r\n"
              + "Connection: close\r\n");
      if (authorization != null) {
        req.append("Authorization: ").append(authorization).append("\r\n");
      }
      if (body != null) {
        req.append("Content-Type: application/json\r\nContent-Length: ").append(b.length)
            .append("\r\n");
      }
      req.append("\r\n");
      OutputStream out = s.getOutputStream();
      out.write(req.toString().getBytes(StandardCharsets.US_ASCII));
      out.write(b);
      out.flush();
      InputStream in = s.getInputStream();
      String all = new String(in.readAllBytes(), StandardCharsets.UTF_8);
      int split = all.indexOf("\r\n\r\n");
      String head = all.substring(0, split);
      int status = Integer.parseInt(head.substring(9, 12));
      return new HttpAnswer(status, head, all.substring(split + 4));
    }
  }

  @Test
  void httpWithoutCredentialsIs401WithABearerChallenge() throws Exception {
    int before = impl.runs("read");
    HttpAnswer a = http("POST", "/test.Vault/read", null, "[\"k\"]");
    assertThat(a.status()).isEqualTo(401);
    assertThat(a.head() + "\r\n").containsIgnoringCase("\r\nwww-authenticate: Bearer\r\n");
    assertThat(a.body()).startsWith("{\"code\":\"UNAUTHENTICATED\",\"reason\":\"UNAUTHENTICATED\"");
    // refused before the body is looked at: invalid JSON is not a 400 here
    assertThat(http("POST", "/test.Vault/read", null, "{not json").status()).isEqualTo(401);
    assertThat(impl.runs("read")).isEqualTo(before);
  }

  @Test
  void httpWithAWrongTokenIs401InvalidTokenAndTheTokenIsNotEchoed() throws Exception {
    HttpAnswer a = http("POST", "/test.Vault/read", "Bearer " + WRONG_TOKEN, "[\"k\"]");
    assertThat(a.status()).isEqualTo(401);
    assertThat(a.head()).containsIgnoringCase("www-authenticate: Bearer error=\"invalid_token\"");
    assertThat(a.head() + a.body()).doesNotContain(WRONG_TOKEN);
  }

  @Test
  void httpToAForbiddenMethodIs403() throws Exception {
    int before = impl.runs("wipe");
    HttpAnswer a = http("POST", "/test.Vault/wipe", "Bearer " + READER_TOKEN, "[\"k\"]");
    assertThat(a.status()).isEqualTo(403);
    assertThat(a.body()).isEqualTo("{\"code\":\"PERMISSION_DENIED\",\"reason\":"
        + "\"PERMISSION_DENIED\",\"message\":\"rita may not call test.Vault/wipe\"}\n");
    assertThat(impl.runs("wipe")).isEqualTo(before);
  }

  @Test
  void httpAllowedCallsSeeTheIdentityAndPublicOnesNeedNone() throws Exception {
    HttpAnswer a = http("POST", "/test.Vault/read", "bearer " + READER_TOKEN, "[\"k\"]");
    assertThat(a.status()).isEqualTo(200);
    assertThat(a.body()).isEqualTo("\"value of k for rita[reader]\"");
    HttpAnswer open = http("POST", "/test.Vault/status", null, "[]");
    assertThat(open.status()).isEqualTo(200);
    assertThat(open.body()).isEqualTo("\"up, caller anonymous\"");
  }

  @Test
  void listingTheServicesOverHttpFollowsTheReflectionRule() throws Exception {
    assertThat(http("GET", "/", null, null).status()).isEqualTo(401);
    HttpAnswer a = http("GET", "/", "Bearer " + READER_TOKEN, null);
    assertThat(a.status()).isEqualTo(200);
    assertThat(a.body()).contains("test.Vault");
  }

  @Test
  void httpGenericInvokeChecksTheTargetMethodToo() throws Exception {
    HttpAnswer a = http("POST", "/courier.Reflection/invoke", "Bearer " + READER_TOKEN,
        "[\"test.Vault\", \"wipe\", \"[\\\"k\\\"]\"]");
    assertThat(a.status()).isEqualTo(403);
    assertThat(a.body()).contains("rita may not call test.Vault/wipe");
  }

  // ------------------------------------------------------------------ secrets

  @Test
  void aTokenNeverReachesMessagesOrTheLog() throws Exception {
    String secret = "s3cr3t-token-0d9f8e7c";
    Authenticator leaky = Authenticator.firstOf(
        request -> {
          String v = request.authorization();
          if (v != null && v.endsWith("throws")) {
            throw new IllegalStateException("verifier crashed on " + v);
          }
          return null;
        },
        Authenticator.bearer(token -> {
          throw new AuthenticationException("token " + token + " has expired");
        }));
    CourierServer s = CourierServer.builder().host("127.0.0.1").port(0).httpPort(0)
        .service(Vault.class, new VaultImpl())
        .authenticator(leaky)
        .build().start();
    PrintStream original = System.err;
    ByteArrayOutputStream captured = new ByteArrayOutputStream();
    System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
    List<String> messages = new ArrayList<>();
    try {
      try (CourierClient c = CourierClient.builder().address("127.0.0.1:" + s.port())
          .credentials(CallCredentials.bearer(secret)).build()) {
        RpcException e = failure(() -> c.stub(Vault.class).read("k"));
        assertThat(e.status().code()).isEqualTo(Status.Code.UNAUTHENTICATED);
        messages.add(e.toString());
        assertThat(e.status().description()).contains("token <redacted> has expired");
      }
      try (CourierClient c = CourierClient.builder().address("127.0.0.1:" + s.port())
          .credentials(md -> md.put("authorization", "Bearer " + secret + " throws")).build()) {
        RpcException e = failure(() -> c.stub(Vault.class).read("k"));
        assertThat(e.status().code()).isEqualTo(Status.Code.UNAUTHENTICATED);
        assertThat(e.status().description()).contains("could not be verified");
        messages.add(e.toString());
      }
      try (Socket raw = new Socket(InetAddress.getLoopbackAddress(), s.httpPort())) {
        raw.getOutputStream().write(("POST /test.Vault/read HTTP/1.1\r\nHost: x\r\n"
            + "Authorization: Bearer " + secret + "\r\nContent-Type: application/json\r\n"
            + "Content-Length: 5\r\nConnection: close\r\n\r\n[\"k\"]")
            .getBytes(StandardCharsets.US_ASCII));
        String answer = new String(raw.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(answer).startsWith("HTTP/1.1 401");
        messages.add(answer);
      }
    } finally {
      System.setErr(original);
      s.close();
    }
    String log = captured.toString(StandardCharsets.UTF_8);
    assertThat(log).as("the crash of the authenticator is logged").contains("[COURIER-A01]")
        .contains("IllegalStateException");
    assertThat(log).as("refusals are logged").contains("refused");
    assertThat(log).doesNotContain(secret);
    assertThat(messages).allSatisfy(m -> assertThat(m).doesNotContain(secret));
    assertThat(CallCredentials.bearer(secret).toString()).doesNotContain(secret);
  }

  // ------------------------------------------------------------------ configuration

  @Test
  void rulesThatNameWhatIsNotServedFailAtBuild() {
    CourierServer.Builder b = CourierServer.builder().service(Vault.class, new VaultImpl())
        .authenticator(tokens());
    assertThatThrownBy(() -> b.accessRules(AccessRules.builder()
        .allow("test.Vault", "erase", id -> true).build()).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("test.Vault/erase").hasMessageContaining("whoAmI");
    assertThatThrownBy(() -> b.accessRules(AccessRules.builder()
        .permitAll("test.Valt").build()).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("'test.Valt'").hasMessageContaining("test.Vault");
    assertThatThrownBy(() -> CourierServer.builder().service(Vault.class, new VaultImpl())
        .accessRules(rules()).build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("without an authenticator");
    assertThatThrownBy(() -> AccessRules.builder().permitAll("a", "b").permitAll("a", "b"))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("given twice");
  }

  @Test
  void withoutRulesAnyAuthenticatedCallerMayCallAnything() {
    CourierServer s = CourierServer.builder().host("127.0.0.1").port(0)
        .service(Vault.class, new VaultImpl())
        .authenticator(tokens())
        .build().start();
    try (CourierClient none = CourierClient.builder().address("127.0.0.1:" + s.port()).build();
        CourierClient asReader = CourierClient.builder().address("127.0.0.1:" + s.port())
            .credentials(CallCredentials.bearer(READER_TOKEN)).build()) {
      assertThat(asReader.stub(Vault.class).wipe("k")).isEqualTo("wiped k");
      assertThat(failure(() -> none.stub(Vault.class).status()).status().code())
          .isEqualTo(Status.Code.UNAUTHENTICATED);
    } finally {
      s.close();
    }
  }

  @Test
  void methodsWithoutARuleAreDeniedUnlessAuthenticatedCallersAreRequiredOnly() {
    AccessRules deny = AccessRules.builder().allow("test.Vault", "read", id -> true).build();
    AccessRules open = AccessRules.builder().allow("test.Vault", "read", id -> true)
        .requireAuthenticated().build();
    Identity rita = Identity.of("rita", "reader");
    assertThat(deny.ruleFor("test.Vault", "wipe").permits(rita)).isFalse();
    assertThat(open.ruleFor("test.Vault", "wipe").permits(rita)).isTrue();
    assertThat(open.ruleFor("test.Vault", "wipe").isPublic()).isFalse();
    assertThat(deny.ruleFor("test.Vault", "read").permits(rita)).isTrue();
  }
}
