package io.courier.cli;

import java.nio.file.Files;
import java.nio.file.Path;

/** What the command tests need from the machine. */
final class ServiceCommandsTestSupport {

  private ServiceCommandsTestSupport() {}

  /** Whether {@code tool} is an executable on the PATH. */
  static boolean onPath(String tool) {
    for (String d : System.getenv().getOrDefault("PATH", "").split(":")) {
      if (!d.isEmpty() && Files.isExecutable(Path.of(d, tool))) {
        return true;
      }
    }
    return false;
  }
}
