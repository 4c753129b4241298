package io.courier.cli.chaos;

import java.util.Arrays;
import java.util.Optional;

/** The faults a chaos run injects, by the names {@code --faults} takes. */
public enum Fault {
  /** SIGKILL a provider, then start a new one in its place. */
  KILL("kill"),
  /** SIGSTOP a provider for 1 to 2.5 s, then SIGCONT. */
  STOP("stop"),
  /** Stop the embedded registry (SIGTERM), keep it down 0.5 to 1.5 s, start it on its port. */
  REGISTRY_RESTART("registry-restart"),
  /** Add 0.2 to 2.5 s of latency to every call of a provider for 2 to 3 s. */
  SLOW("slow");

  private final String option;

  Fault(String option) {
    this.option = option;
  }

  /** The name on the command line, for example {@code registry-restart}. */
  public String option() {
    return option;
  }

  /** The fault named {@code name} on the command line. */
  public static Optional<Fault> byOption(String name) {
    return Arrays.stream(values()).filter(f -> f.option.equals(name)).findFirst();
  }
}
