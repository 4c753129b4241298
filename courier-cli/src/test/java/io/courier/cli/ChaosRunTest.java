package io.courier.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The short chaos run of the build: {@code courier chaos} as its own JVM with two providers and
 * two consumers for 20 s, every fault kind injected, and the ledger reconciled. It fails the
 * build when Courier lost a call, misreported one as not run, or ran a non-idempotent call twice.
 */
@Tag("slow")
class ChaosRunTest {

  private static final Pattern FIRED = Pattern.compile(
      "Faults fired: kill (\\d+), stop (\\d+), registry-restart (\\d+), slow (\\d+)");
  private static final Pattern ISSUED = Pattern.compile("(?m)^issued +(\\d+) +(\\d+) +(\\d+)$");
  private static final Pattern SUCCEEDED =
      Pattern.compile("(?m)^succeeded +(\\d+) +(\\d+) +(\\d+)$");

  @TempDir
  Path dir;

  @Test
  void shortRunWithEveryFaultLosesNothingAndRunsNoCallTwice() throws Exception {
    String java = System.getProperty("java.home") + File.separator + "bin" + File.separator
        + "java";
    Path output = dir.resolve("chaos.out");
    Path errors = dir.resolve("chaos.err");
    Process p = new ProcessBuilder(List.of(java, "-Xmx128m", "-cp",
        System.getProperty("java.class.path"), CourierCli.class.getName(), "chaos",
        "--providers", "2", "--consumers", "2", "--duration", "20s", "--seed", "1",
        "--faults", "kill,stop,registry-restart,slow", "--fault-interval", "500ms",
        "--dir", dir.resolve("run").toString()))
        .redirectOutput(output.toFile())
        .redirectError(errors.toFile())
        .start();
    boolean ended = p.waitFor(100, TimeUnit.SECONDS);
    if (!ended) {
      p.destroyForcibly().waitFor();
    }
    String out = Files.readString(output, StandardCharsets.UTF_8);
    String err = Files.readString(errors, StandardCharsets.UTF_8);
    System.out.println(out);
    assertThat(ended).as("the run ended within 100 s:\n%s\n%s", out, err).isTrue();
    assertThat(p.exitValue()).as("exit status; output:\n%s\nerrors:\n%s", out, err).isZero();
    assertThat(out).contains("Verdict: PASS");

    Matcher fired = FIRED.matcher(out);
    assertThat(fired.find()).as("the faults line in:\n%s", out).isTrue();
    for (int kind = 1; kind <= 4; kind++) {
      assertThat(Integer.parseInt(fired.group(kind))).as("%s", fired.group()).isPositive();
    }
    Matcher issued = ISSUED.matcher(out);
    Matcher succeeded = SUCCEEDED.matcher(out);
    assertThat(issued.find() && succeeded.find()).as("the table in:\n%s", out).isTrue();
    // both methods were called, and the load went on through the faults
    assertThat(Long.parseLong(issued.group(1))).isGreaterThan(200);
    assertThat(Long.parseLong(issued.group(2))).isGreaterThan(200);
    assertThat(Long.parseLong(succeeded.group(3)))
        .isGreaterThan(Long.parseLong(issued.group(3)) / 2);
  }
}
