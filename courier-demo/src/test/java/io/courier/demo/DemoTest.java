package io.courier.demo;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** Runs the README's demo: a registry, three provider JVMs and a consumer; checks what it prints. */
class DemoTest {

  @Test
  void demoRunsEveryKindOfCallAgainstAProviderProcess() throws Exception {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    int exit;
    try (PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8)) {
      exit = Demo.run(out);
    }
    String printed = bytes.toString(StandardCharsets.UTF_8);
    assertThat(exit).as(printed).isZero();
    assertThat(printed).contains(
        "demo.Greeter/greet(java.lang.String) -> java.lang.String [SYNC]",
        "-> \"Hello, Ada!\"",
        "-> Greeting[text=Welcome, Grace, ageYears=",
        "(returned without waiting)",
        "audited() once the one-way calls ran",
        "threw DemoException: cannot divide 1 by zero",
        "UNKNOWN (APPLICATION_ERROR): disk full [remote java.lang.IllegalStateException]",
        "DEADLINE_EXCEEDED: deadline of",
        "sequential sync calls: p50",
        "registry: embedded ZooKeeper at zookeeper://127.0.0.1:",
        "provider-2 killed (SIGKILL)",
        "the consumer kept being answered through a kill and a rolling restart",
        "provider-1 stopped gracefully (exit code 0)",
        "provider-3 stopped gracefully (exit code 0)",
        "provider-4: pid",
        "provider-5: pid",
        "provider-4 stopped gracefully (exit code 0)",
        "provider-5 stopped gracefully (exit code 0)");
    assertThat(printed).containsPattern("\\d+ calls in the loop, 0 failed");
    assertThat(printed).containsPattern("300 calls, round robin: \\{provider-1=\\d+, "
        + "provider-2=\\d+, provider-3=\\d+\\}");
    assertThat(printed).containsPattern("audited\\(\\) once the one-way calls ran +\\d+ µs  -> 3");
  }
}
