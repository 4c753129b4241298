package io.courier.bench.dubbo;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.File;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import org.junit.jupiter.api.Test;

/**
 * Guards the shaded jar's Dubbo extension files. The shade plugin keeps the first copy of a file
 * that two jars ship, which for a Dubbo extension file would silently drop the other jar's
 * extensions. The pom merges {@code META-INF/services/} and relies on every file under
 * {@code META-INF/dubbo/} coming from one jar only; this test fails, naming the file, when a
 * dependency change breaks that, so that an {@code AppendingTransformer} can be added for it.
 */
class DubboSpiFilesTest {

  @Test
  void everyDubboExtensionFileComesFromOneJar() throws IOException {
    Map<String, List<String>> owners = new TreeMap<>();
    String path = System.getProperty("surefire.test.class.path",
        System.getProperty("java.class.path"));
    for (String entry : path.split(File.pathSeparator)) {
      if (!entry.endsWith(".jar") || !new File(entry).isFile()) {
        continue;
      }
      try (ZipFile jar = new ZipFile(entry)) {
        Enumeration<? extends ZipEntry> entries = jar.entries();
        while (entries.hasMoreElements()) {
          ZipEntry e = entries.nextElement();
          if (!e.isDirectory() && e.getName().startsWith("META-INF/dubbo/")) {
            owners.computeIfAbsent(e.getName(), k -> new ArrayList<>())
                .add(new File(entry).getName());
          }
        }
      }
    }
    assertThat(owners).as("Dubbo extension files on the class path")
        .containsKey("META-INF/dubbo/internal/org.apache.dubbo.rpc.Protocol");
    assertThat(owners).as("files shipped by more than one jar: merge each with an"
        + " AppendingTransformer in the pom").allSatisfy((file, jars) ->
            assertThat(jars).as(file).hasSize(1));
  }
}
