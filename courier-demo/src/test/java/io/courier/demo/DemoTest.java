package io.courier.demo;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** Runs the README's demo: a provider JVM and a consumer, and checks what it prints. */
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
        "provider stopped gracefully (exit code 0)");
    assertThat(printed).containsPattern("audited\\(\\) once the one-way calls ran +\\d+ µs  -> 3");
  }
}
