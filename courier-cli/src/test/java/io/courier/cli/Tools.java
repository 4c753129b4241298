package io.courier.cli;

import java.nio.file.Files;
import java.nio.file.Path;

/** The tools on this machine that some tests need. */
final class Tools {

  private Tools() {}

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
