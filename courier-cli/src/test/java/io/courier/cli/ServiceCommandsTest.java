package io.courier.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.courier.auth.Authenticator;
import io.courier.auth.Identity;
import io.courier.core.CallIds;
import io.courier.core.Registries;
import io.courier.core.ServiceDescriptor;
import io.courier.registry.Registry;
import io.courier.registry.ServiceInstance;
import io.courier.registry.embedded.EmbeddedZooKeeper;
import io.courier.server.CourierServer;
import io.courier.testing.LeakDetectionExtension;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code list}, {@code describe}, {@code call} and {@code bench}, run in this JVM with their
 * output captured, against real servers on loopback and a real embedded registry.
 */
@ExtendWith(LeakDetectionExtension.class)
class ServiceCommandsTest {

  static final String TOKEN = "s3cret-token";

  @TempDir
  static Path dir;

  static EmbeddedZooKeeper zk;
  static GreeterImpl impl;
  static CourierServer server;
  static CourierServer guarded;
  static String address;

  /** What one run printed and returned. */
  record Result(int status, String out, String err) {}

  static Result run(String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int status;
    try (PrintStream o = new PrintStream(out, true, StandardCharsets.UTF_8);
        PrintStream e = new PrintStream(err, true, StandardCharsets.UTF_8)) {
      status = CourierCli.run(args, o, e);
    }
    return new Result(status, out.toString(StandardCharsets.UTF_8),
        err.toString(StandardCharsets.UTF_8));
  }

  @BeforeAll
  static void start() throws Exception {
    zk = EmbeddedZooKeeper.start("127.0.0.1", 0, dir.resolve("zk"));
    impl = new GreeterImpl();
    server = CourierServer.builder().host("127.0.0.1").port(0)
        .service(Greeter.class, impl)
        .registry(zk.uri())
        .build().start();
    address = "127.0.0.1:" + server.port();
    guarded = CourierServer.builder().host("127.0.0.1").port(0)
        .service(Greeter.class, new GreeterImpl())
        .authenticator(Authenticator.bearer(Map.of(TOKEN, Identity.of("ops", "admin"))))
        .build().start();
    // the registration is visible before any test lists it
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
    while (!run("list", "--registry", zk.uri()).out().contains(address)) {
      assertThat(System.nanoTime() < end).as("the server's registration").isTrue();
      Thread.sleep(20);
    }
  }

  @AfterAll
  static void stop() {
    guarded.close();
    server.close();
    zk.close();
  }

  // ---- list ----

  @Test
  void listShowsEachServiceWithItsInstances() {
    Result r = run("list", "--registry", zk.uri());
    assertThat(r.status()).as(r.err()).isZero();
    assertThat(r.err()).isEmpty();
    assertThat(r.out()).startsWith("cli.Greeter  (1 instance)\n")
        .contains("  " + address + "  courier  serializers=").contains("weight=100");
    assertThat(r.out()).doesNotContain("courier.Reflection");

    Result json = run("list", "--registry", zk.uri(), "--json");
    assertThat(json.status()).isZero();
    assertThat(json.out()).contains("\"service\" : \"cli.Greeter\"")
        .contains("\"address\" : \"" + address + "\"").contains("\"weight\" : 100");

    Result named = run("list", "--registry", zk.uri(), "no.Such");
    assertThat(named.status()).isZero();
    assertThat(named.out()).isEqualTo("no.Such  (0 instances)\n");
  }

  @Test
  void probeTellsWhichInstancesAreUp() throws Exception {
    int dead = freePort();
    try (Registry other = Registries.open(zk.uri())) {
      other.register(ServiceInstance.builder("cli.Zombie", "127.0.0.1", dead).build());
      // a stale registration: a live Courier server that does not serve the service
      other.register(ServiceInstance.builder("cli.Zombie", "127.0.0.1", server.port()).build());
      Result r = run("list", "--registry", zk.uri(), "--probe", "cli.Greeter", "cli.Zombie");
      assertThat(r.status()).as(r.err()).isZero();
      assertThat(r.out()).containsPattern("(?m)^  " + Pattern.quote(address)
              + "  courier  .*  health=up \\(answered in [\\d.]+ ms\\)$")
          .containsPattern("(?m)^  127\\.0\\.0\\.1:" + dead + "  courier  .*  health=down"
              + " \\(UNAVAILABLE \\(CONNECT_FAILED\\): cannot connect to 127\\.0\\.0\\.1:" + dead)
          .containsPattern("(?m)^cli\\.Zombie  \\(2 instances\\)\n(  .*\n)*  "
              + Pattern.quote(address) + "  courier  .*  health=wrong-service \\(answered in"
              + " [\\d.]+ ms without serving cli\\.Zombie\\)$");

      Result json = run("list", "--registry", zk.uri(), "--probe", "--json", "cli.Greeter");
      assertThat(json.status()).isZero();
      assertThat(json.out()).contains("\"health\" : \"up\"").contains("\"healthDetail\" : ");

      Result notProbed = run("list", "--registry", zk.uri(), "cli.Greeter");
      assertThat(notProbed.out()).doesNotContain("health");
    }
  }

  @Test
  void listNeedsAReachableRegistry() throws Exception {
    Result missing = run("list");
    assertThat(missing.status()).isEqualTo(CourierCli.EXIT_USAGE);
    assertThat(missing.err()).startsWith("courier list: --registry <uri> is required");

    Result scheme = run("list", "--registry", "consul://127.0.0.1:8500");
    assertThat(scheme.status()).isEqualTo(CourierCli.EXIT_USAGE);
    assertThat(scheme.err()).contains("no provider for scheme 'consul'");

    String nobody = "zookeeper://127.0.0.1:" + freePort() + "/courier";
    Result down = run("list", "--registry", nobody);
    assertThat(down.status()).isEqualTo(CourierCli.EXIT_UNAVAILABLE);
    assertThat(down.err()).startsWith("courier list: cannot read the registry " + nobody)
        .contains("not connected");
  }

  // ---- describe ----

  @Test
  void describeShowsEachMethodWithItsCallIdAndTypes() {
    Result r = run("describe", "cli.Greeter", "--address", address);
    assertThat(r.status()).as(r.err()).isZero();
    int add = CallIds.callId("cli.Greeter", "add", new Class<?>[] {int.class, int.class});
    assertThat(r.out()).startsWith("cli.Greeter: 5 methods\n")
        .contains("  int add(int a, int b)\n    call ID    " + CallIds.toHex(add) + " (" + add
            + ")\n    kind       unary\n")
        .contains("  String greet(String name)\n    call ID    ")
        .contains("    declared   @Idempotent @Timeout(millis = 2000)\n")
        .contains("  List<String> repeat(String word, int times)\n")
        .contains("  void note(String text)\n").contains("kind       one-way");
    // every method the server serves, with the call ID a typed client sends
    ServiceDescriptor.of(Greeter.class).methods().forEach(m ->
        assertThat(r.out()).contains(CallIds.toHex(m.callId()) + " (" + m.callId() + ")"));

    Result json = run("describe", "cli.Greeter", "--registry", zk.uri(), "--json");
    assertThat(json.status()).as(json.err()).isZero();
    assertThat(json.out()).contains("\"callId\" : " + add)
        .contains("\"callIdHex\" : \"" + CallIds.toHex(add) + "\"")
        .contains("\"annotations\" : [ \"@Idempotent\", \"@Timeout(millis = 2000)\" ]")
        .contains("\"resultType\" : \"java.util.List<java.lang.String>\"");
  }

  @Test
  void describeAnUnknownServiceListsTheServedOnes() {
    Result r = run("describe", "cli.Nobody", "--address", address);
    assertThat(r.status()).isEqualTo(CourierCli.EXIT_FAILURE);
    assertThat(r.out()).isEmpty();
    assertThat(r.err()).startsWith("courier describe: cannot describe cli.Nobody:"
        + " UNIMPLEMENTED (UNKNOWN_METHOD)").contains("cli.Greeter");
  }

  // ---- call ----

  @Test
  void callPrintsTheJsonResult() throws Exception {
    Result add = run("call", "cli.Greeter.add", "[1, 2]", "--address", address);
    assertThat(add.status()).as(add.err()).isZero();
    assertThat(add).isEqualTo(new Result(0, "3\n", ""));
    assertThat(run("call", "cli.Greeter.add", "{\"b\": 40, \"a\": 2}", "--address", address)
        .out()).isEqualTo("42\n");
    assertThat(run("call", "cli.Greeter.repeat", "[\"hi\", 2]", "--registry", zk.uri(),
        "--timeout", "2s").out()).isEqualTo("[\"hi\",\"hi\"]\n");
    assertThat(run("call", "cli.Greeter.greet", "[\"Ada\"]", "--address=" + address).out())
        .isEqualTo("\"Hello, Ada\"\n");
    assertThat(run("call", "cli.Greeter.note", "[\"one-way\"]", "--address", address).out())
        .isEqualTo("null\n");
    assertThat(impl.notes.poll(10, TimeUnit.SECONDS)).isEqualTo("one-way");
  }

  @Test
  void callAnUnknownMethodListsTheMethods() {
    Result r = run("call", "cli.Greeter.subtract", "[1, 2]", "--address", address);
    assertThat(r.status()).isEqualTo(CourierCli.EXIT_FAILURE);
    assertThat(r.out()).isEmpty();
    assertThat(r.err()).startsWith("courier call: cli.Greeter.subtract failed: UNIMPLEMENTED"
        + " (UNKNOWN_METHOD)").contains("subtract").contains("add").contains("greet");

    Result service = run("call", "cli.Nobody.add", "[1, 2]", "--address", address);
    assertThat(service.status()).isEqualTo(CourierCli.EXIT_FAILURE);
    assertThat(service.err()).contains("UNKNOWN_METHOD").contains("cli.Greeter");
  }

  @Test
  void callFailuresCarryTheStatusReasonAndMessage() {
    Result wrongType = run("call", "cli.Greeter.add", "[\"one\", 2]", "--address", address);
    assertThat(wrongType.status()).isEqualTo(CourierCli.EXIT_FAILURE);
    assertThat(wrongType.err()).startsWith("courier call: cli.Greeter.add failed:"
        + " INVALID_ARGUMENT (BAD_ARGUMENTS)");

    impl.ticks.set(2); // the next tick is the third, which fails
    Result thrown = run("call", "cli.Greeter.tick", "--address", address);
    assertThat(thrown.status()).isEqualTo(CourierCli.EXIT_FAILURE);
    assertThat(thrown.err()).startsWith("courier call: cli.Greeter.tick failed: UNKNOWN")
        .contains("tick 3 fails").contains("java.lang.IllegalStateException");
  }

  @Test
  void badJsonSaysWhereAndNothingIsSent() {
    impl.ticks.set(0);
    Result r = run("call", "cli.Greeter.add", "[1, 2", "--address", address);
    assertThat(r.status()).isEqualTo(CourierCli.EXIT_USAGE);
    assertThat(r.out()).isEmpty();
    assertThat(r.err()).startsWith("courier call: the arguments are not valid JSON at line 1,"
        + " column 6:").contains("  [1, 2\n");

    Result word = run("call", "cli.Greeter.add", "[1, two]", "--address", address);
    assertThat(word.status()).isEqualTo(CourierCli.EXIT_USAGE);
    assertThat(word.err()).contains("at line 1, column 5").contains("'two'")
        .contains("  [1, two]\n      ^\n");

    Result trailing = run("call", "cli.Greeter.add", "[1, 2] [3]", "--address", address);
    assertThat(trailing.status()).isEqualTo(CourierCli.EXIT_USAGE);
    assertThat(trailing.err()).startsWith("courier call: the arguments are not valid JSON at"
        + " line 1, column ").contains("Trailing token");

    Result scalar = run("call", "cli.Greeter.tick", "7", "--address", address);
    assertThat(scalar.status()).isEqualTo(CourierCli.EXIT_USAGE);
    assertThat(scalar.err()).startsWith("courier call: the arguments are a JSON number"
        + " (expected: an array of arguments");
    assertThat(impl.ticks.get()).as("nothing reached the server").isZero();
  }

  @Test
  void anUnreachableServerIsExitStatus3AndNamesTheAddress() throws Exception {
    String nobody = "127.0.0.1:" + freePort();
    Result r = run("call", "cli.Greeter.add", "[1, 2]", "--address", nobody);
    assertThat(r.status()).isEqualTo(CourierCli.EXIT_UNAVAILABLE);
    assertThat(r.out()).isEmpty();
    assertThat(r.err()).startsWith("courier call: cli.Greeter.add failed: UNAVAILABLE"
        + " (CONNECT_FAILED): cannot connect to " + nobody).contains("; endpoint " + nobody)
        .doesNotContain("ServerReflection", "time spent");

    Result describe = run("describe", "cli.Greeter", "--address", nobody);
    assertThat(describe.status()).isEqualTo(CourierCli.EXIT_UNAVAILABLE);
    assertThat(describe.err()).contains(nobody);
  }

  @Test
  void aServiceWithoutProvidersNamesWhatTheRegistryHas() {
    Result r = run("call", "cli.Nobody.add", "[1, 2]", "--registry", zk.uri());
    assertThat(r.status()).isEqualTo(CourierCli.EXIT_UNAVAILABLE);
    assertThat(r.err()).startsWith("courier call: cli.Nobody.add failed: UNAVAILABLE"
        + " (NO_PROVIDER)").contains("services in the registry: cli.Greeter");
  }

  @Test
  void bearerTokensFromTheLineOrAFile() throws Exception {
    String guardedAddress = "127.0.0.1:" + guarded.port();
    Result anonymous = run("call", "cli.Greeter.add", "[1, 2]", "--address", guardedAddress);
    assertThat(anonymous.status()).isEqualTo(CourierCli.EXIT_FAILURE);
    assertThat(anonymous.err()).contains("UNAUTHENTICATED");

    Result token = run("call", "cli.Greeter.add", "[1, 2]", "--address", guardedAddress,
        "--token", TOKEN);
    assertThat(token).isEqualTo(new Result(0, "3\n", ""));

    Path file = dir.resolve("token.txt");
    Files.writeString(file, TOKEN + "\n");
    Result fromFile = run("call", "cli.Greeter.add", "[1, 2]", "--address", guardedAddress,
        "--token-file", file.toString());
    assertThat(fromFile).isEqualTo(new Result(0, "3\n", ""));

    Result both = run("call", "cli.Greeter.add", "[1, 2]", "--address", guardedAddress,
        "--token", TOKEN, "--token-file", file.toString());
    assertThat(both.status()).isEqualTo(CourierCli.EXIT_USAGE);
    assertThat(both.err()).startsWith("courier call: give --token or --token-file, not both");
    Result absent = run("call", "cli.Greeter.add", "[1, 2]", "--address", guardedAddress,
        "--token-file", dir.resolve("none.txt").toString());
    assertThat(absent.status()).isEqualTo(CourierCli.EXIT_USAGE);
    assertThat(absent.err()).startsWith("courier call: --token-file: cannot read");
  }

  @Test
  void malformedCallLinesAreUsageErrors() {
    Result none = run("call", "--address", address);
    assertThat(none.status()).isEqualTo(CourierCli.EXIT_USAGE);
    assertThat(none.err()).startsWith("courier call: which method?");
    Result noDot = run("call", "add", "[1, 2]", "--address", address);
    assertThat(noDot.err()).startsWith("courier call: add (expected: <service>.<method>");
    Result where = run("call", "cli.Greeter.add", "[1, 2]");
    assertThat(where.status()).isEqualTo(CourierCli.EXIT_USAGE);
    assertThat(where.err()).startsWith("courier call: give --registry <uri> or --address");
    Result both = run("call", "cli.Greeter.add", "[1, 2]", "--address", address, "--registry",
        zk.uri());
    assertThat(both.err()).startsWith("courier call: give --registry <uri> or --address"
        + " <host:port>, not both");
    Result timeout = run("call", "cli.Greeter.add", "[1, 2]", "--address", address,
        "--timeout", "soon");
    assertThat(timeout.status()).isEqualTo(CourierCli.EXIT_USAGE);
    assertThat(timeout.err()).startsWith("courier call: --timeout: soon (expected: a number"
        + " and a unit");
    Result port = run("call", "cli.Greeter.add", "[1, 2]", "--address", "localhost");
    assertThat(port.err()).startsWith("courier call: --address: localhost (expected:"
        + " host:port");
    Result extra = run("call", "cli.Greeter.add", "[1,", "2]", "--address", address);
    assertThat(extra.status()).isEqualTo(CourierCli.EXIT_USAGE);
    assertThat(extra.err()).startsWith("courier call: unexpected argument '2]'");
  }

  // ---- bench ----

  @Test
  void benchPrintsProgressAndASummaryWhoseCountsAddUp() {
    Result r = run("bench", "cli.Greeter.add", "[1, 2]", "--address", address,
        "--concurrency", "4", "--duration", "1500ms");
    assertThat(r.status()).as(r.err()).isZero();
    assertThat(r.err()).isEmpty();
    assertThat(r.out()).containsPattern("(?m)^ *\\d+\\.\\ds  [\\d,]+ calls  [\\d,]+ calls/s  0"
        + " errors  p50 [\\d.]+ ms  p99 [\\d.]+ ms$");
    long calls = number(r.out(), "cli\\.Greeter\\.add: ([\\d,]+) calls in [\\d.]+ s from 4"
        + " callers");
    long ok = number(r.out(), "succeeded +([\\d,]+)");
    long failed = number(r.out(), "failed +([\\d,]+)");
    assertThat(calls).isPositive().isEqualTo(ok + failed);
    assertThat(failed).isZero();
    assertThat(r.out()).containsPattern("throughput  [\\d,.]+ calls/s")
        .containsPattern("latency     p50 [\\d.]+ ms  p90 [\\d.]+ ms  p99 [\\d.]+ ms  p99\\.9"
            + " [\\d.]+ ms  max [\\d.]+ ms");
  }

  @Test
  void progressRewritesItsLineOnATerminalAndAppendsElsewhere() {
    ByteArrayOutputStream terminal = new ByteArrayOutputStream();
    ByteArrayOutputStream file = new ByteArrayOutputStream();
    try (PrintStream t = new PrintStream(terminal, true, StandardCharsets.UTF_8);
        PrintStream f = new PrintStream(file, true, StandardCharsets.UTF_8)) {
      for (String line : new String[] {"1.0s  10 calls", "2.0s  20 calls"}) {
        BenchCommand.show(t, true, line);
        BenchCommand.show(f, false, line);
      }
    }
    assertThat(terminal.toString(StandardCharsets.UTF_8))
        .isEqualTo("\r1.0s  10 calls\u001b[K\r2.0s  20 calls\u001b[K");
    assertThat(file.toString(StandardCharsets.UTF_8))
        .isEqualTo("1.0s  10 calls" + System.lineSeparator() + "2.0s  20 calls"
            + System.lineSeparator());
  }

  @Test
  void benchCountsErrorsByStatus() {
    impl.ticks.set(0);
    Result r = run("bench", "cli.Greeter.tick", "--registry", zk.uri(), "--concurrency", "2",
        "--duration", "1s", "--rate", "200");
    assertThat(r.status()).as(r.err()).isEqualTo(CourierCli.EXIT_FAILURE);
    long calls = number(r.out(), "cli\\.Greeter\\.tick: ([\\d,]+) calls in [\\d.]+ s from 2"
        + " callers at 200 calls/s");
    long ok = number(r.out(), "succeeded +([\\d,]+)");
    long failed = number(r.out(), "failed +([\\d,]+)");
    long unknown = number(r.out(), "    UNKNOWN \\(APPLICATION_ERROR\\) +([\\d,]+)");
    assertThat(calls).isEqualTo(ok + failed);
    assertThat(failed).isPositive().isEqualTo(unknown);
    // the server saw the first call and every call counted, and every third of them failed
    assertThat(impl.ticks.get()).isEqualTo(calls + 1);
    assertThat(failed).isEqualTo((calls + 1) / 3);
    // at 200 calls/s for one second: no more than the schedule allows
    assertThat(calls).isLessThanOrEqualTo(200);
  }

  @Test
  void benchDoesNotLoadACallThatFails() {
    Result r = run("bench", "cli.Greeter.subtract", "[1]", "--address", address,
        "--duration", "1s");
    assertThat(r.status()).isEqualTo(CourierCli.EXIT_FAILURE);
    assertThat(r.out()).isEmpty();
    assertThat(r.err()).startsWith("courier bench: the first call to cli.Greeter.subtract"
        + " failed: UNIMPLEMENTED (UNKNOWN_METHOD)");
    Result zero = run("bench", "cli.Greeter.add", "[1, 2]", "--address", address,
        "--duration", "0");
    assertThat(zero.status()).isEqualTo(CourierCli.EXIT_USAGE);
    Result many = run("bench", "cli.Greeter.add", "[1, 2]", "--address", address,
        "--concurrency", "0");
    assertThat(many.err()).startsWith("courier bench: --concurrency: 0 (expected: 1 to 10000)");
  }

  // ---- help ----

  @Test
  void eachCommandHasHelp() {
    for (String command : new String[] {"list", "describe", "call", "bench"}) {
      Result r = run(command, "--help");
      assertThat(r.status()).as(command).isZero();
      assertThat(r.err()).as(command).isEmpty();
      assertThat(r.out()).as(command).startsWith("Usage: courier " + command + " [options]")
          .contains("--registry <uri>").contains("Example: courier " + command)
          .contains("Exit status: 0").contains("-h, --help");
      assertThat(run("help", command).out()).isEqualTo(r.out());
    }
    assertThat(run("call", "--help").out()).contains("--token <token>", "--tls-ca <pem>",
        "--timeout <duration>", "(default: 5s)");
    assertThat(run("bench", "--help").out()).contains("--concurrency <n>", "--duration"
        + " <duration>", "--rate <calls/s>");
    assertThat(run("--help").out()).contains("  list ", "  describe ", "  call ", "  bench ");
  }

  private static long number(String text, String regex) {
    Matcher m = Pattern.compile(regex).matcher(text);
    assertThat(m.find()).as("%s in:%n%s", regex, text).isTrue();
    return Long.parseLong(m.group(1).replace(",", ""));
  }

  static int freePort() throws Exception {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
      return s.getLocalPort();
    }
  }
}
